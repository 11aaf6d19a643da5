"""`genseq live` and `genseq stream music` from their options to a finished session, with
in-process ports in place of the MIDI system and a fake clock; and their one-line failures."""

from __future__ import annotations

import os

import mido
import pytest

from genseq.core.options import LiveOptions, StreamMusicOptions
from genseq.live import commands
from genseq.live.clock import FakeClock
from genseq.live.memory_ports import MemoryInput, MemoryOutput
from tests.conftest import run_cli
from tests.live.helpers import bundled, scale_call

NO_MIDI = not os.path.exists("/dev/snd/seq")


@pytest.fixture
def memory_ports(monkeypatch):
    clock = FakeClock()
    ports = {"in": MemoryInput("genseq-in"), "out": MemoryOutput("genseq-out", clock=clock)}
    monkeypatch.setattr(commands, "open_port", lambda name, output, option, clock=None: ports["out" if output else "in"])
    return clock, ports


def test_live_answers_a_call_and_stops_with_every_note_released(memory_ports):
    clock, ports = memory_ports
    for pitch, on, off in scale_call(start=1.0):
        clock.at(on, lambda p=pitch: ports["in"].put(mido.Message("note_on", note=p, velocity=80)))
        clock.at(off, lambda p=pitch: ports["in"].put(mido.Message("note_off", note=p)))
    said = []
    options = LiveOptions.build(tempo=120, seconds=7.5, channel=2, program=5)
    assert commands.live(options, said.append, clock=clock) == 0
    out = ports["out"]
    assert out.messages("program_change")[0].program == 5
    assert {m.channel for m in out.messages("note_on")} == {1}
    assert out.hung_notes() == set()
    assert said[-1].startswith("stopped: ") and said[-1].endswith("1 answers")


def test_stream_music_plays_for_the_seconds_asked(memory_ports):
    clock, ports = memory_ports
    said = []
    options = StreamMusicOptions.build(seconds=10, representation="pianoroll", tempo=90)
    assert commands.stream(options, said.append, clock=clock) == 0
    assert ports["out"].messages("note_on") and ports["out"].hung_notes() == set()
    steps = round(10 * 90 / 60 * bundled("pianoroll").steps_per_quarter)
    assert f"stopped after {steps} steps" in said[-1]


@pytest.mark.skipif(not NO_MIDI, reason="this machine has an ALSA sequencer; the no-MIDI message cannot be seen")
@pytest.mark.parametrize("args", [["live"], ["live", "--list-ports"], ["stream", "music"]])
def test_without_a_midi_system_each_command_is_one_line(args, capsys):
    code, _, err = run_cli(args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no MIDI system" in err, err


def test_a_bad_option_is_one_line_before_any_port_opens(capsys):
    code, _, err = run_cli(["live", "--gap-ms", "10"], capsys)
    assert code == 2 and err.strip().startswith("genseq: error: --gap-ms:") and len(err.strip().splitlines()) == 1
