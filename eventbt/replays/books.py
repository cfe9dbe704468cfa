"""The books of a run rebuilt from its audit log and its prices alone, as the portfolio handler keeps them.

:func:`rebuild_books` reads only the ``publish`` records (``type``, ``id``, ``time``, ``cause``, ``by``,
``data``, ``seq``), the footer and the ``note`` records of dead letters, and orders the events the way the bus
delivers them, by (``time``, ``seq``): the first ``footer["events"]`` of that order are the events the run
delivered. It does not read the ``deliver`` records. It then does the portfolio handler's bookkeeping
(``handlers/portfolio.py``, ``eventbt/portfolio.py``) in that order: marks at each ``MarketEvent``, every
``FillEvent``, ``CashFlowEvent`` and ``FeeEvent`` booked, each corporate action's ``SplitAdjustmentEvent`` and
``DividendPaymentEvent`` checked against the rules (``handlers/corporate_actions.py``, recomputed here) and
booked, and at each ``BarEndEvent`` a row of values and, at the end of a bar that carried out a rebalance, a
row of weights. A fill of an order of another type than ``market`` (``docs/orders.md``) has its reference price
recomputed from the order's own fields (its ``OrderEvent`` record, restated by any ``split_adjusted`` notice)
and the fill bar's prices: see :func:`order_reference`. The result is what ``trades.csv``,
``signals.csv``, ``weights.csv``, ``equity.csv`` and ``summary.json`` must hold (see
:mod:`eventbt.replays.verify`).

A margin account (``docs/long-short.md``; ``margin`` given) is booked as its book books it: signed positions
(a sale beyond the shares held opens a short with ``allow_short``), the average cost and realized P&L of shorts,
cash that may go below zero, fees paid in full, dividends paid by shorts; each bar's long and short market value
is kept, and every fee, margin call and liquidation order is handed to ``margin``
(:class:`eventbt.replays.margin_books.MarginChecks`), which recomputes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs
import numpy as np

from eventbt.errors import AuditError
from eventbt.exact import dot

__all__ = ["Books", "BooksError", "order_reference", "rebuild_books"]

_CASH_TOLERANCE = 1e-6  # as eventbt/portfolio.py
# The events the portfolio handler books or records (the others do not touch the books).
_BOOKED = frozenset({"MarketEvent", "SignalEvent", "FillEvent", "CashFlowEvent", "FeeEvent", "BarEndEvent",
                     "SnapshotEvent", "SplitAdjustmentEvent", "DividendPaymentEvent", "MarginCallEvent", "OrderEvent"})
_MARGIN_FEES = frozenset({"financing", "borrow"})  # the fee handlers of a margin account (handlers/fees.py)


class BooksError(Exception):
    """The audit log itself does not add up against the prices (``where``, ``expected``, ``found``); ``check``
    is the verify check it fails (``"trades"``, or ``"actions"`` for a corporate action)."""

    def __init__(self, where: str, expected: Any, found: Any, *, check: str = "trades") -> None:
        super().__init__(f"{where}: expected {expected!r}, found {found!r}")
        self.where = where
        self.expected = expected
        self.found = found
        self.check = check


@attrs.define
class Books:
    """What the portfolio handler would have recorded: one dict per row of each result file."""

    trades: list[dict[str, Any]] = attrs.field(factory=list)
    signals: list[tuple[int, dict[str, float]]] = attrs.field(factory=list)
    weights: list[tuple[int, np.ndarray]] = attrs.field(factory=list)
    bars: list[int] = attrs.field(factory=list)
    cash: list[float] = attrs.field(factory=list)
    positions_value: list[float] = attrs.field(factory=list)
    total_value: list[float] = attrs.field(factory=list)
    flow: list[float] = attrs.field(factory=list)
    fees: dict[str, float] = attrs.field(factory=dict)
    fees_owed: dict[str, float] = attrs.field(factory=dict)  # model -> still owed after its last fee (if any)
    snapshots: dict[int, Mapping[str, Any]] = attrs.field(factory=dict)  # bar -> the log's SnapshotEvent data
    dividends: list[Mapping[str, Any]] = attrs.field(factory=list)  # the DividendPaymentEvent data, in order
    splits: list[Mapping[str, Any]] = attrs.field(factory=list)  # the SplitAdjustmentEvent data, in order
    closing: dict[int, np.ndarray] = attrs.field(factory=dict)  # bar -> the positions at its close
    actions_booked: set[tuple[str, str, int]] = attrs.field(factory=set)  # (kind, symbol, ex-date bar)
    long_value: list[float] = attrs.field(factory=list)  # a margin account's longs per bar marked
    short_value: list[float] = attrs.field(factory=list)  # and its shorts (<= 0)
    margin_calls: int = 0

    def held_before(self, bar: int, j: int) -> int:
        """The shares of symbol ``j`` held at the close before ``bar`` (0 before the first bar marked)."""
        previous = self.closing.get(bar - 1)
        return int(previous[j]) if previous is not None else 0

    def unbooked_actions(self, prices: Any) -> list[str]:
        """The actions of the data on a position held at the previous close that the log never booked."""
        bar_of = {str(day)[:10]: i for i, day in enumerate(prices.dates.astype("datetime64[D]"))}
        index = {symbol: j for j, symbol in enumerate(prices.symbols)}
        missing = []
        for action in prices.actions:
            bar = bar_of.get(action.date, -1)
            if bar < prices.warmup_bars or bar - 1 not in self.closing:
                continue
            held = self.held_before(bar, index[action.symbol])
            if held and (action.kind, action.symbol, bar) not in self.actions_booked:
                missing.append(f"{action.date} {action.kind} of {action.symbol} on {held} shares")
        return missing


def delivered(records: Sequence[Mapping[str, Any]], path: str, *, extra: int = 0) -> list[Mapping[str, Any]]:
    """The ``publish`` records of the events the run delivered, in delivery order (``time``, ``seq``).

    The footer's ``events`` counts the deliveries that ended normally; an event a handler failed on was taken
    too: each dead letter, and the event that ended a failed run. ``extra`` takes more (an interrupted run may
    have been stopped inside a hook, with the event half delivered).
    """
    publishes = [r for r in records if r.get("record") == "publish"]
    try:
        ordered = sorted(publishes, key=lambda r: (np.datetime64(str(r["time"]), "ns"), int(r["seq"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(f"a publish record has no readable time and seq ({exc})", path=path) from None
    footer = records[-1] if records and records[-1].get("record") == "footer" else {}
    count = footer.get("events")
    if not isinstance(count, int) or isinstance(count, bool):
        return ordered
    dead = sum(1 for r in records if r.get("record") == "note" and r.get("code") == "dead_letter")
    return ordered[:count + dead + (1 if footer.get("status") == "failed" else 0) + extra]


def _skipped_by_portfolio(records: Sequence[Mapping[str, Any]]) -> set[int]:
    """Events the portfolio handler failed on (not booked): a dead letter, or the error that ended the run."""
    failed = [r for r in records if r.get("record") == "note" and r.get("code") == "dead_letter"]
    footer = records[-1] if records and records[-1].get("record") == "footer" else {}
    if footer.get("status") == "failed":
        failed.append(footer)
    return {int(r["event"]) for r in failed if r.get("handler") == "portfolio" and isinstance(r.get("event"), int)}


def order_reference(order: Mapping[str, Any], bar: int, j: int, prices: Any) -> float | None:
    """The reference price a fill of ``order`` (an ``OrderEvent``'s audit ``data`` of another type than market) on
    ``bar`` must have for symbol ``j``, by the rules of ``docs/orders.md`` written out again here; ``None`` when
    the bar cannot fill it (a limit or stop its prices never reached).

    ``market_on_open`` fills at the bar's open, ``market_on_close`` at its close; a limit or stop order at its
    placement bar's close (``same_close``) or, later, at ``min``/``max`` of the bar's open and its price when the
    bar's low (limit buy, stop sell) or high (limit sell, stop buy) reached that price.
    """
    kind, buying = order.get("order_type"), order.get("side") == "BUY"
    if kind == "market_on_open":
        return float(prices.open[bar][j])
    if kind == "market_on_close" or bar == order.get("bar"):
        return float(prices.close[bar][j])
    level = float(order["limit_price"] if kind == "limit" else order["stop_price"])
    low_side = (kind == "limit") == buying  # the low must come down to it; else the high must come up
    extreme = float((prices.low if low_side else prices.high)[bar][j])
    if not (extreme <= level if low_side else extreme >= level):
        return None
    opening = float(prices.open[bar][j])
    return min(opening, level) if low_side else max(opening, level)


def rebuild_books(records: Sequence[Mapping[str, Any]], *, prices: Any, initial_cash: float, next_open: bool,
                  path: str = "audit.jsonl", extra: int = 0, withholding_tax: float = 0.0,
                  weights_lag: int | None = None, margin: Any = None) -> Books:
    """The books of the run ``records`` describe (see the module docstring).

    ``weights_lag`` is the bar the rebalance's weights row is taken at, after the signal bar (default: 1 with
    ``next_open``, else 0; ``docs/orders.md`` says when other order types move it).

    Raises :class:`BooksError` when the log does not add up against ``prices``: a fill's reference price that
    is not the data's, a sale of shares not held, cash below zero, a bar or symbol outside the data. ``margin``
    (:class:`eventbt.replays.margin_books.MarginChecks`) makes it a margin account's books.
    """
    symbols = list(prices.symbols)
    index = {symbol: j for j, symbol in enumerate(symbols)}
    n_bars = len(prices.dates)
    reference = prices.open if next_open and prices.open is not None else prices.close
    books = Books()
    cash = float(initial_cash)
    positions = np.zeros(len(symbols), dtype=np.int64)
    average = np.zeros(len(symbols))
    marks = np.zeros(len(symbols))
    owed: dict[str, float] = {}
    flows: list[float] = []
    signal_bar = -1
    lag = (1 if next_open else 0) if weights_lag is None else weights_lag
    typed: dict[int, dict[str, Any]] = {}  # order id -> the audit data of an order of another type than market
    skipped = _skipped_by_portfolio(records)
    bar_of = {str(day)[:10]: i for i, day in enumerate(prices.dates.astype("datetime64[D]"))}
    account = margin.account if margin is not None else None
    paid_by_bar: list[tuple[int, str, float]] = []  # each fee's bar, model and amount paid: the fees' totals
    call_bars: list[int] = []
    for record in delivered(records, path, extra=extra):
        kind, data = record.get("type"), record.get("data") or {}
        if record.get("id") in skipped or not isinstance(data, Mapping):
            continue
        if kind == "OrderEvent" and data.get("order_type", "market") != "market":
            typed[int(record["id"])] = dict(data)
        elif kind == "NoticeEvent" and data.get("code") == "split_adjusted":
            _restate(typed, data.get("details") or {})
        if kind not in _BOOKED or (margin is None and kind in ("MarginCallEvent", "OrderEvent")):
            continue
        if kind == "OrderEvent" and record.get("by") != "margin":
            continue
        bar = data.get("bar")
        if not (isinstance(bar, int) and 0 <= bar < n_bars):
            raise BooksError(f"audit.jsonl {kind} #{record.get('id')} bar", f"a bar of the data (0..{n_bars - 1})",
                             bar)
        if kind == "MarketEvent":
            close = prices.close[bar]
            np.copyto(marks, close, where=close == close)
            if margin is not None:
                margin.at_market(record, bar, positions, marks, cash)
        elif kind == "SignalEvent":
            weights = data.get("weights") or {}
            books.signals.append((bar, {str(k): float(v) for k, v in weights.items()}))
            signal_bar = bar + lag
        elif kind == "FillEvent":
            cash = _book_fill(record, data, bar, reference, marks, index, positions, average, cash, books,
                              typed.get(int(data.get("order_id") or -1)), prices, account=account)
        elif kind == "MarginCallEvent":
            margin.call(record, data)
            call_bars.append(bar)
        elif kind == "OrderEvent":
            margin.order(record, data)
        elif kind == "CashFlowEvent":
            amount = float(data["amount"])
            if amount < 0 and cash + amount < -_CASH_TOLERANCE:
                raise BooksError(f"audit.jsonl CashFlowEvent #{record['id']} cash after it", ">= 0", cash + amount)
            cash += amount
            flows.append(amount)
        elif kind == "FeeEvent":
            model, amount = str(data["model"]), float(data["amount"])
            if margin is not None and model in _MARGIN_FEES and record.get("by") == model:
                margin.fee(record, data)
            if amount < 0 or account is not None:  # a credit, or any fee of a margin account: paid in full
                paid = amount
            else:
                due = owed.get(model, 0.0) + amount
                paid = min(due, max(cash, 0.0))
                owed[model] = due - paid
            cash -= paid
            paid_by_bar.append((bar, model, paid))
            if owed.get(model):
                books.fees_owed[model] = owed[model]
            else:
                books.fees_owed.pop(model, None)
        elif kind == "BarEndEvent":
            held = np.flatnonzero(positions)
            positions_value = dot(positions[held], marks[held])
            total = cash + positions_value
            books.bars.append(bar)
            books.cash.append(cash)
            books.positions_value.append(positions_value)
            books.total_value.append(total)
            books.flow.append(math.fsum(flows) if flows else 0.0)
            flows.clear()
            if signal_bar == bar:
                values = positions * marks
                books.weights.append((bar, values / total if total > 0 else np.zeros_like(values)))
            if margin is not None:
                products = np.multiply(positions[held].astype(float), marks[held]).tolist()
                books.long_value.append(math.fsum(v for v in products if v > 0))
                books.short_value.append(math.fsum(v for v in products if v < 0))
                margin.at_bar_end(cash, positions, marks)
        elif kind == "SnapshotEvent":
            books.snapshots[bar] = data
        elif kind == "SplitAdjustmentEvent":
            cash = _book_split(record, data, bar, marks, index, positions, average, cash, books)
        elif kind == "DividendPaymentEvent":
            cash = _book_dividend(record, data, bar_of, index, withholding_tax, cash, books,
                                  margin=account is not None)
        if kind == "BarEndEvent":
            books.closing[bar] = positions.copy()
    footer = records[-1] if records and records[-1].get("record") == "footer" else {}
    if margin is not None and footer.get("status") == "completed":
        margin.settle()  # the last bar's fees, call and orders (a run stopped early may not have reached them)
    # A partial result covers the bars marked (Simulation.result): the bar in progress is left out.
    last = n_bars if footer.get("status") == "completed" else (books.bars[-1] if books.bars else -1)
    if last < n_bars:
        _cut(books, last)
    for bar, model, paid in paid_by_bar:  # the fees' totals, summed in the order paid
        if bar <= last:
            books.fees[model] = books.fees.get(model, 0.0) + paid
    books.margin_calls = sum(1 for bar in call_bars if bar <= last)
    return books


def _cut(books: Books, last: int) -> None:
    """Leave out of ``books`` what happened after bar ``last``, the last one marked: the bar in progress when a run
    failed or was interrupted, whose fills and signals its partial result leaves out too
    (:meth:`eventbt.portfolio.BookHistory.up_to`)."""
    books.trades = [row for row in books.trades if row["bar"] <= last]
    books.signals = [row for row in books.signals if row[0] <= last]
    books.weights = [row for row in books.weights if row[0] <= last]
    books.dividends = [data for data in books.dividends if data.get("bar", -1) <= last]
    books.splits = [data for data in books.splits if data.get("bar", -1) <= last]


def _book_split(record: Mapping[str, Any], data: Mapping[str, Any], bar: int, marks: np.ndarray,
                index: dict[str, int], positions: np.ndarray, average: np.ndarray, cash: float, books: Books) -> float:
    """Check a split adjustment against the rules and book it as ``Portfolio.apply_split`` does."""
    symbol, ratio = str(data["symbol"]), float(data["ratio"])
    where = f"audit.jsonl SplitAdjustmentEvent #{record['id']} ({symbol} x{ratio:g})"
    if symbol not in index:
        raise BooksError(f"{where} symbol", "a symbol of the data", symbol, check="actions")
    j = index[symbol]
    held = books.held_before(bar, j)

    def require(name: str, expected: Any, found: Any, same: bool) -> None:
        if not same:
            raise BooksError(f"{where} {name}", expected, found, check="actions")

    require("shares_before (held at the previous close)", held, data["shares_before"],
            held == data["shares_before"] == int(positions[j]))
    # The ratio as the decimal it is written as (3-for-2 is 1.5, not 1.4999...): whole shares rounded down.
    exact = Decimal(held) * Decimal(repr(ratio))
    whole = int(exact.to_integral_value(rounding=ROUND_DOWN))
    fraction = float(exact - whole)
    require("shares_after", whole, data["shares_after"], whole == data["shares_after"])
    prior = float(marks[j])
    require("prior_close (the previous close)", prior, data["prior_close"], near(prior, float(data["prior_close"])))
    lieu = fraction * prior / ratio
    require("cash_in_lieu (fraction x previous close / ratio)", lieu, data["cash_in_lieu"],
            near(lieu, float(data["cash_in_lieu"])))
    positions[j] = whole
    average[j] = average[j] / ratio if whole else 0.0
    marks[j] = marks[j] / ratio
    books.splits.append(data)
    books.actions_booked.add(("split", symbol, bar))
    return cash + float(data["cash_in_lieu"])


def _book_dividend(record: Mapping[str, Any], data: Mapping[str, Any], bar_of: dict[str, int],
                   index: dict[str, int], rate: float, cash: float, books: Books, *, margin: bool = False) -> float:
    """Check a dividend payment against the rules and book its net amount to cash."""
    symbol, ex_date = str(data["symbol"]), str(data["ex_date"])
    where = f"audit.jsonl DividendPaymentEvent #{record['id']} ({symbol} ex {ex_date})"
    if symbol not in index or ex_date not in bar_of:
        raise BooksError(f"{where} symbol and ex_date", "a symbol and a date of the data", (symbol, ex_date),
                         check="actions")
    ex_bar = bar_of[ex_date]
    held = books.held_before(ex_bar, index[symbol])
    if held != data["shares"]:
        raise BooksError(f"{where} shares (held at the close before the ex-date)", held, data["shares"],
                         check="actions")
    gross = held * float(data["amount_per_share"])
    tax = gross * rate if gross > 0 else 0.0  # a short position pays the dividend; nothing is withheld
    for name, value in (("gross", gross), ("withholding_tax", tax), ("net", gross - tax)):
        if not near(value, float(data[name])):
            raise BooksError(f"{where} {name}", value, data[name], check="actions")
    net = float(data["net"])
    if cash + net < -_CASH_TOLERANCE and not margin:
        raise BooksError(f"{where} cash after it", ">= 0", cash + net, check="actions")
    books.dividends.append(data)
    books.actions_booked.add(("dividend", symbol, ex_bar))
    return cash + net


def _restate(typed: dict[int, dict[str, Any]], details: Mapping[str, Any]) -> None:
    """A waiting order restated at a split: its limit and stop prices as the notice gives them."""
    order = typed.get(details.get("order_id"))  # type: ignore[arg-type]
    if order is not None:
        order.update({key: details[key] for key in ("limit_price", "stop_price") if key in details})


def near(expected: float, found: float) -> bool:
    """Whether a recomputed number agrees with the log's: within 1e-9 relative, 1e-6 absolute near zero."""
    return abs(expected - found) <= max(1e-6, 1e-9 * abs(expected))


def _book_fill(record: Mapping[str, Any], data: Mapping[str, Any], bar: int, reference: np.ndarray,
               marks: np.ndarray, index: dict[str, int], positions: np.ndarray, average: np.ndarray, cash: float,
               books: Books, order: Mapping[str, Any] | None = None, prices: Any = None, *,
               account: Any = None) -> float:
    """Book one fill as ``Portfolio.apply_fill`` does; append its trades.csv row; return the new cash.

    ``order`` is the audit data of the fill's order when it is of another type than market (its reference
    price is recomputed from ``prices``). ``account`` is a margin account's ``[portfolio]``: cash may go below
    zero, and with ``allow_short`` a sale beyond the shares held opens a short."""
    symbol, side = str(data["symbol"]), str(data["side"])
    quantity, price, commission = int(data["quantity"]), float(data["price"]), float(data["commission"])
    where = f"audit.jsonl FillEvent #{record['id']} ({side} {quantity} {symbol})"
    if symbol not in index:
        raise BooksError(f"{where} symbol", "a symbol of the data", symbol)
    j = index[symbol]
    # Delisting liquidations (handlers/delisting.py) fill at the last close, the mark, not at this bar's price.
    expected: float | None = float(marks[j] if record.get("by") == "delisting" else reference[bar][j])
    if order is not None:  # another order type than market: its own rules (docs/orders.md)
        expected = order_reference(order, bar, j, prices)
    found_reference = float(data["reference_price"])
    if expected is None:
        kind = order.get("order_type") if order is not None else "order"
        raise BooksError(f"{where} reference_price (its {kind} price, which the bar's prices never reached)",
                         "no fill on this bar", found_reference)
    if not near(expected, found_reference):
        raise BooksError(f"{where} reference_price (the data's price)", expected, found_reference)
    if order is not None and order.get("order_type") == "limit":
        limit, buying = float(order["limit_price"]), side == "BUY"
        if (price > limit if buying else price < limit) and abs(price - limit) > 1e-9 * limit:
            raise BooksError(f"{where} price (a limit order's fill, never beyond its limit)",
                             f"{'<=' if buying else '>='} {limit!r}", price)
    slippage = float(data["slippage"])
    cost = abs(price - found_reference) * quantity  # the slippage cost of a fill (docs/results.md)
    if not near(cost, slippage):
        raise BooksError(f"{where} slippage (|price - reference_price| x quantity)", cost, slippage)
    held = int(positions[j])
    realized = 0.0
    sign = 1 if side == "BUY" else -1
    cash = cash - sign * quantity * price - commission
    if account is None and cash < -_CASH_TOLERANCE:
        raise BooksError(f"{where} cash after the fill", ">= 0", cash)
    if sign < 0 and quantity > held and not (account is not None and account.allow_short):
        raise BooksError(f"{where} shares held", f">= {quantity}", held)
    new = held + sign * quantity
    if held == 0 or (held > 0) == (sign > 0):  # opening or adding: the average cost of the shares held
        average[j] = (abs(held) * average[j] + quantity * price) / abs(new)
    else:  # reducing, closing or crossing zero: the closed shares realize P&L net of the whole commission
        closing = min(quantity, abs(held))
        realized = ((price - average[j]) if held > 0 else (average[j] - price)) * closing - commission
        if new == 0:
            average[j] = 0.0
        elif (new > 0) != (held > 0):
            average[j] = price
    positions[j] = new
    books.trades.append({
        "bar": bar, "symbol": symbol, "side": side, "quantity": quantity, "price": price,
        "reference_price": found_reference, "commission": commission, "slippage": slippage,
        "realized_pnl": float(realized), "order_id": int(data["order_id"]), "fill_id": int(record["id"]),
    })
    return cash
