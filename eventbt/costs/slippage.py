"""The proportional slippage models: the price a fill gets, whatever its size or bar.

Each class fits :class:`~eventbt.protocols.SlippageModel` by shape; ``side`` is +1 for a buy and -1 for a sell.

- ``zero``: the fill is the reference price.
- ``fixed_bps``: buy fill = ``p * (1 + bps / 10000)``, sell fill = ``p * (1 - bps / 10000)``, whatever the
  quantity; ``bps`` has no default.
- ``spread_by_symbol``: half each symbol's quoted spread, ``spread_bps[symbol] / 2`` basis points (else
  ``default_spread_bps / 2``); it sees the order (``fill_price(side, reference_price, quantity, order)``).

A slippage model may also expose ``fraction``, the proportional price move it applies whatever the
quantity (``bps / 10000`` for ``fixed_bps``, 0 for ``zero``). It is optional and not part of the
protocol: a caller that finds it may size orders with it, a caller that does not must use ``fill_price``.
The models that look at the bar (spread, volume, volatility) are in :mod:`eventbt.costs.impact`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

import attrs

from eventbt.costs.checks import basis_points_field, in_range
from eventbt.protocols import OrderContext

__all__ = ["FixedBpsSlippage", "SpreadBySymbolSlippage", "ZeroSlippage", "move"]


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


def _spreads(value: object) -> tuple[tuple[str, float], ...]:
    """``spread_bps``: a table of symbol -> spread in basis points (or its ``(symbol, bps)`` pairs), each in
    ``[0, 10000)``, kept as pairs sorted by symbol (so the model compares and hashes by value)."""
    pairs: object = value.items() if isinstance(value, Mapping) else value
    if isinstance(value, str) or not isinstance(pairs, Iterable):
        raise TypeError(f"spread_bps must be a table of symbol = basis points, got {type(value).__name__} "
                        f"{value!r:.60}")
    spreads: dict[str, float] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"spread_bps must be a table of symbol = basis points, got {value!r:.60}")
        symbol, bps = pair
        if not isinstance(symbol, str) or not symbol:
            raise TypeError(f"spread_bps must have symbols (non-empty text) as keys, got {symbol!r}")
        spreads[symbol] = in_range(f"spread_bps[{symbol!r}]", bps, low=0, high=10_000, hint="(1 bp = 0.01%)")
    return tuple(sorted(spreads.items()))


@attrs.frozen(kw_only=True)
class SpreadBySymbolSlippage:
    """Crossing half a symbol's quoted bid-ask spread: ``f = spread_bps[symbol] / 2 / 10000``.

    ``spread_bps`` is a table of symbol -> full spread in basis points (``{ AAPL = 2.0, KO = 4.0 }``); a symbol
    not in it pays ``default_spread_bps`` (default 0). A buy fills at ``p * (1 + f)``, a sale at ``p * (1 - f)``,
    whatever the quantity: the cost of crossing the spread with an order the quote absorbs, as
    ``half_spread`` with a spread given per symbol instead of estimated from the bar. A model that takes the
    order (:func:`~eventbt.protocols.accepts_order`): the symbol comes from its
    :class:`~eventbt.protocols.OrderContext`, when orders are sized as at fills. Example: KO at 37.20 with
    ``KO = 4.0`` (4 bps): ``f = 0.0002``, a buy fills at ``37.20 x 1.0002 = 37.207440``, a sale at 37.192560.
    """

    name: ClassVar[str] = "spread_by_symbol"
    monotone_in_quantity: ClassVar[bool] = True

    # Given as a table (a scenario's, a dict), kept as (symbol, bps) pairs sorted by symbol (see _spreads).
    spread_bps: Mapping[str, float] | tuple[tuple[str, float], ...] = attrs.field(factory=tuple, converter=_spreads)
    default_spread_bps: float = attrs.field(default=0.0, validator=basis_points_field)
    _by_symbol: dict[str, float] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_symbol", dict(_spreads(self.spread_bps)))  # a dict to look a symbol up in

    def fraction(self, symbol: str) -> float:
        """The proportional price move for ``symbol``: half its spread."""
        return self._by_symbol.get(symbol, self.default_spread_bps) / 20_000

    def fill_price(self, side: int, reference_price: float, quantity: int, order: OrderContext) -> float:
        return move(side, reference_price, self.fraction(order.symbol))
