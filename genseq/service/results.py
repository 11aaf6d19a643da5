"""What a batch reports: one JobResult per row, and the BatchReport of a whole run (table and JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass
class JobResult:
    row: int
    kind: str
    output: str
    status: Literal["done", "skipped", "failed", "pending"]  # pending: checked, not run yet (or next_step to run)
    reason: str = ""
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    transient: bool = False  # failed for a reason a retry may fix (I/O hiccup), not bad input
    started: float = 0.0  # time.time() when it began (comparable between worker processes)
    worker: int = 0  # id of the process that ran it
    next_step: str = ""  # a step of the job still to run (see genseq.service.jobs.job_steps)
    fingerprint: str = ""  # the job as its first step read it (job_fingerprint)
    steps: list[dict] = field(default_factory=list)  # each step's name, worker, started and seconds
    created: list[str] = field(default_factory=list)  # folders a failed job made (removed at the end if empty)

    def to_row(self) -> dict:
        return {"row": self.row, "kind": self.kind, "output": self.output, "status": self.status,
                "why": self.reason, "files": len(self.files), "seconds": round(self.seconds, 2)}


@dataclass
class BatchReport:
    results: list[JobResult]
    seconds: float = 0.0
    workers: int = 1
    runner: str = "process"

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def rows(self) -> list[dict]:
        return [r.to_row() for r in sorted(self.results, key=lambda r: r.row)]

    def table(self) -> str:
        """A plain-text table: row, kind, status, output, why."""
        rows = self.rows()
        head = ("row", "kind", "status", "seconds", "output", "why")
        cells = [head] + [(str(r["row"]), r["kind"], r["status"], f"{r['seconds']:.1f}", r["output"], r["why"]) for r in rows]
        widths = [max(len(c[i]) for c in cells) for i in range(len(head) - 1)]
        lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(head) - 1)) + "  " + c[-1] for c in cells]
        lines.append(f"{self.count('done')} done, {self.count('skipped')} skipped, {self.failed} failed "
                     f"in {self.seconds:.1f} s ({self.workers} {self.runner} worker(s))")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"done": self.count("done"), "skipped": self.count("skipped"), "failed": self.failed,
                "seconds": round(self.seconds, 3), "workers": self.workers, "runner": self.runner,
                "jobs": [asdict(r) for r in sorted(self.results, key=lambda r: r.row)]}
