import pytest

from genseq.music.corpora import chorale_sequence
from genseq.music.encode import MelodyEncoding

music21 = pytest.importorskip("music21", reason="music21 (the optional corpora extra) is not installed")


def test_a_chorale_becomes_notes_with_its_pickup_on_the_beat():
    score = next(iter(music21.corpus.chorales.Iterator()))  # "Aus meines Herzens Grunde", 3/4 with a pickup
    soprano = chorale_sequence(score, 4, "soprano", "c0")
    everything = chorale_sequence(score, 4, "all", "c0")
    assert soprano.time_signatures == [(0, 3, 4)]
    assert soprano.notes[0, 2] == 8  # the one-beat pickup ends the first (padded) bar of 12 steps
    assert len(everything) > 3 * len(soprano)
    events = MelodyEncoding(4).values(soprano)
    assert (events >= 2).sum() == len(soprano)  # every soprano note is one note-on
