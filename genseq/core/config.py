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
    """Music: every value comes from configs/music-<representation>.yaml (the one home of the tuned
    defaults), a user's config laid over it, then --set and the shortcut flags."""

    representation: Literal["melody", "pianoroll", "onsetroll"]
    steps_per_quarter: int = Field(..., ge=1, le=24)
    model: ModelConfig
    train: TrainConfig


class DanceConfig(StrictModel):
    """Dance: the stacked model with a mixture-density head over root-relative poses; every value
    comes from configs/dance.yaml, a user's config laid over it, then --set and the shortcut flags."""

    fps: float = Field(..., gt=0, le=240, description="clips are resampled to this rate")
    mixture_components: int = Field(..., ge=1, le=1024)
    mirror: bool = Field(..., description="left/right mirror augmentation")
    min_clip_seconds: float = Field(..., gt=0, description="shorter clips are refused as too short to train on")
    styles: bool = Field(False, description="condition on each clip's style (its folder, salsa/01: salsa)")
    style_dropout: float = Field(0.0, ge=0, le=1, description="with styles: chance a clip is shown with no style")
    model: ModelConfig
    train: TrainConfig


MAX_CONFIG_BYTES = 1_000_000


class NoAliasLoader(yaml.SafeLoader):
    """Plain YAML only: anchors and aliases (the way a "billion laughs" bomb grows) are refused."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not allowed in genseq YAML files")
        return super().compose_node(parent, index)


def read_yaml_mapping(path: str | Path) -> dict:
    """A YAML file that must hold a mapping; every problem is one GenseqError naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise GenseqError(f"config is larger than {MAX_CONFIG_BYTES // 1000} kB", path)
        raw = yaml.load(path.read_text(), Loader=NoAliasLoader) or {}
    except FileNotFoundError:
        raise GenseqError("no such config file", path) from None
    except IsADirectoryError:
        raise GenseqError("is a folder, not a config file", path) from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise GenseqError(f"cannot read config ({exc.__class__.__name__})", path) from None
    if not isinstance(raw, dict):
        raise GenseqError("config must be a mapping of keys to values", path)
    return raw


def load_yaml_config(path: str | Path, model: type[StrictModel]) -> StrictModel:
    return validate_config(read_yaml_mapping(path), model, path)


def validate_config(raw: dict, model: type[StrictModel], source: str | Path | None = None) -> StrictModel:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise GenseqError(f"invalid config: {problems}", source) from None


def deep_merge(base: dict, over: dict) -> dict:
    """base with over laid on it, mapping by mapping."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def parse_set(assignment: str) -> tuple[list[str], object]:
    """'train.lr=0.001' -> (['train', 'lr'], 0.001); the value is read as YAML (numbers, true, null, [..])."""
    key, sep, text = assignment.partition("=")
    parts = [part.strip() for part in key.split(".")]
    if not sep or not all(parts):
        raise GenseqError(f"expected section.key=value, got {assignment!r}", "--set")
    try:
        value = yaml.load(text, Loader=NoAliasLoader) if text.strip() else None
    except yaml.YAMLError:
        raise GenseqError(f"cannot read the value of {key} ({text!r})", "--set") from None
    return parts, value


def apply_sets(raw: dict, sets: list[str]) -> dict:
    """Each section.key=value of `sets` in turn, onto a copy of raw."""
    raw = deep_merge(raw, {})
    for path, value in map(parse_set, sets):
        target = raw
        for part in path[:-1]:
            if not isinstance(target.get(part), dict):
                raise GenseqError(f"unknown config section {'.'.join(path[:-1])!r} in {'.'.join(path)}", "--set")
            child = target[part] = dict(target[part])
            target = child
        target[path[-1]] = value
    return raw


def resolve_config(model: type[StrictModel], default_file: Path, config_path: str | Path | None = None,
                   sets: list[str] | None = None) -> StrictModel:
    """The one way a value is set: the tuned defaults (default_file), a user's config laid over them, then
    each --set section.key=value (a shortcut flag is a spelled-out --set); validated."""
    raw = read_yaml_mapping(default_file)
    if config_path is not None:
        raw = deep_merge(raw, read_yaml_mapping(config_path))
    raw = apply_sets(raw, sets or [])
    return validate_config(raw, model, config_path or default_file)


def chosen_value(key: str, config_path: str | Path | None, sets: list[str]) -> object:
    """What the last --set of a top-level key, else the user's config, says of it (None: neither does);
    e.g. the representation, which picks the tuned defaults a music run starts from."""
    for path, value in reversed([parse_set(text) for text in sets]):
        if path == [key]:
            return value
    return None if config_path is None else read_yaml_mapping(config_path).get(key)


def config_yaml(config: StrictModel) -> str:
    """The resolved config as plain YAML (written into every run folder beside the checkpoints)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
