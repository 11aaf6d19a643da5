"""Pose extraction speed: genseq's extract_video against a bare decode + mediapipe loop.

For each video, alternately (to spread the machine's noise over both):
  bare:   cv2.VideoCapture read -> BGR to RGB -> mediapipe Pose.process, one frame after another,
          nothing kept (same Pose settings as genseq: model_complexity=1, smooth_landmarks=False);
  genseq: extract_video (decoding on a background thread, landmarks to arrays, gap filling,
          One Euro smoothing, a MotionClip).
Both timings include opening the file and creating the Pose graph. Medians over --repeats runs
(the machine may be busy: the JSON also keeps every run, the fastest-run ratio and CPU time per frame).
Writes bench/results/pose_extract.json: the top-level figures are for the first video.

    .venv/bin/python bench/pose_extract.py [--repeats 5] [--out bench/results/pose_extract.json] [VIDEO ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIDEOS = REPO.parent / "shared" / "datasets" / "video"
DEFAULT_VIDEOS = [VIDEOS / "carphone.mp4", VIDEOS / "bikes.mp4"]


def bare_loop(path: Path) -> int:
    """Decode and run mediapipe on every frame, keeping nothing; returns the frame count."""
    import cv2
    import mediapipe as mp

    capture = cv2.VideoCapture(str(path))
    frames = 0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False) as pose:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            frames += 1
    capture.release()
    return frames


def genseq_extract(path: Path) -> int:
    from genseq.motion.video import extract_video

    return extract_video(path).num_frames


def timed(run, path: Path) -> tuple[float, float, int]:
    """Wall-clock seconds, CPU seconds of this process (all its threads) and frames of one run."""
    start, cpu_start = time.perf_counter(), time.process_time()
    frames = run(path)
    return time.perf_counter() - start, time.process_time() - cpu_start, frames


def bench_video(path: Path, repeats: int) -> dict:
    import cv2

    capture = cv2.VideoCapture(str(path))
    video_fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    seconds = {"bare": [], "genseq": []}
    cpu_seconds = {"bare": [], "genseq": []}
    frames = {}
    for repeat in range(repeats):
        order = ["bare", "genseq"] if repeat % 2 == 0 else ["genseq", "bare"]
        for name in order:
            elapsed, cpu, frames[name] = timed(bare_loop if name == "bare" else genseq_extract, path)
            seconds[name].append(round(elapsed, 4))
            cpu_seconds[name].append(round(cpu, 4))
            print(f"{path.name} run {repeat + 1}/{repeats} {name:6s} {frames[name]} frames {elapsed:.2f} s", flush=True)
    if frames["bare"] != frames["genseq"]:
        raise SystemExit(f"{path}: frame counts differ (bare {frames['bare']}, genseq {frames['genseq']})")
    fps = frames["genseq"] / statistics.median(seconds["genseq"])
    bare_fps = frames["bare"] / statistics.median(seconds["bare"])
    return {
        "video": path.name,
        "frames": frames["genseq"],
        "video_fps": round(video_fps, 3),
        "fps": round(fps, 2),
        "bare_loop_fps": round(bare_fps, 2),
        "ratio_vs_bare_loop": round(fps / bare_fps, 3),
        "realtime_factor": round(fps / video_fps, 3),
        "bare_realtime_factor": round(bare_fps / video_fps, 3),
        "ratio_vs_bare_loop_fastest_runs": round(min(seconds["bare"]) / min(seconds["genseq"]), 3),
        "cpu_ms_per_frame": round(statistics.median(cpu_seconds["genseq"]) / frames["genseq"] * 1000, 2),
        "bare_loop_cpu_ms_per_frame": round(statistics.median(cpu_seconds["bare"]) / frames["bare"] * 1000, 2),
        "seconds_genseq": seconds["genseq"],
        "seconds_bare_loop": seconds["bare"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=DEFAULT_VIDEOS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pose_extract.json")
    args = parser.parse_args()
    missing = [str(v) for v in args.videos if not v.is_file()]
    if missing:
        raise SystemExit(f"videos not found: {', '.join(missing)}")

    from genseq.core.atomic import atomic_write_text

    load_before = os.getloadavg()
    print(f"warm-up (untimed): {timed(bare_loop, args.videos[0])[2]} frames", flush=True)
    per_video = [bench_video(path, args.repeats) for path in args.videos]
    first = per_video[0]
    result = {
        "fps": first["fps"],
        "bare_loop_fps": first["bare_loop_fps"],
        "ratio_vs_bare_loop": first["ratio_vs_bare_loop"],
        "realtime_factor": first["realtime_factor"],
        "video": first["video"],
        "per_video": per_video,
        "repeats": args.repeats,
        "statistic": "median over repeats, order alternated between runs; first video's figures at the top; "
                     "*_fastest_runs: from the fastest run of each; cpu_ms: process CPU time (all threads) per frame",
        "machine": {"cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version()},
        "command": shlex.join(sys.orig_argv),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("fps", "bare_loop_fps", "ratio_vs_bare_loop", "realtime_factor", "video")}))
    for row in per_video[1:]:
        print(json.dumps({k: row[k] for k in ("video", "fps", "bare_loop_fps", "ratio_vs_bare_loop", "realtime_factor")}))
    print(json.dumps({row["video"]: {k: row[k] for k in ("ratio_vs_bare_loop_fastest_runs", "cpu_ms_per_frame",
                                                         "bare_loop_cpu_ms_per_frame")} for row in per_video}))


if __name__ == "__main__":
    main()
