"""Shared fixtures: small MIDI files made by the tests, and the real datasets in ../shared when present."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import mido
import pretty_midi
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
NOTTINGHAM = SHARED / "nottingham"

needs_nottingham = pytest.mark.skipif(
    not (NOTTINGHAM / "train").is_dir(), reason=f"real data absent: {NOTTINGHAM} (the ../shared datasets folder) not found"
)


def copy_nottingham(folder: Path, split: str, count: int) -> Path:
    """The first `count` real tunes of a Nottingham split, copied into `folder` (made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted((NOTTINGHAM / split).glob("*.mid"))[:count]:
        shutil.copy(src, folder / src.name)
    return folder


def write_tune(path: Path, notes: list[tuple[int, float, float]], program: int = 0, tempo: float = 120.0,
               is_drum: bool = False, extra: list | None = None) -> Path:
    """A MIDI file of (pitch, start_s, end_s) notes on one instrument, plus optional extra instruments."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name="lead")
    inst.notes = [pretty_midi.Note(90, p, s, e) for p, s, e in notes]
    midi.instruments.append(inst)
    midi.instruments.extend(extra or [])
    midi.write(str(path))
    return path


SCALE = [(60 + step, i * 0.25, (i + 1) * 0.25) for i, step in enumerate([0, 2, 4, 5, 7, 9, 11, 12] * 4)]


@pytest.fixture
def tune(tmp_path) -> Path:
    """Four bars of a C major scale in eighth notes at 120 bpm (one step = a sixteenth at 4 steps/quarter)."""
    return write_tune(tmp_path / "tune.mid", SCALE)


@pytest.fixture
def type0_file(tmp_path) -> Path:
    """A type-0 MIDI file (one track) with a tempo change halfway and a 3/4 time signature."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    ticks = 480
    for i, pitch in enumerate([60, 62, 64, 65, 67, 69]):
        if i == 3:
            track.append(mido.MetaMessage("set_tempo", tempo=250000, time=0))  # 240 bpm from here
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=ticks))
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks)
    midi.tracks.append(track)
    path = tmp_path / "type0.mid"
    midi.save(str(path))
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run `genseq ARGS` in this process; returns (exit code, stdout, stderr)."""
    from genseq.cli import main

    old = sys.argv
    sys.argv = ["genseq", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err
