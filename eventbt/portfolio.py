"""The book: cash, whole-share positions, average cost, realized P&L, costs, and marks; and its history.

Arrays are indexed like the run's sorted symbols. The portfolio handler owns the one :class:`Portfolio` of a
run and is its only writer; every other handler sees it through :class:`PortfolioView` (the context's
``portfolio``), a read-only facade over the same arrays: it always shows the book as booked so far, and has
no way to change it. What the portfolio handler records as the run goes (values per bar, fills, fees,
signals, weights) is a :class:`BookHistory`, from which the results are built.

Accounting (the project's rules, see ``docs/results.md``):

- BUY n at f with commission c: ``cash -= n*f + c``; ``avg = (q*avg + n*f) / (q + n)``.
- SELL n at f with commission c: ``cash += n*f - c``; ``realized += (f - avg)*n - c``; ``q -= n``.
- Cost basis is the fill price; commissions and slippage are totalled separately.
- SPLIT of ``ratio`` new shares per old share: ``q`` becomes the whole shares of ``q * ratio``, ``avg /= ratio``,
  the mark ``/= ratio``; the fraction left over is paid as cash in lieu (``cash += cash_in_lieu``) and its
  cash less its cost (``fraction * avg``, the new average cost) is realized P&L.
- DIVIDEND: ``cash += net`` (the gross amount less the tax withheld).
- Cash may not go below zero and a sale may not exceed the shares held: either is an
  :class:`~eventbt.errors.AccountingError`.

A margin account (``margin=True``: ``[portfolio] allow_short`` or ``max_gross > 1``, see ``docs/long-short.md``)
lets cash go below zero (fees are then paid in full), and with ``allow_short`` a sale go beyond the shares
held. Positions are signed (``q < 0`` short) and a fill is booked by what it does to the position:

- opening or adding (a buy on ``q >= 0``, a sale on ``q <= 0``): ``avg = (|q|*avg + n*f) / (|q| + n)`` (a
  short's average cost is the average price its shares were sold at); nothing realized;
- reducing or closing ``n <= |q|`` shares (a sale on ``q > 0``, a buy on ``q < 0``): ``realized += (f - avg)*n
  - c`` for a long, ``(avg - f)*n - c`` for a short; ``avg`` stays (0 once closed);
- crossing zero: the ``|q|`` shares that close are realized as above, with the whole commission, and the rest
  opens the other side at ``avg = f``.

Cash moves by ``-n*f - c`` for any buy and ``+n*f - c`` for any sale: short-sale proceeds are cash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from eventbt.errors import AccountingError
from eventbt.exact import dot

__all__ = ["BookHistory", "DividendRecord", "FeeRecord", "MarginCallRecord", "Portfolio", "PortfolioView",
           "SignalRecord", "SplitRecord", "TRADE_FIELDS", "TradeRecord", "WeightsRecord"]


def _day(date: str | int) -> str:
    """A fill's date for a message: as given, or its day when given as simulated nanoseconds (a handler passes
    its event's ``time_ns``, so no text is made unless a message needs it); ``""`` for none."""
    if isinstance(date, int):
        from eventbt.events import format_time

        return format_time(date)[:10]
    return date


def _on(date: str) -> str:
    """``"on <date> "`` for a message, or nothing."""
    return f"on {date} " if date else ""

# Cash is allowed to dip this far below zero from floating-point rounding (1e-7 of a cent on a
# 1e9 book would still pass); anything more is an accounting error.
_CASH_TOLERANCE = 1e-6
# eventbt.orders.MAX_SHARES, the largest share count a float64 holds exactly: the same number written here, since
# the kernel imports only the kernel (tests/test_architecture.py)
_MAX_SHARES = 2**53


class Portfolio:
    """Cash and positions of one run; ``margin`` and ``allow_short`` make it a margin account (module docs)."""

    def __init__(self, symbols: tuple[str, ...], initial_cash: float, *, margin: bool = False,
                 allow_short: bool = False) -> None:
        if not math.isfinite(initial_cash) or initial_cash <= 0:
            raise ValueError(f"initial_cash must be a finite number > 0, got {initial_cash!r}")
        n = len(symbols)
        self.symbols = symbols
        self.index = {symbol: i for i, symbol in enumerate(symbols)}
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.positions = np.zeros(n, dtype=np.int64)
        self.average_cost = np.zeros(n)
        self.realized_pnl = np.zeros(n)
        self.marks = np.zeros(n)  # last known close per symbol (0 before the first one)
        self.total_commission = 0.0
        self.total_slippage = 0.0
        self.fills = 0
        self.last_fill_id = 0  # the id of the last FillEvent booked (0: none yet)
        self.fees_owed: dict[str, float] = {}  # fee model -> amount charged but not yet paid (no cash)
        self.margin = bool(margin or allow_short)  # cash may go below zero
        self.allow_short = bool(allow_short)  # a sale may go beyond the shares held
        self._held: np.ndarray | None = None  # indices of the non-zero positions (None: recompute)
        self._held_quantities = np.zeros(0)  # their quantities as floats, kept with _held
        self._held_values: tuple[float, ...] | None = None  # q * mark of each held position (None: recompute)

    # -- writes ---------------------------------------------------------------------------------------
    def update_marks(self, close: np.ndarray, complete: bool = False) -> None:
        """Take this bar's closes as marks where a symbol has one (others keep their last close);
        ``complete``: every symbol has one (no NaN), so all are copied at once."""
        self._held_values = None
        if complete:
            np.copyto(self.marks, close)
        else:
            np.copyto(self.marks, close, where=close == close)

    def mark_bars(self, close: np.ndarray, complete: Sequence[bool]) -> list[float]:
        """Mark the book at each row of ``close`` in turn (bars where nothing trades: a block of quiet bars) and
        return :meth:`positions_value` after each: the same numbers as :meth:`update_marks` and
        :meth:`positions_value` bar by bar (``q * close`` of each held position, exactly rounded)."""
        if not all(complete):
            values = []
            for row, full in zip(close, complete, strict=True):
                self.update_marks(row, full)
                values.append(self.positions_value())
            return values
        held = self.held_index()
        self._held_values = None
        np.copyto(self.marks, close[-1])
        if not len(held):
            return [0.0] * len(close)
        fsum = math.fsum
        return [fsum(row) for row in np.multiply(close[:, held], self._held_quantities).tolist()]

    def apply_fill(self, i: int, side: int, quantity: int, price: float, commission: float,
                   slippage: float = 0.0, *, date: str | int = "", fill_id: int = 0) -> float:
        """Book a fill of ``quantity`` shares of symbol ``i`` (the FillEvent ``fill_id``); returns its realized
        P&L. ``date`` (text, or the fill's ``time_ns``) is named in an :class:`AccountingError`."""
        held = int(self.positions[i])
        realized = 0.0
        if side > 0:
            cash = self.cash - quantity * price - commission
            if cash < -_CASH_TOLERANCE and not self.margin:
                day = _day(date)
                raise AccountingError(
                    f"buying {quantity} {self.symbols[i]} at {price:.6g} with commission {commission:.2f} "
                    f"{_on(day)}needs {quantity * price + commission:.2f} but cash is {self.cash:.2f}",
                    symbol=self.symbols[i], date=day,
                )
            if held >= 0:
                new = held + quantity
                self.average_cost[i] = (held * self.average_cost[i] + quantity * price) / new
                self.positions[i] = new
            else:
                realized = self._reduce(i, held, quantity, price, commission, side)
        elif quantity <= held:
            cash = self.cash + quantity * price - commission
            if cash < -_CASH_TOLERANCE and not self.margin:
                day = _day(date)
                raise AccountingError(
                    f"selling {quantity} {self.symbols[i]} at {price:.6g} {_on(day)}brings in "
                    f"{quantity * price:.2f} but costs {commission:.2f} in commission; cash is {self.cash:.2f}",
                    symbol=self.symbols[i], date=day,
                )
            realized = (price - self.average_cost[i]) * quantity - commission
            self.realized_pnl[i] += realized
            left = held - quantity
            self.positions[i] = left
            if left == 0:
                self.average_cost[i] = 0.0
        else:
            if not self.allow_short:
                day = _day(date)
                raise AccountingError(
                    f"selling {quantity} {self.symbols[i]} {_on(day)}but only {held} are held",
                    symbol=self.symbols[i], date=day,
                )
            cash = self.cash + quantity * price - commission
            if held > 0:
                realized = self._reduce(i, held, quantity, price, commission, side)
            else:  # a short sale opening or adding to a short
                short = -held
                self.average_cost[i] = (short * self.average_cost[i] + quantity * price) / (short + quantity)
                self.positions[i] = held - quantity
        self.cash = cash
        self._held = self._held_values = None
        self.total_commission += commission
        self.total_slippage += slippage
        self.fills += 1
        self.last_fill_id = fill_id
        return float(realized)

    def _reduce(self, i: int, held: int, quantity: int, price: float, commission: float, side: int) -> float:
        """Book a fill of ``quantity`` shares against the position ``held`` it reduces, closes or crosses (a sale
        of a long, a buy of a short); returns the realized P&L (module docs). Cash is the caller's."""
        closing = min(quantity, abs(held))
        average = self.average_cost[i]
        gain = price - average if held > 0 else average - price
        realized = float(gain * closing - commission)
        self.realized_pnl[i] += realized
        new = held + side * quantity
        self.positions[i] = new
        if new == 0:
            self.average_cost[i] = 0.0
        elif (new > 0) != (held > 0):  # crossed zero: the rest opens the other side at the fill price
            self.average_cost[i] = price
        return realized

    def apply_cash_flow(self, amount: float, *, reason: str, date: str = "") -> None:
        """A deposit (amount > 0), withdrawal or fee (amount < 0) outside any fill (in a margin account, cash may
        go below zero)."""
        if self.cash + amount < -_CASH_TOLERANCE and not self.margin:
            raise AccountingError(
                f"{reason} of {amount:.2f} {_on(date)}would leave cash at {self.cash + amount:.2f}", date=date
            )
        self.cash += amount

    def apply_fee(self, model: str, amount: float, *, date: str = "") -> float:
        """Book a fee of ``model`` (``amount`` > 0 charged, < 0 credited); returns what was paid now.

        A charge never takes cash below zero: what the cash cannot cover (with anything the same model
        already owes) stays in :attr:`fees_owed` and is paid first from that model's next fee. In a margin
        account a fee is paid in full, whatever the cash.
        """
        if amount < 0:
            self.apply_cash_flow(-amount, reason=f"{model} credit", date=date)
            return amount
        if self.margin:
            self.cash -= amount
            return amount
        due = self.fees_owed.get(model, 0.0) + amount
        paid = min(due, max(self.cash, 0.0))
        self.fees_owed[model] = due - paid
        self.cash -= paid
        return paid

    def apply_split(self, i: int, ratio: float, shares_before: int, shares_after: int, fractional_shares: float,
                    cash_in_lieu: float, *, date: str = "") -> float:
        """Book a split of symbol ``i`` (``ratio`` new shares per old share); returns the fraction's realized P&L.

        ``shares_before`` must be the position held, and ``shares_after`` at most 2**53 shares (else an
        :class:`AccountingError`); it becomes
        ``shares_after``, the average cost and the mark are divided by ``ratio``, and ``cash_in_lieu`` (the
        fraction paid out) is added to cash, its gain over the fraction's cost realized.
        """
        held = int(self.positions[i])
        if held != shares_before:
            raise AccountingError(f"a split of {self.symbols[i]} {_on(date)}for {shares_before} shares, but {held} are "
                                  "held", symbol=self.symbols[i], date=date)
        if abs(shares_after) > _MAX_SHARES:
            raise AccountingError(f"a split of {self.symbols[i]} {_on(date)}takes {shares_before:,} shares to "
                                  f"{abs(shares_before * ratio):.6g}: more than the {_MAX_SHARES:,} shares a position "
                                  "holds exactly", symbol=self.symbols[i], date=date)
        if self.cash + cash_in_lieu < -_CASH_TOLERANCE and not self.margin:
            raise AccountingError(f"cash in lieu of {cash_in_lieu:.2f} for {self.symbols[i]} {_on(date)}would leave "
                                  f"cash at {self.cash + cash_in_lieu:.2f}", symbol=self.symbols[i], date=date)
        average = self.average_cost[i] / ratio
        realized = cash_in_lieu - fractional_shares * average
        self.positions[i] = shares_after
        self.average_cost[i] = average if shares_after else 0.0
        self.realized_pnl[i] += realized
        self.marks[i] /= ratio
        self.cash += cash_in_lieu
        self._held = self._held_values = None
        return float(realized)

    def apply_dividend(self, i: int, net: float, *, date: str = "") -> None:
        """Book a dividend of symbol ``i``: ``net`` (received > 0, paid by a short position < 0) to cash."""
        self.apply_cash_flow(net, reason=f"a dividend of {self.symbols[i]}", date=date)

    # -- reads ----------------------------------------------------------------------------------------
    def held_index(self) -> np.ndarray:
        """Indices of the symbols with a non-zero position, in symbol order."""
        held = self._held
        if held is None:
            held = self._held = np.flatnonzero(self.positions)
            self._held_quantities = self.positions[held].astype(float)
        return held

    def held_values(self) -> tuple[float, ...]:
        """``q * mark`` of each held position, in :meth:`held_index` order, as floats; computed once and kept
        until a fill, a split or new marks (:meth:`update_marks`)."""
        values = self._held_values
        if values is None:
            held = self.held_index()
            values = self._held_values = tuple(np.multiply(self._held_quantities, self.marks.take(held)).tolist())
        return values

    def positions_value(self) -> float:
        """``sum(q * mark)`` over held positions, exactly rounded (:mod:`eventbt.exact`): the same bits on
        every machine, where a BLAS dot product's last bit depends on the CPU. (Whole-share quantities are
        exact as floats, so the products are those of :func:`~eventbt.exact.dot` on the integer array.)"""
        return math.fsum(self.held_values())

    def total_value(self) -> float:
        return self.cash + self.positions_value()

    def exposures(self) -> tuple[float, float]:
        """``(long, short)``: ``sum(q * mark)`` over the longs and over the shorts (<= 0), exactly rounded; their
        difference is the gross exposure, their sum :meth:`positions_value`."""
        values = self.held_values()
        return math.fsum(v for v in values if v > 0), math.fsum(v for v in values if v < 0)

    def weights(self) -> np.ndarray:
        """Market value per symbol / total value, at the current marks."""
        total = self.total_value()
        values = self.positions * self.marks
        return values / total if total > 0 else np.zeros_like(values)

    def position(self, symbol: str) -> int:
        return int(self.positions[self.index[symbol]])

    def unrealized_pnl(self) -> float:
        held = self.held_index()
        return dot(self.positions[held], self.marks[held] - self.average_cost[held])

    def held(self) -> dict[str, int]:
        """Non-zero positions, in symbol order."""
        return {self.symbols[i]: int(q) for i, q in enumerate(self.positions) if q}


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class PortfolioView:
    """The book as every handler but the portfolio handler sees it: read-only, always current.

    ``positions``, ``average_cost``, ``realized_pnl`` and ``marks`` are non-writeable views of the book's own
    arrays, so they show every fill as soon as it is booked and cannot be written; ``cash``, the totals and
    ``fees_owed`` are read-only properties; the methods are the book's reads. There is no mutator.
    """

    __slots__ = ("_book", "average_cost", "marks", "positions", "realized_pnl")

    def __init__(self, book: Portfolio) -> None:
        self._book = book
        self.positions = _read_only(book.positions)
        self.average_cost = _read_only(book.average_cost)
        self.realized_pnl = _read_only(book.realized_pnl)
        self.marks = _read_only(book.marks)

    def __repr__(self) -> str:
        return f"PortfolioView(cash={self.cash:,.2f}, positions={self.held()})"

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._book.symbols

    @property
    def index(self) -> Mapping[str, int]:
        return MappingProxyType(self._book.index)

    @property
    def initial_cash(self) -> float:
        return self._book.initial_cash

    @property
    def cash(self) -> float:
        return self._book.cash

    @property
    def total_commission(self) -> float:
        return self._book.total_commission

    @property
    def total_slippage(self) -> float:
        return self._book.total_slippage

    @property
    def fills(self) -> int:
        return self._book.fills

    @property
    def last_fill_id(self) -> int:
        """The id of the last FillEvent the book has booked (0: none yet)."""
        return self._book.last_fill_id

    @property
    def fees_owed(self) -> Mapping[str, float]:
        return MappingProxyType(self._book.fees_owed)

    @property
    def margin(self) -> bool:
        """Whether the book is a margin account (cash may go below zero)."""
        return self._book.margin

    @property
    def allow_short(self) -> bool:
        """Whether a sale may go beyond the shares held (short positions)."""
        return self._book.allow_short

    def exposures(self) -> tuple[float, float]:
        return self._book.exposures()

    def held_index(self) -> np.ndarray:
        return _read_only(self._book.held_index())

    def held_values(self) -> tuple[float, ...]:
        return self._book.held_values()

    def positions_value(self) -> float:
        return self._book.positions_value()

    def total_value(self) -> float:
        return self._book.total_value()

    def weights(self) -> np.ndarray:
        return self._book.weights()

    def position(self, symbol: str) -> int:
        return self._book.position(symbol)

    def unrealized_pnl(self) -> float:
        return self._book.unrealized_pnl()

    def held(self) -> dict[str, int]:
        return self._book.held()


@attrs.frozen(kw_only=True, slots=True)
class TradeRecord:
    """One fill as the book booked it (a row of ``trades.csv``); money in account currency."""

    bar: int
    symbol: str
    side: str
    quantity: int
    price: float
    reference_price: float
    commission: float
    slippage: float
    realized_pnl: float
    order_id: int
    fill_id: int


TRADE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(TradeRecord))
"""The fields of :class:`TradeRecord`, in order: the order of the values in a row of :attr:`BookHistory.trade_rows`."""


def _as_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    """A trade row's values by :data:`TRADE_FIELDS` name."""
    return dict(zip(TRADE_FIELDS, row, strict=True))


@attrs.frozen(kw_only=True, slots=True)
class FeeRecord:
    """One fee as the book paid it: ``paid`` may be less than charged (the rest is owed), negative a credit."""

    bar: int
    model: str
    paid: float
    reason: str
    symbol: str | None
    cause_id: int | None
    fee_id: int


@attrs.frozen(kw_only=True, slots=True)
class DividendRecord:
    """One dividend as the book received it (``DividendPaymentEvent``): money in account currency."""

    bar: int
    symbol: str
    ex_date: str
    shares: int
    amount_per_share: float
    gross: float
    withholding_tax: float
    net: float
    payment_id: int


@attrs.frozen(kw_only=True, slots=True)
class SplitRecord:
    """One split as the book applied it (``SplitAdjustmentEvent``)."""

    bar: int
    symbol: str
    ratio: float
    shares_before: int
    shares_after: int
    cash_in_lieu: float
    realized_pnl: float


@attrs.frozen(kw_only=True, slots=True)
class MarginCallRecord:
    """One margin call (``MarginCallEvent``): equity and gross exposure at the close, money in account currency."""

    bar: int
    equity: float
    gross_exposure: float
    response: str
    fraction: float


@attrs.frozen(kw_only=True, slots=True)
class SignalRecord:
    """The target weights of one rebalance signal (symbols absent target 0)."""

    bar: int
    weights: Mapping[str, float]


@attrs.frozen(kw_only=True, slots=True)
class WeightsRecord:
    """The book's actual weights, indexed like the symbols, at the end of the bar that carried out a rebalance."""

    bar: int
    weights: np.ndarray


class BookHistory:
    """What the portfolio handler records as a run goes; the results are built from it.

    Per bar (kept as columns, one entry per recorded bar, in bar order): ``bars``, ``cash``,
    ``positions_value``, ``total_value`` and ``flow`` (the net of that bar's deposits and withdrawals,
    exactly rounded; fees are not flows), and in a margin account ``long_value`` and ``short_value`` (the longs'
    and the shorts' market value, :meth:`Portfolio.exposures`). Per fill, ``trade_rows``: a tuple of a
    :class:`TradeRecord`'s values (:data:`TRADE_FIELDS`), and ``trades`` the records themselves. Per event:
    :class:`FeeRecord`, :class:`SignalRecord`, :class:`WeightsRecord`, :class:`DividendRecord`, :class:`SplitRecord`
    and :class:`MarginCallRecord` lists, ``fees`` (model -> total paid) and ``fees_owed`` (model -> what it is
    still owed, after its last fee; only models that are owed something).
    """

    def __init__(self, symbols: tuple[str, ...]) -> None:
        self.symbols = symbols
        self.bars: list[int] = []
        self.cash: list[float] = []
        self.positions_value: list[float] = []
        self.total_value: list[float] = []
        self.flow: list[float] = []
        # A tuple per fill rather than a TradeRecord: the portfolio handler books thousands at a rebalance-heavy run's
        # hot path, and a tuple costs a tenth of a frozen record (0.2 µs against 3 µs); the result's trades frame is
        # built from the rows directly (docs/performance.md).
        self.trade_rows: list[tuple[int, str, str, int, float, float, float, float, float, int, int]] = []
        self.fee_log: list[FeeRecord] = []
        self.fees: dict[str, float] = {}
        self.fees_owed: dict[str, float] = {}
        self.signals: list[SignalRecord] = []
        self.weights: list[WeightsRecord] = []
        self.dividends: list[DividendRecord] = []
        self.splits: list[SplitRecord] = []
        self.long_value: list[float] = []
        self.short_value: list[float] = []
        self.margin_calls: list[MarginCallRecord] = []

    @property
    def trades(self) -> tuple[TradeRecord, ...]:
        """Every fill booked so far as a :class:`TradeRecord`, in booking order, built from ``trade_rows`` on each
        call (a tuple: the history is kept in ``trade_rows``, so there is nothing here to append to)."""
        return tuple(TradeRecord(**_as_fields(row)) for row in self.trade_rows)

    def record_bar(self, bar: int, cash: float, positions_value: float, total_value: float, flow: float) -> None:
        """The book at the end of ``bar``."""
        self.bars.append(bar)
        self.cash.append(cash)
        self.positions_value.append(positions_value)
        self.total_value.append(total_value)
        self.flow.append(flow)

    def record_bars(self, bars: range, cash: float, positions_value: Sequence[float],
                    total_value: Sequence[float]) -> None:
        """The book at the end of each of ``bars``, where nothing traded and no cash moved (quiet bars)."""
        self.bars.extend(bars)
        self.cash.extend([cash] * len(bars))
        self.positions_value.extend(positions_value)
        self.total_value.extend(total_value)
        self.flow.extend([0.0] * len(bars))

    def up_to(self, last_bar: int) -> BookHistory:
        """This history cut to the bars up to ``last_bar`` (the last one marked): what happened on a bar in
        progress (its fills, fees, signals, weights, dividends, splits, margin calls) left out, so that a partial
        result's trades and costs cover the bars its equity does. The fees' totals are summed again in the order
        paid (the same floats); ``fees_owed`` is what the models are owed now."""
        cut = BookHistory(self.symbols)
        for name in ("bars", "cash", "positions_value", "total_value", "flow", "long_value", "short_value"):
            setattr(cut, name, list(getattr(self, name)))
        cut.trade_rows = [row for row in self.trade_rows if row[0] <= last_bar]
        for record in self.fee_log:
            if record.bar <= last_bar:
                cut.fee_log.append(record)
                cut.fees[record.model] = cut.fees.get(record.model, 0.0) + record.paid
        cut.fees_owed = dict(self.fees_owed)
        for name in ("signals", "weights", "dividends", "splits", "margin_calls"):
            setattr(cut, name, [record for record in getattr(self, name) if record.bar <= last_bar])
        return cut

    def record_fee(self, record: FeeRecord, owed: float = 0.0) -> None:
        """A fee as the book paid it; ``owed`` is what its model is still owed after it."""
        self.fee_log.append(record)
        self.fees[record.model] = self.fees.get(record.model, 0.0) + record.paid
        if owed:
            self.fees_owed[record.model] = owed
        else:
            self.fees_owed.pop(record.model, None)
