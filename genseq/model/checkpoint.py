"""Checkpoints: a state_dict plus the full config that built it, loaded with weights_only=True.

A run folder holds ``best.pt`` (lowest validation loss) and ``last.pt`` (the last finished
epoch, with optimiser state, for resuming). Anything that asks for a checkpoint accepts a
file or a run folder (then its best checkpoint).

Integrity: a saved checkpoint records a SHA-256 digest of its tensors (names, dtypes, shapes
and bytes of the state_dict, and of the optimiser state when there is one). Loading refuses a
file whose tensors no longer match their digest (flipped bytes), whose weights are not finite
(NaN, inf), or that torch cannot read safely for any reason. Checkpoints saved before digests
existed (no ``digest`` key) still load, with the finiteness check.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Iterator

import torch

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError

FORMAT = "genseq-checkpoint-1"
BEST, LAST = "best.pt", "last.pt"
DIGESTED = ("state_dict", "optimizer")  # payload keys whose tensors the digest covers


def tensors_in(value, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in a nested dict/list/tuple, with a stable path name, in a stable order."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from tensors_in(value[key], f"{prefix}/{key!r}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from tensors_in(item, f"{prefix}/{index}")


def tensor_bytes(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def tensor_digest(payload: dict) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the payload's state_dict and optimiser tensors."""
    digest = hashlib.sha256()
    for key in DIGESTED:
        if key not in payload:
            continue
        for name, tensor in tensors_in(payload[key], key):
            digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
            digest.update(tensor_bytes(tensor))
    return digest.hexdigest()


def save_checkpoint(path: str | Path, payload: dict) -> Path:
    record = {"format": FORMAT, **payload}
    if "state_dict" in payload:
        record["digest"] = tensor_digest(record)
    with atomic_path(path) as tmp:
        torch.save(record, tmp)
    return Path(path)


def resolve_checkpoint(path: str | Path) -> Path:
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        problem = "no such checkpoint file or run folder" if missing else (exc.strerror or "cannot read").lower()
        raise GenseqError(problem, path) from None
    if stat.S_ISDIR(mode):
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise GenseqError(f"run folder has no {BEST} or {LAST}", path)
    if not stat.S_ISREG(mode):
        raise GenseqError("not a regular file (expected a checkpoint file or run folder)", path)
    return path


def read_safely(path: Path, map_location) -> object:
    """torch.load with weights_only=True; ANY failure to read is the file's fault, said in one line."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except MemoryError:
        raise GenseqError("not a readable checkpoint (it asks for more memory than the machine has)", path) from None
    except Exception as exc:  # noqa: BLE001 - KeyError, IndexError, struct.error, UnpicklingError, ... from bad bytes
        raise GenseqError(f"not a readable checkpoint: {unreadable_because(path, exc)}", path) from None


def unreadable_because(path: Path, exc: Exception) -> str:
    """What is wrong with a file torch cannot read safely, in our words (torch's run to paragraphs)."""
    unsafe = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    if unsafe:
        return (f"it holds a Python object ({unsafe.group(1)}) where a checkpoint holds only tensors and plain values; "
                "genseq does not load such files")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        head = b""
    if head.startswith(b"PK"):
        return "the torch archive is cut short or damaged (truncated or corrupt); save or copy it again"
    return "not a torch checkpoint file (truncated, corrupt, or another kind of file)"


def check_integrity(payload: dict, path: Path) -> None:
    """Refuse tensors that differ from their recorded digest and weights that are not finite."""
    state = payload.get("state_dict")
    if state is not None and not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
        raise GenseqError("not a genseq checkpoint (its state_dict is not a set of tensors)", path)
    recorded = payload.get("digest")
    if recorded is not None and recorded != tensor_digest(payload):
        raise GenseqError("checkpoint is damaged: its tensors do not match their recorded digest", path)
    for name, tensor in (state or {}).items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GenseqError(f"checkpoint is damaged: weight {name} holds NaN or infinite values", path)


def load_checkpoint(path: str | Path, kind: str | None = None, map_location: str | torch.device = "cpu") -> dict:
    """Load safely (no arbitrary unpickling); check it is a whole genseq checkpoint of the expected kind."""
    path = resolve_checkpoint(path)
    if path.stat().st_size == 0:
        raise GenseqError("empty checkpoint file (0 bytes)", path)
    payload = read_safely(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise GenseqError("not a genseq checkpoint", path)
    check_integrity(payload, path)
    if kind is not None and payload.get("kind") != kind:
        raise GenseqError(f"is a {payload.get('kind')} checkpoint, expected a {kind} checkpoint", path)
    payload["path"] = str(path)
    return payload


def check_resumable(out: str | Path) -> None:
    """A run folder about to be resumed: its last.pt, when there is one, must be a whole genseq checkpoint.
    Called before anything is written into the folder, so a refused resume leaves it as it was."""
    last = Path(out) / LAST
    if last.is_dir():
        raise GenseqError("is a folder where the run's last checkpoint belongs", last)
    if last.exists() or last.is_symlink():
        load_checkpoint(last)


def recorded_seed(path: Path) -> int | None:
    """The training seed a run's checkpoint records (read lazily, tensors memory-mapped), None if unknown."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        seed = payload["config"]["train"]["seed"]
    except Exception:  # noqa: BLE001 - unreadable or older layouts: load_checkpoint says what is wrong
        return None
    return seed if isinstance(seed, int) else None


def check_resume_seed(path: str | Path, seed: int) -> None:
    """Resuming a run with another seed would silently mix two runs: refuse it, as another model is refused."""
    recorded = recorded_seed(Path(path))
    if recorded is not None and recorded != seed:
        raise GenseqError(f"run folder holds a run with seed {recorded}, not {seed}; resume with --seed {recorded} "
                          "or use a new --out folder", Path(path).parent)
