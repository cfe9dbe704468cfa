"""The events that travel on the bus.

Every event is a frozen, slotted, keyword-only attrs class with:

- ``id``: a unique integer, deterministic for a given scenario (handed out in creation order by the run's
  :class:`~eventbt.bus.Bus`);
- ``time_ns``: its simulated timestamp, nanoseconds since the Unix epoch (tz-naive market time);
- ``cause_id``: the id of the event that caused it (``None`` for events that start a causal chain: bars
  from the data feed and events injected by a scenario).

Money is in account currency (floats), quantities are whole shares (``int``); a field that is money per
share or a ratio says so in its name (``amount_per_share``, ``ratio``). Arrays on a :class:`MarketEvent` are
per-bar copies, read-only, indexed like ``symbols``.

Each class has ``audit_fields()``: the compact, JSON-ready payload the audit log records for it. Market
bars record only their bar index and date (the prices themselves are identified by the data files' hashes
in the run header), which keeps the log small and fast to write.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import numpy as np

__all__ = [
    "BarEndEvent",
    "BarOpenEvent",
    "CancelEvent",
    "CashFlowEvent",
    "DataEndEvent",
    "DividendEvent",
    "DividendPaymentEvent",
    "Event",
    "FrozenDict",
    "FeeEvent",
    "FillEvent",
    "MarginCallEvent",
    "MarketEvent",
    "NOTICE_MEANINGS",
    "NoticeCode",
    "NoticeEvent",
    "OrderEvent",
    "OrderReason",
    "OrderState",
    "OrderStateEvent",
    "Side",
    "SignalEvent",
    "SnapshotEvent",
    "SplitAdjustmentEvent",
    "SplitEvent",
    "WarmupBarEvent",
    "describe_non_events",
    "format_time",
]

_NS_PER_DAY = 86_400_000_000_000


def format_time(time_ns: int) -> str:
    """ISO text for a simulated timestamp: ``2020-03-16`` at midnight, else ``2020-03-16T09:30:00``."""
    text = str(np.datetime64(time_ns, "ns"))
    if time_ns % _NS_PER_DAY == 0:
        return text[:10]
    return text[:19]


class Side(enum.IntEnum):
    """Direction of an order or fill; the value is the sign of the share change."""

    BUY = 1
    SELL = -1

    def __str__(self) -> str:
        return self.name


class _Word(enum.StrEnum):
    """A string with a fixed set of values; it is its text everywhere, its ``repr`` included."""

    def __repr__(self) -> str:
        return repr(self.value)


class OrderReason(_Word):
    """Why an order was made (:attr:`OrderEvent.reason`); a handler of yours may give a reason of its own."""

    REBALANCE = "rebalance"  #: the rebalance moves a position towards its target weight
    EXIT = "exit"  #: the rebalance closes a position whose target is 0
    LIQUIDATE = "liquidate"  #: a position is sold off outside the rebalance
    MANUAL = "manual"  #: a scenario's ``[[events]]`` order


class OrderState(_Word):
    """The states of an order worked under a volume limit, or of a limit or stop order
    (:attr:`OrderStateEvent.state`)."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  #: a limit or stop order not filled within its time in force


class NoticeCode(_Word):
    """The built-in handlers' notice codes (:attr:`NoticeEvent.code`); a handler of yours may add its own."""

    SKIP_NOT_TRADABLE = "skip_not_tradable"
    SKIP_MIN_TRADE_VALUE = "skip_min_trade_value"
    SKIP_ZERO_SHARES = "skip_zero_shares"
    SKIP_COST_EXCEEDS_CASH = "skip_cost_exceeds_cash"
    SCALED_FOR_CASH = "scaled_for_cash"
    TRIMMED_FOR_CASH = "trimmed_for_cash"
    REDUCED_AT_FILL = "reduced_at_fill"
    VOLUME_LIMITED = "volume_limited"
    FEE_OWED = "fee_owed"
    DELISTED = "delisted"
    WITHDRAWAL_SHORT = "withdrawal_short"
    SPLIT_ADJUSTED = "split_adjusted"
    SCALED_TO_LIMITS = "scaled_to_limits"

    @property
    def meaning(self) -> str:
        """What the code says, in a sentence (:data:`NOTICE_MEANINGS`)."""
        return NOTICE_MEANINGS[self]


NOTICE_MEANINGS: Mapping[NoticeCode, str] = {
    NoticeCode.SKIP_NOT_TRADABLE: "no order: the symbol has no price this bar",
    NoticeCode.SKIP_MIN_TRADE_VALUE: "no order: the dollar change is below [rebalance] min_trade_value",
    NoticeCode.SKIP_ZERO_SHARES: "no order: the change is less than one whole share",
    NoticeCode.SKIP_COST_EXCEEDS_CASH: "no sale: its commission exceeds its proceeds and no cash can pay the rest",
    NoticeCode.SCALED_FOR_CASH: "every buy scaled down: the buys cost more than the cash plus the sells' proceeds",
    NoticeCode.TRIMMED_FOR_CASH: "shares taken off the dearest buy, one at a time, until the buys fit the cash",
    NoticeCode.REDUCED_AT_FILL: "a buy cut at the fill to the shares the cash then available pays for",
    NoticeCode.VOLUME_LIMITED: "an order held to [execution] volume_limit of the bar's volume",
    NoticeCode.FEE_OWED: "a fee the cash could not cover in full: the rest is owed, paid from the next fee",
    NoticeCode.DELISTED: "a position whose prices ended, sold (a short: bought back) at its last close",
    NoticeCode.WITHDRAWAL_SHORT: "a withdrawal the cash does not cover: positions are sold pro rata to fund it",
    NoticeCode.SPLIT_ADJUSTED: "an order waiting for its fill adjusted to a split: shares x ratio rounded down, "
                               "reference price / ratio",
    NoticeCode.SCALED_TO_LIMITS: "a signal scaled down, every weight by one factor, to [portfolio] max_gross and "
                                 "max_net",
}
"""One sentence per built-in notice code: the debugger's ``why``, the docs and the report read this table."""


@attrs.frozen(kw_only=True, slots=True, repr=False)
class Event:
    """Base of all events: identity, simulated time and cause."""

    kind: ClassVar[str] = "Event"

    id: int
    time_ns: int
    cause_id: int | None = None

    def __repr__(self) -> str:
        """``MarketEvent(id=1, time_ns=0, cause_id=None, bar=0, ...)``: the text attrs writes, from one method.

        Every event class says ``repr=False`` and inherits this: attrs compiles each method it writes, and the
        20 reprs it wrote were a third of the time importing this module took, which every run pays at start-up
        (docs/performance.md). ``tests/eventbt/test_events.py`` checks the text against attrs' for each class.
        """
        inner = ", ".join(f"{field.name}={getattr(self, field.name)!r}" for field in attrs.fields(self.__class__)
                          if field.repr)
        return f"{self.__class__.__qualname__.rsplit('>.', 1)[-1]}({inner})"

    @property
    def date(self) -> str:
        """The simulated time as ISO text (for messages and tables)."""
        return format_time(self.time_ns)

    def audit_fields(self) -> dict[str, Any]:
        """The payload the audit log records for this event (JSON-ready); nothing unless the class says.
        ``audit_fields = Event.declared_fields`` records every field it declares."""
        return {}

    def declared_fields(self) -> dict[str, Any]:
        """Every field the event's class declares beyond ``id``, ``time_ns`` and ``cause_id`` (a
        :class:`Side` by its name, a mapping as a dict), then the properties its ``audit_also`` names."""
        return _record_function(self.__class__)(self)

    audit_also: ClassVar[tuple[str, ...]] = ()
    """Properties recorded beside the fields (see :meth:`audit_fields`)."""


class FrozenDict(dict[str, Any]):
    """The mapping fields of an event (a signal's ``weights``, a notice's or fee's ``details``, a margin call's
    ``quantities``), which refuse changes as the event's other fields do: the audit log renders an event after
    every subscriber has seen it, so a handler changing one would rewrite what the log says was published.
    A dict in every other way (equal to one, JSON-ready, picklable); ``dict(event.weights)`` is a copy to change.
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> Any:
        raise TypeError("an event's mapping cannot be changed (events are immutable); change a copy: "
                        "dict(event.weights)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: object) -> FrozenDict:
        return self


def _frozen(value: Mapping[str, Any]) -> FrozenDict:
    """``value`` as a :class:`FrozenDict` (itself when it is one)."""
    return value if isinstance(value, FrozenDict) else FrozenDict(value)


def describe_non_events(out: object) -> str | None:
    """What a hook or ``finish()`` returned, when it is not a list (or tuple) of events, for an error message:
    ``one FillEvent (#3)``, ``a list holding str 'x', which is not an event``, ``dict {'a': 1}``; ``None`` when
    it is a list of events."""
    if isinstance(out, Event):
        return f"one {out.kind} (#{out.id})"
    if isinstance(out, list | tuple):
        bad = [item for item in out if not isinstance(item, Event)][:1]  # a list: the item at fault may be None
        return None if not bad else f"a list holding {type(bad[0]).__name__} {bad[0]!r:.60}, which is not an event"
    return f"{type(out).__name__} {out!r:.60}"


_RECORD_FUNCTIONS: dict[type, Callable[[Any], dict[str, Any]]] = {}
# Annotations (as postponed annotations give them: text) whose values are recorded as they are: no Side, no
# mapping can be among them. A field annotated otherwise goes through _plain, which looks at the value.
_RECORDED_AS_THEY_ARE = frozenset({"bool", "float", "float | None", "int", "int | None", "np.ndarray",
                                   "np.ndarray | None", "str", "str | None", "tuple[str, ...]", "OrderState"})


_SIDE_NAMES = {Side.BUY: "BUY", Side.SELL: "SELL"}
"""A side's name, read without the enum's ``name`` property (a descriptor call per order and fill logged)."""
assert {side: side.name for side in Side} == _SIDE_NAMES


def _plain(value: Any) -> Any:
    """A value as the audit log records it: a :class:`Side` by its name, a mapping as a dict, any other as it is."""
    if value.__class__ is Side:  # (an int equal to a side is not one: it is recorded as it is; an enum with
        return _SIDE_NAMES[value]  # members has no subclass)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _record_function(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The function :meth:`Event.declared_fields` calls for ``cls``, written once per class as one dict display
    (as attrs writes ``__init__``). A field whose annotation says its value is recorded as it is (an ``int``, a
    ``str``, an array, ...) is read directly; any other (a ``Side``, a ``Mapping``, an annotation that is a type
    object rather than text, as in a module without postponed annotations) and the ``audit_also`` properties
    through :func:`_plain`, which converts by the value's own type."""
    function = _RECORD_FUNCTIONS.get(cls)
    if function is None:
        items = [f"{field.name!r}: event.{field.name}" if str(field.type) in _RECORDED_AS_THEY_ARE
                 else f"{field.name!r}: _plain(event.{field.name})"
                 for field in attrs.fields(cls) if field.name not in ("id", "time_ns", "cause_id")]
        items.extend(f"{name!r}: _plain(event.{name})" for name in getattr(cls, "audit_also", ()))
        namespace: dict[str, Any] = {"_plain": _plain}
        exec(f"def record(event):\n    return {{{', '.join(items)}}}\n", namespace)  # field names from attrs
        function = _RECORD_FUNCTIONS[cls] = namespace["record"]
    return function


@attrs.frozen(kw_only=True, slots=True, repr=False)
class MarketEvent(Event):
    """One bar for every symbol: published by the data feed at the bar's close.

    ``close`` (and ``open``, ``high``, ``low``, ``volume`` where the data has them) are float64 arrays
    indexed like ``symbols``; NaN means the symbol has no bar at this date. ``complete`` is true when every
    symbol has a close at this bar (no NaN in ``close``), so a handler can skip its per-symbol NaN checks.
    """

    kind: ClassVar[str] = "MarketEvent"

    bar: int
    symbols: tuple[str, ...]
    close: np.ndarray
    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None
    volume: np.ndarray | None = None
    complete: bool = False

    def audit_fields(self) -> dict[str, Any]:
        return {"bar": self.bar}


@attrs.frozen(kw_only=True, slots=True, repr=False)
class BarOpenEvent(Event):
    """The opening prices of a bar, published by the data feed at the bar's open.

    Only published when a handler subscribes to it (``next_open`` execution does). Carries the opens and
    nothing later in the day, so a handler at the open cannot see the close.
    """

    kind: ClassVar[str] = "BarOpenEvent"

    bar: int
    symbols: tuple[str, ...]
    open: np.ndarray

    def audit_fields(self) -> dict[str, Any]:
        return {"bar": self.bar}


@attrs.frozen(kw_only=True, slots=True, repr=False)
class SignalEvent(Event):
    """Target weights from the strategy on a rebalance bar; symbols absent from ``weights`` target 0."""

    kind: ClassVar[str] = "SignalEvent"
    audit_fields = Event.declared_fields

    bar: int
    strategy: str
    weights: Mapping[str, float] = attrs.field(converter=_frozen)


@attrs.frozen(kw_only=True, slots=True, repr=False)
class OrderEvent(Event):
    """A request to trade ``quantity`` whole shares of ``symbol`` (always positive; ``side`` gives direction).

    ``reference_price`` is the price the order was sized at (the signal bar's close); ``reason`` says why it
    was made (an :class:`OrderReason`, or a text of a user's handler); ``target_weight`` is the weight that
    asked for it.

    ``order_type`` says how it fills (``market``, ``market_on_open``, ``market_on_close``, ``limit``,
    ``stop``; see ``docs/orders.md``); a ``limit`` order has a ``limit_price`` and a ``stop`` order a
    ``stop_price`` (per share, account currency); both wait ``time_in_force`` (``day``: one bar; ``gtc``:
    ``expire_after`` bars, or until the data ends when it is ``None``). A market order leaves them at their
    defaults, and its audit line has none of them.
    """

    kind: ClassVar[str] = "OrderEvent"

    bar: int
    symbol: str
    side: Side
    quantity: int
    reference_price: float
    reason: str = OrderReason.REBALANCE
    target_weight: float | None = None
    order_type: str = "market"
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: str = "day"
    expire_after: int | None = None

    def audit_fields(self) -> dict[str, Any]:
        fields = {
            "bar": self.bar,
            "symbol": self.symbol,
            "side": _plain(self.side),  # a Side by its name; a handler's wrong value (an int) as it is, so the
            # log of the run that refuses it is still written
            "quantity": self.quantity,
            "reference_price": self.reference_price,
            "reason": self.reason,
            "target_weight": self.target_weight,
        }
        if self.order_type != "market":  # a market order's line is as it always was (and its digest)
            fields["order_type"] = self.order_type
            if self.order_type in ("limit", "stop"):
                price = "limit_price" if self.order_type == "limit" else "stop_price"
                fields[price] = getattr(self, price)
                fields["time_in_force"] = self.time_in_force
                if self.expire_after is not None:
                    fields["expire_after"] = self.expire_after
        return fields


@attrs.frozen(kw_only=True, slots=True, repr=False)
class FillEvent(Event):
    """A report that an order (``order_id``, also the ``cause_id``) was filled.

    ``price`` is the fill price (slippage included), ``reference_price`` the price before slippage,
    ``commission`` the commission charged and ``slippage`` the slippage cost ``|price - reference| * quantity``,
    both in account currency.
    """

    kind: ClassVar[str] = "FillEvent"
    audit_fields = Event.declared_fields

    bar: int
    order_id: int
    symbol: str
    side: Side
    quantity: int
    price: float
    reference_price: float
    commission: float
    slippage: float


@attrs.frozen(kw_only=True, slots=True, repr=False)
class CancelEvent(Event):
    """An order (``order_id``) that will not be filled, or only partly: ``quantity`` shares were cancelled."""

    kind: ClassVar[str] = "CancelEvent"
    audit_fields = Event.declared_fields

    bar: int
    order_id: int
    symbol: str
    quantity: int
    reason: str


@attrs.frozen(kw_only=True, slots=True, repr=False)
class NoticeEvent(Event):
    """A handler's explanation of a decision that produced no order or a smaller one.

    ``code`` is a stable identifier: a :class:`NoticeCode` for the built-in handlers (``scaled_for_cash``,
    ``reduced_at_fill``, ...), any text for a handler of yours; ``details`` holds the numbers behind it.
    """

    kind: ClassVar[str] = "NoticeEvent"
    audit_fields = Event.declared_fields

    bar: int
    handler: str
    code: str
    symbol: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen)


@attrs.frozen(kw_only=True, slots=True, repr=False)
class BarEndEvent(Event):
    """The end of a bar: published by the data feed once every event of the bar has been delivered."""

    kind: ClassVar[str] = "BarEndEvent"
    audit_fields = Event.declared_fields

    bar: int


@attrs.frozen(kw_only=True, slots=True, repr=False)
class DataEndEvent(Event):
    """The data has ended: published by the data feed at the last bar's close, once.

    Delivered after everything the last bar caused and before that bar's :class:`BarEndEvent`, so a handler
    can settle what is due when there is no next bar (a duty on the last bar's buys, a fee accrued since
    its last charge) and the portfolio's last snapshot includes it. Only published when a handler
    subscribes to it, so runs without one keep their events (and audit digest).
    """

    kind: ClassVar[str] = "DataEndEvent"
    audit_fields = Event.declared_fields

    bar: int


@attrs.frozen(kw_only=True, slots=True, repr=False)
class SnapshotEvent(Event):
    """The portfolio marked to market at the end of a bar, after that bar's fills."""

    kind: ClassVar[str] = "SnapshotEvent"
    audit_fields = Event.declared_fields

    bar: int
    cash: float
    positions_value: float
    total_value: float


@attrs.frozen(kw_only=True, slots=True, repr=False)
class FeeEvent(Event):
    """A cost booked outside any fill's price: a stamp duty, interest, a management fee.

    ``amount`` is in account currency, positive when charged and negative when credited (interest
    earned); ``model`` names the handler that charged it (the key it is attributed to in the results),
    ``reason`` says what it is for; ``cause_id`` is the event that caused it (the fill a duty is on, the
    bar a daily charge accrued to). ``details`` holds the numbers behind it (rate, base, days, owed).
    """

    kind: ClassVar[str] = "FeeEvent"
    audit_fields = Event.declared_fields

    bar: int
    model: str
    amount: float
    reason: str
    symbol: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen)


@attrs.frozen(kw_only=True, slots=True, repr=False)
class CashFlowEvent(Event):
    """Cash paid into (``amount`` > 0, a deposit) or out of (``amount`` < 0, a withdrawal) the account.

    Published by the handler of a scenario's ``[[events]]`` (which marks it ``injected``); the portfolio
    handler books it. ``reason`` is the scenario's text for it.
    """

    kind: ClassVar[str] = "CashFlowEvent"
    audit_fields = Event.declared_fields

    bar: int
    amount: float
    reason: str = ""
    injected: bool = True

@attrs.frozen(kw_only=True, slots=True, repr=False)
class OrderStateEvent(Event):
    """An order's state changed: ``open`` (accepted), ``partially_filled``, ``filled``, ``cancelled`` or
    ``expired``.

    Published by the execution handler when a volume limit is set (partial fills), and for every limit and stop
    order, one event per change. ``cause_id`` is the order for ``open``, the fill for ``partially_filled`` and
    ``filled``, the :class:`CancelEvent` for ``cancelled`` and ``expired`` (a limit or stop order not filled
    within its time in force). ``quantity`` is the order's, ``filled_quantity`` the shares
    filled so far (cumulative), ``remaining_quantity`` the shares still working (0 once filled or
    cancelled), ``commission`` the commission charged to the order so far; ``reason`` says why, when it is
    not plain (a cancel's reason, a remainder carried to the next bar).
    """

    kind: ClassVar[str] = "OrderStateEvent"
    audit_fields = Event.declared_fields

    bar: int
    order_id: int
    symbol: str
    state: OrderState
    quantity: int
    filled_quantity: int
    remaining_quantity: int
    commission: float = 0.0
    reason: str = ""


@attrs.frozen(kw_only=True, slots=True, repr=False)
class WarmupBarEvent(Event):
    """A bar of the warm-up (``[run] warmup``): published by the data feed at the bar's close, like a
    :class:`MarketEvent`, but only the strategy handler takes it.

    The strategy's generator sees its prices (its ``update``, never its ``target_weights``), so indicators
    are warm at the first tradable bar; nothing else happens on a warm-up bar: no order, no fee, no
    snapshot, no row in the results. Fields as :class:`MarketEvent`.
    """

    kind: ClassVar[str] = "WarmupBarEvent"

    bar: int
    symbols: tuple[str, ...]
    close: np.ndarray
    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None
    volume: np.ndarray | None = None

    def audit_fields(self) -> dict[str, Any]:
        return {"bar": self.bar}


@attrs.frozen(kw_only=True, slots=True, repr=False)
class SplitEvent(Event):
    """A stock split of ``symbol`` effective at ``bar`` (its ex-date): each old share becomes ``ratio`` new shares.

    ``ratio`` is new shares per old share: 7.0 for a 7-for-1 split, 0.1 for a 1-for-10 reverse split; prices
    from this bar on are quoted per new share. Published by the data feed at 09:00 of the ex-date, before
    the bar's open and close; its ``cause_id`` is the event that ended the previous bar (its
    :class:`BarEndEvent`, or the :class:`WarmupBarEvent` of a warm-up bar), ``None`` at the first bar. The
    corporate-actions handler works out what it does to the book (a :class:`SplitAdjustmentEvent`), the
    execution handler adjusts the orders waiting for a fill, the strategy handler rescales its history.
    """

    kind: ClassVar[str] = "SplitEvent"
    audit_fields = Event.declared_fields

    bar: int
    symbol: str
    ratio: float


@attrs.frozen(kw_only=True, slots=True, repr=False)
class DividendEvent(Event):
    """A cash dividend of ``symbol`` going ex at ``bar``: ``amount_per_share`` (account currency) for each share
    held at the previous close.

    ``pay_date`` is the pay date (ISO) when the data gives one, else ``""``. Published by the data feed at
    09:00 of the ex-date like a :class:`SplitEvent` (with the same ``cause_id``); the corporate-actions handler
    works out the payment (a :class:`DividendPaymentEvent`).
    """

    kind: ClassVar[str] = "DividendEvent"
    audit_fields = Event.declared_fields

    bar: int
    symbol: str
    amount_per_share: float
    pay_date: str = ""


@attrs.frozen(kw_only=True, slots=True, repr=False)
class SplitAdjustmentEvent(Event):
    """What a split (the ``cause_id``) does to the book's position in ``symbol``; the portfolio handler books it.

    ``shares_before`` (held at the previous close) times ``ratio`` is ``shares_after`` whole shares plus
    ``fractional_shares`` (in new shares, 0 <= it < 1), which are paid out as ``cash_in_lieu`` =
    ``fractional_shares * prior_close / ratio``: at the previous close per old share, ``prior_close``, turned
    into a price per new share. The average cost becomes ``average cost / ratio``; the fraction's cash in
    lieu less its cost is realized P&L, the split itself realizes nothing.
    """

    kind: ClassVar[str] = "SplitAdjustmentEvent"
    audit_fields = Event.declared_fields

    bar: int
    symbol: str
    ratio: float
    shares_before: int
    shares_after: int
    fractional_shares: float
    prior_close: float
    cash_in_lieu: float


@attrs.frozen(kw_only=True, slots=True, repr=False)
class DividendPaymentEvent(Event):
    """A dividend (the ``cause_id``) paid to the book: ``shares`` held at the previous close of ``ex_date`` times
    ``amount_per_share`` is ``gross``; ``withholding_tax`` (``gross`` x the ``[portfolio] withholding_tax``
    rate, on dividends received) is kept back and ``net`` = ``gross - withholding_tax`` is booked to cash.

    Published by the corporate-actions handler at the ex-date, or scheduled for the first bar on or after the
    pay date (``[data] dividend_payment = "pay_date"``); ``bar`` is the bar it is booked at. A short position
    (negative ``shares``) pays the dividend: ``gross`` and ``net`` are then negative and no tax is withheld.
    """

    kind: ClassVar[str] = "DividendPaymentEvent"
    audit_fields = Event.declared_fields

    bar: int
    symbol: str
    shares: int
    amount_per_share: float
    gross: float
    withholding_tax: float
    net: float
    ex_date: str


@attrs.frozen(kw_only=True, slots=True, repr=False)
class MarginCallEvent(Event):
    """The book at a close broke the margin rule: ``equity / gross_exposure < maintenance_margin``.

    Published by the margin handler (``[portfolio] maintenance_margin``) when a bar's :class:`MarketEvent` (the
    ``cause_id``) reaches it. ``equity`` is cash plus ``sum(q * close)`` and ``gross_exposure`` is
    ``sum(abs(q) * close)``, both in account currency at this bar's closes; ``response`` is ``[portfolio]
    margin_call``: ``"liquidate"`` (the orders follow, caused by this event) or ``"stop"`` (the run ends).
    For ``"liquidate"``: ``fraction`` is the share of every position sold or covered, ``quantities`` the
    signed shares each symbol trades (+ bought to cover, - sold), ``expected_costs`` their expected
    commission and slippage and ``expected_cash`` the cash they are expected to move (+ in), at this close.
    See ``docs/long-short.md``.
    """

    kind: ClassVar[str] = "MarginCallEvent"
    audit_fields = Event.declared_fields
    audit_also: ClassVar[tuple[str, ...]] = ("ratio",)

    bar: int
    equity: float
    gross_exposure: float
    maintenance_margin: float
    response: str
    fraction: float = 0.0
    expected_costs: float = 0.0
    expected_cash: float = 0.0
    quantities: Mapping[str, int] = attrs.field(factory=FrozenDict, converter=_frozen)

    @property
    def ratio(self) -> float:
        """``equity / gross_exposure``."""
        return self.equity / self.gross_exposure
