import subprocess

import cv2
import numpy as np
import pytest
import soundfile

import genseq.motion.render as render
from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip
from genseq.motion.render import render_preview, render_video, skeleton_frames
from genseq.motion.skeleton import INDEX, LANDMARKS

STANDING = {  # metres, hip-centred, facing the viewer (left side at +x)
    "nose": (0, 0.75, 0.1), "left_eye": (0.03, 0.78, 0.08), "right_eye": (-0.03, 0.78, 0.08),
    "left_shoulder": (0.18, 0.5, 0), "right_shoulder": (-0.18, 0.5, 0), "left_elbow": (0.25, 0.25, 0),
    "right_elbow": (-0.25, 0.25, 0), "left_wrist": (0.28, 0.02, 0), "right_wrist": (-0.28, 0.02, 0),
    "left_hip": (0.1, 0, 0), "right_hip": (-0.1, 0, 0), "left_knee": (0.11, -0.42, 0), "right_knee": (-0.11, -0.42, 0),
    "left_ankle": (0.12, -0.85, 0), "right_ankle": (-0.12, -0.85, 0), "left_foot_index": (0.13, -0.9, 0.15),
    "right_foot_index": (-0.13, -0.9, 0.15),
}
BACKGROUND_BGR = (24, 20, 20)  # render's default background (20, 20, 24) is RGB


def dancing_clip(frames=60, fps=30.0, blank_frame=None):
    """A skeleton waving its arms and stepping sideways; every joint invalid in `blank_frame`."""
    positions = np.zeros((frames, 33, 3), dtype=np.float32)
    valid = np.zeros((frames, 33), dtype=bool)
    phase = np.linspace(0, 2 * np.pi, frames)
    for name, point in STANDING.items():
        positions[:, INDEX[name]] = point
        valid[:, INDEX[name]] = True
    for side, sign in (("left", 1), ("right", -1)):
        positions[:, INDEX[f"{side}_wrist"], 1] += 0.5 * (1 + np.sin(phase))
        positions[:, INDEX[f"{side}_wrist"], 0] += sign * 0.2 * np.sin(phase)
    positions[:, :, 0] += 0.3 * np.sin(phase)[:, None]
    if blank_frame is not None:
        valid[blank_frame] = False
    return MotionClip(positions, valid, fps, list(LANDMARKS), name="dance")


def ffmpeg_info(path) -> str:
    """ffmpeg's description of a media file (it exits non-zero: no output named, which is fine here)."""
    result = subprocess.run([render.ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return result.stderr


def read_frames(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_video_is_browser_h264_with_every_frame(tmp_path):
    out = tmp_path / "dance.mp4"
    assert render_video(dancing_clip(blank_frame=30), out, style="stick") == out
    frames = read_frames(out)
    assert len(frames) == 60 and frames[0].shape == (512, 512, 3)
    info = ffmpeg_info(out)
    assert "Video: h264" in info and "yuv420p" in info and "512x512" in info and "30 fps" in info
    with open(out, "rb") as handle:
        head = handle.read(64 * 1024)
    assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head  # +faststart: the index comes first
    blank, drawn = frames[30].astype(int), frames[29].astype(int)
    # no joint valid: background only, up to H.264's rounding (a few levels; a skeleton is 100+ levels away)
    assert np.abs(np.median(blank.reshape(-1, 3), axis=0) - BACKGROUND_BGR).max() <= 4
    assert np.abs(blank - np.median(blank.reshape(-1, 3), axis=0)).max() <= 8
    assert drawn.max() > 200 and (np.abs(drawn - BACKGROUND_BGR).max(axis=2) > 60).mean() > 0.005
    assert [p.name for p in tmp_path.iterdir()] == ["dance.mp4"]


def test_invalid_joints_and_their_bones_are_not_drawn():
    clip = dancing_clip(frames=3)
    full = list(skeleton_frames(clip, size=256, camera="fixed"))
    clip.valid[1, INDEX["left_wrist"]] = False
    clip.valid[2] = False
    clip.positions[2] = np.nan  # what invalid joints hold does not matter
    partial = list(skeleton_frames(clip, size=256, camera="fixed"))
    assert (partial[2] == BACKGROUND_BGR).all()  # exactly the background
    np.testing.assert_array_equal(partial[0], full[0])
    drawn_full = (full[1] != BACKGROUND_BGR).any(axis=2)
    drawn_partial = (partial[1] != BACKGROUND_BGR).any(axis=2)
    assert drawn_partial.sum() < drawn_full.sum() and not (drawn_partial & ~drawn_full).any()
    x, y = np.round(render.project(dancing_clip(frames=3), 256, "fixed")[1, INDEX["left_wrist"]]).astype(int)
    assert not drawn_partial[y - 2:y + 3, x - 2:x + 3].any()  # where the wrist would be: nothing


def test_cameras_keep_the_skeleton_inside_the_picture():
    clip = dancing_clip()
    for camera in ("fixed", "follow"):
        pixels = render.project(clip, 200, camera)[clip.valid]
        assert pixels.min() >= 200 * render.MARGIN - 1e-3 and pixels.max() <= 200 * (1 - render.MARGIN) + 1e-3
    follow = render.project(clip, 200, "follow")
    hips = (follow[:, INDEX["left_hip"]] + follow[:, INDEX["right_hip"]]) / 2
    np.testing.assert_allclose(hips, 100, atol=1e-3)  # the follow camera keeps the hips centred


def test_audio_is_muxed_in(tmp_path):
    wav = tmp_path / "tone.wav"
    rate = 22050
    soundfile.write(wav, 0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate), rate)  # 1 s
    out = tmp_path / "with_sound.mp4"
    render_video(dancing_clip(), out, size=128, audio=wav)
    info = ffmpeg_info(out)
    assert "Audio: aac" in info and "Video: h264" in info
    assert "Duration: 00:00:01" in info  # -shortest: the 2 s of picture end with the 1 s of sound


def test_side_by_side_with_the_source_video(tmp_path):
    source = tmp_path / "source.mp4"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for _ in range(30):
        writer.write(np.full((48, 64, 3), (0, 0, 200), dtype=np.uint8))  # red, as BGR
    writer.release()
    out = tmp_path / "both.mp4"
    render_video(dancing_clip(), out, size=96, side_by_side_video=source)
    frames = read_frames(out)
    assert len(frames) == 60 and frames[0].shape == (96, 128 + 96, 3)  # 64x48 scaled to height 96, then 96x96
    left = frames[45][:, :128].reshape(-1, 3).mean(axis=0)
    assert left[2] > 150 and left[0] < 60  # the source's last frame holds when it is shorter


def test_preview_png_and_gif(tmp_path):
    sheet = render_preview(dancing_clip(), tmp_path / "sheet.png", size=128)
    assert cv2.imread(str(sheet)).shape == (3 * 128, 4 * 128, 3)
    gif = render_preview(dancing_clip(), tmp_path / "moves.gif", size=64)
    assert gif.read_bytes()[:6] == b"GIF89a"
    assert "Video: gif" in ffmpeg_info(gif) and "64x64" in ffmpeg_info(gif)


def test_clear_errors_for_bad_outputs_and_inputs(tmp_path):
    clip = dancing_clip(frames=5)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(GenseqError, match="cannot create output folder"):
        render_video(clip, blocker / "out.mp4")
    with pytest.raises(GenseqError, match="no such video file"):
        render_video(clip, tmp_path / "out.mp4", side_by_side_video=tmp_path / "missing.mp4")
    not_video = tmp_path / "notes.txt"
    not_video.write_text("hello")
    with pytest.raises(GenseqError, match="cannot decode video"):
        render_video(clip, tmp_path / "out.mp4", side_by_side_video=not_video)
    with pytest.raises(GenseqError, match="no such audio file"):
        render_video(clip, tmp_path / "out.mp4", audio=tmp_path / "missing.wav")
    with pytest.raises(GenseqError, match="must end in .mp4"):
        render_video(clip, tmp_path / "out.avi")
    with pytest.raises(GenseqError, match="even number"):
        render_video(clip, tmp_path / "out.mp4", size=101)
    with pytest.raises(GenseqError, match="preview must end in"):
        render_preview(clip, tmp_path / "out.bmp")
    assert not (tmp_path / "out.mp4").exists()


def test_nothing_half_written_when_encoding_or_drawing_fails(tmp_path, monkeypatch):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous good video")
    fake_audio = tmp_path / "sound.wav"
    fake_audio.write_text("not audio at all")
    with pytest.raises(GenseqError, match="cannot decode this sound file"):
        render_video(dancing_clip(frames=10), out, size=64, audio=fake_audio)
    with pytest.raises(GenseqError, match="ffmpeg failed"):
        render_video(dancing_clip(frames=10), out, size=64, preset="no-such-preset")

    calls = []

    def draw_then_crash(*args):
        calls.append(1)
        if len(calls) > 5:
            raise RuntimeError("drawing bug")
        return original(*args)

    original = render.draw_skeleton
    monkeypatch.setattr(render, "draw_skeleton", draw_then_crash)
    with pytest.raises(RuntimeError, match="drawing bug"):
        render_video(dancing_clip(frames=20), out, size=64, style="stick")
    assert out.read_bytes() == b"previous good video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "sound.wav"]  # no temporary file left
