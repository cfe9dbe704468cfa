"""The proportional slippage models: the price a fill gets, whatever its size or bar.

Each class fits :class:`~eventbt.protocols.SlippageModel` by shape; ``side`` is +1 for a buy and -1 for a sell.

- ``zero``: the fill is the reference price.
- ``fixed_bps``: buy fill = ``p * (1 + bps / 10000)``, sell fill = ``p * (1 - bps / 10000)``, whatever the
  quantity; ``bps`` has no default.

A slippage model may also expose ``fraction``, the proportional price move it applies whatever the
quantity (``bps / 10000`` for ``fixed_bps``, 0 for ``zero``). It is optional and not part of the
protocol: a caller that finds it may size orders with it, a caller that does not must use ``fill_price``.
The models that look at the bar (spread, volume, volatility) are in :mod:`eventbt.costs.impact`.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from eventbt.costs.checks import basis_points_field

__all__ = ["FixedBpsSlippage", "ZeroSlippage", "move"]


def move(side: int, reference_price: float, fraction: float) -> float:
    """``reference_price`` moved by ``fraction`` against the trader: up for a buy (+1), down for a sell (-1)."""
    if side == 1:
        return reference_price * (1 + fraction)
    if side == -1:
        return reference_price * (1 - fraction)
    raise ValueError(f"side must be +1 (buy) or -1 (sell), got {side!r}")


@attrs.frozen(kw_only=True)
class ZeroSlippage:
    """Fills at the reference price."""

    name: ClassVar[str] = "zero"

    @property
    def fraction(self) -> float:
        """The proportional price move: none."""
        return 0.0

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return float(reference_price)


@attrs.frozen(kw_only=True)
class FixedBpsSlippage:
    """Buys fill ``bps`` basis points above the reference price, sells ``bps`` below, whatever the size."""

    name: ClassVar[str] = "fixed_bps"

    bps: float = attrs.field(validator=basis_points_field)

    @property
    def fraction(self) -> float:
        """The proportional price move, ``bps / 10000`` (5 bps -> 0.0005)."""
        return self.bps / 10_000

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return move(side, reference_price, self.fraction)
