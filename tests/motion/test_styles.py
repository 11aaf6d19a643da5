import numpy as np
import pytest

from genseq.core.config import DanceConfig, deep_merge, read_yaml_mapping, validate_config
from genseq.core.errors import GenseqError
from genseq.core.motion import save_clip
from genseq.core.options import GenerateDanceOptions
from genseq.core.paths import configs_dir
from genseq.model.train import train_domain
from genseq.motion.domain import DANCE, mirrorer
from genseq.motion.encode import fit_encoding
from genseq.motion.generate import generate_dance
from genseq.motion.styles import check_style, drop_styles, fitted_styles, style_of, style_vector
from tests.motion.conftest import moving_clip


def named(clip, name):
    clip.name = name
    return clip


def test_a_clips_style_is_its_first_folder():
    assert style_of("salsa/01") == "salsa" and style_of("salsa/01@120") == "salsa"
    assert style_of("salsa_01") is None and style_of(None) is None and style_of("/x") is None
    assert fitted_styles(["salsa/01", "martial/03", "salsa/02", "loose"]) == ["martial", "salsa"]
    assert fitted_styles(["salsa/01", "salsa/02"]) == []  # one style tells the model nothing


def test_style_vectors_and_unknown_styles():
    assert style_vector(["indian", "salsa"], "salsa").tolist() == [0.0, 1.0]
    assert style_vector(["indian", "salsa"], None).tolist() == [0.0, 0.0]
    check_style(["indian", "salsa"], None)
    with pytest.raises(GenseqError, match="no style 'tango': it knows indian, salsa"):
        check_style(["indian", "salsa"], "tango")
    with pytest.raises(GenseqError, match="trained without styles"):
        check_style([], "salsa")


def test_an_encoding_with_styles_appends_the_one_hot_to_every_input():
    clips = [named(moving_clip(60, seed=0), "salsa/a"), named(moving_clip(60, seed=1), "martial/b")]
    encoding = fit_encoding(clips, 30.0, styles=True)
    assert encoding.styles == ["martial", "salsa"] and encoding.input_size == encoding.value_size + 2
    piece = encoding.encode(clips[0])
    assert piece.inputs.shape == (59, encoding.value_size + 2) and piece.targets.shape == (59, encoding.value_size)
    assert (piece.inputs[:, -2:] == [0.0, 1.0]).all()
    np.testing.assert_array_equal(piece.inputs[1:, :-2], piece.targets[:-1])  # the previous target, as before
    again = type(encoding).from_metadata(encoding.metadata())
    assert again.styles == encoding.styles and again.input_size == encoding.input_size
    plain = fit_encoding(clips, 30.0)
    assert plain.styles == [] and plain.input_size == plain.value_size


def test_mirroring_keeps_the_style_and_dropout_removes_it():
    clips = [named(moving_clip(60, seed=s), f"{'salsa' if s % 2 else 'martial'}/{s}") for s in range(40)]
    encoding = fit_encoding(clips, 30.0, styles=True)
    features = [encoding.features(c) for c in clips]
    kept = mirrorer(encoding, True, 0.0)(features, np.random.default_rng(0))
    assert [f.style for f in kept] == [f.style for f in features]
    assert any(k is not f for k, f in zip(kept, features))  # some were mirrored
    dropped = drop_styles(features, np.random.default_rng(0), 0.5)
    assert 5 < sum(f.style is None for f in dropped) < 35
    assert all(f.style is not None for f in features)  # the originals are untouched


@pytest.fixture(scope="module")
def styled_checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("styles")
    for index, style in enumerate(("salsa", "salsa", "martial", "martial")):
        (root / "data" / style).mkdir(parents=True, exist_ok=True)
        save_clip(named(moving_clip(90, seed=index), ""), root / "data" / style / f"{index}.npz")
    config = validate_config(deep_merge(read_yaml_mapping(configs_dir() / "dance.yaml"), {
        "mixture_components": 2, "styles": True, "style_dropout": 0.5,
        "model": {"hidden_size": 16, "num_layers": 2, "dropout": 0.0},
        "train": {"epochs": 2, "batch_size": 4, "seq_len": 30, "max_batches_per_epoch": 2},
    }), DanceConfig)
    result = train_domain(DANCE, root / "data", root / "run", config, device="cpu", show_progress=False)
    return str(result.best_checkpoint)


def test_a_model_trained_with_styles_dances_the_style_asked(styled_checkpoint):
    options = GenerateDanceOptions(checkpoint=styled_checkpoint, seconds=1.0, seed=2, device="cpu")
    none = generate_dance(options)[0]
    salsa = generate_dance(options.model_copy(update={"dance_style": "salsa"}))[0]
    again = generate_dance(options.model_copy(update={"dance_style": "salsa"}))[0]
    martial = generate_dance(options.model_copy(update={"dance_style": "martial"}))[0]
    np.testing.assert_array_equal(salsa.positions, again.positions)
    assert not np.allclose(salsa.positions, martial.positions) and not np.allclose(salsa.positions, none.positions)
    with pytest.raises(GenseqError, match="no style 'tango': it knows martial, salsa"):
        generate_dance(options.model_copy(update={"dance_style": "tango"}))


def test_the_bundled_model_knows_no_styles_and_says_so():
    options = GenerateDanceOptions(seconds=0.5, seed=0, device="cpu", dance_style="salsa")
    with pytest.raises(GenseqError, match="trained without styles"):
        generate_dance(options)
