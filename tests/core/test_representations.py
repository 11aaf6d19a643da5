"""Melody, piano roll and dance implement one representation interface (genseq/core/pieces.py)."""

import numpy as np

from genseq.core.notes import NoteSequence
from genseq.motion.encode import DanceEncoding, fit_encoding
from genseq.music.encode import MelodyEncoding, PianorollEncoding, make_encoding
from tests.motion.conftest import moving_clip


def tune() -> NoteSequence:
    notes = np.array([[60 + i % 5, 90, 2 * i, 2 * i + 2, 0] for i in range(8)], dtype=np.int32)
    return NoteSequence(notes, 4, 120.0, [(0, 4, 4)], 16, "tune")


def check(representation, item, from_metadata) -> None:
    piece = representation.encode(item)
    assert piece.inputs.shape[1] == representation.input_size and len(piece.inputs) == len(piece.targets)
    assert representation.head in ("categorical", "bernoulli", "mdn") and representation.name
    again = from_metadata(representation.metadata())
    assert type(again) is type(representation) and again.metadata() == representation.metadata()
    assert again.value_size == representation.value_size and again.input_size == representation.input_size


def test_melody_and_pianoroll_are_representations():
    check(MelodyEncoding(4), tune(), make_encoding)
    check(PianorollEncoding(4), tune(), make_encoding)


def test_dance_is_a_representation():
    clips = [moving_clip(90, seed=s) for s in range(2)]
    check(fit_encoding(clips, 30.0), clips[0], DanceEncoding.from_metadata)
