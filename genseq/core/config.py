"""Validated configs (pydantic). Unknown keys are errors; each checkpoint records the full config."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from genseq.core.errors import GenseqError


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(StrictModel):
    """The stacked recurrent network; the cell type is a parameter so users can compare them."""

    cell: Literal["lstm", "gru", "rnn"] = "lstm"
    hidden_size: int = Field(256, ge=1)
    num_layers: int = Field(3, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    # Graves (2013): the input feeds every layer and every layer feeds the output head
    input_to_all_layers: bool = True
    # the output head: "default" is the data's own (softmax, independent Bernoullis, mixture);
    # "nade" models K binary units of a step jointly (RNN-NADE), with nade_hidden hidden units
    head: Literal["default", "bernoulli", "nade"] = "default"
    nade_hidden: int = Field(100, ge=1)


class TrainConfig(StrictModel):
    epochs: int = Field(100, ge=1)
    batch_size: int = Field(32, ge=1)
    seq_len: int = Field(128, ge=2)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    patience: int = Field(8, ge=1, description="epochs without a better validation loss before stopping")
    lr_decay: float = Field(0.5, gt=0, le=1, description="learning-rate factor after patience//2 epochs without progress")
    seed: int = 0
    max_minutes: float | None = Field(None, gt=0, description="stop after this much training time")
    max_batches_per_epoch: int | None = Field(None, ge=1, description="dry-run/smoke-test cap")
    valid_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.1, ge=0, lt=1)
    transpose: int = Field(0, ge=0, le=12, description="random transposition in [-n, n] semitones (melody)")
    # auto-conditioning (acLSTM): after each run of `condition_truth_steps` steps fed the data, feed the
    # model its own predictions for `condition_self_steps` steps; 0 means plain teacher forcing
    condition_truth_steps: int = Field(5, ge=1)
    condition_self_steps: int = Field(0, ge=0)


class MusicConfig(StrictModel):
    representation: Literal["melody", "pianoroll"] = "melody"
    steps_per_quarter: int = Field(4, ge=1, le=24)
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()


class DanceConfig(StrictModel):
    """Dance: the stacked model with a mixture-density head over root-relative poses."""

    fps: float = Field(30.0, gt=0, description="clips are resampled to this rate")
    mixture_components: int = Field(8, ge=1)
    mirror: bool = Field(True, description="left/right mirror augmentation")
    min_clip_seconds: float = Field(2.0, gt=0, description="shorter clips are refused as too short to train on")
    model: ModelConfig = ModelConfig(hidden_size=256, num_layers=3, dropout=0.1)
    train: TrainConfig = TrainConfig(seq_len=120, batch_size=16, lr=1e-3, condition_truth_steps=5, condition_self_steps=5)


def load_yaml_config(path: str | Path, model: type[StrictModel]) -> StrictModel:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise GenseqError("no such config file", path) from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise GenseqError(f"cannot read config ({exc.__class__.__name__})", path) from None
    if not isinstance(raw, dict):
        raise GenseqError("config must be a mapping of keys to values", path)
    return validate_config(raw, model, path)


def validate_config(raw: dict, model: type[StrictModel], source: str | Path | None = None) -> StrictModel:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise GenseqError(f"invalid config: {problems}", source) from None


SECTIONS = {"cell": "model", "epochs": "train", "max_minutes": "train", "seed": "train", "condition_self_steps": "train"}


def with_overrides(base: StrictModel, overrides: dict, source: str | Path | None = None) -> StrictModel:
    """A copy of a config with command-line overrides (None: keep) applied to their sections."""
    raw = base.model_dump()
    for key, value in overrides.items():
        if value is not None:
            (raw[SECTIONS[key]] if key in SECTIONS else raw)[key] = value
    return validate_config(raw, type(base), source)


def resolve_dance_config(config_path: str | Path | None, overrides: dict) -> "DanceConfig":
    from genseq.core.paths import configs_dir

    base = load_yaml_config(config_path or configs_dir() / "dance.yaml", DanceConfig)
    return with_overrides(base, overrides, config_path)
