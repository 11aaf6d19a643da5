"""Prefect flow: generated pieces against real ones, per statistic (`genseq eval samples`)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field
from prefect import flow, task

from flows.progress import publish_table
from flows.tasks import absolute


class EvalSamplesParams(BaseModel):
    generated: str = Field("out/generated", description="folder of generated MIDI files (or a .npz dataset)")
    reference: str = Field(..., description="folder of real MIDI files (or a .npz dataset) to compare with")
    bars: Optional[int] = Field(None, ge=1, description="compare only the first N bars of each piece")


@task(name="eval-samples")
def eval_samples_task(generated: str, reference: str, bars: int | None) -> dict:
    from genseq.music.sample_eval import evaluate_samples

    return evaluate_samples(generated, reference, bars)


@flow(name="eval-samples", log_prints=True)
def eval_samples_flow(params: EvalSamplesParams) -> dict:
    from genseq.music.sample_eval import summary_lines

    result = eval_samples_task(absolute(params.generated), absolute(params.reference), params.bars)
    rows = [{"statistic": name, **{key: None if value is None else round(value, 4) for key, value in row.items()}}
            for name, row in result["statistics"].items()]
    publish_table(rows, f"generated against real, per statistic; worst {result['worst_statistic']}",
                  key="eval-samples")
    print("\n".join(summary_lines(result)))
    return result


if __name__ == "__main__":
    import sys

    eval_samples_flow(EvalSamplesParams(generated=sys.argv[1], reference=sys.argv[2]))
