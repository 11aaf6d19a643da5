"""Tempo augmentation: a clip's features stretched in time decode to the same path, played slower."""

from __future__ import annotations

import numpy as np
import pytest

from genseq.motion.domain import mirrorer
from genseq.motion.encode import ROOT_SIZE, fit_encoding
from genseq.motion.tempo import random_factors, time_stretched
from tests.motion.conftest import moving_clip


def test_a_stretched_clip_covers_the_same_path_and_turn_in_more_frames():
    clip = moving_clip(frames=120)
    encoding = fit_encoding([clip], clip.fps)
    features = encoding.features(clip)
    slower = time_stretched(features, 1.5, encoding.joint_size)
    assert len(slower.values) == 180
    root = encoding.joint_size
    for column in (root, root + 1, root + 3):  # per-frame changes: the same total over the clip
        assert slower.values[:, column].sum() == pytest.approx(features.values[:, column].sum(), rel=0.03)
    assert slower.values[:, root + 2].mean() == pytest.approx(features.values[:, root + 2].mean(), rel=1e-3)
    # a pose at source frame 60 is the stretched clip's frame 60 * (179 / 119)
    where = 60 * 179 / 119
    near = slower.values[int(round(where)), :root]
    assert np.abs(near - features.values[60, :root]).max() < 0.02
    assert slower.mask.all() and ROOT_SIZE == 4


def test_an_unknown_value_stays_unknown_between_its_neighbours():
    clip = moving_clip(frames=40)
    encoding = fit_encoding([clip], clip.fps)
    features = encoding.features(clip)
    features.mask[10, 0] = False
    faster = time_stretched(features, 0.5, encoding.joint_size)
    assert not faster.mask[:, 0].all() and faster.mask[:, 1].all()


def test_factors_are_log_uniform_and_the_augmentation_uses_them():
    factors = random_factors(np.random.default_rng(0), 4000, 0.8, 1.25)
    assert factors.min() >= 0.8 and factors.max() <= 1.25
    assert np.median(np.log(factors)) == pytest.approx(0.0, abs=0.02)
    clip = moving_clip(frames=100)
    encoding = fit_encoding([clip], clip.fps)
    augment = mirrorer(encoding, mirror=False, tempo_range=(0.8, 1.25))
    lengths = {len(f.values) for _ in range(5) for f in augment([encoding.features(clip)], np.random.default_rng(_))}
    assert len(lengths) > 1 and min(lengths) >= 80 and max(lengths) <= 125
    assert mirrorer(encoding, mirror=False) is None
