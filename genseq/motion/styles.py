"""Dance styles: the folder a training clip came from (`salsa/01` is salsa) given to the model as a
one-hot input beside each frame, so that a model trained with styles dances the one asked for
(`genseq generate dance --dance-style salsa`). Training drops the style of a clip now and then (all
zeros), so the same model also dances with no style given, as it does for a primer of its own."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from genseq.core.errors import GenseqError


def style_of(name: str | None) -> str | None:
    """The style a clip's name carries: its first folder ('salsa/01@120' -> 'salsa'); None for a bare name."""
    parts = (name or "").split("/")
    return parts[0] if len(parts) > 1 and parts[0] else None


def fitted_styles(names: Sequence[str | None]) -> list[str]:
    """The styles of the training clips, sorted; none when fewer than two (one style tells nothing)."""
    found = sorted({style for style in map(style_of, names) if style})
    return found if len(found) > 1 else []


def style_vector(styles: Sequence[str], style: str | None) -> np.ndarray:
    """(len(styles),) float32: one-hot of `style`, all zeros for none."""
    vector = np.zeros(len(styles), dtype=np.float32)
    if style is not None:
        vector[list(styles).index(style)] = 1.0
    return vector


def check_style(styles: Sequence[str], style: str | None, path: str | None = None) -> None:
    """Refuse a style the model does not know, naming the ones it does."""
    if style is None or style in styles:
        return
    known = f"it knows {', '.join(styles)}" if styles else "it was trained without styles"
    raise GenseqError(f"the dance model has no style {style!r}: {known}", path)


def with_style(inputs: np.ndarray, styles: Sequence[str], style: str | None) -> np.ndarray:
    """(..., T, D) inputs with the style's one-hot appended to every row (nothing when no styles)."""
    if not styles:
        return inputs
    vector = np.broadcast_to(style_vector(styles, style), (*inputs.shape[:-1], len(styles)))
    return np.concatenate([inputs, vector], axis=-1).astype(np.float32)


def drop_styles(features: list, rng: np.random.Generator, probability: float) -> list:
    """Each clip's features with its style removed with `probability` (MotionFeatures.style = None)."""
    if probability <= 0:
        return features
    drops = rng.random(len(features)) < probability
    return [dataclasses.replace(f, style=None) if drop and f.style is not None else f for f, drop in zip(features, drops)]
