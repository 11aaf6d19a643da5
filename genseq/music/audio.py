"""Audio recordings -> NoteSequence: a monophonic transcription on a musical grid.

pyin tracks the pitch (its voicing gives note boundaries), onset detection splits repeated notes
of one pitch inside a voiced run, and librosa's beat tracker gives the tempo and the beat grid the
notes are quantised onto, so the result has a real tempo (not a fixed 120) and notes on steps.
"""

from __future__ import annotations

import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aiff", ".aif")

# Longer recordings are refused (the decoded audio is held in memory: 20 min mono at 22.05 kHz is
# about 106 MB); pitch tracking runs in blocks of BLOCK_SECONDS so its memory stays bounded.
MAX_SECONDS = 20 * 60
BLOCK_SECONDS = 30.0
FMIN_HZ = 65.41  # C2
FMAX_HZ = 2093.0  # C7
MIN_NOTE_SECONDS = 0.05
MIN_VOICED_PROBABILITY = 0.25  # mean pyin voicing probability a note needs
QUIET_DB = 40.0  # notes this far below the loudest one are dropped (reverb tails, background)
REATTACK_RISE = 1.4  # an onset splits a same-pitch run only where the RMS rises this much (about 3 dB)
SILENCE_PEAK = 1e-4  # below this peak amplitude (-80 dBFS) the file counts as silent


def load_audio(path: str | Path, sample_rate: int = 22050) -> np.ndarray:
    """Mono float32 audio of a file; GenseqError for a missing, empty, undecodable, too long or silent file."""
    import librosa

    path = Path(path)
    if not path.is_file():
        raise GenseqError("no such file", path)
    if path.stat().st_size == 0:
        raise GenseqError("empty file (0 bytes)", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # soundfile -> audioread fallback warnings
            # reading at most MAX_SECONDS + 1 s bounds memory whatever the file's length
            audio, _ = librosa.load(str(path), sr=sample_rate, mono=True, duration=MAX_SECONDS + 1.0)
    except Exception as exc:  # noqa: BLE001  (soundfile/audioread raise many types for undecodable data)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GenseqError(f"not a readable audio file ({detail[:160]})", path) from None
    if len(audio) > MAX_SECONDS * sample_rate:
        raise GenseqError(f"recording too long: over {MAX_SECONDS // 60} minutes; split it into shorter files", path)
    if len(audio) == 0 or not np.all(np.isfinite(audio)) or float(np.abs(audio).max()) < SILENCE_PEAK:
        raise GenseqError("no sound: the file is silent", path)
    return audio.astype(np.float32, copy=False)


def _track_pitch(audio: np.ndarray, sample_rate: int, hop: int, on_progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pyin f0 (Hz, NaN where unvoiced), voiced flags and voicing probabilities per hop, computed in
    blocks (bounded memory)."""
    import librosa

    n_frames = len(audio) // hop + 1
    block = max(1, int(BLOCK_SECONDS * sample_rate / hop)) * hop
    f0s, voiced, probs = [], [], []
    total = len(audio) / sample_rate
    for start in range(0, len(audio), block):
        chunk = audio[start : start + block]
        if len(chunk) < 2048:  # pyin needs a whole frame; pad the tail
            chunk = np.pad(chunk, (0, 2048 - len(chunk)))
        f0, flag, prob = librosa.pyin(chunk, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=sample_rate, frame_length=2048, hop_length=hop)
        keep = min(len(f0), block // hop)
        f0s.append(f0[:keep])
        voiced.append(flag[:keep])
        probs.append(prob[:keep])
        if on_progress is not None:
            on_progress(min(total, (start + block) / sample_rate), total)
    f0 = np.concatenate(f0s)[:n_frames]
    flag = np.concatenate(voiced)[:n_frames]
    prob = np.concatenate(probs)[:n_frames]
    pad = n_frames - len(f0)
    if pad > 0:
        f0 = np.concatenate([f0, np.full(pad, np.nan)])
        flag = np.concatenate([flag, np.zeros(pad, bool)])
        prob = np.concatenate([prob, np.zeros(pad)])
    return f0, flag & np.isfinite(f0), prob


def _segments(midi: np.ndarray, voiced: np.ndarray, onsets: np.ndarray, min_frames: int, guard: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges of notes: voiced runs, split at onsets and at stable pitch changes.

    An onset splits a run only `guard` frames or more after the previous cut (the attack of a note
    that starts the run is often detected a few frames late) and min_frames before its end."""
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
    onset_set = np.zeros(len(voiced) + 1, bool)
    onset_set[np.clip(onsets, 0, len(voiced))] = True
    result = []
    for run_start, run_end in runs:
        cuts = [run_start]
        for frame in np.flatnonzero(onset_set[run_start + guard : run_end - min_frames + 1]) + run_start + guard:
            if frame - cuts[-1] >= guard:
                cuts.append(int(frame))
        cuts.append(run_end)
        for a, b in pairwise(cuts):
            result.extend(_split_on_pitch(midi, a, b, min_frames))
    return result


def _reattacks(onsets: np.ndarray, rms: np.ndarray, window: int) -> np.ndarray:
    """Onsets where the loudness really rises again (a re-struck or re-blown note), not the
    vibrato, bow or breath changes that onset detection also reports in sustained tones."""
    keep = [
        frame for frame in onsets.tolist()
        if frame > 0
        and rms[frame : frame + window + 1].max() >= REATTACK_RISE * max(rms[max(0, frame - 2 * window) : frame].min(), 1e-6)
    ]
    return np.array(keep, dtype=int)


def _split_on_pitch(midi: np.ndarray, start: int, end: int, min_frames: int) -> list[tuple[int, int]]:
    """Split [start, end) where the (median-smoothed, rounded) pitch changes for at least min_frames."""
    from scipy.ndimage import median_filter

    rounded = np.round(median_filter(midi[start:end], size=5, mode="nearest")).astype(int)
    change = np.flatnonzero(np.diff(rounded)) + 1
    bounds = [0, *change.tolist(), end - start]
    pieces = [[a, b, rounded[a]] for a, b in pairwise(bounds)]
    merged: list[list[int]] = []
    for piece in pieces:  # short wobbles join the piece before them (or after, at the start)
        if merged and (piece[1] - piece[0] < min_frames or piece[2] == merged[-1][2]):
            merged[-1][1] = piece[1]
        elif merged and merged[-1][1] - merged[-1][0] < min_frames:
            merged[-1][1], merged[-1][2] = piece[1], piece[2]
        else:
            merged.append(piece)
    return [(start + a, start + b) for a, b, _ in merged]


def _beat_grid(audio: np.ndarray, sample_rate: int, hop: int, onset_env: np.ndarray) -> tuple[float, np.ndarray]:
    """(qpm, beat times in seconds). The tempo is the slope of a line fit through the tracked beats
    (finer than beat_track's own estimate); too few beats -> beat_track's estimate, beats from 0."""
    import librosa

    tempo, beats = librosa.beat.beat_track(onset_envelope=onset_env, sr=sample_rate, hop_length=hop)
    tempo = float(np.atleast_1d(tempo)[0]) if np.size(tempo) else 0.0
    times = librosa.frames_to_time(beats, sr=sample_rate, hop_length=hop)
    if len(times) >= 4:
        period = float(np.polyfit(np.arange(len(times)), times, 1)[0])
        if period > 0:
            return 60.0 / period, times
    if not tempo > 0:
        tempo = 120.0
    return tempo, np.array([0.0, 60.0 / tempo])


def seconds_to_beats(seconds: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Beat positions (beat 0 = first tracked beat) of times: interpolated between tracked beats,
    extrapolated beyond them with the median beat period."""
    seconds = np.asarray(seconds, dtype=float)
    period = float(np.median(np.diff(beat_times)))
    index = np.arange(len(beat_times), dtype=float)
    beats = np.interp(seconds, beat_times, index)
    before, after = seconds < beat_times[0], seconds > beat_times[-1]
    beats[before] = (seconds[before] - beat_times[0]) / period
    beats[after] = index[-1] + (seconds[after] - beat_times[-1]) / period
    return beats


def transcribe_audio(path: str | Path, steps_per_quarter: int = 4, sample_rate: int = 22050, on_progress=None) -> NoteSequence:
    """A monophonic transcription of a recording as a NoteSequence on a beat grid.

    The grid starts at the tracked beat at (or, by less than half a step, after) the start of the
    recording, so written at ``qpm`` the notes land at their real times, shifted by less than one
    beat, assuming a steady tempo. ``on_progress(done_seconds, total_seconds)`` is called per block.
    Raises GenseqError for a missing, empty, undecodable, too long, silent or unpitched file.
    """
    import librosa

    path = Path(path)
    audio = load_audio(path, sample_rate)
    hop = max(1, round(0.0116 * sample_rate))  # about 11.6 ms (256 at 22.05 kHz)
    f0, voiced, voiced_prob = _track_pitch(audio, sample_rate, hop, on_progress)
    midi = np.where(voiced, librosa.hz_to_midi(np.where(voiced, f0, 440.0)), np.nan)
    onset_env = librosa.onset.onset_strength(y=audio, sr=sample_rate, hop_length=hop)
    rms = librosa.feature.rms(y=audio, frame_length=2048, hop_length=hop)[0]
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sample_rate, hop_length=hop, units="frames")
    short_rms = librosa.feature.rms(y=audio, frame_length=4 * hop, hop_length=hop)[0]
    onsets = _reattacks(onsets, short_rms, window=max(1, round(0.07 * sample_rate / hop)))

    min_frames = max(1, int(np.ceil(MIN_NOTE_SECONDS * sample_rate / hop)))
    rows = []
    for a, b in _segments(midi, voiced, onsets, min_frames, guard=max(min_frames, round(0.08 * sample_rate / hop))):
        if b - a < min_frames or float(np.mean(voiced_prob[a:b])) < MIN_VOICED_PROBABILITY:
            continue  # too short, or pyin barely believes it is pitched (noise gives about 0.01)
        pitch = int(np.round(np.nanmedian(midi[a:b])))
        loudness = float(np.sqrt(np.mean(rms[a : min(b, len(rms))] ** 2))) if a < len(rms) else 0.0
        db = 20 * np.log10(max(loudness, 1e-6))  # dBFS of the segment; -60 dB -> 1, about -3 dB -> 127
        velocity = int(np.clip(round(1 + 126 * (db + 60) / 57), 1, 127))
        rows.append((pitch, velocity, a * hop / sample_rate, b * hop / sample_rate, db))
    if rows:  # reverb tails and background far below the loudest note are not notes
        loudest = max(row[4] for row in rows)
        rows = [row[:4] for row in rows if row[4] >= loudest - QUIET_DB]
    if not rows:
        raise GenseqError("no pitched notes found (noise, percussion or speech?)", path)

    qpm, beat_times = _beat_grid(audio, sample_rate, hop, onset_env)
    times = np.array([[start, end] for _, _, start, end in rows])
    beats = seconds_to_beats(times.ravel(), beat_times).reshape(times.shape)
    origin = np.floor(seconds_to_beats(np.array([0.0]), beat_times)[0] + 0.5 / steps_per_quarter)
    steps = np.maximum(0, np.round((beats - origin) * steps_per_quarter)).astype(np.int64)
    notes = []
    for (pitch, velocity, _, _), (start, end) in zip(rows, steps.tolist()):
        if notes and start < notes[-1][3]:  # monophonic: a note ends where the next one starts
            notes[-1][3] = max(notes[-1][2] + 1, start)
            start = max(start, notes[-1][3])
        notes.append([int(np.clip(pitch, 0, 127)), velocity, start, max(end, start + 1), 0])
    array = np.array(notes, dtype=np.int32)
    return NoteSequence(
        array,
        steps_per_quarter=steps_per_quarter,
        qpm=round(float(qpm), 1),
        time_signatures=[(0, 4, 4)],
        total_steps=int(array[:, 3].max()),
        name=path.stem,
    )
