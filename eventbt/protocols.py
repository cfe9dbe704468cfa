"""The plug-in points, as :class:`typing.Protocol` classes: a user's class fits by shape, no inheritance.

- :class:`CommissionModel`: what a fill pays in commission.
- :class:`SlippageModel`: the price a fill gets, given the reference price.
- :class:`SignalGenerator`: target weights from the prices seen so far.

Built-in implementations live in ``handlers/costs.py`` and ``strategies/``; a scenario names a built-in by
its registered name or any class by import path (``"mypkg.costs:MyCommission"``), see
:mod:`eventbt.plugins`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["CommissionModel", "PriceView", "SignalGenerator", "SlippageModel"]


@runtime_checkable
class CommissionModel(Protocol):
    """Commission, in account currency, for one fill.

    ``quantity`` is the number of shares filled (> 0, or 0 for "nothing filled", which must cost 0);
    ``value`` is the traded value in account currency, ``quantity * fill price``.
    """

    def commission(self, quantity: int, value: float) -> float: ...


@runtime_checkable
class SlippageModel(Protocol):
    """The fill price for ``quantity`` shares on ``side`` (+1 buy, -1 sell) at ``reference_price``.

    Must return ``reference_price`` or worse for the trader (higher for buys, lower for sells).
    """

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float: ...


class PriceView(Protocol):
    """What a signal generator sees at a bar: the prices up to and including that bar, nothing later."""

    @property
    def symbols(self) -> tuple[str, ...]: ...

    @property
    def bar(self) -> int: ...

    @property
    def date(self) -> np.datetime64: ...

    @property
    def close(self) -> np.ndarray:
        """This bar's closes, indexed like ``symbols`` (NaN: no bar)."""
        ...

    def history(self, field: str = "close") -> np.ndarray:
        """All rows of ``field`` up to and including this bar, shape ``(bar + 1, len(symbols))``."""
        ...


@runtime_checkable
class SignalGenerator(Protocol):
    """Produces target weights; called by the strategy handler.

    ``update`` is called on every bar, in order, so state (an EMA, a count) can be kept incrementally.
    ``target_weights`` is called on rebalance bars, after ``update`` for that bar, and returns a mapping
    symbol -> weight (weights >= 0, summing to at most 1; the rest is cash), or ``None`` for "no opinion
    yet" (no signal is published).
    """

    def update(self, view: PriceView) -> None: ...

    def target_weights(self, view: PriceView) -> Mapping[str, float] | None: ...
