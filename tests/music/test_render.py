import cv2
import numpy as np
import pytest
import soundfile

from genseq.music.midi import read_midi
from genseq.music.render import fluidsynth_problem, pianoroll_image, render_midi


def test_pianoroll_picture_shows_each_note(tune):
    seq = read_midi(tune, 4)
    image = pianoroll_image(seq, pixels_per_step=6, pixels_per_key=4)
    assert image.shape == ((72 + 2 - (60 - 2) + 1) * 4, seq.total_steps * 6, 3)
    ink = (image[..., 2] == 30).any(axis=0)  # note colour
    assert ink[6 * 1 : 6 * 2].any() and ink[-6:].any()


@pytest.mark.skipif(fluidsynth_problem() is not None, reason=f"fluidsynth unavailable: {fluidsynth_problem()}")
def test_render_writes_audible_wav_and_png(tune, tmp_path):
    wav, png = tmp_path / "t.wav", tmp_path / "t.png"
    assert render_midi(tune, wav, png) == [png, wav]
    audio, rate = soundfile.read(wav)
    assert rate == 44100 and len(audio) / rate > 7.5  # 8 s of notes plus release
    assert np.abs(audio).max() > 0.5
    written = cv2.imread(str(png))
    assert np.array_equal(written, pianoroll_image(read_midi(tune, 4)))  # the PNG is the piano roll, pixel for pixel


@pytest.mark.skipif(fluidsynth_problem() is not None, reason=f"fluidsynth unavailable: {fluidsynth_problem()}")
def test_fluidsynth_mix_is_pretty_midis_rendering(tmp_path):
    """The lean renderer gives pretty_midi's samples exactly: two instruments and drums, with a pitch bend, a
    control change, notes sharing times, and a late start."""
    import pretty_midi

    from genseq.music.render import fluidsynth_mix

    midi = pretty_midi.PrettyMIDI(initial_tempo=100)
    lead, pad, drums = pretty_midi.Instrument(73), pretty_midi.Instrument(48), pretty_midi.Instrument(0, is_drum=True)
    lead.notes = [pretty_midi.Note(100, 72 + i % 5, 0.7 + 0.3 * i, 1.0 + 0.3 * i) for i in range(8)]
    lead.pitch_bends = [pretty_midi.PitchBend(1200, 1.2), pretty_midi.PitchBend(0, 1.6)]
    pad.notes = [pretty_midi.Note(70, 48, 0.0, 2.0), pretty_midi.Note(70, 55, 0.0, 2.0), pretty_midi.Note(60, 52, 2.0, 3.1)]
    pad.control_changes = [pretty_midi.ControlChange(7, 60, 1.0)]
    drums.notes = [pretty_midi.Note(110, 36 + 2 * (i % 2), 0.25 * i, 0.25 * i + 0.1) for i in range(10)]
    midi.instruments += [lead, pad, drums]

    expected = midi.fluidsynth(fs=22050)  # the mix of int16 samples in float64, divided by its peak
    mix = fluidsynth_mix(midi, 22050)
    assert mix.shape == expected.shape and np.abs(mix).max() > 1000
    assert np.array_equal(mix / np.abs(mix).max(), expected)

    # times off any grid (a recording's transcription, a MIDI file from elsewhere): the rounding of each
    # event's sample must match too, or an event lands in fluidsynth's next 64-frame block
    odd = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(0)
    t = [0.28863636363636364, 0.3318181818181818, 2.4227272727272724, 3.6295454545454544, 3.8499999999999996]
    piano.notes = [pretty_midi.Note(100, 60, t[0], t[2]), pretty_midi.Note(100, 64, t[1], t[3]), pretty_midi.Note(100, 67, t[3], t[4])]
    odd.instruments.append(piano)
    mix = fluidsynth_mix(odd, 44100)
    assert np.array_equal(mix / np.abs(mix).max(), odd.fluidsynth(fs=44100))


def test_synthesised_music_is_at_the_platforms_loudness(tmp_path):
    """-14 LUFS integrated and a true peak under -1 dBTP, by ffmpeg's meter (pyloudnorm normalised it)."""
    import pretty_midi

    from genseq.core.loudness import ffmpeg_loudness
    from genseq.music.render import synthesize, write_wav

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(0)
    piano.notes = [pretty_midi.Note(40 + 10 * (i % 3), 60 + i % 7, 0.4 * i, 0.4 * i + 0.35) for i in range(10)]
    midi.instruments.append(piano)
    midi.write(str(tmp_path / "quiet.mid"))
    wav = write_wav(synthesize(tmp_path / "quiet.mid", allow_sine=True), tmp_path / "quiet.wav")
    measured = ffmpeg_loudness(wav)
    assert abs(measured["lufs"] + 14) <= 1 and measured["true_peak_dbtp"] <= -1, measured
