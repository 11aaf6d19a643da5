"""The domain contract: what music and dance each implement so that training, loading, evaluating
and sampling are written once (genseq/model/train.py, load.py, sampler.py) against it.

A Representation is one trained model's encoding (melody, piano roll, dance): sizes, head, the
model inputs and targets of one item, and its metadata for the checkpoint. A Domain is a kind of
data (music, dance): the files it reads, reading one into its interchange type (NoteSequence,
MotionClip), splitting, the representation it trains, augmenting, and its config. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from genseq.core.config import chosen_value, resolve_config
from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.core.pieces import AugmentedSource, EncodedPiece, Split

FileProgress = Callable[[int, int], None]


class Representation(Protocol):
    """One model's encoding. name: what the checkpoint calls it; head: the model head its values need
    ("categorical", "bernoulli", "mdn"); input_size / value_size: the model's input width and the size
    of one target value; encode(item): the model inputs and targets of one item; metadata() and
    from_metadata(): to and from the checkpoint, so a loaded model decodes as it was trained."""

    name: str
    head: str

    @property
    def input_size(self) -> int: ...

    @property
    def value_size(self) -> int: ...

    def encode(self, item: Any) -> EncodedPiece: ...

    def metadata(self) -> dict: ...


class Domain(Protocol):
    """A kind of data genseq learns from. kind: what its checkpoints are called ("music", "dance");
    suffixes: the files it finds under folders; noun: what a message calls its files ("MIDI files or
    recordings")."""

    kind: str
    suffixes: tuple[str, ...]
    noun: str

    def config_file(self, representation: str | None) -> Path:
        """The tuned defaults (configs/*.yaml) a run of this representation starts from."""

    def config_model(self) -> type:
        """The pydantic config model of a run."""

    def read_file(self, path: Path, config: Any) -> Any:
        """One file as the domain's interchange type (a NoteSequence, a MotionClip) on the config's grid."""

    def load_split(self, data: Path, config: Any) -> Split:
        """The run's items read from data (a file or folder) and split, with the files it dropped and why."""

    def representation_for(self, config: Any, train_items: list) -> Representation:
        """The representation a run trains (fitted to its training items where the domain fits one)."""

    def training_source(self, representation: Any, train_items: list, config: Any) -> AugmentedSource:
        """The training pieces of each epoch, augmented as the config says."""

    def record(self, split: Split, config: Any) -> dict:
        """What else the run folder's data.json says of the data (beyond the split and the item names)."""

    def from_metadata(self, metadata: dict) -> Representation:
        """The representation a checkpoint recorded."""


@dataclass
class ReadReport:
    """What reading many files kept and dropped (with the reason), said per file."""

    kept: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"kept {k['file']}: " + ", ".join(f"{value} {key}" for key, value in k.items() if key != "file")
               for k in self.kept]
        out += [f"dropped {d['file']}: {d['reason']}" for d in self.dropped]
        out.append(f"{len(self.kept)} kept, {len(self.dropped)} dropped")
        return out


def read_files(files: Sequence[Path], read_one: Callable[[Path], Any], summary: Callable[[Any], dict],
               on_file: FileProgress | None = None) -> tuple[list, ReadReport]:
    """Every file read with read_one; a file it refuses (GenseqError) is reported with its reason, not
    fatal; summary(item) says what was kept ({"notes": 12, "steps": 64}). on_file(done, total) is called once before the first file and after each one."""
    items, report = [], ReadReport()
    if on_file:
        on_file(0, len(files))
    for index, path in enumerate(files):
        try:
            item = read_one(path)
            items.append(item)
            report.kept.append({"file": str(path), **summary(item)})
        except GenseqError as exc:
            report.dropped.append({"file": str(path), "reason": exc.problem})
        if on_file:
            on_file(index + 1, len(files))
    return items, report


def require_some(items: list, files: Sequence[Path], dropped: list[dict], noun: str, where: str | Path | None) -> None:
    """Refuse a read that kept nothing: one file's own reason, or the first reasons among many."""
    if items:
        return
    if len(files) == 1 and dropped:
        raise GenseqError(dropped[0]["reason"], files[0])
    reasons = "; ".join(f"{Path(d['file']).name}: {d['reason']}" for d in dropped[:3])
    raise GenseqError(f"no usable {noun} among {len(files)} file(s) ({reasons})", where)


def find_domain_files(domain: Domain, paths: Sequence[str | Path]) -> list[Path]:
    """The domain's files named directly or found (recursively, sorted) under folders; none is an error."""
    files = find_files(list(paths), domain.suffixes)
    if not files:
        raise GenseqError(f"no {domain.noun} found (looked for {', '.join(domain.suffixes)})",
                          paths[0] if len(paths) == 1 else None)
    return files


def marginal_output_bias(head: str, value_size: int, pieces: Sequence[EncodedPiece]) -> list[float] | None:
    """The output bias that predicts the training data's marginal frequencies (a sane start); None for
    heads whose outputs are not frequencies (the mixture head)."""
    if not pieces or head not in ("bernoulli", "categorical"):
        return None
    targets = np.concatenate([p.targets for p in pieces])
    if head == "bernoulli":
        p = np.clip(targets.mean(0), 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p)).tolist()
    counts = np.bincount(targets, minlength=value_size) + 1.0
    return np.log(counts / counts.sum()).tolist()


def resolve_run_config(domain: Domain, config_path: str | Path | None, sets: list[str]):
    """A run's config, set the one way: the tuned defaults of the domain (of the representation that the
    last --set representation=..., else the user's config, names), the user's --config, then every --set."""
    representation = chosen_value("representation", config_path, sets)
    return resolve_config(domain.config_model(), domain.config_file(representation), config_path, sets)
