"""The base every handler builds on, and the read-only context handlers see.

A handler declares the event classes it consumes in ``subscribes`` and implements one hook per class,
named ``on_`` + the class name without ``Event`` in snake case (``MarketEvent`` -> ``on_market``,
``BarOpenEvent`` -> ``on_bar_open``). A hook returns the events to publish (a list, or ``None``). Handlers
never call each other; what they may read of the world is the :class:`Context`: the clock, the symbols, an id
for each new event and a read-only view of the portfolio.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from eventbt.errors import ContractError
from eventbt.events import Event
from eventbt.portfolio import Portfolio, PortfolioView

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Context", "Handler", "Hook", "hook_name"]

Hook = Callable[[Any], "Iterable[Event] | None"]
"""What the bus calls: a handler's ``on_*`` method, given one event, returning the events it publishes."""

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def hook_name(event_class: type[Event]) -> str:
    """``MarketEvent`` -> ``on_market``; ``BarOpenEvent`` -> ``on_bar_open``."""
    base = event_class.__name__.removesuffix("Event")
    return "on_" + _CAMEL.sub("_", base).lower()


class Context:
    """What a handler may read: symbols, dates (``datetime64[ns]``, one per bar), new event ids, and the
    portfolio as a read-only :class:`~eventbt.portfolio.PortfolioView` (a :class:`~eventbt.portfolio.Portfolio`
    given here is wrapped in one). ``first_bar`` is the first tradable bar: the bars before it are the
    warm-up (``[run] warmup``), which only the strategy sees. ``ids`` is the counter new ids are drawn from
    (default: one counting from 1; a test passes its event factory's, so the two never give the same id)."""

    def __init__(self, *, symbols: tuple[str, ...], dates: np.ndarray,
                 portfolio: PortfolioView | Portfolio, first_bar: int = 0,
                 ids: Iterator[int] | None = None) -> None:
        self.symbols = symbols
        self.symbol_index = {symbol: i for i, symbol in enumerate(symbols)}
        self.dates = dates
        self.first_bar = first_bar
        self.portfolio = portfolio if isinstance(portfolio, PortfolioView) else PortfolioView(portfolio)
        self._ids = itertools.count(1) if ids is None else ids
        self.next_id = self._ids.__next__

    def reserve_ids(self, n: int) -> int:
        """``n`` consecutive new ids at once (a block of quiet bars, :mod:`eventbt.quiet`); returns the first."""
        first = self.next_id()
        if n > 1:
            next(itertools.islice(self._ids, n - 2, None))  # takes the other n - 1
        return first


class Handler:
    """Base class: subclass, set ``name`` and ``subscribes``, write the ``on_*`` hooks."""

    name: str = "handler"
    subscribes: tuple[type[Event], ...] = ()

    context: Context

    def bind(self, context: Context) -> None:
        """Called once before the run starts; override to prepare state (call ``super().bind``)."""
        self.context = context

    def hook_for(self, event_class: type[Event]) -> Hook:
        method = getattr(self, hook_name(event_class), None)
        if not callable(method):
            raise ContractError(
                f"handler {self.name!r} ({type(self).__module__}:{type(self).__qualname__}) subscribes to "
                f"{event_class.__name__} but has no {hook_name(event_class)}(event) method",
                plugin=self.name,
            )
        hook: Hook = method
        return hook

    def finish(self) -> Iterable[Event] | None:
        """Called once when the data has ended (before results are built); may return final events."""
        return None
