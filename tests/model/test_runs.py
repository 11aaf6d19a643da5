"""The run folder's record (genseq.model.runs): data.json and config.yaml written, a resume on other data refused."""

import json

import pytest

from genseq.core.errors import GenseqError
from genseq.model.checkpoint import LAST, save_checkpoint
from genseq.model.runs import CONFIG_RECORD, DATA_RECORD, read_record, start_run

RECORD = {"data": "tunes", "split": "seeded split (seed 0)", "train": ["a", "b"], "valid": ["c"], "test": []}


def test_a_run_records_its_data_and_config(tmp_path):
    out = start_run(tmp_path / "run", RECORD, "model: {cell: lstm}\n")
    assert json.loads((out / DATA_RECORD).read_text()) == RECORD
    assert (out / CONFIG_RECORD).read_text() == "model: {cell: lstm}\n"


def test_resuming_on_other_pieces_or_another_split_is_refused(tmp_path):
    out = start_run(tmp_path / "run", RECORD, "")
    save_checkpoint(out / LAST, {"kind": "music", "train_state": {"epoch": 1}})  # a finished epoch
    start_run(out, {**RECORD, "data": str(tmp_path / "tunes")}, "")  # the same data written another way resumes
    for changed in ({"train": ["a", "x"]}, {"split": "seeded split (seed 1)"}, {"valid": []}):
        with pytest.raises(GenseqError, match=f"other {next(iter(changed))}"):
            start_run(out, {**RECORD, **changed}, "")


def test_without_a_last_checkpoint_a_new_record_replaces_the_old(tmp_path):
    out = start_run(tmp_path / "run", RECORD, "")
    start_run(out, {**RECORD, "train": ["z"]}, "")
    assert json.loads((out / DATA_RECORD).read_text())["train"] == ["z"]


def test_an_unreadable_record_reads_as_none(tmp_path):
    assert read_record(tmp_path / "missing.json") is None
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.json").write_text("{not json")
    assert read_record(tmp_path / "list.json") is None and read_record(tmp_path / "bad.json") is None
