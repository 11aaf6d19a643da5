"""Configs: tuned defaults from one YAML file, a user's file laid over them, then each --set (shortcut flags
are spelled-out --sets)."""

import pytest
import yaml

from genseq.core.config import DanceConfig, MusicConfig, config_yaml, load_yaml_config, parse_set, resolve_config
from genseq.core.errors import GenseqError
from genseq.core.paths import configs_dir


def test_user_config_and_sets_lay_over_the_tuned_defaults(tmp_path):
    user = tmp_path / "user.yaml"
    user.write_text("model: {hidden_size: 32}\ntrain: {lr: 0.01}\n")
    config = resolve_config(MusicConfig, configs_dir() / "music-melody.yaml", user,
                            ["train.epochs=3", "train.lr=0.02", "model.cell=gru", "steps_per_quarter=2"])
    tuned = yaml.safe_load((configs_dir() / "music-melody.yaml").read_text())
    assert (config.model.hidden_size, config.model.cell, config.train.lr, config.train.epochs) == (32, "gru", 0.02, 3)
    assert config.steps_per_quarter == 2 and config.model.num_layers == tuned["model"]["num_layers"]
    assert config.train.transpose == tuned["train"]["transpose"]  # untouched keys keep the tuned value
    assert yaml.safe_load(config_yaml(config)) == config.model_dump(mode="json")


def test_every_shipped_config_is_complete(tmp_path):
    """The tuned defaults live only in configs/: each file gives every value its config needs."""
    for name, model in [("music-melody.yaml", MusicConfig), ("music-pianoroll.yaml", MusicConfig), ("dance.yaml", DanceConfig)]:
        resolve_config(model, configs_dir() / name)
    partial = tmp_path / "partial.yaml"
    partial.write_text("representation: melody\n")
    with pytest.raises(GenseqError, match="steps_per_quarter"):  # a partial file is not a config on its own
        load_yaml_config(partial, MusicConfig)


@pytest.mark.parametrize("assignment,problem", [
    ("train.lr", "section.key=value"), ("=3", "section.key=value"), ("nosection.lr=1", "unknown config section"),
    ("train.lr=[1", "cannot read the value"),
])
def test_bad_sets_are_one_line_errors(assignment, problem):
    with pytest.raises(GenseqError, match=problem):
        resolve_config(MusicConfig, configs_dir() / "music-melody.yaml", None, [assignment])


def test_unknown_keys_and_bad_values_name_the_key():
    with pytest.raises(GenseqError, match="model.hidden_size"):
        resolve_config(MusicConfig, configs_dir() / "music-melody.yaml", None, ["model.hidden_size=0"])
    with pytest.raises(GenseqError, match="train.bogus"):
        resolve_config(MusicConfig, configs_dir() / "music-melody.yaml", None, ["train.bogus=1"])


def test_yaml_aliases_are_refused(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [1, 1, 1]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n")
    with pytest.raises(GenseqError, match="cannot read config"):
        resolve_config(MusicConfig, configs_dir() / "music-melody.yaml", bomb)
    assert parse_set("train.lr=0.5") == (["train", "lr"], 0.5)


def test_shortcut_flags_are_spelled_out_sets_and_pick_the_tuned_defaults(tmp_path):
    """--representation pianoroll starts from configs/music-pianoroll.yaml; a shortcut is the --set it names,
    applied before the user's own --sets (so an explicit --set of the same key wins)."""
    from genseq.core.domain import resolve_run_config
    from genseq.core.options import TrainMusicOptions
    from genseq.music.domain import MUSIC

    options = TrainMusicOptions(data="d", out="o", representation="pianoroll", epochs=3, set=["train.epochs=4"])
    assert options.config_sets() == ["train.epochs=3", "representation=pianoroll", "train.epochs=4"]
    config = resolve_run_config(MUSIC, None, options.config_sets())
    tuned = yaml.safe_load((configs_dir() / "music-pianoroll.yaml").read_text())
    assert config.representation == "pianoroll" and config.train.epochs == 4
    assert config.model.head == tuned["model"]["head"] and config.steps_per_quarter == tuned["steps_per_quarter"]
    user = tmp_path / "user.yaml"
    user.write_text("representation: pianoroll\n")  # the user's config names the representation: its defaults
    assert resolve_run_config(MUSIC, user, []).model.head == tuned["model"]["head"]
