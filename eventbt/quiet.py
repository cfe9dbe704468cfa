"""Quiet bars: a run of bars where nothing trades, delivered to the handlers as one block.

Most bars of an allocation backtest trade nothing: the data feed publishes the bar's ``MarketEvent`` and
``BarEndEvent``, the portfolio handler answers with a ``SnapshotEvent``, and every handler just updates its
state. A :class:`QuietBars` block stands for such a run of bars, ``start`` to ``stop - 1``: the same events,
with the ids, sequence numbers, times, publishers and subscribers they would have had one by one, but built
only when somebody looks at one (the debugger, ``bus.events``, ``trace``, a handler's own ``market(bar)``).
The audit log renders their lines from the block's arrays, byte for byte the lines the events would give.

Who may take a block (``docs/architecture.md``, "The per-bar path"):

- The bus offers one only from :meth:`eventbt.bus.Bus.run` without a ``stop``, or with ``quiet_bars=True`` (the
  debugger's search for the next rebalance, whose ``stop`` looks only at the market events of bars that may signal;
  stepping goes event by event and so always sees the events themselves), and only when every handler subscribed to
  one of :data:`BLOCK_EVENTS` is *quiet-capable*: its class defines ``quiet_until(bar) -> int`` and
  ``on_quiet_bars(block) -> None`` at or below the class that defines its hooks for those events
  (:func:`quiet_capable`), so a subclass that overrides ``on_market`` is never given a block its parent wrote for
  the parent's ``on_market``.
- The data feed offers one at a bar's start when nothing is queued: up to the first bar with corporate
  actions, the last bar when a ``DataEndEvent`` is wanted, and no further than the smallest
  ``quiet_until(start)`` of the handlers (the first bar from which the handler may publish something in
  answer to a bar's events: the strategy's next rebalance bar, the execution handler's never while no order
  waits).
- ``on_quiet_bars(block)`` must leave the handler exactly as its hooks would have after every bar of the
  block, publishing nothing. A handler that calls the user's code (``quiet_first = True``: the strategy
  handler, whose generator may raise) takes the block first and sets ``block.at`` to each bar as it goes: if
  it raises, the bus ends the block before that bar and publishes that bar's market event, so the error, the
  audit log and the partial results are those of delivering event by event. The handler that publishes the
  snapshots (``quiet_snapshots = True``: the portfolio handler) gives the block each bar's cash, positions
  value and total value (:meth:`QuietBars.set_snapshots`).

A run delivered with blocks and the same run stepped event by event give the same audit log, digest,
results and ``bus.events`` (tests/eventbt/test_quiet_bars.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from eventbt.errors import ContractError
from eventbt.events import BarEndEvent, BarOpenEvent, Event, MarketEvent, SnapshotEvent

__all__ = ["BLOCK_EVENTS", "NEVER", "QuietBars", "QuietHandler", "next_bar", "quiet_capable"]

BLOCK_EVENTS: tuple[type[Event], ...] = (BarOpenEvent, MarketEvent, BarEndEvent, SnapshotEvent)
"""A quiet bar's events, in the order they are published (and their ids and sequence numbers run); the
``BarOpenEvent`` only in runs whose bars have one (``next_open`` execution)."""

NEVER = 2**62
"""What ``quiet_until`` returns when nothing the handler holds will make it publish at a bar."""


def next_bar(bars: Sequence[int], bar: int) -> int:
    """The first of ``bars`` (sorted) at or after ``bar``, or :data:`NEVER`: a ``quiet_until`` for a handler that
    publishes on known bars (rebalances, ``[[events]]`` entries, corporate actions)."""
    k = bisect.bisect_left(bars, bar)
    return bars[k] if k < len(bars) else NEVER


class QuietHandler(Protocol):
    """What a handler defines to take quiet bars as a block (see the module docstring)."""

    name: str

    def quiet_until(self, bar: int) -> int:
        """The first bar, ``>= bar``, at whose events this handler may publish something (``bar``: not quiet
        now; :data:`NEVER`: nothing it holds will)."""
        ...

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """Take bars ``bars.start`` to ``bars.stop - 1`` as its hooks would have, one by one, publishing nothing."""
        ...


def _owner(cls: type, attribute: str) -> type | None:
    """The class of ``cls``'s method resolution order that defines ``attribute`` (``None``: none does)."""
    return next((klass for klass in cls.__mro__ if attribute in vars(klass)), None)


def quiet_capable(handler: object, hooks: Sequence[str]) -> bool:
    """Whether ``handler`` may take a block: its class defines ``quiet_until`` and ``on_quiet_bars``, and each
    of ``hooks`` (its hooks for :data:`BLOCK_EVENTS`) is defined by that class or one it derives from."""
    cls = type(handler)
    owner = _owner(cls, "on_quiet_bars")
    until = _owner(cls, "quiet_until")
    if owner is None or until is None or not issubclass(owner, until):
        return False
    if any(name in vars(handler) for name in (*hooks, "on_quiet_bars", "quiet_until")):
        return False  # a hook set on the instance itself
    for hook in hooks:
        defined = _owner(cls, hook)
        if defined is None or not issubclass(owner, defined):
            return False
    return True


class QuietBars:
    """Bars ``start`` to ``stop - 1``, delivered as one block: three or four events a bar, built on demand.

    ``kinds`` are a bar's event classes in order: its ``BarOpenEvent`` when ``open_ns`` (the opens' times) is
    given, then its ``MarketEvent``, ``BarEndEvent`` and ``SnapshotEvent``. The events of bar ``start + k``
    have ids ``first_id + per_bar * k`` onwards in that order, and sequence numbers likewise from
    ``first_seq`` (set by the bus when it delivers the block). ``time_ns`` are the closes' times, ``close``
    the panel's rows ``start:stop`` (read-only views), ``fields`` the same of the opens, highs, lows and
    volumes the data has; ``complete[k]`` says whether row ``k`` has every close.
    """

    __slots__ = ("_events", "_market", "at", "cash", "close", "complete", "fields", "first_id", "first_seq", "kinds",
                 "market_offset", "open_ns", "per_bar", "positions_value", "snapshot_by", "start", "stop", "symbols",
                 "time_ns", "total_value")

    def __init__(self, *, start: int, stop: int, first_id: int, time_ns: Sequence[int], close: np.ndarray,
                 fields: dict[str, np.ndarray], complete: Sequence[bool], symbols: tuple[str, ...],
                 market: Callable[[int, int], MarketEvent], open_ns: Sequence[int] | None = None) -> None:
        self.kinds = QuietBars.kinds_of(with_open=open_ns is not None)
        self.per_bar = len(self.kinds)
        # Where a bar's MarketEvent is among its events (its ids and sequence numbers): after its open event, when
        # it has one.
        self.market_offset = self.kinds.index(MarketEvent)
        self.open_ns = open_ns
        self.start = start
        self.stop = stop
        self.first_id = first_id
        self.first_seq = -1
        self.time_ns = time_ns
        self.close = close
        self.fields = fields
        self.complete = complete
        self.symbols = symbols
        self._market = market
        self._events: dict[int, Event] = {}
        self.snapshot_by = ""
        self.at = start  # the bar a handler is at while it takes the block (the one named if it fails)
        self.cash = 0.0
        self.positions_value: Sequence[float] = ()
        self.total_value: Sequence[float] = ()

    def __repr__(self) -> str:
        return f"QuietBars(bars {self.start}..{self.stop - 1}, ids {self.first_id}..{self.first_id + self.count - 1})"

    @staticmethod
    def kinds_of(*, with_open: bool) -> tuple[type[Event], ...]:
        """The events a quiet bar stands for, in order: its open event (in runs that have one), market, bar end,
        snapshot."""
        return BLOCK_EVENTS if with_open else BLOCK_EVENTS[1:]

    @property
    def count(self) -> int:
        """How many events the block stands for."""
        return self.per_bar * (self.stop - self.start)

    @property
    def last_time_ns(self) -> int:
        return int(self.time_ns[-1])

    def ids(self) -> range:
        return range(self.first_id, self.first_id + self.count)

    def close_row(self, bar: int) -> np.ndarray:
        """The closes of ``bar`` (a read-only view), as its ``MarketEvent`` carries them."""
        row: np.ndarray = self.close[bar - self.start]
        return row

    def row(self, name: str, bar: int) -> np.ndarray | None:
        """``bar``'s row of ``close``, ``open``, ``high``, ``low`` or ``volume`` (``None``: not in the data)."""
        if name == "close":
            return self.close_row(bar)
        rows = self.fields.get(name)
        return None if rows is None else rows[bar - self.start]

    def set_snapshots(self, cash: float, positions_value: Sequence[float], total_value: Sequence[float]) -> None:
        """The book at the end of each bar (one entry per bar), as the ``SnapshotEvent`` of ``snapshot_by`` (the
        handler the bus named when it delivered the block) would carry it; the cash does not change in a block."""
        self.cash = cash
        self.positions_value = positions_value
        self.total_value = total_value

    def book_values(self, reader: str) -> Sequence[float]:
        """The book's total value at the end of each bar of the block, for ``reader`` (a handler's name) to read.

        They are known once the handler that publishes the snapshots has taken the block; ``reader`` must take it
        after that one (the built-in fee handlers are added after the portfolio). Read before, they would be
        missing, and this says so, naming both handlers."""
        if len(self.total_value) != self.stop - self.start:
            raise ContractError(f"{reader} read the book's values of bars {self.start}..{self.stop - 1} before "
                                f"{self.snapshot_by or 'the snapshots publisher'} took the block; a handler that "
                                "reads them takes the block after that one", plugin=reader)
        return self.total_value

    def market(self, bar: int) -> MarketEvent:
        """``bar``'s ``MarketEvent`` (built once; the same object ``bus.events`` gives)."""
        event = self.event_by_id(self.market_id(bar))
        assert isinstance(event, MarketEvent)
        return event

    def market_id(self, bar: int) -> int:
        """The id of ``bar``'s ``MarketEvent`` (also when the block has been ended before ``bar``); its
        ``BarEndEvent`` has the next id, its ``SnapshotEvent`` the one after."""
        return self.first_id + self.per_bar * (bar - self.start) + self.market_offset

    def end_before(self, bar: int) -> None:
        """Make the block end before ``bar`` (its events from ``bar`` on are not the block's any more)."""
        kept = bar - self.start
        self.stop = bar
        self.time_ns = self.time_ns[:kept]
        if self.open_ns is not None:
            self.open_ns = self.open_ns[:kept]
        self.close = self.close[:kept]
        self.fields = {name: rows[:kept] for name, rows in self.fields.items()}
        self.complete = self.complete[:kept]

    def build_market(self, bar: int, event_id: int) -> MarketEvent:
        """``bar``'s ``MarketEvent`` with the id ``event_id``, built now and not kept."""
        return self._market(bar, event_id)

    def build_open(self, bar: int, event_id: int, time_ns: int) -> BarOpenEvent:
        """``bar``'s ``BarOpenEvent`` at ``time_ns`` with the id ``event_id``, as the data feed makes it."""
        opens = self.fields["open"]
        return BarOpenEvent(id=event_id, time_ns=time_ns, bar=bar, symbols=self.symbols, open=opens[bar - self.start])

    def event(self, seq: int) -> Event:
        """The event published as ``seq``."""
        return self.event_by_id(self.first_id + seq - self.first_seq)

    def event_by_id(self, event_id: int) -> Event:
        event = self._events.get(event_id)
        if event is not None:
            return event
        offset = event_id - self.first_id
        if not 0 <= offset < self.count:
            raise KeyError(event_id)
        k, which = divmod(offset, self.per_bar)
        kind = self.kinds[which]
        bar, time_ns = self.start + k, int(self.time_ns[k])
        made: Event
        if kind is BarOpenEvent:
            assert self.open_ns is not None
            made = self.build_open(bar, event_id, int(self.open_ns[k]))
        elif kind is MarketEvent:
            made = self._market(bar, event_id)
        elif kind is BarEndEvent:
            made = BarEndEvent(id=event_id, time_ns=time_ns, bar=bar)
        else:
            if len(self.positions_value) <= k:
                raise KeyError(event_id)  # not delivered yet: no handler has given the snapshots
            made = SnapshotEvent(id=event_id, time_ns=time_ns, cause_id=event_id - 1, bar=bar, cash=self.cash,
                                 positions_value=self.positions_value[k], total_value=self.total_value[k])
        self._events[event_id] = made
        return made

    def publishers(self, feed: str) -> list[str]:
        """The publisher of each event, in order: the feed's (open), market and bar end, the snapshots', per bar."""
        return [*[feed] * (self.per_bar - 1), self.snapshot_by] * (self.stop - self.start)
