import math

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.motion.bvh import forward_kinematics, parse_bvh, read_bvh, rest_positions, resample
from genseq.motion.landmarks import guess_unit, map_to_landmarks
from genseq.motion.skeleton import BONE_INDICES, INDEX, LANDMARKS, MIRROR
from tests.conftest import SHARED
from tests.motion.conftest import ARM, write_bvh

CMU = SHARED / "cmu-dance-bvh"
needs_cmu = pytest.mark.skipif(
    not (CMU / "salsa").is_dir(), reason=f"real data absent: {CMU} (the ../shared datasets folder) not found"
)




def test_forward_kinematics_matches_hand_computed_positions(tmp_path):
    path = write_bvh(tmp_path, [
        [1, 2, 3, 90, 0, 0, 0, 90, 0],   # root at (1,2,3) turned 90 about z; the joint turned 90 about x
        [0, 0, 0, 0, 0, 0, 0, 0, 0],     # rest pose
        [0, 0, 0, 0, 0, 90, 0, 0, 0],    # root turned 90 about y: +x goes to -z
    ])
    data = parse_bvh(path)
    assert data.names == ["Hips", "LeftUpLeg", "LeftUpLeg/end"] and data.parents == [-1, 0, 1]
    positions = forward_kinematics(data)
    # Rz(90) takes the (2,0,0) offset to (0,2,0); Rz(90) Rx(90) takes the end's (0,1,0) to (0,0,1)
    np.testing.assert_allclose(positions[0], [[1, 2, 3], [1, 4, 3], [1, 4, 4]], atol=1e-9)
    np.testing.assert_allclose(positions[1], [[0, 0, 0], [2, 0, 0], [2, 1, 0]], atol=1e-9)
    np.testing.assert_allclose(positions[2], [[0, 0, 0], [0, 0, -2], [0, 1, -2]], atol=1e-9)


def test_rotations_apply_in_the_listed_channel_order(tmp_path):
    row = [[0, 0, 0, 0, 0, 0, 90, 90, 0]]  # the joint's first two channels are both 90 degrees
    zx = forward_kinematics(parse_bvh(write_bvh(tmp_path, row, "Zrotation Xrotation Yrotation", name="zx.bvh")))
    xz = forward_kinematics(parse_bvh(write_bvh(tmp_path, row, "Xrotation Zrotation Yrotation", name="xz.bvh")))
    np.testing.assert_allclose(zx[0, 2] - zx[0, 1], [0, 0, 1], atol=1e-9)    # Rz Rx (0,1,0)
    np.testing.assert_allclose(xz[0, 2] - xz[0, 1], [-1, 0, 0], atol=1e-9)   # Rx Rz (0,1,0)


def test_position_channels_in_any_order(tmp_path):
    path = tmp_path / "order.bvh"
    path.write_text(ARM.replace("Xposition Yposition Zposition Zrotation Xrotation Yrotation",
                                "Yrotation Zposition Xposition Yposition Xrotation Zrotation")
                    % ("Zrotation Xrotation Yrotation", 1, "0.1", "0 3 1 2 0 0 0 0 0"))
    np.testing.assert_allclose(forward_kinematics(parse_bvh(path))[0, 0], [1, 2, 3])


LEGS = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT LeftUpLeg
  { OFFSET 8 0 0  CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT LeftLeg
    { OFFSET 0 -42 0  CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT LeftFoot
      { OFFSET 0 -43 0  CHANNELS 3 Zrotation Xrotation Yrotation
        End Site { OFFSET 0 -5 12 } } } }
  JOINT r_thigh
  { OFFSET -8 0 0  CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT rShin
    { OFFSET 0 -42 0  CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT RFOOT
      { OFFSET 0 -43 0  CHANNELS 3 Zrotation Xrotation Yrotation
        End Site { OFFSET 0 -5 12 } } } }
}
MOTION
Frames: %d
Frame Time: %s
%s
"""


def write_legs(tmp_path, unit_scale=1.0, frames=1, frame_time="0.0333333", x_step=0.0):
    text = LEGS.replace("8 0 0", f"{8 * unit_scale} 0 0").replace("0 -42 0", f"0 {-42 * unit_scale} 0")
    text = text.replace("0 -43 0", f"0 {-43 * unit_scale} 0")
    text = text.replace("0 -5 12", f"0 {-5 * unit_scale} {12 * unit_scale}")
    rows = "\n".join(" ".join(["%g" % (i * x_step), "90", "0"] + ["0"] * 21) for i in range(frames))
    path = tmp_path / "legs.bvh"
    path.write_text(text % (frames, frame_time, rows))
    return path


def test_joints_map_onto_landmarks_and_the_rest_stay_invalid(tmp_path):
    clip = read_bvh(write_legs(tmp_path))
    assert clip.joint_names == LANDMARKS and clip.positions.shape == (1, 33, 3) and clip.fps == 30.0
    mapped = {"left_hip", "left_knee", "left_ankle", "left_foot_index",
              "right_hip", "right_knee", "right_ankle", "right_foot_index"}
    assert {LANDMARKS[i] for i in np.flatnonzero(clip.valid[0])} == mapped
    pose = clip.positions[0]
    np.testing.assert_allclose(pose[INDEX["left_hip"]], [0.08, 0.90, 0], atol=1e-6)    # centimetres -> metres
    np.testing.assert_allclose(pose[INDEX["right_ankle"]], [-0.08, 0.05, 0], atol=1e-6)
    np.testing.assert_allclose(pose[INDEX["left_foot_index"]], [0.08, 0.0, 0.12], atol=1e-6)
    assert np.isfinite(clip.positions).all()
    np.testing.assert_array_equal(pose[INDEX["left_heel"]], pose[INDEX["left_ankle"]])  # filled, not valid


def test_names_match_ignoring_case_separators_and_namespaces():
    mapping = map_to_landmarks(["mixamorig:Hips", "mixamorig:LeftUpLeg", "left_leg", "LEFTFOOT", "LeftShoulder",
                                "LHipJoint", "RightArm", "rShldr"])
    assert mapping == {"left_hip": 1, "left_knee": 2, "left_ankle": 3, "right_shoulder": 6}  # clavicle, LHipJoint: no


@pytest.mark.parametrize("unit_scale, unit", [(1.0, "cm"), (0.01, "m"), (10.0, "mm"), (1 / 2.54, "inch"),
                                               (0.45 / 2.54, "cmu")])
def test_unit_comes_from_the_leg_length(tmp_path, unit_scale, unit):
    data = parse_bvh(write_legs(tmp_path, unit_scale))
    name, metres = guess_unit(rest_positions(data), map_to_landmarks(data.names))
    assert name == unit
    clip = read_bvh(write_legs(tmp_path, unit_scale))
    thigh = np.linalg.norm(clip.positions[0, INDEX["left_hip"]] - clip.positions[0, INDEX["left_knee"]])
    assert thigh == pytest.approx(0.42, rel=0.01)


def test_resampling_interpolates_linearly(tmp_path):
    # 9 frames at 120 fps, the root moving 1 cm a frame: 3 frames at 30 fps, 4 cm apart
    clip = read_bvh(write_legs(tmp_path, frames=9, frame_time="0.00833333", x_step=1.0), fps=30)
    assert clip.num_frames == 3
    np.testing.assert_allclose(clip.positions[:, INDEX["left_hip"], 0], [0.08, 0.12, 0.16], atol=1e-6)
    # 3 frames at 10 fps up to 30 fps: 7 frames, in between by thirds
    clip = read_bvh(write_legs(tmp_path, frames=3, frame_time="0.1", x_step=3.0), fps=30)
    np.testing.assert_allclose(clip.positions[:, INDEX["left_hip"], 0], 0.08 + np.arange(7) * 0.01, atol=1e-6)
    np.testing.assert_allclose(resample(np.arange(5.0)[:, None], 4.0, 4.0)[:, 0], np.arange(5.0))


HEAD = "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Xposition Yposition Zposition\n"
GOOD_MOTION = "MOTION\nFrames: 2\nFrame Time: 0.1\n0 1 2\n3 4 5\n"


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"hello, this is not motion capture\n", "not a BVH file"),
    (b"\x00\x01\x02HIERARCHY", "not a BVH file"),
    ((HEAD + GOOD_MOTION).encode(), "unbalanced braces"),
    ((HEAD + "}\n}\n" + GOOD_MOTION).encode(), "unbalanced braces"),
    (("HIERARCHY\nROOT Hips\n{\n  CHANNELS 3 Xposition Yposition Zposition\n}\n" + GOOD_MOTION).encode(),
     "joint 'Hips' has no OFFSET"),
    (("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n}\n" + GOOD_MOTION).encode(), "joint 'Hips' has no CHANNELS"),
    (("HIERARCHY\nJOINT Hips\n{\n}\n" + GOOD_MOTION).encode(), "no ROOT joint"),
    ((HEAD + "  OFFSET 1 2 3\n}\n" + GOOD_MOTION).encode(), "unexpected 'OFFSET'"),
    ((HEAD + "  JOINT Spine\n  {\n    OFFSET 0 x 0\n    CHANNELS 0\n  }\n}\n" + GOOD_MOTION).encode(),
     "'x' is not a number"),
    ((HEAD + "}\n").encode(), "no MOTION section"),
    ((HEAD + "}\nMOTION\nFrames: 2\nFrame Time: 0.1\n0 1 2\n3 4\n").encode(),
     "frame 2 has 2 values, the hierarchy declares 3"),
    ((HEAD + "}\nMOTION\nFrames: 0\nFrame Time: 0.1\n").encode(), "no motion frames"),
    ((HEAD + "}\nMOTION\nFrames: 3\nFrame Time: 0.1\n0 1 2\n3 4 5\n").encode(), "declares 3 frames but has 2 rows"),
    ((HEAD + "}\nMOTION\nFrames: 1\nFrame Time: 0\n0 1 2\n").encode(), "bad Frame Time"),
    ((HEAD + "}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 one 2\n").encode(), "frame 1: 'one' is not a number"),
    ((HEAD + "}\n" + GOOD_MOTION).encode(), "no joint matches a BlazePose landmark"),
])
def test_bad_files_say_why_in_one_line(tmp_path, content, problem):
    path = tmp_path / "bad.bvh"
    path.write_bytes(content)
    with pytest.raises(GenseqError, match=problem) as info:
        read_bvh(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(GenseqError, match="no such file"):
        read_bvh(tmp_path / "absent.bvh")
    with pytest.raises(GenseqError, match="is a folder"):
        read_bvh(tmp_path)


@needs_cmu
def test_real_cmu_salsa_clip():
    path = CMU / "salsa" / "01.bvh"
    source = parse_bvh(path)
    assert source.source_fps == pytest.approx(120, rel=1e-4)
    clip = read_bvh(path, fps=30)
    assert clip.fps == 30 and clip.num_frames == math.floor((len(source.motion) - 1) / 4) + 1
    pos, valid = clip.positions, clip.valid
    assert np.isfinite(pos).all() and valid.all(axis=0).sum() == 22 and (valid == valid[0]).all()

    def length(a, b):
        return np.linalg.norm(pos[:, INDEX[a]] - pos[:, INDEX[b]], axis=-1)

    for side in ("left", "right"):
        thigh, shin = length(f"{side}_hip", f"{side}_knee"), length(f"{side}_knee", f"{side}_ankle")
        assert 0.35 < thigh.min() and thigh.max() < 0.55 and thigh.std() < 1e-4  # rigid bones, in metres
        assert 0.3 < shin.min() and shin.max() < 0.55
        assert (pos[:, INDEX[f"{side}_hip"], 1] > pos[:, INDEX[f"{side}_ankle"], 1]).mean() > 0.95  # y up
    assert 1.3 < pos[:, INDEX["left_eye"], 1].max() < 1.9 and pos[:, INDEX["left_foot_index"], 1].min() > -0.05

    # left and right are distinct, and left really is the dancer's left: up x forward (toes) points left
    assert length("left_hip", "right_hip").min() > 0.1 and length("left_shoulder", "right_shoulder").min() > 0.1
    forward = sum(pos[:, INDEX[f"{s}_foot_index"]] - pos[:, INDEX[f"{s}_ankle"]] for s in ("left", "right"))
    to_left = np.cross([0.0, 1.0, 0.0], forward)
    assert (np.einsum("fi,fi->f", to_left, pos[:, INDEX["left_hip"]] - pos[:, INDEX["right_hip"]]) > 0).mean() > 0.8

    # the mirror map pairs valid landmarks with valid landmarks, and each bone with one of the same length
    assert (valid[:, MIRROR] == valid).all()
    for a, b in BONE_INDICES:
        if valid[0, a] and valid[0, b]:
            assert length(LANDMARKS[MIRROR[a]], LANDMARKS[MIRROR[b]]).mean() == pytest.approx(
                length(LANDMARKS[a], LANDMARKS[b]).mean(), rel=0.05)
