"""Events with sensible defaults and ids, times and causes filled in, for tests of handlers and models."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from eventbt.events import FillEvent, MarketEvent, OrderEvent, Side, SignalEvent

__all__ = ["EventFactory"]

_CLOSE_OFFSET_NS = 16 * 3_600_000_000_000


class EventFactory:
    """Builds events for one sorted set of symbols, numbering ids from 1 and dating bars from ``start``.

    Bar ``n`` closes at 16:00 of the ``n``-th day after ``start`` (calendar days: tests rarely care about
    weekends). Every event the factory builds gets the next id; ``cause`` links it to another event.
    """

    def __init__(self, symbols: Sequence[str] = ("A",), *, start: str = "2024-01-02") -> None:
        self.symbols = tuple(sorted(symbols))
        self._start_ns = int(np.datetime64(start, "ns").astype(np.int64))
        self.ids: Iterator[int] = itertools.count(1)
        """The counter of this factory's ids (a context bound to the factory draws from it too)."""

    def time_ns(self, bar: int) -> int:
        return self._start_ns + bar * 86_400_000_000_000 + _CLOSE_OFFSET_NS

    def dates(self, bars: int) -> np.ndarray:
        """The dates of bars ``0 .. bars - 1`` (midnight, ``datetime64[ns]``), as a run's context holds them."""
        return np.datetime64(self._start_ns, "ns") + np.arange(bars) * np.timedelta64(86_400_000_000_000, "ns")


    def market(self, closes: Mapping[str, float] | Sequence[float], *, bar: int = 0,
               **fields: Sequence[float]) -> MarketEvent:
        """A bar: ``closes`` by symbol (missing symbols NaN) or in symbol order; ``open=[...]`` etc. too."""
        unknown = sorted(set(fields) - {"open", "high", "low", "volume"})
        if unknown:
            raise TypeError(f"unknown bar field {unknown[0]!r}; the fields are open, high, low, volume")
        rows = {name: self._row(fields[name]) if name in fields else None
                for name in ("open", "high", "low", "volume")}
        return MarketEvent(id=next(self.ids), time_ns=self.time_ns(bar), bar=bar, symbols=self.symbols,
                           close=self._row(closes), open=rows["open"], high=rows["high"], low=rows["low"],
                           volume=rows["volume"])

    def signal(self, weights: Mapping[str, float], *, cause: MarketEvent | None = None, bar: int = 0,
               strategy: str = "test") -> SignalEvent:
        return SignalEvent(id=next(self.ids), time_ns=self.time_ns(bar), cause_id=_id(cause), bar=bar,
                           strategy=strategy, weights=dict(weights))

    def order(self, symbol: str, side: Side | int, quantity: int, reference_price: float, *,
              cause: Any = None, bar: int = 0, reason: str = "rebalance") -> OrderEvent:
        return OrderEvent(id=next(self.ids), time_ns=self.time_ns(bar), cause_id=_id(cause), bar=bar,
                          symbol=symbol, side=Side(side), quantity=quantity, reference_price=reference_price,
                          reason=reason)

    def fill(self, order: OrderEvent, *, price: float | None = None, quantity: int | None = None,
             commission: float = 0.0) -> FillEvent:
        """A fill of ``order`` (all of it at its reference price unless told otherwise)."""
        filled = order.quantity if quantity is None else quantity
        fill_price = order.reference_price if price is None else price
        return FillEvent(id=next(self.ids), time_ns=order.time_ns, cause_id=order.id, bar=order.bar,
                         order_id=order.id, symbol=order.symbol, side=order.side, quantity=filled,
                         price=fill_price, reference_price=order.reference_price, commission=commission,
                         slippage=abs(fill_price - order.reference_price) * filled)

    def _row(self, values: Mapping[str, float] | Sequence[float]) -> np.ndarray:
        if isinstance(values, Mapping):
            unknown = sorted(set(values) - set(self.symbols))
            if unknown:
                raise KeyError(f"no symbol {unknown[0]!r} in this factory's symbols {list(self.symbols)}")
            row = np.array([float(values.get(symbol, np.nan)) for symbol in self.symbols])
        else:
            row = np.array(values, dtype=float)
            if row.shape != (len(self.symbols),):
                raise ValueError(f"expected {len(self.symbols)} values (one per symbol), got {row.shape}")
        row.setflags(write=False)
        return row


def _id(event: Any) -> int | None:
    return None if event is None else int(event.id)
