"""The strategy handler: feeds bars to a signal generator and publishes its targets on rebalance bars.

Look-ahead is impossible by construction: the handler keeps its own copy of the rows it has received
(market events arrive in time order and carry only their own bar), and the generator's
:class:`~eventbt.protocols.PriceView` exposes only those rows.

Targets are validated before they are published: a mapping of known symbols to finite weights >= 0 that sum
to at most 1 (+1e-9). Anything else is a :class:`~eventbt.errors.SignalError` naming the strategy, the date
and the symbol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from eventbt.errors import SignalError
from eventbt.events import Event, MarketEvent, SignalEvent
from eventbt.handler import Handler
from eventbt.protocols import SignalGenerator

__all__ = ["HistoryView", "StrategyHandler"]

_WEIGHT_SUM_TOLERANCE = 1e-9


class HistoryView:
    """The :class:`~eventbt.protocols.PriceView` of one bar: rows received so far, read-only."""

    __slots__ = ("_buffers", "_event", "rows_read")

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._event: MarketEvent | None = None
        self.rows_read = 0  # how many rows generators asked for through history(): a work counter

    def _append(self, event: MarketEvent) -> None:
        bar = event.bar
        for name in ("close", "open", "high", "low", "volume"):
            row = getattr(event, name)
            if row is None:
                continue
            buffer = self._buffers.get(name)
            if buffer is None or bar >= len(buffer):
                grown = np.full((max(64, 2 * (bar + 1)), len(row)), np.nan)
                if buffer is not None:
                    grown[: len(buffer)] = buffer
                self._buffers[name] = buffer = grown
            buffer[bar] = row
        self._event = event

    @property
    def _current(self) -> MarketEvent:
        assert self._event is not None, "no bar received yet"
        return self._event

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._current.symbols

    @property
    def bar(self) -> int:
        return self._current.bar

    @property
    def date(self) -> np.datetime64:
        day: np.datetime64 = np.datetime64(self._current.time_ns, "ns").astype("datetime64[D]")
        return day

    @property
    def close(self) -> np.ndarray:
        return self._current.close

    def history(self, field: str = "close") -> np.ndarray:
        if field not in self._buffers:
            raise KeyError(f"no {field!r} prices in this data")
        rows = self._current.bar + 1
        self.rows_read += rows
        # The buffer holds only rows already received, so a view of it cannot reach later bars.
        view = self._buffers[field][:rows]
        view.setflags(write=False)
        return view


class StrategyHandler(Handler):
    """Calls ``generator.update`` every bar and ``generator.target_weights`` on rebalance bars."""

    name = "strategy"
    subscribes = (MarketEvent,)

    def __init__(self, generator: SignalGenerator, rebalance_bars: np.ndarray, *, strategy_name: str) -> None:
        self.generator = generator
        self.strategy_name = strategy_name
        self._rebalance = [bool(x) for x in rebalance_bars]
        self.view = HistoryView()
        self.signals = 0

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        view = self.view
        view._append(event)
        self.generator.update(view)
        if not self._rebalance[event.bar]:
            return None
        targets = self.generator.target_weights(view)
        if targets is None:
            return None
        weights = self._validate(targets, event)
        self.signals += 1
        return [SignalEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                            bar=event.bar, strategy=self.strategy_name, weights=weights)]

    def _validate(self, targets: Any, event: MarketEvent) -> dict[str, float]:
        date = event.date[:10]
        name = self.strategy_name
        if not isinstance(targets, Mapping):
            raise SignalError(f"target weights must be a mapping of symbol to weight, got "
                              f"{type(targets).__name__}", strategy=name, date=date)
        known = self.context.symbol_index
        weights: dict[str, float] = {}
        for symbol in sorted(targets, key=str):
            raw = targets[symbol]
            if symbol not in known:
                raise SignalError(f"target weight for {symbol!r}, a symbol with no data",
                                  strategy=name, date=date, symbol=str(symbol))
            try:
                weight = float(raw)
            except (TypeError, ValueError):
                raise SignalError(f"weight for {symbol!r} is {raw!r}, not a number",
                                  strategy=name, date=date, symbol=symbol) from None
            if not math.isfinite(weight) or weight < 0:
                raise SignalError(f"weight for {symbol!r} is {weight}; expected a finite number >= 0",
                                  strategy=name, date=date, symbol=symbol)
            if weight > 0:
                weights[symbol] = weight
        total = math.fsum(weights.values())
        if total > 1 + _WEIGHT_SUM_TOLERANCE:
            raise SignalError(f"weights sum to {total:.12g}; expected at most 1 (the rest is cash)",
                              strategy=name, date=date)
        return weights
