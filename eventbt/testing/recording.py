"""A handler that records what it is given, and a harness that delivers events to one handler.

Use them to test a handler of your own the way eventbt tests its own: build its events with
:class:`~eventbt.testing.factories.EventFactory`, hand them over with :func:`deliver`, and look at what it
returned, or put a :class:`RecordingHandler` on a real run's bus to see what reached it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from eventbt.events import Event
from eventbt.handler import Context, Handler
from eventbt.portfolio import Portfolio
from eventbt.testing.factories import EventFactory

__all__ = ["RecordingHandler", "bind", "deliver"]


class RecordingHandler(Handler):
    """Subscribes to ``event_types`` and keeps every event it receives, in order; publishes nothing."""

    def __init__(self, *event_types: type[Event], name: str = "recorder") -> None:
        if not event_types:
            raise ValueError("RecordingHandler needs at least one event type to subscribe to")
        self.name = name
        self.subscribes = tuple(event_types)
        self.events: list[Event] = []
        for event_type in event_types:
            setattr(self, _hook(event_type), self.events.append)

    def of(self, event_type: type[Event]) -> list[Event]:
        """The recorded events of one type."""
        return [event for event in self.events if isinstance(event, event_type)]


def _hook(event_type: type[Event]) -> str:
    from eventbt.handler import hook_name

    return hook_name(event_type)


def bind(handler: Handler, symbols: Iterable[str] | EventFactory = ("A",), *, cash: float = 100_000.0,
         bars: int = 366) -> Context:
    """Bind ``handler`` to a fresh context (sorted ``symbols``, a portfolio with ``cash``); returns it.

    Given the :class:`~eventbt.testing.factories.EventFactory` that builds the test's events instead of the
    symbols, the context takes its symbols, its calendar (``bars`` bars, as the factory dates them: a handler that
    reads ``context.dates``, as the fee handlers do, finds each bar) and its ids (the handler's events are
    numbered after the factory's, never the same id twice). Given symbols, the context has no dates and numbers
    its own ids from 1.
    """
    if isinstance(symbols, EventFactory):
        factory = symbols
        context = Context(symbols=factory.symbols, dates=factory.dates(bars),
                          portfolio=Portfolio(factory.symbols, cash), ids=factory.ids)
    else:
        ordered = tuple(sorted(symbols))
        context = Context(symbols=ordered, dates=np.array([], dtype="datetime64[ns]"),
                          portfolio=Portfolio(ordered, cash))
    handler.bind(context)
    return context


def deliver(handler: Handler, event: Event) -> list[Event]:
    """Call the handler's hook for ``event`` as the bus would; returns what it published (a list)."""
    if type(event) not in handler.subscribes:
        raise TypeError(f"handler {handler.name!r} does not subscribe to {type(event).__name__}")
    out = handler.hook_for(type(event))(event)
    return list(out) if out else []
