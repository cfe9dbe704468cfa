"""Breakpoints and the names the debugger reads: dates, event types, did-you-mean.

:class:`Breakpoint` stops a run before an event that meets every given condition; :func:`event_class` turns a
name (``"fill"``, ``"FillEvent"``) into an event class, :func:`day_start_ns` a date into simulated time, and
:func:`did_you_mean` finds the closest of some names for a message. Whether a breakpoint could ever fire in a
given run is the :class:`~eventbt.debug.debugger.Debugger`'s check (it knows the run's symbols and dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs
import numpy as np

from eventbt.errors import DebuggerError, did_you_mean
from eventbt.events import Event

__all__ = ["Breakpoint", "day_start_ns", "did_you_mean", "event_class", "event_names", "has_symbol"]

_NS_PER_DAY = 86_400_000_000_000
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_start_ns(date: str) -> int:
    """Midnight of ``date`` in simulated nanoseconds: the one parser of the debugger's dates (``--at``, ``until``,
    :meth:`~eventbt.debug.debugger.Debugger.run_until`, a breakpoint's date). Only ``YYYY-MM-DD`` (a day of the
    calendar) is a date, as for ``eventbt audit show --from``: numpy would read ``19900928`` as the year 19900928,
    so any other form is a :class:`DebuggerError` rather than a date far in the future."""
    text = str(date).strip()
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        day = np.datetime64(text, "D")
    except ValueError:
        raise DebuggerError(f"not a date: {date!r} (expected YYYY-MM-DD)", argument=str(date)) from None
    if np.isnat(day):
        raise DebuggerError(f"not a date: {date!r} (expected YYYY-MM-DD)", argument=str(date))
    return int(day.astype("datetime64[ns]").astype(np.int64))


def event_class(name: str | type[Event]) -> type[Event]:
    """``"FillEvent"``, ``"fill"`` or ``FillEvent`` -> ``FillEvent``; a class that is not an event (``str``) is a
    :class:`DebuggerError`, as an unknown name is: nothing on the bus is one, so a breakpoint would never fire."""
    if isinstance(name, type):
        if issubclass(name, Event):
            return name
        raise DebuggerError(f"{name.__qualname__} is not an event class (a subclass of eventbt.events.Event), so a "
                            "breakpoint on it would never fire", argument=name.__qualname__)
    if not isinstance(name, str):
        raise DebuggerError(f"an event type is a name ('fill', 'FillEvent') or an event class, got {name!r}",
                            argument=repr(name))
    from eventbt import events

    classes = {cls.__name__: cls for cls in vars(events).values()
               if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event}
    wanted = name.strip().lower().removesuffix("event")
    for class_name, cls in classes.items():
        if class_name.lower().removesuffix("event") == wanted:
            return cls
    known = ", ".join(sorted(classes))
    hint = did_you_mean(name, event_names())
    raise DebuggerError(f"unknown event type {name!r}{hint} (expected one of {known})", argument=name)


def event_names() -> list[str]:
    """Every event type by its class name and its short name (``FillEvent``, ``fill``)."""
    from eventbt import events

    names = []
    for cls in vars(events).values():
        if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event:
            names += [cls.__name__, cls.__name__.lower().removesuffix("event")]
    return sorted(names)


def has_symbol(cls: type[Event]) -> bool:
    """Whether events of ``cls`` carry a ``symbol`` (so a breakpoint on a symbol can match them)."""
    return attrs.has(cls) and any(field.name == "symbol" for field in attrs.fields(cls))


@attrs.frozen(kw_only=True)
class Breakpoint:
    """Stop before an event that meets every given condition.

    ``event_type``: exact class. ``symbol``: the event's ``symbol`` field (orders, fills, cancels,
    notices). ``date`` alone: the first event at or after that date (the run *reaches* it); with other
    conditions: events on that day. ``predicate``: any ``Callable[[Event], bool]``.
    """

    number: int
    event_type: type[Event] | None = None
    symbol: str | None = None
    date: str | None = None
    predicate: Callable[[Event], bool] | None = None

    def matches(self, event: Event, previous_ns: int) -> bool:
        """Whether to stop before ``event``; ``previous_ns`` is the time of the event delivered before it."""
        if self.event_type is not None and type(event) is not self.event_type:
            return False
        if self.symbol is not None and getattr(event, "symbol", None) != self.symbol:
            return False
        if self.date is not None:
            start = day_start_ns(self.date)
            if self.event_type is None and self.symbol is None and self.predicate is None:
                if not previous_ns < start <= event.time_ns:
                    return False
            elif not start <= event.time_ns < start + _NS_PER_DAY:
                return False
        return self.predicate is None or bool(self.predicate(event))

    def __str__(self) -> str:
        parts = [self.event_type.__name__ if self.event_type else "any event"]
        if self.symbol:
            parts.append(self.symbol)
        if self.date:
            parts.append(f"on {self.date}" if len(parts) > 1 or self.event_type else f"reaching {self.date}")
        if self.predicate is not None:
            parts.append(f"if {getattr(self.predicate, '__name__', 'predicate')}")
        return f"{self.number}: " + " ".join(parts)
