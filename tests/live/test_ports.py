"""MIDI ports: names resolve, a machine without a MIDI system says so in one line, and real
virtual ports work where there is an ALSA sequencer."""

from __future__ import annotations

import os
import time

import mido
import pytest

from genseq.core.errors import GenseqError
from genseq.live.memory_ports import MemoryInput
from genseq.live.ports import PortGone, midi_system_problem, open_port, receive_pending, resolve_name

ALSA = os.path.exists("/dev/snd/seq")


def test_a_port_is_found_by_its_full_name_or_a_unique_start():
    names = ["USB Keys:USB Keys MIDI 1 20:0", "Midi Through:Midi Through Port-0 14:0"]
    assert resolve_name("USB Keys", names, "--in-port") == names[0]
    assert resolve_name(names[1], names, "--in-port") == names[1]
    with pytest.raises(GenseqError, match="no such MIDI port"):
        resolve_name("Piano", names, "--in-port")


@pytest.mark.skipif(ALSA, reason="this machine has an ALSA sequencer; the no-MIDI case cannot be seen here")
def test_no_midi_system_is_one_clear_line():
    problem = midi_system_problem()
    assert problem and "\n" not in problem
    with pytest.raises(GenseqError) as caught:
        open_port(None, False, "--in-port")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("--in-port: ")


def test_a_failing_input_port_is_port_gone():
    port = MemoryInput("keys")
    port.put(mido.Message("note_on", note=60))
    assert len(receive_pending(port)) == 1
    port.vanish()
    with pytest.raises(PortGone, match="keys"):
        receive_pending(port)


@pytest.mark.skipif(not ALSA, reason="no ALSA sequencer (/dev/snd/seq) on this machine: real virtual ports cannot be made")
def test_real_virtual_ports_carry_notes():
    inport = open_port(None, False, "--in-port")
    try:
        sender = mido.open_output(next(name for name in mido.get_output_names() if name.startswith("genseq-in")))
        sender.send(mido.Message("note_on", note=61, velocity=90))
        deadline = time.time() + 2
        received = []
        while not received and time.time() < deadline:
            received = receive_pending(inport)
            time.sleep(0.01)
        sender.close()
        assert received and received[0].note == 61
    finally:
        inport.close()


@pytest.mark.skipif(os.path.exists("/dev/snd"), reason="this machine has a sound device: FluidSynth would play")
def test_the_synth_without_a_sound_device_is_one_line(capfd):
    with pytest.raises(GenseqError) as caught:
        open_port("synth", True, "--out-port")
    assert "no audio output" in str(caught.value) and "\n" not in str(caught.value)
    assert "ALSA" not in capfd.readouterr().err  # the library's own complaints are kept off the terminal
