"""The data feed: the bus's source of bars.

For each bar it yields, in time order: a :class:`~eventbt.events.BarOpenEvent` at the open (only when
``with_open`` is set and the data has opens), a :class:`~eventbt.events.MarketEvent` at the close, and a
:class:`~eventbt.events.BarEndEvent` at the close, which the bus delivers only after everything the bar
caused (the bus pulls the feed only when nothing earlier or at the same time is queued). After the last
bar's market event, and before its bar end, it yields one :class:`~eventbt.events.DataEndEvent` when
``with_data_end`` is set (a handler subscribes to it). An event's rows are read-only views of its own bar's
row of the panel (``docs/architecture.md``).

When the bus asks (:meth:`DataFeed.pop_block`), a run of bars that every handler calls quiet is given as one
block of the same events, built only when looked at (:mod:`eventbt.quiet`).

Corporate actions (``PriceData.actions``, only when the scenario reads them) come first in their ex-date's
bar, at 09:00, before its open and close: a :class:`~eventbt.events.DividendEvent` or
:class:`~eventbt.events.SplitEvent` each, in the order of the actions (by symbol; a dividend before a split
of the same symbol and date), with the previous bar's end (its ``BarEndEvent``, or the ``WarmupBarEvent`` of
a warm-up bar) as their cause, and no cause at the first bar. A warm-up bar (the first
``PriceData.warmup_bars`` rows) has its actions and then a :class:`~eventbt.events.WarmupBarEvent` at 16:00,
and nothing else: no open, market, data-end or bar-end event.

Simulated times are the bar's date at 09:00 (actions), 09:30 (open) and 16:00 (close), market time, tz-naive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from eventbt.events import (
    BarEndEvent,
    BarOpenEvent,
    DataEndEvent,
    DividendEvent,
    Event,
    MarketEvent,
    SplitEvent,
    WarmupBarEvent,
)
from eventbt.prices import ACTIONS_OFFSET_NS, CorporateAction, PriceData
from eventbt.quiet import QuietBars, QuietHandler, next_bar

__all__ = ["ACTIONS_OFFSET_NS", "CLOSE_OFFSET_NS", "OPEN_OFFSET_NS", "DataFeed"]

_HOUR_NS = 3_600_000_000_000
OPEN_OFFSET_NS = 9 * _HOUR_NS + _HOUR_NS // 2
CLOSE_OFFSET_NS = 16 * _HOUR_NS

_OPEN, _MARKET, _DATA_END, _END, _ACTIONS = 0, 1, 2, 3, 4


class DataFeed:
    """Yields the bars of a :class:`~eventbt.prices.PriceData`, one event at a time."""

    name = "data_feed"

    def __init__(self, prices: PriceData, next_id: Callable[[], int], *, with_open: bool = False,
                 with_data_end: bool = False, on_bar_end: Callable[[int], None] | None = None,
                 reserve_ids: Callable[[int], int] | None = None) -> None:
        self._prices = prices
        self._next_id = next_id
        self._reserve_ids = reserve_ids  # n consecutive ids at once: what a block of quiet bars needs
        self._with_open = with_open and prices.open is not None
        self._with_data_end = with_data_end
        self._on_bar_end = on_bar_end
        days = prices.dates.astype("datetime64[ns]").astype(np.int64)
        # As Python ints, added in numpy at once: the last midnight datetime64[ns] holds (2262-04-11) plus 16 hours
        # is still within int64.
        self._open_ns: list[int] = (days + OPEN_OFFSET_NS).tolist()
        self._close_ns: list[int] = (days + CLOSE_OFFSET_NS).tolist()
        # Per bar, whether every symbol has a close (MarketEvent.complete), worked out once for the panel.
        self._complete: list[bool] = (~np.isnan(prices.close).any(axis=1)).tolist() if prices.n_symbols else []
        self._warmup = prices.warmup_bars
        # Actions by bar (an action on a date that is not a bar of this panel is not the run's).
        bar_of = {str(day)[:10]: i for i, day in enumerate(prices.dates.astype("datetime64[D]"))} if prices.actions \
            else {}
        self._actions: dict[int, list[CorporateAction]] = {}
        for action in prices.actions:
            if action.date in bar_of:
                self._actions.setdefault(bar_of[action.date], []).append(action)
        # The bars a block of quiet bars may not reach: those with actions, and the last when it has a data end.
        self._action_bars = sorted(self._actions)
        self._block_end = len(self._close_ns) - 1 if with_data_end else len(self._close_ns)
        self._ended: int | None = None  # the id of the event that ended the previous bar
        self._bar = 0
        self._phase = self._first_phase(0)
        self._fields = [
            (name, getattr(prices, name))
            for name in ("open", "high", "low", "volume")
            if getattr(prices, name) is not None
        ]

    @property
    def bar(self) -> int:
        """Index of the bar the feed is in (== number of bars when exhausted)."""
        return self._bar

    def _first_phase(self, bar: int) -> int:
        """Where a bar starts: its actions, else its open (next-open runs, past the warm-up), else its close."""
        if bar in self._actions:
            return _ACTIONS
        return _OPEN if self._with_open and bar >= self._warmup else _MARKET

    def peek_time(self) -> int | None:
        if self._bar >= len(self._close_ns):
            return None
        if self._phase == _OPEN:
            return self._open_ns[self._bar]
        if self._phase == _ACTIONS:
            return self._close_ns[self._bar] - CLOSE_OFFSET_NS + ACTIONS_OFFSET_NS
        return self._close_ns[self._bar]

    def pop(self) -> Event:
        i = self._bar
        phase = self._phase
        if phase == _ACTIONS:
            return self._action(i)
        if phase == _MARKET and i < self._warmup:
            return self._warmup_bar(i)
        if phase == _OPEN:
            self._phase = _MARKET
            opens = self._prices.open
            assert opens is not None
            row = opens[i]  # a view of the read-only panel: immutable, and no copy per bar
            return BarOpenEvent(id=self._next_id(), time_ns=self._open_ns[i], bar=i,
                                symbols=self._prices.symbols, open=row)
        if phase == _MARKET:
            last = i == len(self._close_ns) - 1
            self._phase = _DATA_END if last and self._with_data_end else _END
            return self._market(i)
        if phase == _DATA_END:
            self._phase = _END
            return DataEndEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i)
        self._bar = i + 1
        self._phase = self._first_phase(i + 1)
        if self._on_bar_end is not None:
            self._on_bar_end(i)
        end = BarEndEvent(id=self._next_id(), time_ns=self._close_ns[i], bar=i)
        self._ended = end.id
        return end

    def pop_block(self, handlers: Sequence[QuietHandler]) -> QuietBars | None:
        """The bars from the current one on that ``handlers`` call quiet, as one block (:mod:`eventbt.quiet`), or
        ``None`` when the feed is not at a bar's close or the bar is not quiet.

        A block needs the bar's start (its open event, in runs that have one; past the warm-up) and ends before
        the next bar with corporate actions, before the last bar when that has a data end, and where the first
        handler stops calling the bars quiet.
        """
        i = self._bar
        if self._phase != (_OPEN if self._with_open else _MARKET) or i < self._warmup or self._reserve_ids is None:
            return None
        stop = min(self._block_end, next_bar(self._action_bars, i))
        for handler in handlers:
            if stop <= i:
                return None  # not quiet: no need to ask the others
            stop = min(stop, handler.quiet_until(i))
        if stop <= i:
            return None
        prices = self._prices
        per_bar = len(QuietBars.kinds_of(with_open=self._with_open))
        block = QuietBars(start=i, stop=stop, first_id=self._reserve_ids(per_bar * (stop - i)),
                          time_ns=self._close_ns[i:stop], close=prices.close[i:stop],
                          fields={name: array[i:stop] for name, array in self._fields},
                          complete=self._complete[i:stop], symbols=prices.symbols, market=self._market,
                          open_ns=self._open_ns[i:stop] if self._with_open else None)
        self._bar = stop
        self._phase = self._first_phase(stop)
        self._ended = block.market_id(stop - 1) + 1  # the last bar's BarEndEvent
        if self._on_bar_end is not None:
            self._on_bar_end(stop - 1)
        return block

    def _action(self, i: int) -> Event:
        """The bar's next corporate action as an event (09:00, caused by the previous bar's end)."""
        pending = self._actions[i]
        action = pending.pop(0)
        if not pending:
            del self._actions[i]
            self._phase = _OPEN if self._with_open and i >= self._warmup else _MARKET
        time_ns = self._close_ns[i] - CLOSE_OFFSET_NS + ACTIONS_OFFSET_NS
        if action.kind == "split":
            return SplitEvent(id=self._next_id(), time_ns=time_ns, cause_id=self._ended, bar=i, symbol=action.symbol,
                              ratio=action.value)
        return DividendEvent(id=self._next_id(), time_ns=time_ns, cause_id=self._ended, bar=i, symbol=action.symbol,
                             amount_per_share=action.value, pay_date=action.pay_date)

    def _warmup_bar(self, i: int) -> WarmupBarEvent:
        """A warm-up bar's close, the whole of the bar for everyone but the strategy."""
        market = self._market(i)
        self._bar = i + 1
        self._phase = self._first_phase(i + 1)
        if self._on_bar_end is not None:
            self._on_bar_end(i)
        event = WarmupBarEvent(id=market.id, time_ns=market.time_ns, bar=i, symbols=market.symbols,
                               close=market.close, open=market.open, high=market.high, low=market.low,
                               volume=market.volume)
        self._ended = event.id
        return event

    def _market(self, i: int, event_id: int | None = None) -> MarketEvent:
        """Bar ``i``'s market event, with a new id or ``event_id`` (a quiet block's, built when looked at)."""
        if event_id is None:
            event_id = self._next_id()
        # Rows are views of the panel, whose arrays PriceData made read-only: immutable like the event, and
        # neither a copy per bar nor a second panel's worth of memory in a handler that keeps the events.
        close = self._prices.close[i]
        if not self._fields:  # closes only: the common case, one view and nothing else
            return MarketEvent(id=event_id, time_ns=self._close_ns[i], bar=i, symbols=self._prices.symbols,
                               close=close, complete=self._complete[i])
        rows: dict[str, np.ndarray | None] = {"open": None, "high": None, "low": None, "volume": None}
        for name, array in self._fields:
            row = array[i]
            rows[name] = row
        return MarketEvent(id=event_id, time_ns=self._close_ns[i], bar=i, symbols=self._prices.symbols,
                           close=close, open=rows["open"], high=rows["high"], low=rows["low"],
                           volume=rows["volume"], complete=self._complete[i])
