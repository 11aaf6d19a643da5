"""The one loader (genseq.model.load): a checkpoint as its model and representation, or one clean refusal."""

from types import SimpleNamespace

import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import save_checkpoint
from genseq.model.load import build_model, load_model

MODEL = ModelConfig(hidden_size=8, num_layers=2, dropout=0.0)


class ToyDomain:
    kind = "music"

    def from_metadata(self, metadata: dict):
        return SimpleNamespace(name=metadata["name"], value_size=int(metadata["value_size"]))


def saved(tmp_path, representation=None, **overrides):
    fields = {"kind": "music", "head": "categorical", "input_size": 4, "output_size": 4, "value_size": 4,
              "representation": representation or {"name": "toy", "value_size": 4}, "config": {"model": MODEL.model_dump()}}
    model = build_model(fields)
    return save_checkpoint(tmp_path / "best.pt", {**fields, "state_dict": model.state_dict(), **overrides}), model


def test_a_checkpoint_loads_as_its_model_and_representation(tmp_path):
    path, model = saved(tmp_path)
    loaded = load_model(path, ToyDomain(), "cpu")
    assert loaded.representation.name == "toy" and loaded.path == str(path) and loaded.device == torch.device("cpu")
    assert all(torch.equal(a, b) for a, b in zip(loaded.model.state_dict().values(), model.state_dict().values()))
    assert load_model(tmp_path, ToyDomain(), "cpu").path == str(path)  # a folder: its best (here the only) checkpoint


def test_a_checkpoint_of_another_domain_is_refused(tmp_path):
    path, _ = saved(tmp_path)
    with pytest.raises(GenseqError, match="is a music checkpoint, expected a dance checkpoint"):
        load_model(path, SimpleNamespace(kind="dance", from_metadata=ToyDomain().from_metadata), "cpu")


@pytest.mark.parametrize("representation,problem", [
    ({"name": "toy"}, "representation is unreadable"),
    ({"name": "toy", "value_size": 5}, "does not match its representation"),
])
def test_a_representation_that_does_not_fit_is_refused(tmp_path, representation, problem):
    path, _ = saved(tmp_path, representation)
    with pytest.raises(GenseqError, match=problem):
        load_model(path, ToyDomain(), "cpu")


def test_weights_that_do_not_fit_the_recorded_config_are_refused(tmp_path):
    path, _ = saved(tmp_path, config={"model": {**MODEL.model_dump(), "hidden_size": 16}})
    with pytest.raises(GenseqError, match="does not match its recorded config"):
        load_model(path, ToyDomain(), "cpu")
