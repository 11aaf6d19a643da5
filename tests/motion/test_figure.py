"""The volumetric figure: pictures of the right shape, a figure that stands on a floor with its shadow,
a camera that follows smoothly, both styles through render_video, and bad styles refused."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import ffmpeg_exe
from genseq.core.motion import MotionClip
from genseq.motion import figure
from genseq.motion.render import render_preview, render_video
from tests.motion.conftest import moving_clip


def first(clip: MotionClip, size: int = 128, **options) -> np.ndarray:
    return next(figure.figure_frames(clip, size, np.array([0]), **options))


def test_frames_are_pictures_of_the_asked_size():
    clip = moving_clip(30)
    frames = list(figure.figure_frames(clip, 96, np.arange(30)))
    assert len(frames) == 30 and all(f.shape == (96, 96, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[15])  # it moves


def test_the_figure_stands_out_of_the_backdrop_and_casts_a_shadow():
    clip = moving_clip(30)
    picture = first(clip, 128)
    scene = figure.build_scene(clip, 128)
    changed = np.abs(picture.astype(int) - scene.backdrop.astype(int)).sum(axis=2) > 30
    columns = np.flatnonzero(changed.any(axis=0))
    assert changed.mean() > 0.03 and abs(columns.mean() - 64) < 20  # a body, about the middle
    floor = scene.floor_y
    under = picture[floor, 50:78].astype(int).sum(axis=1)
    assert under.min() < scene.backdrop[floor, 50:78].astype(int).sum(axis=1).min() - 10  # darker under the feet


def test_the_follow_camera_is_smooth_and_keeps_the_dancer_in_view():
    plain, clip = moving_clip(120), moving_clip(120)
    clip.positions[:, :, 0] += np.where(np.arange(120) < 60, 0.0, 1.0)[:, None]  # a jump sideways
    scene = figure.build_scene(clip, 128)
    steps = np.abs(np.diff(scene.camera_x))
    assert steps.max() < 0.05  # a 1 m jump becomes a glide
    assert scene.camera_x[-1] - figure.build_scene(plain, 128).camera_x[-1] > 0.8
    fixed = figure.build_scene(clip, 128, camera="fixed")
    assert np.ptp(fixed.camera_x) == 0


def test_missing_joints_are_left_out():
    clip = moving_clip(10)
    valid = clip.valid.copy()
    valid[:, :] = False
    empty = MotionClip(clip.positions, valid, clip.fps, clip.joint_names)
    scene = figure.build_scene(empty, 64)
    assert not scene.shown.any()
    assert first(empty, 64).shape == (64, 64, 3)


def test_render_video_writes_both_styles_as_h264(tmp_path):
    clip = moving_clip(20)
    for style in ("figure", "stick"):
        out = render_video(clip, tmp_path / f"{style}.mp4", size=64, style=style)
        info = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
        assert "Video: h264" in info and "yuv420p" in info
    sheet = render_preview(clip, tmp_path / "sheet.png", size=64, style="figure")
    assert sheet.stat().st_size > 0


def test_an_unknown_style_is_one_clean_error(tmp_path):
    with pytest.raises(GenseqError, match="style"):
        render_video(moving_clip(5), tmp_path / "x.mp4", size=32, style="clay")
