import cv2
import numpy as np
import pytest
import soundfile

from genseq.music.midi import read_midi
from genseq.music.render import fluidsynth_problem, pianoroll_image, render_music


def test_pianoroll_picture_shows_each_note(tune):
    seq = read_midi(tune, 4)
    image = pianoroll_image(seq, pixels_per_step=6, pixels_per_key=4)
    assert image.shape == ((72 + 2 - (60 - 2) + 1) * 4, seq.total_steps * 6, 3)
    ink = (image[..., 2] == 30).any(axis=0)  # note colour
    assert ink[6 * 1 : 6 * 2].any() and ink[-6:].any()


@pytest.mark.skipif(fluidsynth_problem() is not None, reason=f"fluidsynth unavailable: {fluidsynth_problem()}")
def test_render_writes_audible_wav_and_png(tune, tmp_path):
    wav, png = tmp_path / "t.wav", tmp_path / "t.png"
    assert render_music(tune, wav, png) == [png, wav]
    audio, rate = soundfile.read(wav)
    assert rate == 44100 and len(audio) / rate > 7.5  # 8 s of notes plus release
    assert np.abs(audio).max() > 0.5
    assert cv2.imread(str(png)).shape[2] == 3
