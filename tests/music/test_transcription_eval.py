"""Transcription scores: mir_eval's note matching, pairing recordings with references, and
`genseq eval transcription` on recordings the test renders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.music.transcription_eval import NoteScores, pair_recordings, reference_notes, score_notes
from tests.conftest import run_cli, write_tune

REFERENCE = np.array([[0.0, 0.5, 60], [0.5, 1.0, 62], [1.0, 2.0, 64]], dtype=float)


def test_exact_notes_score_one():
    scores = score_notes(REFERENCE, REFERENCE)
    assert (scores.precision, scores.recall, scores.f1, scores.matched) == (1.0, 1.0, 1.0, 3)


def test_onsets_match_within_50_ms_only():
    assert score_notes(REFERENCE, REFERENCE + [0.04, 0.04, 0]).f1 == 1.0
    assert score_notes(REFERENCE, REFERENCE + [0.06, 0.06, 0]).f1 == 0.0


def test_pitch_must_match_within_50_cents():
    assert score_notes(REFERENCE, REFERENCE + [0, 0, 0.4]).f1 == 1.0
    assert score_notes(REFERENCE, REFERENCE + [0, 0, 1]).f1 == 0.0


def test_fragments_cost_precision_and_missing_notes_cost_recall():
    halves = np.array([[0.0, 0.25, 60], [0.25, 0.5, 60], [0.5, 1.0, 62], [1.0, 2.0, 64]])
    fragmented = score_notes(REFERENCE, halves)
    assert fragmented.recall == 1.0 and fragmented.precision == 0.75
    missing = score_notes(REFERENCE, REFERENCE[:1])
    assert missing.precision == 1.0 and missing.recall == pytest.approx(1 / 3)
    assert score_notes(REFERENCE, np.zeros((0, 3))).f1 == 0.0


def test_offsets_count_only_when_asked():
    short = REFERENCE.copy()
    short[:, 1] = short[:, 0] + 0.05
    assert score_notes(REFERENCE, short).f1 == 1.0
    assert score_notes(REFERENCE, short, with_offsets=True).f1 == 0.0


def test_scores_from_counts():
    assert NoteScores.from_counts(0, 0, 0).f1 == 0.0
    assert NoteScores.from_counts(8, 10, 8).f1 == pytest.approx(2 * 1.0 * 0.8 / 1.8)


def test_recordings_pair_with_references_by_name(tmp_path):
    (tmp_path / "audio" / "set").mkdir(parents=True)
    (tmp_path / "midi" / "set").mkdir(parents=True)
    for name in ("set/a.wav", "b.flac", "unpaired.wav"):
        (tmp_path / "audio" / name).write_bytes(b"x")
    for name in ("set/a.mid", "b.midi", "other.mid"):
        (tmp_path / "midi" / name).write_bytes(b"x")
    pairs = pair_recordings(tmp_path / "audio", tmp_path / "midi")
    assert sorted((a.name, r.name) for a, r in pairs) == [("a.wav", "a.mid"), ("b.flac", "b.midi")]
    with pytest.raises(GenseqError, match="no recording there has a reference"):
        pair_recordings(tmp_path / "midi", tmp_path / "midi")
    with pytest.raises(GenseqError, match="not a folder"):
        pair_recordings(tmp_path / "missing", tmp_path / "midi")


def test_reference_without_notes_is_refused(tmp_path):
    with pytest.raises(GenseqError, match="no notes"):
        reference_notes(write_tune(tmp_path / "empty.mid", []))


@pytest.fixture(scope="module")
def rendered_pair(tmp_path_factory):
    from genseq.music.render import fluidsynth_problem, synthesize, write_wav

    if fluidsynth_problem() is not None:
        pytest.skip(f"cannot render test audio: {fluidsynth_problem()}")
    root = tmp_path_factory.mktemp("pairs")
    (root / "audio").mkdir()
    (root / "midi").mkdir()
    beat = 60 / 110
    melody = [(67, 0, 1), (69, 1, 1), (71, 2, 0.5), (71, 2.5, 0.5), (72, 3, 1), (74, 4, 2), (71, 6, 1), (67, 7, 1)]
    notes = [(pitch, start * beat, (start + length) * beat) for pitch, start, length in melody]
    reference = write_tune(root / "midi" / "tune.mid", notes, program=40, tempo=110)  # violin
    write_wav(synthesize(reference), root / "audio" / "tune.wav")
    write_tune(root / "midi" / "broken.mid", notes)
    (root / "audio" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return root


def test_eval_transcription_command(rendered_pair, capsys):
    code, out, err = run_cli(["eval", "transcription", "--audio", rendered_pair / "audio",
                              "--reference", rendered_pair / "midi", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    rows = {row["file"].rsplit("/", 1)[-1]: row for row in result["per_file"]}
    assert result["files"] == 2 and rows["tune.wav"]["f1"] >= 0.9, rows
    assert rows["broken.wav"]["recall"] == 0.0 and "not a readable audio file" in rows["broken.wav"]["problem"]
    assert result["reference_notes"] == 16 and result["onset_tolerance_seconds"] == 0.05
    assert result["audio_seconds"] > 4 and result["realtime_factor"] > 0


def test_eval_transcription_missing_folder_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(["eval", "transcription", "--audio", tmp_path / "nowhere", "--reference", tmp_path], capsys)
    assert code != 0 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("genseq: error")] == [
        f"genseq: error: {tmp_path / 'nowhere'}: not a folder"]
