import numpy as np
import pretty_midi
import pytest

from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence
from genseq.music.midi import InstrumentSelection, read_midi, resolve_overlaps, write_midi
from tests.conftest import SCALE, write_tune


def test_quantises_to_grid(tune):
    seq = read_midi(tune, steps_per_quarter=4)
    assert len(seq) == 32 and seq.qpm == 120.0
    assert seq.notes[:3, 2:4].tolist() == [[0, 2], [2, 4], [4, 6]]  # eighth notes = 2 sixteenth steps


def test_type0_file_with_tempo_change_stays_on_the_beat(type0_file):
    seq = read_midi(type0_file, steps_per_quarter=4)
    # every note is one quarter long whatever the tempo: the grid is in musical time
    assert seq.notes[:, 2].tolist() == [0, 4, 8, 12, 16, 20]
    assert seq.time_signatures == [(0, 3, 4)]


def test_overlapping_same_pitch_notes_are_split(tmp_path):
    notes = np.array([[60, 80, 0, 4, 0], [60, 80, 2, 6, 0], [60, 80, 2, 6, 0], [64, 80, 1, 3, 0]])
    assert resolve_overlaps(notes)[:, [0, 2, 3]].tolist() == [[60, 0, 2], [64, 1, 3], [60, 2, 6]]
    path = write_tune(tmp_path / "overlap.mid", [(60, 0.0, 1.0), (60, 0.5, 1.5), (60, 0.5, 1.5)])
    seq = read_midi(path, 4)
    starts, ends = seq.notes[:, 2], seq.notes[:, 3]
    assert (ends[:-1] <= starts[1:]).all() and (ends > starts).all()  # one voice, no overlaps


def test_instrument_selection_and_drums(tmp_path):
    bass = pretty_midi.Instrument(program=33, name="bass")
    bass.notes = [pretty_midi.Note(80, 40, 0.0, 2.0)]
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="kit")
    drums.notes = [pretty_midi.Note(80, 36, 0.0, 0.1)]
    path = write_tune(tmp_path / "band.mid", SCALE[:4], program=73, extra=[bass, drums])
    assert set(read_midi(path, 4).notes[:, 4]) == {73, 33}
    assert set(read_midi(path, 4, InstrumentSelection(programs=[33])).notes[:, 0]) == {40}
    assert set(read_midi(path, 4, InstrumentSelection(names=["lead"])).notes[:, 4]) == {73}
    assert set(read_midi(path, 4, InstrumentSelection(indices=[1])).notes[:, 4]) == {33}
    assert 36 in read_midi(path, 4, InstrumentSelection(include_drums=True)).notes[:, 0]
    with pytest.raises(GenseqError, match="no instrument matches"):
        read_midi(path, 4, InstrumentSelection(programs=[1]))


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "empty file"), (b"hello, not midi", "not a MIDI file"), (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01", "corrupt MIDI")],
)
def test_bad_files_say_why(tmp_path, content, problem):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(GenseqError, match=problem) as info:
        read_midi(path)
    assert str(path) in str(info.value)


def test_only_drums_and_no_notes(tmp_path):
    drums = write_tune(tmp_path / "drums.mid", [(36, 0, 0.1)], is_drum=True)
    with pytest.raises(GenseqError, match="only drum tracks"):
        read_midi(drums)
    empty = write_tune(tmp_path / "empty.mid", [])
    with pytest.raises(GenseqError, match="no notes"):
        read_midi(empty)


def test_write_then_read_round_trips(tmp_path):
    seq = NoteSequence([[60, 80, 0, 4, 0], [67, 100, 4, 6, 0], [64, 90, 6, 16, 0]], 4, 90.0, [(0, 3, 4)], 16)
    path = write_midi(seq, tmp_path / "out.mid")
    back = read_midi(path, 4)
    assert back.notes.tolist() == seq.notes.tolist() and back.qpm == pytest.approx(90.0) and back.time_signatures == [(0, 3, 4)]
