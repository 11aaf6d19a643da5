#!/usr/bin/env bash
# Install genseq into ./.venv with everything it needs (including the FluidSynth library used
# for realistic audio), so that `.venv/bin/genseq` works. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

if ! ldconfig -p 2>/dev/null | grep -q libfluidsynth; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq libfluidsynth3 >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq && sudo apt-get install -y -qq libfluidsynth3 >/dev/null
    else
        echo "note: install the FluidSynth library (libfluidsynth3) for realistic audio; genseq will say when it is missing" >&2
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
echo "genseq installed: .venv/bin/genseq --help" >&2
