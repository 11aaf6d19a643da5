"""Audio recordings -> NoteSequence: a monophonic transcription on a musical grid.

pyin tracks the pitch (its voicing gives note boundaries), onset detection splits repeated notes
of one pitch inside a voiced run, and librosa's beat tracker gives the tempo and the beat grid the
notes are quantised onto, so the result has a real tempo (not a fixed 120) and notes on steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError, quiet_native_stderr
from genseq.core.notes import NoteSequence

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aiff", ".aif")

# Longer recordings are refused (the decoded audio is held in memory: 20 min mono at 22.05 kHz is
# about 106 MB); pitch tracking runs in blocks of BLOCK_SECONDS so its memory stays bounded.
MAX_SECONDS = 20 * 60
BLOCK_SECONDS = 30.0
FMIN_HZ = 65.41  # C2
FMAX_HZ = 2093.0  # C7
# pyin's pitch bins, in semitones: its Viterbi decoding costs the square of the bin count, so 0.5
# is about 25 times faster than librosa's default 0.1; notes are rounded to semitones anyway.
PYIN_RESOLUTION = 0.5
MIN_NOTE_SECONDS = 0.05
FRAGMENT_SECONDS = 0.15  # shorter pieces may be glides or slivers of a neighbour (_merge_fragments)
BACKTRACK_SECONDS = 0.035
TOUCH_FRAMES = 3  # pieces this few hops apart (about 35 ms) count as touching in _merge_fragments
SCOOP_SEMITONES = 2  # a short piece this close in pitch to an unattacked note after it is that note's attack
MIN_VOICED_PROBABILITY = 0.25  # mean pyin voicing probability a note needs
QUIET_DB = 40.0  # notes this far below the loudest one are dropped (reverb tails, background)
# re-attack cues (see _reattacks): voicing confidence falling to this fraction of the note's,
# onset strength this many times the recording's median, or loudness rising this much (6 dB)
REATTACK_CONFIDENCE_DIP = 0.85
REATTACK_STRENGTH = 8.0
REATTACK_RISE = 2.0
REATTACK_MIN_STRENGTH = 1.6  # in reverb and noise, vibrato also dips the voicing confidence; a re-attack still stands out
SILENCE_PEAK = 1e-4  # below this peak amplitude (-80 dBFS) the file counts as silent


def load_audio(path: str | Path, sample_rate: int = 22050) -> np.ndarray:
    """Mono float32 audio of a file; GenseqError for a missing, empty, undecodable, too long or silent file.

    libsndfile reads wav, flac, ogg and mp3; anything else (m4a/AAC, ...) is decoded by the ffmpeg
    that imageio-ffmpeg ships, so no system ffmpeg is needed."""
    path = Path(path)
    if not path.is_file():
        raise GenseqError("no such file", path)
    if path.stat().st_size == 0:
        raise GenseqError("empty file (0 bytes)", path)
    try:
        audio = _decode_with_libsndfile(path, sample_rate)
    except Exception:  # noqa: BLE001  (libsndfile raises several types for data it cannot read)
        audio = _decode_with_ffmpeg(path, sample_rate)
    if len(audio) > MAX_SECONDS * sample_rate:
        raise GenseqError(f"recording too long: over {MAX_SECONDS // 60} minutes; split it into shorter files", path)
    if len(audio) == 0 or not np.all(np.isfinite(audio)) or float(np.abs(audio).max()) < SILENCE_PEAK:
        raise GenseqError("no sound: the file is silent", path)
    return audio.astype(np.float32, copy=False)


def _decode_with_libsndfile(path: Path, sample_rate: int) -> np.ndarray:
    import librosa
    import soundfile

    with quiet_native_stderr():  # mpg123's notices about a damaged MP3 are not the one error line
        soundfile.info(str(path))  # raises at once for formats libsndfile does not read
        # reading at most MAX_SECONDS + 1 s bounds memory whatever the file's length
        audio, _ = librosa.load(str(path), sr=sample_rate, mono=True, duration=MAX_SECONDS + 1.0)
    return audio


def _decode_with_ffmpeg(path: Path, sample_rate: int) -> np.ndarray:
    import subprocess

    from genseq.core.ffmpeg import ffmpeg_exe

    command = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-t", str(MAX_SECONDS + 1),
               "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1].replace(str(path), "").strip(": ") if detail else "no audio stream"
        raise GenseqError(f"not a readable audio file ({reason[:160]})", path)
    return np.frombuffer(result.stdout, dtype=np.float32).copy()


def _pyin_frame(sample_rate: int) -> int:
    """pyin's frame: the shortest power of two holding four periods of FMIN_HZ (2048 at 22.05 kHz,
    93 ms); a longer frame blurs where one note ends and the next begins."""
    return int(2 ** np.ceil(np.log2(4 * sample_rate / FMIN_HZ)))


def _track_pitch(audio: np.ndarray, sample_rate: int, hop: int, on_progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pyin f0 (Hz, NaN where unvoiced), voiced flags and voicing probabilities per hop, computed in
    blocks (bounded memory)."""
    import librosa

    n_frames = len(audio) // hop + 1
    frame = _pyin_frame(sample_rate)
    block = max(1, int(BLOCK_SECONDS * sample_rate / hop)) * hop
    f0s, voiced, probs = [], [], []
    total = len(audio) / sample_rate
    for start in range(0, len(audio), block):
        chunk = audio[start : start + block]
        if len(chunk) < frame:  # pyin needs a whole frame; pad the tail
            chunk = np.pad(chunk, (0, frame - len(chunk)))
        f0, flag, prob = librosa.pyin(chunk, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=sample_rate, frame_length=frame, hop_length=hop,
                                        resolution=PYIN_RESOLUTION)
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


def _reattacks(onsets: np.ndarray, onset_env: np.ndarray, rms: np.ndarray, voiced_prob: np.ndarray, window: int) -> np.ndarray:
    """Onsets that re-start a note (a re-struck, re-bowed or re-sung note of the same pitch), not
    the vibrato, tremolo, bow or breath changes that onset detection also reports in sustained tones.

    Three cues, measured on rendered repeated and sustained notes of six instruments: pyin's
    voicing confidence dips at a re-attack (plucked, struck, bowed), a sharp attack stands far
    above the recording's typical onset strength (clean recordings), or the loudness rises a lot
    after some loss of voicing confidence (sung notes). Vibrato alone meets none of them in a dry
    recording; in a reverberant, noisy one a sung or blown tone's vibrato dips the confidence too, so
    the first and last cue also need an onset 1.6x the typical strength (measured on Nottingham valid
    tunes and Bach chorales, not the benchmark's: noisy voice kept 14 of 841 false onsets instead of
    80, and 45 of 71 re-sung notes instead of 50)."""
    typical_strength = float(np.median(onset_env[onset_env > 0])) if np.any(onset_env > 0) else 1.0
    keep = []
    for frame in onsets.tolist():
        if frame < 2 * window:
            continue
        rise = rms[frame : frame + window + 1].max() / max(rms[frame - 2 * window : frame].min(), 1e-6)
        confidence_dip = voiced_prob[frame - 4 : frame + 3].min() / max(float(np.median(voiced_prob[frame - 15 : frame - 4])), 1e-3)
        strength = onset_env[frame] / typical_strength
        dipped = (rise >= 1.1 and confidence_dip <= REATTACK_CONFIDENCE_DIP) or (rise >= REATTACK_RISE and confidence_dip <= 0.97)
        if (dipped and strength >= REATTACK_MIN_STRENGTH) or (rise >= 1.05 and strength >= REATTACK_STRENGTH):
            keep.append(frame)
    return np.array(keep, dtype=int)


def _attack_starts(onsets: np.ndarray, onset_env: np.ndarray, max_back: int) -> np.ndarray:
    """Where each detected attack begins: the onset-strength minimum before its peak (the peak
    itself comes tens of ms after the note starts), but at most max_back frames before it, since
    in legato playing that minimum can lie inside the note before."""
    import librosa

    if not len(onsets):
        return onsets
    return np.maximum(librosa.onset.onset_backtrack(onsets, onset_env), onsets - max_back)


def _snap_to_attacks(rows: list, onsets: np.ndarray, reach: int, min_frames: int) -> list[list]:
    """Move each note's start back to the attack heard just before it. pyin reports a new pitch
    only once it dominates its frame (tens of ms late, more with slow attacks or reverb), while
    the onset detector hears the attack itself. The latest onset at most `reach` frames before
    (or 2 after) the start is taken, if the note before keeps at least min_frames. Rows come back
    as [start, end, pitch, velocity, attacked]."""
    snapped: list[list] = []
    for a, b, pitch, velocity in rows:
        floor = snapped[-1][0] + min_frames if snapped else 0
        candidates = onsets[(onsets >= max(a - reach, floor)) & (onsets <= a + 2)]
        start = int(candidates[-1]) if len(candidates) else a
        if snapped and snapped[-1][1] > start:
            snapped[-1][1] = start
        snapped.append([start, b, pitch, velocity, len(candidates) > 0])
    return snapped


def _merge_fragments(rows: list[list], max_frames: int) -> list[list]:
    """Join pieces shorter than max_frames that are not notes of their own: a wobble inside one
    note (A, short B, A again with no new attack), the glide into a note (a passing pitch between
    its neighbours, when the note after it has no attack of its own) and a sliver of the same pitch
    touching its neighbour (a note's tail or a double attack)."""
    merged: list[list] = []
    index = 0
    while index < len(rows):
        row = rows[index]
        after = rows[index + 1] if index + 1 < len(rows) else None
        before = merged[-1] if merged else None
        short = row[1] - row[0] < max_frames
        touches_after = after is not None and after[0] - row[1] <= TOUCH_FRAMES and not after[4]
        touches_before = before is not None and row[0] - before[1] <= TOUCH_FRAMES
        if short and touches_before and touches_after and before[2] == after[2]:
            before[1] = after[1]
            index += 1
        elif short and touches_after and (abs(after[2] - row[2]) <= SCOOP_SEMITONES
                                          or (touches_before and _between(row[2], before[2], after[2]))):
            after[0], after[4] = row[0], row[4]  # the note after starts where its glide or sliver did
        elif short and touches_before and before[2] == row[2]:
            before[1] = row[1]
        else:
            merged.append(row)
        index += 1
    return merged


def _between(pitch: int, low: int, high: int) -> bool:
    return min(low, high) < pitch < max(low, high)


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


def _note_onset_envelope(rows: list[list], frames: int) -> np.ndarray:
    """An onset envelope made of the transcribed notes' starts, weighted by velocity: the beat
    tracker then follows the melody's rhythm, not the vibrato and bow noise that the raw
    spectral-flux envelope of a sustained instrument is full of."""
    from scipy.ndimage import gaussian_filter1d

    envelope = np.zeros(frames)
    for start, _, _, velocity, _ in rows:
        envelope[min(start, frames - 1)] += velocity / 127
    return gaussian_filter1d(envelope, sigma=1.5)


def _beat_grid(onset_env: np.ndarray, sample_rate: int, hop: int) -> tuple[float, np.ndarray]:
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


@dataclass
class Transcription:
    """Notes heard in a recording, in performed time, with the recording's tempo and beats.

    ``notes`` rows are (onset seconds, offset seconds, MIDI pitch, velocity), in time order and not
    overlapping (monophonic)."""

    notes: np.ndarray
    qpm: float
    beat_times: np.ndarray
    duration_seconds: float
    name: str = ""

    def to_sequence(self, steps_per_quarter: int = 4) -> NoteSequence:
        """The notes on a beat grid at ``qpm``.

        The grid starts at the tracked beat at (or, by less than half a step, after) the start of
        the recording, so written at ``qpm`` the notes land at their performed times, shifted by
        less than one beat, assuming a steady tempo."""
        beats = seconds_to_beats(self.notes[:, :2].ravel(), self.beat_times).reshape(-1, 2)
        origin = np.floor(seconds_to_beats(np.array([0.0]), self.beat_times)[0] + 0.5 / steps_per_quarter)
        steps = np.maximum(0, np.round((beats - origin) * steps_per_quarter)).astype(np.int64)
        notes: list[list[int]] = []
        for (_, _, pitch, velocity), (start, end) in zip(self.notes.tolist(), steps.tolist()):
            if notes and start < notes[-1][3]:  # a note ends where the next one starts
                notes[-1][3] = max(notes[-1][2] + 1, start)
                start = max(start, notes[-1][3])
            notes.append([int(np.clip(pitch, 0, 127)), int(velocity), start, max(end, start + 1), 0])
        array = np.array(notes, dtype=np.int32)
        return NoteSequence(
            array,
            steps_per_quarter=steps_per_quarter,
            qpm=round(float(self.qpm), 1),
            time_signatures=[(0, 4, 4)],
            total_steps=int(array[:, 3].max()),
            name=self.name,
        )


def transcribe(audio: np.ndarray, sample_rate: int, name: str = "", on_progress=None) -> Transcription:
    """A monophonic transcription of mono audio; GenseqError (without a path) when nothing pitched is heard."""
    import librosa

    hop = max(1, round(0.0116 * sample_rate))  # about 11.6 ms (256 at 22.05 kHz)
    f0, voiced, voiced_prob = _track_pitch(audio, sample_rate, hop, on_progress)
    midi = np.where(voiced, librosa.hz_to_midi(np.where(voiced, f0, 440.0)), np.nan)
    onset_env = librosa.onset.onset_strength(y=audio, sr=sample_rate, hop_length=hop)
    rms = librosa.feature.rms(y=audio, frame_length=2048, hop_length=hop)[0]
    all_onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sample_rate, hop_length=hop, units="frames")
    short_rms = librosa.feature.rms(y=audio, frame_length=4 * hop, hop_length=hop)[0]
    onsets = _reattacks(all_onsets, onset_env, short_rms, voiced_prob, window=max(1, round(0.07 * sample_rate / hop)))

    min_frames = max(1, int(np.ceil(MIN_NOTE_SECONDS * sample_rate / hop)))
    rows = []
    for a, b in _segments(midi, voiced, onsets, min_frames, guard=max(min_frames, round(0.08 * sample_rate / hop))):
        if b - a < min_frames or float(np.mean(voiced_prob[a:b])) < MIN_VOICED_PROBABILITY:
            continue  # too short, or pyin barely believes it is pitched (noise gives about 0.01)
        pitch = int(np.round(np.nanmedian(midi[a:b])))
        loudness = float(np.sqrt(np.mean(rms[a : min(b, len(rms))] ** 2))) if a < len(rms) else 0.0
        db = 20 * np.log10(max(loudness, 1e-6))  # dBFS of the segment; -60 dB -> 1, about -3 dB -> 127
        velocity = int(np.clip(round(1 + 126 * (db + 60) / 57), 1, 127))
        rows.append((a, b, pitch, velocity, db))
    if rows:  # reverb tails and background far below the loudest note are not notes
        loudest = max(row[4] for row in rows)
        rows = [row[:4] for row in rows if row[4] >= loudest - QUIET_DB]
    if not rows:
        raise GenseqError("no pitched notes found (noise, percussion or speech?)")
    attacks = _attack_starts(all_onsets, onset_env, max_back=round(BACKTRACK_SECONDS * sample_rate / hop))
    rows = _snap_to_attacks(rows, attacks, reach=round(0.15 * sample_rate / hop), min_frames=min_frames)
    rows = _merge_fragments(rows, max_frames=round(FRAGMENT_SECONDS * sample_rate / hop))
    qpm, beat_times = _beat_grid(_note_onset_envelope(rows, len(onset_env)), sample_rate, hop)
    rows = [(a * hop / sample_rate, b * hop / sample_rate, pitch, velocity) for a, b, pitch, velocity, _ in rows]
    return Transcription(np.array(rows, dtype=np.float64), float(qpm), beat_times, len(audio) / sample_rate, name)


def transcribe_file(path: str | Path, sample_rate: int = 22050, on_progress=None) -> Transcription:
    """Load and transcribe a recording. ``on_progress(done_seconds, total_seconds)`` is called per block.
    Raises GenseqError for a missing, empty, undecodable, too long, silent or unpitched file."""
    path = Path(path)
    audio = load_audio(path, sample_rate)
    try:
        return transcribe(audio, sample_rate, path.stem, on_progress)
    except GenseqError as error:
        raise GenseqError(error.problem, path) from None


def transcribe_audio(path: str | Path, steps_per_quarter: int = 4, sample_rate: int = 22050, on_progress=None) -> NoteSequence:
    """A monophonic transcription of a recording as a NoteSequence on its own beat grid (see
    Transcription.to_sequence). Raises GenseqError as transcribe_file does."""
    return transcribe_file(path, sample_rate, on_progress).to_sequence(steps_per_quarter)
