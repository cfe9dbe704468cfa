"""The event bus: one queue, many handlers, deterministic delivery.

Contract
--------
- **Subscriptions.** A handler subscribes to event *classes* (exact type, not subclasses); for each class it
  has a hook ``on_<name>`` (see :mod:`eventbt.handler`). Handlers receive an event in the order they were
  added to the bus.
- **Order.** Events are delivered in order of ``(time_ns, seq)``: simulated time first, then publication
  order (``seq`` counts every publication on this bus). A handler's hook returns the events it publishes;
  an event stamped with the current time is queued behind everything already queued for that time; one
  stamped later is *scheduled* and waits until the simulated clock reaches it. Publishing into the past is
  a :class:`~eventbt.errors.BusError`.
- **Source.** A source (the data feed) is asked for its next event only when nothing queued is due at or
  before that event's time; at equal times, queued events go first. So the feed's end-of-bar event is
  delivered after every event the bar caused.
- **Publishing while dispatching.** Events a hook returns are queued after the hook returns, before the
  next subscriber receives the current event; they are never delivered re-entrantly.
- **Single-threaded.** One event is delivered at a time; no locks, no threads, no wall clock.
- **Errors.** A hook that raises stops the run with a :class:`~eventbt.errors.HandlerError` naming the
  handler, the event and its causal chain (the event, its cause, ... back to the market bar). The bus
  state is left as it was at the failure, so the audit log can record it.

Every publication is reported to the :class:`~eventbt.audit.AuditLog`, when one is given, with the handlers
the event will be delivered to (an event class's subscribers are fixed once the run starts).

**Quiet bars.** :meth:`Bus.run` (not :meth:`Bus.step`) may take a run of bars where nothing trades from the
source as one block (:mod:`eventbt.quiet`): the same events with the same ids, sequence numbers, times,
publishers and subscribers, delivered to each handler as one ``on_quiet_bars`` call and built only when
looked at (``events``, ``trace``). It does so only when every subscriber of a bar's events can take a block.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence, ValuesView
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs

from eventbt.errors import BusError, ContractError, HandlerError
from eventbt.events import BarOpenEvent, Event, MarketEvent, describe_non_events, format_time
from eventbt.quiet import BLOCK_EVENTS, QuietBars, QuietHandler, quiet_capable

if TYPE_CHECKING:
    from eventbt.audit import AuditLog
    from eventbt.handler import Handler, Hook

__all__ = ["Bus", "Delivery", "Source"]

_T = TypeVar("_T")


class _Unknown(enum.Enum):
    """An answer not worked out yet (where ``None`` is an answer)."""

    UNKNOWN = enum.auto()


_UNKNOWN = _Unknown.UNKNOWN


class _ById(Mapping[int, _T]):
    """A read-only ``event id -> value`` view over a list kept in publication order (``seq``)."""

    __slots__ = ("_log", "_seq_of")

    def __init__(self, seq_of: dict[int, int], log: list[_T]) -> None:
        self._seq_of = seq_of
        self._log = log

    def __getitem__(self, event_id: int) -> _T:
        return self._log[self._seq_of[event_id]]

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seq_of

    def __iter__(self) -> Iterator[int]:
        return iter(self._seq_of)

    def __len__(self) -> int:
        return len(self._seq_of)

    def __reversed__(self) -> Iterator[int]:
        return reversed(self._seq_of)

    def values(self) -> _Values[_T]:
        return _Values(self)


class _EventsById(_ById[Event]):
    """:class:`_ById` over the bus's log of events, building a quiet block's events when first looked up."""

    __slots__ = ()

    def __getitem__(self, event_id: int) -> Event:
        seq = self._seq_of[event_id]
        entry: object = self._log[seq]
        if isinstance(entry, QuietBars):
            event = self._log[seq] = entry.event(seq)  # kept in the log: the next look-up is a plain read
            return event
        return entry  # type: ignore[return-value]  # the log holds events and the blocks standing for them


class _Values(ValuesView[_T]):
    """The values of a :class:`_ById`, reversible like a dict's."""

    _mapping: _ById[_T]

    def __reversed__(self) -> Iterator[_T]:
        mapping = self._mapping
        for event_id in reversed(mapping):
            yield mapping[event_id]


class Source(Protocol):
    """Something that produces events on demand, in time order (the data feed)."""

    name: str

    def peek_time(self) -> int | None:
        """Time of the next event, or ``None`` when exhausted."""
        ...

    def pop(self) -> Event:
        """The next event (only called after :meth:`peek_time` returned a time)."""
        ...


@attrs.frozen(kw_only=True)
class Delivery:
    """What one :meth:`Bus.step` did: the event, and for each handler that took it, what it emitted."""

    seq: int
    event: Event
    emitted: tuple[tuple[str, tuple[Event, ...]], ...]

    @property
    def handlers(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.emitted)


class Bus:
    """The central event queue. See the module docstring for the contract."""

    def __init__(self, audit: AuditLog | None = None) -> None:
        self._routes: dict[type[Event], list[tuple[str, Hook]]] = {}
        self._names: dict[type[Event], tuple[str, ...]] = {}
        self._handlers: list[Handler] = []
        self._now: deque[Event] = deque()
        self._future: list[tuple[int, int, Event]] = []
        # One dict insert and two list appends per publication: the id's latest seq, and by seq the event
        # and its publisher. ``events`` and ``publisher`` are read-only id-keyed views over them.
        self._seq_of: dict[int, int] = {}
        self._log: list[Event] = []
        self._by: list[str] = []
        self._seq = 0
        self._source: Source | None = None
        self._audit = (audit if audit is not None and audit.enabled else None)
        self._record = self._audit.recorder() if self._audit is not None else None
        self.now_ns: int = -(2**63)
        self.events: Mapping[int, Event] = _EventsById(self._seq_of, self._log)
        self.publisher: Mapping[int, str] = _ById(self._seq_of, self._by)
        self.delivered = 0
        self.blocks = True  # take quiet bars as blocks in run() (Simulation turns it off for on_error = "skip")
        # The id of the last event a quiet block delivered in the last run() (its last snapshot, or the last event
        # before the market event a block failed at); see last_in_block().
        self._last_in_block: int | None = None
        # The id of the last event delivered (see last_delivered()): where the run is, whoever moved it.
        self._last_delivered: int | None = None
        # _quiet_handlers()'s answer for the bus as it is wired (the debugger's search for the next rebalance asks
        # once a run); forgotten when a handler, a subscription or the source changes.
        self._quiet: tuple[tuple[QuietHandler, ...], str] | _Unknown | None = _UNKNOWN

    # -- wiring ---------------------------------------------------------------------------------------
    def add(self, handler: Handler) -> None:
        """Subscribe ``handler`` to every event class in its ``subscribes``."""
        for event_class in handler.subscribes:
            self.subscribe(event_class, handler.name, handler.hook_for(event_class))
        self._handlers.append(handler)
        self._quiet = _UNKNOWN

    def subscribe(self, event_class: type[Event], name: str, hook: Hook) -> None:
        """Subscribe a bare callable under ``name`` (handlers use :meth:`add`)."""
        self._routes.setdefault(event_class, []).append((name, hook))
        self._names[event_class] = tuple(n for n, _ in self._routes[event_class])
        self._quiet = _UNKNOWN

    def has_subscribers(self, event_class: type[Event]) -> bool:
        return bool(self._routes.get(event_class))

    def subscribers(self, event_class: type[Event]) -> tuple[str, ...]:
        return tuple(name for name, _ in self._routes.get(event_class, ()))

    @property
    def handlers(self) -> tuple[Handler, ...]:
        return tuple(self._handlers)

    def attach_source(self, source: Source) -> None:
        self._source = source
        self._quiet = _UNKNOWN

    def detach_source(self) -> None:
        """Take nothing more from the source: a run that has ended publishes no more of its events (a look at the
        queue after a handler error must not pull the next bar into a log already closed)."""
        self._source = None
        self._quiet = _UNKNOWN

    def _quiet_handlers(self) -> tuple[tuple[QuietHandler, ...], str] | None:
        """The handlers a block of quiet bars goes to, in the order they take it (delivery order, those that call
        the user's code first: ``quiet_first``, the strategy), and the name of the one that publishes the
        snapshots; ``None`` when the source gives no blocks or some subscriber of a bar's events cannot take one
        (:func:`eventbt.quiet.quiet_capable`), or when ``blocks`` is off. Worked out once for the bus as it is
        wired: the handlers' classes and what they subscribe to when they were added."""
        if not self.blocks:
            return None
        if self._quiet is _UNKNOWN:
            self._quiet = self._find_quiet_handlers()
        return self._quiet

    def _find_quiet_handlers(self) -> tuple[tuple[QuietHandler, ...], str] | None:
        if getattr(self._source, "pop_block", None) is None:
            return None
        from eventbt.handler import hook_name

        taking: set[int] = set()
        for event_class in BLOCK_EVENTS:
            for _, hook in self._routes.get(event_class, ()):
                handler = getattr(hook, "__self__", None)
                if handler is None or not any(handler is known for known in self._handlers):
                    return None  # a bare callable: it takes events, nothing else
                hooks = [hook_name(cls) for cls in BLOCK_EVENTS if cls in handler.subscribes]
                if not quiet_capable(handler, hooks):
                    return None
                taking.add(id(handler))
        handlers = tuple(sorted((handler for handler in self._handlers if id(handler) in taking),
                                key=lambda handler: not getattr(handler, "quiet_first", False)))
        publishers = [handler.name for handler in handlers if getattr(handler, "quiet_snapshots", False)]
        if len(publishers) != 1:
            return None
        return handlers, publishers[0]  # type: ignore[return-value]

    def _deliver_block(self, block: QuietBars, handlers: tuple[QuietHandler, ...], snapshot_by: str,
                       source_name: str) -> None:
        """Take a block of quiet bars: number its events, hand it to ``handlers``, record it."""
        seq = self._seq
        count = block.count
        block.first_seq = seq
        block.snapshot_by = snapshot_by
        self._seq = seq + count
        self._seq_of.update(zip(block.ids(), range(seq, seq + count), strict=True))
        self._log.extend(itertools.repeat(block, count))  # type: ignore[arg-type]  # events built when looked up
        self._by.extend(block.publishers(source_name))
        self.now_ns = block.last_time_ns
        # The first to take the block calls the user's code (the strategy, its generator), so that when it fails at
        # a bar nobody has gone past that bar yet (_block_failed).
        first, others = handlers[0], handlers[1:]
        try:
            first.on_quiet_bars(block)
        except Exception as exc:
            raise self._block_failed(block, first, others, exc, source_name) from exc
        if first.name == block.snapshot_by:
            self._record_block(block, source_name)
        self._hand_block(block, others, source_name)
        self._last_in_block = block.first_id + block.count - 1

    def _hand_block(self, block: QuietBars, handlers: Sequence[QuietHandler], source_name: str) -> None:
        """Give ``block`` to ``handlers`` in turn. The block goes into the audit log as soon as its snapshots are
        known (once the handler that publishes them has it), as each event would be when it is published: the
        book's history and the log then hold the same bars whatever interrupts the rest. A handler that raises is
        named with the block's first bar."""
        for handler in handlers:
            block.at = block.start
            try:
                handler.on_quiet_bars(block)
            except Exception as exc:
                raise self._error(handler.name, block.market(block.at), exc) from exc
            if handler.name == block.snapshot_by:
                self._record_block(block, source_name)

    def _record_block(self, block: QuietBars, source_name: str) -> None:
        if self._audit is not None:
            names = self._names
            self._audit.quiet_bars(block, source_name, tuple(names.get(cls, ()) for cls in BLOCK_EVENTS))

    def _block_failed(self, block: QuietBars, failed: QuietHandler, others: Sequence[QuietHandler], exc: Exception,
                      source_name: str) -> HandlerError:
        """``failed`` raised at bar ``block.at`` of a block before anybody else took it: leave the bus, the
        handlers and the log as delivering event by event would have at that failure (the bars before it
        delivered, that bar's open event published and delivered, its market event published and delivered up to
        ``failed``), and name that event."""
        bar = block.at
        kept = block.per_bar * (bar - block.start)
        first = block.first_seq
        for event_id in block.ids()[kept:]:
            del self._seq_of[event_id]
        del self._log[first + kept:], self._by[first + kept:]
        self._seq = first + kept
        opening = None if block.open_ns is None else block.build_open(
            bar, block.first_id + kept, int(block.open_ns[bar - block.start]))
        market = block.build_market(bar, block.market_id(bar))
        block.end_before(bar)
        if kept:
            self._hand_block(block, others, source_name)
            self.delivered += kept
        if opening is not None:
            self.now_ns = opening.time_ns
            self.publish(opening, source_name)
            self._now.pop()  # delivered here, to all its subscribers
            for name, hook in self._routes.get(BarOpenEvent, ()):
                self._hook(name, hook, opening)
            self.delivered += 1
        self.now_ns = market.time_ns
        self.publish(market, source_name)
        self._now.pop()  # delivered here, up to the handler that failed
        for name, hook in self._routes.get(MarketEvent, ()):
            if name == failed.name:
                break
            self._hook(name, hook, market)
        # The last event delivered whole is the one before the failing market event (as stepping would leave it):
        # the bar's open event, or the previous bar's snapshot when the block had bars before it. Without either,
        # the block failed at its first bar, and what came before it says where the run is: a block before it
        # (its last snapshot, recorded when that block was delivered) or an event delivered one by one after it.
        if kept or opening is not None:
            self._last_in_block = market.id - 1
        return self._error(failed.name, market, exc)

    # -- publishing -----------------------------------------------------------------------------------
    def publish(self, event: Event, by: str = "user") -> None:
        """Queue ``event`` at its own time (now, or later: scheduled). ``by`` names the publisher. An id already
        published is refused (a :class:`BusError`): the log, ``trace`` and the debugger find events by id."""
        if event.id in self._seq_of:
            raise BusError(f"{by} published {event.kind} #{event.id}, an id already taken by "
                           f"{self.events[event.id].kind} #{event.id}; a new event takes its id from "
                           "context.next_id()")
        seq = self._seq
        self._seq = seq + 1
        time_ns = event.time_ns
        if time_ns == self.now_ns:
            self._now.append(event)
        elif time_ns > self.now_ns:
            heapq.heappush(self._future, (time_ns, seq, event))
        else:
            # The seq is used up; keep the by-seq lists aligned with it (this entry has no id pointing at it).
            self._log.append(event)
            self._by.append(by)
            raise BusError(
                f"{by} published {event.kind} #{event.id} at {format_time(time_ns)}, "
                f"before the current time {format_time(self.now_ns)}"
            )
        self._seq_of[event.id] = seq
        self._log.append(event)
        self._by.append(by)
        if self._record is not None:
            self._record(seq, event, by, self._names.get(event.__class__, ()))

    def schedule(self, event: Event, by: str = "user") -> None:
        """Queue ``event`` for a later simulated time; it must be later than now."""
        if event.time_ns <= self.now_ns:
            raise BusError(
                f"{by} scheduled {event.kind} #{event.id} at {format_time(event.time_ns)}, "
                f"not after the current time {format_time(self.now_ns)}"
            )
        self.publish(event, by)

    # -- delivery -------------------------------------------------------------------------------------
    def _next(self) -> Event | None:
        """Pop the next event in (time, seq) order, pulling from the source when nothing earlier is due."""
        if self._now:
            return self._now.popleft()
        source = self._source
        source_time = source.peek_time() if source is not None else None
        future = self._future
        if future and (source_time is None or future[0][0] <= source_time):
            time_ns = future[0][0]
            self.now_ns = time_ns
            while future and future[0][0] == time_ns:
                self._now.append(heapq.heappop(future)[2])
            return self._now.popleft()
        if source_time is None or source is None:
            return None
        self.now_ns = source_time
        self.publish(source.pop(), source.name)
        return self._now.popleft()

    def peek(self) -> Event | None:
        """The next event that would be delivered, without delivering it (pulls the source if needed)."""
        event = self._next()
        if event is not None:
            self._now.appendleft(event)
        return event

    def pending(self) -> list[Event]:
        """Queued events in delivery order (without pulling the source)."""
        ordered = sorted(self._future, key=lambda item: (item[0], item[1]))
        return [*self._now, *(event for _, _, event in ordered)]

    def seq_of(self, event_id: int) -> int:
        return self._seq_of[event_id]

    def step(self) -> Delivery | None:
        """Deliver exactly one event; return what was delivered to whom, or ``None`` when the run is over."""
        event = self._next()
        if event is None:
            return None
        emitted = [(name, self._hook(name, hook, event)) for name, hook in self._routes.get(event.__class__, ())]
        self._last_delivered = event.id
        self.delivered += 1
        return Delivery(seq=self._seq_of[event.id], event=event, emitted=tuple(emitted))

    def _hook(self, name: str, hook: Hook, event: Event) -> tuple[Event, ...]:
        """Give ``event`` to one handler's hook and publish what it returns (an error names the handler, the event
        and its causal chain); returns the events published."""
        try:
            out = hook(event)
        except Exception as exc:
            raise self._error(name, event, exc) from exc
        try:
            published = tuple(out) if out else ()
            for new in published:
                self.publish(new, name)
        except (TypeError, AttributeError, BusError) as exc:
            raise self._bad_output(name, event, out, exc) from exc
        return published

    def run(self, stop: Callable[[Event], bool] | None = None, *, quiet_bars: bool = False) -> Event | None:
        """Deliver events until none is left, or until ``stop(next_event)`` is true.

        Returns the event it stopped before (still queued, delivered next), or ``None`` at the end.

        A run without ``stop`` takes quiet bars as blocks (:mod:`eventbt.quiet`); with ``stop`` it asks ``stop``
        about every event, unless ``quiet_bars``: then it takes the blocks too, without asking ``stop`` about
        their events. That is for a caller whose ``stop`` has no use for a quiet bar's events, as the
        debugger's search for the next rebalance, which looks at market events for a bar that signals.

        This is :meth:`step`'s dispatch (:meth:`_hook`) written out inline, on purpose: it is the hot loop of every run
        (one iteration per event), and local names, no :class:`Delivery` records and no call per event
        save about a third of the bus's own time. A change to delivery must be made in both places;
        ``tests/eventbt/test_debugger.py`` checks that stepping and running give the same digest.
        """
        routes = self._routes
        publish = self.publish
        now = self._now
        future = self._future
        empty: list[tuple[str, Hook]] = []
        source = self._source
        # The source's events (a bar's market and end events) are pulled and recorded here without going
        # through _next() and publish(): the same steps, inline, when nothing is scheduled for later.
        peek = source.peek_time if source is not None else None
        pop = source.pop if source is not None else None
        source_name = source.name if source is not None else ""
        seq_of, log, by_list = self._seq_of, self._log, self._by
        record, names = self._record, self._names
        # Quiet bars come as blocks (eventbt.quiet) when nobody stops the run before an event, or the caller says
        # its stop has no use for a quiet bar's events (quiet_bars).
        quiet = self._quiet_handlers() if stop is None or quiet_bars else None
        pop_block = getattr(source, "pop_block", None) if quiet is not None else None
        quiet_handlers, snapshot_by = quiet if quiet is not None else ((), "")
        delivered = 0
        self._last_in_block = None
        taken: Event | None = None  # the last event taken one by one (its hooks called, even if one failed)
        try:
            while True:
                if now:
                    event = now.popleft()
                elif future or peek is None or pop is None:
                    next_event = self._next()
                    if next_event is None:
                        return None
                    event = next_event
                else:
                    if pop_block is not None:
                        block = pop_block(quiet_handlers)
                        if block is not None:
                            self._deliver_block(block, quiet_handlers, snapshot_by, source_name)
                            delivered += block.count
                            continue
                    time_ns = peek()
                    if time_ns is None:
                        return None
                    self.now_ns = time_ns
                    event = pop()
                    seq = self._seq
                    self._seq = seq + 1
                    seq_of[event.id] = seq
                    log.append(event)
                    by_list.append(source_name)
                    if record is not None:
                        record(seq, event, source_name, names.get(event.__class__, ()))
                if stop is not None and stop(event):
                    now.appendleft(event)
                    return event
                taken = event
                for name, hook in routes.get(event.__class__, empty):
                    try:
                        out = hook(event)
                    except Exception as exc:
                        raise self._error(name, event, exc) from exc
                    if out:
                        try:
                            for new in out:
                                publish(new, name)
                        except (TypeError, AttributeError, BusError) as exc:
                            raise self._bad_output(name, event, out, exc) from exc
                delivered += 1
        finally:
            self.delivered += delivered
            # The later of the last event delivered one by one and the last a block delivered (a larger seq is later).
            block_last = self._last_in_block
            if taken is not None and (block_last is None or seq_of[taken.id] > seq_of[block_last]):
                self._last_delivered = taken.id
            elif block_last is not None:
                self._last_delivered = block_last

    def last_delivered(self) -> Event | None:
        """The last event delivered, by :meth:`step`, :meth:`run` or in a quiet block; ``None`` before the first.
        Where the run is, whoever moved it (the debugger reads it). After a hook error: :meth:`run` took the failing
        event (as the debugger's search saw it), :meth:`step` did not (the event before it); a block that failed
        at a bar, the last event before that bar's market event."""
        return None if self._last_delivered is None else self.events[self._last_delivered]

    def last_in_block(self) -> Event | None:
        """The last event the last :meth:`run` delivered in a quiet block (its last snapshot, or, when a handler
        failed inside the block, the last event delivered before that bar's market event); ``None`` when it took no
        block. Events delivered one by one after it have larger sequence numbers (:meth:`seq_of`). A caller whose
        ``stop`` did not see the blocks' events (``quiet_bars=True``) learns from it where the run is."""
        return None if self._last_in_block is None else self.events[self._last_in_block]

    # -- tracing --------------------------------------------------------------------------------------
    def trace(self, event_id: int) -> list[Event]:
        """The causal chain of an event: the event, its cause, its cause's cause, ... to the root."""
        chain: list[Event] = []
        current: int | None = event_id
        seen: set[int] = set()  # a handler's event may name itself (or a later event) as its cause: stop there
        while current is not None and current in self.events and current not in seen:
            seen.add(current)
            event = self.events[current]
            chain.append(event)
            current = event.cause_id
        return chain

    def _bad_output(self, name: str, event: Event, out: object, exc: Exception) -> HandlerError:
        """What a hook returned that is not a list of events (or a list holding something else)."""
        what = describe_non_events(out)
        if what is None:
            return self._error(name, event, exc)  # events that failed to publish: the bus's own error
        if not isinstance(out, list | tuple):
            what += ", not a list of events"
        problem = ContractError(f"returned {what}; a hook returns a list of events or None", plugin=name)
        return self._error(name, event, problem)

    def _error(self, name: str, event: Event, exc: Exception) -> HandlerError:
        chain = self.trace(event.id) or [event]
        links = " <- ".join(f"{e.kind}#{e.id}" for e in chain)
        return HandlerError(
            f"handler {name!r} raised {type(exc).__name__}: {exc}; while handling {event.kind} #{event.id} "
            f"at {event.date}; causal chain: {links}",
            handler=name,
            event=event,
            chain=list(chain),
        )
