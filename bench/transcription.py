"""Benchmark: monophonic transcription (genseq.music.audio) of rendered real melodies, beside basic-pitch.

Melody lines of real tunes (Nottingham test tunes: the top voice of their melody+chords track;
Bach chorale soprano lines) are cut to excerpts of at most --max-bars bars and --excerpt-seconds
seconds, given a seeded tempo from --tempo-range (every Nottingham file is at 120 qpm, so a fixed
tempo would hide an estimator stuck at 120), written as MIDI (the exact reference) and rendered
with fluidsynth and pretty_midi's General MIDI soundfont at 44.1 kHz on several instruments. The
"noisy" condition is the same renders through a synthetic room (exponentially decaying noise
impulse response, seeded RT60) plus pink noise at --snr-db.

Both transcribers are scored by genseq.music.transcription_eval.score_notes (mir_eval: onsets
within 50 ms, pitch within 50 cents, offsets ignored). F1 is pooled over all notes of a condition;
the mean per-file F1 is reported too. Speed is audio seconds per second of compute (decoding
included; a warm-up on a short tone first, so one-off JIT/graph compilation is not counted).
basic-pitch runs with its default parameters in one subprocess of its own virtualenv
(bench/setup_basic_pitch.sh), after genseq, so the two never share the cores. Run from the
repository root:

    .venv/bin/python bench/transcription.py [--quick | --limit N] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_write_text
from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, steps_per_bar

REPO = Path(__file__).resolve().parents[1]
NOTTINGHAM = REPO.parent / "shared" / "datasets" / "nottingham"
RESULT = REPO / "bench" / "results" / "transcription.json"
WORKER = REPO / "bench" / "basic_pitch_worker.py"
BASIC_PITCH_VENV = REPO / ".bench-venv" / "basic-pitch"

INSTRUMENTS = {"piano": 0, "flute": 73, "violin": 40, "voice": 53, "clarinet": 71, "trumpet": 56, "guitar": 24}
DEFAULT_INSTRUMENTS = ["piano", "flute", "violin", "voice", "clarinet"]
SAMPLE_RATE = 44100
STEPS_PER_QUARTER = 4
MIN_MELODY_NOTES = 8
DIRECT_TO_REVERB_DB = 3.0
TEMPO_TOLERANCE = 0.04  # MIREX-style: an estimate within 4 % of the reference (or of a metrical multiple)
OCTAVE_FACTORS = (2.0, 0.5)
OTHER_METRICAL_FACTORS = (3.0, 1 / 3, 1.5, 2 / 3)
TARGET_F1_CLEAN = 0.9
TARGET_REALTIME_FACTOR = 20.0
RENDER_VERSION = 1  # bump when rendering changes, so cached renders in a --work-dir are not reused


@dataclass
class Melody:
    name: str
    source: str
    sequence: NoteSequence
    qpm: float


@dataclass
class Render:
    name: str
    melody: Melody
    instrument: str
    condition: str  # "clean" or "noisy"
    midi: Path
    wav: Path
    settings: dict = field(default_factory=dict)  # the noise and room drawn for a noisy render


# ---------------------------------------------------------------- melodies


def melody_line(sequence: NoteSequence, name: str) -> NoteSequence:
    """The top voice of a sequence (MelodyEncoding's skyline), as a NoteSequence."""
    from genseq.music.encode import MelodyEncoding

    encoding = MelodyEncoding(sequence.steps_per_quarter)
    return encoding.to_sequence(encoding.values(sequence), sequence.qpm, sequence.time_signatures, name=name)


def nottingham_melodies(count: int, split: str = "test") -> list[tuple[str, NoteSequence]]:
    """Melody lines of `count` tunes spread evenly over the sorted files of a Nottingham split."""
    from genseq.music.midi import read_midi

    files = sorted((NOTTINGHAM / split).glob("*.mid"))
    if count and not files:
        raise GenseqError("Nottingham tunes not found (the ../shared datasets folder)", NOTTINGHAM / split)
    picks = np.unique(np.linspace(0, len(files) - 1, count).round().astype(int)) if count else []
    return [(f"nottingham-{files[i].stem}", melody_line(read_midi(files[i], STEPS_PER_QUARTER), files[i].stem)) for i in picks]


def chorale_melodies(count: int) -> list[tuple[str, NoteSequence]]:
    """Soprano lines of `count` Bach chorales spread over the corpus (music21; parsed once, then cached)."""
    if not count:
        return []
    from genseq.music.corpora import load_corpus

    chorales = load_corpus("bach-chorales", STEPS_PER_QUARTER, voices="soprano")
    picks = np.unique(np.linspace(0, len(chorales) - 1, count).round().astype(int))
    return [(chorales[i].name, melody_line(chorales[i], chorales[i].name)) for i in picks]


def excerpt(sequence: NoteSequence, qpm: float, max_seconds: float, max_bars: int) -> NoteSequence:
    """The first whole bars of a melody that last at most `max_seconds` at `qpm` (at least one bar)."""
    _, numerator, denominator = sequence.time_signatures[0]
    bar_steps = steps_per_bar(sequence.steps_per_quarter, numerator, denominator)
    bar_seconds = bar_steps * 60.0 / qpm / sequence.steps_per_quarter
    bars = max(1, min(max_bars, int(max_seconds // bar_seconds)))
    return sequence.sliced(0, min(sequence.total_steps, bars * bar_steps))


def choose_melodies(nottingham: int, chorales: int, tempo_range: tuple[float, float], max_seconds: float,
                    max_bars: int, seed: int) -> list[Melody]:
    """Excerpts of real melodies, each with its own seeded tempo; excerpts of under MIN_MELODY_NOTES notes are skipped."""
    rng = np.random.default_rng(seed)
    named = [(name, "nottingham", seq) for name, seq in nottingham_melodies(nottingham)]
    named += [(name, "chorale", seq) for name, seq in chorale_melodies(chorales)]
    melodies = []
    for name, source, sequence in named:
        qpm = round(float(rng.uniform(*tempo_range)), 1)
        cut = replace(excerpt(sequence, qpm, max_seconds, max_bars), qpm=qpm)
        if len(cut) >= MIN_MELODY_NOTES:
            melodies.append(Melody(name, source, cut, qpm))
        else:
            print(f"skipped {name}: {len(cut)} notes in its excerpt at {qpm} qpm")
    return melodies


# ---------------------------------------------------------------- rendering


def pink_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise with a 1/f power spectrum."""
    spectrum = rng.standard_normal(length // 2 + 1) + 1j * rng.standard_normal(length // 2 + 1)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1.0))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=length)
    return noise / np.sqrt(np.mean(noise**2))


def room_impulse(rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A direct impulse plus a noise tail decaying 60 dB over `rt60` s, DIRECT_TO_REVERB_DB below it."""
    length = max(2, int(rt60 * sample_rate))
    tail = rng.standard_normal(length) * np.exp(-6.908 * np.arange(length) / (rt60 * sample_rate))
    tail *= 10 ** (-DIRECT_TO_REVERB_DB / 20) / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0
    return tail


def degrade(audio: np.ndarray, sample_rate: int, rt60: float, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Audio in a reverberant room with pink background noise `snr_db` below its mean power, peak 0.9."""
    from scipy.signal import fftconvolve

    wet = fftconvolve(audio.astype(np.float64), room_impulse(rt60, sample_rate, rng))
    noise = pink_noise(len(wet), rng) * np.sqrt(np.mean(wet**2) / 10 ** (snr_db / 10))
    mixed = wet + noise
    return (mixed / np.abs(mixed).max() * 0.9).astype(np.float32)


def settings_key(melodies: list[Melody], instruments: list[str], noise: dict) -> str:
    """A short hash of everything that decides the renders (cached renders are reused only when it matches)."""
    described = [[m.name, m.qpm, m.sequence.notes.tolist(), m.sequence.total_steps] for m in melodies]
    text = json.dumps([RENDER_VERSION, SAMPLE_RATE, described, instruments, noise], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def render_all(melodies: list[Melody], instruments: list[str], folder: Path, noise: dict) -> list[Render]:
    """Clean and noisy WAVs of every melody on every instrument (files already in `folder` are reused)."""
    from genseq.music.midi import write_midi
    from genseq.music.render import synthesize, write_wav

    rng = np.random.default_rng(noise["seed"])
    renders = []
    for melody in melodies:
        for instrument in instruments:
            name = f"{melody.name}-{instrument}"
            midi = folder / "midi" / f"{name}.mid"
            clean = Render(name, melody, instrument, "clean", midi, folder / "clean" / f"{name}.wav")
            noisy = Render(name, melody, instrument, "noisy", midi, folder / "noisy" / f"{name}.wav",
                           {"rt60_seconds": round(float(rng.uniform(*noise["rt60_range"])), 3), "snr_db": noise["snr_db"]})
            file_rng = np.random.default_rng([noise["seed"], len(renders)])  # per file: reuse does not shift the stream
            if not (midi.is_file() and clean.wav.is_file() and noisy.wav.is_file()):
                write_midi(melody.sequence, midi, program=INSTRUMENTS[instrument], qpm=melody.qpm)
                audio = synthesize(midi, sample_rate=SAMPLE_RATE)
                write_wav(audio, clean.wav, SAMPLE_RATE)
                write_wav(degrade(audio, SAMPLE_RATE, noisy.settings["rt60_seconds"], noise["snr_db"], file_rng),
                          noisy.wav, SAMPLE_RATE)
            renders += [clean, noisy]
    return renders


# ---------------------------------------------------------------- transcribing


def warm_up_genseq() -> None:
    """Transcribe a short tone once, so numba's one-off compilation is not charged to the first file."""
    from genseq.music.audio import transcribe

    sample_rate = 22050
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(2 * sample_rate) / sample_rate)
    transcribe(tone.astype(np.float32), sample_rate)


def run_genseq(renders: list[Render], on_file=None) -> dict[Path, dict]:
    """Per WAV: genseq's notes (onset, offset, pitch, velocity), tempo, wall seconds (decoding included)
    and audio seconds; a GenseqError counts as no notes, with its reason."""
    from genseq.music.audio import transcribe_file

    warm_up_genseq()
    results = {}
    for done, render in enumerate(renders, 1):
        started = time.perf_counter()
        try:
            transcription = transcribe_file(render.wav)
            result = {"notes": transcription.notes, "qpm": transcription.qpm}
        except GenseqError as error:
            result = {"notes": np.zeros((0, 4)), "qpm": None, "problem": error.problem}
        result["seconds"] = time.perf_counter() - started
        result["audio_seconds"] = audio_seconds(render.wav)
        results[render.wav] = result
        if on_file is not None:
            on_file(done, len(renders))
    return results


def audio_seconds(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return info.frames / info.samplerate


class BasicPitchUnavailable(Exception):
    pass


def default_basic_pitch_python() -> Path | None:
    python = BASIC_PITCH_VENV / "bin" / "python"
    return python if python.is_file() else None


def run_basic_pitch(python: Path | None, wavs: list[Path], work_dir: Path) -> tuple[dict[Path, dict], dict]:
    """basic-pitch's notes and compute seconds per WAV, and facts about the run (versions, model load
    time), from one worker subprocess. BasicPitchUnavailable with the reason when it cannot run."""
    if python is None:
        raise BasicPitchUnavailable(f"no basic-pitch environment at {BASIC_PITCH_VENV.relative_to(REPO)}: "
                                    "run bench/setup_basic_pitch.sh, or pass --basic-pitch-python")
    if not Path(python).is_file():
        raise BasicPitchUnavailable(f"--basic-pitch-python {python} does not exist")
    inputs, output, log = work_dir / "basic_pitch_inputs.json", work_dir / "basic_pitch_outputs.json", work_dir / "basic_pitch.log"
    inputs.write_text(json.dumps([str(wav) for wav in wavs]))
    output.unlink(missing_ok=True)
    with log.open("w") as stderr:
        command = [str(python), str(WORKER), str(inputs), str(output)]
        code = subprocess.run(command, check=False, stdout=stderr, stderr=stderr).returncode
    if code != 0 or not output.is_file():
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise BasicPitchUnavailable(f"the basic-pitch worker failed (exit {code}): {tail[-400:]}")
    report = json.loads(output.read_text())
    per_file = {}
    for item in report.pop("files"):
        entry = {"notes": np.array(item.get("notes", []), dtype=np.float64).reshape(-1, 3), "seconds": item["seconds"]}
        if "error" in item:
            entry["problem"] = item["error"]
        per_file[Path(item["path"])] = entry
    return per_file, report


# ---------------------------------------------------------------- scoring


def octave_error_notes(reference: np.ndarray, estimated: np.ndarray) -> int:
    """Estimated notes that match a reference note once moved by an octave (up or down)."""
    from genseq.music.transcription_eval import score_notes

    count = 0
    for shift in (12, -12):
        moved = estimated.copy()
        moved[:, 2] += shift
        count += score_notes(reference, moved).matched
    return count


def score_file(reference: np.ndarray, estimate: dict) -> dict:
    from genseq.music.transcription_eval import score_notes

    notes = estimate["notes"]
    scores = score_notes(reference, notes)
    row = {"est": scores.estimated_notes, "matched": scores.matched, "f1": round(scores.f1, 4),
           "octave": octave_error_notes(reference, notes) if len(notes) else 0, "seconds": round(estimate["seconds"], 3)}
    if estimate.get("qpm") is not None:
        row["qpm"] = round(float(estimate["qpm"]), 2)
    if "problem" in estimate:
        row["problem"] = estimate["problem"]
    return row


def score_all(renders: list[Render], genseq: dict, basic_pitch: dict | None) -> list[dict]:
    """One row per render: the reference, genseq's scores and (when it ran) basic-pitch's."""
    from genseq.music.transcription_eval import reference_notes

    rows = []
    for render in renders:
        reference = reference_notes(render.midi)
        row = {"file": f"{render.condition}/{render.wav.name}", "condition": render.condition,
               "instrument": render.instrument, "source": render.melody.source, "ref_qpm": render.melody.qpm,
               "audio_seconds": round(genseq[render.wav]["audio_seconds"], 3), "ref": len(reference),
               "genseq": score_file(reference, genseq[render.wav])}
        if basic_pitch is not None:
            row["basic_pitch"] = score_file(reference, basic_pitch[render.wav])
        rows.append(row | render.settings)
    return rows


def tempo_level(estimated: float | None, reference: float) -> str:
    """'correct', 'octave' (x2 or /2), 'other_metrical' (x3, /3, x3/2, x2/3) or 'wrong' (no tempo counts as wrong)."""
    if not estimated:
        return "wrong"
    ratio = estimated / reference

    def near(factor: float) -> bool:
        return abs(ratio / factor - 1) <= TEMPO_TOLERANCE

    if near(1.0):
        return "correct"
    if any(map(near, OCTAVE_FACTORS)):
        return "octave"
    if any(map(near, OTHER_METRICAL_FACTORS)):
        return "other_metrical"
    return "wrong"


def tempo_summary(pairs: list[tuple[float | None, float]]) -> dict:
    """How often the estimated tempo is right, off by an octave, at another metrical level, or wrong."""
    levels = [tempo_level(est, ref) for est, ref in pairs]
    errors = [abs(est / ref - 1) * 100 for est, ref in pairs if est]
    correct_errors = [abs(est / ref - 1) * 100 for (est, ref), level in zip(pairs, levels) if level == "correct"]
    summary = {f"{level}_fraction": round(levels.count(level) / len(levels), 3)
               for level in ("correct", "octave", "other_metrical", "wrong")}
    summary["median_abs_error_pct"] = round(float(np.median(errors)), 2) if errors else None
    summary["median_abs_error_pct_when_correct"] = round(float(np.median(correct_errors)), 3) if correct_errors else None
    return summary


def note_summary(rows: list[dict], tool: str) -> dict:
    """Pooled precision/recall/F1, mean per-file F1, note-count ratios and octave errors of one tool."""
    from genseq.music.transcription_eval import NoteScores

    matched = sum(row[tool]["matched"] for row in rows)
    estimated = sum(row[tool]["est"] for row in rows)
    reference = sum(row["ref"] for row in rows)
    scores = NoteScores.from_counts(matched, reference, estimated)
    audio = sum(row["audio_seconds"] for row in rows)
    compute = sum(row[tool]["seconds"] for row in rows)
    return {
        "files": len(rows),
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "mean_file_f1": round(float(np.mean([row[tool]["f1"] for row in rows])), 4),
        "note_count_ratio": round(estimated / reference, 3) if reference else None,
        "median_file_note_count_ratio": round(float(np.median([row[tool]["est"] / row["ref"] for row in rows])), 3),
        "octave_error_notes_per_reference_note": round(sum(row[tool]["octave"] for row in rows) / reference, 4) if reference else None,
        "failed_files": sum("problem" in row[tool] for row in rows),
        "realtime_factor": round(audio / compute, 2) if compute else None,
    }


def summarize(rows: list[dict], with_basic_pitch: bool) -> dict:
    """genseq's (and basic-pitch's) figures for a group of rows."""
    summary = {"genseq": note_summary(rows, "genseq")}
    summary["genseq"]["tempo"] = tempo_summary([(row["genseq"].get("qpm"), row["ref_qpm"]) for row in rows])
    if with_basic_pitch:
        summary["basic_pitch"] = note_summary(rows, "basic_pitch")
        # basic-pitch writes every MIDI file at midi_tempo=120: what that constant scores as a tempo estimate
        summary["basic_pitch"]["tempo_of_its_fixed_120"] = tempo_summary([(120.0, row["ref_qpm"]) for row in rows])
    return summary


def breakdown(rows: list[dict], key: str, with_basic_pitch: bool) -> dict:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return {name: summarize(group, with_basic_pitch) for name, group in groups.items()}


def worst_files(rows: list[dict], count: int = 6) -> list[dict]:
    """genseq's lowest-F1 files: where to look when tuning."""
    ranked = sorted(rows, key=lambda row: row["genseq"]["f1"])[:count]
    return [{"file": row["file"], "ref_notes": row["ref"], "est_notes": row["genseq"]["est"], "matched": row["genseq"]["matched"],
             "octave_errors": row["genseq"]["octave"], "f1": row["genseq"]["f1"], "ref_qpm": row["ref_qpm"],
             "est_qpm": row["genseq"].get("qpm")} for row in ranked]


# ---------------------------------------------------------------- report


def print_table(condition: str, groups: dict[str, dict]) -> None:
    print(f"\n{condition}: note F1 pooled over notes (P/R), estimated/reference note count, tempo (genseq)")
    header = f"{'':10} {'files':>5}  {'genseq F1 (P/R)':>20} {'ratio':>6} {'tempo ok/oct/oth':>17}"
    with_bp = "basic_pitch" in next(iter(groups.values()))
    print(header + (f"  {'basic-pitch F1 (P/R)':>21} {'ratio':>6}" if with_bp else ""))
    for name, summary in groups.items():
        g, t = summary["genseq"], summary["genseq"]["tempo"]
        line = (f"{name:10} {g['files']:5d}  {g['f1']:.3f} ({g['precision']:.2f}/{g['recall']:.2f}) {g['note_count_ratio']:6.2f}"
                f"  {t['correct_fraction']:5.2f}/{t['octave_fraction']:.2f}/{t['other_metrical_fraction']:.2f}")
        if with_bp:
            b = summary["basic_pitch"]
            line += f"   {b['f1']:.3f} ({b['precision']:.2f}/{b['recall']:.2f})     {b['note_count_ratio']:6.2f}"
        print(line)


def relative(path: Path) -> str:
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)  # outside the working folder: keep it absolute


def command_line() -> str:
    return shlex.join([relative(Path(sys.executable)), *sys.argv])


def thread_settings() -> dict:
    import numba

    settings = {"numba_threads": numba.get_num_threads()}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        settings[name] = os.environ.get(name, "unset")
    return settings


def result_json(result: dict) -> str:
    """Indented JSON with one line per per-file row (240 indented rows would run to thousands of lines)."""
    rows = result.pop("per_file")
    text = json.dumps({**result, "per_file": "@ROWS@"}, indent=2)
    lines = ",\n    ".join(json.dumps(row) for row in rows)
    return text.replace('"@ROWS@"', f"[\n    {lines}\n  ]") + "\n"


def targets(f1_clean: float, realtime_factor: float, basic_pitch_f1: float | None) -> dict:
    return {
        "f1_clean_above": TARGET_F1_CLEAN,
        "realtime_factor_at_least": TARGET_REALTIME_FACTOR,
        "met": {
            "f1_clean": f1_clean > TARGET_F1_CLEAN,
            "above_basic_pitch": None if basic_pitch_f1 is None else f1_clean > basic_pitch_f1,
            "realtime_factor": realtime_factor >= TARGET_REALTIME_FACTOR,
        },
    }


def build_result(rows: list[dict], melodies: list[Melody], instruments: list[str], bp_info: dict, bp_reason: str | None,
                 settings: dict, machine: dict) -> dict:
    with_bp = bp_reason is None
    by_condition = breakdown(rows, "condition", with_bp)
    clean, noisy = by_condition["clean"], by_condition["noisy"]
    genseq_all = note_summary(rows, "genseq")
    bp_all = note_summary(rows, "basic_pitch") if with_bp else None
    bp_f1 = clean["basic_pitch"]["f1"] if with_bp else None
    rows_of = {condition: [row for row in rows if row["condition"] == condition] for condition in ("clean", "noisy")}
    return {
        "f1_clean": clean["genseq"]["f1"],
        "f1_noisy": noisy["genseq"]["f1"],
        "mean_file_f1_clean": clean["genseq"]["mean_file_f1"],
        "mean_file_f1_noisy": noisy["genseq"]["mean_file_f1"],
        "realtime_factor": genseq_all["realtime_factor"],
        "basic_pitch_f1": bp_f1,
        "basic_pitch_f1_noisy": noisy["basic_pitch"]["f1"] if with_bp else None,
        "basic_pitch_realtime_factor": bp_all["realtime_factor"] if with_bp else None,
        **({"basic_pitch_reason": bp_reason} if not with_bp else {}),
        "tempo_clean": clean["genseq"]["tempo"],
        "tempo_noisy": noisy["genseq"]["tempo"],
        "note_count_ratio_clean": clean["genseq"]["note_count_ratio"],
        "note_count_ratio_noisy": noisy["genseq"]["note_count_ratio"],
        "basic_pitch_note_count_ratio_clean": clean["basic_pitch"]["note_count_ratio"] if with_bp else None,
        "basic_pitch_note_count_ratio_noisy": noisy["basic_pitch"]["note_count_ratio"] if with_bp else None,
        "targets": targets(clean["genseq"]["f1"], genseq_all["realtime_factor"], bp_f1),
        "melodies": len(melodies),
        "melody_sources": {source: sum(m.source == source for m in melodies) for source in ("nottingham", "chorale")},
        "instruments": {name: INSTRUMENTS[name] for name in instruments},
        "renders_clean": len(rows_of["clean"]),
        "renders_noisy": len(rows_of["noisy"]),
        "reference_notes_clean": sum(row["ref"] for row in rows_of["clean"]),
        "audio_seconds": round(sum(row["audio_seconds"] for row in rows), 1),
        "by_condition": by_condition,
        "by_condition_and_instrument": {condition: breakdown(group, "instrument", with_bp) for condition, group in rows_of.items()},
        "genseq_worst_files": {condition: worst_files(group) for condition, group in rows_of.items()},
        "basic_pitch_run": bp_info,
        "scoring": "genseq.music.transcription_eval.score_notes (mir_eval match_notes: onset 50 ms, pitch 50 cents, "
                   "offsets ignored); F1 pooled over all notes of a condition; a failed file counts as no notes",
        "timing": "audio seconds / wall seconds of transcribe_file (decoding included) over the clean and noisy WAVs, "
                  "one process, after a warm-up on a 2 s tone; basic-pitch likewise in its own process, model load excluded",
        "settings": settings,
        "machine": machine,
        "command": command_line(),
        "per_file": rows,
    }


# ---------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nottingham", type=int, default=18, help="Nottingham test tunes (spread over the split)")
    parser.add_argument("--chorales", type=int, default=6, help="Bach chorale soprano lines (spread over the corpus)")
    parser.add_argument("--instruments", nargs="+", default=DEFAULT_INSTRUMENTS, choices=sorted(INSTRUMENTS))
    parser.add_argument("--excerpt-seconds", type=float, default=30.0)
    parser.add_argument("--max-bars", type=int, default=16)
    parser.add_argument("--tempo-range", type=float, nargs=2, default=(70.0, 160.0), metavar=("LOW", "HIGH"))
    parser.add_argument("--snr-db", type=float, default=20.0, help="pink noise level of the noisy condition")
    parser.add_argument("--rt60-range", type=float, nargs=2, default=(0.4, 1.0), metavar=("LOW", "HIGH"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="use only the first N melodies (a smoke run)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 tunes + 1 chorale, piano and flute, 12 s excerpts")
    parser.add_argument("--work-dir", type=Path, help="keep renders here and reuse them (default: a temporary folder)")
    parser.add_argument("--basic-pitch-python", type=Path, default=default_basic_pitch_python(),
                        help=f"python of a basic-pitch virtualenv (default: {BASIC_PITCH_VENV.relative_to(REPO)}/bin/python "
                             "if present)")
    parser.add_argument("--no-basic-pitch", action="store_true")
    parser.add_argument("--output", type=Path, help=f"result file (default: {RESULT.relative_to(REPO)} for a full run; "
                                                    "--quick/--limit runs write nothing unless given)")
    args = parser.parse_args(argv)
    if args.quick:
        args.nottingham, args.chorales, args.instruments, args.excerpt_seconds = 2, 1, ["piano", "flute"], 12.0
    if args.output is None and not (args.quick or args.limit):
        args.output = RESULT
    return args


def machine_facts() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2),
            "threads": thread_settings(), "python": platform.python_version()}


def transcriber_fingerprint() -> dict:
    """Which genseq transcription code is measured (it is tuned often; the module is imported once, here)."""
    from genseq.music import audio

    source = Path(audio.__file__).read_bytes()
    modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(Path(audio.__file__).stat().st_mtime))
    return {"module": "genseq/music/audio.py", "sha256": hashlib.sha256(source).hexdigest()[:16], "modified": modified}


def run(args: argparse.Namespace, work_dir: Path) -> dict:
    started = time.perf_counter()
    machine = machine_facts()
    fingerprint = transcriber_fingerprint()
    melodies = choose_melodies(args.nottingham, args.chorales, tuple(args.tempo_range), args.excerpt_seconds, args.max_bars, args.seed)
    melodies = melodies[: args.limit] if args.limit else melodies
    noise = {"seed": args.seed, "snr_db": args.snr_db, "rt60_range": list(args.rt60_range),
             "direct_to_reverb_db": DIRECT_TO_REVERB_DB, "noise": "pink"}
    folder = work_dir / f"renders-{settings_key(melodies, args.instruments, noise)}"
    renders = render_all(melodies, args.instruments, folder, noise)
    print(f"{len(melodies)} melodies x {len(args.instruments)} instruments: {len(renders)} WAVs (clean + noisy) in {folder} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)

    genseq = run_genseq(renders, on_file=lambda done, total: done % 20 == 0 and print(f"genseq: {done}/{total} files", flush=True))
    basic_pitch, bp_info, bp_reason = run_basic_pitch_or_reason(args, renders, work_dir)
    rows = score_all(renders, genseq, basic_pitch)
    machine["load_average_at_end"] = round(os.getloadavg()[0], 2)
    settings = {**{key: value for key, value in vars(args).items() if key not in ("output", "work_dir", "basic_pitch_python")},
                **noise, "sample_rate": SAMPLE_RATE, "render": "pretty_midi fluidsynth, bundled General MIDI soundfont",
                "total_seconds": round(time.perf_counter() - started, 1)}
    settings["basic_pitch_python"] = relative(args.basic_pitch_python) if args.basic_pitch_python else None
    settings["genseq_transcriber"] = fingerprint
    return build_result(rows, melodies, args.instruments, bp_info, bp_reason, settings, machine)


def run_basic_pitch_or_reason(args, renders: list[Render], work_dir: Path) -> tuple[dict | None, dict, str | None]:
    if args.no_basic_pitch:
        return None, {}, "skipped (--no-basic-pitch)"
    print("basic-pitch: one worker process over all files ...", flush=True)
    try:
        per_file, info = run_basic_pitch(args.basic_pitch_python, [render.wav for render in renders], work_dir)
    except BasicPitchUnavailable as exc:
        print(f"basic-pitch not run: {exc}")
        return None, {}, str(exc)
    return per_file, info, None


def report(result: dict) -> None:
    for condition, groups in result["by_condition_and_instrument"].items():
        print_table(condition, {**groups, "all": result["by_condition"][condition]})
    print(f"\ngenseq: F1 clean {result['f1_clean']}, noisy {result['f1_noisy']}; {result['realtime_factor']}x real time")
    if result["basic_pitch_f1"] is not None:
        print(f"basic-pitch: F1 clean {result['basic_pitch_f1']}, noisy {result['basic_pitch_f1_noisy']}; "
              f"{result['basic_pitch_realtime_factor']}x real time")
    else:
        print(f"basic-pitch: not run ({result['basic_pitch_reason']})")
    print(f"targets met: {result['targets']['met']}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        result = run(args, args.work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-transcription-") as folder:
            result = run(args, Path(folder))
    report(result)
    if args.output is not None:
        atomic_write_text(args.output, result_json(result))
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
