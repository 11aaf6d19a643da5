"""What a domain hands the model, with no torch in sight: encoded pieces, a source of them per
epoch, and a run's split (the domain contract itself is genseq/core/domain.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np


@dataclass
class EncodedPiece:
    """Model-ready arrays of one piece: inputs (T, F) float32; targets (T,) int64 or (T, D) float32;
    target_mask (T, D), 1 where a continuous target value is known (None: all known)."""

    inputs: np.ndarray
    targets: np.ndarray
    target_mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.inputs)


class PieceSource(Protocol):
    def epoch(self, rng: np.random.Generator) -> Sequence[EncodedPiece]:
        """The training pieces of one epoch (augmented with `rng` where the domain augments)."""


class AugmentedSource:
    """The training pieces of each epoch: augment(items, rng) gives the epoch's items (a transposed
    tune, a mirrored dance); an item returned as it is reuses its piece, encoded once."""

    def __init__(self, items: Sequence[Any], encode: Callable[[Any], EncodedPiece],
                 augment: Callable[[list, np.random.Generator], list] | None = None):
        self.items, self.encode, self.augment = list(items), encode, augment
        self.plain = [encode(item) for item in self.items]

    def epoch(self, rng: np.random.Generator) -> list[EncodedPiece]:
        if self.augment is None:
            return self.plain
        epoch_items = self.augment(self.items, rng)
        return [plain if item is original else self.encode(item)
                for item, original, plain in zip(epoch_items, self.items, self.plain)]


@dataclass
class Split:
    """The pieces of a run, split, with how the split was made (recorded in RUN/data.json)."""

    train: list
    valid: list
    test: list
    how: str
    dropped: list[dict]


def seeded_split(items: Sequence[Any], seed: int, valid_fraction: float, test_fraction: float = 0.0,
                 keep_order: bool = False) -> tuple[list, list, list]:
    """A reproducible split into train, valid, test: at least one validation and one training item.
    keep_order: each part in the items' own order (else in the seeded permutation's)."""
    order = np.random.default_rng(seed).permutation(len(items))
    n_valid = min(max(1, round(len(items) * valid_fraction)), len(items) - 1)
    n_test = max(0, min(round(len(items) * test_fraction), len(items) - n_valid - 1))
    pick = lambda indices: [items[i] for i in (sorted(indices) if keep_order else indices)]  # noqa: E731
    return pick(order[n_valid + n_test:]), pick(order[:n_valid]), pick(order[n_valid:n_valid + n_test])
