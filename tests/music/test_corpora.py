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


TUNE = """X:7
T:Test
M:2/4
L:1/8
Q:1/4=100
K:G
"G"d | g2 {a}g>a | b4 |]
B | c2 (3cde | d3 |]
"""


def test_an_abc_tune_keeps_its_rhythm_pickups_and_bar_lines():
    from genseq.music.corpora import tune_sequence

    tune = tune_sequence(music21.converter.parse(TUNE, format="abc"), 4, "t")
    # the eighth-note pickup ends the first (padded) bar at step 8; the chord symbol and the
    # grace note are not notes; a dotted pair is 3 + 1 steps; triplet eighths round to 1, 2, 1 steps
    assert tune.notes[:, [0, 2, 3]].tolist() == [
        [74, 6, 8], [79, 8, 12], [79, 12, 15], [81, 15, 16], [83, 16, 24],
        [71, 24, 26], [72, 26, 30], [72, 30, 31], [74, 31, 33], [76, 33, 34], [74, 34, 40]]
    # the second strain's pickup (steps 24-26) is not a bar: bars start again at step 26
    assert tune.time_signatures == [(0, 2, 4), (26, 2, 4)]
    assert tune.qpm == 100.0 and tune.total_steps == 40


def test_corpora_join_with_commas_and_unknown_names_are_errors(tmp_path, monkeypatch):
    from genseq.core.errors import GenseqError
    from genseq.core.notes import NoteSequence, save_sequences
    from genseq.music.corpora import load_corpus

    monkeypatch.setenv("GENSEQ_CACHE", str(tmp_path))
    save_sequences([NoteSequence([[60, 80, 0, 4, 0]], 4, name="a")], tmp_path / "oneills-4spq.npz")
    save_sequences([NoteSequence([[62, 80, 0, 4, 0]], 4, name="b")], tmp_path / "bach-chorales-soprano-4spq.npz")
    assert [s.name for s in load_corpus("oneills,bach-chorales", 4, "soprano")] == ["a", "b"]
    with pytest.raises(GenseqError, match="unknown corpus"):
        load_corpus("oneills,nope", 4)
