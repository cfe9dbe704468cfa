"""A signal generator that records what it is shown, for the corporate-action and warm-up tests."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np


class Recorder:
    """Keeps a copy of the close (and volume) history at every bar, the bars it saw and the factors of each
    ``adjust``; asks for nothing (no targets) unless ``weights`` are given."""

    def __init__(self, weights: dict[str, float] | None = None, adjusts: bool = True) -> None:
        self.weights = weights
        self.closes: dict[int, np.ndarray] = {}
        self.volumes: dict[int, np.ndarray] = {}
        self.bars: list[int] = []
        self.asked: list[int] = []
        self.factors: list[tuple[int, list[float]]] = []
        if not adjusts:
            self.adjust = None  # type: ignore[assignment]

    def update(self, view: Any) -> None:
        self.bars.append(int(view.bar))
        self.closes[int(view.bar)] = np.array(view.history("close"))
        with contextlib.suppress(KeyError):  # closes only: no volumes
            self.volumes[int(view.bar)] = np.array(view.history("volume"))

    def adjust(self, factors: np.ndarray) -> None:
        self.factors.append((self.bars[-1] if self.bars else -1, [float(f) for f in factors]))

    def target_weights(self, view: Any) -> dict[str, float] | None:
        self.asked.append(int(view.bar))
        return self.weights
