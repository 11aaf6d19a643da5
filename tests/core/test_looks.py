"""Sizes, themes and backgrounds as users write them, and the options models that take them."""

from __future__ import annotations

import pytest

from genseq.core import options as opts
from genseq.core.errors import GenseqError
from genseq.core.looks import THEMES, parse_background, parse_size, resolve_theme


def test_sizes_presets_and_bad_sizes():
    assert parse_size(512) == parse_size("512") == (512, 512)
    assert parse_size("1080x1920") == parse_size("vertical") == parse_size(" Vertical ") == (1080, 1920)
    assert parse_size("wide") == (1920, 1080) and parse_size("square") == (1080, 1080) and parse_size((64, 32)) == (64, 32)
    for bad in ("101", "8", "4000x2000", "big", "12x", "-64"):
        with pytest.raises(GenseqError):
            parse_size(bad)


def test_themes_by_name_or_figure_colour():
    assert resolve_theme(None) is THEMES["night"] and resolve_theme("Neon") is THEMES["neon"]
    own = resolve_theme("200,40,160")
    assert own.shirt == (200, 40, 160) and own.sky_top == THEMES["night"].sky_top
    with pytest.raises(GenseqError, match="theme must be"):
        resolve_theme("plaid")


def test_backgrounds(tmp_path):
    assert parse_background(None).kind == parse_background("").kind == "theme"
    assert parse_background("1, 2, 3").colour == (1, 2, 3) and parse_background((4, 5, 6)).colour == (4, 5, 6)
    picture = tmp_path / "p.jpg"
    picture.write_bytes(b"x")
    assert parse_background(str(picture)).kind == "picture"
    with pytest.raises(GenseqError, match="no such background"):
        parse_background(str(tmp_path / "v.mp4"))
    with pytest.raises(GenseqError, match="a background is"):
        parse_background("notes.txt")


def test_options_models_check_looks_and_take_a_number_of_pixels():
    for model, required in ((opts.GenerateDanceOptions, {}), (opts.RenderDanceOptions, {"clip": "c.npz"}),
                            (opts.MusicVideoOptions, {})):
        options = model.build(**required, size=720, theme="sunset", background="10,20,30", fps=60)
        assert (options.size, options.theme, options.background, options.fps, options.cover) == ("720", "sunset", "10,20,30", 60, True)
        assert model.build(**required).size == "512"
        for bad in ({"size": "99x99"}, {"theme": "x"}, {"background": "1,2,999"}, {"fps": 500}):
            with pytest.raises(GenseqError):
                model.build(**required, **bad)
