"""Check a run folder against itself: the books recomputed from ``trades.csv`` and the scenario's prices.

:func:`verify_run` reads a folder written by ``eventbt run --out`` and checks, in this order, stopping at the
first disagreement:

1. ``audit``: the audit log ends with a footer whose ``digest`` is the digest recomputed from the lines
   before it (:func:`eventbt.audit.digest_of_lines`), and ``summary.json`` carries the same digest;
2. ``data``: the price files hash to what the audit header recorded (``data_files``);
3. ``trades``: each fill's ``reference_price`` is the data's close on its date (``same_close``) or open
   (``next_open``), or the last close for a delisting liquidation; no sale exceeds the shares held; cash
   never goes below zero; ``realized_pnl`` is ``(price - average cost) * quantity - commission`` on a sale
   and 0 on a buy;
4. ``equity``: every row of ``equity.csv`` (cash, positions value, total value) equals the books rebuilt by
   replaying the fills of ``trades.csv`` and the cash moved outside fills (the deposits, withdrawals and
   fees of the audit log's ``CashFlowEvent`` and ``FeeEvent`` records, which ``trades.csv`` does not hold)
   in the order the audit log delivered them, marking at each symbol's last known close;
5. ``weights``: each row of ``weights.csv`` equals market value / total value at that date;
6. ``flows``: the ``flow`` column of ``equity.csv`` is, at each date, the sum of the audit log's
   ``CashFlowEvent`` amounts of that bar (deposits +, withdrawals -; fees are not flows), and
   ``summary.json``'s ``net_flows`` their total. A run folder written before the column existed has none to
   check, and ``flows`` is then left out of the checks;
7. ``actions`` (runs with corporate actions): the splits and dividends of the audit log
   (``SplitAdjustmentEvent``, ``DividendPaymentEvent``) are booked in step 4 before the bar's fills, each
   checked against the rules recomputed here: the shares held at the previous close, a split's whole shares
   and fraction (the ratio read as the decimal it is written as) and its cash in lieu at the previous close
   per new share, a dividend's gross amount, the ``[portfolio] withholding_tax`` withheld and the net;
   every action of the data on a position held at the previous close is booked; and ``summary.json``'s
   ``dividends`` totals are the sums of the payments.

Where the prices are: ``data_path`` when given, else ``data.path`` of the folder's ``scenario.toml`` taken
relative to the scenario's folder, which the audit header records as ``environment.base_dir`` (an actions
file, ``[data] corporate_actions``, too). With a warm-up (``[run] warmup``) the rows of ``equity.csv`` start
at the first tradable bar. Numbers agree
when they differ by at most 1e-9 relative (1e-6 absolute near zero): the replay does the engine's arithmetic
in the engine's order, so a real error is many orders of magnitude larger.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from eventbt.errors import AuditError

__all__ = ["Disagreement", "VerifyReport", "verify_run"]

_RELATIVE = 1e-9
_ABSOLUTE = 1e-6


@attrs.frozen(kw_only=True)
class Disagreement:
    """The first thing that did not match: which check, where (a date, a symbol, a file), and both values."""

    check: str
    where: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.check}: {self.where}: expected {self.expected!r}, found {self.found!r}"


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What :func:`verify_run` checked; ``ok`` when ``disagreement`` is ``None``."""

    run_dir: str
    status: str
    checked: tuple[str, ...]
    disagreement: Disagreement | None
    fills: int = 0
    bars: int = 0

    @property
    def ok(self) -> bool:
        return self.disagreement is None


class _Mismatch(Exception):
    def __init__(self, disagreement: Disagreement) -> None:
        super().__init__(str(disagreement))
        self.disagreement = disagreement


def _close(expected: float, found: float) -> bool:
    return abs(expected - found) <= max(_ABSOLUTE, _RELATIVE * abs(expected))


def _require(check: str, where: str, expected: Any, found: Any, same: bool) -> None:
    if not same:
        raise _Mismatch(Disagreement(check=check, where=where, expected=expected, found=found))


def _need(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise AuditError(f"no {name} in the run folder; expected the files `eventbt run --out` writes",
                         path=str(folder))
    return path


def verify_run(run_dir: str | os.PathLike[str], *, data_path: str | os.PathLike[str] | None = None) -> VerifyReport:
    """Verify the run folder ``run_dir`` (see the module docstring); unreadable input is an ``EventbtError``."""
    import pandas as pd

    from eventbt.audit import read_audit
    from eventbt.scenario import ScenarioConfig

    folder = Path(run_dir)
    records: list[Mapping[str, Any]] = list(read_audit(_need(folder, "audit.jsonl")))
    summary = json.loads(_need(folder, "summary.json").read_text())
    config = ScenarioConfig.from_toml(_need(folder, "scenario.toml"))
    equity = pd.read_csv(_need(folder, "equity.csv"), index_col="date", parse_dates=["date"])
    trades = pd.read_csv(_need(folder, "trades.csv"), parse_dates=["date"])
    weights = pd.read_csv(_need(folder, "weights.csv"), index_col="date", parse_dates=["date"])
    header = records[0] if records and records[0].get("record") == "header" else {}
    footer = records[-1] if records and records[-1].get("record") == "footer" else {}
    checked: list[str] = []
    status = str(footer.get("status", "cut short"))
    try:
        _check_audit(records, footer, summary)
        checked.append("audit")
        prices = _load(config, header, data_path, folder)
        _require("data", "price files", header.get("data_files"), dict(sorted(prices.sources.items())),
                 header.get("data_files") == dict(sorted(prices.sources.items())))
        checked.append("data")
        _replay(config, prices, records, equity, trades, weights, checked)
        _check_flows(records, equity, summary, checked)
        if config.data.corporate_actions:
            _check_dividend_totals(records, summary)
            checked.append("actions")
    except _Mismatch as mismatch:
        return VerifyReport(run_dir=str(folder), status=status, checked=tuple(checked),
                            disagreement=mismatch.disagreement, fills=len(trades), bars=len(equity))
    return VerifyReport(run_dir=str(folder), status=status, checked=tuple(checked), disagreement=None,
                        fills=len(trades), bars=len(equity))


def _check_audit(records: list[Mapping[str, Any]], footer: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
    from eventbt.audit import digest_of_lines

    _require("audit", "audit.jsonl", "a footer line", "none (the log was cut short)", bool(footer))
    recomputed = digest_of_lines(records)
    _require("audit", "audit.jsonl digest", footer["digest"], recomputed, recomputed == footer["digest"])
    _require("audit", "summary.json digest", footer["digest"], summary.get("digest"),
             summary.get("digest") == footer["digest"])


def _load(config: Any, header: Mapping[str, Any], data_path: str | os.PathLike[str] | None, folder: Path) -> Any:
    from eventbt.simulation import load_scenario_prices

    environment = header.get("environment") or {}
    base_dir = Path(environment["base_dir"]) if environment.get("base_dir") else None
    if data_path is None and base_dir is None:
        raise AuditError("the audit header does not say where the scenario was (environment.base_dir); "
                         "give the prices with --data", path=str(folder / "audit.jsonl"))
    return load_scenario_prices(config, base_dir=base_dir if base_dir is not None else folder, data_path=data_path)


# Cash moved outside fills, as the audit log records it: event type -> sign of the booking.
_FLOWS = {"CashFlowEvent": 1.0, "FeeEvent": -1.0}
# What a corporate action does to the book, as the audit log records it (booked at 09:00, before the fills).
_ACTIONS = {"SplitAdjustmentEvent": "split", "DividendPaymentEvent": "dividend"}


def _bookings(records: list[Mapping[str, Any]], trades: Any) -> dict[int, list[tuple[str, Any]]]:
    """Per bar, the fills (trades.csv rows) and outside cash flows (audit log) in the order they were booked."""
    delivered = {r["event"]: n for n, r in enumerate(r for r in records if r.get("record") == "deliver")}
    items: list[tuple[int, int, tuple[str, Any]]] = []
    for record in records:
        if record.get("record") == "publish" and record.get("type") in _ACTIONS:
            # A bar's actions come before its open and close (-2: before every other booking of the bar).
            items.append((int(record["data"]["bar"]), -2, (_ACTIONS[record["type"]], record["data"])))
    for row in trades.to_dict("records"):
        items.append((int(row["bar"]), delivered.get(int(row["fill_id"]), -1), ("fill", row)))
    # A fee the cash could not fully cover was booked as what was paid: the portfolio's ``fee_owed`` notice
    # (caused by the fee) says how much.
    paid = {r["cause"]: float(r["data"]["details"]["paid"]) for r in records
            if r.get("record") == "publish" and r.get("type") == "NoticeEvent" and r["data"].get("code") == "fee_owed"}
    for record in records:
        if record.get("record") == "publish" and record.get("type") in _FLOWS:
            booked = paid.get(record["id"], float(record["data"]["amount"]))
            amount = _FLOWS[record["type"]] * booked
            items.append((int(record["data"]["bar"]), delivered.get(record["id"], -1), ("flow", amount)))
    by_bar: dict[int, list[tuple[str, Any]]] = {}
    for bar, _, item in sorted(items, key=lambda entry: (entry[0], entry[1])):
        by_bar.setdefault(bar, []).append(item)
    return by_bar


def _replay(config: Any, prices: Any, records: list[Mapping[str, Any]], equity: Any, trades: Any, weights: Any,
            checked: list[str]) -> None:
    import numpy as np

    from eventbt.exact import dot

    dates = prices.dates
    symbols = list(prices.symbols)
    index = {symbol: j for j, symbol in enumerate(symbols)}
    reference = prices.open if config.execution.timing == "next_open" else prices.close
    bar_of = {int(day): i for i, day in enumerate(dates.astype("datetime64[ns]").astype(np.int64))}
    equity_bars = [bar_of.get(int(day.value), -1) for day in equity.index]
    first = prices.warmup_bars  # the first tradable bar: equity.csv starts there
    _require("equity", "equity.csv dates", "the data's first dates after the warm-up, in order", "other dates",
             equity_bars == list(range(first, first + len(equity_bars))))
    trades = trades.assign(bar=[bar_of.get(int(day.value), -1) for day in trades["date"]])
    unknown = trades[trades["bar"] < 0]
    _require("trades", "trades.csv dates", "dates of the data", [str(d.date()) for d in unknown["date"][:3]],
             unknown.empty)
    bookings = _bookings(records, trades)
    # Delisting liquidations (handlers/delisting.py) fill at the last close, the mark, not at this bar's price.
    liquidations = {r["id"] for r in records if r.get("record") == "publish" and r.get("type") == "FillEvent"
                    and r.get("by") == "delisting"}
    cash = float(config.portfolio.initial_cash)
    positions = [0] * len(symbols)
    average = [0.0] * len(symbols)
    marks = np.zeros(len(symbols))
    weight_rows = {int(day.value): row for day, row in zip(weights.index, weights.to_numpy(), strict=True)}
    closing: dict[int, list[int]] = {}  # the positions at each bar's close (an action's entitlement)
    books = _Books(positions=positions, average=average, marks=marks, closing=closing, index=index,
                   rate=float(config.portfolio.withholding_tax), bar_of={str(d)[:10]: i for i, d in enumerate(dates)})
    for bar in range(first, first + len(equity_bars)):
        for kind, item in bookings.pop(bar, ()):
            if kind == "fill":
                at = marks if int(item["fill_id"]) in liquidations else reference[bar]
                cash = _apply(item, at, index, positions, average, cash)
            elif kind in ("split", "dividend"):
                cash = books.action(kind, item, bar, cash)
            else:
                cash = cash + item
        close = prices.close[bar]
        np.copyto(marks, close, where=close == close)
        closing[bar] = list(positions)
        positions_value = dot(np.asarray(positions, dtype=np.int64), marks)
        where = str(np.datetime_as_string(dates[bar], unit="D"))
        row = equity.iloc[bar - first]
        for name, value in (("cash", cash), ("positions_value", positions_value),
                            ("total_value", cash + positions_value)):
            _require("equity", f"{where} {name}", value, float(row[name]), _close(value, float(row[name])))
        day = int(dates[bar].astype(np.int64))
        if day in weight_rows:
            total = cash + positions_value
            for j, symbol in enumerate(symbols):
                expected = positions[j] * marks[j] / total if total > 0 else 0.0
                found = float(weight_rows[day][j])
                _require("weights", f"{where} {symbol}", expected, found, _close(expected, found))
    left = sorted(bookings)
    _require("trades", "trades.csv", "every fill on a bar of equity.csv", f"bookings at bars {left[:3]}", not left)
    books.check_every_action_booked(prices, first)
    checked.extend(["trades", "equity", "weights"])


@attrs.define
class _Books:
    """The replayed book's positions, average costs and marks (shared with :func:`_replay`), for the actions."""

    positions: list[int]
    average: list[float]
    marks: Any
    closing: dict[int, list[int]]
    index: dict[str, int]
    rate: float
    bar_of: dict[str, int]
    booked: set[tuple[str, str, int]] = attrs.field(factory=set)

    def held_before(self, bar: int, j: int) -> int:
        """The shares of symbol ``j`` held at the close before ``bar`` (0 before the first tradable bar)."""
        previous = self.closing.get(bar - 1)
        return previous[j] if previous is not None else 0

    def action(self, kind: str, data: Mapping[str, Any], bar: int, cash: float) -> float:
        """Check one split adjustment or dividend payment against the rules and book it; returns the new cash."""
        from decimal import ROUND_DOWN, Decimal

        symbol = str(data["symbol"])
        j = self.index[symbol]
        if kind == "split":
            ex_bar = int(data["bar"])
            where = f"{symbol} split x{data['ratio']:g} at bar {ex_bar}"
            held = self.held_before(ex_bar, j)
            _require("actions", f"{where} shares_before", held, data["shares_before"], held == data["shares_before"])
            exact = Decimal(held) * Decimal(repr(float(data["ratio"])))
            whole = int(exact.to_integral_value(rounding=ROUND_DOWN))
            fraction = float(exact - whole)
            lieu = fraction * float(self.marks[j]) / float(data["ratio"])
            _require("actions", f"{where} shares_after", whole, data["shares_after"], whole == data["shares_after"])
            _require("actions", f"{where} cash_in_lieu", lieu, data["cash_in_lieu"], _close(lieu, data["cash_in_lieu"]))
            self.positions[j] = whole
            self.average[j] = self.average[j] / float(data["ratio"]) if whole else 0.0
            self.marks[j] = self.marks[j] / float(data["ratio"])
            self.booked.add(("split", symbol, ex_bar))
            return cash + lieu
        ex_bar = self.bar_of.get(str(data["ex_date"]), -1)
        where = f"{symbol} dividend of {data['ex_date']}"
        held = self.held_before(ex_bar, j)
        _require("actions", f"{where} shares", held, data["shares"], held == data["shares"])
        gross = held * float(data["amount_per_share"])
        tax = gross * self.rate if gross > 0 else 0.0
        for name, value in (("gross", gross), ("withholding_tax", tax), ("net", gross - tax)):
            _require("actions", f"{where} {name}", value, data[name], _close(value, float(data[name])))
        self.booked.add(("dividend", symbol, ex_bar))
        return cash + gross - tax

    def check_every_action_booked(self, prices: Any, first: int) -> None:
        """Every action of the data on a position held at the previous close has its booking in the log."""
        for action in prices.actions:
            bar = self.bar_of.get(action.date, -1)
            if bar < first:
                continue
            held = self.held_before(bar, self.index[action.symbol])
            booked = (action.kind, action.symbol, bar) in self.booked
            _require("actions", f"{action.date} {action.kind} of {action.symbol} on {held} shares held",
                     "booked in the audit log", "not booked", held == 0 or booked)


def _check_dividend_totals(records: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
    """``summary.json``'s ``dividends`` totals against the audit log's payments, exactly rounded sums."""
    import math

    payments = [r["data"] for r in records if r.get("record") == "publish" and r.get("type") == "DividendPaymentEvent"]
    totals = summary.get("dividends") or {}
    for name in ("gross", "withholding_tax", "net"):
        expected = math.fsum(float(p[name]) for p in payments)
        found = totals.get(name)
        _require("actions", f"summary.json dividends {name}", expected, found,
                 found is not None and _close(expected, float(found)))


def _check_flows(records: list[Mapping[str, Any]], equity: Any, summary: Mapping[str, Any],
                 checked: list[str]) -> None:
    """The ``flow`` column and ``net_flows`` against the audit log's ``CashFlowEvent`` records."""
    import math

    if "flow" not in equity:
        return
    amounts: dict[int, list[float]] = {}
    for record in records:
        if record.get("record") == "publish" and record.get("type") == "CashFlowEvent":
            amounts.setdefault(int(record["data"]["bar"]), []).append(float(record["data"]["amount"]))
    total = math.fsum(amount for bar_amounts in amounts.values() for amount in bar_amounts)
    for bar, (day, found) in enumerate(zip(equity.index, equity["flow"], strict=True)):
        expected = math.fsum(amounts.pop(bar, []))
        _require("flows", f"{day.date()} flow", expected, float(found), _close(expected, float(found)))
    _require("flows", "CashFlowEvent records", "every flow on a bar of equity.csv",
             f"flows at bars {sorted(amounts)[:3]}", not amounts)
    if "net_flows" in summary:
        _require("flows", "summary.json net_flows", total, summary["net_flows"],
                 _close(total, float(summary["net_flows"])))
    checked.append("flows")


def _apply(row: dict[str, Any], reference: Any, index: dict[str, int], positions: list[int],
           average: list[float], cash: float) -> float:
    """Book one fill the way the portfolio does; returns the new cash (see eventbt/portfolio.py)."""
    symbol, quantity = str(row["symbol"]), int(row["quantity"])
    where = f"{row['date'].date()} {row['side']} {quantity} {symbol} (fill {row['fill_id']})"
    _require("trades", where, "a symbol of the data", symbol, symbol in index)
    j = index[symbol]
    price, commission = float(row["price"]), float(row["commission"])
    data_price = float(reference[j])
    _require("trades", f"{where} reference_price", data_price, float(row["reference_price"]),
             _close(data_price, float(row["reference_price"])))
    if row["side"] == "BUY":
        cash = cash - quantity * price - commission
        _require("trades", f"{where} cash after the fill", ">= 0", cash, cash >= -_ABSOLUTE)
        held = positions[j]
        average[j] = (held * average[j] + quantity * price) / (held + quantity)
        positions[j] = held + quantity
        realized = 0.0
    else:
        _require("trades", f"{where} shares held", f">= {quantity}", positions[j], positions[j] >= quantity)
        cash = cash + quantity * price - commission
        realized = (price - average[j]) * quantity - commission
        positions[j] -= quantity
        if positions[j] == 0:
            average[j] = 0.0
    found = float(row["realized_pnl"])
    _require("trades", f"{where} realized_pnl", realized, found, _close(realized, found))
    return cash
