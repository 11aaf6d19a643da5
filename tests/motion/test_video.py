import threading

import cv2
import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.core.motion import load_clip, save_clip
from genseq.motion.skeleton import INDEX, LANDMARKS
from genseq.core.files import find_files
from genseq.motion.video import VIDEO_SUFFIXES, extract_video
from tests.conftest import SHARED

VIDEO = SHARED / "video"
needs_video = pytest.mark.skipif(not VIDEO.is_dir(), reason=f"real data absent: {VIDEO} (the ../shared datasets folder) not found")

FACE_AND_SHOULDERS = [INDEX[name] for name in LANDMARKS[:13]]  # nose .. right_shoulder
LEGS = [INDEX[name] for name in LANDMARKS[23:]]  # hips, knees, ankles, heels, feet


def write_video(path, frames, fps=25.0, fourcc="mp4v"):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def blank_video(tmp_path):
    """Ten frames of plain colour: a valid video with nobody in it."""
    frames = [np.full((96, 96, 3), (40 + 10 * i, 120, 200), dtype=np.uint8) for i in range(10)]
    return write_video(tmp_path / "blank.mp4", frames)


@pytest.fixture(scope="module")
def carphone():
    """The head-and-shoulders clip, extracted once for the tests below; plus the progress calls."""
    calls = []
    clip = extract_video(VIDEO / "carphone.mp4", progress=lambda done, total: calls.append((done, total)))
    return clip, calls


@needs_video
def test_carphone_frames_rate_and_validity(carphone):
    clip, calls = carphone
    assert clip.num_frames == 120 and clip.fps == pytest.approx(29.97, abs=0.01)
    assert clip.joint_names == LANDMARKS and clip.name == "carphone"
    assert calls[-1] == (120, 120) and [done for done, _ in calls[:3]] == [1, 2, 3]
    # mediapipe sees the face and both shoulders in every frame (visibility ~1.0) ...
    assert clip.valid[:, FACE_AND_SHOULDERS].mean() > 0.95
    # ... and rates everything below the chest out of frame (visibility ~0): hips, legs, feet
    assert clip.valid[:, LEGS].mean() < 0.05
    # the arms are out of frame too; an elbow can flicker just above 0.5 in a few frames
    assert clip.valid[:, INDEX["left_wrist"]:].mean() < 0.05


@needs_video
def test_carphone_positions_are_metres_with_y_up(carphone):
    clip, _ = carphone
    assert np.isfinite(clip.positions).all() and np.isfinite(clip.image_positions).all()
    shoulders = clip.positions[:, [INDEX["left_shoulder"], INDEX["right_shoulder"]]]
    width = np.linalg.norm(shoulders[:, 0] - shoulders[:, 1], axis=1)
    assert 0.2 < np.median(width) < 0.6
    nose_y = clip.positions[:, INDEX["nose"], 1]
    assert (nose_y > shoulders[:, :, 1].max(axis=1)).mean() > 0.95  # y up: the nose is above both shoulders
    # image coordinates stay y down: the nose is higher in the picture, so a smaller y
    image = clip.image_positions
    assert (image[:, INDEX["nose"], 1] < image[:, INDEX["left_shoulder"], 1]).mean() > 0.95
    assert ((image[:, FACE_AND_SHOULDERS, :2] > -0.1) & (image[:, FACE_AND_SHOULDERS, :2] < 1.3)).all()
    assert (image[:, FACE_AND_SHOULDERS, 2] > 0.5).mean() > 0.95  # third column: visibility


@needs_video
def test_carphone_clip_round_trips_through_npz(carphone, tmp_path):
    clip, _ = carphone
    loaded = load_clip(save_clip(clip, tmp_path / "carphone.npz"))
    np.testing.assert_array_equal(loaded.positions, clip.positions)
    np.testing.assert_array_equal(loaded.valid, clip.valid)
    np.testing.assert_array_equal(loaded.image_positions, clip.image_positions)


@needs_video
@pytest.mark.slow
def test_bikes_small_people_partly_found():
    clip = extract_video(VIDEO / "bikes.mp4")
    assert clip.num_frames == 250 and clip.fps == pytest.approx(25.0)
    found = clip.valid.any(axis=1).mean()
    assert 0.3 < found < 0.8  # about half the frames have a cyclist mediapipe can lock on to
    assert np.isfinite(clip.positions).all()


@needs_video
def test_truncated_video_keeps_what_decodes(tmp_path):
    capture = cv2.VideoCapture(str(VIDEO / "carphone.mp4"))
    frames = [capture.read()[1] for _ in range(30)]
    capture.release()
    whole = write_video(tmp_path / "whole.avi", frames, fps=29.97, fourcc="MJPG")  # AVI: readable without its index
    data = whole.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match=r"decoded only \d+ of the 30 frames"):
        clip = extract_video(cut)
    assert 5 < clip.num_frames < 30 and clip.valid[:, FACE_AND_SHOULDERS].mean() > 0.9


@needs_video
def test_truncated_mp4_says_so(tmp_path):
    data = (VIDEO / "carphone.mp4").read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])  # this file keeps its index at the end: nothing can be opened
    with pytest.raises(GenseqError, match="truncated or corrupt") as info:
        extract_video(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content, problem", [(b"", "empty file"), (b"hello, I am a text file\n" * 20, "not a video file")])
def test_bad_files_say_why(tmp_path, content, problem):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(GenseqError, match=problem) as info:
        extract_video(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(GenseqError, match="no such file") as info:
        extract_video(tmp_path / "nowhere.mp4")
    assert "nowhere.mp4" in str(info.value)


def test_video_without_a_person(blank_video):
    with pytest.raises(GenseqError, match="no person found in any of 10 frames") as info:
        extract_video(blank_video)
    assert str(blank_video) in str(info.value)


def test_decoder_thread_stops_when_extraction_fails(blank_video):
    def fail_on_third_frame(done, total):
        if done == 3:
            raise KeyboardInterrupt  # e.g. Ctrl-C while mediapipe runs

    with pytest.raises(KeyboardInterrupt):
        extract_video(blank_video, progress=fail_on_third_frame)
    assert not [t for t in threading.enumerate() if t.name == "genseq-video-decode"]


def test_bad_smoothing_fails_before_decoding(blank_video):
    with pytest.raises(ValueError, match="smoothing"):
        extract_video(blank_video, smoothing=2.0)


def test_find_videos(tmp_path):
    find_videos = lambda paths: find_files(paths, VIDEO_SUFFIXES)  # noqa: E731
    (tmp_path / "sub").mkdir()
    for name in ["b.mp4", "a.MOV", "sub/c.webm", "sub/d.mkv", "e.avi", "notes.txt", "clip.npz"]:
        (tmp_path / name).write_bytes(b"x")
    found = find_videos([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.MOV", "b.mp4", "e.avi", "sub/c.webm", "sub/d.mkv"]
    assert find_videos([tmp_path / "notes.txt"]) == [tmp_path / "notes.txt"]  # named directly: kept, read says why
    with pytest.raises(GenseqError, match="no such file or folder"):
        find_videos([tmp_path / "missing"])
