"""The result files of a run folder against the books rebuilt from its audit log, cell by cell (for
:mod:`eventbt.replays.verify`), and the summary those books give.

Each ``compare_*`` returns the first :class:`Finding` (file, 1-based data row, column, both values) or
``None``. Numbers the files copy from the log (a fill's price, a target weight) must be equal; numbers the
books recompute (cash, values, weights, realized P&L) agree within 1e-9 relative (1e-6 absolute near zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs
import numpy as np

from eventbt.replays.books import near
from eventbt.results.exposure import EQUITY_EXPOSURE_COLUMNS, WEIGHT_EXPOSURE_COLUMNS, weight_exposures
from eventbt.results.result import EQUITY_COLUMNS as RESULT_EQUITY_COLUMNS
from eventbt.results.result import TRADE_COLUMNS

if TYPE_CHECKING:
    from eventbt.portfolio import DividendRecord, SplitRecord
    from eventbt.replays.books import Books

__all__ = ["Finding", "compare_equity", "compare_signals", "compare_trades", "compare_weights", "expected_summary"]

EQUITY_COLUMNS = ["date", *RESULT_EQUITY_COLUMNS]  # the file's columns: the date index, then the frame's


@attrs.frozen(kw_only=True)
class Finding:
    """Where a file differs from the books: ``file``, ``row`` (1-based, header not counted), ``column``."""

    file: str
    row: int | None
    column: str | None
    expected: Any
    found: Any
    context: str = ""

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return " ".join(parts) + (f" ({self.context})" if self.context else "")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _day(value: Any) -> str:
    return str(value)[:10]


def _parsed_day(text: str) -> str | None:
    try:
        day = np.datetime64(text.strip(), "D")
    except ValueError:
        return None
    return None if np.isnat(day) else str(day)


def _columns(table: Any, expected: list[str], *, optional: Sequence[str] = ()) -> Finding | None:
    wanted = [c for c in expected if c not in optional or c in table.columns]
    if table.columns != wanted:
        return Finding(file=table.name, row=None, column=None, expected=expected, found=table.columns,
                       context="the header line")
    return None


def _row_count(table: Any, expected: int, what: str) -> Finding | None:
    if len(table.rows) == expected:
        return None
    row = min(len(table.rows), expected) + 1
    return Finding(file=table.name, row=row, column=None, expected=f"{expected} rows ({what})",
                   found=f"{len(table.rows)} rows")


def _cell(table: Any, number: int, column: str, expected: Any, text: str, *, exact: bool,
          context: str = "") -> Finding | None:
    """``text`` (the cell) against ``expected``: a day, a string, or a number (exactly or within the tolerance)."""
    same: bool
    if column == "date":
        same = _parsed_day(text) == expected
    elif isinstance(expected, str):
        same = text == expected
    else:
        value = _number(text)
        if value is None or math.isnan(value):
            same = False
        elif isinstance(expected, int) and not isinstance(expected, bool):
            same = value == expected
        else:
            same = value == expected if exact else near(float(expected), value)
    if same:
        return None
    return Finding(file=table.name, row=number, column=column, expected=expected, found=text, context=context)


def compare_trades(table: Any, books: Books, dates: np.ndarray) -> Finding | None:
    """One row per FillEvent, in delivery order, every column."""
    found = _columns(table, TRADE_COLUMNS)
    if found is not None:
        return found
    for number, (row, trade) in enumerate(zip(table.rows, books.trades, strict=False), start=1):
        context = (f"fill #{trade['fill_id']}: {_day(dates[trade['bar']])} {trade['side']} {trade['quantity']} "
                   f"{trade['symbol']}")
        expected = {**trade, "date": _day(dates[trade["bar"]])}
        for column, text in zip(TRADE_COLUMNS, row, strict=True):
            found = _cell(table, number, column, expected[column], text, exact=column != "realized_pnl",
                          context=context)
            if found is not None:
                return found
    return _row_count(table, len(books.trades), "one per FillEvent of the audit log")


def compare_signals(table: Any, books: Books, dates: np.ndarray, symbols: list[str]) -> Finding | None:
    """One row per SignalEvent: its date and each symbol's target weight (0 when not targeted)."""
    found = _columns(table, ["date", *symbols])
    if found is not None:
        return found
    for number, (row, (bar, weights)) in enumerate(zip(table.rows, books.signals, strict=False), start=1):
        expected: dict[str, Any] = {"date": _day(dates[bar]), **{s: float(weights.get(s, 0.0)) for s in symbols}}
        for column, text in zip(table.columns, row, strict=True):
            found = _cell(table, number, column, expected[column], text, exact=True,
                          context=f"the signal of {_day(dates[bar])}")
            if found is not None:
                return found
    return _row_count(table, len(books.signals), "one per SignalEvent of the audit log")


def compare_equity(table: Any, books: Books, dates: np.ndarray, *, margin: bool = False) -> Finding | None:
    """One row per bar marked: cash, positions value and total value as recomputed and as the log's snapshot
    says (exactly), and the bar's flow; in a margin account the longs' and the shorts' market value too."""
    found = _columns(table, EQUITY_COLUMNS + (EQUITY_EXPOSURE_COLUMNS if margin else []), optional=("flow",))
    if found is not None:
        return found
    for number, row in enumerate(table.rows[:len(books.bars)], start=1):
        i = number - 1
        bar = books.bars[i]
        day = _day(dates[bar])
        recomputed = {"date": day, "cash": books.cash[i], "positions_value": books.positions_value[i],
                      "total_value": books.total_value[i], "flow": books.flow[i]}
        if margin:
            recomputed.update(long_value=books.long_value[i], short_value=books.short_value[i])
        for column, text in zip(table.columns, row, strict=True):
            found = _cell(table, number, column, recomputed[column], text, exact=False, context=day)
            if found is not None:
                return found
        snapshot = books.snapshots.get(bar)
        if snapshot is not None:
            for column in ("cash", "positions_value", "total_value"):
                text = row[table.columns.index(column)]
                found = _cell(table, number, column, float(snapshot[column]), text, exact=True,
                              context=f"{day}, the audit log's SnapshotEvent")
                if found is not None:
                    return found
    return _row_count(table, len(books.bars), "one per bar marked")


def compare_weights(table: Any, books: Books, dates: np.ndarray, symbols: list[str], *,
                    margin: bool = False) -> Finding | None:
    """A row at the end of each bar that carried out a rebalance: market value / total value per symbol; in a
    margin account then the sums of the long, short, absolute and all weights."""
    found = _columns(table, ["date", *symbols, *(WEIGHT_EXPOSURE_COLUMNS if margin else [])])
    if found is not None:
        return found
    for number, (row, (bar, weights)) in enumerate(zip(table.rows, books.weights, strict=False), start=1):
        expected: dict[str, Any] = {"date": _day(dates[bar]), **{s: float(w) for s, w in zip(symbols, weights,
                                                                                             strict=True)}}
        if margin:
            sums = weight_exposures(np.asarray([weights], dtype=float))[0]
            expected.update({name: float(value) for name, value in zip(WEIGHT_EXPOSURE_COLUMNS, sums, strict=True)})
        for column, text in zip(table.columns, row, strict=True):
            found = _cell(table, number, column, expected[column], text, exact=False, context=_day(dates[bar]))
            if found is not None:
                return found
    return _row_count(table, len(books.weights), "one per bar that carried out a rebalance")


def expected_summary(books: Books, records: Sequence[Mapping[str, Any]], footer: Mapping[str, Any], config: Any,
                     dates: np.ndarray, *, warmup_bars: int = 0) -> dict[str, Any]:
    """``summary.json`` as the recomputed books give it: the figures of
    :func:`eventbt.results.metrics.summary_figures`, the costs of :func:`eventbt.results.costs.cost_attribution`,
    and how the run ended (from the footer)."""
    from eventbt.exact import fsum
    from eventbt.results.costs import cost_attribution
    from eventbt.results.metrics import summary_figures

    bar_dates = dates[np.asarray(books.bars, dtype=np.int64)]
    values = np.asarray(books.total_value, dtype=float)
    commission = fsum(np.asarray([t["commission"] for t in books.trades], dtype=float))
    slippage = fsum(np.asarray([t["slippage"] for t in books.trades], dtype=float))
    summary = summary_figures(dates=bar_dates, values=values, initial_cash=config.portfolio.initial_cash,
                              trades=len(books.trades), total_commission=commission, total_slippage=slippage,
                              flows=np.asarray(books.flow, dtype=float))
    status = footer.get("status")
    dead_letters = sum(1 for r in records if r.get("record") == "note" and r.get("code") == "dead_letter")
    summary.update(scenario=config.name, events=footer.get("events"), digest=footer.get("digest"),
                   complete=status == "completed", status=status, dead_letters=dead_letters)
    summary["costs"] = cost_attribution(commission=commission, slippage=slippage, fees=books.fees, values=values,
                                        dates=bar_dates)
    if books.fees_owed:
        summary["fees_owed"] = dict(sorted(books.fees_owed.items()))
    if config.data.corporate_actions:
        summary["dividends"] = _dividends(books)
    if config.run.warmup:
        summary["warmup_bars"] = warmup_bars
    if config.portfolio.margin:
        from eventbt.results.exposure import exposure_summary

        summary["exposure"] = exposure_summary(total_value=values, long_value=np.asarray(books.long_value, dtype=float),
                                               short_value=np.asarray(books.short_value, dtype=float),
                                               margin_calls=books.margin_calls)
    return summary


def _dividends(books: Books) -> dict[str, Any]:
    """``summary["dividends"]`` from the payments and splits the log booked, by the run's own
    :func:`~eventbt.results.income.dividend_summary` (exactly rounded sums)."""
    from types import SimpleNamespace

    from eventbt.results.income import dividend_summary

    # The booked rows are audit data (mappings); dividend_summary reads records' attributes.
    dividends = [SimpleNamespace(symbol=str(row["symbol"]), gross=float(row["gross"]),
                                 withholding_tax=float(row["withholding_tax"]), net=float(row["net"]))
                 for row in books.dividends]
    splits = [SimpleNamespace(cash_in_lieu=float(row["cash_in_lieu"])) for row in books.splits]
    return dividend_summary(cast("list[DividendRecord]", dividends), cast("list[SplitRecord]", splits))
