"""Seeded fuzzing of the checkpoint, MIDI and BVH readers: mutants of real small files made here.

The contract: a reader either reads the file or raises GenseqError (one line naming the file);
nothing else escapes, and no case runs past its time budget (a mutant must not make a reader
allocate or loop without end). The default run holds a few hundred cases in a few seconds;
GENSEQ_FUZZ_CASES=N sets the cases per reader (the slow-marked test runs 2,000 each).
"""

from __future__ import annotations

import os
import re
import signal
import traceback

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from tests.conftest import SCALE, write_tune

CASES = int(os.environ.get("GENSEQ_FUZZ_CASES", "120"))
CASE_BUDGET_S = 3
INTERESTING_BYTES = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]
INTERESTING_TOKENS = ["nan", "inf", "-inf", "-1", "0", "1e308", "-1e308", "99999999999", "4294967296", "", "x", "1.5"]


class TooSlow(Exception):
    pass


def mutate(base: bytes, rng: np.random.Generator, text: bool) -> bytes:
    """One mutant of `base`: flipped, set, deleted, inserted or duplicated bytes, a truncation, or
    (for text formats) a token swapped for an edge value."""
    data = bytearray(base)
    kind = int(rng.integers(8 if text else 6))
    where = int(rng.integers(len(data)))
    if kind == 0:
        for _ in range(int(rng.integers(1, 9))):
            data[int(rng.integers(len(data)))] ^= int(rng.integers(1, 256))
    elif kind == 1:
        data[where] = INTERESTING_BYTES[int(rng.integers(len(INTERESTING_BYTES)))]
    elif kind == 2:
        del data[where: where + int(rng.integers(1, 64))]
    elif kind == 3:
        data[where:where] = rng.bytes(int(rng.integers(1, 32)))
    elif kind == 4:
        span = bytes(data[where: where + int(rng.integers(1, 256))])
        data[where:where] = span * int(rng.integers(1, 4))
    elif kind == 5:
        del data[where:]
    else:
        tokens = list(re.finditer(rb"-?[0-9.]+(?:e-?[0-9]+)?|[A-Za-z]+", bytes(data)))
        for match in rng.choice(len(tokens), size=min(len(tokens), int(rng.integers(1, 4))), replace=False):
            token = tokens[int(match)]
            new = INTERESTING_TOKENS[int(rng.integers(len(INTERESTING_TOKENS)))].encode()
            data[token.start(): token.end()] = new.ljust(token.end() - token.start()) if kind == 6 else new
            tokens = list(re.finditer(rb"-?[0-9.]+(?:e-?[0-9]+)?|[A-Za-z]+", bytes(data)))
            if not tokens:
                break
    return bytes(data)


def fuzz(read, base: bytes, suffix: str, folder, seed: int, cases: int, text: bool = False) -> dict:
    """Feed `read` `cases` mutants of `base`; returns how many were read and refused. A mutant that
    lets anything but GenseqError escape, or runs past the budget, fails with its seed and bytes saved."""
    rng = np.random.default_rng(seed)
    outcome = {"read": 0, "refused": 0}
    old = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TooSlow()))
    try:
        for case in range(cases):
            mutant = mutate(base, rng, text) or b"\x00"
            path = folder / f"mutant{suffix}"
            path.write_bytes(mutant)
            signal.alarm(CASE_BUDGET_S)
            try:
                read(path)
                outcome["read"] += 1
            except GenseqError as exc:
                assert "\n" not in str(exc) and str(path) in str(exc), f"case {case}: {exc!r}"
                outcome["refused"] += 1
            except BaseException as exc:  # noqa: BLE001 - the finding
                keep = folder / f"finding-{seed}-{case}{suffix}"
                keep.write_bytes(mutant)
                pytest.fail(f"seed {seed} case {case} ({keep}): {type(exc).__name__} escaped: {exc}\n"
                            + "".join(traceback.format_exception(exc)[-4:]))
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return outcome


# --- the real small files the mutants come from ---------------------------------------------------

def checkpoint_bytes(folder) -> bytes:
    from genseq.core.config import ModelConfig
    from genseq.model.checkpoint import save_checkpoint
    from genseq.model.train import build_model

    config = ModelConfig(hidden_size=6, num_layers=2)
    model = build_model({"config": {"model": config.model_dump()}, "input_size": 3, "output_size": 3})
    payload = {"kind": "music", "config": {"model": config.model_dump()}, "input_size": 3, "output_size": 3,
               "representation": {"name": "toy", "steps": [1, 2]}, "state_dict": model.state_dict()}
    return save_checkpoint(folder / "base.pt", payload).read_bytes()


def midi_bytes(folder) -> bytes:
    import pretty_midi

    second = pretty_midi.Instrument(program=33, name="bass")
    second.notes = [pretty_midi.Note(70, 40 + i, i * 0.5, i * 0.5 + 0.4) for i in range(8)]
    return write_tune(folder / "base.mid", SCALE[:16], tempo=96.0, extra=[second]).read_bytes()


def bvh_bytes() -> bytes:
    frames = "\n".join(" ".join(f"{(i * 7 + j * 3) % 40 - 20:.2f}" for j in range(12)) for i in range(12))
    return f"""HIERARCHY
ROOT Hips
{{
  OFFSET 0.0 0.0 0.0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT LeftUpLeg
  {{
    OFFSET 10.0 -5.0 0.0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT LeftLeg
    {{
      OFFSET 0.0 -40.0 0.0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {{
        OFFSET 0.0 -40.0 0.0
      }}
    }}
  }}
}}
MOTION
Frames: 12
Frame Time: 0.0333333
{frames}
""".encode()


def read_checkpoint(path):
    from genseq.model.checkpoint import load_checkpoint

    return load_checkpoint(path)


def read_midi_file(path):
    from genseq.music.midi import read_midi

    return read_midi(path, 4)


def read_bvh_file(path):
    from genseq.motion.bvh import read_bvh

    clip = read_bvh(path)
    assert np.isfinite(clip.positions).all(), "a clip read without error holds non-finite positions"
    return clip


READERS = {
    "checkpoint": (read_checkpoint, checkpoint_bytes, ".pt", False),
    "midi": (read_midi_file, midi_bytes, ".mid", False),
    "bvh": (read_bvh_file, lambda folder: bvh_bytes(), ".bvh", True),
}


@pytest.mark.parametrize("reader", list(READERS))
def test_fuzz_reader(tmp_path, reader):
    read, make, suffix, text = READERS[reader]
    base = make(tmp_path)
    read(tmp_path / f"base{suffix}") if (tmp_path / f"base{suffix}").exists() else None
    outcome = fuzz(read, base, suffix, tmp_path, seed=sum(map(ord, reader)), cases=CASES, text=text)
    assert outcome["read"] + outcome["refused"] == CASES and outcome["refused"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_fuzz_reader_long(tmp_path, reader):
    read, make, suffix, text = READERS[reader]
    fuzz(read, make(tmp_path), suffix, tmp_path, seed=1000 + sum(map(ord, reader)), cases=2000, text=text)
