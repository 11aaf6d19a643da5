"""Live play and streams (issue 21): how fast a step is, whether answers are ready and on time,
how steady a long stream is, and whether an answer stays with its call.

- step latency p50/p99 at batch 1 on one thread (melody, piano roll), beside the bare model forward;
- `--calls` calls at random tempos in 60-200 qpm through the engine on a fast-forward clock (real
  compute, no waiting): end of call to answer ready, and the fraction ready for its bar line;
- `--realtime-calls` calls through the real loop on the system clock, in-process ports stamping
  each message as it arrives: the first answer note's error against its bar-line time, and every
  answer note's jitter against its grid time;
- a `--hours` stream per model (fast-forward clock, frozen heap, ordinary scheduling: a compute-bound
  loop must not hold a core at real-time priority for minutes): memory growth per hour (linear fit of the
  resident set), the last hour's p99 step over the first's, and the aged session against a fresh
  one step for step in the same minute (the machine's changing load cancels out);
- the endless dance in real time for `--dance-seconds` (MJPEG page on): dropped (late) frames;
- answers to held-out Nottingham tunes (first 4 bars the call, the next 4 the real answer): scale
  consistency in the call's key, notes per bar and groove, |mean difference| / sd of the real ones.

    OMP_NUM_THREADS=1 python bench/live.py [--hours 8] [--calls 200] [--realtime-calls 20] [--out bench/results/live.json]
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
import threading
import time
from pathlib import Path

import mido
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.options import SamplingOptions  # noqa: E402
from genseq.live.clock import FastForwardClock, SystemClock  # noqa: E402
from genseq.live.engine import CallAndResponse, EngineSettings, closest_to_call  # noqa: E402
from genseq.live.memory_ports import MemoryInput, MemoryOutput  # noqa: E402
from genseq.live.player import NotePlayer, is_note_on  # noqa: E402
from genseq.live.runner import run_live  # noqa: E402
from genseq.live.session import StepSession, load_music_model  # noqa: E402
from genseq.live.stream import stream_music  # noqa: E402

NOTTINGHAM = REPO.parent / "shared" / "datasets" / "nottingham" / "test"
TARGETS = {"answer_on_time_fraction": ">= 0.99", "first_note_error_ms_p99": "<= 5", "note_jitter_ms_p99": "<= 3",
           "step_ms_p99_melody": "<= 1", "step_ms_p99_pianoroll": "<= 3", "memory_growth_mb_per_hour": "< 1",
           "late_p99_ratio": "<= 1.1", "dance_stream_dropped_frames": "0", "answer_vs_call_worst_sd": "<= 0.5"}


def percentiles(values, ms: bool = True) -> dict:
    values = np.asarray(values, dtype=np.float64) * (1000 if ms else 1)
    return {"p50": round(float(np.percentile(values, 50)), 4), "p99": round(float(np.percentile(values, 99)), 4),
            "max": round(float(values.max()), 4), "n": int(len(values))}


def session_of(representation: str, seed: int = 0) -> StepSession:
    return StepSession(load_music_model(None, representation),
                       SamplingOptions(seed=seed, top_p=0.95 if representation == "melody" else None))


def timed_draws(session: StepSession) -> tuple[list, list]:
    """Wraps session.draw to record each draw's wall time and its thread CPU time (as it goes)."""
    wall, cpu, draw = [], [], session.draw

    def timed():
        began, began_cpu = time.perf_counter(), time.thread_time()
        value = draw()
        cpu.append(time.thread_time() - began_cpu)
        wall.append(time.perf_counter() - began)
        return value

    session.draw = timed
    return wall, cpu


def step_latency(representation: str, steps: int) -> dict:
    """Draws as the live commands make them (real-time scheduling where permitted), and the bare forward."""
    from genseq.live.priority import realtime_scheduling

    session = session_of(representation)
    session.draw_steps(200)  # warm up
    with realtime_scheduling() as scheduling:
        wall, cpu = timed_draws(session)
        session.draw_steps(steps)
        inputs = torch.as_tensor(session.inputs(session.vector(session.last_value), session.step)[None])
        bare = []
        for _ in range(steps):
            began = time.perf_counter()
            session.sampler.feed(inputs)
            bare.append(time.perf_counter() - began)
    return {"scheduling": scheduling, "step_ms": percentiles(wall), "step_cpu_ms": percentiles(cpu),
            "baseline_bare_forward_ms": percentiles(bare)}


def random_call(rng: random.Random, qpm: float, start: float) -> list[tuple[int, float, float]]:
    """1 to 4 bars of a random walk in C major, eighth and quarter notes, 80 % legato."""
    eighth, scale = 30.0 / qpm, [0, 2, 4, 5, 7, 9, 11]
    bars, when, degree, notes = rng.randint(1, 4), start, rng.randrange(7), []
    while when < start + bars * 8 * eighth - 1e-9:
        length = eighth * rng.choice([1, 1, 2])
        degree = max(0, min(13, degree + rng.choice([-2, -1, -1, 1, 1, 2])))
        pitch = 60 + 12 * (degree // 7) + scale[degree % 7]
        notes.append((pitch, when + rng.uniform(-0.01, 0.01), when + 0.8 * length))
        when += length
    return notes


def answers_to_calls(count: int, seed: int = 0) -> dict:
    """`count` calls through the engine at their own tempos, fast-forwarded, scheduled as `genseq live` is."""
    from genseq.live.priority import realtime_scheduling

    with realtime_scheduling() as scheduling:
        return {"scheduling": scheduling, **calls_run(count, seed)}


def calls_run(count: int, seed: int) -> dict:
    rng, clock = random.Random(seed), FastForwardClock()
    out = MemoryOutput("bench-out", clock=clock)
    out.keep = False
    session = session_of("melody")
    records = []
    for _ in range(count):
        qpm = rng.uniform(60, 200)
        engine = CallAndResponse(session, NotePlayer(out.send), clock, EngineSettings(tempo=qpm), log=lambda _: None)
        events = []
        for pitch, on, off in random_call(rng, qpm, clock.now() + 0.5):
            events += [(on, mido.Message("note_on", note=pitch, velocity=80)), (off, mido.Message("note_off", note=pitch))]
        for when, message in sorted(events, key=lambda event: event[0]):
            clock.sleep_until(when)
            engine.on_message(message, clock.now())
        clock.sleep_until(engine.call_ends_at())
        engine.tick(clock.now())
        records.append((engine.answers[-1], qpm))
        engine.player.cancel()
    ready = [answer.ready_at - answer.ended_at for answer, _ in records]
    on_time = [not answer.pushed_back and answer.ready_at <= answer.bar_line for answer, _ in records]
    quarter_bar_ms = [60_000 / qpm for _, qpm in records]
    return {"calls": count, "tempo_range_qpm": [60, 200], "end_of_call_to_ready_ms": percentiles(ready),
            "answer_on_time_fraction": round(float(np.mean(on_time)), 4),
            "slack_to_quarter_bar_ms_min": round(float(min(q - r * 1000 for q, r in zip(quarter_bar_ms, ready))), 2)}


def realtime_calls(count: int, qpm: float, seed: int = 1) -> dict:
    """Calls played in real time into the loop, scheduled as `genseq live` is; stamped at the output port."""
    from genseq.live.priority import realtime_scheduling

    with realtime_scheduling() as scheduling:
        return {"scheduling": scheduling, **realtime_run(count, qpm, seed)}


def realtime_run(count: int, qpm: float, seed: int) -> dict:
    rng, clock = random.Random(seed), SystemClock()
    inport, out = MemoryInput("bench-in"), MemoryOutput("bench-out", clock=clock)  # stamped on arrival
    player, scheduled = NotePlayer(out.send), []
    player.sent_log = lambda when, message: scheduled.append((when, message))
    engine = CallAndResponse(session_of("melody"), player, clock, EngineSettings(tempo=qpm, gap_ms=250, max_bars=1),
                             log=lambda _: None)
    bar = 240.0 / qpm
    plan, when = [], clock.now() + 0.3
    for _ in range(count):
        notes = [(p, on, off) for p, on, off in random_call(rng, qpm, when) if on < when + bar - 0.05]
        plan += [(on, mido.Message("note_on", note=p, velocity=80)) for p, on, _ in notes]
        plan += [(off, mido.Message("note_off", note=p)) for p, _, off in notes]
        when += 4 * bar  # the call, the gap and the wait for a bar line, the one-bar answer, a rest

    def feed():
        for at, message in sorted(plan, key=lambda event: event[0]):
            clock.sleep_until(at, precise=True)
            inport.put(message)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    run_live(engine, inport, clock, stop_at=when + bar)
    feeder.join()
    arrived = [stamp for stamp, message in out.received if is_note_on(message)]
    meant = [due for due, message in scheduled if is_note_on(message) and due is not None]
    jitter = np.abs(np.array(arrived) - np.array(meant))
    first_errors = []
    for answer in engine.answers:
        if not answer.notes:
            continue
        due = answer.start + answer.notes[0][1] * 60.0 / qpm / 4
        first_errors.append(min(abs(stamp - due) for stamp in arrived))
    return {"calls": count, "answers": len(engine.answers), "qpm": qpm, "answer_notes": len(arrived),
            "first_note_error_ms": percentiles(first_errors), "note_jitter_ms": percentiles(jitter),
            "pushed_back": int(sum(answer.pushed_back for answer in engine.answers)),
            "hung_notes": len(out.hung_notes())}


def resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def long_stream(representation: str, hours: float, qpm: float = 120.0) -> dict:
    """A simulated `hours` stream: per step the draw time, and the resident set every 10 minutes."""
    session = session_of(representation)
    steps = int(hours * 3600 * qpm / 60 * session.music.steps_per_quarter)
    per_hour = int(3600 * qpm / 60 * session.music.steps_per_quarter)
    draw = np.zeros(steps, dtype=np.float32)  # allocated before the first memory sample
    cpu = np.zeros(steps, dtype=np.float32)
    plain_draw = session.draw

    drawn_steps = [0]

    def timed_draw():
        began = time.thread_time()
        value = plain_draw()
        cpu[drawn_steps[0]] = time.thread_time() - began
        drawn_steps[0] += 1
        return value

    session.draw = timed_draw
    sample_every = per_hour // 6
    memory = np.full(steps // sample_every + 2, np.nan)
    out = MemoryOutput("bench-out")
    out.keep = False

    def on_step(index: int, drawn: float, late: float) -> None:
        draw[index] = drawn
        if index % sample_every == 0:
            memory[index // sample_every] = resident_mb()

    from genseq.live.priority import frozen_heap

    began = time.perf_counter()
    with frozen_heap():  # as the command's loop runs
        played = stream_music(session, NotePlayer(out.send), FastForwardClock(), qpm, hours * 3600, on_step=on_step)
    wall = time.perf_counter() - began
    session.draw = plain_draw
    aged_vs_fresh = aged_against_fresh(session, representation)
    samples = memory[~np.isnan(memory)]
    hours_at = np.arange(len(samples)) * sample_every / per_hour
    keep = hours_at >= min(0.5, hours / 4)  # after the allocator's first half hour
    slope = float(np.polyfit(hours_at[keep], samples[keep], 1)[0]) if keep.sum() >= 2 else None
    window = min(per_hour, played // 2)
    first, last = np.percentile(draw[:window], 99), np.percentile(draw[played - window:played], 99)
    first_cpu, last_cpu = np.percentile(cpu[:window], 99), np.percentile(cpu[played - window:played], 99)
    return {"simulated_hours": hours, "steps": played, "wall_seconds": round(wall, 1), "qpm": qpm,
            "memory_mb_start": round(float(samples[0]), 2), "memory_mb_end": round(float(samples[-1]), 2),
            "memory_growth_mb_per_hour": None if slope is None else round(slope, 4),
            "first_hour_step_ms_p99": round(float(first) * 1000, 4), "last_hour_step_ms_p99": round(float(last) * 1000, 4),
            "late_p99_ratio": round(float(last / first), 4), "step_ms": percentiles(draw[:played]),
            "first_hour_step_cpu_ms_p99": round(float(first_cpu) * 1000, 4),
            "last_hour_step_cpu_ms_p99": round(float(last_cpu) * 1000, 4),
            "late_p99_ratio_cpu": round(float(last_cpu / first_cpu), 4), "step_cpu_ms": percentiles(cpu[:played]),
            **aged_vs_fresh}


def aged_against_fresh(aged: StepSession, representation: str, steps: int = 3000) -> dict:
    """The long stream's session against a fresh one, step for step in turn, under the same load and
    scheduling: a slowdown that comes with age shows here, the machine's changing load does not."""
    from genseq.live.priority import realtime_scheduling

    fresh = session_of(representation, seed=1)
    fresh.draw_steps(200)
    times = {"aged": [], "fresh": []}
    with realtime_scheduling():
        for _ in range(steps):
            for name, session in (("aged", aged), ("fresh", fresh)):
                began = time.perf_counter()
                session.draw()
                times[name].append(time.perf_counter() - began)
    aged_p99, fresh_p99 = (float(np.percentile(times[name], 99)) for name in ("aged", "fresh"))
    return {"aged_step_ms_p99": round(aged_p99 * 1000, 4), "fresh_step_ms_p99": round(fresh_p99 * 1000, 4),
            "aged_vs_fresh_p99_ratio": round(aged_p99 / fresh_p99, 4)}


def dance_stream(seconds: float, size: int = 384) -> dict:
    """The endless dance in real time for `seconds`, each frame JPEG-encoded for the MJPEG page, scheduled
    as `genseq stream dance` asks (real-time scheduling where permitted)."""
    from genseq.live.dance_stream import DanceSession, dance_frames, load_dance_model
    from genseq.live.priority import back_to_normal, request_realtime
    from genseq.live.video_out import MjpegServer, play_frames

    session = DanceSession(load_dance_model(None), SamplingOptions(temperature=1.2))
    fps = session.encoding.fps
    late = np.zeros(int(seconds * fps) + 1, dtype=np.float32)
    memory = np.full(int(seconds) + 2, np.nan)

    def on_frame(index: int, lateness: float) -> None:
        late[index] = lateness
        if index % int(fps) == 0:
            memory[index // int(fps)] = resident_mb()

    server, scheduling = MjpegServer(0), request_realtime()
    try:
        stats = play_frames(dance_frames(session, size), [server], SystemClock(), fps, seconds, on_frame)
    finally:
        server.close()
        back_to_normal()
    samples = memory[~np.isnan(memory)]
    keep = samples[len(samples) // 4:]
    slope = float(np.polyfit(np.arange(len(keep)) / 3600, keep, 1)[0]) if len(keep) >= 2 else None
    return {"scheduling": scheduling, "seconds": seconds, "fps": fps, "size": size, "frames": stats.frames, "dropped_frames": stats.dropped,
            "frame_lateness_ms": percentiles(late[:stats.frames]), "memory_mb_start": round(float(samples[0]), 2),
            "memory_mb_end": round(float(samples[-1]), 2),
            "memory_growth_mb_per_hour": None if slope is None else round(slope, 3)}


def answer_vs_call(tunes: int) -> dict:
    """Held-out tunes: first 4 bars the call, the next 4 the real answer, against the model's answer."""
    from genseq.music.midi import read_midi
    from genseq.music.sample_eval import compare_pieces
    from genseq.music.statistics import MAJOR_SCALE

    if not NOTTINGHAM.is_dir():
        return {"reason": f"held-out tunes absent ({NOTTINGHAM})"}
    session = session_of("melody")
    spb = session.music.steps_per_bar
    real, answers, in_key = [], [], {"real": [], "answer": []}
    for path in sorted(NOTTINGHAM.glob("*.mid"))[:tunes]:
        piece = read_midi(path, session.music.steps_per_quarter)
        if piece.total_steps < 8 * spb or piece.time_signatures[0][1:] != (4, 4):
            continue
        values = session.values_of(piece)
        deadline = time.perf_counter() + 30.0 / piece.qpm  # as the engine: an eighth of a bar to draw in
        chosen = closest_to_call(session, values[:4 * spb], 4 * spb, piece.qpm, lambda: time.perf_counter() >= deadline)
        answer = session.to_notes(chosen, piece.qpm)
        continuation = session.to_notes(values[4 * spb:8 * spb], piece.qpm)
        call_classes = session.to_notes(values[:4 * spb], piece.qpm).notes[:, 0] % 12
        root = max(range(12), key=lambda r: np.isin(call_classes, (MAJOR_SCALE + r) % 12).mean())
        for name, notes in (("real", continuation), ("answer", answer)):
            if len(notes):
                in_key[name].append(float(np.isin(notes.notes[:, 0] % 12, (MAJOR_SCALE + root) % 12).mean()))
        real.append(continuation)
        answers.append(answer)
    compared = compare_pieces(real, answers, bars=4)["statistics"]
    key_sd = float(np.std(in_key["real"], ddof=1)) or 1e-9
    result = {"tunes": len(real), "in_call_key": {"real_mean": round(float(np.mean(in_key["real"])), 4),
                                                  "answer_mean": round(float(np.mean(in_key["answer"])), 4),
                                                  "distance_sd": round(abs(np.mean(in_key["real"]) - np.mean(in_key["answer"])) / key_sd, 4)}}
    for name in ("notes_per_bar", "groove_consistency", "rhythm_entropy"):
        result[name] = {key: compared[name][key] for key in ("real_mean", "generated_mean", "distance_sd")}
    result["worst_sd"] = max(result["in_call_key"]["distance_sd"], *(result[n]["distance_sd"] or 0 for n in
                                                                     ("notes_per_bar", "groove_consistency", "rhythm_entropy")))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=8.0, help="simulated stream length per model")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--realtime-calls", type=int, default=20)
    parser.add_argument("--realtime-qpm", type=float, default=180.0)
    parser.add_argument("--steps", type=int, default=5000, help="timed steps per model for the latency")
    parser.add_argument("--tunes", type=int, default=170, help="held-out tunes for answer-vs-call")
    parser.add_argument("--dance-seconds", type=float, default=120.0, help="real-time dance stream length")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "live.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    started_load = Path("/proc/loadavg").read_text().split()[:3]
    report = {"command": "OMP_NUM_THREADS=1 python bench/live.py " + shlex.join(sys.argv[1:]), "targets": TARGETS}
    for name in ("melody", "pianoroll"):
        report[f"latency_{name}"] = step_latency(name, args.steps)
        print(name, "step", report[f"latency_{name}"], flush=True)
    report["calls"] = answers_to_calls(args.calls)
    print("calls", report["calls"], flush=True)
    report["realtime"] = realtime_calls(args.realtime_calls, args.realtime_qpm)
    print("realtime", report["realtime"], flush=True)
    report["answer_vs_call"] = answer_vs_call(args.tunes)
    print("answer vs call", report["answer_vs_call"], flush=True)
    report["dance_stream"] = dance_stream(args.dance_seconds)
    print("dance stream", report["dance_stream"], flush=True)
    for name in ("melody", "pianoroll"):
        report[f"stream_{name}"] = long_stream(name, args.hours)
        print("stream", name, report[f"stream_{name}"], flush=True)
    streams = [report["stream_melody"], report["stream_pianoroll"]]
    report.update({
        "answer_on_time_fraction": report["calls"]["answer_on_time_fraction"],
        "first_note_error_ms_p99": report["realtime"]["first_note_error_ms"]["p99"],
        "note_jitter_ms_p99": report["realtime"]["note_jitter_ms"]["p99"],
        "step_ms_p99_melody": report["latency_melody"]["step_ms"]["p99"],
        "step_ms_p99_pianoroll": report["latency_pianoroll"]["step_ms"]["p99"],
        "step_cpu_ms_p99_melody": report["latency_melody"]["step_cpu_ms"]["p99"],
        "step_cpu_ms_p99_pianoroll": report["latency_pianoroll"]["step_cpu_ms"]["p99"],
        "memory_growth_mb_per_hour": max(s["memory_growth_mb_per_hour"] or 0.0 for s in streams),
        "late_p99_ratio": max(s["late_p99_ratio"] for s in streams),
        "late_p99_ratio_cpu": max(s["late_p99_ratio_cpu"] for s in streams),
        "aged_vs_fresh_p99_ratio": max(s["aged_vs_fresh_p99_ratio"] for s in streams),
        "wall_times_note": "step_ms and late_p99_ratio are wall-clock and include preemption by other processes on a "
                           "shared machine (see machine_load_*); the _cpu figures are the step's own thread CPU time",
        "dance_stream_dropped_frames": report["dance_stream"]["dropped_frames"],
        "dance_stream_note": f"a {args.dance_seconds:g} s real-time run (not 8 hours: drawing and JPEG-encoding a "
                             "frame costs real time, so it cannot run faster than real time for long)",
        "answer_vs_call_worst_sd": report["answer_vs_call"].get("worst_sd"),
    })
    report["machine_load_at_start"], report["machine_load_at_end"] = started_load, Path("/proc/loadavg").read_text().split()[:3]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(report, indent=1))
    print(json.dumps({key: report[key] for key in [*TARGETS, "step_cpu_ms_p99_melody", "step_cpu_ms_p99_pianoroll",
                                                  "late_p99_ratio_cpu", "aged_vs_fresh_p99_ratio"]}, indent=1))


if __name__ == "__main__":
    main()
