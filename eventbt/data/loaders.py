"""Read daily price files into a validated :class:`~eventbt.prices.PriceData`.

This is the edge of the program: pandas parses text here, and nothing downstream sees pandas. Layouts
(``format=``):

``wide``
    A date column and one close column per symbol (``.csv``, ``.csv.gz``). Close only.
``long``
    One row per date and symbol: ``date``, ``symbol`` (or ``ticker``), ``close`` and optionally ``open``,
    ``high``, ``low``, ``volume`` (``.csv``, ``.csv.gz``, or a ``.zip`` holding exactly one CSV).
``per_symbol_dir``
    A folder of ``<SYMBOL>.csv`` / ``<SYMBOL>.csv.gz`` files, each with ``date``, ``close`` and optionally
    ``open``, ``high``, ``low``, ``volume``. Files whose dates differ are aligned on the union of dates
    (NaN where a symbol has no row).
``parquet``
    Wide or long layout, told apart by the presence of a symbol column; needs pyarrow.
``auto``
    A folder is ``per_symbol_dir``, a ``.parquet`` file is ``parquet``, a file with a ``symbol`` or
    ``ticker`` column is ``long``, any other file is ``wide``.

The date column is the first one named ``date``, ``day`` or ``datetime`` (any case), else an unnamed first
column. Column names are matched without regard to case; other columns (``dividend``, ``split``,
``adj_close``, unnamed row-index columns) are ignored.

Prices are taken as they are written. Corporate actions are read only when asked (``corporate_actions=``,
the scenario's ``[data] corporate_actions``): ``"columns"`` reads a long or per-symbol file's own
``split_ratio`` and ``dividend`` (or ``ex-dividend``) columns, a path reads an actions file (see
:mod:`eventbt.data.actions`); they come back as ``PriceData.actions``, and an actions file is hashed into
``PriceData.sources`` like a price file. Without it those columns are ignored: files that carry them disagree
with their own prices often enough to make applying them unsafe by default (zipline's csvdir sample flags a
7:1 AAPL split on 2014-06-09 in prices that are already split-adjusted, so applying it would adjust twice).
Use :func:`find_suspicious_jumps` to spot unadjusted splits.

Each file read is validated as described in :mod:`eventbt.data.checks`; every problem is a
:class:`~eventbt.errors.DataError`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib
import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from eventbt.data import actions as corporate
from eventbt.data.arrays import long_panel, parquet_panel, regular_csv, wide_panel
from eventbt.data.checks import (
    EXPECTED_COLUMNS,
    NO_SYMBOL_TEXT,
    SYMBOL_NAMES,
    JumpWarning,
    check_bars,
    check_date_order,
    check_symbol_table,
    date_column,
    field_columns,
    find_column,
    find_suspicious_jumps,
    float32_symbols,
    is_narrow_float,
    iso,
    multi_level_columns,
    parse_bound,
    parse_dates,
    parse_numbers,
    symbol_columns,
)
from eventbt.errors import DataError, did_you_mean, looks_alike, shown_path
from eventbt.prices import CorporateAction, MissingText, PriceData
from eventbt.protocols import DATA_FORMATS

__all__ = ["FORMATS", "JumpWarning", "find_suspicious_jumps", "load_prices", "scenario_data_path", "window_error"]

FORMATS = tuple(sorted(DATA_FORMATS))  # as the messages list them


@attrs.frozen
class _Panel:
    dates: np.ndarray
    symbols: tuple[str, ...]
    fields: dict[str, np.ndarray]
    sources: dict[str, str]
    actions: tuple[CorporateAction, ...] = ()
    available: tuple[str, ...] = ()  # every symbol the data has, chosen or not
    missing_text: tuple[MissingText, ...] = ()  # cells written as text meaning "no price"
    float32_symbols: tuple[str, ...] = ()  # symbols whose prices the file stored as 32-bit floats


def _raise(problem: DataError) -> None:
    raise problem


def scenario_data_path(folder: Path, path: str, source: str | None) -> Path:
    """A scenario's ``[data] path`` (``path`` as written, relative to the scenario's ``folder``) as the file or
    folder to read; a :class:`DataError` naming the scenario file ``source`` and the key when there is none.

    The loader's own message shows the path as written, which may be a file of the same name in the working
    directory; this one also says where it was looked for when that reads differently.
    """
    target = folder / path
    if not target.exists():
        shown = shown_path(target)
        looked = f" (looked for {shown}: a relative path is read from the scenario's folder)" if shown != path else ""
        raise DataError(f"[data] path {path!r}: no such file or folder{looked}", path=source)
    return target


def load_prices(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    display_path: str | None = None,
    corporate_actions: str | os.PathLike[str] | None = None,
    actions_display: str | None = None,
    on_action_problem: corporate.Report | None = None,
) -> PriceData:
    """Load, validate and cut daily prices from a file or folder.

    ``symbols`` selects a subset (only those are read and checked); ``start`` and ``end`` (ISO dates) cut
    the dates inclusively. ``display_path`` names the data in error messages and in ``PriceData.sources``
    (default ``str(path)``); a folder's files are keyed ``display_path/filename``.

    ``corporate_actions``: ``None`` (none), ``"columns"`` (the price file's action columns) or the path of an
    actions file, named ``actions_display`` in messages and sources. Each problem with an action is raised,
    or passed to ``on_action_problem`` (``eventbt validate`` collects them) and the action left out.
    """
    source = Path(path)
    name = display_path if display_path is not None else str(path)
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", path=name)
    wanted = _requested(symbols, name)
    first, last = parse_bound(start, "start", name), parse_bound(end, "end", name)
    report = on_action_problem or _raise
    columns = corporate_actions is not None and os.fspath(corporate_actions) == corporate.COLUMNS
    if source.is_dir():
        if format not in ("auto", "per_symbol_dir"):
            raise DataError(f"is a folder; format {format!r} reads a file", path=name)
        panel = _load_folder(source, name, wanted, report if columns else None)
    elif source.is_file():
        if format == "per_symbol_dir":
            raise DataError("is a file; format 'per_symbol_dir' reads a folder of CSV files", path=name)
        panel = _load_file(source, name, format, wanted, report if columns else None)
    else:
        raise DataError("no such file or folder", path=name)
    if corporate_actions is not None and not columns:
        panel = _with_actions_file(panel, Path(corporate_actions), actions_display or str(corporate_actions), report)
    if panel.actions:
        kept = corporate.check_against_prices(panel.actions, available=panel.available, chosen=panel.symbols,
                                              dates=panel.dates, close=panel.fields["close"], report=report)
        panel = attrs.evolve(panel, actions=tuple(sorted(kept, key=lambda action: action.order)))
    return _cut(panel, first, last, name)


def _with_actions_file(panel: _Panel, source: Path, name: str, report: corporate.Report) -> _Panel:
    """The panel with the actions of the file at ``source`` (named ``name``), hashed into its sources."""
    if not source.is_file():
        raise DataError("no such actions file (from [data] corporate_actions); expected a CSV file with columns "
                        f"{corporate.FILE_COLUMNS}, or 'columns' to read the price file's own", path=name)
    data = _read_bytes(source, name)
    # a header alone is a period without actions
    frame = _csv_frame(_csv_text(data, source.name, name), name, rows_of="corporate actions", rows_needed=False)
    found = corporate.file_actions(frame, name, report)
    return attrs.evolve(panel, actions=tuple(found), sources={**panel.sources, name: _sha256(data)})


def _requested(symbols: Sequence[str] | None, name: str) -> tuple[str, ...] | None:
    if symbols is None:
        return None
    if isinstance(symbols, str):
        raise TypeError(f"symbols must be a sequence of names such as [{symbols!r}], not a string")
    if not symbols:
        raise DataError("no symbols requested; expected at least one symbol, or None for all", path=name)
    return tuple(sorted(set(symbols)))


def _choose(
    available: Sequence[str], wanted: tuple[str, ...] | None, name: str, where: str
) -> tuple[str, ...]:
    if wanted is None:
        return tuple(sorted(available))
    for symbol in wanted:
        if symbol not in available:
            twin = next((other for other in available if looks_alike(other, symbol)), None)
            hint = did_you_mean(symbol, tuple(available)) if twin is None else (
                f": the {where}'s {twin!r} looks the same but is other characters ({twin!a} in the {where}, "
                f"{symbol!a} asked for: write both the same way, e.g. in Unicode NFC)")
            raise DataError(
                f"symbol {symbol!r} is not in the {where}{hint}; it has {', '.join(sorted(available))}",
                path=name,
                symbol=symbol,
            )
    return wanted


def _read_bytes(source: Path, name: str) -> bytes:
    try:
        return source.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror}", path=name) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(source: Path, name: str) -> str:
    """The SHA-256 of a file, read in blocks (the same as :func:`_sha256` of its bytes)."""
    try:
        with source.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror}", path=name) from None


def _load_file(source: Path, name: str, format: str, wanted: tuple[str, ...] | None,
               report: corporate.Report | None) -> _Panel:
    """One price file; with ``report``, its action columns too (``[data] corporate_actions = "columns"``)."""
    text = None
    digest: str | None = None  # the file's sha256, once taken
    frame: pd.DataFrame | None
    if format == "parquet" or (format == "auto" and source.suffix.lower() == ".parquet"):
        _require_pyarrow(name)
        if report is None:  # hashed as it streams by, then read a few columns at a time: never whole in memory
            digest = _file_sha256(source, name)
            read = parquet_panel(source, name, wanted)
            if read is not None:
                return _Panel(read.dates, read.symbols, read.fields, {name: digest}, available=read.available,
                              missing_text=read.missing_text,
                              float32_symbols=float32_symbols(set(read.float32_columns), read.symbols))
        data = _read_bytes(source, name)
        frame = _parquet_frame(data, name)
        narrow = {str(column) for column, dtype in frame.dtypes.items() if is_narrow_float(dtype)}
    else:
        data = _read_bytes(source, name)
        text = _csv_text(data, source.name, name)
        frame = regular_csv(text) if report is None else None
        narrow = set()  # a text file's numbers are read as float64 from their decimals
    sources = {name: digest if digest is not None else _sha256(data)}
    if frame is not None and report is None:  # the fast path: a regular file, read and checked as whole arrays
        fast = _fast_panel(frame, name, format, wanted)
        if fast is not None:
            return attrs.evolve(fast, sources=sources, float32_symbols=float32_symbols(narrow, fast.symbols))
    if text is not None:
        frame = _csv_frame(text, name)
    assert frame is not None
    symbol_column = find_column(frame.columns, SYMBOL_NAMES)
    if format == "long" or (format != "wide" and symbol_column is not None):
        panel = _long(frame, name, wanted, report)
    elif symbol_column is not None:
        raise DataError(
            f"has a {symbol_column!r} column, so it is in long layout; expected format 'long' or 'auto'",
            path=name,
        )
    elif report is not None:
        raise DataError("is in wide layout (a close column per symbol), which has no action columns for [data] "
                        "corporate_actions = 'columns'; expected a long or per-symbol file with split_ratio or "
                        "dividend columns, or an actions file", path=name)
    else:
        panel = _wide(frame, name, wanted)
    return attrs.evolve(panel, sources=sources, float32_symbols=float32_symbols(narrow, panel.symbols))


def _fast_panel(frame: pd.DataFrame, name: str, format: str, wanted: tuple[str, ...] | None) -> _Panel | None:
    """The panel of a regular file read as whole arrays (:mod:`eventbt.data.arrays`), or ``None`` for the careful
    path, which decides the layout the same way."""
    symbol_column = find_column(frame.columns, SYMBOL_NAMES)
    if format == "long" or (format != "wide" and symbol_column is not None):
        found = long_panel(frame, name, wanted)
    elif symbol_column is None:
        found = wide_panel(frame, name, wanted)
    else:
        return None
    if found is None:
        return None
    return _Panel(found.dates, found.symbols, found.fields, {}, available=found.available,
                  missing_text=found.missing_text)


def _load_folder(folder: Path, name: str, wanted: tuple[str, ...] | None,
                 report: corporate.Report | None) -> _Panel:
    files: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        lower = entry.name.lower()
        suffix = next((s for s in (".csv.gz", ".csv") if lower.endswith(s)), None)
        if suffix is None or entry.name.startswith(".") or not entry.is_file():
            continue
        symbol = entry.name[: -len(suffix)]
        if symbol in files:
            raise DataError(
                f"symbol {symbol!r} has two files ({files[symbol].name} and {entry.name}); "
                "expected one file per symbol",
                path=name,
                symbol=symbol,
            )
        files[symbol] = entry
    if not files:
        expected = "expected one <SYMBOL>.csv or <SYMBOL>.csv.gz file per symbol"
        raise DataError(f"has no price files; {expected}", path=name)
    sources: dict[str, str] = {}
    tables: list[tuple[str, np.ndarray, dict[str, np.ndarray]]] = []
    keys: list[str] = []
    found: list[CorporateAction] = []
    markers: list[MissingText] = []
    for symbol in _choose(list(files), wanted, name, "folder"):
        key = f"{name.rstrip('/')}/{files[symbol].name}"
        data = _read_bytes(files[symbol], key)
        sources[key] = _sha256(data)
        frame = _csv_frame(_csv_text(data, files[symbol].name, key), key)
        fields = field_columns(frame, key, "per_symbol_dir")
        dates = parse_dates(frame[date_column(frame.columns, key)], key)
        tables.append((symbol, dates, check_symbol_table(frame, fields, symbol, dates, key, markers)))
        keys.append(key)
        if report is not None:
            found += corporate.column_actions(frame, corporate.action_columns(frame, key), symbol, dates, key, report)
    everywhere = {field for _, _, values in tables for field in values}
    for (symbol, _, values), key in zip(tables, keys, strict=True):
        for field in sorted(everywhere - set(values)):
            other = next(k for (_, _, v), k in zip(tables, keys, strict=True) if field in v)
            raise DataError(
                f"has no {field!r} column but {other} has; expected the same columns in every file",
                path=key,
                symbol=symbol,
            )
    return attrs.evolve(_assemble(tables), sources=sources, actions=tuple(found), available=tuple(sorted(files)),
                        missing_text=tuple(markers))


def _csv_text(data: bytes, filename: str, name: str) -> str:
    lower = filename.lower()
    try:
        if lower.endswith(".gz"):
            data = gzip.decompress(data)
        elif lower.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m.filename for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1 or not members[0].lower().endswith(".csv"):
                    raise DataError(
                        f"holds {len(members)} files ({', '.join(members)}); expected exactly one CSV file",
                        path=name,
                    )
                data = archive.read(members[0])
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot be decompressed: {exc}", path=name) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"is not UTF-8 text (byte {exc.start}); expected a CSV file", path=name) from None


def _csv_frame(text: str, name: str, *, rows_of: str = "prices", rows_needed: bool = True) -> pd.DataFrame:
    """All cells as stripped text; the index is the 1-based data row; blank lines are skipped but counted.
    ``rows_of`` says what the rows hold, for a message; ``rows_needed=False`` lets a header alone be read as no
    rows (an actions file for a period without splits or dividends)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"cannot be read as CSV: {exc}", path=name) from None
    skip = next((i for i, record in enumerate(records) if any(cell.strip() for cell in record)), None)
    if skip is None:
        raise DataError(f"file is empty; expected a header line and rows of {rows_of}", path=name)
    records = records[skip:]
    header = [cell.strip() or f"Unnamed: {i}" for i, cell in enumerate(records[0])]
    for i, column in enumerate(header):
        if column in header[:i]:
            raise DataError(f"column {column!r} appears twice in the header; expected each once", path=name)
    rows: list[int] = []
    cells: list[list[str]] = []
    for row, record in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            expected = f"expected {len(header)} like the header"
            if not rows and len(record) > len(header):  # a title line above the header was taken for it
                expected += f" (is line {skip + 1} a title or comment above the header?)"
            raise DataError(f"row {row} has {len(record)} fields; {expected}", path=name, row=row)
        rows.append(row)
        cells.append([cell.strip() for cell in record])
    if not rows and rows_needed:
        raise DataError(f"has a header but no rows; expected at least one row of {rows_of}", path=name)
    return pd.DataFrame(cells, columns=header, index=pd.Index(rows), dtype=object)


def _require_pyarrow(name: str) -> None:
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        message = "reading parquet needs pyarrow; install it with `pip install pyarrow`"
        raise DataError(message, path=name) from None


def _parquet_frame(data: bytes, name: str) -> pd.DataFrame:
    _require_pyarrow(name)
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot be read as parquet: {exc}", path=name) from None
    if isinstance(frame.columns, pd.MultiIndex):
        raise multi_level_columns(frame.columns, name)
    if not isinstance(frame.index, pd.RangeIndex):
        if frame.index.nlevels == 1 and frame.index.name is None:
            frame.index.name = "date"  # pandas' to_parquet of a frame whose unnamed index holds its dates
        frame = frame.reset_index()
    if frame.empty:
        raise DataError("has no rows; expected at least one row of prices", path=name)
    frame.columns = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(frame.columns)]
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _wide(frame: pd.DataFrame, name: str, wanted: tuple[str, ...] | None) -> _Panel:
    dates_in = date_column(frame.columns, name)
    lowered = {str(c).lower() for c in frame.columns}
    if {"open", "high", "low", "close"} <= lowered:
        raise DataError(
            "has open, high, low and close columns, the bars of one symbol; expected a date column and one "
            "close column per symbol (for one file per symbol use a folder and format 'per_symbol_dir')",
            path=name,
        )
    columns = symbol_columns(frame, dates_in, name)
    if not columns:
        raise DataError("has no symbol columns; expected a date and a close column per symbol", path=name)
    chosen = _choose(columns, wanted, name, "file")
    dates = parse_dates(frame[dates_in], name)
    rows = frame.index.to_numpy()
    check_date_order(dates, rows, name)
    close = np.empty((len(dates), len(chosen)))
    markers: list[MissingText] = []
    for j, symbol in enumerate(chosen):
        close[:, j] = parse_numbers(frame[symbol], field="close", symbol=symbol, dates=dates, path=name,
                                    markers=markers)
        check_bars({"close": close[:, j]}, symbol=symbol, dates=dates, rows=rows, path=name)
    return _Panel(dates, chosen, {"close": close}, {}, available=tuple(sorted(columns)), missing_text=tuple(markers))


def _long(frame: pd.DataFrame, name: str, wanted: tuple[str, ...] | None,
          report: corporate.Report | None = None) -> _Panel:
    dates_in = date_column(frame.columns, name)
    symbol_column = find_column(frame.columns, SYMBOL_NAMES)
    if symbol_column is None:
        raise DataError(
            f"no 'symbol' column; expected columns {EXPECTED_COLUMNS['long']}; "
            f"found {', '.join(map(str, frame.columns))}",
            path=name,
        )
    fields = field_columns(frame, name, "long")
    labels = frame[symbol_column].astype(str).str.strip()
    # '#N/A', 'null' and the like mean no symbol, as they mean no price (a failed ticker look-up in a spreadsheet);
    # 'NA' is a ticker
    empty = labels.isin(NO_SYMBOL_TEXT).to_numpy() | frame[symbol_column].isna().to_numpy()
    if empty.any():
        row = int(frame.index[int(np.argmax(empty))])
        raise DataError(f"row {row} has no symbol; expected one in {symbol_column!r}", path=name, row=row)
    available = sorted(set(labels))
    chosen = _choose(available, wanted, name, "file")
    columns = corporate.action_columns(frame, name) if report is not None else {}
    keep = labels.isin(chosen).to_numpy()
    frame, labels = frame[keep], labels[keep]
    dates = parse_dates(frame[dates_in], name)
    positions = labels.groupby(labels, sort=True).indices
    markers: list[MissingText] = []
    tables = [
        (symbol, dates[positions[symbol]],
         check_symbol_table(frame.iloc[positions[symbol]], fields, symbol, dates[positions[symbol]], name, markers))
        for symbol in chosen
    ]
    found: list[CorporateAction] = []
    if report is not None:
        for symbol in chosen:
            rows = positions[symbol]
            found += corporate.column_actions(frame.iloc[rows], columns, symbol, dates[rows], name, report)
    return attrs.evolve(_assemble(tables), actions=tuple(found), available=tuple(available),
                        missing_text=tuple(markers))


def _assemble(tables: Sequence[tuple[str, np.ndarray, dict[str, np.ndarray]]]) -> _Panel:
    """Align per-symbol tables on the union of their dates; NaN where a symbol has no row."""
    dates = np.unique(np.concatenate([table_dates for _, table_dates, _ in tables]))
    fields: dict[str, np.ndarray] = {}
    for j, (_, table_dates, values) in enumerate(tables):
        at = np.searchsorted(dates, table_dates)
        for field, column in values.items():
            fields.setdefault(field, np.full((len(dates), len(tables)), np.nan))[at, j] = column
    return _Panel(dates, tuple(symbol for symbol, _, _ in tables), fields, {})


def window_error(dates: np.ndarray, first: np.datetime64 | None, last: np.datetime64 | None,
                 name: str) -> DataError | None:
    """Why the window ``first`` .. ``last`` (inclusive; ``None``: the data's own end) keeps none of ``dates``
    (``name`` names the data), or ``None`` when it keeps some: the loader's message, which a sweep's cut of shared
    prices gives too."""
    low, high = iso(dates[0]), iso(dates[-1])
    within = f"between {low} and {high}"
    begin = low if first is None else iso(first)
    finish = high if last is None else iso(last)
    if first is not None and last is not None and begin > finish:
        return DataError(f"start {begin} is after end {finish}; expected start <= end, both {within}", path=name,
                         date=begin)
    if begin > high:
        return DataError(f"start {begin} is after the last date ({high}); expected a start {within}", path=name,
                         date=begin)
    if finish < low:
        return DataError(f"end {finish} is before the first date ({low}); expected an end {within}", path=name,
                         date=finish)
    if not ((dates >= np.datetime64(begin, "ns")) & (dates <= np.datetime64(finish, "ns"))).any():
        return DataError(f"no dates from {begin} to {finish}; expected a range holding at least one date {within}",
                         path=name)
    return None


def _cut(panel: _Panel, first: np.datetime64 | None, last: np.datetime64 | None, name: str) -> PriceData:
    """Keep the dates from ``first`` to ``last`` inclusive; a window outside the data is an error
    (:func:`window_error`)."""
    problem = window_error(panel.dates, first, last, name)
    if problem is not None:
        raise problem
    begin = iso(panel.dates[0]) if first is None else iso(first)
    finish = iso(panel.dates[-1]) if last is None else iso(last)
    keep = (panel.dates >= np.datetime64(begin, "ns")) & (panel.dates <= np.datetime64(finish, "ns"))
    actions = tuple(action for action in panel.actions if begin <= action.date <= finish)
    if keep.all():  # the whole panel: no copy
        arrays = {field: np.ascontiguousarray(values) for field, values in panel.fields.items()}
    else:
        begin_row, end_row = int(np.argmax(keep)), len(keep) - int(np.argmax(keep[::-1]))  # a contiguous range
        arrays = {field: np.ascontiguousarray(values[begin_row:end_row]) for field, values in panel.fields.items()}
    return PriceData(
        dates=np.ascontiguousarray(panel.dates[keep]),
        symbols=panel.symbols,
        close=arrays["close"],
        open=arrays.get("open"),
        high=arrays.get("high"),
        low=arrays.get("low"),
        volume=arrays.get("volume"),
        sources=panel.sources,
        actions=actions,
        missing_text=tuple(m for m in panel.missing_text if begin <= m.date <= finish),
        float32_symbols=panel.float32_symbols,
    )
