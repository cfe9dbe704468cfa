"""Static weights: the same targets at every rebalance (a single rebalance date gives buy-and-hold).

The weights are taken as written: the strategy handler checks them against the scenario at each rebalance
(>= 0 summing to at most 1 in a cash account; negative for shorts with ``[portfolio] allow_short``, within
``max_gross`` and ``max_net``; see ``docs/long-short.md``), naming the strategy, the date and the symbol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from eventbt.protocols import PriceView

__all__ = ["StaticWeights"]


def _check_weights(_instance: object, _attribute: object, value: Mapping[str, float]) -> None:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("weights must be a non-empty table of symbol = weight")
    for symbol, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise ValueError(f"weight for {symbol!r} must be a finite number, got {weight!r}")


@attrs.define(kw_only=True)
class StaticWeights:
    """Fixed target weights, e.g. ``weights = { SPY = 0.6, AGG = 0.4 }``, or 130/30: ``{ AAPL = 1.3, MSFT = -0.3 }``."""

    weights: Mapping[str, float] = attrs.field(validator=_check_weights)

    def named_symbols(self) -> tuple[str, ...]:
        """The symbols of the weights, checked against the data before the run."""
        return tuple(sorted(self.weights))

    def update(self, view: PriceView) -> None:
        return None

    def target_weights(self, view: PriceView) -> dict[str, float] | None:
        return {symbol: float(weight) for symbol, weight in sorted(self.weights.items())}
