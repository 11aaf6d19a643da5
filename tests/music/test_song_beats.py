"""Beats and tempo of a song: exact from a MIDI tempo map, tracked in a recording (synthetic clicks)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from genseq.core.errors import GenseqError
from genseq.music.beats import midi_beats, song_beats, tempo_band, track_beats
from tests.conftest import write_tune

SR = 22050


def clicks(period: float, seconds: float, offset: float = 0.25) -> np.ndarray:
    """Short decaying noise bursts every `period` seconds from `offset`."""
    audio = np.zeros(int(seconds * SR), dtype=np.float32)
    burst = np.random.default_rng(0).normal(0, 0.5, 600) * np.exp(-np.arange(600) / 120)
    for start in np.arange(offset, seconds - 0.05, period):
        i = int(start * SR)
        audio[i:i + 600] += burst[: len(audio) - i]
    return audio


def test_midi_beats_follow_the_tempo_map(tmp_path):
    notes = [(60 + i % 5, i * 2 / 3, (i + 1) * 2 / 3) for i in range(12)]  # quarters at 90 qpm
    beats = midi_beats(write_tune(tmp_path / "slow.mid", notes, tempo=90.0))
    assert beats.qpm == pytest.approx(90.0, abs=0.01)
    assert np.allclose(np.diff(beats.times), 2 / 3, atol=1e-6) and beats.times[0] == 0.0
    assert beats.seconds == pytest.approx(8.0, abs=1e-3) and beats.period == pytest.approx(2 / 3)
    assert len(beats.within(3.9).times) == 6


def test_the_tracker_finds_a_click_track_tempo_and_beats():
    beats = track_beats(clicks(0.5, 12.0), SR, "clicks")
    assert beats.qpm == pytest.approx(120.0, abs=3.0)
    distance = np.abs(beats.times[:, None] - (0.25 + 0.5 * np.arange(24))[None, :]).min(axis=1)
    assert np.median(distance) < 0.05 and beats.seconds == pytest.approx(12.0)


def test_a_recording_file_goes_through_the_tracker(tmp_path):
    path = tmp_path / "clicks.wav"
    soundfile.write(str(path), clicks(60 / 100, 10.0), SR)
    assert song_beats(path).qpm == pytest.approx(100.0, abs=4.0)


def test_a_song_without_beats_is_one_clean_error(tmp_path):
    with pytest.raises(GenseqError, match="beat"):
        track_beats(clicks(5.0, 3.0), SR, "one click")
    short = write_tune(tmp_path / "short.mid", [(60, 0.0, 0.5)])
    with pytest.raises(GenseqError, match="too short"):
        midi_beats(short)


def test_tempo_bands():
    assert [tempo_band(q) for q in (70, 94.9, 95, 125, 126, 160)] == ["slow", "slow", "medium", "medium", "fast", "fast"]


def accented(period: float, seconds: float, every: int, offset: float = 0.25) -> np.ndarray:
    """Clicks every `period` seconds, every `every`-th one four times as loud (a strong beat)."""
    audio = clicks(period, seconds, offset) * 0.25
    return audio + clicks(period * every, seconds, offset) * 0.75


def test_a_recording_keeps_its_half_and_double_tempo_as_alternatives():
    beats = track_beats(accented(0.5, 16.0, 2), SR, "accented")
    tempi = sorted(round(b.qpm) for b in beats.alternatives)
    assert any(abs(q - 120) <= 3 for q in tempi) and any(abs(q - 60) <= 2 for q in tempi)
    assert all(40 <= q <= 240 for q in tempi)
    assert any(b.qpm == beats.qpm for b in beats.alternatives)
    assert beats.within(8.0).alternatives is beats.alternatives


def test_a_dance_gets_the_tempo_alternative_nearest_its_own_beat_rate():
    beats = track_beats(accented(0.5, 16.0, 2), SR, "accented")
    assert beats.for_dance(60.0).qpm == pytest.approx(60.0, abs=2.0)
    assert beats.for_dance(120.0).qpm == pytest.approx(120.0, abs=3.0)
    slow = beats.for_dance(60.0).times  # every other beat of the 120 grid: each still on a click
    on_clicks = np.abs(slow[:, None] - (0.25 + 0.5 * np.arange(32))[None, :]).min(axis=1)
    assert np.median(on_clicks) < 0.05


def test_exact_beats_have_no_alternatives(tmp_path):
    notes = [(60 + i % 5, i * 0.5, (i + 1) * 0.5) for i in range(12)]
    beats = midi_beats(write_tune(tmp_path / "tune.mid", notes, tempo=120.0))
    assert beats.alternatives == [] and beats.for_dance(60.0) is beats
