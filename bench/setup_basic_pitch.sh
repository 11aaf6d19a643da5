#!/usr/bin/env bash
# A separate virtualenv with Spotify's basic-pitch (and TensorFlow) for bench/transcription.py's
# side-by-side comparison. It is kept out of genseq's own environment: basic-pitch pulls TensorFlow.
#
#   bench/setup_basic_pitch.sh [VENV_PATH]    (default: .bench-venv/basic-pitch, git-ignored)
#
# Needs a Python that basic-pitch 0.4 supports (3.8-3.11); set PYTHON to choose one.
set -euo pipefail

venv="${1:-.bench-venv/basic-pitch}"
python="${PYTHON:-python3.11}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found; set PYTHON to a Python 3.8-3.11 interpreter" >&2
    exit 1
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "basic-pitch==0.4.0"
"$venv/bin/python" -c "from basic_pitch.inference import predict; from basic_pitch import ICASSP_2022_MODEL_PATH; print('basic-pitch ready:', ICASSP_2022_MODEL_PATH)"
echo "use: .venv/bin/python bench/transcription.py --basic-pitch-python $venv/bin/python"
