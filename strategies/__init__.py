"""Signal generators: each module one strategy; ``STRATEGIES`` maps registered names to classes."""

from __future__ import annotations

from strategies.ema_allocation import EmaAllocation
from strategies.equal_weight import EqualWeight
from strategies.static_weights import StaticWeights

__all__ = ["STRATEGIES", "EmaAllocation", "EqualWeight", "StaticWeights"]

STRATEGIES: dict[str, type] = {
    "ema_allocation": EmaAllocation,
    "equal_weight": EqualWeight,
    "static_weights": StaticWeights,
}
