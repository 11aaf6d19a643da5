"""Checkpoint integrity: a tensor digest, finite weights, any unreadable file refused in one line."""

import math
import struct
import zipfile

import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig, TrainConfig
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import FORMAT, check_resume_seed, load_checkpoint, save_checkpoint, tensor_digest
from genseq.model.load import build_model, load_model
from genseq.model.train import ModelSpec, train
from genseq.music.domain import MUSIC
from tests.conftest import REPO

MODEL = ModelConfig(hidden_size=8, num_layers=2, dropout=0.1)


def small_payload(**extra) -> dict:
    model = build_model({"config": {"model": MODEL.model_dump()}, "input_size": 4, "output_size": 4})
    return {"kind": "music", "head": "categorical", "input_size": 4, "output_size": 4, "representation": {"name": "toy"},
            "config": {"model": MODEL.model_dump(), "train": {"seed": 3}}, "state_dict": model.state_dict(), **extra}


def data_entries(path):
    """(offset, size) in the file of each stored tensor's bytes (torch's zip stores them uncompressed)."""
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist() if "/data/" in info.filename and info.file_size > 0]
    raw = path.read_bytes()
    entries = []
    for info in infos:
        name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
        entries.append((info.header_offset + 30 + name_len + extra_len, info.file_size))
    return entries


def test_digest_is_saved_and_checked(tmp_path):
    path = save_checkpoint(tmp_path / "ok.pt", small_payload())
    payload = load_checkpoint(path, kind="music")
    assert payload["digest"] == tensor_digest(payload) and len(payload["digest"]) == 64


@pytest.mark.parametrize("flips", [1, 2000])
def test_flipped_bytes_in_tensors_are_refused(tmp_path, flips):
    path = save_checkpoint(tmp_path / "ck.pt", small_payload())
    raw = bytearray(path.read_bytes())
    rng = np.random.default_rng(flips)
    spots = [offset + int(rng.integers(size)) for offset, size in data_entries(path) for _ in range(max(1, flips // 6))]
    for spot in spots[:flips]:
        raw[spot] ^= 0x5A
    path.write_bytes(bytes(raw))
    with pytest.raises(GenseqError, match="do not match their recorded digest") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_refused_even_with_a_matching_digest(tmp_path, bad):
    payload = small_payload()
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name].view(-1)[0] = bad
    path = save_checkpoint(tmp_path / "nan.pt", payload)
    with pytest.raises(GenseqError, match=f"weight {name} holds NaN or infinite"):
        load_checkpoint(path)


def test_checkpoints_without_a_digest_still_load(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": FORMAT, **small_payload()}, path)
    assert "digest" not in load_checkpoint(path)


@pytest.mark.parametrize("name", ["music-melody.pt", "music-pianoroll.pt", "dance.pt"])
def test_bundled_checkpoints_load(name):
    path = REPO / "assets" / name
    if not path.exists():
        pytest.skip(f"{path} not bundled")
    assert load_checkpoint(path)["state_dict"]


def unreadable_files(tmp_path) -> dict:
    good = save_checkpoint(tmp_path / "good.pt", small_payload()).read_bytes()
    rng = np.random.default_rng(0)
    files = {"text": b"this is not a checkpoint\n" * 20, "nul": b"\x00" * 4096, "zip-magic": b"PK\x03\x04" + bytes(200),
             "pickle-magic": b"\x80\x02" + rng.bytes(500), "json": b'{"format": "genseq-checkpoint-1"}'}
    files.update({f"random-{i}": rng.bytes(int(rng.integers(1, 5000))) for i in range(20)})
    files.update({f"truncated-{cut}": good[:cut] for cut in (1, 10, 100, 1000, len(good) // 2, len(good) - 1)})
    return files


def test_any_unreadable_file_is_one_genseq_error(tmp_path):
    for name, content in unreadable_files(tmp_path).items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(content)
        with pytest.raises(GenseqError) as info:
            load_checkpoint(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value), name


def test_a_state_dict_that_is_not_tensors_is_refused(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"format": FORMAT, "kind": "music", "state_dict": {"w": [1, 2, 3]}}, path)
    with pytest.raises(GenseqError, match="not a set of tensors"):
        load_checkpoint(path)


def test_symlink_loop_folder_and_device_are_told_apart(tmp_path):
    loop = tmp_path / "loop.pt"
    loop.symlink_to(loop)
    with pytest.raises(GenseqError, match="too many levels of symbolic links"):
        load_checkpoint(loop)
    with pytest.raises(GenseqError, match="run folder has no best.pt"):
        load_checkpoint(tmp_path)
    with pytest.raises(GenseqError, match="not a regular file"):
        load_checkpoint("/dev/null")


def test_a_huge_recorded_config_is_refused_before_allocating(tmp_path, monkeypatch):
    payload = small_payload()
    payload["config"]["model"]["hidden_size"] = 100_000
    path = save_checkpoint(tmp_path / "huge.pt", payload)
    monkeypatch.setenv("GENSEQ_MAX_MEMORY", "1G")
    with pytest.raises(GenseqError, match="model.hidden_size: needs about"):
        load_model(path, MUSIC, "cpu")


def test_resuming_with_another_seed_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", small_payload())
    check_resume_seed(path, 3)
    with pytest.raises(GenseqError, match="seed 3, not 4") as info:
        check_resume_seed(path, 4)
    assert str(tmp_path) in str(info.value)


def test_train_refuses_resume_with_another_seed(tmp_path):
    from genseq.core.pieces import EncodedPiece

    onehot = np.eye(4, dtype=np.float32)[np.arange(41) % 4]
    pieces = [EncodedPiece(onehot[:-1], (np.arange(1, 41) % 4).astype(np.int64))] * 2

    class Source:
        def epoch(self, rng):
            return pieces

    spec = ModelSpec("music", "categorical", 4, 4, {"name": "toy"}, {"model": MODEL.model_dump(), "train": {"seed": 1}})
    config = dict(epochs=1, batch_size=2, seq_len=16, patience=5)
    train(spec, TrainConfig(seed=1, **config), Source(), pieces, tmp_path / "run", show_progress=False)
    other = ModelSpec("music", "categorical", 4, 4, {"name": "toy"}, {"model": MODEL.model_dump(), "train": {"seed": 2}})
    with pytest.raises(GenseqError, match="seed 1, not 2"):
        train(other, TrainConfig(seed=2, **{**config, "epochs": 2}), Source(), pieces,
                 tmp_path / "run", show_progress=False)
