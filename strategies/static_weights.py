"""Static weights: the same targets at every rebalance (a single rebalance date gives buy-and-hold)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from eventbt.protocols import PriceView

__all__ = ["StaticWeights"]


def _check_weights(_instance: object, _attribute: object, value: Mapping[str, float]) -> None:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("weights must be a non-empty table of symbol = weight")
    for symbol, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
            raise ValueError(f"weight for {symbol!r} must be a number >= 0, got {weight!r}")
    if sum(value.values()) > 1 + 1e-9:
        raise ValueError(f"weights sum to {sum(value.values()):.12g}; expected at most 1")


@attrs.define(kw_only=True)
class StaticWeights:
    """Fixed target weights, e.g. ``weights = { SPY = 0.6, AGG = 0.4 }``."""

    weights: Mapping[str, float] = attrs.field(validator=_check_weights)

    def update(self, view: PriceView) -> None:
        return None

    def target_weights(self, view: PriceView) -> dict[str, float] | None:
        return {symbol: float(weight) for symbol, weight in sorted(self.weights.items())}
