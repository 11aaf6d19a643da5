"""Sound on the machine itself: an output port that plays through FluidSynth (pretty_midi's bundled
General MIDI soundfont) on the system's audio, for when no synthesiser is connected."""

from __future__ import annotations

from mido.ports import BaseOutput

from genseq.core.errors import GenseqError
from genseq.live.ports import quiet_native_stderr


def start_synth():
    """A running FluidSynth with the bundled soundfont on the default audio driver."""
    from pathlib import Path

    import pretty_midi
    from genseq.music.render import fluidsynth_problem

    problem = fluidsynth_problem()
    if problem:
        raise GenseqError(f"cannot play through FluidSynth: {problem}", "--out-port")
    import fluidsynth

    synth = fluidsynth.Synth()
    with quiet_native_stderr():
        started = synth.start() if hasattr(synth, "start") else -1
    if started not in (None, 0) or getattr(synth, "audio_driver", 1) is None:
        synth.delete()
        raise GenseqError("no audio output on this machine for FluidSynth; name a MIDI port with --out-port", "--out-port")
    soundfont = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    sfid = synth.sfload(str(soundfont))
    for channel in range(16):
        synth.program_select(channel, sfid, 128 if channel == 9 else 0, 0)
    return synth, sfid


class SynthOutput(BaseOutput):
    """mido output port over FluidSynth."""

    def _open(self, **kwargs):
        self.name = "synth"
        self.synth, self.sfid = start_synth()

    def _send(self, message) -> None:
        synth = self.synth
        if message.type == "note_on":
            synth.noteon(message.channel, message.note, message.velocity)
        elif message.type == "note_off":
            synth.noteoff(message.channel, message.note)
        elif message.type == "control_change":
            synth.cc(message.channel, message.control, message.value)
        elif message.type == "program_change":
            synth.program_select(message.channel, self.sfid, 128 if message.channel == 9 else 0, message.program)

    def _close(self) -> None:
        self.synth.delete()
