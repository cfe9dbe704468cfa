"""The plug-in points, as :class:`typing.Protocol` classes (a user's class fits by shape, no inheritance),
and the vocabularies that scenarios, handlers and plug-ins share, as ``Literal`` types.

- :class:`CommissionModel`: what a fill pays in commission.
- :class:`SlippageModel`: the price a fill gets, given the reference price (and, optionally, a
  :class:`BarContext` with the bar's high/low/volume and trailing estimates).
- :class:`SignalGenerator`: target weights from the prices seen so far.

Built-in implementations live in :mod:`eventbt.costs` and ``strategies/``; a scenario names a built-in by
its registered name or any class by import path (``"mypkg.costs:MyCommission"``), see
:mod:`eventbt.scenario.plugins`. To implement a new commission model, write a class with a
``commission(quantity, value)`` method; a new slippage model, one with ``fill_price(side, reference_price,
quantity)``; either may take the order as one more argument (an :class:`OrderContext`: the richer form,
:func:`accepts_order`); a new strategy, one with ``update(view)`` and ``target_weights(view)``. Check a cost model with
:func:`eventbt.testing.check_commission_model` or :func:`~eventbt.testing.check_slippage_model`.

Each vocabulary (``Timing``, ``Remainder``, ...) is a ``Literal`` type, and the tuple of its values
(``TIMINGS``, ``REMAINDERS``, ...) is made from it: the scenario checks, the configuration's types and the
handlers' own checks all use these, so a value is spelled in one place.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Literal, Protocol, get_args, runtime_checkable

import attrs
import numpy as np

__all__ = ["ACTION_TYPES", "BAR_FIELD_COLUMNS", "COMMISSION_PER", "DATA_FORMATS", "DELISTING_POLICIES",
           "DAY_COUNTS", "DIVIDEND_PAYMENTS", "MARGIN_CALLS", "MISSING_POLICIES", "ON_ERROR", "ORDER_TYPES", "PERIODS",
           "REBALANCE_ORDER_TYPES", "REMAINDERS", "STRATEGY_PRICES", "TIMES_IN_FORCE", "TIMINGS",
           "WITHDRAWAL_POLICIES", "ActionType", "BarContext", "CommissionModel", "CommissionPer", "DataFormat",
           "DayCount", "DelistingPolicy", "DividendPayment", "MarginCall", "MissingPolicy", "OnError",
           "OrderContext", "OrderType", "Period", "PriceView", "RebalanceOrderType", "Remainder", "SignalGenerator",
           "SlippageModel", "StrategyPrices", "TimeInForce", "Timing", "WithdrawalPolicy", "accepts_bar",
           "accepts_order", "adjusts", "bar_columns_needed", "fills_on_signal_bar", "named_symbols",
           "signature_problem"]

Timing = Literal["same_close", "next_open"]
"""``[execution] timing``: fill at the signal bar's close, or at the next bar's open."""
Remainder = Literal["cancel", "carry"]
"""``[execution] remainder``: what a volume limit leaves of an order is cancelled, or carried to the next bar."""
CommissionPer = Literal["order", "day"]
"""``[execution] commission_per``: an order filled over days pays as one order, or each day's fill as a new one."""
MissingPolicy = Literal["ffill", "error"]
"""``[data] missing``: a gap inside a series is valued at the last close, or refused."""
DelistingPolicy = Literal["liquidate", "error"]
"""``[data] delisting``: a held position whose prices end is sold at its last close, or refused."""
WithdrawalPolicy = Literal["error", "sell"]
"""``[portfolio] withdrawal``: a withdrawal the cash does not cover stops the run, or positions are sold for it."""
MarginCall = Literal["liquidate", "stop"]
"""``[portfolio] margin_call``: a margin call reduces every position pro rata, or stops the run."""
DayCount = Literal[360, 365]
"""``[portfolio] day_count``: the days of the year financing and borrow rates accrue over (actual/360, actual/365)."""
OnError = Literal["stop", "skip"]
"""``[run] on_error``: a handler error stops the run, or is kept as a dead letter and the run goes on."""
DataFormat = Literal["auto", "wide", "long", "per_symbol_dir", "parquet"]
"""``[data] format``: how a price file is laid out (``auto`` finds out)."""
Period = Literal["daily", "weekly", "monthly", "quarterly"]
"""``[schedule] rebalance``: the last bar of each day, ISO week, calendar month or quarter in the data."""

ActionType = Literal["split", "dividend"]
"""A corporate action's ``type`` (an actions file's column, :attr:`eventbt.prices.CorporateAction.kind`)."""
DividendPayment = Literal["ex_date", "pay_date"]
"""``[data] dividend_payment``: a dividend is paid on its ex-date, or on its pay date when the data gives one."""
StrategyPrices = Literal["split_adjusted", "total_return"]
"""``[strategy] prices``: the history a strategy sees is adjusted for splits, or for splits and dividends."""
OrderType = Literal["market", "market_on_open", "market_on_close", "limit", "stop"]
"""An order's type (:attr:`~eventbt.events.OrderEvent.order_type`): how and when it fills (see ``docs/orders.md``)."""
RebalanceOrderType = Literal["market", "market_on_open", "market_on_close", "limit"]
"""``[execution] order_type``: the type of the orders the rebalance sends."""
TimeInForce = Literal["day", "gtc"]
"""How long a limit or stop order waits: one bar, or until it fills (or ``expire_after`` bars)."""

TIMINGS: tuple[Timing, ...] = get_args(Timing)
REMAINDERS: tuple[Remainder, ...] = get_args(Remainder)
COMMISSION_PER: tuple[CommissionPer, ...] = get_args(CommissionPer)
MISSING_POLICIES: tuple[MissingPolicy, ...] = get_args(MissingPolicy)
DELISTING_POLICIES: tuple[DelistingPolicy, ...] = get_args(DelistingPolicy)
ON_ERROR: tuple[OnError, ...] = get_args(OnError)
WITHDRAWAL_POLICIES: tuple[WithdrawalPolicy, ...] = get_args(WithdrawalPolicy)
MARGIN_CALLS: tuple[MarginCall, ...] = get_args(MarginCall)
DAY_COUNTS: tuple[DayCount, ...] = get_args(DayCount)
DATA_FORMATS: tuple[DataFormat, ...] = get_args(DataFormat)
PERIODS: tuple[Period, ...] = get_args(Period)
ACTION_TYPES: tuple[ActionType, ...] = get_args(ActionType)
DIVIDEND_PAYMENTS: tuple[DividendPayment, ...] = get_args(DividendPayment)
STRATEGY_PRICES: tuple[StrategyPrices, ...] = get_args(StrategyPrices)
ORDER_TYPES: tuple[OrderType, ...] = get_args(OrderType)
REBALANCE_ORDER_TYPES: tuple[RebalanceOrderType, ...] = get_args(RebalanceOrderType)
TIMES_IN_FORCE: tuple[TimeInForce, ...] = get_args(TimeInForce)


def fills_on_signal_bar(timing: str, order_type: str) -> bool:
    """Whether the rebalance's orders first fill on the signal bar itself: ``same_close`` with a ``market`` or
    ``market_on_close`` order type. Otherwise they first fill on the next bar, where the rebalance's weights
    row is then taken (``docs/orders.md``)."""
    return timing == "same_close" and order_type in ("market", "market_on_close")


def signature_problem(function: object, arguments: tuple[str, ...],
                      alternative: tuple[str, ...] | None = None) -> str | None:
    """Why ``function`` cannot be called with ``arguments`` as positional arguments, or ``None`` when it can.

    ``function`` is usually a bound method; its signature comes from :func:`inspect.signature`. The answer
    reads ``commission(order), which cannot be called as commission(quantity, value) (too many positional
    arguments)``. With ``alternative`` (a cost model's richer form, ``(quantity, value, order)``) either call
    will do, and the answer names both: ``... cannot be called as commission(quantity, value) or
    commission(quantity, value, order) (...)``. A callable whose signature cannot be read (a builtin) is given
    the benefit of the doubt.
    """
    name = getattr(function, "__name__", type(function).__name__)
    try:
        signature = inspect.signature(function)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*arguments)
    except TypeError as exc:
        if alternative is not None:
            try:
                signature.bind(*alternative)
            except TypeError:
                pass
            else:
                return None
        bare = signature.replace(parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
                                 return_annotation=signature.empty)  # the names say enough in one line
        calls = " or ".join(f"{name}({', '.join(form)})" for form in (arguments, alternative) if form is not None)
        return f"{name}{bare}, which cannot be called as {calls} ({exc})"
    return None


@attrs.frozen(kw_only=True)
class BarContext:
    """What a bar-aware cost model may see of one symbol when an order fills (NaN: not in the data).

    ``open``, ``high``, ``low``, ``close``, ``volume`` are the last *completed* bar's: the fill bar itself
    with ``same_close`` execution, the bar before it with ``next_open`` (its close and volume are not known
    at the open: no look-ahead); ``fill_open`` is the fill bar's open (NaN with ``same_close``).
    ``previous_high`` and ``previous_low`` belong to the completed bar before that one. ``average_volume``
    is the mean volume and ``volatility`` the standard deviation of daily close-to-close log returns over
    the ``window`` completed bars up to ``close`` (NaN until two closes are known).
    """

    timing: str = "same_close"
    open: float = math.nan
    high: float = math.nan
    low: float = math.nan
    close: float = math.nan
    volume: float = math.nan
    fill_open: float = math.nan
    previous_high: float = math.nan
    previous_low: float = math.nan
    spread: float = math.nan
    average_volume: float = math.nan
    volatility: float = math.nan
    window: int = 0


def accepts_bar(method: object) -> bool:
    """Whether a cost model's method takes the optional ``bar`` keyword (or any keyword)."""
    try:
        parameters = inspect.signature(method).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return any(p.name == "bar" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def accepts_order(method: object, positional: int) -> bool:
    """Whether a cost model's method takes the order's :class:`OrderContext` (the richer protocol).

    ``positional`` is the number of positional arguments of the plain protocol (2 for ``commission(quantity,
    value)``, 3 for ``fill_price(side, reference_price, quantity)``). The method takes the order when it has a
    positional parameter after those that is named ``order`` or has no default:
    ``commission(quantity, value, order)``. A method taking ``*args`` there, or an optional parameter of
    another name, is called the plain way. Read once from the signature, when a handler is built.
    """
    try:
        parameters = inspect.signature(method).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    positionals = [p for p in parameters
                   if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(positionals) <= positional:
        return False
    extra = positionals[positional]
    return extra.name == "order" or extra.default is inspect.Parameter.empty


@attrs.frozen(kw_only=True)
class OrderContext:
    """What an order-aware cost model sees of the order it prices (the richer protocol; see
    :class:`CommissionModel`).

    ``side`` is +1 for a buy and -1 for a sell; ``order_type`` one of :data:`ORDER_TYPES`; ``bar`` the index of
    the bar (the fill bar at a fill, the signal bar while the rebalance sizes its orders), ``date`` that bar's
    ISO date and ``time_ns`` the simulated time of the call; ``reason`` the order's reason (``rebalance``,
    ``exit``, ``liquidate``, ``manual``, ...); ``order_id`` the order's event id, ``None`` while an order is
    sized and not yet sent.
    """

    side: int
    symbol: str
    order_type: str = "market"
    bar: int = -1
    date: str = ""
    time_ns: int = 0
    reason: str = ""
    order_id: int | None = None


BAR_FIELD_COLUMNS: dict[str, str] = {
    "open": "open", "fill_open": "open", "high": "high", "low": "low", "previous_high": "high",
    "previous_low": "low", "close": "close", "volatility": "close", "volume": "volume",
    "average_volume": "volume", "spread": "spread",
}
"""The price-data column each :class:`BarContext` field comes from (``spread``: no loader provides one)."""


def bar_columns_needed(model: object) -> tuple[tuple[str, ...], ...]:
    """The groups of data columns a bar-aware model needs, any one group sufficing; ``()`` when undeclared.

    A model declares the :class:`BarContext` fields it reads as a class attribute ``bar_fields``: a tuple of
    field names, all needed (``("volume",)``), or a tuple of such tuples, any one of which is enough
    (``(("spread",), ("high", "low"))``). A model without ``bar_fields`` is not checked. Raises
    :class:`ValueError` for a name that is not a :class:`BarContext` field.
    """
    declared = getattr(model, "bar_fields", ())
    groups = [declared] if declared and all(isinstance(item, str) for item in declared) else list(declared)
    needed = []
    for group in groups:
        for field in group:
            if field not in BAR_FIELD_COLUMNS:
                raise ValueError(f"bar_fields names {field!r}, which is not a BarContext field (known: "
                                 f"{', '.join(BAR_FIELD_COLUMNS)})")
        needed.append(tuple(dict.fromkeys(BAR_FIELD_COLUMNS[field] for field in group)))
    return tuple(needed)


@runtime_checkable
class CommissionModel(Protocol):
    """Commission, in account currency, for one fill.

    ``quantity`` is the number of shares filled (> 0, or 0 for "nothing filled", which must cost 0);
    ``value`` is the traded value in account currency, ``quantity * fill price``.

    A model that needs to know the order (its side, symbol, date or type: a fee on sales only, a rate per
    exchange) takes a third positional parameter ``order``, an :class:`OrderContext`:
    ``commission(quantity, value, order)``. Which form a model has is read from its signature once, when it is
    built (:func:`accepts_order`); both forms keep the same contract.
    """

    def commission(self, quantity: int, value: float) -> float: ...


@runtime_checkable
class SlippageModel(Protocol):
    """The fill price for ``quantity`` shares on ``side`` (+1 buy, -1 sell) at ``reference_price``.

    Must return ``reference_price`` or worse for the trader (higher for buys, lower for sells).

    A model that needs the bar (volume, high/low, a spread) adds an optional keyword parameter
    ``bar: BarContext | None = None``; the execution handler passes it to such models only (see
    :func:`accepts_bar`), and callers without a bar (order sizing) leave it ``None``. Two- and
    three-argument models written without it keep working unchanged. Such a model should also declare the
    fields it reads as ``bar_fields`` (see :func:`bar_columns_needed`): a run or ``eventbt validate`` on
    data without those columns is then an error instead of a model that silently charges nothing.

    A model that needs the order (a spread per symbol) takes a fourth positional parameter ``order``, an
    :class:`OrderContext`: ``fill_price(side, reference_price, quantity, order)`` (see :func:`accepts_order`).
    """

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float: ...


class PriceView(Protocol):
    """What a signal generator sees at a bar: the prices up to and including that bar, nothing later.

    The strategy handler's view also has ``complete`` (true when every symbol has a close at this bar), which a
    generator may read with ``getattr(view, "complete", None)`` to skip its own NaN checks.
    """

    @property
    def symbols(self) -> tuple[str, ...]: ...

    @property
    def bar(self) -> int: ...

    @property
    def date(self) -> np.datetime64: ...

    @property
    def close(self) -> np.ndarray:
        """This bar's closes, indexed like ``symbols`` (NaN: no bar)."""
        ...

    def history(self, field: str = "close") -> np.ndarray:
        """All rows of ``field`` up to and including this bar, shape ``(bar + 1, len(symbols))``, read-only;
        a :class:`KeyError` when the data has no such field (``"open"`` on a file of closes)."""
        ...


@runtime_checkable
class SignalGenerator(Protocol):
    """Produces target weights; called by the strategy handler.

    ``update`` is called on every bar, in order, so state (an EMA, a count) can be kept incrementally.
    ``target_weights`` is called on rebalance bars, after ``update`` for that bar, and returns a mapping
    symbol -> weight (weights >= 0, summing to at most 1; the rest is cash), or ``None`` for "no opinion
    yet" (no signal is published). ``docs/strategies.md`` is the guide to writing one.

    Optionally, ``adjust(factors)``: called when a corporate action rescales the price history (a split, and
    a dividend with ``[strategy] prices = "total_return"``), before the bar's ``update``. ``factors`` is a
    float array indexed like the symbols: every price the generator has seen of symbol ``i`` is now
    ``factors[i]`` times what it was (``1 / ratio`` for a split, 1 for the symbols without an action). A
    generator that keeps state in price units (an EMA, a last price) rescales it there; one without the
    method keeps its state as it was (see ``docs/corporate-actions.md``).

    Optionally, ``named_symbols()``: the symbols the generator's weights will name, when its parameters fix them
    before the run (static weights do). They are checked against the data before the first bar and by
    ``eventbt validate``, so a misspelt symbol is refused up front, not at the first rebalance.
    """

    def update(self, view: PriceView) -> None: ...

    def target_weights(self, view: PriceView) -> Mapping[str, float] | None: ...


def named_symbols(generator: object) -> tuple[str, ...]:
    """The symbols a signal generator names before the run (its optional ``named_symbols()``, see
    :class:`SignalGenerator`), sorted; none without the method."""
    method = getattr(generator, "named_symbols", None)
    return tuple(sorted(str(symbol) for symbol in method())) if callable(method) else ()


def adjusts(generator: object) -> bool:
    """Whether a signal generator has the optional ``adjust(factors)`` method (see :class:`SignalGenerator`)."""
    return callable(getattr(generator, "adjust", None))
