"""The beats and tempo of a song: exact from a MIDI file's tempo map, or tracked in a recording
(librosa's onset envelope and beat tracker, with the tempo fitted as the slope of a line through the
tracked beats, as the transcription path does). What a dance is put on (genseq/motion/beats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.music.midi import MIDI_SUFFIXES

HOP = 512
SAMPLE_RATE = 22050
MIN_BEATS = 4          # fewer tracked beats than this: no usable beat in the song
MIN_QPM, MAX_QPM = 40.0, 240.0


@dataclass
class SongBeats:
    """times: beat times in seconds (increasing); qpm: beats a minute; seconds: the song's length."""

    times: np.ndarray
    qpm: float
    seconds: float
    source: str = ""

    @property
    def period(self) -> float:
        return 60.0 / self.qpm

    def within(self, seconds: float) -> "SongBeats":
        """The beats before `seconds` (a dance shorter than the song)."""
        return SongBeats(self.times[self.times < seconds], self.qpm, min(self.seconds, seconds), self.source)


def fitted_qpm(times: np.ndarray) -> float:
    """Beats a minute from the slope of a line through the beat times (finer than one interval)."""
    period = float(np.polyfit(np.arange(len(times)), times, 1)[0])
    return 60.0 / period


def tempo_band(qpm: float) -> str:
    """slow (< 95 qpm), medium (95-125) or fast (> 125)."""
    return "slow" if qpm < 95 else ("medium" if qpm <= 125 else "fast")


def track_beats(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, source: str = "") -> SongBeats:
    """The beats of a mono recording (librosa beat tracker). GenseqError when it finds too few."""
    import librosa

    envelope = librosa.onset.onset_strength(y=audio, sr=sample_rate, hop_length=HOP)
    tempo, frames = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate, hop_length=HOP)
    times = librosa.frames_to_time(frames, sr=sample_rate, hop_length=HOP)
    seconds = len(audio) / sample_rate
    if len(times) < MIN_BEATS:
        raise GenseqError(f"no steady beat found in the song ({len(times)} beats tracked)", source or None)
    qpm = float(np.clip(fitted_qpm(times), MIN_QPM, MAX_QPM))
    return SongBeats(extended_grid(np.asarray(times, dtype=np.float64), 60.0 / qpm, seconds), qpm, seconds, source)


def extended_grid(times: np.ndarray, period: float, seconds: float) -> np.ndarray:
    """The tracked beats with the fitted period carried on before the first and after the last, over
    0..seconds (the tracker often starts late and stops early)."""
    before = times[0] - period * np.arange(int(times[0] // period), 0, -1)
    after = times[-1] + period * np.arange(1, int(max(0.0, seconds - times[-1]) // period) + 1)
    return np.concatenate([before, times, after])


def midi_beats(path: str | Path) -> SongBeats:
    """The exact beats of a MIDI file (its tempo map), up to its last note's end."""
    from genseq.music.midi import load_pretty_midi

    midi = load_pretty_midi(path)
    seconds = float(midi.get_end_time())
    times = np.asarray(midi.get_beats(), dtype=np.float64)
    times = times[times < seconds]
    if len(times) < MIN_BEATS or seconds <= 0:
        raise GenseqError("too short to dance to (fewer than 4 beats)", path)
    return SongBeats(times, fitted_qpm(times), seconds, str(path))


def song_beats(path: str | Path) -> SongBeats:
    """Beats of a MIDI file (exact) or of a recording (wav, mp3, flac, ogg, m4a: tracked)."""
    from genseq.music.audio import load_audio

    path = Path(path)
    if path.suffix.lower() in MIDI_SUFFIXES:
        return midi_beats(path)
    return track_beats(load_audio(path, SAMPLE_RATE), SAMPLE_RATE, str(path))


def audio_seconds(path: str | Path) -> float:
    """The length of a recording in seconds, as decoded."""
    from genseq.music.audio import load_audio

    return len(load_audio(path, SAMPLE_RATE)) / SAMPLE_RATE
