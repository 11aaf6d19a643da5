import json

import numpy as np
import pytest
import torch

from genseq.core.config import DanceConfig, deep_merge, read_yaml_mapping, validate_config
from genseq.core.paths import configs_dir
from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip, load_clip, save_clip
from genseq.motion.bvh import read_bvh
from genseq.motion.encode import bone_lengths
from genseq.core.options import EvalDanceOptions, GenerateDanceOptions
from genseq.model.train import train_domain
from genseq.motion.domain import DANCE, load_motion_clips, resample_clip
from genseq.motion.extract import extract_motion
from genseq.motion.evaluate import evaluate_dance
from genseq.motion.generate import default_dance_checkpoint, generate_dance, write_dance_outputs
from tests.conftest import SHARED
from tests.motion.conftest import moving_clip, video_like, write_bvh

CMU = SHARED / "cmu-dance-bvh"
needs_cmu = pytest.mark.skipif(
    not (CMU / "salsa").is_dir(), reason=f"real data absent: {CMU} (the ../shared datasets folder) not found"
)


def tiny_config(**train) -> DanceConfig:
    """The tuned dance config with a tiny model and a few batches laid over it."""
    return validate_config(deep_merge(read_yaml_mapping(configs_dir() / "dance.yaml"), {
        "mixture_components": 2,
        "model": {"hidden_size": 16, "num_layers": 2, "dropout": 0.0},
        "train": {"epochs": 2, "batch_size": 4, "seq_len": 30, "max_batches_per_epoch": 2, "condition_truth_steps": 5,
                  "condition_self_steps": 5, **train},
    }), DanceConfig)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained on two real CMU clips (a salsa and an indian one)."""
    if not (CMU / "salsa").is_dir():
        pytest.skip(f"real data absent: {CMU} (the ../shared datasets folder) not found")
    root = tmp_path_factory.mktemp("dance")
    data = root / "data"
    data.mkdir()
    for name in ("salsa/05.bvh", "indian/13.bvh"):
        (data / name.replace("/", "_")).symlink_to(CMU / name)
    result = train_domain(DANCE, data, root / "run", tiny_config(), device="cpu", show_progress=False)
    return root, data, result


@needs_cmu
def test_train_generate_render_and_evaluate_on_real_clips(trained, tmp_path):
    root, data, result = trained
    assert result.epochs_run == 2 and result.best_checkpoint.is_file()
    split = json.loads((root / "run" / "data.json").read_text())
    assert sorted(split["train"] + split["valid"]) == ["indian_13", "salsa_05"]
    payload = torch.load(result.best_checkpoint, weights_only=True)
    assert payload["kind"] == "dance" and payload["value_size"] == 70 and payload["head"] == "mdn"

    clips = generate_dance(GenerateDanceOptions(checkpoint=str(result.best_checkpoint), seconds=3.0, seed=1, device="cpu"))
    assert len(clips) == 1 and clips[0].num_frames == 90 and clips[0].fps == 30.0
    assert clips[0].valid.sum(axis=1).tolist() == [22] * 90 and np.isfinite(clips[0].positions).all()
    written = write_dance_outputs(clips, tmp_path / "dance.mp4", tmp_path / "dance.npz", {"size": 128})
    assert [p.name for p in written] == ["dance.mp4", "dance.npz"]
    assert (tmp_path / "dance.mp4").read_bytes()[4:8] == b"ftyp"
    again = load_clip(tmp_path / "dance.npz")
    np.testing.assert_array_equal(again.positions, clips[0].positions)

    metrics = evaluate_dance(EvalDanceOptions(checkpoint=str(result.best_checkpoint), data=str(data), seconds=6.0, num_samples=2,
                                              seed=0, device="cpu"))
    json.dumps(metrics)  # one JSON-able object
    for key in ("min_window_speed_ratio", "frechet_kinetic", "diversity", "bone_length_error", "foot_sliding"):
        assert np.isfinite(metrics[key]), key
    assert metrics["samples"] == 2 and len(metrics["window_speeds_every_second"]) == 2
    assert metrics["real"]["bone_length_error"] < 0.01  # motion capture has rigid bones


@needs_cmu
def test_generation_continues_a_primer_with_its_bone_lengths(trained, tmp_path):
    _, _, result = trained
    primer = read_bvh(CMU / "salsa" / "06.bvh", 30.0)
    short = MotionClip(primer.positions[:40], primer.valid[:40], 30.0, primer.joint_names)
    save_clip(short, tmp_path / "primer.npz")
    options = GenerateDanceOptions(checkpoint=str(result.best_checkpoint), primer=str(tmp_path / "primer.npz"), seconds=1.0,
                                   seed=3, num_outputs=2, device="cpu")
    first = generate_dance(options)
    second = generate_dance(options)
    assert len(first) == 2 and not np.array_equal(first[0].positions, first[1].positions)
    np.testing.assert_array_equal(first[0].positions, second[0].positions)  # same seed, same dance
    hips = lambda clip, frame: clip.positions[frame, 23:25].mean(axis=0)  # noqa: E731
    assert np.linalg.norm(hips(first[0], 0) - hips(short, -1)) < 0.3  # it starts where the primer stops
    lengths = bone_lengths(short)
    for name, length in bone_lengths(first[0]).items():
        assert length == pytest.approx(lengths[name], rel=1e-4), name
    written = write_dance_outputs(first, None, tmp_path / "out.npz")
    assert [p.name for p in written] == ["out_000.npz", "out_001.npz"]


def test_extract_motion_writes_one_clip_per_input(tmp_path):
    clip = moving_clip(120, fps=60.0)
    save_clip(clip, tmp_path / "a.npz")
    bvh = write_bvh(tmp_path, [[0, 0, 0, 0, 0, 0, 0, 0, 0]] * 4, frame_time="0.1")
    single = extract_motion([tmp_path / "a.npz"], tmp_path / "one.npz", fps=30.0)
    assert single == [tmp_path / "one.npz"]
    assert load_clip(single[0]).num_frames == 60 and load_clip(single[0]).fps == 30.0
    seen = []
    written = extract_motion([tmp_path / "a.npz", bvh], tmp_path / "clips", 30.0, progress=lambda d, t: seen.append((d, t)))
    assert [p.name for p in written] == ["a.npz", "arm.npz"]
    assert seen[-1][0] == seen[-1][1] == 60 + 10  # the BVH: 0.3 s at 30 fps


def test_resampling_keeps_validity_only_between_valid_frames():
    valid = np.ones((60, 33), dtype=bool)
    valid[10, 0] = False
    clip = resample_clip(moving_clip(60, fps=60.0, valid=valid), 30.0)
    assert clip.num_frames == 30 and clip.fps == 30.0
    assert not clip.valid[5, 0] and clip.valid[4, 0] and clip.valid[6, 0]


def test_a_clip_too_short_to_train_on_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    save_clip(moving_clip(36), data / "short.npz")
    with pytest.raises(GenseqError, match=r"too short to train on: 1\.2 s, need 2\.0 s") as error:
        train_domain(DANCE, data / "short.npz", tmp_path / "run", tiny_config(), show_progress=False)
    assert error.value.path == data / "short.npz"
    save_clip(moving_clip(30), data / "shorter.npz")
    with pytest.raises(GenseqError, match=r"no clip is long enough to train on"):
        train_domain(DANCE, data, tmp_path / "run", tiny_config(), show_progress=False)
    assert not (tmp_path / "run" / "best.pt").exists()


def test_short_clips_in_a_folder_are_dropped_with_their_reason(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    save_clip(moving_clip(120), data / "long.npz")
    save_clip(moving_clip(150), data / "longer.npz")
    save_clip(moving_clip(36), data / "short.npz")
    train_domain(DANCE, data, tmp_path / "run", tiny_config(epochs=1), device="cpu", show_progress=False)
    dropped = json.loads((tmp_path / "run" / "data.json").read_text())["dropped"]
    assert dropped == [{"file": str(data / "short.npz"), "reason": "too short to train on: 1.2 s, need 2.0 s"}]


def test_a_single_video_clip_is_split_in_time_and_trains(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    save_clip(video_like(moving_clip(150)), data / "only.npz")
    result = train_domain(DANCE, data, tmp_path / "run", tiny_config(epochs=1), device="cpu", show_progress=False)
    assert "one clip" in json.loads((tmp_path / "run" / "data.json").read_text())["split"]
    clip = generate_dance(GenerateDanceOptions(checkpoint=str(result.best_checkpoint), seconds=1.0, device="cpu"))[0]
    hips = clip.positions[:, 23:25].mean(axis=1)
    # video has no root trajectory to learn from: the dancer stays on the spot at hip height 0
    assert np.abs(hips).max() < 0.1


def test_a_bvh_with_a_broken_hierarchy_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.bvh"
    broken.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition\n}\nMOTION\nFrames: 1\n"
                      "Frame Time: 0.1\n0 0 0 0 0 0\n")
    with pytest.raises(GenseqError, match="broken BVH hierarchy") as error:
        extract_motion([broken], tmp_path / "out.npz")
    assert error.value.path == broken and not (tmp_path / "out.npz").exists()


def test_a_file_that_is_not_a_video_is_a_clear_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a video at all\n" * 20)
    with pytest.raises(GenseqError, match="not a video file") as error:
        extract_motion([text], tmp_path / "out")
    assert error.value.path == text and not list((tmp_path / "out").glob("*.npz"))
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00" * 1000)
    with pytest.raises(GenseqError, match="not a video file"):
        load_motion_clips(fake, 30.0)


def test_other_bad_inputs_are_clear_errors(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GenseqError, match="no videos, BVH files or .npz clips"):
        load_motion_clips(empty, 30.0)
    save_clip(moving_clip(30), tmp_path / "a.npz")
    save_clip(moving_clip(30), tmp_path / "b.npz")
    with pytest.raises(GenseqError, match="give a folder"):
        extract_motion([tmp_path / "a.npz", tmp_path / "b.npz"], tmp_path / "both.npz")
    monkeypatch.setenv("GENSEQ_ASSETS", str(tmp_path / "no-assets"))
    with pytest.raises(GenseqError, match="bundled model is missing"):
        default_dance_checkpoint()
    with pytest.raises(GenseqError, match="unknown render option"):
        write_dance_outputs([moving_clip(10)], tmp_path / "x.mp4", None, {"colour": "red"})
    with pytest.raises(GenseqError, match="must end in .npz"):
        write_dance_outputs([moving_clip(10)], None, tmp_path / "x.json")
    torch.save({"format": "genseq-checkpoint-1", "kind": "music"}, tmp_path / "music.pt")
    with pytest.raises(GenseqError, match="expected a dance checkpoint"):
        generate_dance(GenerateDanceOptions(checkpoint=str(tmp_path / "music.pt"), seconds=1.0))
