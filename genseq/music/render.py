"""Render notes to audio (fluidsynth with pretty_midi's bundled General MIDI soundfont) and to a
piano-roll picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError
from genseq.core.notes import END, PITCH, START, VELOCITY, NoteSequence, steps_per_bar

SAMPLE_RATE = 44100


def fluidsynth_problem() -> str | None:
    """Why fluidsynth cannot run here, or None when it can."""
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; it raises ImportError when libfluidsynth is missing too)
    except ImportError as exc:
        if "fluidsynth" in str(exc).lower() and "library" in str(exc).lower():
            return "the FluidSynth library is missing (Debian/Ubuntu: apt-get install libfluidsynth3)"
        return f"pyfluidsynth is not importable ({exc}); pip install pyfluidsynth"
    return None


def synthesize(midi_path: str | Path, allow_sine: bool = False, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Audio of a MIDI file, float32 in [-1, 1]."""
    from genseq.music.midi import load_pretty_midi

    midi = load_pretty_midi(midi_path)
    problem = fluidsynth_problem()
    if problem is None:
        audio = midi.fluidsynth(fs=sample_rate)
    elif allow_sine:
        audio = midi.synthesize(fs=sample_rate)
    else:
        raise GenseqError(f"cannot synthesise with fluidsynth: {problem}; or allow the plain sine synthesiser (--allow-sine)", midi_path)
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    return (audio / peak * 0.9 if peak > 0 else audio).astype(np.float32)


def write_wav(audio: np.ndarray, path: str | Path, sample_rate: int = SAMPLE_RATE) -> Path:
    import soundfile

    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), audio, sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)


def pianoroll_image(sequence: NoteSequence, pixels_per_step: int = 6, pixels_per_key: int = 4) -> np.ndarray:
    """A BGR image: time left to right, pitch bottom to top, bar lines, brightness by velocity."""
    notes = sequence.notes
    low, high = (int(notes[:, PITCH].min()) - 2, int(notes[:, PITCH].max()) + 2) if len(notes) else (58, 72)
    steps = max(1, sequence.total_steps)
    pixels_per_step = max(1, min(pixels_per_step, 4000 // steps))
    height, width = (high - low + 1) * pixels_per_key, steps * pixels_per_step
    image = np.full((height, width, 3), 250, dtype=np.uint8)
    for pitch in range(low, high + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):  # black keys get a faint band
            row = (high - pitch) * pixels_per_key
            image[row : row + pixels_per_key] = 238
    bar = steps_per_bar(sequence.steps_per_quarter, *sequence.time_signatures[0][1:])
    image[:, :: bar * pixels_per_step] = 200
    for pitch, velocity, start, end in notes[:, [PITCH, VELOCITY, START, END]].tolist():
        row = (high - pitch) * pixels_per_key
        shade = int(200 - 150 * velocity / 127)
        image[row + 1 : row + pixels_per_key, start * pixels_per_step + 1 : end * pixels_per_step] = (shade, shade // 2, 30)
    return image


def write_pianoroll_png(sequence: NoteSequence, path: str | Path) -> Path:
    import cv2

    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), pianoroll_image(sequence)):
            raise GenseqError("could not encode the piano-roll PNG", path)
    return Path(path)


def render_music(midi_path: str | Path, wav: str | Path | None, png: str | Path | None, allow_sine: bool = False) -> list[Path]:
    """WAV and/or piano-roll PNG of a MIDI file; returns the paths written."""
    from genseq.music.midi import read_midi

    written = []
    if png is not None:
        sequence = read_midi(midi_path, steps_per_quarter=4)
        written.append(write_pianoroll_png(sequence, png))
    if wav is not None:
        written.append(write_wav(synthesize(midi_path, allow_sine), wav))
    return written
