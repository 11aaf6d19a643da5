"""Benchmark: do dances made to a song move on its beats? (`genseq generate dance --music`)

Songs: Nottingham test tunes (../shared/datasets/nottingham/test) re-timed to tempos from 70 to 160
qpm and rendered with fluidsynth (genseq.music.render) on several General MIDI instruments: their beats
are known exactly (the MIDI tempo map); and "recordings": more tunes rendered to WAV whose beats come
from the beat tracker (genseq.music.beats.track_beats; no recording with sound is in ../shared), also
scored against their exact beats, plus --hard recordings: two renders the tracker alone mis-tempos
(tune 22 at 72 qpm tracked at 119, tune 26 at 190 qpm tracked at 127; found by tracking eight renders
at 60-190 qpm). Per song, one dance of --seconds from the bundled dance model:

- beat_align: the AIST++/FACT beat-alignment score (mean over kinematic beats of exp(-d^2 / 2 sigma^2),
  d in seconds to the nearest music beat, sigma = 0.1 s) of the dance made to the song;
- beat_align_shifted: the same dance against the song's beats moved by half a beat (chance);
- beat_align_unconditioned: the first of the sampled motions played as generated (no warp, no choice);
- recordings also: tracker_qpm (librosa's own tempo), danced_qpm (the tempo alternative the chosen
  motion danced to, SongBeats.for_dance), beat_align_tracker_tempo (the same motions fitted to the
  tracker's own beats, as before the alternatives) and beat_align_to_tracked_beats;

Bands (slow < 95 qpm, medium, fast > 125; the exact tempo) are reported for all songs and for the
MIDI songs (exact beats) and the recordings (tracked beats) apart.

and the dance-quality statistics (genseq.motion.evaluate) of the dances made to music and of those
made without, against the CMU clips. One song is also written as a full music video and checked:
H.264 + AAC, audio from the first frame, length within one frame of the song. Run from the repository
root (about 5 minutes on this machine with 12 songs of 30 s; it uses one thread):

    OMP_NUM_THREADS=1 .venv/bin/python bench/beat_alignment.py [--songs 9 --recordings 3 --seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.options import GenerateDanceOptions  # noqa: E402
from genseq.motion import beats as mb  # noqa: E402
from genseq.model.load import load_model  # noqa: E402
from genseq.motion.domain import DANCE, load_motion_clips  # noqa: E402
from genseq.motion.evaluate import compare_motion, real_reference, summarise  # noqa: E402
from genseq.motion.generate import default_dance_checkpoint  # noqa: E402
from genseq.motion.beats import resample  # noqa: E402
from genseq.compose.dance_to_music import (CANDIDATES, beats_for, best_fit, generate_and_render_to_music,  # noqa: E402
                                           sample_for_song, song_rate)
from genseq.music.beats import SongBeats, midi_beats, tempo_band, track_beats  # noqa: E402

SHARED = REPO.parent / "shared" / "datasets"
TUNES = SHARED / "nottingham" / "test"
CMU = SHARED / "cmu-dance-bvh"
RESULT = REPO / "bench" / "results" / "beat_alignment.json"
HARD = [(22, 72.0, 73), (26, 190.0, 56)]  # (tune, qpm, program) renders the plain tracker mis-tempos
PROGRAMS = {0: "piano", 24: "nylon guitar", 40: "violin", 73: "flute", 11: "vibraphone", 56: "trumpet"}
QUALITY_KEYS = ("min_window_speed_ratio", "median_window_speed_ratio", "frechet_kinetic", "diversity",
                "bone_length_error", "foot_sliding")


def retimed_song(source: Path, qpm: float, program: int, folder: Path) -> tuple[Path, Path]:
    """The tune at `qpm` (every time scaled) on one instrument: (MIDI, WAV through fluidsynth)."""
    import pretty_midi

    from genseq.music.render import synthesize, write_wav

    midi = pretty_midi.PrettyMIDI(str(source))
    factor = float(midi.get_tempo_changes()[1][0]) / qpm
    end = midi.get_end_time()
    midi.adjust_times(np.array([0.0, end]), np.array([0.0, end * factor]))
    for instrument in midi.instruments:
        instrument.program, instrument.is_drum = program, False
    stem = f"{source.stem}_{qpm:.0f}qpm_{program}"
    midi.write(str(folder / f"{stem}.mid"))
    wav = write_wav(synthesize(folder / f"{stem}.mid"), folder / f"{stem}.wav")
    return folder / f"{stem}.mid", wav


def scores(clip, beats: np.ndarray) -> dict:
    motion = mb.kinematic_beats(clip)
    return {"score": mb.beat_alignment(motion, beats), "shifted": mb.beat_alignment(motion, mb.half_beat_shifted(beats)),
            "motion_beats": int(len(motion))}


def one_song(loaded, name: str, kind: str, beats: SongBeats, exact: SongBeats, seconds: float, seed: int) -> tuple[dict, list]:
    seconds = min(seconds, beats.seconds)
    options = GenerateDanceOptions(seed=seed)
    started = time.perf_counter()
    sources = sample_for_song(loaded, None, seconds, options, candidates=CANDIDATES)
    chosen, danced = best_fit(sources, beats, seconds)
    source = sources[chosen]
    took = time.perf_counter() - started
    first = sources[0]  # the first sample as it was generated: a dance made without the song (no warp, no choice)
    plain = resample(first, np.arange(round(seconds * first.fps)) / first.fps)
    truth = exact.within(seconds).times
    to_music, without = scores(danced, truth), scores(plain, truth)
    row = {"song": name, "kind": kind, "qpm": round(exact.qpm, 1), "band": tempo_band(exact.qpm),
           "seconds": round(seconds, 2), "rate": round(song_rate(source, beats_for(source, beats)), 3),
           "beat_align": round(to_music["score"], 4), "beat_align_shifted": round(to_music["shifted"], 4),
           "beat_align_unconditioned": round(without["score"], 4), "motion_beats": to_music["motion_beats"],
           "music_beats": int(len(truth)), "generate_seconds": round(took, 1)}
    if kind == "recording":
        tracker = replace(beats.alternatives[0], alternatives=[])  # the tracker's own tempo and beats
        danced_to = beats_for(source, beats)
        row.update(tracker_qpm=round(tracker.qpm, 1), danced_qpm=round(danced_to.qpm, 1),
                   tempo_ratio=round(danced_to.qpm / exact.qpm, 3),
                   beat_align_to_tracked_beats=round(scores(danced, danced_to.within(seconds).times)["score"], 4),
                   beat_align_tracker_tempo=round(scores(best_fit(sources, tracker, seconds)[1], truth)["score"], 4))
    return row, [danced, plain]


def banded(rows: list[dict]) -> dict:
    return {band: {"songs": len(group), "beat_align": mean_of(group, "beat_align"),
                   "beat_align_shifted": mean_of(group, "beat_align_shifted"),
                   "beat_align_unconditioned": mean_of(group, "beat_align_unconditioned")}
            for band in ("slow", "medium", "fast") for group in [[r for r in rows if r["band"] == band]]}


def mean_of(rows: list[dict], key: str) -> float:
    return round(float(np.mean([r[key] for r in rows])), 4) if rows else float("nan")


def video_check(song_midi: Path, wav: Path, folder: Path, checkpoint: Path | None = None) -> dict:
    """Write a whole-song music video through the CLI path and check its streams by decoding."""
    from genseq.music.beats import audio_seconds

    out = folder / "music_video.mp4"
    options = GenerateDanceOptions(out=str(out), music=str(song_midi), preview=False,
                                   checkpoint=str(checkpoint) if checkpoint else None)
    started = time.perf_counter()
    generate_and_render_to_music(options)
    took = time.perf_counter() - started
    streams = probe_streams(out)
    song = audio_seconds(wav)
    return {"song": song_midi.name, "song_seconds": round(song, 3), **streams, "write_seconds": round(took, 1),
            "length_within_one_frame": abs(streams["video_seconds"] - song) <= 1 / 30 + 1e-6,
            "audio_from_first_frame": abs(streams["audio_start"]) < 1e-3 and abs(streams["video_start"]) < 1e-3}


def probe_streams(path: Path) -> dict:
    """Codecs and start times from ffmpeg's description; lengths by decoding (frames, audio samples)."""
    import re
    import subprocess

    from genseq.core.ffmpeg import ffmpeg_exe

    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    video = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v", "-f", "null", "-"],
                           capture_output=True, text=True).stderr
    frames = int(re.findall(r"frame=\s*(\d+)", video)[-1])
    audio = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "44100",
                            "-f", "s16le", "-"], capture_output=True).stdout
    timing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a", "-af", "ashowinfo",
                             "-frames:a", "1", "-f", "null", "-"], capture_output=True, text=True).stderr
    start = re.search(r"pts_time:\s*([-\d.]+)", timing)
    return {"video_codec": "h264" if "Video: h264" in text else "?", "audio_codec": "aac" if "Audio: aac" in text else "?",
            "pix_fmt": "yuv420p" if "yuv420p" in text else "?", "video_frames": frames, "video_seconds": round(frames / 30, 4),
            "audio_seconds": round(len(audio) / 2 / 44100, 4), "audio_start": float(start.group(1)) if start else float("nan"),
            "video_start": 0.0 if "start: 0.000000" in text else float("nan")}


def quality(dances: list, real) -> dict:
    result = compare_motion(summarise(dances), real)
    return {key: round(float(result[key]), 4) for key in QUALITY_KEYS}


def command_line() -> str:
    return shlex.join([os.path.relpath(sys.executable), *sys.argv])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=9, help="tunes with exact beats")
    parser.add_argument("--recordings", type=int, default=6, help="tunes whose beats come from the tracker")
    parser.add_argument("--no-hard", action="store_true", help="without the two renders the plain tracker mis-tempos")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--checkpoint", type=Path, default=None, help="dance model (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--only-band", choices=("slow", "medium", "fast"), default=None,
                        help="exploring: only the songs of one tempo band (prints rows, writes no report)")
    args = parser.parse_args()
    if not TUNES.is_dir() or not CMU.is_dir():
        sys.exit(f"needs {TUNES} and {CMU} (../shared is absent)")
    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    loaded = load_model(args.checkpoint or default_dance_checkpoint(), DANCE, "cpu")
    real = summarise(load_motion_clips(CMU, loaded.representation.fps))
    tunes = sorted(TUNES.glob("*.mid"))
    total = args.songs + args.recordings
    tempos = np.linspace(70, 160, total)
    programs = list(PROGRAMS)
    recordings = set(np.round(np.linspace(1, total - 2, args.recordings)).astype(int).tolist()) if args.recordings else set()
    plan = [(index, float(tempos[index]), programs[index % len(programs)], index in recordings) for index in range(total)]
    plan += [] if args.no_hard else [(index, qpm, program, True) for index, qpm, program in HARD]
    rows, music_dances, plain_dances = [], [], []
    with tempfile.TemporaryDirectory(prefix="beat-bench-") as folder:
        for index, qpm, program, recording in plan:
            if args.only_band and tempo_band(qpm) != args.only_band:
                continue
            midi, wav = retimed_song(tunes[index], qpm, program, Path(folder))
            exact = midi_beats(midi)
            exact = SongBeats(exact.times, exact.qpm, len(_audio(wav)) / 22050, exact.source)
            beats = track_beats(_audio(wav), 22050, str(wav)) if recording else exact
            row, (danced, plain) = one_song(loaded, midi.name, "recording" if recording else "midi", beats, exact,
                                            args.seconds, args.seed + index)
            row["instrument"] = PROGRAMS[program]
            rows.append(row)
            music_dances.append(danced), plain_dances.append(plain)
            print(json.dumps(row), flush=True)
        video = None if args.no_video else video_check(*retimed_song(tunes[0], 100.0, 0, Path(folder)), Path(folder),
                                                                args.checkpoint)
    if args.only_band:
        for kind in ("midi", "recording"):
            print(kind, json.dumps(banded([r for r in rows if r["kind"] == kind])[args.only_band]))
        return
    bands = banded(rows)
    by_kind = {kind: banded([r for r in rows if r["kind"] == kind]) for kind in ("midi", "recording")}
    recorded = [r for r in rows if r["kind"] == "recording"]
    result = {
        "beat_align": mean_of(rows, "beat_align"), "beat_align_shifted": mean_of(rows, "beat_align_shifted"),
        "beat_align_unconditioned": mean_of(rows, "beat_align_unconditioned"), "bands": bands,
        "bands_exact_beats": by_kind["midi"], "bands_tracked_beats": by_kind["recording"],
        "recordings_tracker_tempo": {"beat_align": mean_of(recorded, "beat_align"),
                                     "beat_align_tracker_tempo": mean_of(recorded, "beat_align_tracker_tempo")},
        "targets": {"beat_align_at_least_0.70": mean_of(rows, "beat_align") >= 0.70,
                    "every_band_at_least_0.70 (exact and tracked apart)": all(
                        b["beat_align"] >= 0.70 for kind in by_kind.values() for b in kind.values() if b["songs"]),
                    "every_band_0.15_above_shifted": all(b["beat_align"] - b["beat_align_shifted"] >= 0.15
                                                        for kind in by_kind.values() for b in kind.values() if b["songs"])},
        "quality_to_music": quality(music_dances, real), "quality_unconditioned": quality(plain_dances, real),
        "quality_real": {key: round(float(value), 4) for key, value in real_reference(real).items()},
        "video": video, "sigma_seconds": mb.SIGMA_SECONDS, "max_warp": mb.MAX_WARP, "songs": rows,
        "method": f"sample {CANDIDATES} motions, find their kinematic beats, time-warp each (PCHIP) so they land on the song's beats "
                  "(dynamic programming over assignments, play rate within target/1.4..target*1.4, "
                  "target = clip(song beats per second / the dance's own kinematic beats per second, 0.55, 1.5)); "
                  "and keep the best aligned; no retraining",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f} at the start",
        "threads": "torch.set_num_threads(1); run with OMP_NUM_THREADS=1 as the docstring says",
        "command": command_line(),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("beat_align", "beat_align_shifted", "beat_align_unconditioned", "bands",
                                             "bands_exact_beats", "bands_tracked_beats", "recordings_tracker_tempo",
                                             "targets", "quality_to_music", "quality_unconditioned", "quality_real", "video")}, indent=1))
    print(f"wrote {args.out}")


def _audio(wav: Path) -> np.ndarray:
    from genseq.music.audio import load_audio

    return load_audio(wav, 22050)


if __name__ == "__main__":
    main()
