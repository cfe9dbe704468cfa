"""Prices given in memory, as pandas DataFrames, checked like a file and hashed for the audit log.

:func:`prices_from_frame` takes the two layouts bt and vectorbt users already have:

``wide``
    One column of closes per symbol, the dates as the index (a ``DatetimeIndex``) or as a ``date`` column.
``long``
    One row per date and symbol: ``date`` (a column, or the index), ``symbol`` (or ``ticker``), ``close`` and
    optionally ``open``, ``high``, ``low``, ``volume``.

The frame is read as arrays, not cell by cell: the columns go to float64 at once and the checks run on whole
arrays, with the same rules and messages as a file's (:func:`eventbt.data.checks.check_bars`: positive finite
prices, volume >= 0, low <= open/close <= high, at least one close per symbol; dates tz-naive, unique and
increasing). Where a frame could be read more than one way, a file's rule decides: date text is ``YYYY-MM-DD``
or ``M/D/YYYY`` (never day first, never a year and month alone), column names are stripped, and a text cell is
refused whatever it says; dates are taken from one place, the index or a date column, not both. A row of a
message is the frame's row number counted from 1. The :class:`PriceData` keeps the
frame's digest under ``name`` (default ``<prices DataFrame>``) in ``sources``: the SHA-256 of its dates,
symbols and every field's float64 bytes, so the audit header identifies in-memory prices as it identifies
files, and two frames with the same numbers have the same digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from eventbt.data.checks import (
    DATE_NAMES,
    EARLIEST,
    LATEST,
    SYMBOL_NAMES,
    check_bars,
    find_column,
    float32_symbols,
    is_narrow_float,
    iso,
    multi_level_columns,
    parse_bound,
    read_date_text,
)
from eventbt.errors import DataError, did_you_mean
from eventbt.prices import FIELDS, PriceData

__all__ = ["IN_MEMORY_NAME", "PRICE_DATA_NAME", "data_label", "prices_digest", "prices_from_frame"]

IN_MEMORY_NAME = "<prices DataFrame>"
"""How in-memory prices are named in messages and in the audit header's ``data_files``."""

PRICE_DATA_NAME = "<prices PriceData>"
"""How prices given as a :class:`PriceData` without ``sources`` (built in Python) are named: in the audit header's
``data_files`` and in messages."""


def data_label(prices: PriceData, path: str) -> str:
    """What messages call a run's prices: ``<prices DataFrame>`` for a frame's, else ``path``, the scenario's
    ``[data] path`` (a PriceData built in Python is named by it too: it stands for the scenario's data, as in the
    tests and sweeps that build one; its audit header names it :data:`PRICE_DATA_NAME`)."""
    return IN_MEMORY_NAME if IN_MEMORY_NAME in prices.sources else path

_BAR_FIELDS = frozenset({"open", "high", "low", "close"})
_NUMBER_KINDS = {"integer": "integers", "floating": "numbers", "mixed-integer-float": "numbers",
                 "decimal": "numbers"}
_INDEX_TZ_FIX = "frame.tz_localize(None)"
_Cell = Callable[[int, int], tuple[str, str, str, int]]
"""The field, symbol, date (ISO) and frame row of the cell at a (row, column) of the values being converted."""


def prices_from_frame(frame: pd.DataFrame, *, name: str = IN_MEMORY_NAME, symbols: Sequence[str] | None = None,
                      start: str | None = None, end: str | None = None) -> PriceData:
    """Check ``frame`` (wide or long, see the module docstring) and return it as a :class:`PriceData`.

    ``symbols`` keeps a subset (each must be in the frame); ``start`` and ``end`` (ISO dates) cut the dates
    inclusively, as for a file. Every problem is a :class:`~eventbt.errors.DataError` naming ``name``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"prices must be a pandas DataFrame (wide or long), got {type(frame).__name__}", path=name)
    if len(frame.columns) == 0:
        raise _no_price_columns(len(frame), name)
    if frame.empty:
        raise DataError("has no rows; expected at least one row of prices", path=name)
    if isinstance(frame.columns, pd.MultiIndex):
        raise multi_level_columns(frame.columns, name)
    stripped = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    if stripped != list(frame.columns):  # a file's rule: 'AAA ' is AAA (two names that become one are refused)
        frame = frame.set_axis(stripped, axis=1)
    _dates_in_one_place(frame, name)
    if isinstance(frame.index, pd.MultiIndex):  # a (date, symbol) index: its levels are the long layout's columns
        frame = frame.reset_index()
    symbol_column = find_column(pd.Index([str(c) for c in frame.columns]), SYMBOL_NAMES)
    if symbol_column is not None:
        dates, chosen, fields, rows = _long(frame, symbol_column, name, symbols)
    else:
        dates, chosen, fields, rows = _wide(frame, name, symbols)
    for j, symbol in enumerate(chosen):
        check_bars({field: values[:, j] for field, values in fields.items()}, symbol=symbol, dates=dates,
                   rows=rows[:, j], path=name)
    dates, fields = _cut(dates, fields, parse_bound(start, "start", name), parse_bound(end, "end", name), name)
    narrow, half = _narrow_columns(frame, chosen)
    return PriceData(dates=dates, symbols=chosen, float32_symbols=float32_symbols(narrow, chosen),
                     float16_symbols=float32_symbols(half, chosen),
                     close=fields["close"], open=fields.get("open"),
                     high=fields.get("high"), low=fields.get("low"), volume=fields.get("volume"),
                     sources={name: _digest(dates, chosen, fields)})


def _narrow_columns(frame: pd.DataFrame, chosen: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """The names of the price columns (a chosen symbol's, or a long frame's fields) that hold 32- or 16-bit
    floats, and of those that hold 16-bit ones: a column of that type, or an ``object`` column holding numpy
    scalars of it (widened as a float32 column is, and not seen in its type)."""
    narrow: set[str] = set()
    half: set[str] = set()
    for j, dtype in enumerate(frame.dtypes):
        label = str(frame.columns[j])
        if label not in chosen and label.lower() not in _BAR_FIELDS:
            continue
        if _holds_objects(dtype):
            held = set(frame.iloc[:, j].map(type))
            singles, halves = np.float32 in held, np.float16 in held
        else:
            halves = dtype == np.dtype(np.float16)
            singles = is_narrow_float(dtype) and not halves
        if singles or halves:
            narrow.add(label)
        if halves and not singles:
            half.add(label)
    return narrow, half


def _no_price_columns(rows: int, name: str) -> DataError:
    """A frame of dates alone (or of nothing): it has no prices, whether it has rows or not."""
    some = f"{rows} row{'s' if rows != 1 else ''} but " if rows else ""
    return DataError(f"has {some}no price columns; expected a column of closes per symbol (wide), or date, symbol "
                     "and close columns (long)", path=name)


def _dates(values: pd.Index | pd.Series, rows: np.ndarray, name: str, tz_fix: str) -> np.ndarray:
    """Dates as ``datetime64[ns]`` at midnight, tz-naive; an unreadable one is named with its row (``rows`` holds
    the frame's row of each value). Numbers are refused (pandas would read 20200102 as nanoseconds after 1970),
    and so are dates outside what ``datetime64[ns]`` holds (a unit of seconds or a ``datetime.date`` may hold the
    year 2620). Text is read by a file's rule (:func:`~eventbt.data.checks.read_date_text`: ``YYYY-MM-DD`` or
    ``M/D/YYYY``, one format for all), not guessed at: pandas would read ``01.02.2021`` as January 2nd and
    ``2021-01`` as the 1st. ``tz_fix`` says how to drop a time zone."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    kind = _NUMBER_KINDS.get(inferred)
    if kind is not None:
        given = np.asarray(values)
        first = given[~pd.isna(given)][0]
        raise DataError(f"dates are {kind} ({first}); expected datetimes or ISO date text", path=name)
    cells = pd.Series(np.asarray(values))
    missing = cells.isna().to_numpy()
    if missing.any():
        row = int(rows[np.argmax(missing)])
        raise DataError(f"row {row} has no date; expected a date on every row", path=name, row=row)
    if inferred == "string" or (inferred.startswith("mixed") and cells.map(lambda v: isinstance(v, str)).any()):
        # text is read by a file's rule, and so is every date beside it (a Timestamp as its ISO text)
        texts, parsed, zones = read_date_text(cells if inferred == "string" else cells.map(str), rows, name)
        if zones is not None and zones.notna().any():
            i = int(np.argmax(zones.notna().to_numpy()))
            raise DataError(f"date {texts.iloc[i]!r} (row {rows[i]}) carries a time zone ({zones.iloc[i]}); "
                            "expected tz-naive dates (market time): write them without it", path=name,
                            row=int(rows[i]))
    else:
        try:
            parsed = pd.to_datetime(cells, errors="raise")
        except (ValueError, TypeError) as exc:
            raise DataError(f"has a date that cannot be read ({exc}); expected dates or ISO text",
                            path=name) from None
    if parsed.dt.tz is not None:
        raise DataError(f"dates carry a time zone ({parsed.dt.tz}); expected tz-naive dates (market time): "
                        f"drop the zone, keeping each date as written, with {tz_fix}", path=name)
    outside = ((parsed < EARLIEST) | (parsed > LATEST)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        day = parsed.iloc[i]
        shown = str(day.date()) if day == day.normalize() else str(day)
        raise DataError(f"date {shown!r} (row {rows[i]}) is outside the supported range {EARLIEST.date()} .. "
                        f"{LATEST.date()}", path=name, row=int(rows[i]))
    days = parsed.to_numpy(dtype="datetime64[ns]")
    timed = days != days.astype("datetime64[D]").astype("datetime64[ns]")
    if timed.any():
        i = int(np.argmax(timed))
        raise DataError(f"row {rows[i]} has a time of day ({parsed.iloc[i]}); expected daily dates",
                        path=name, row=int(rows[i]))
    return days


def _numbers(values: pd.DataFrame, kind: str, name: str, cell: _Cell) -> np.ndarray:
    """``values`` as float64 (None, NaN and pd.NA as NaN); a True or False (which float64 would take as 1 or 0)
    is refused naming the column (``kind`` says what it is), text naming its cell through ``cell``.

    Text is refused whatever it says: float64 would read ``'100.5'`` and ``'nan'`` but not ``'NA'`` or ``'#N/A'``,
    and a frame's cells are numbers or missing, one rule. The whole frame is converted in one call; only when
    that fails are the columns, then the cells, looked at one by one (an object column holding pd.NA converts
    there, with its missing values as NaN).
    """
    for j, dtype in enumerate(values.dtypes):
        column = values.iloc[:, j]
        held = column.map(type) if _holds_objects(dtype) else None
        if pd.api.types.is_bool_dtype(dtype) or (held is not None and held.map(
                lambda t: issubclass(t, bool | np.bool_)).any()):
            label = str(values.columns[j])
            raise DataError(f"{kind} {label!r} holds True/False values; expected numbers or NaN", path=name,
                            symbol=label if kind == "a symbol column" else None)
        if held is not None:
            text = held.map(lambda t: issubclass(t, str)).to_numpy(dtype=bool)
            if text.any():
                i = int(np.argmax(text))
                field, symbol, day, row = cell(i, j)
                label = str(values.columns[j])
                raise DataError(f"{field} for {symbol!r} on {day} (row {row}) is the text {column.iloc[i]!r}; "
                                "expected a number or NaN (convert the column first, e.g. "
                                f"frame[{label!r}] = pd.to_numeric(frame[{label!r}]))", path=name, symbol=symbol,
                                date=day, row=row)
    try:
        return np.asarray(values.to_numpy(dtype=float), dtype=float)
    except (ValueError, TypeError):
        return np.column_stack([_column_numbers(values.iloc[:, j], j, name, cell) for j in range(values.shape[1])])


def _holds_objects(dtype: object) -> bool:
    """Whether a column of this type may hold text or Python objects (numpy ``object``, pandas' string types)."""
    return (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype)


def _column_numbers(column: pd.Series, j: int, name: str, cell: _Cell) -> np.ndarray:
    """Column ``j`` of the values as float64, its missing values (None, pd.NA) as NaN; else its first cell that
    is not a number, named with its field, symbol, date and row."""
    try:
        return np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (ValueError, TypeError):
        pass
    missing = column.isna().to_numpy()
    for i, value in enumerate(column.to_numpy(dtype=object).tolist()):
        if missing[i]:
            continue
        try:
            float(value)
        except (ValueError, TypeError):
            field, symbol, day, row = cell(i, j)
            raise DataError(f"{field} for {symbol!r} on {day} (row {row}) is {str(value)!r}; expected a number or "
                            "NaN", path=name, symbol=symbol, date=day, row=row) from None
    raise DataError(f"column {str(column.name)!r} holds values that are not numbers; expected numbers or NaN",
                    path=name)


def _choose(available: Sequence[str], wanted: Sequence[str] | None, name: str) -> tuple[str, ...]:
    if len(set(available)) != len(available):
        duplicate = next(s for s in available if list(available).count(s) > 1)
        raise DataError(f"symbol {duplicate!r} appears twice; expected each symbol once", path=name, symbol=duplicate)
    if wanted is None:
        return tuple(sorted(available))
    for symbol in wanted:
        if symbol not in available:
            raise DataError(f"symbol {symbol!r} is not in the frame{did_you_mean(symbol, tuple(available))}; it has "
                            f"{', '.join(sorted(available))}", path=name, symbol=symbol)
    return tuple(sorted(set(wanted)))


def _ordered(dates: np.ndarray, name: str) -> None:
    steps = np.diff(dates)
    if (steps <= np.timedelta64(0, "ns")).any():
        i = int(np.argmax(steps <= np.timedelta64(0, "ns")))
        how = "repeats" if dates[i + 1] == dates[i] else "comes before the date above it"
        raise DataError(f"date {iso(dates[i + 1])} (row {i + 2}) {how}; expected increasing dates", path=name,
                        date=iso(dates[i + 1]), row=i + 2)


_Read = tuple[np.ndarray, tuple[str, ...], dict[str, np.ndarray], np.ndarray]
"""The dates, the symbols chosen, each field's values and each value's row in the frame (counted from 1)."""


def _wide(frame: pd.DataFrame, name: str, wanted: Sequence[str] | None) -> _Read:
    _one_symbols_bars(frame, name)
    rows = np.arange(1, len(frame) + 1)
    date_column = find_column(pd.Index([str(c) for c in frame.columns]), DATE_NAMES)
    if date_column is not None:
        column = next(c for c in frame.columns if str(c) == date_column)
        dates, body = _dates(frame[column], rows, name, _column_tz_fix(column)), frame.drop(columns=[column])
    elif isinstance(frame.index, pd.DatetimeIndex) or frame.index.dtype == object or \
            pd.api.types.is_string_dtype(frame.index.dtype):  # pandas 3 reads text as str, not object
        dates, body = _dates(frame.index, rows, name, _INDEX_TZ_FIX), frame
    else:
        raise DataError("has no dates: expected a DatetimeIndex or a 'date' column", path=name)
    if len(body.columns) == 0:
        raise _no_price_columns(len(frame), name)
    _ordered(dates, name)
    chosen = _choose([str(c) for c in body.columns], wanted, name)
    by_name = {str(c): c for c in body.columns}
    close = _numbers(body[[by_name[s] for s in chosen]], "a symbol column", name,
                     lambda i, j: ("close", chosen[j], iso(dates[i]), i + 1))
    return dates, chosen, {"close": np.ascontiguousarray(close)}, np.broadcast_to(rows[:, None], close.shape)


def _one_symbols_bars(frame: pd.DataFrame, name: str) -> None:
    """A wide frame with open, high, low and close columns holds one symbol's bars (yfinance's ``history()``,
    a ``read_csv`` of one symbol's file): refused as the same file is, rather than each column traded as a symbol."""
    lowered = {str(c).lower(): str(c) for c in frame.columns}
    if _BAR_FIELDS.issubset(lowered):
        close = lowered["close"]
        zoned = ".tz_localize(None)" if getattr(frame.index, "tz", None) is not None else ""
        raise DataError(
            "has open, high, low and close columns, the bars of one symbol; expected one close column per symbol "
            f"(for one symbol's bars pass a long frame with a symbol column, or frame[[{close!r}]].rename("
            f"columns={{{close!r}: 'AAPL'}}){zoned})", path=name)


def _long(frame: pd.DataFrame, symbol_column: str, name: str, wanted: Sequence[str] | None) -> _Read:
    dated_index = _dates_in_index(frame.index)
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.name is None:  # the dates, as a wide frame takes it
        frame = frame.rename_axis("date")
    table = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    _columns_once(table.columns, name)
    columns = {str(c).lower(): c for c in table.columns}
    date_name = next((columns[n] for n in DATE_NAMES if n in columns), None)
    if date_name is None:
        raise DataError("has a symbol column but no 'date' column; expected date, symbol, close", path=name)
    if "close" not in columns:
        raise DataError("has no 'close' column; expected date, symbol, close and optionally open, high, low, "
                        "volume", path=name)
    given = table[next(c for c in table.columns if str(c) == symbol_column)]
    labels = given.astype(str).str.strip()
    empty = given.isna().to_numpy() | (labels == "").to_numpy()
    if empty.any():
        row = int(np.argmax(empty)) + 1
        raise DataError(f"row {row} has no symbol; expected one in {symbol_column!r}", path=name, row=row)
    chosen = _choose(sorted(set(labels)), wanted, name) if wanted is not None else tuple(sorted(set(labels)))
    keep = labels.isin(chosen).to_numpy()
    table, labels, rows = table[keep], labels[keep], np.flatnonzero(keep) + 1
    row_dates = _dates(table[date_name], rows, name, _INDEX_TZ_FIX if dated_index else _column_tz_fix(date_name))
    dates = np.unique(row_dates)
    row_at, column_at = np.searchsorted(dates, row_dates), np.searchsorted(np.array(chosen), labels.to_numpy())
    pairs = row_at.astype(np.int64) * len(chosen) + column_at
    if len(np.unique(pairs)) != len(pairs):
        seen = np.zeros(len(dates) * len(chosen), dtype=bool)
        for k, pair in enumerate(pairs.tolist()):
            if seen[pair]:
                symbol, day = chosen[column_at[k]], iso(dates[row_at[k]])
                raise DataError(f"{symbol!r} has two rows for {day}; expected one row per date and symbol",
                                path=name, symbol=symbol, date=day)
            seen[pair] = True
    frame_rows = np.zeros((len(dates), len(chosen)), dtype=np.int64)
    frame_rows[row_at, column_at] = rows
    fields: dict[str, np.ndarray] = {}
    for field in FIELDS:
        if field in columns:
            grid = np.full((len(dates), len(chosen)), np.nan)
            cell = _long_cell(field, labels.to_numpy(), row_dates, rows)
            grid[row_at, column_at] = _numbers(table[[columns[field]]], "a price column", name, cell)[:, 0]
            fields[field] = grid
    return dates, chosen, fields, frame_rows


def _dates_in_index(index: pd.Index) -> bool:
    """Whether an index holds dates: a ``DatetimeIndex``, or one named date, day or datetime."""
    return isinstance(index, pd.DatetimeIndex) or any(str(level).lower() in DATE_NAMES for level in index.names
                                                      if level is not None)


def _dates_in_one_place(frame: pd.DataFrame, name: str) -> None:
    """Dates in the index and in a date column as well (two sources that may disagree, or a ``set_index('date',
    drop=False)``) are refused rather than one of them used; so is any index level named as a column."""
    columns = [str(c) for c in frame.columns]
    date_column = find_column(pd.Index(columns), DATE_NAMES)
    if date_column is not None and _dates_in_index(frame.index):
        named = [str(level) for level in frame.index.names if level is not None]
        index = f"its index ({', '.join(map(repr, named))})" if named else "its index (a DatetimeIndex)"
        raise DataError(f"has dates in {index} and in column {date_column!r}; expected them in one place: drop one "
                        f"(frame.drop(columns={date_column!r}), or frame.reset_index(drop=True))", path=name)
    for level in frame.index.names:
        if level is not None and str(level) in columns:
            raise DataError(f"has {str(level)!r} as an index level and as a column; expected it once: drop one "
                            f"(frame.drop(columns={str(level)!r}), or frame.reset_index(drop=True))", path=name)


def _column_tz_fix(column: object) -> str:
    """How to drop the time zone of the dates in ``column``, keeping each date as written."""
    return f"frame[{column!r}] = frame[{column!r}].dt.tz_localize(None)"


def _columns_once(columns: pd.Index, name: str) -> None:
    """Each of date, symbol and the price fields in one column: a name twice (a ``concat(axis=1)``) or two
    names for one field (``close`` and ``Close``) is refused, as in a file, rather than one of them used."""
    given = [str(c) for c in columns]
    fields: dict[str, str] = {}
    for column in given:
        lowered = column.lower()
        if lowered in FIELDS or lowered in DATE_NAMES or lowered in SYMBOL_NAMES:
            if given.count(column) > 1:
                raise DataError(f"column {column!r} appears twice; expected each once", path=name)
            if lowered in fields:
                raise DataError(f"columns {fields[lowered]!r} and {column!r} both give {lowered}; expected one",
                                path=name)
            if lowered in FIELDS:
                fields[lowered] = column


def _long_cell(field: str, labels: np.ndarray, row_dates: np.ndarray, rows: np.ndarray) -> _Cell:
    """Where a cell of a long frame's ``field`` column is: its row's symbol, date and frame row."""
    return lambda i, _: (field, str(labels[i]), iso(row_dates[i]), int(rows[i]))


def _cut(dates: np.ndarray, fields: dict[str, np.ndarray], first: np.datetime64 | None,
         last: np.datetime64 | None, name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    keep = np.ones(len(dates), dtype=bool)
    if first is not None:
        keep &= dates >= first
    if last is not None:
        keep &= dates <= last
    if not keep.any():
        raise DataError(f"no dates between the start and end asked for; it has {iso(dates[0])} to {iso(dates[-1])}",
                        path=name)
    if keep.all():
        return dates, fields
    return dates[keep], {field: np.ascontiguousarray(values[keep]) for field, values in fields.items()}


def prices_digest(prices: PriceData) -> str:
    """The SHA-256 of a panel's dates, symbols and every field's float64 bytes (:func:`_digest`): what the audit
    header records for prices given in memory, a DataFrame's (once cut) or a PriceData's alike."""
    fields = {field: values for field in FIELDS if (values := getattr(prices, field)) is not None}
    return _digest(prices.dates, prices.symbols, fields)


def _digest(dates: np.ndarray, symbols: tuple[str, ...], fields: dict[str, np.ndarray]) -> str:
    """SHA-256 of the dates, the symbols and each field's float64 bytes, in a fixed order."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(dates.astype("datetime64[ns]").astype(np.int64)).tobytes())
    digest.update("\x1f".join(symbols).encode())
    for field in FIELDS:
        if field in fields:
            digest.update(field.encode())
            digest.update(np.ascontiguousarray(fields[field], dtype=np.float64).tobytes())
    return digest.hexdigest()
