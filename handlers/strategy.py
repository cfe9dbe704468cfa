"""The strategy handler: feeds bars to a signal generator and publishes its targets on rebalance bars.

Look-ahead is impossible by construction: the handler keeps its own copy of the rows it has received
(market events arrive in time order and carry only their own bar), and the generator's
:class:`~eventbt.protocols.PriceView` exposes only those rows.

Targets are validated before they are published: a mapping of known symbols to finite weights >= 0 that sum
to at most 1 (+1e-9). Anything else is a :class:`~eventbt.errors.SignalError` naming the strategy, the date
and the symbol. With the limits of a margin account (``[portfolio] allow_short``, ``max_gross``, ``max_net``;
``docs/long-short.md``) a weight may be negative when ``allow_short`` is set, and a signal whose gross
``sum(|w|)`` exceeds ``max_gross`` or whose ``|sum(w)|`` exceeds ``max_net`` (by more than 1e-9) is scaled
down, every weight by the one factor ``min(max_gross / gross, max_net / |net|)``, with a ``scaled_to_limits``
notice published just before the signal.

Warm-up bars (:class:`~eventbt.events.WarmupBarEvent`) go to the generator's ``update`` like any bar, but its
``target_weights`` is never asked there: no signal comes from the warm-up.

Corporate actions: the history is forward-adjusted, as far as it goes. At a
:class:`~eventbt.events.SplitEvent` (09:00 of the ex-date, before the bar's close arrives) every earlier
price of the symbol is divided by the ratio and every earlier volume multiplied by it, and the generator's
optional ``adjust(factors)`` is called with ``1 / ratio`` for that symbol, so its indicators continue in new
shares: the series a generator sees is split-continuous and is what a split-adjusted file would show up to
this bar, made with nothing but the split itself (no later price). With ``prices = "total_return"`` a
:class:`~eventbt.events.DividendEvent` likewise scales the earlier prices by ``1 - dividend / previous
close``, the factor that makes the ex-date's move a total return.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

import numpy as np

from eventbt.errors import EventbtError, SignalError, did_you_mean
from eventbt.events import (
    DividendEvent,
    Event,
    MarketEvent,
    NoticeCode,
    NoticeEvent,
    SignalEvent,
    SplitEvent,
    WarmupBarEvent,
)
from eventbt.handler import Handler
from eventbt.protocols import STRATEGY_PRICES, SignalGenerator, StrategyPrices, adjusts
from eventbt.quiet import QuietBars, next_bar

__all__ = ["HistoryView", "StrategyHandler"]

_WEIGHT_SUM_TOLERANCE = 1e-9
_FIELDS = ("close", "open", "high", "low", "volume")
_PRICES = ("close", "open", "high", "low")


def _field_row(name: str) -> property:
    """A ``MarketEvent`` field other than the close, read from the block's rows the bar was made from."""

    def row(self: _QuietBar) -> np.ndarray | None:
        rows = self._fields.get(name)
        return None if rows is None else rows[self._k]

    return property(row)


class _QuietBar:
    """One bar of a block of quiet bars (:mod:`eventbt.quiet`) as the view keeps it: what it reads of a
    ``MarketEvent`` (the close, ``complete``, the time, the other rows), without building the event. It keeps the
    block's rows as they were when it was made (a block ended early gets shorter arrays of its own)."""

    __slots__ = ("_fields", "_k", "bar", "close", "complete", "symbols", "time_ns")

    def __init__(self, block: QuietBars, bar: int, k: int) -> None:
        self._fields = block.fields
        self._k = k
        self.bar = bar
        self.close = block.close[k]
        self.complete = block.complete[k]
        self.symbols = block.symbols
        self.time_ns = block.time_ns[k]

    open = _field_row("open")
    high = _field_row("high")
    low = _field_row("low")
    volume = _field_row("volume")


def _sum(weights: list[float]) -> float:
    """The exact sum of finite ``weights`` (:func:`math.fsum`), or ``inf`` where it is beyond the largest float
    (where ``fsum`` raises ``OverflowError``: ``1e308 + 1e308``)."""
    try:
        return math.fsum(weights)
    except OverflowError:
        return sum(weights)  # inf (or -inf), as a plain sum overflows


def _number(raw: object) -> float | None:
    """``raw`` as the float it equals, or ``None`` when it is not a number.

    A number is an ``int``, a ``float``, a numpy integer or float, a ``Decimal``, a ``Fraction`` (anything
    ``float()`` takes) but not text (``str``, ``numpy.str_``, ``bytes``: ``float("0.5")`` would read it) nor a
    bool (``True``, ``numpy.True_``: ``float(True)`` is 1.0, a whole portfolio from a flag).
    """
    if isinstance(raw, str | bytes | bytearray | bool):
        return None
    if isinstance(raw, np.generic | np.ndarray) and raw.dtype.kind not in "iuf":
        return None
    try:
        return float(raw)  # type: ignore[arg-type]  # anything with __float__ or __index__
    except (TypeError, ValueError):
        return None


class HistoryView:
    """The :class:`~eventbt.protocols.PriceView` of one bar: rows received so far, read-only.

    Receiving a bar only keeps a reference to its event; the rows are copied into the history buffers when a
    generator first asks for :meth:`history`, so a generator that never does (the EMA allocation) costs no
    copy and no buffer.
    """

    __slots__ = ("_buffers", "_event", "_filled", "_received", "rows_read")

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._filled: dict[str, int] = {}  # rows already copied into each buffer
        self._received: list[MarketEvent] = []
        self._event: MarketEvent | None = None
        self.rows_read = 0  # how many rows generators asked for through history(): a work counter

    def _append(self, event: MarketEvent | WarmupBarEvent | _QuietBar) -> None:
        self._received.append(event)  # type: ignore[arg-type]  # a warm-up or quiet bar has a market event's fields
        self._event = event  # type: ignore[assignment]

    def _rescale(self, j: int, bar: int, price_factor: float, volume_factor: float = 1.0) -> None:
        """Scale column ``j`` of every row before ``bar``: prices by ``price_factor``, volumes by ``volume_factor``.

        The received rows are copied into their buffers first (every field the data has), so the adjustment
        holds for every later :meth:`history` call; rows from ``bar`` on are not there yet.
        """
        if not self._received:
            return
        for name in _FIELDS:
            factor = volume_factor if name == "volume" else price_factor
            buffer = self._fill(name)
            if buffer is not None and factor != 1.0:
                buffer[:bar, j] *= factor

    def last_close(self, j: int) -> float:
        """The last close of column ``j`` received so far, as it was quoted that day (NaN: none)."""
        for event in reversed(self._received):
            price = float(event.close[j])
            if price == price:
                return price
        return math.nan

    def _fill(self, name: str) -> np.ndarray | None:
        """The buffer of ``name`` with every received row copied in (``None``: the data has no such field)."""
        received = self._received
        done = self._filled.get(name, 0)
        buffer = self._buffers.get(name)
        if buffer is not None and done == len(received):
            return buffer
        if getattr(received[0], name) is None:
            return None
        rows = received[-1].bar + 1
        if buffer is None or rows > len(buffer):
            grown = np.full((max(64, 2 * rows), len(received[0].symbols)), np.nan)
            if buffer is not None:
                grown[: len(buffer)] = buffer
            self._buffers[name] = buffer = grown
        for event in received[done:]:
            row = getattr(event, name)
            if row is not None:
                buffer[event.bar] = row
        self._filled[name] = len(received)
        return buffer

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
    def complete(self) -> bool:
        """Whether every symbol has a close at this bar (no NaN in :attr:`close`)."""
        return self._current.complete

    @property
    def close(self) -> np.ndarray:
        return self._current.close

    def history(self, field: str = "close") -> np.ndarray:
        rows = self._current.bar + 1
        buffer = self._fill(field) if field in _FIELDS else None
        if buffer is None:
            raise KeyError(f"no {field!r} prices in this data")
        self.rows_read += rows
        # The buffer holds only rows already received, so a view of it cannot reach later bars.
        view = buffer[:rows]
        view.setflags(write=False)
        return view


class StrategyHandler(Handler):
    """Calls ``generator.update`` every bar and ``generator.target_weights`` on rebalance bars.

    ``prices`` is ``[strategy] prices``: the history is adjusted for splits (``"split_adjusted"``) or for
    splits and dividends (``"total_return"``); see the module docstring. ``allow_short``, ``max_gross`` and
    ``max_net`` are the ``[portfolio]`` limits (``None``: not set); with none of them the targets are those of
    a cash account. ``data_symbols``: ``[data] symbols`` when the scenario lists some (a target on a symbol
    outside it is said to be left out by it, as :mod:`eventbt.data.fit` says of a strategy's named symbols).
    """

    name = "strategy"
    subscribes: tuple[type[Event], ...] = (MarketEvent, WarmupBarEvent, SplitEvent)

    def __init__(self, generator: SignalGenerator, rebalance_bars: np.ndarray, *, strategy_name: str,
                 prices: StrategyPrices = "split_adjusted", allow_short: bool = False, max_gross: float | None = None,
                 max_net: float | None = None, data_symbols: Collection[str] = ()) -> None:
        if prices not in STRATEGY_PRICES:
            raise ValueError(f"prices must be one of {', '.join(STRATEGY_PRICES)}, got {prices!r}")
        self.allow_short = allow_short
        self.limits = allow_short or max_gross is not None or max_net is not None
        self.max_gross = 1.0 if max_gross is None else float(max_gross)
        self.max_net = max_net
        self.generator = generator
        self.strategy_name = strategy_name
        self.data_symbols = data_symbols
        self.prices = prices
        if prices == "total_return":
            self.subscribes = (*type(self).subscribes, DividendEvent)
        self._rebalance = [bool(x) for x in rebalance_bars]
        self._rebalance_bars = np.flatnonzero(rebalance_bars).tolist()  # where a block of quiet bars ends
        self.view = HistoryView()
        self.signals = 0

    def on_warmup_bar(self, event: WarmupBarEvent) -> None:
        """A warm-up bar: the generator sees it (``update``), and is never asked for targets."""
        self.view._append(event)
        try:
            self.generator.update(self.view)
        except Exception as exc:
            self._raise("update(view)", exc, event.date[:10])

    def on_split(self, event: SplitEvent) -> None:
        """Rescale the history before the split (prices / ratio, volumes x ratio) and the generator's state."""
        self._adjust(event.symbol, event.bar, event.date[:10], 1.0 / event.ratio, event.ratio)

    def on_dividend(self, event: DividendEvent) -> None:
        """With ``prices = "total_return"``: scale the history before the ex-date by ``1 - dividend / previous
        close``."""
        j = self.context.symbol_index[event.symbol]
        previous = self.view.last_close(j)
        if previous == previous and previous > event.amount_per_share:
            self._adjust(event.symbol, event.bar, event.date[:10], 1.0 - event.amount_per_share / previous)

    def _adjust(self, symbol: str, bar: int, date: str, price_factor: float, volume_factor: float = 1.0) -> None:
        j = self.context.symbol_index[symbol]
        self.view._rescale(j, bar, price_factor, volume_factor)
        if adjusts(self.generator):
            factors = np.ones(len(self.context.symbols))
            factors[j] = price_factor
            try:
                self.generator.adjust(factors)  # type: ignore[attr-defined]
            except Exception as exc:
                self._raise("adjust(factors)", exc, date)

    def _raise(self, call: str, exc: Exception, date: str) -> NoReturn:
        """Raise, for the generator's ``call`` having raised ``exc`` on ``date``, a
        :class:`~eventbt.errors.SignalError` naming the strategy, the method and the date, with ``exc``'s type and
        message, caused by ``exc`` (whose traceback ``--debug`` prints); eventbt's own errors as they are."""
        if isinstance(exc, EventbtError):
            raise exc
        raise SignalError(f"{call} raised {type(exc).__name__}: {exc} (eventbt run --debug shows where)",
                          strategy=self.strategy_name, date=date) from exc

    def quiet_until(self, bar: int) -> int:
        """The generator is asked for targets only on rebalance bars: the bars before the next are quiet."""
        return next_bar(self._rebalance_bars, bar)

    quiet_first = True  # the generator is the user's code: it takes a block first (eventbt.quiet)

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """Each bar to the generator's ``update``, as :meth:`on_market` does on a bar that is not a rebalance."""
        view = self.view
        update = self.generator.update
        try:
            for k, bar in enumerate(range(bars.start, bars.stop)):
                bars.at = bar
                view._append(_QuietBar(bars, bar, k))
                update(view)
        except Exception as exc:
            self._raise("update(view)", exc, str(view.date))

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        view = self.view
        view._append(event)
        try:
            self.generator.update(view)
        except Exception as exc:
            self._raise("update(view)", exc, event.date[:10])
        if not self._rebalance[event.bar]:
            return None
        try:
            targets = self.generator.target_weights(view)
        except Exception as exc:
            self._raise("target_weights(view)", exc, event.date[:10])
        if targets is None:
            return None
        weights = self._validate(targets, event)
        out: list[Event] = []
        if self.limits:
            weights, details = self._within_limits(weights)
            if details is not None:
                out.append(NoticeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                                       bar=event.bar, handler=self.name, code=NoticeCode.SCALED_TO_LIMITS,
                                       details=details))
        self.signals += 1
        out.append(SignalEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                               bar=event.bar, strategy=self.strategy_name, weights=weights))
        return out

    def _within_limits(self, weights: dict[str, float]) -> tuple[dict[str, float], dict[str, Any] | None]:
        """``weights`` scaled to ``max_gross`` and ``max_net`` (one factor for all), and the notice's details
        (``None`` when they are within the limits already)."""
        gross = _sum([abs(weight) for weight in weights.values()])
        net = _sum(list(weights.values()))
        factor = 1.0
        if gross > self.max_gross + _WEIGHT_SUM_TOLERANCE:
            factor = self.max_gross / gross
        if self.max_net is not None and abs(net) > self.max_net + _WEIGHT_SUM_TOLERANCE:
            factor = min(factor, self.max_net / abs(net))
        if factor == 1.0:
            return weights, None
        details = {"gross": gross, "net": net, "max_gross": self.max_gross, "max_net": self.max_net,
                   "factor": factor, "weights": dict(weights)}
        return {symbol: weight * factor for symbol, weight in weights.items()}, details

    def _unknown(self, key: object) -> str:
        """What to say of a target for ``key``, not a symbol of the run: one ``[data] symbols`` leaves out, or one
        the data does not have (with the closest of the run's symbols)."""
        if self.data_symbols and key not in self.data_symbols:  # the data may have it: [data] symbols chose without it
            return f"target weight for {key!r}, which [data] symbols leaves out: add {key!r} to [data] symbols"
        return f"target weight for {key!r}, a symbol with no data{did_you_mean(str(key), self.context.symbols)}"

    def _validate(self, targets: Any, event: MarketEvent) -> dict[str, float]:
        date = event.date[:10]
        name = self.strategy_name
        if not isinstance(targets, Mapping):
            kind = type(targets)
            # a pandas Series maps symbols to weights too, but is no Mapping (its iteration gives the values)
            hint = " (return series.to_dict())" if kind.__module__.startswith("pandas") and kind.__name__ == "Series" \
                else ""
            raise SignalError(f"target weights must be a mapping of symbol to weight, got {kind.__name__}{hint}",
                              strategy=name, date=date)
        known = self.context.symbol_index
        symbols = self.context.symbols
        weights: dict[str, float] = {}
        for key in sorted(targets, key=str):
            raw = targets[key]
            if key not in known:
                raise SignalError(self._unknown(key), strategy=name, date=date, symbol=str(key))
            # The data's own name, a plain str: a key equal to it may be a numpy.str_ (or another str subclass),
            # which the audit log's JSON cannot hold as a key.
            symbol = symbols[known[key]]
            weight = raw if raw.__class__ is float else _number(raw)
            if weight is None:
                raise SignalError(f"weight for {symbol!r} is {raw!r}, not a number",
                                  strategy=name, date=date, symbol=symbol)
            if not math.isfinite(weight) or (weight < 0 and not self.allow_short):
                expected = "a finite number" if self.allow_short else "a finite number >= 0"
                raise SignalError(f"weight for {symbol!r} is {weight}; expected {expected}",
                                  strategy=name, date=date, symbol=symbol)
            if weight != 0:
                weights[symbol] = weight
        if self.limits:
            gross = _sum([abs(weight) for weight in weights.values()])
            if not math.isfinite(gross):
                raise SignalError(f"weights sum to {gross} in absolute value; expected a finite sum (which [portfolio] "
                                  "max_gross and max_net then limit)", strategy=name, date=date)
            return weights
        total = _sum(list(weights.values()))
        if total > 1 + _WEIGHT_SUM_TOLERANCE:
            raise SignalError(f"weights sum to {total:.12g}; expected at most 1 (the rest is cash)",
                              strategy=name, date=date)
        return weights
