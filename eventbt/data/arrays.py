"""Reading a regular price file as whole arrays: the loaders' fast path.

Most price files are regular: comma-separated text without quotes or blank lines, the same number of fields
on every line, a header of distinct names, dates in one format and numbers (or empty cells) elsewhere. For
those, :func:`regular_csv` parses the whole file with pandas' C parser in one call, and :func:`wide_panel`
and :func:`long_panel` build the dates x symbols panel and check it with whole-array operations: no Python
object per cell, no per-symbol frames, no extra copy of the panel.

Anything irregular, and any problem at all, makes these functions return ``None``; the loaders then read the
file the careful way (:mod:`eventbt.data.loaders`), cell by cell, which names the file, row, symbol and date
of the first problem. So a good file loads fast and a bad one fails exactly as before, and the two paths give
the same :class:`~eventbt.prices.PriceData` for every file the fast path takes
(``tests/eventbt/test_fast_loading.py`` checks that on the shipped data and on thousands of damaged files).
Corporate-action columns are read by the careful path only.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from eventbt.data.checks import (
    DATE_NAMES,
    MAX_PRICE,
    NO_SYMBOL_TEXT,
    SYMBOL_NAMES,
    bar_problem_masks,
    check_date_order,
    date_column,
    field_columns,
    find_column,
    parse_dates,
    parse_numbers,
    symbol_columns,
)
from eventbt.errors import DataError
from eventbt.prices import MissingText

__all__ = ["Panel", "long_panel", "parquet_panel", "regular_csv", "wide_panel"]

_EXACT_INTEGERS = 2**53  # integers above this do not all have a float of their own
assert MAX_PRICE < _EXACT_INTEGERS  # so a close read as a float is exact, or refused as too large
_COLUMNS_PER_READ = 64


class Panel(NamedTuple):
    """What a fast read gives the loaders: the dates, the chosen symbols and their fields as 2-D arrays."""

    dates: np.ndarray
    symbols: tuple[str, ...]
    fields: dict[str, np.ndarray]
    available: tuple[str, ...]
    missing_text: tuple[MissingText, ...]
    float32_columns: frozenset[str] = frozenset()  # the source's columns of 32- (or 16-) bit floats


def regular_csv(text: str) -> pd.DataFrame | None:
    """``text`` parsed as a whole, every cell a float, an integer, or (where any cell of the column is not a
    number) text, rows indexed 1, 2, ...; ``None`` when the file is not plainly regular."""
    if '"' in text or not text or text[0].isspace() or "\n\n" in text or "\n\r\n" in text:
        return None
    header = text.split("\n", 1)[0].rstrip("\r").split(",")
    if len(header) < 2 or any(cell != cell.strip() for cell in header) or len(set(header)) != len(header):
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if text.count(",") != (len(header) - 1) * lines:  # no line with fewer fields (more are a parser error)
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), engine="c", keep_default_na=False, na_values=[""], low_memory=False,
                            on_bad_lines="error")
    except (ValueError, OverflowError):  # pandas' ParserError is a ValueError
        return None
    if len(frame) != lines - 1 or list(frame.columns) != [cell or f"Unnamed: {i}" for i, cell in enumerate(header)]:
        return None
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _numbers(frame: pd.DataFrame, columns: list[str], *, field: str, dates: np.ndarray, name: str,
             markers: list[MissingText]) -> np.ndarray | None:
    """The columns as one float64 array, or ``None`` if a column holds something else than numbers."""
    out = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        values = frame[column]
        kind = values.dtype.kind
        if kind == "f":
            out[:, j] = values.to_numpy()
        elif kind == "i":
            whole = values.to_numpy()
            if len(whole) and np.abs(whole).max() >= _EXACT_INTEGERS:
                return None
            out[:, j] = whole
        elif kind == "O":  # text somewhere: "#N/A" and the like are missing, anything else is an error
            out[:, j] = parse_numbers(values, field=field, symbol=column, dates=dates, path=name, markers=markers)
        else:
            return None
    return out


def _bars_ok(fields: dict[str, np.ndarray]) -> bool:
    """The checks of :func:`eventbt.data.checks.check_bars`, for every symbol at once: some close, and no row
    masked by :func:`eventbt.data.checks.bar_problem_masks`."""
    if np.isnan(fields["close"]).all(axis=0).any():
        return False
    return not any(mask.any() for _, mask, _ in bar_problem_masks(fields))


def _chosen(available: list[str], wanted: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if wanted is None:
        return tuple(sorted(available))
    return wanted if set(wanted) <= set(available) else None


def wide_panel(frame: pd.DataFrame, name: str, wanted: tuple[str, ...] | None) -> Panel | None:
    """A wide frame (a date column, a close column per symbol) as a panel, or ``None`` (see the module)."""
    try:
        dates_in = date_column(frame.columns, name)
        if {"open", "high", "low", "close"} <= {str(c).lower() for c in frame.columns}:
            return None
        columns = symbol_columns(frame, dates_in, name)
        chosen = _chosen(columns, wanted) if columns else None
        if chosen is None or frame[dates_in].dtype.kind not in "OM":
            return None
        dates = parse_dates(frame[dates_in], name)
        check_date_order(dates, frame.index.to_numpy(), name)
        markers: list[MissingText] = []
        close = _numbers(frame, list(chosen), field="close", dates=dates, name=name, markers=markers)
    except DataError:
        return None
    if close is None or not _bars_ok({"close": close}):
        return None
    return Panel(dates, chosen, {"close": close}, tuple(sorted(columns)), tuple(markers))


def long_panel(frame: pd.DataFrame, name: str, wanted: tuple[str, ...] | None) -> Panel | None:
    """A long frame (date, symbol, close and optionally open, high, low, volume) as a panel aligned on the
    union of the chosen symbols' dates, or ``None`` (see the module)."""
    try:
        dates_in = date_column(frame.columns, name)
        symbol_column = find_column(frame.columns, SYMBOL_NAMES)
        if symbol_column is None or frame[symbol_column].dtype.kind != "O" or frame[dates_in].dtype.kind not in "OM":
            return None
        fields = field_columns(frame, name, "long")
        labels = frame[symbol_column].str.strip()
        if labels.isna().any() or labels.isin(NO_SYMBOL_TEXT).any():
            return None
        label_codes, names = pd.factorize(labels)
        available = sorted(str(label) for label in names)
        chosen = _chosen(available, wanted)
        if chosen is None:
            return None
        codes = pd.Index(chosen).get_indexer(pd.Index(names))[label_codes]  # -1: a symbol not chosen
        if len(chosen) < len(available):
            keep = codes >= 0
            frame, codes = frame[keep], codes[keep]
        if any(frame[column].dtype.kind not in "fi" for column in fields.values()):
            return None  # text in a number column: the careful path says where, per symbol
        # Each distinct date text parsed once (a long file repeats every date for every symbol).
        date_codes, distinct = pd.factorize(frame[dates_in], use_na_sentinel=False)
        dates = parse_dates(pd.Series(distinct, dtype=frame[dates_in].dtype), name)[date_codes]
    except DataError:
        return None
    # Per symbol, in the file's order (a stable sort by symbol), the dates must increase.
    order = np.argsort(codes, kind="stable")
    ordered_codes, ordered_dates = codes[order], dates[order]
    if ((ordered_codes[1:] == ordered_codes[:-1]) & (ordered_dates[1:] <= ordered_dates[:-1])).any():
        return None
    union = np.unique(dates)
    rows = np.searchsorted(union, dates)
    panel: dict[str, np.ndarray] = {}
    for field, column in fields.items():
        values = _numbers(frame, [column], field=field, dates=dates, name=name, markers=[])
        if values is None:
            return None
        panel[field] = np.full((len(union), len(chosen)), np.nan)
        panel[field][rows, codes] = values[:, 0]
    if not _bars_ok(panel):
        return None
    return Panel(union, chosen, panel, tuple(available), ())


def parquet_panel(source: Path, name: str, wanted: tuple[str, ...] | None) -> Panel | None:
    """The parquet file ``source`` as a panel, read with pyarrow a few columns at a time into the panel's array
    (a wide file: only the chosen columns are read), or ``None`` (see the module)."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        parquet = pq.ParquetFile(str(source), memory_map=False)
        schema = parquet.schema_arrow
    except (OSError, ValueError, pa.ArrowException):
        return None
    names = list(schema.names)
    if len((schema.pandas_metadata or {}).get("column_indexes", ())) > 1:
        return None  # a frame's columns of several levels: the careful read refuses them
    dates_in = next((n for n in names if n.lower() in DATE_NAMES), None)
    if dates_in is None or len(set(names)) != len(names) or any(n != n.strip() or not n for n in names):
        return None
    if find_column(pd.Index(names), SYMBOL_NAMES) is not None:
        try:
            frame = parquet.read().to_pandas()
        except (OSError, ValueError, pa.ArrowException):
            return None
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        found = long_panel(frame, name, wanted)
        return None if found is None else found._replace(float32_columns=_narrow(schema))
    lowered = {n.lower() for n in names}
    if any(n.startswith("Unnamed: ") for n in names[1:]):
        return None  # a column without a header past the first: the careful read skips it or says where it is
    columns = [n for n in names if n != dates_in and not n.startswith(("Unnamed: ", "__index_level_"))]
    chosen = _chosen(columns, wanted) if columns else None
    if chosen is None or {"open", "high", "low", "close"} <= lowered:
        return None
    if any(not (pa.types.is_floating(schema.field(n).type) or pa.types.is_integer(schema.field(n).type))
           for n in chosen):
        return None
    try:
        day_column = parquet.read(columns=[dates_in]).column(dates_in).to_pandas()
        day_column.index = pd.RangeIndex(1, len(day_column) + 1)
        dates = parse_dates(day_column, name)
        check_date_order(dates, day_column.index.to_numpy(), name)
        close = np.empty((len(dates), len(chosen)))
        # A few dozen columns at a time into the panel: the file's decoded columns never all sit in memory beside
        # the panel. Each part is gathered as rows of a small block first and copied in at once: written straight
        # into the row-major panel, a column is a write every few kilobytes.
        for first in range(0, len(chosen), _COLUMNS_PER_READ):
            part = chosen[first:first + _COLUMNS_PER_READ]
            table = parquet.read(columns=list(part))
            block = np.empty((len(part), len(dates)))
            for k, column in enumerate(part):
                # Nulls become NaN. A whole number too large for a float of its own is above MAX_PRICE, which
                # the bar checks below refuse: the careful read then says so.
                block[k] = table.column(column).to_numpy(zero_copy_only=False)
            close[:, first:first + len(part)] = block.T
            del table, block
    except (OSError, ValueError, pa.ArrowException, DataError):
        return None
    if not _bars_ok({"close": close}):
        return None
    return Panel(dates, chosen, {"close": close}, tuple(sorted(columns)), (), _narrow(schema))


def _narrow(schema: Any) -> frozenset[str]:
    """The names of a parquet schema's columns of 32- or 16-bit floats."""
    import pyarrow as pa

    return frozenset(field.name for field in schema if pa.types.is_float32(field.type)
                     or pa.types.is_float16(field.type))
