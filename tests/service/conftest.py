"""Shared service fixtures: tiny models shaped like assets/, trained here in seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO, SCALE, write_tune

try:
    import genseq.motion.generate  # noqa: F401  (the dance stages are being written beside this work)

    HAVE_DANCE = True
except ImportError:
    HAVE_DANCE = False
needs_dance = pytest.mark.skipif(not HAVE_DANCE, reason="genseq.motion.generate (the dance stages) is not there yet")

TINY_DANCE_CONFIG = """
fps: 15
mixture_components: 2
model: {cell: lstm, hidden_size: 16, num_layers: 1, dropout: 0.0}
train: {epochs: 1, batch_size: 4, seq_len: 20, max_batches_per_epoch: 2, condition_truth_steps: 5, condition_self_steps: 5}
"""


def tiny_assets(base: Path) -> Path:
    """A folder shaped like assets/ (music-melody.pt, music-pianoroll.pt and, when the dance stages
    exist, dance.pt) holding tiny models trained here in seconds (configs/tiny.yaml for music, a
    tiny dance config on synthetic BVH clips); made once per test session (shared by the service tests)."""
    from genseq.core.options import TrainDanceOptions, TrainMusicOptions
    from genseq.core.domain import resolve_run_config
    from genseq.model.train import train_domain
    from genseq.music.domain import MUSIC

    assets = base / "tiny-assets"
    if (assets / "done").exists():
        return assets
    tunes = base / "tiny-tunes"
    tunes.mkdir(parents=True, exist_ok=True)
    for index in range(4):
        write_tune(tunes / f"tune_{index}.mid", [(pitch + index, start, end) for pitch, start, end in SCALE])
    assets.mkdir(exist_ok=True)
    for representation in ("melody", "pianoroll"):
        options = TrainMusicOptions(data=str(tunes), out=str(base / f"tiny-run-{representation}"),
                                    config=str(REPO / "configs" / "tiny.yaml"), representation=representation)
        config = resolve_run_config(MUSIC, options.config, options.config_sets())
        result = train_domain(MUSIC, tunes, options.out, config, device="cpu", show_progress=False)
        os.replace(result.best_checkpoint, assets / f"music-{representation}.pt")
    if HAVE_DANCE:
        from flows.examples import example_dances
        from genseq.motion.domain import DANCE

        config_path = base / "tiny-dance.yaml"
        config_path.write_text(TINY_DANCE_CONFIG)
        clips = example_dances(base / "tiny-dance-clips", count=3, seconds=4.0)
        options = TrainDanceOptions(data=str(clips), out=str(base / "tiny-run-dance"), config=str(config_path))
        result = train_domain(DANCE, clips, options.out, resolve_run_config(DANCE, options.config, options.config_sets()),
                              device="cpu", show_progress=False)
        os.replace(result.best_checkpoint, assets / "dance.pt")
    (assets / "done").touch()
    return assets


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return tiny_assets(tmp_path_factory.getbasetemp())
