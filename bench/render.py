"""Benchmark: dance video rendering speed (drawing alone, and drawing + H.264 encoding), for each
style: the shaded figure (the default) and the stick skeleton (the baseline, measured in the same run).

Renders FRAMES frames at SIZE x SIZE from a real CMU dance clip (read_bvh; repeated if it
is shorter), or from a synthetic clip when ../shared is absent, and writes the figures to
bench/results/render.json. Each style is timed --repeats times, alternating, and its best run kept
(other jobs share this machine's cores). Run from the repository root:

    .venv/bin/python bench/render.py [--frames 600 --size 512 --camera follow --repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_write_text
from genseq.core.motion import MotionClip
from genseq.motion.bvh import read_bvh
from genseq.motion.render import FIGURE_PRESET, X264_PRESET, ffmpeg_exe, picture_frames, render_video
from genseq.motion.skeleton import INDEX, LANDMARKS

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "datasets" / "cmu-dance-bvh" / "salsa" / "09.bvh"
RESULT = REPO / "bench" / "results" / "render.json"


def exactly(clip: MotionClip, frames: int) -> MotionClip:
    """The clip cut, or repeated from the start, to exactly `frames` frames."""
    take = np.arange(frames) % clip.num_frames
    return MotionClip(clip.positions[take], clip.valid[take], clip.fps, clip.joint_names, None, clip.name)


def synthetic_clip(frames: int) -> MotionClip:
    """A standing skeleton swaying and waving, for machines without the CMU data."""
    rest = {"left_shoulder": (0.18, 0.5), "right_shoulder": (-0.18, 0.5), "left_elbow": (0.25, 0.25),
            "right_elbow": (-0.25, 0.25), "left_wrist": (0.28, 0.0), "right_wrist": (-0.28, 0.0),
            "left_hip": (0.1, 0.0), "right_hip": (-0.1, 0.0), "left_knee": (0.11, -0.42), "right_knee": (-0.11, -0.42),
            "left_ankle": (0.12, -0.85), "right_ankle": (-0.12, -0.85)}
    positions = np.zeros((frames, len(LANDMARKS), 3), dtype=np.float32)
    valid = np.zeros((frames, len(LANDMARKS)), dtype=bool)
    phase = np.linspace(0, 8 * np.pi, frames)
    for name, (x, y) in rest.items():
        positions[:, INDEX[name], :2] = (x, y)
        valid[:, INDEX[name]] = True
    positions[:, [INDEX["left_wrist"], INDEX["right_wrist"]], 1] += 0.5 * (1 + np.sin(phase))[:, None]
    positions[:, :, 0] += 0.3 * np.sin(phase / 4)[:, None]
    return MotionClip(positions, valid, 30.0, list(LANDMARKS), None, "synthetic")


def probe(path: Path) -> str:
    """The video stream line of ffmpeg's description of `path`."""
    info = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return next((line.strip() for line in info.splitlines() if "Video:" in line), "")


def command_line() -> str:
    python = Path(sys.executable)
    try:
        python = python.relative_to(Path.cwd())
    except ValueError:
        pass  # outside the working folder: keep the absolute path
    return shlex.join([str(python), *sys.argv])


def measure(clip: MotionClip, style: str, size: int, camera: str, preset: str) -> dict:
    """One timing of drawing alone and of the full render_video, for one style."""
    started = time.perf_counter()
    drawn = sum(1 for _ in picture_frames(clip, size, camera, style))  # as render_video draws
    draw_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.mp4"
        started = time.perf_counter()
        render_video(clip, out, size=size, camera=camera, preset=preset, style=style)
        encode_seconds = time.perf_counter() - started
        stream, megabytes = probe(out), out.stat().st_size / 1e6
    return {"fps": round(clip.num_frames / encode_seconds, 1), "draw_only_fps": round(drawn / draw_seconds, 1),
            "codec": "h264" if "Video: h264" in stream else stream, "pix_fmt": "yuv420p" if "yuv420p" in stream else "?",
            "preset": preset, "seconds": round(encode_seconds, 3), "megabytes": round(megabytes, 2), "stream": stream}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--camera", default="follow", choices=["follow", "fixed"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]

    if CLIP.is_file():
        source = f"{CLIP.parent.name}/{CLIP.name} via read_bvh at 30 fps"
        started = time.perf_counter()
        clip = read_bvh(CLIP, fps=30)
        print(f"read {source}: {clip.num_frames} frames in {time.perf_counter() - started:.2f} s")
    else:
        source = "synthetic (the CMU data in ../shared is absent)"
        print(f"note: {CLIP} not found; benchmarking a synthetic clip instead")
        clip = synthetic_clip(args.frames)
    clip = exactly(clip, args.frames)

    presets = {"figure": FIGURE_PRESET, "stick": X264_PRESET}
    runs = {style: [] for style in presets}
    for style, preset in presets.items():  # imports and first calls out of the timings
        measure(exactly(clip, 10), style, args.size, args.camera, preset)
    for _ in range(args.repeats):
        for style, preset in presets.items():
            runs[style].append(measure(clip, style, args.size, args.camera, preset))
    styles = {style: max(found, key=lambda r: r["fps"]) | {"all_fps": [r["fps"] for r in found]}
              for style, found in runs.items()}
    figure, stick = styles["figure"], styles["stick"]
    result = {
        "fps": figure["fps"], "draw_only_fps": figure["draw_only_fps"], "style": "figure",
        "stick_fps": stick["fps"], "stick_draw_only_fps": stick["draw_only_fps"],
        "figure_over_stick": round(figure["fps"] / stick["fps"], 3),
        "target_200_fps": figure["fps"] >= 200,
        "frames": args.frames, "size": args.size, "camera": args.camera, "styles": styles, "clip": source,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f} at the start "
                   "(other jobs share these cores: figures vary run to run)",
        "command": command_line(),
    }
    for style, found in styles.items():
        print(f"{style}: drawing only {found['draw_only_fps']} frames/s; drawing + H.264 encoding (render_video, "
              f"preset {found['preset']}): {found['fps']} frames/s ({found['megabytes']} MB); runs {found['all_fps']}")
    atomic_write_text(RESULT, json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
