"""Every size preset and theme renders a short clip that uploads as it is: the size asked for, H.264 High,
yuv420p, the index before the media, AAC at 48 kHz with the sound at -14 LUFS and true peaks under -1 dBTP
(measured by ffmpeg's meter, not pyloudnorm, which normalised it); backgrounds and covers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import soundfile

from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import describe_media
from genseq.core.looks import SIZE_PRESETS, THEMES
from genseq.core.loudness import ffmpeg_loudness
from genseq.motion.render import render_video
from tests.motion.conftest import moving_clip

FRAMES = 6


def check_upload_ready(path, width, height, fps=30.0, sound=False):
    info = describe_media(path)
    assert (info["width"], info["height"]) == (width, height), info
    assert info["video_codec"] == "h264" and info["profile"] == "High" and info["pix_fmt"] == "yuv420p", info
    assert info["faststart"] and info["fps"] == fps, info
    if sound:
        assert info["audio_codec"] == "aac" and info["audio_rate"] == 48000, info
    return info


def song(path, seconds=3.0, rate=44100, level=0.05):
    """A quiet chord with a loud click every half second: needs gain for the loudness and limiting for the peaks."""
    t = np.arange(int(seconds * rate)) / rate
    tone = level * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))
    clicks = np.zeros_like(t)
    clicks[:: rate // 2] = 0.95
    soundfile.write(path, np.stack([tone + clicks, tone], axis=1), rate)
    return path


@pytest.mark.parametrize("preset", list(SIZE_PRESETS))
def test_each_preset_is_the_size_asked_for_in_an_uploadable_file(tmp_path, preset):
    out = render_video(moving_clip(FRAMES), tmp_path / f"{preset}.mp4", size=preset)
    check_upload_ready(out, *SIZE_PRESETS[preset])


def test_the_default_and_a_custom_size(tmp_path):
    check_upload_ready(render_video(moving_clip(FRAMES), tmp_path / "default.mp4"), 512, 512)
    check_upload_ready(render_video(moving_clip(FRAMES), tmp_path / "custom.mp4", size="320x180", style="stick"), 320, 180)


@pytest.mark.parametrize("theme", [*THEMES, "200,40,160"])
def test_each_theme_renders_in_its_own_colours(tmp_path, theme):
    out = render_video(moving_clip(FRAMES), tmp_path / "themed.mp4", size=96, theme=theme)
    check_upload_ready(out, 96, 96)
    capture = cv2.VideoCapture(str(out))
    ok, frame = capture.read()
    capture.release()
    assert ok
    sky = frame[2, 2].astype(int)
    expected = np.array(THEMES.get(theme, THEMES["night"]).sky_top[::-1])
    assert np.abs(sky - expected).max() <= 12  # H.264 rounding: a few levels


def test_sixty_frames_a_second(tmp_path):
    out = render_video(moving_clip(FRAMES), tmp_path / "sixty.mp4", size=64, fps=60)
    assert check_upload_ready(out, 64, 64, fps=60.0)["seconds"] == pytest.approx(FRAMES / 30, abs=0.05)


def test_the_sound_is_normalised_for_the_platforms(tmp_path):
    quiet = song(tmp_path / "quiet.wav")
    before = ffmpeg_loudness(quiet)
    assert before["lufs"] < -17 and before["true_peak_dbtp"] > -1  # quiet, yet its clicks peak too high
    out = render_video(moving_clip(90), tmp_path / "with_sound.mp4", size=64, audio=quiet)
    check_upload_ready(out, 64, 64, sound=True)
    after = ffmpeg_loudness(out)
    assert abs(after["lufs"] + 14) <= 1 and after["true_peak_dbtp"] <= -1, after


def test_a_loud_song_is_turned_down(tmp_path):
    loud = song(tmp_path / "loud.wav", level=0.6)
    out = render_video(moving_clip(90), tmp_path / "loud.mp4", size=64, audio=loud, style="stick")
    after = ffmpeg_loudness(out)
    assert abs(after["lufs"] + 14) <= 1 and after["true_peak_dbtp"] <= -1, after


def test_a_flat_colour_and_a_picture_behind_the_dancer(tmp_path):
    clip = moving_clip(FRAMES)
    out = render_video(clip, tmp_path / "flat.mp4", size=64, background="0,200,0")
    ok, frame = cv2.VideoCapture(str(out)).read()
    assert ok and abs(int(frame[1, 1, 1]) - 200) < 12 and frame[1, 1, 0] < 20
    picture = tmp_path / "wall.png"
    cv2.imwrite(str(picture), np.full((30, 40, 3), (200, 0, 0), np.uint8))  # blue, BGR
    for style in ("figure", "stick"):
        out = render_video(clip, tmp_path / f"picture_{style}.mp4", size="96x64", background=str(picture), style=style)
        ok, frame = cv2.VideoCapture(str(out)).read()
        assert ok and frame.shape == (64, 96, 3) and frame[1, 1, 0] > 180 and frame[1, 1, 2] < 20, style


def test_a_video_behind_the_dancer_loops(tmp_path):
    source = tmp_path / "behind.mp4"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 30, (48, 32))
    for value in (0, 250, 0):  # three frames: dark, light, dark
        writer.write(np.full((32, 48, 3), value, np.uint8))
    writer.release()
    for style in ("stick", "figure"):
        out = render_video(moving_clip(9), tmp_path / f"over_video_{style}.mp4", size=64, background=str(source), style=style)
        capture, corners = cv2.VideoCapture(str(out)), []
        while (frame := capture.read())[0]:
            corners.append(int(frame[1][1, 1].mean()))
        assert len(corners) == 9 and [c > 128 for c in corners] == [False, True, False] * 3, style


def test_a_cover_picture_beside_the_video(tmp_path):
    out = render_video(moving_clip(30), tmp_path / "dance.mp4", size="vertical", cover=tmp_path / "dance.jpg")
    cover = cv2.imread(str(tmp_path / "dance.jpg"))
    assert out.is_file() and cover.shape == (1920, 1080, 3) and cover.std() > 10


def test_bad_looks_are_one_clean_error(tmp_path):
    clip = moving_clip(FRAMES)
    for problem, look in (("theme must be", {"theme": "plaid"}), ("sides must be even", {"size": "101x64"}),
                          ("a size is", {"size": "huge"}), ("no such background", {"background": str(tmp_path / "no.png")}),
                          ("R,G,B values are 0-255", {"background": "1,2,300"}), ("a background is", {"background": "x.txt"})):
        with pytest.raises(GenseqError, match=problem):
            render_video(clip, tmp_path / "bad.mp4", **look)
    not_picture = tmp_path / "fake.png"
    not_picture.write_text("no picture")
    with pytest.raises(GenseqError, match="cannot read this picture"):
        render_video(clip, tmp_path / "bad.mp4", background=str(not_picture))
    assert not (tmp_path / "bad.mp4").exists()
