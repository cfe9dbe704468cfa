"""The step debugger: stop a run at a date, then walk one rebalance event by event.

A :class:`Debugger` drives a run (a :class:`~eventbt.simulation.Simulation`, or anything :class:`Steppable`);
``sim.debugger`` is the one a simulation keeps, with its breakpoints. Stepping delivers events through the
same bus calls an uninterrupted run makes, so a run that was stepped, stopped and resumed ends with the same
results and the same audit digest as one that never stopped.

- :meth:`Debugger.step` delivers one event and returns a :class:`StepRecord`: the event, each handler it
  went to and what that handler emitted (it is a :class:`~eventbt.bus.Delivery` too), and the portfolio
  change it caused (cash before and after, shares and average cost per symbol that changed).
- :meth:`Debugger.run_until` stops before the first event at or after a date.
- :meth:`Debugger.step_rebalance` steps the next rebalance, from its ``MarketEvent`` until the snapshot of
  the bar its last order was settled on (the same bar with ``same_close``, the next with ``next_open``); started
  part-way through a rebalance, the rest of that one.
- Breakpoints (:meth:`Debugger.add_breakpoint`) by event type, symbol, date or any predicate, all given
  conditions together; :meth:`Debugger.continue_` runs to the next one, and :meth:`Debugger.next`,
  :meth:`Debugger.run_until` and :meth:`Debugger.step_rebalance` stop at one too (as pdb's commands do).
- :meth:`Debugger.interrupt` (Ctrl-C at the ``eventbt debug`` prompt) asks the move under way to stop before
  the next event it would deliver, as a breakpoint does: never inside a handler, so the book stays whole.

Step records, step lists and the views (portfolio, queue, orders, why) print as aligned text and show as
HTML tables in Jupyter; see :mod:`eventbt.debug.records`, :mod:`eventbt.debug.views` and
:mod:`eventbt.debug.render`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Reversible, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from eventbt.debug import views
from eventbt.debug.breakpoints import Breakpoint, day_start_ns, did_you_mean, event_class, event_names, has_symbol
from eventbt.debug.records import PositionChange, StepList, StepRecord
from eventbt.errors import DebuggerError, HandlerError
from eventbt.events import (
    CancelEvent,
    DividendEvent,
    DividendPaymentEvent,
    Event,
    FillEvent,
    MarketEvent,
    NoticeEvent,
    OrderEvent,
    OrderStateEvent,
    SignalEvent,
    SnapshotEvent,
    SplitAdjustmentEvent,
    SplitEvent,
    WarmupBarEvent,
)

if TYPE_CHECKING:
    from eventbt.bus import Bus, Delivery
    from eventbt.portfolio import PortfolioView

__all__ = ["Breakpoint", "Debugger", "Steppable", "day_start_ns", "did_you_mean", "event_class", "event_names",
           "has_symbol"]

_NS_PER_DAY = 86_400_000_000_000
# The events of a corporate action of the data, by the action's kind (CorporateAction.kind).
_ACTION_KINDS: dict[type[Event], str] = {SplitEvent: "split", SplitAdjustmentEvent: "split",
                                         DividendEvent: "dividend", DividendPaymentEvent: "dividend"}
# The events a warm-up bar can publish: its WarmupBarEvent and its corporate actions.
_WARMUP_EVENTS = frozenset({WarmupBarEvent, *_ACTION_KINDS})


class Steppable(Protocol):
    """What the debugger needs of a run; :class:`~eventbt.simulation.Simulation` fits it.

    The debugger only drives the run through these: it delivers events with :meth:`deliver` or runs the bus
    to a stop condition with :meth:`run`, and reads the bus and the book in between.
    """

    @property
    def bus(self) -> Bus: ...

    @property
    def portfolio(self) -> PortfolioView: ...

    @property
    def finished(self) -> bool: ...

    def deliver(self) -> Delivery | None: ...

    def run(self, stop: Callable[[Event], bool] | None = None, *, quiet_bars: bool = False) -> Any: ...

    def result(self) -> Any: ...


class Debugger:
    """Drives a run one event at a time (see the module docstring); ``sim.debugger`` is a simulation's own."""

    def __init__(self, simulation: Steppable) -> None:
        self.simulation = simulation
        self.breakpoints: dict[int, Breakpoint] = {}
        self._numbers = itertools.count(1)
        self.hit: Breakpoint | None = None  # the breakpoint the last continue_() stopped at
        self.result: Any = None  # the run's Result, set once the run has ended
        # The handler error that ended the run, if one did: the session goes on as a post-mortem, stopped at
        # the failing event (event(), trace() and why() default to it).
        self.error: HandlerError | None = None
        self.partial_steps = StepList()  # the steps a next(N) or step_rebalance() made before a handler error
        self.interrupt_requested = False  # set by interrupt(): the move under way stops before its next event
        self.interrupted = False  # whether the last move (next, until, continue, step_rebalance) stopped so
        # A debug session keeps the run's log in memory (docs/debugging.md): one stopped part-way must not leave
        # the scenario's [audit] path holding a log cut short, nor empty the earlier run's log there.
        keep_in_memory = getattr(simulation, "keep_log_in_memory", None)
        if callable(keep_in_memory):
            keep_in_memory()

    @property
    def last(self) -> Event | None:
        """The last event delivered, read from the run's bus (:meth:`~eventbt.bus.Bus.last_delivered`): where the
        run is, whether this debugger, another one or ``sim.run()`` moved it."""
        return self.simulation.bus.last_delivered()

    @property
    def symbols(self) -> tuple[str, ...]:
        """The run's symbols (sorted)."""
        return tuple(self.simulation.portfolio.symbols)

    @property
    def dates(self) -> np.ndarray | None:
        """The run's bar dates (``datetime64[ns]``), when the run has prices (a Simulation does)."""
        prices = getattr(self.simulation, "prices", None)
        return None if prices is None else prices.dates

    def rebalance_dates(self) -> list[str]:
        """The scheduled rebalance dates of the run (``YYYY-MM-DD``), when it has a scenario and prices."""
        from eventbt.schedule import rebalance_mask

        config, dates = getattr(self.simulation, "config", None), self.dates
        if config is None or dates is None:
            return []
        schedule = config.schedule
        first_bar = getattr(getattr(self.simulation, "prices", None), "warmup_bars", 0)
        mask = rebalance_mask(dates, rebalance=schedule.rebalance, every_n_bars=schedule.every_n_bars,
                              dates_list=schedule.dates, source=config.source, first_bar=first_bar)
        mask[:first_bar] = False  # a warm-up bar is seen by the strategy only: nothing rebalances there
        return [str(day)[:10] for day in dates[mask]]

    def _moving(self) -> bool:
        """Whether the run can move on: not after a handler error (then it stays at the failing event)."""
        if self.simulation.finished and self.result is None:
            self.result = self.simulation.result()
        return not self.simulation.finished

    def _record_error(self, exc: HandlerError) -> None:
        self.error = exc
        if self.result is None and self.simulation.finished:
            self.result = self.simulation.result()

    @property
    def finished(self) -> bool:
        return self.simulation.finished

    @property
    def upcoming(self) -> Event | None:
        """The event the run is stopped before (delivered next); ``None`` at the end."""
        return self.simulation.bus.peek()

    def interrupt(self) -> None:
        """Ask the move under way (:meth:`next`, :meth:`run_until`, :meth:`continue_`, :meth:`step_rebalance`) to
        stop before the next event it would deliver; :attr:`interrupted` then says it stopped so. It only sets a
        flag, so a signal handler may call it while a handler runs: that handler and the others the event goes to
        finish first. Asked while no move runs, it is dropped: each move starts with no interrupt pending
        (:meth:`_start_move`), so a stale one never stops the next move before it has begun."""
        self.interrupt_requested = True

    def _start_move(self) -> None:
        """What every move (:meth:`next`, :meth:`run_until`, :meth:`continue_`, :meth:`step_rebalance`) does first:
        forget the last move's breakpoint hit and interruption, and any interrupt asked for while nothing moved."""
        self.hit = None
        self.interrupted = False
        self.interrupt_requested = False

    def _interrupt_due(self) -> bool:
        """Whether an interrupt was asked for; if so the move stops here, between two events, and says it did."""
        if not self.interrupt_requested:
            return False
        self.interrupt_requested = False
        self.interrupted = True
        return True

    # -- moving ---------------------------------------------------------------------------------------
    def step(self) -> StepRecord | None:
        """Deliver one event; its :class:`StepRecord`, or ``None`` when the run is over."""
        sim = self.simulation
        if not self._moving():
            return None
        book = sim.portfolio
        cash, positions, average = book.cash, book.positions.copy(), book.average_cost.copy()
        try:
            delivery = sim.deliver()
        except HandlerError as exc:
            self._record_error(exc)
            raise
        if delivery is None:
            self.result = sim.result()
            return None
        changed = np.flatnonzero((book.positions != positions) | (book.average_cost != average))
        changes = tuple(
            PositionChange(symbol=book.symbols[i], shares_before=int(positions[i]),
                           shares_after=int(book.positions[i]), average_cost_before=float(average[i]),
                           average_cost_after=float(book.average_cost[i]))
            for i in changed.tolist()
        )
        return StepRecord(seq=delivery.seq, event=delivery.event, emitted=delivery.emitted, cash_before=cash,
                          cash_after=book.cash, changes=changes,
                          publisher=sim.bus.publisher.get(delivery.event.id))

    def next(self, count: int = 1, *, on_step: Callable[[StepRecord], object] | None = None) -> StepList:
        """Step ``count`` events (fewer when the run ends first, or a breakpoint stops it before an event after the
        first, as :meth:`continue_`: :attr:`hit` says which); ``count`` is a whole number of at least 1. ``on_step``
        is called with each step as it is made (the prompt shows them so, a long ``next`` included)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise DebuggerError(f"next takes a positive whole number of events (default 1), got {count!r}",
                                argument=str(count))
        self._start_move()
        records = StepList()
        self.partial_steps = records
        watch = _Watch(self)
        for _ in range(count):
            if self._interrupt_due():
                break
            if watch.sees_next():
                break
            record = self.step()
            if record is None:
                break
            records.append(record)
            if on_step is not None:
                on_step(record)
        watch.raise_failed()
        return records

    def run_until(self, date: str) -> Event | None:
        """Run to just before the first event at or after ``date``; that event, or ``None`` at the end. A breakpoint
        stops it earlier, as :meth:`continue_` (:attr:`hit` says which).

        On ``date`` itself, part-way through it (its ``MarketEvent`` delivered, its snapshot still queued), that is
        the event queued next: the run does not move. A :class:`DebuggerError` when the run is past ``date``, every
        event of it delivered (the run only goes forward).
        """
        start = day_start_ns(date)
        self._start_move()
        last = self.last
        if last is not None and start <= last.time_ns:
            upcoming = self.upcoming
            if upcoming is not None and upcoming.time_ns < start + _NS_PER_DAY and self._moving():
                return upcoming  # the day in progress: its next event is the first one at or after date still to come
            raise DebuggerError(f"the run is already past {date}: {last.kind} #{last.id} at "
                                f"{last.date} has been delivered (a run only goes forward)", argument=date)
        watch = _Watch(self)
        stopped = self._run(lambda event: watch(event) or event.time_ns >= start)
        watch.raise_failed()
        return stopped

    def continue_(self) -> Event | None:
        """Run to the next breakpoint (the event it stopped before), or to the end (``None``)."""
        self._start_move()
        if not self._moving():
            return None
        if self._interrupt_due():
            return self.upcoming
        watch = _Watch(self)
        stopped = self._run(watch)
        watch.raise_failed()
        return stopped

    def _run(self, stop: Callable[[Event], bool], *, quiet_bars: bool = False) -> Event | None:
        """Run until ``stop(next_event)`` or an interrupt (:meth:`interrupt`); with ``quiet_bars`` quiet bars go as
        blocks, unseen by ``stop`` (an interrupt then stops the run before the next event it does see)."""
        if not self._moving():
            return None
        try:
            result = self.simulation.run(lambda event: self._interrupt_due() or stop(event), quiet_bars=quiet_bars)
        except HandlerError as exc:
            self._record_error(exc)
            raise
        if result is not None:
            self.result = result
            return None
        return self.simulation.bus.peek()

    def step_rebalance(self, *, on_step: Callable[[StepRecord], object] | None = None) -> StepList:
        """The step records of the next rebalance: its ``MarketEvent`` to the snapshot after its last fill. Part-way
        through a rebalance (its ``MarketEvent`` delivered, its last snapshot not yet), the rest of that one: its
        remaining events up to its last snapshot. A breakpoint stops it before an event after its first, as
        :meth:`continue_` (:attr:`hit` says which); after a breakpoint or an interrupt, the steps made so far (none
        when the stop came before the rebalance began). ``on_step`` is called with each step as it is made, as by
        :meth:`next`."""
        self._start_move()
        self.partial_steps = StepList()
        watch = _Watch(self)
        in_progress = self._open_rebalance()
        if in_progress is None:
            while True:
                # A quiet bar never signals (its strategy said so: eventbt.quiet), so the bars up to the next one that
                # may go as blocks, unseen: the events and books are those of a run event by event. Breakpoints see
                # every event, so with one set the bars go one by one.
                upcoming = self._run(lambda event: watch(event) or isinstance(event, MarketEvent),
                                     quiet_bars=not self.breakpoints)
                if upcoming is None or self.interrupted or watch.stopped:
                    watch.raise_failed()
                    return StepList()
                market = self.step()
                assert market is not None
                if any(isinstance(e, SignalEvent) for _, out in market.emitted for e in out):
                    break
            records = StepList([market])
            if on_step is not None:
                on_step(market)
            # Shares of each order not yet filled or cancelled: a partially filled order whose rest is carried
            # stays open, so the rebalance goes on to the bar that fills or cancels the rest.
            open_orders: dict[int, int] = {}
        else:
            records, open_orders = StepList(), in_progress
        self.partial_steps = records
        while True:
            if self._interrupt_due():
                return records
            if watch.sees_next():
                watch.raise_failed()
                return records
            record = self.step()
            if record is None:
                return records
            records.append(record)
            if on_step is not None:
                on_step(record)
            for _, out in record.emitted:
                for emitted in out:
                    if isinstance(emitted, OrderEvent):
                        open_orders[emitted.id] = emitted.quantity
                    elif isinstance(emitted, FillEvent | CancelEvent) and emitted.order_id in open_orders:
                        left = open_orders[emitted.order_id] - emitted.quantity
                        if left > 0:
                            open_orders[emitted.order_id] = left
                        else:
                            del open_orders[emitted.order_id]
            if isinstance(record.event, SnapshotEvent) and not open_orders:
                return records

    def _open_rebalance(self) -> dict[int, int] | None:
        """The rebalance the run is part-way through, as its orders still open (id -> shares left), or ``None``.

        It is the latest signal's: its ``MarketEvent`` delivered, and either an order it caused neither filled nor
        cancelled yet, or no snapshot delivered after the last of its fills and cancels. Not when the run is stopped
        before the ``MarketEvent`` of a rebalance date (a new rebalance starts there, cancelling what waits).
        """
        bus = self.simulation.bus
        if self.simulation.finished:
            return None
        events = bus.events
        since: list[Event] = []  # the events published since the latest signal, the signal first
        ids: Reversible[int] = events  # type: ignore[assignment]  # the bus's events reverse lazily, newest first
        for event_id in reversed(ids):
            since.append(events[event_id])
            if isinstance(since[-1], SignalEvent):
                break
        else:
            return None
        since.reverse()
        caused = {since[0].id}
        open_orders: dict[int, int] = {}
        settled = since[0].id  # the last fill or cancel of the rebalance's orders (the signal, before any)
        for event in since[1:]:
            if event.cause_id not in caused:
                continue
            caused.add(event.id)
            if isinstance(event, OrderEvent):
                open_orders[event.id] = event.quantity
            elif isinstance(event, FillEvent | CancelEvent) and event.order_id in open_orders:
                settled = event.id
                left = open_orders.pop(event.order_id) - event.quantity
                if left > 0:
                    open_orders[event.order_id] = left
        if not open_orders:
            pending = self._pending_ids()
            if any(isinstance(event, SnapshotEvent) and event.id > settled and event.id not in pending
                   for event in since):
                return None
        # Looked at only now: peeking pulls the next bar from the feed, which then no longer goes as a quiet block.
        upcoming = self.upcoming
        if upcoming is None or (isinstance(upcoming, MarketEvent) and upcoming.date[:10] in self.rebalance_dates()):
            return None
        return open_orders

    # -- breakpoints ----------------------------------------------------------------------------------
    def add_breakpoint(self, event_type: str | type[Event] | None = None, symbol: str | None = None, *,
                       date: str | None = None, predicate: Callable[[Event], bool] | None = None) -> Breakpoint:
        """A breakpoint on every given condition (at least one); returns it (its ``number`` deletes it).

        A breakpoint that could never fire is a :class:`DebuggerError` and takes no number: an unknown event
        type, a symbol not in the run's data (``xom`` for ``XOM``: did you mean), a symbol with an event type
        that has none (``MarketEvent``), a date after the data or one the run has already passed, and, with
        other conditions, a date that is not a bar of the data.
        """
        if event_type is None and symbol is None and date is None and predicate is None:
            raise DebuggerError("a breakpoint needs an event type, a symbol, a date or a predicate")
        if self.simulation.finished:
            raise DebuggerError("the run is over, so a breakpoint would never fire")
        if predicate is not None and not callable(predicate):
            raise DebuggerError(f"predicate= takes a function of the event (Callable[[Event], bool]), got "
                                f"{predicate!r}", argument=repr(predicate))
        cls = None if event_type is None else event_class(event_type)
        if symbol is not None:
            self._check_symbol(symbol)
            if cls is not None and not has_symbol(cls):
                raise DebuggerError(f"{cls.__name__} has no symbol, so a breakpoint on {cls.__name__} {symbol} "
                                    "would never fire", argument=symbol)
        if date is not None:
            self._check_date(date, alone=cls is None and symbol is None and predicate is None)
        if cls is not None:
            self._check_published(cls, symbol, date)
        breakpoint = Breakpoint(number=next(self._numbers), event_type=cls, symbol=symbol, date=date,
                                predicate=predicate)
        self.breakpoints[breakpoint.number] = breakpoint
        return breakpoint

    def _check_symbol(self, symbol: str) -> None:
        symbols = self.symbols
        if not isinstance(symbol, str) or symbol not in symbols:
            raise DebuggerError(f"symbol {symbol!r} is not in the run's data{did_you_mean(symbol, symbols)}, so a "
                                "breakpoint on it would never fire", argument=symbol)

    def _check_date(self, date: str, *, alone: bool) -> None:
        start = day_start_ns(date)
        dates = self.dates
        if dates is not None and len(dates):
            last_day = int(dates[-1].astype("datetime64[ns]").astype(np.int64))
            if start > last_day:
                raise DebuggerError(f"{date} is after the data, which ends on {str(dates[-1])[:10]}, so a "
                                    "breakpoint on it would never fire", argument=date)
            days = dates.astype("datetime64[ns]").astype(np.int64)
            if not alone and start not in set(days.tolist()):
                raise DebuggerError(f"{date} is not a date of the data, so no event falls on it and the "
                                    "breakpoint would never fire", argument=date)
        upcoming = self.simulation.bus.peek()
        # continue_() delivers the next event before it looks: a date already reached can no longer be.
        if upcoming is not None and (start <= upcoming.time_ns if alone else start + _NS_PER_DAY <= upcoming.time_ns):
            raise DebuggerError(f"the run has already reached {date} (next: {upcoming.kind} #{upcoming.id} at "
                                f"{upcoming.date}), so a breakpoint on it would never fire", argument=date)

    def _check_published(self, cls: type[Event], symbol: str | None, date: str | None) -> None:
        """Refuse an event type the run never publishes with these conditions: a corporate action's events without
        such an action in the data (of ``symbol``), and on a warm-up date any event but the warm-up bar's own."""
        prices = getattr(self.simulation, "prices", None)
        if prices is None:
            return
        described = " ".join([cls.__name__, *([symbol] if symbol else []), *([f"on {date}"] if date else [])])
        kind = _ACTION_KINDS.get(cls)
        if kind is not None:
            # A dividend is paid on its pay date, not the ex-date the data gives: its payment's day is not checked.
            day = None if date is None or cls is DividendPaymentEvent else str(np.datetime64(day_start_ns(date),
                                                                                              "ns"))[:10]
            if not any(action.kind == kind and symbol in (None, action.symbol) and day in (None, action.date)
                       for action in prices.actions):
                of = f" of {symbol}" if symbol else ""
                on = f" on {date}" if day else ""
                where = " (it reads no [data] corporate_actions)" if not prices.actions else ""
                raise DebuggerError(f"the run's data has no {kind}{of}{on}{where}, so a breakpoint on {described} "
                                    "would never fire", argument=cls.__name__)
        warmup = int(getattr(prices, "warmup_bars", 0) or 0)
        if date is not None and warmup and cls not in _WARMUP_EVENTS:
            first = int(prices.dates[warmup].astype("datetime64[ns]").astype(np.int64))
            if day_start_ns(date) < first:
                raise DebuggerError(f"{date} is in the warm-up (trading starts on {str(prices.dates[warmup])[:10]}), "
                                    f"where a bar publishes only its WarmupBarEvent and corporate actions, so a "
                                    f"breakpoint on {described} would never fire", argument=date)

    def delete_breakpoint(self, number: int) -> None:
        if self.breakpoints.pop(number, None) is None:
            raise DebuggerError(f"no breakpoint {number}", argument=str(number))

    # -- looking --------------------------------------------------------------------------------------
    @property
    def queue(self) -> views.QueueView:
        """Queued events in delivery order (the next bar's first event is pulled from the feed if needed)."""
        bus = self.simulation.bus
        bus.peek()
        return views.QueueView(events=tuple(bus.pending()), publishers=dict(bus.publisher))

    @property
    def portfolio(self) -> views.HoldingsView:
        """Cash, positions, average cost, marks and weights now."""
        return views.HoldingsView.of(self.simulation.portfolio, self._now_text())

    def event(self, event_id: int | None = None) -> Event:
        """A published event by id (default: the one the run is stopped before, else the last delivered)."""
        bus = self.simulation.bus
        if event_id is None and self.error is not None and isinstance(self.error.event, Event):
            return self.error.event  # post-mortem: the failing event
        if event_id is None:
            current = bus.peek() or self.last
            if current is None:
                raise DebuggerError("no event yet")
            return current
        if event_id not in bus.events:
            raise DebuggerError(f"no event #{event_id} has been published yet", argument=str(event_id))
        return bus.events[event_id]

    def event_view(self, event_id: int | None = None) -> views.EventView:
        event = self.event(event_id)
        bus = self.simulation.bus
        queued = self._queued(event)
        return views.EventView(event=event, publisher=bus.publisher.get(event.id, "?"),
                               to=bus.subscribers(type(event)), queued=queued)

    def trace(self, event_id: int | None = None) -> views.TraceView:
        """The causal chain of an event: the event, its cause, ... back to the market bar."""
        event = self.event(event_id)
        bus = self.simulation.bus
        return views.TraceView(events=tuple(bus.trace(event.id)), publishers=dict(bus.publisher))

    def orders(self) -> views.OrdersView:
        """The orders of the latest rebalance so far, with what became of them."""
        return views.OrdersView.of(self._rebalance_events(), self._pending_ids())

    def fills(self) -> views.FillsView:
        """The fills (and cancels) of the latest rebalance so far."""
        return views.FillsView.of(self._rebalance_events(), self._pending_ids())

    def why(self, event_id: int | None = None) -> views.WhyView:
        """The notices that explain a skipped, scaled, trimmed or reduced order, and an order's state changes that
        say why it filled or expired (default: the latest rebalance)."""
        events = self.simulation.bus.events
        if event_id is None:
            found = self._rebalance_events()
            subject = f"rebalance signal #{found[0].id}" if found else "no rebalance yet"
            return self._why(subject, found, queued=bool(found) and self._queued(found[0]))
        event = self.event(event_id)
        about_order = isinstance(event, FillEvent | CancelEvent | OrderStateEvent)
        order = events.get(event.order_id) if about_order else event  # type: ignore[attr-defined]
        if isinstance(order, OrderEvent):
            # Its own notices and state changes, and the notices of its rebalance about its symbol.
            keep: dict[int, Event] = {e.id: e for e in events.values() if e.id > order.id and (
                (isinstance(e, OrderStateEvent) and e.order_id == order.id)
                or (isinstance(e, NoticeEvent) and (e.cause_id == order.id or e.details.get("order_id") == order.id)))}
            if order.cause_id is not None and order.cause_id in events:
                related = self._rebalance_events(events[order.cause_id])
                keep.update((e.id, e) for e in related if getattr(e, "symbol", None) == order.symbol)
            return self._why(f"{order.kind} #{order.id} ({order.symbol})", sorted(keep.values(), key=lambda e: e.id))
        if isinstance(event, SignalEvent):
            return self._why(f"SignalEvent #{event.id}", self._rebalance_events(event), queued=self._queued(event))
        return self._why(f"{event.kind} #{event.id}", [event])

    def _why(self, subject: str, events: Sequence[Event], *, queued: bool = False) -> views.WhyView:
        """The why view of ``events``, with the fill that followed each ``reduced_at_fill`` notice (its price with
        slippage and its commission are what the cash check used)."""
        found = self.simulation.bus.events
        fills: dict[int, FillEvent] = {}
        for notice in events:
            if isinstance(notice, NoticeEvent) and notice.code == "reduced_at_fill":
                # The execution handler publishes the notice, its cut's events, then the fill, with the next ids.
                for event_id in range(notice.id + 1, notice.id + 8):
                    fill = found.get(event_id)
                    if isinstance(fill, FillEvent) and fill.order_id == notice.cause_id:
                        fills[notice.id] = fill
                        break
        return views.WhyView.of(subject, events, queued=queued, fills=fills)

    def waiting(self) -> views.WaitingView:
        """The orders waiting for a later bar (limit and stop orders, orders for the next open or close), each with
        the last bar it was checked on and why it did not fill there; and the orders published but still queued on
        the bus (between a signal and its fills), which the execution handler has not seen yet."""
        execution = getattr(self.simulation, "execution", None)
        listed = getattr(execution, "waiting", None)
        rows = listed() if callable(listed) else ()
        queued = [e for e in self.simulation.bus.pending() if isinstance(e, OrderEvent)]
        return views.WaitingView.of(rows, self.dates, self._now_text(), queued)

    def _queued(self, event: Event) -> bool:
        """Whether ``event`` is still queued (published, not delivered yet)."""
        return event.id in self._pending_ids()

    def _pending_ids(self) -> set[int]:
        """The ids of the events published and not delivered yet."""
        return {event.id for event in self.simulation.bus.pending()}

    def _rebalance_events(self, signal: Event | None = None) -> list[Event]:
        """The signal (first) and every event it caused, directly or through its orders, so far."""
        events = self.simulation.bus.events
        if signal is None:
            signal = next((events[i] for i in reversed(list(events)) if isinstance(events[i], SignalEvent)), None)
            if signal is None:
                return []
        caused = {signal.id}
        found: list[Event] = [signal]
        for event in events.values():
            if event.id > signal.id and event.cause_id in caused:
                caused.add(event.id)
                found.append(event)
        return found

    def _now_text(self) -> str:
        last = self.last
        return last.date if last is not None else "the start"


class _Watch:
    """The breakpoints' check of one move: called with each event before it is delivered, it says whether to stop
    there (a breakpoint matches: :attr:`Debugger.hit`; or a predicate raised: kept for :meth:`raise_failed`). The
    move's first event goes unchecked: the run may be stopped before it at a breakpoint, as pdb's are."""

    def __init__(self, debugger: Debugger) -> None:
        self.debugger = debugger
        self.first = True
        self.previous = 0  # the time of the event delivered before the one checked (date breakpoints)
        self.stopped = False
        self.failed: list[tuple[Breakpoint, Event, Exception]] = []

    def __call__(self, event: Event) -> bool:
        if self.first:
            self.first = False
        else:
            for breakpoint in self.debugger.breakpoints.values():
                try:
                    matched = breakpoint.matches(event, self.previous)
                except Exception as exc:  # the user's predicate: stop before the event it could not judge
                    self.failed.append((breakpoint, event, exc))
                    self.stopped = True
                    return True
                if matched:
                    self.debugger.hit = breakpoint
                    self.stopped = True
                    return True
        self.previous = event.time_ns
        return False

    def sees_next(self) -> bool:
        """Whether to stop before the event queued next (for a move that delivers with :meth:`Debugger.step`). It
        peeks only with breakpoints set: peeking pulls the next bar from the feed, so it no longer goes as a quiet
        block."""
        if not self.debugger.breakpoints:
            self.first = False
            return False
        upcoming = self.debugger.upcoming
        return upcoming is not None and self(upcoming)

    def raise_failed(self) -> None:
        """A :class:`DebuggerError` for a breakpoint whose predicate raised (the run is stopped before the event)."""
        if self.failed:
            breakpoint, event, exc = self.failed[0]
            described = str(breakpoint).partition(": ")[2]
            raise DebuggerError(f"breakpoint {breakpoint.number} ({described}) raised {type(exc).__name__} on "
                                f"{event.kind} #{event.id} at {event.date}: {exc}; stopped before that event: mend "
                                f"or delete the breakpoint, then continue") from exc
