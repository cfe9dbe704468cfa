"""Corporate actions read with the prices: a price file's own action columns, or an actions file.

``[data] corporate_actions`` names the source (see ``docs/corporate-actions.md``):

``"columns"``
    the price file's columns: ``split_ratio`` (new shares per old share on the ex-date; 1 or empty on other
    days) and ``dividend`` or Quandl's ``ex-dividend`` (cash per share going ex that day; 0 or empty on other
    days), in a long file or a folder of per-symbol files;
a path
    an actions file, one row per action: ``date,symbol,type,value`` with ``type`` ``split`` (``value``: the
    ratio) or ``dividend`` (``value``: cash per share), and optionally ``pay_date`` (a dividend's pay date).

The functions here take frames the loaders have parsed (every cell text, the index the 1-based data row) and
return the :class:`~eventbt.prices.CorporateAction` rows they hold with the problems they found, each a
one-line :class:`~eventbt.errors.DataError` naming the file, the row, the symbol and the date. The loaders
raise the first problem; ``eventbt validate`` lists them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from eventbt.data.checks import MISSING_TEXT, SYMBOL_NAMES, find_column, iso, parse_dates, parse_numbers
from eventbt.errors import DataError
from eventbt.prices import CorporateAction
from eventbt.protocols import ACTION_TYPES

__all__ = ["COLUMNS", "DIVIDEND_COLUMNS", "FILE_COLUMNS", "FILE_NAMES", "MAX_SPLIT_RATIO", "SPLIT_COLUMNS",
           "action_columns", "check_against_prices", "column_actions", "file_actions"]

COLUMNS = "columns"
"""The ``[data] corporate_actions`` value that reads the price file's own action columns."""
SPLIT_COLUMNS = ("split_ratio",)
DIVIDEND_COLUMNS = ("dividend", "ex-dividend", "ex_dividend")
FILE_COLUMNS = "date, symbol, type, value (and optionally pay_date)"
#: The names of an actions file's columns, lower-cased; any other column is refused (it would be ignored).
FILE_NAMES = ("date", *SYMBOL_NAMES, "type", "value", "pay_date")
#: The largest split ratio accepted, and its inverse the smallest (a reverse split): real splits stay far
#: inside (the largest forward splits are tens for one, the deepest reverse splits a few thousand to one),
#: while a ratio beyond is a typo or a unit mix-up that would take a position past the shares a book holds.
MAX_SPLIT_RATIO = 10_000.0
SPLIT_RANGE = f"a ratio from {1 / MAX_SPLIT_RATIO:g} to {MAX_SPLIT_RATIO:g}"

Report = Callable[[DataError], None]
"""Where a problem goes: ``raise`` it (a run) or keep it (``eventbt validate``)."""


def action_columns(frame: pd.DataFrame, name: str) -> dict[str, str]:
    """``{"split": column, "dividend": column}`` for the action columns the price file has (at least one)."""
    found = {kind: column for kind, names in (("split", SPLIT_COLUMNS), ("dividend", DIVIDEND_COLUMNS))
             if (column := find_column(frame.columns, names)) is not None}
    if not found:
        raise DataError("has no split_ratio or dividend (ex-dividend) column, which [data] corporate_actions = "
                        f"'columns' reads; found {', '.join(map(str, frame.columns))} (or name an actions file "
                        "instead)", path=name)
    return found


def column_actions(frame: pd.DataFrame, columns: Mapping[str, str], symbol: str, dates: np.ndarray, name: str,
                   report: Report) -> list[CorporateAction]:
    """The actions in one symbol's rows of a price file (``frame``, its ``dates``): each split ratio other than 1
    and each dividend other than 0; an empty cell is none. A ratio <= 0 or outside 1/:data:`MAX_SPLIT_RATIO` ..
    :data:`MAX_SPLIT_RATIO`, or a negative dividend, is a problem."""
    rows = frame.index.to_numpy()
    found: list[CorporateAction] = []
    for kind, column in sorted(columns.items()):
        values = parse_numbers(frame[column], field=column, symbol=symbol, dates=dates, path=name)
        if kind == "split":
            wrong = ~(np.isnan(values) | (values > 0))
            expected = "a ratio > 0 (new shares per old share; 1 or empty on other days)"
            present = ~np.isnan(values) & (values != 1.0) & (values > 0)
        else:
            wrong = ~(np.isnan(values) | (values >= 0))
            expected = "an amount per share >= 0 (0 or empty on other days)"
            present = ~np.isnan(values) & (values > 0)
        wrong |= np.isinf(values)
        far = ~wrong & _far_ratio(values) if kind == "split" else np.zeros(len(values), dtype=bool)
        for i in np.flatnonzero(wrong | far).tolist():
            day = iso(dates[i])
            shown = f"{SPLIT_RANGE} (new shares per old share)" if far[i] else expected
            report(DataError(f"{column} for {symbol!r} on {day} (row {rows[i]}) is {float(values[i])!r}; expected "
                             f"{shown}", path=name, symbol=symbol, date=day, row=int(rows[i])))
        present &= ~(wrong | far)
        found.extend(CorporateAction(date=iso(dates[i]), symbol=symbol, kind=kind, value=float(values[i]),
                                     source=name, row=int(rows[i])) for i in np.flatnonzero(present).tolist())
    return found


def _far_ratio(values: np.ndarray) -> np.ndarray:
    """Where a split ratio > 0 lies outside 1/:data:`MAX_SPLIT_RATIO` .. :data:`MAX_SPLIT_RATIO`."""
    with np.errstate(invalid="ignore"):
        return (values > 0) & ((values < 1 / MAX_SPLIT_RATIO) | (values > MAX_SPLIT_RATIO))


def _unknown_columns(frame: pd.DataFrame, name: str) -> None:
    """Refuse a column an actions file does not read (a ``currency`` would otherwise be ignored, its values
    taken in the account's currency); a column without a header and without a value is a trailing comma."""
    for column in map(str, frame.columns):
        if column.lower() in FILE_NAMES:
            continue
        if column.startswith("Unnamed: ") and not frame[column].astype(str).str.strip().ne("").any():
            continue
        raise DataError(f"column {column!r} is not read; expected only the columns date, symbol (or ticker), "
                        "type, value and pay_date (a split's value is a ratio, a dividend's cash per share in the "
                        "account's currency)", path=name)


def _column(frame: pd.DataFrame, names: Sequence[str], name: str) -> str:
    found = find_column(frame.columns, names)
    if found is None:
        raise DataError(f"no {names[0]!r} column; expected columns {FILE_COLUMNS}; found "
                        f"{', '.join(map(str, frame.columns))}", path=name)
    return found


def file_actions(frame: pd.DataFrame, name: str, report: Report) -> list[CorporateAction]:
    """The rows of an actions file (``date,symbol,type,value[,pay_date]``), each checked on its own.

    A missing column, a column it does not read or an unreadable date column is raised at once (nothing can be
    read); a row with an unknown type, a value that is not a number, a ratio <= 0 or outside
    1/:data:`MAX_SPLIT_RATIO` .. :data:`MAX_SPLIT_RATIO`, a dividend <= 0, a pay date before its ex-date or a
    repeat of an earlier row's date, symbol and type is reported and left out.
    """
    _unknown_columns(frame, name)
    date_in = _column(frame, ("date",), name)
    symbol_in = _column(frame, SYMBOL_NAMES, name)
    type_in = _column(frame, ("type",), name)
    value_in = _column(frame, ("value",), name)
    pay_in = find_column(frame.columns, ("pay_date",))
    dates = parse_dates(frame[date_in], name)
    pays = frame[pay_in].astype(str).str.strip() if pay_in is not None else None
    paid = parse_dates(pays[~pays.isin(MISSING_TEXT)], name, field="pay_date") if pays is not None else np.array([])
    pay_of = dict(zip(pays[~pays.isin(MISSING_TEXT)].index.tolist(), paid, strict=True)) if pays is not None else {}
    seen: dict[tuple[str, str, str], int] = {}
    found: list[CorporateAction] = []
    for i, row in enumerate(frame.index.tolist()):
        day = iso(dates[i])
        symbol = str(frame.at[row, symbol_in]).strip()
        kind = str(frame.at[row, type_in]).strip().lower()
        text = str(frame.at[row, value_in]).strip()

        def problem(message: str, *, day: str = day, symbol: str = symbol, row: int = row) -> None:
            report(DataError(message, path=name, symbol=symbol or None, date=day, row=int(row)))

        if not symbol:
            problem(f"row {row} has no symbol; expected one in {symbol_in!r}")
            continue
        if kind not in ACTION_TYPES:
            problem(f"type for {symbol!r} on {day} (row {row}) is {kind!r}; expected "
                    f"{' or '.join(repr(t) for t in ACTION_TYPES)}")
            continue
        what = "split ratio" if kind == "split" else "dividend"
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            expected = "a ratio > 0 (new shares per old share)" if kind == "split" else "an amount per share > 0"
            shown = repr(value) if value == value else repr(text)  # a number as a number, other text quoted
            problem(f"{what} for {symbol!r} on {day} (row {row}) is {shown}; expected {expected}")
            continue
        if kind == "split" and _far_ratio(np.array([value]))[0]:
            problem(f"split ratio for {symbol!r} on {day} (row {row}) is {value!r}; expected {SPLIT_RANGE} (new "
                    "shares per old share)")
            continue
        pay_date = iso(pay_of[row]) if row in pay_of else ""
        if pay_date and kind == "split":
            problem(f"split for {symbol!r} on {day} (row {row}) has a pay_date; expected pay_date only on dividends")
            continue
        if pay_date and pay_date < day:
            problem(f"pay_date {pay_date} for {symbol!r} (row {row}) is before its ex-date {day}; expected a pay date "
                    "on or after the ex-date")
            continue
        key = (day, symbol, kind)
        if key in seen:
            problem(f"{kind} for {symbol!r} on {day} appears twice (rows {seen[key]} and {row}); expected one row "
                    "per date, symbol and type")
            continue
        seen[key] = row
        found.append(CorporateAction(date=day, symbol=symbol, kind=kind, value=value, pay_date=pay_date, source=name,
                                     row=int(row)))
    return found


def check_against_prices(actions: Sequence[CorporateAction], *, available: Sequence[str], chosen: Sequence[str],
                         dates: np.ndarray, close: np.ndarray, report: Report) -> list[CorporateAction]:
    """The actions of the ``chosen`` symbols that fit the prices (``dates`` x ``chosen`` closes, before any cut).

    A symbol the price data does not have at all is a problem; one it has but the scenario did not choose is
    left out quietly. An action must fall on a date with a close for its symbol (its ex-date is a trading
    day), and a dividend must be below the previous close (else the price would have to fall to zero or
    below).
    """
    index = {symbol: j for j, symbol in enumerate(chosen)}
    known = set(available)
    kept = []
    priced_bars: dict[int, np.ndarray] = {}  # the bars with a close, per symbol (found once)
    for action in actions:
        where = f"(row {action.row})"

        def problem(message: str, action: CorporateAction = action) -> None:
            report(DataError(message, path=action.source, symbol=action.symbol, date=action.date, row=action.row))

        if action.symbol not in known:
            problem(f"symbol {action.symbol!r} on {action.date} {where} is not in the price data; expected one of "
                    f"{', '.join(sorted(known))}")
            continue
        j = index.get(action.symbol)
        if j is None:
            continue
        priced = priced_bars.get(j)
        if priced is None:
            priced = priced_bars[j] = np.flatnonzero(~np.isnan(close[:, j]))
        at = int(np.searchsorted(dates[priced], np.datetime64(action.date, "ns")))
        first, last = iso(dates[priced[0]]), iso(dates[priced[-1]])
        if at == len(priced) or action.date < first:
            problem(f"date {action.date} for {action.symbol!r} {where} is outside its prices ({first} .. {last}); "
                    "expected an ex-date with a price")
            continue
        if iso(dates[priced[at]]) != action.date:
            before, after = iso(dates[priced[at - 1]]), iso(dates[priced[at]])
            problem(f"date {action.date} for {action.symbol!r} {where} has no price (the nearest are {before} and "
                    f"{after}); expected an ex-date with a price")
            continue
        if action.kind == "dividend" and at > 0:
            previous = float(close[priced[at - 1], j])
            if action.value >= previous:
                problem(f"dividend for {action.symbol!r} on {action.date} {where} is {action.value:g}, not below the "
                        f"previous close {previous:g}; expected an amount per share below the price")
                continue
        kept.append(action)
    return kept
