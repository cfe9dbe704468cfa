"""The data feed: the bus's source of bars.

For each bar it yields, in time order: a :class:`~eventbt.events.BarOpenEvent` at the open (only when
``with_open`` is set and the data has opens), a :class:`~eventbt.events.MarketEvent` at the close, and a
:class:`~eventbt.events.BarEndEvent` at the close, which the bus delivers only after everything the bar
caused (the bus pulls the feed only when nothing earlier or at the same time is queued). After the last
bar's market event, and before its bar end, it yields one :class:`~eventbt.events.DataEndEvent` when
``with_data_end`` is set (a handler subscribes to it). Prices are copied per bar, so no event holds a
reference to later rows.

Simulated times are the bar's date at 09:30 (open) and 16:00 (close), market time, tz-naive.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from eventbt.events import BarEndEvent, BarOpenEvent, DataEndEvent, Event, MarketEvent
from eventbt.prices import PriceData

__all__ = ["CLOSE_OFFSET_NS", "OPEN_OFFSET_NS", "DataFeed"]

_HOUR_NS = 3_600_000_000_000
OPEN_OFFSET_NS = 9 * _HOUR_NS + _HOUR_NS // 2
CLOSE_OFFSET_NS = 16 * _HOUR_NS

_OPEN, _MARKET, _DATA_END, _END = 0, 1, 2, 3


class DataFeed:
    """Yields the bars of a :class:`~eventbt.prices.PriceData`, one event at a time."""

    name = "data_feed"

    def __init__(self, prices: PriceData, next_id: Callable[[], int], *, with_open: bool = False,
                 with_data_end: bool = False, on_bar_end: Callable[[int], None] | None = None) -> None:
        self._prices = prices
        self._next_id = next_id
        self._with_open = with_open and prices.open is not None
        self._with_data_end = with_data_end
        self._on_bar_end = on_bar_end
        days = prices.dates.astype("datetime64[ns]").astype(np.int64)
        self._open_ns = [int(d) + OPEN_OFFSET_NS for d in days]
        self._close_ns = [int(d) + CLOSE_OFFSET_NS for d in days]
        # Per bar, whether every symbol has a close (MarketEvent.complete), worked out once for the panel.
        self._complete: list[bool] = (~np.isnan(prices.close).any(axis=1)).tolist() if prices.n_symbols else []
        self._bar = 0
        self._phase = _OPEN if self._with_open else _MARKET
        self._fields = [
            (name, getattr(prices, name))
            for name in ("open", "high", "low", "volume")
            if getattr(prices, name) is not None
        ]

    @property
    def bar(self) -> int:
        """Index of the bar the feed is in (== number of bars when exhausted)."""
        return self._bar

    def peek_time(self) -> int | None:
        if self._bar >= len(self._close_ns):
            return None
        if self._phase == _OPEN:
            return self._open_ns[self._bar]
        return self._close_ns[self._bar]

    def pop(self) -> Event:
        i = self._bar
        phase = self._phase
        if phase == _OPEN:
            self._phase = _MARKET
            opens = self._prices.open
            assert opens is not None
            row = opens[i].copy()
            row.setflags(write=False)
            return BarOpenEvent(id=self._next_id(), time_ns=self._open_ns[i], bar=i,
                                symbols=self._prices.symbols, open=row)
        if phase == _MARKET:
            last = i == len(self._close_ns) - 1
            self._phase = _DATA_END if last and self._with_data_end else _END
            return self._market(i)
        if phase == _DATA_END:
            self._phase = _END
            return DataEndEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i)
        self._phase = _OPEN if self._with_open else _MARKET
        self._bar = i + 1
        if self._on_bar_end is not None:
            self._on_bar_end(i)
        return BarEndEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i)

    def _market(self, i: int) -> MarketEvent:
        close = self._prices.close[i].copy()
        close.setflags(write=False)
        if not self._fields:  # closes only: the common case, one copy and nothing else
            return MarketEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i, symbols=self._prices.symbols,
                               close=close, complete=self._complete[i])
        rows: dict[str, np.ndarray | None] = {"open": None, "high": None, "low": None, "volume": None}
        for name, array in self._fields:
            row = array[i].copy()
            row.setflags(write=False)
            rows[name] = row
        return MarketEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i, symbols=self._prices.symbols,
                           close=close, open=rows["open"], high=rows["high"], low=rows["low"],
                           volume=rows["volume"], complete=self._complete[i])
