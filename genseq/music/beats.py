"""The beats and tempo of a song: exact from a MIDI file's tempo map, or tracked in a recording
(librosa's onset envelope and beat tracker, with the tempo fitted as the slope of a line through the
tracked beats, as the transcription path does). What a dance is put on (genseq/motion/beats.py).

Beat trackers confuse a tempo with its half or double and, in triple time, with 2/3 or 3/2 of it (a
6/8 tune tracked in dotted quarters, a slow tune in its eighths). A recording therefore keeps
alternatives: the tracker's own tempo and the strongest periods of the onset envelope (its
autocorrelation), with their halves and doubles, each tracked again at its tempo and scored by its salience (the
autocorrelation at its period). The tempo danced to is the most salient one weighted by a prior
around the tempo the dance itself moves at (its kinematic beats a second; PREFERRED_QPM without a
dance): a grid of every other beat still puts each move on a beat, a grid of the beats'
subdivisions puts every other move between two beats.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.music.midi import MIDI_SUFFIXES

HOP = 512
SAMPLE_RATE = 22050
MIN_BEATS = 4          # fewer tracked beats than this: no usable beat in the song
MIN_QPM, MAX_QPM = 40.0, 240.0
PREFERRED_QPM = 100.0  # the tempo prior's centre when no dance is known (the bundled model moves at about this)
PRIOR_OCTAVES = 0.5    # the prior's width (sd of log2 of tempo ratio)
PERIOD_PEAKS = 4       # strongest autocorrelation peaks kept as tempo alternatives
SAME_TEMPO = 0.04      # alternatives closer than this (relative) are one


@dataclass(eq=False)  # arrays inside: compared by identity
class SongBeats:
    """times: beat times in seconds (increasing); qpm: beats a minute; seconds: the song's length.
    A tracked recording also has its alternatives (other tempi, each with its beats) and salience."""

    times: np.ndarray
    qpm: float
    seconds: float
    source: str = ""
    salience: float = 1.0
    alternatives: list["SongBeats"] = field(default_factory=list, repr=False)

    @property
    def period(self) -> float:
        return 60.0 / self.qpm

    def within(self, seconds: float) -> "SongBeats":
        """The beats before `seconds` (a dance shorter than the song)."""
        return replace(self, times=self.times[self.times < seconds], seconds=min(self.seconds, seconds))

    def for_dance(self, dance_qpm: float | None) -> "SongBeats":
        """The beats to dance to for a dance that moves at `dance_qpm` kinematic beats a minute: the
        alternative of the highest salience times the tempo prior (itself when it has none)."""
        if not self.alternatives:
            return self
        centre = dance_qpm if dance_qpm and dance_qpm > 0 else PREFERRED_QPM
        return max(self.alternatives, key=lambda beats: beats.salience * tempo_prior(beats.qpm, centre))


def tempo_prior(qpm: float, centre: float) -> float:
    return float(np.exp(-0.5 * (np.log2(qpm / centre) / PRIOR_OCTAVES) ** 2))


def fitted_qpm(times: np.ndarray) -> float:
    """Beats a minute from the slope of a line through the beat times (finer than one interval)."""
    period = float(np.polyfit(np.arange(len(times)), times, 1)[0])
    return 60.0 / period


def tempo_band(qpm: float) -> str:
    """slow (< 95 qpm), medium (95-125) or fast (> 125)."""
    return "slow" if qpm < 95 else ("medium" if qpm <= 125 else "fast")


def periodicity(envelope: np.ndarray, frame_rate: float) -> np.ndarray:
    """Autocorrelation of the onset envelope (mean removed) over lags up to a beat at MIN_QPM, over lag 0."""
    centred = np.asarray(envelope, dtype=np.float64) - np.mean(envelope)
    lags = int(np.ceil(frame_rate * 60.0 / MIN_QPM)) + 2
    full = np.correlate(centred, centred, mode="full")[len(centred) - 1:len(centred) - 1 + lags]
    return full / full[0] if full[0] > 0 else np.zeros(lags)


def salience_at(correlation: np.ndarray, frame_rate: float, qpm: float) -> float:
    """The autocorrelation at a tempo's period (linear between lags; the better of the two lags around
    it, so a fast tempo whose period falls between two frames is not penalised)."""
    lag = frame_rate * 60.0 / qpm
    low = int(np.floor(lag))
    if low + 1 >= len(correlation) or low < 1:
        return 0.0
    return float(max(correlation[low], correlation[low + 1]))


def tempo_candidates(correlation: np.ndarray, frame_rate: float, tracked_qpm: float) -> list[float]:
    """The tracker's tempo and the strongest autocorrelation peaks, each with its half and double, within
    MIN_QPM..MAX_QPM, near-equal ones merged (the first kept)."""
    lags = np.arange(2, len(correlation) - 1)
    peaks = lags[(correlation[lags] > correlation[lags - 1]) & (correlation[lags] >= correlation[lags + 1])]
    peaks = sorted(peaks, key=lambda lag: -correlation[lag])
    strongest = [frame_rate * 60.0 / refined_lag(correlation, lag) for lag in peaks[:PERIOD_PEAKS]]
    found = [q * factor for q in [tracked_qpm, *strongest] for factor in (1.0, 0.5, 2.0)]
    kept: list[float] = []
    for qpm in found:
        if MIN_QPM <= qpm <= MAX_QPM and all(abs(qpm / other - 1) > SAME_TEMPO for other in kept):
            kept.append(float(qpm))
    return kept


def refined_lag(correlation: np.ndarray, lag: int) -> float:
    """A peak's lag to a fraction of a frame (the vertex of the parabola through it and its neighbours)."""
    before, at, after = correlation[lag - 1], correlation[lag], correlation[lag + 1]
    curve = before - 2 * at + after
    return float(lag + (0.5 * (before - after) / curve if curve < 0 else 0.0))


def track_beats(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, source: str = "") -> SongBeats:
    """The beats of a mono recording (librosa beat tracker) at the tempo the module docstring chooses
    (PREFERRED_QPM's prior), with every alternative kept for SongBeats.for_dance. GenseqError when the
    tracker finds too few beats."""
    import librosa

    envelope = librosa.onset.onset_strength(y=audio, sr=sample_rate, hop_length=HOP)
    _, frames = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate, hop_length=HOP)
    times = librosa.frames_to_time(frames, sr=sample_rate, hop_length=HOP)
    seconds = len(audio) / sample_rate
    if len(times) < MIN_BEATS:
        raise GenseqError(f"no steady beat found in the song ({len(times)} beats tracked)", source or None)
    frame_rate = sample_rate / HOP
    correlation = periodicity(envelope, frame_rate)
    tracked = grid_of(times, seconds, source)
    alternatives = []
    for qpm in tempo_candidates(correlation, frame_rate, tracked.qpm):
        if qpm != tracked.qpm and salience_at(correlation, frame_rate, qpm) <= 0:
            continue  # no periodicity at all there: not worth tracking again
        beats = tracked if qpm == tracked.qpm else retracked(librosa, envelope, sample_rate, qpm, seconds, source)
        if beats is not None and all(abs(beats.qpm / other.qpm - 1) > SAME_TEMPO for other in alternatives):
            alternatives.append(replace(beats, salience=salience_at(correlation, frame_rate, beats.qpm)))
    chosen = SongBeats(tracked.times, tracked.qpm, seconds, source, alternatives=alternatives).for_dance(None)
    return replace(chosen, alternatives=alternatives)


def retracked(librosa, envelope: np.ndarray, sample_rate: int, qpm: float, seconds: float, source: str) -> SongBeats | None:
    """The beats tracked again with the tempo held at `qpm` (None when too few are found)."""
    _, frames = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate, hop_length=HOP, bpm=qpm)
    times = librosa.frames_to_time(frames, sr=sample_rate, hop_length=HOP)
    return grid_of(times, seconds, source) if len(times) >= MIN_BEATS else None


def grid_of(times: np.ndarray, seconds: float, source: str) -> SongBeats:
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
