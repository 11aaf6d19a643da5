"""Loudness normalisation: -14 LUFS by pyloudnorm, true peaks under the ceiling, silence left alone;
ffmpeg's own meter agrees."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from genseq.core.errors import GenseqError
from genseq.core.loudness import (CEILING_DBTP, decode_audio, ffmpeg_loudness, integrated_loudness, limit,
                                  normalise_loudness, normalised_copy, true_peak_dbtp)

RATE = 48000


def tone(seconds=2.0, level=0.1, frequency=440.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return np.stack([level * np.sin(2 * np.pi * frequency * t)] * 2, axis=1).astype(np.float32)


def test_a_quiet_tone_is_brought_to_minus_14():
    out = normalise_loudness(tone(level=0.01))
    assert integrated_loudness(out) == pytest.approx(-14, abs=0.1) and true_peak_dbtp(out) <= CEILING_DBTP + 0.01


def test_peaks_are_limited_and_the_loudness_kept():
    audio = tone(level=0.05)
    audio[:: RATE // 4] = 0.99  # clicks: a peak far above the tone
    out = normalise_loudness(audio)
    assert true_peak_dbtp(out) <= CEILING_DBTP + 0.01
    assert integrated_loudness(out) == pytest.approx(-14, abs=0.5)


def test_intersample_peaks_count():
    """A quarter-rate sine sampled off its crests: the samples stay under 0.71, the true peak is 1."""
    t = np.arange(RATE)
    wave = np.sin(2 * np.pi * t / 4 + np.pi / 4).astype(np.float32)[:, None]
    assert np.abs(wave).max() < 0.72 and true_peak_dbtp(wave) > -0.2
    assert true_peak_dbtp(limit(wave, -3.0)) <= -2.99


def test_silence_stays_silent_and_short_sounds_are_measured():
    assert not normalise_loudness(np.zeros((RATE, 2), np.float32)).any()
    assert integrated_loudness(normalise_loudness(tone(seconds=0.2))) == pytest.approx(-14, abs=0.5)


def test_files_in_any_format_and_the_second_meter(tmp_path):
    source = tmp_path / "mono.flac"
    soundfile.write(source, tone(level=0.02)[:, 0], RATE)
    out = normalised_copy(source, tmp_path / "out.wav")
    assert decode_audio(out).shape == (2 * RATE, 2)
    measured = ffmpeg_loudness(out)
    assert measured["lufs"] == pytest.approx(-14, abs=0.3) and measured["true_peak_dbtp"] <= -1
    bad = tmp_path / "bad.mp3"
    bad.write_text("not sound")
    with pytest.raises(GenseqError, match="cannot decode this sound file"):
        decode_audio(bad)
