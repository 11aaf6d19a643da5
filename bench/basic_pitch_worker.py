"""basic-pitch over many WAV files in one process (the model is loaded once), for bench/transcription.py.

Runs under the separate basic-pitch virtualenv (bench/setup_basic_pitch.sh), so it imports nothing
from genseq. Uses basic-pitch's default parameters (what its users get: onset_threshold 0.5,
frame_threshold 0.3, minimum_note_length 127.7 ms, melodia_trick on, midi_tempo 120).

    python bench/basic_pitch_worker.py INPUTS.json OUTPUT.json

INPUTS.json is a list of WAV paths. OUTPUT.json gets the versions, the model load time and, per
file, the compute seconds of predict() (audio decoding included) and the note events as
[onset s, offset s, MIDI pitch] rows, or an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def warm_up(model, predict) -> None:
    """One prediction on a short tone, so graph tracing is not charged to the first real file."""
    import numpy as np
    import soundfile

    sample_rate = 22050
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(2 * sample_rate) / sample_rate)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tone.wav"
        soundfile.write(str(path), tone.astype(np.float32), sample_rate)
        predict(str(path), model)


def transcribe_all(paths: list[str]) -> dict:
    import basic_pitch
    import tensorflow as tf
    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import Model, predict

    started = time.perf_counter()
    model = Model(ICASSP_2022_MODEL_PATH)
    load_seconds = time.perf_counter() - started
    with contextlib.redirect_stdout(sys.stderr):  # predict() prints a line per file
        warm_up(model, predict)
        files = [transcribe_one(path, model, predict, done, len(paths)) for done, path in enumerate(paths, 1)]
    return {
        "basic_pitch_version": getattr(basic_pitch, "__version__", None) or package_version("basic-pitch"),
        "tensorflow_version": tf.__version__,
        "model_path": str(Path(ICASSP_2022_MODEL_PATH).relative_to(Path(basic_pitch.__file__).parents[1])),
        "tensorflow_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                               "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "model_load_seconds": round(load_seconds, 3),
        "parameters": "defaults of basic_pitch.inference.predict",
        "files": files,
    }


def transcribe_one(path: str, model, predict, done: int, total: int) -> dict:
    started = time.perf_counter()
    try:
        _, _, events = predict(path, model)
    except Exception as exc:  # noqa: BLE001  (report the file and carry on with the others)
        return {"path": path, "seconds": time.perf_counter() - started, "error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - started
    notes = sorted([float(start), float(end), int(pitch)] for start, end, pitch, *_ in events)
    if done % 20 == 0 or done == total:
        print(f"basic-pitch: {done}/{total} files", file=sys.stderr, flush=True)
    return {"path": path, "seconds": seconds, "notes": notes}


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def main() -> None:
    inputs, output = map(Path, sys.argv[1:3])
    result = transcribe_all(json.loads(inputs.read_text()))
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
