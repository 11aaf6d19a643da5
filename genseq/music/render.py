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
    """Audio of a MIDI file, float32 mono at -14 LUFS, true peaks under -1 dBTP."""
    from genseq.music.midi import load_pretty_midi

    midi = load_pretty_midi(midi_path)
    problem = fluidsynth_problem()
    if problem is None:
        audio = fluidsynth_mix(midi, sample_rate)
    elif allow_sine:
        audio = midi.synthesize(fs=sample_rate)
    else:
        raise GenseqError(f"cannot synthesise with fluidsynth: {problem}; or allow the plain sine synthesiser (--allow-sine)", midi_path)
    return platform_loudness(audio, sample_rate)


def platform_loudness(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Audio at the loudness the platforms play (-14 LUFS) with true peaks under -1 dBTP (genseq/core/loudness.py),
    float32 mono: a melody needs no further gain before it goes out (a plain peak normalisation to -0.9 dBFS
    left intersample peaks above -1 dBTP and quiet tunes quiet)."""
    from genseq.core.loudness import normalise_loudness

    if not len(audio):
        return np.zeros(0, dtype=np.float32)
    peak = float(np.abs(audio).max())
    scaled = np.asarray(audio, dtype=np.float64) / (peak if peak > 0 else 1.0)  # fluidsynth's int mix as [-1, 1] first
    return normalise_loudness(scaled.astype(np.float32), sample_rate)[:, 0]


FRAMES_PER_WRITE = 4096
TAIL_SECONDS = 1.0  # rendered after the last event, as pretty_midi does: the release and reverb die away


def fluidsynth_mix(midi, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The sum of the instruments' left channels, int32: what pretty_midi's PrettyMIDI.fluidsynth renders
    (one synthesiser with its settings and bundled soundfont, each instrument on channel 0 or drums on 9, in
    turn, until 1 s after its last event), unnormalised. pretty_midi copies every event's samples through
    several temporary arrays and mixes in float64 (~250 MB of allocations for 2 minutes of audio); here
    fluidsynth writes into one small buffer that is added into the mix: the same audio, with no page faults
    after the first job and less memory traffic (the synthesiser itself, ~0.3 s per 2 minutes, is most of
    the time either way)."""
    from pretty_midi.fluidsynth import get_fluidsynth_instance

    instruments = [instrument for instrument in midi.instruments if instrument.notes]
    if not instruments:
        return np.zeros(0, dtype=np.int32)
    synth, sfid, _ = get_fluidsynth_instance(None, 0, sample_rate)
    try:
        events = [instrument_events(instrument) for instrument in instruments]
        spans = [event_spans(timed, sample_rate) for timed in events]
        mix = np.zeros(max(length for _, length in spans), np.int32)
        stereo = np.empty(2 * FRAMES_PER_WRITE, np.int16)
        for instrument, timed, (bounds, _) in zip(instruments, events, spans):
            channel = select_program(synth, sfid, instrument)
            for (_, kind, *values), (start, end) in zip(timed, bounds):
                getattr(synth, kind)(channel, *values)
                write_frames(synth, mix, start, end, stereo)
    finally:
        synth.delete()
    return mix


def instrument_events(instrument) -> list[tuple]:
    """(seconds, Synth method, values ...) in pretty_midi's order: by time, note-offs first among equals."""
    events = []
    for note in instrument.notes:
        events += [(note.start, "noteon", note.pitch, note.velocity), (note.end, "noteoff", note.pitch)]
    events += [(bend.time, "pitch_bend", bend.pitch) for bend in instrument.pitch_bends]
    events += [(change.time, "cc", change.number, change.value) for change in instrument.control_changes]
    return sorted(events, key=lambda event: (event[0], event[1] != "noteoff"))


def event_spans(timed: list[tuple], sample_rate: int) -> tuple[list[tuple[int, int]], int]:
    """The [start, end) samples rendered after each event, and the instrument's length in samples, with
    pretty_midi's arithmetic: times built up gap by gap and the length from numpy's sum of the gaps. Its
    rounding then matches sample for sample, and so does the audio (an event one sample later can fall
    into fluidsynth's next 64-frame block)."""
    gaps = [after[0] - event[0] for event, after in zip(timed, timed[1:])] + [TAIL_SECONDS]
    now, bounds = timed[0][0], []
    for gap in gaps:
        bounds.append((int(sample_rate * now), int(sample_rate * (now + gap))))
        now += gap
    return bounds, int(np.ceil(sample_rate * (timed[0][0] + np.sum(gaps))))


def select_program(synth, sfid: int, instrument) -> int:
    """The channel the instrument plays on, with its program selected (drums: bank 128, else preset 0)."""
    if not instrument.is_drum:
        synth.program_select(0, sfid, 0, instrument.program)
        return 0
    if synth.program_select(9, sfid, 128, instrument.program) == -1:
        synth.program_select(9, sfid, 128, 0)
    return 9


def write_frames(synth, mix: np.ndarray, start: int, end: int, stereo: np.ndarray) -> None:
    """Render frames [start, end) and add their left channel into mix."""
    import fluidsynth

    buffer = stereo.ctypes.data
    for position in range(start, end, FRAMES_PER_WRITE):
        count = min(FRAMES_PER_WRITE, end - position)
        fluidsynth.fluid_synth_write_s16(synth.synth, count, buffer, 0, 2, buffer, 1, 2)
        mix[position : position + count] += stereo[: 2 * count : 2]


def write_wav(audio: np.ndarray, path: str | Path, sample_rate: int = SAMPLE_RATE) -> Path:
    import soundfile

    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), audio, sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)


def write_wav_of_midi(midi_path: str | Path, allow_sine: bool = False) -> Path:
    """The MIDI file synthesised into a WAV beside it (same name, .wav)."""
    midi_path = Path(midi_path)
    return write_wav(synthesize(midi_path, allow_sine), midi_path.with_suffix(".wav"))


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


def render_midi(midi_path: str | Path, wav: str | Path | None, png: str | Path | None, allow_sine: bool = False) -> list[Path]:
    """WAV and/or piano-roll PNG of a MIDI file; returns the paths written."""
    from genseq.music.midi import read_midi

    written = []
    if png is not None:
        sequence = read_midi(midi_path, steps_per_quarter=4)
        written.append(write_pianoroll_png(sequence, png))
    if wav is not None:
        written.append(write_wav(synthesize(midi_path, allow_sine), wav))
    return written


def render_music(options) -> list[Path]:
    """`genseq render music`: the WAV and PNG (default: beside the MIDI), both outputs checked first.
    A WAV is written as WAV data, so its name must end in .wav."""
    from genseq.core.atomic import atomic_outputs, check_output_paths

    midi = Path(options.midi)
    wav, png = Path(options.wav or midi.with_suffix(".wav")), Path(options.png or midi.with_suffix(".png"))
    if wav.suffix.lower() != ".wav":
        raise GenseqError("the audio output is WAV data: give a name ending in .wav", wav)
    if png.suffix.lower() != ".png":
        raise GenseqError("the picture output is a PNG: give a name ending in .png", png)
    if not midi.is_file():
        raise GenseqError("no such MIDI file" if not midi.exists() else "is not a file", midi)
    check_output_paths(wav, png)
    with atomic_outputs() as group:  # both appear, or neither
        render_midi(midi, group.path(wav), group.path(png), options.allow_sine)
    return [png, wav]
