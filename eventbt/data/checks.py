"""Checks applied to price data while it is loaded, and scans for suspicious one-day jumps and stale prices.

The loaders hand over columns as pandas Series whose index is the 1-based data row of the file (row 1 is
the first line after the header). Every check raises :class:`~eventbt.errors.DataError` naming the file
and, where they apply, the symbol, the date and that row, and says what was expected.

Price comparisons (high against low, close against the day's range) allow a relative tolerance of 1e-9,
so float noise in a file (``523.4200440000001``) is not mistaken for a bad bar.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Sequence

import attrs
import numpy as np
import pandas as pd

from eventbt.data import DEFAULT_JUMP_THRESHOLD, DEFAULT_STALE_BARS
from eventbt.data.fit import bounds_and_gaps
from eventbt.errors import DataError
from eventbt.prices import MissingText, PriceData

__all__ = [
    "DEFAULT_JUMP_THRESHOLD",
    "DEFAULT_STALE_BARS",
    "Found",
    "JumpWarning",
    "StaleWarning",
    "bar_spacing_message",
    "data_warnings",
    "find_stale_prices",
    "find_suspicious_jumps",
    "find_unseen_splits",
    "float32_message",
    "float32_symbols",
    "is_narrow_float",
    "gap_messages",
    "jump_message",
    "long_gaps",
    "missing_text_message",
    "multi_level_columns",
    "priceless_dates_message",
    "read_date_text",
    "stale_messages",
]

FIELDS = ("open", "high", "low", "close", "volume")
DATE_NAMES = ("date", "day", "datetime")
SYMBOL_NAMES = ("symbol", "ticker")
EXPECTED_COLUMNS = {
    "long": "date, symbol (or ticker), close and optionally open, high, low, volume",
    "per_symbol_dir": "date, close and optionally open, high, low, volume",
}
#: Cell texts read as "no value" (NaN) rather than as bad numbers.
MISSING_TEXT = frozenset({"", "nan", "NaN", "NA", "N/A", "n/a", "null", "NULL", "None", "#N/A"})
#: Symbol-cell texts read as "no symbol": the same but ``NA``, a real ticker (National Bank of Canada, TSX).
NO_SYMBOL_TEXT = MISSING_TEXT - {"NA"}
TOLERANCE = 1e-9
EXPECTED_DATE = "expected a date like YYYY-MM-DD or M/D/YYYY"
ONE_FORMAT = "expected one format (YYYY-MM-DD or M/D/YYYY) for the whole column"
POSITIVE = "; expected a positive price or empty"
_JUMP_CELLS = 1 << 18  # ratios the jump screen takes at a time (never a panel's worth of memory)

#: The largest price accepted: a position's value (at most 2**53 shares) stays finite and far from overflow.
MAX_PRICE = 1e15
TOO_LARGE = "; expected a price of at most 1e15 (larger ones overflow a position's value)"
NOT_NEGATIVE = "; expected a volume of zero or more, or empty"
# A time followed by a UTC offset: "2020-01-02 09:30:00-05:00", "2020-01-02T00:00Z".
_ZONED = re.compile(r"^(?P<wall>.*\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?P<zone>Z|UTC|[+-]\d\d(?::?\d\d)?)$")
_DATE_FORMATS = ("ISO8601", "%m/%d/%Y")
# A year, or a year and month, alone ("2020", "2020-01"): pandas' ISO 8601 reader takes them for the 1st.
_PARTIAL_DATE = r"\d{4}(?:[-/.]\d{1,2})?"
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]  # the digits of YYYY-MM-DD
# datetime64[ns] covers 1677-09-21 .. 2262-04-11; whole years inside that range.
EARLIEST = pd.Timestamp("1678-01-01")
LATEST = pd.Timestamp("2261-12-31")


def iso(day: np.datetime64) -> str:
    """``YYYY-MM-DD`` for a datetime64 value."""
    return str(np.datetime_as_string(day, unit="D"))


def parse_bound(text: str | None, label: str, path: str) -> np.datetime64 | None:
    """The ``start`` or ``end`` argument of a load as datetime64[ns] midnight, or None when not given."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(str(text))
    except ValueError:
        raise DataError(f"{label} {text!r} is not a date; expected YYYY-MM-DD", path=path) from None
    return np.datetime64(day.isoformat(), "ns")


def parse_dates(column: pd.Series, path: str, *, field: str = "date") -> np.ndarray:
    """A date column as tz-naive midnight datetime64[ns]; ``field`` names the column in messages (``pay_date``).

    Text may be ISO (``2020-01-02``, with or without a time) or ``M/D/YYYY``; one format for the whole
    column. A timestamp with a UTC offset gives its local date, the date as written. Offsets in one column
    may differ by up to one hour (one zone across a daylight-saving change); a column mixing timestamps
    with and without an offset, or offsets further apart, is an error.
    """
    plain = _plain_iso_days(column)
    if plain is not None:
        return plain
    rows = column.index.to_numpy()
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(column.dtype):
        texts = column.astype(str)
        parsed = column
        failed = column.isna().to_numpy()
        readable = ~failed
        zones = None
    else:
        texts, parsed, zones = read_date_text(column, rows, path, field=field)
        failed = readable = np.zeros(len(column), dtype=bool)
    if failed.any():
        raise _unreadable_date(texts, failed, readable, rows, path, field)
    outside = ((parsed < EARLIEST) | (parsed > LATEST)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise DataError(
            f"{field} {texts.iloc[i]!r} (row {rows[i]}) is outside the supported range "
            f"{EARLIEST.date()} .. {LATEST.date()}",
            path=path,
            row=int(rows[i]),
        )
    dates = np.asarray(parsed.dt.normalize(), dtype="datetime64[ns]")
    if zones is not None:
        _check_zones(texts, zones, dates, rows, path)
    return dates


def read_date_text(column: pd.Series, rows: np.ndarray, path: str, *, field: str = "date"
                   ) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """Date text by a file's rule: ISO (``2020-01-02``, with or without a time) or ``M/D/YYYY``, one format for
    the whole column; a year, or a year and month, alone is no date. Returns the stripped texts, their dates and
    times as written (the wall clock) and each one's UTC offset (missing where none is written; ``None`` when the
    column is bare ``YYYY-MM-DD``, read at once); the first cell that is not a date is a :class:`DataError`
    naming its row (``rows`` holds each cell's row number)."""
    plain = _plain_iso_days(column)
    if plain is not None:
        return column, pd.Series(plain), None
    texts = column.astype(str).str.strip()
    parts = texts.str.extract(_ZONED)
    parsed, failed, readable = _parse_wall(parts["wall"].fillna(texts))
    if failed.any():
        raise _unreadable_date(texts, failed, readable, rows, path, field)
    return texts, parsed, parts["zone"]


def _unreadable_date(texts: pd.Series, failed: np.ndarray, readable: np.ndarray, rows: np.ndarray, path: str,
                     field: str) -> DataError:
    """The error of the first cell in ``failed``: in another format than the others, empty, or not a date."""
    i = int(np.argmax(failed))
    text, row = str(texts.iloc[i]), int(rows[i])
    if readable[i]:
        problem = f"{field} {text!r} (row {row}) is written in another format than the other dates; {ONE_FORMAT}"
    elif text in ("", "NaT"):
        problem = f"{field} is empty (row {row}); {EXPECTED_DATE}"
    else:
        problem = f"{field} {text!r} (row {row}) is not a date; {EXPECTED_DATE}"
    return DataError(problem, path=path, row=row)


def _plain_iso_days(column: pd.Series) -> np.ndarray | None:
    """The dates of a column whose every cell is a bare ``YYYY-MM-DD`` in the supported range (most files), read
    by numpy in one call: a tenth of the time pandas takes to try both formats. ``None`` for anything else,
    which :func:`parse_dates` then reads format by format and, if it must, names the cell at fault.
    ``tests/eventbt/test_fast_loading.py`` checks that both ways give the same dates."""
    if len(column) == 0 or not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object):
        return None
    texts = column.to_numpy(dtype=object).astype(str)
    if texts.dtype != np.dtype("U10"):
        return None
    chars = texts.view("U1").reshape(len(texts), 10)
    if not ((chars[:, 4] == "-") & (chars[:, 7] == "-")).all() or not np.char.isdigit(chars[:, _DIGITS]).all():
        return None
    try:
        days = texts.astype("datetime64[D]")
    except ValueError:  # a month or day out of range: the careful path names it
        return None
    if not ((days >= EARLIEST.to_datetime64()) & (days <= LATEST.to_datetime64())).all():
        return None
    return days.astype("datetime64[ns]")


def _parse_wall(wall: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse with the date format that reads the most rows; a year or a year and month alone is no date.

    Also returns the rows that format could not read, and the rows that some format could read.
    """
    best: tuple[pd.Series, np.ndarray] | None = None
    readable = np.zeros(len(wall), dtype=bool)
    partial = wall.str.fullmatch(_PARTIAL_DATE).fillna(False).to_numpy(dtype=bool)
    for date_format in _DATE_FORMATS:
        parsed = pd.to_datetime(wall, format=date_format, errors="coerce").mask(partial)
        failed = parsed.isna().to_numpy()
        readable |= ~failed
        if best is None or failed.sum() < best[1].sum():
            best = (parsed, failed)
    assert best is not None
    return best[0], best[1], readable


def _offset_minutes(zone: str) -> int:
    if zone in ("Z", "UTC"):
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return -minutes if zone[0] == "-" else minutes


def _check_zones(texts: pd.Series, zones: pd.Series, dates: np.ndarray, rows: np.ndarray, path: str) -> None:
    zoned = zones.notna().to_numpy()
    if not zoned.any():
        return
    if not zoned.all():
        first, other = 0, int(np.argmax(zoned != zoned[0]))
    else:
        minutes = np.array([_offset_minutes(str(zone)) for zone in zones])
        span = np.maximum.accumulate(minutes) - np.minimum.accumulate(minutes)
        if not (span > 60).any():
            return
        other = int(np.argmax(span > 60))
        first = int(np.argmax(np.abs(minutes[:other] - minutes[other]) > 60))
    raise DataError(
        f"dates mix time zones: {texts.iloc[first]!r} (row {rows[first]}) and {texts.iloc[other]!r} "
        f"(row {rows[other]}); expected one time zone for the whole column",
        path=path,
        date=iso(dates[other]),
        row=int(rows[other]),
    )


def multi_level_columns(columns: pd.MultiIndex, path: str) -> DataError:
    """The error of prices whose columns have more than one level of labels (a field and a symbol, as a
    yfinance download has): read as they are, each pair would be taken for a symbol and traded."""
    level, close = next(((k, str(label)) for k in range(columns.nlevels) for label in columns.levels[k]
                         if str(label).lower() == "close"), (0, "Close"))
    how = f"frame[{close!r}], or " if level == 0 else ""  # the field second, as yfinance's group_by='ticker' gives
    return DataError(f"has {columns.nlevels} levels of column labels (the first column is {columns[0]!r}); "
                     "expected one level: a column per symbol (wide), or date, symbol and close columns (long). "
                     f"For a frame with a field level, pass its closes: {how}frame.xs({close!r}, axis=1, "
                     f"level={level})", path=path)


def find_column(columns: pd.Index, names: Sequence[str]) -> str | None:
    """The first column whose lower-cased name is one of ``names``."""
    return next((str(c) for c in columns if str(c).lower() in names), None)


def date_column(columns: pd.Index, name: str) -> str:
    """The first column named date, day or datetime (any case), else an unnamed first column."""
    found = find_column(columns, DATE_NAMES)
    if found is not None:
        return found
    if len(columns) and str(columns[0]).startswith("Unnamed: "):
        return str(columns[0])
    raise DataError(
        "no date column; expected a column named date, Date, day or Datetime, or an unnamed first column; "
        f"found {', '.join(map(str, columns))}",
        path=name,
    )


def symbol_columns(frame: pd.DataFrame, dates_in: str, name: str) -> list[str]:
    """A wide frame's symbol columns: every column but the date column ``dates_in``, an unnamed first column (the
    row index pandas' ``to_csv`` writes) and unnamed columns without a value (a comma ending every line). An
    unnamed column elsewhere that holds values is an error: it is a symbol whose header cell is blank."""
    columns = []
    for position, column in enumerate(map(str, frame.columns)):
        if column == dates_in:
            continue
        if column.startswith("Unnamed: "):
            values = frame[column]
            if position == 0 or (values.isna() | (values.astype(str).str.strip() == "")).all():
                continue
            raise DataError(f"column {position + 1} has no header; expected a symbol name", path=name)
        columns.append(column)
    return columns


def field_columns(frame: pd.DataFrame, name: str, layout: str) -> dict[str, str]:
    """Field name -> column name for the price fields present; close is required."""
    fields: dict[str, str] = {}
    for column in map(str, frame.columns):
        field = column.lower()
        if field in FIELDS:
            if field in fields:
                message = f"columns {fields[field]!r} and {column!r} both give {field}; expected one"
                raise DataError(message, path=name)
            fields[field] = column
    if "close" not in fields:
        raise DataError(
            f"no 'close' column; expected columns {EXPECTED_COLUMNS[layout]}; "
            f"found {', '.join(map(str, frame.columns))}",
            path=name,
        )
    return fields


def check_symbol_table(
    frame: pd.DataFrame, fields: dict[str, str], symbol: str, dates: np.ndarray, name: str,
    markers: list[MissingText] | None = None,
) -> dict[str, np.ndarray]:
    """Check one symbol's rows (dates in order, numbers, bars) and return its fields as float arrays (text
    read as missing noted in ``markers``)."""
    rows = frame.index.to_numpy()
    check_date_order(dates, rows, name, symbol)
    values = {
        field: parse_numbers(frame[column], field=field, symbol=symbol, dates=dates, path=name, markers=markers)
        for field, column in fields.items()
    }
    check_bars(values, symbol=symbol, dates=dates, rows=rows, path=name)
    return values


def check_date_order(dates: np.ndarray, rows: np.ndarray, path: str, symbol: str | None = None) -> None:
    """Dates must be strictly increasing (per symbol in a long file): no row out of order, no date twice."""
    if len(dates) < 2:
        return
    wrong = dates[1:] <= dates[:-1]
    if not wrong.any():
        return
    here = int(np.argmax(wrong)) + 1
    before = here - 1
    day, row, earlier = iso(dates[here]), int(rows[here]), int(rows[before])
    if dates[here] == dates[before]:
        owner = "" if symbol is None else f" for {symbol!r}"
        message = f"date {day} appears twice{owner} (rows {earlier} and {row}); expected one row per date"
    else:
        subject = "dates" if symbol is None else f"dates for {symbol!r}"
        previous = iso(dates[before])
        message = f"{subject} are not sorted: {day} (row {row}) comes after {previous} (row {earlier})"
    raise DataError(message, path=path, symbol=symbol, date=day, row=row)


def parse_numbers(column: pd.Series, *, field: str, symbol: str, dates: np.ndarray, path: str,
                  markers: list[MissingText] | None = None) -> np.ndarray:
    """A price or volume column as float64; empty cells (and ``NaN``, ``NA``, ``null``...) become NaN, each
    non-empty one of those noted in ``markers``."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    texts = column.astype(str).str.strip()
    values = pd.to_numeric(texts, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    said = texts.isin(MISSING_TEXT).to_numpy()
    if markers is not None:
        for i in np.flatnonzero(said & (texts != "").to_numpy()).tolist():
            markers.append(MissingText(symbol=symbol, field=field, date=iso(dates[i]), text=str(texts.iloc[i])))
    bad = np.isnan(values) & ~said
    if bad.any():
        i = int(np.argmax(bad))
        row = int(column.index[i])
        raise DataError(
            f"{field} for {symbol!r} on {iso(dates[i])} (row {row}) is {texts.iloc[i]!r}; "
            "expected a number or empty",
            path=path,
            symbol=symbol,
            date=iso(dates[i]),
            row=row,
        )
    return values


def bar_problem_masks(fields: dict[str, np.ndarray]) -> Iterator[tuple[str, np.ndarray, str]]:
    """The rules of a bar, in the order :func:`check_bars` checks them: ``(field, mask, problem)`` for each,
    ``mask`` true where ``fields[field]`` breaks the rule (positive finite prices up to :data:`MAX_PRICE`,
    volume >= 0, low <= open/close <= high within :data:`TOLERANCE`). ``problem`` ends the message and may
    name ``{low}`` and ``{high}`` of the row. The arrays may be one symbol's column or every symbol's at once.
    """
    for name in ("open", "high", "low", "close"):
        if name in fields:
            values = fields[name]
            yield name, ~(np.isnan(values) | (np.isfinite(values) & (values > 0))), POSITIVE
            yield name, values > MAX_PRICE, TOO_LARGE
    if "volume" in fields:
        volume = fields["volume"]
        yield "volume", ~(np.isnan(volume) | (np.isfinite(volume) & (volume >= 0))), NOT_NEGATIVE
    low, high = fields.get("low"), fields.get("high")
    if low is None or high is None:
        return
    yield "high", high < low * (1 - TOLERANCE), ", below low {low}; expected high >= low"
    for name in ("close", "open"):
        if name in fields:
            values = fields[name]
            outside = (values < low * (1 - TOLERANCE)) | (values > high * (1 + TOLERANCE))
            yield name, outside, f", outside low {{low}} .. high {{high}}; expected low <= {name} <= high"


def check_bars(
    fields: dict[str, np.ndarray], *, symbol: str, dates: np.ndarray, rows: np.ndarray, path: str
) -> None:
    """One symbol's bars: some close, then the rules of :func:`bar_problem_masks`, raising for the first row
    that breaks the first rule broken."""
    if np.isnan(fields["close"]).all():
        raise DataError(
            f"no close prices for {symbol!r}: every row is empty; expected at least one price",
            path=path,
            symbol=symbol,
        )
    bounds_of = (("low", fields.get("low")), ("high", fields.get("high")))
    for field, mask, problem in bar_problem_masks(fields):
        if mask.any():
            i = int(np.argmax(mask))
            bounds = {key: "" if bound is None else repr(float(bound[i])) for key, bound in bounds_of}
            raise DataError(
                f"{field} for {symbol!r} on {iso(dates[i])} (row {rows[i]}) is {float(fields[field][i])!r}"
                + problem.format(**bounds),
                path=path,
                symbol=symbol,
                date=iso(dates[i]),
                row=int(rows[i]),
            )


@attrs.frozen(kw_only=True)
class JumpWarning:
    """A one-day close ratio outside the plausible range: likely an unadjusted split or corporate action.

    ``date`` is the day of the jump (ISO), ``ratio`` is ``close / previous_close``.
    """

    symbol: str
    date: str
    ratio: float
    previous_close: float
    close: float


def _missing_columns(close: np.ndarray) -> np.ndarray:
    """Per column, whether it holds a missing close (NaN)."""
    missing: np.ndarray = np.isnan(close).any(axis=0)
    return missing


def _jump_screen(close: np.ndarray, threshold: float) -> np.ndarray:
    """The columns that may hold a jump: a ratio of neighbouring closes outside ``[threshold, 1 / threshold]``
    somewhere, or a missing close (a gap can hide a jump; the careful look follows a column across its gaps).

    Taken in blocks of whole rows (contiguous in the row-major panel, some :data:`_JUMP_CELLS` ratios at a
    time), keeping each column's smallest and largest ratio: a NaN close makes a NaN ratio, which both keep
    (numpy's minimum and maximum propagate NaN) and no comparison passes, so such a column is flagged too.
    Rows overlap by one, so every pair of neighbours is looked at."""
    bars, symbols = close.shape
    if bars < 2 or symbols == 0:
        return _missing_columns(close)
    smallest = np.full(symbols, np.inf)
    largest = np.full(symbols, -np.inf)
    step = max(1, _JUMP_CELLS // symbols)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for first in range(0, bars - 1, step):
            stop = min(first + step, bars - 1)
            ratios = close[first + 1:stop + 1] / close[first:stop]
            np.minimum(smallest, ratios.min(axis=0), out=smallest)
            np.maximum(largest, ratios.max(axis=0), out=largest)
    return ~((smallest >= threshold) & (largest <= 1 / threshold))


def find_suspicious_jumps(prices: PriceData, threshold: float = DEFAULT_JUMP_THRESHOLD) -> list[JumpWarning]:
    """Close-to-close moves with a ratio below ``threshold`` or above ``1 / threshold``, by symbol then date.

    A move is measured from the previous bar that has a close, so a gap of missing bars does not hide one.
    The loaders apply no split or dividend adjustments; this scan is how to spot data that needed one. A move
    the data's corporate actions explain is not reported: one whose ratio, counted per old share with the
    day's splits and dividends (``(close * ratio + dividend) / previous close``), is inside the range.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    explained: dict[tuple[str, str], tuple[float, float]] = {}  # (symbol, date) -> (split ratio, dividend)
    for action in prices.actions:
        ratio, dividend = explained.get((action.symbol, action.date), (1.0, 0.0))
        if action.kind == "split":
            ratio *= action.value
        else:
            dividend += action.value
        explained[(action.symbol, action.date)] = (ratio, dividend)
    warnings: list[JumpWarning] = []
    close = prices.close
    # Whole-panel first (_jump_screen, in blocks of rows, so the ratios never take a panel's worth of memory):
    # columns without a jump between neighbouring closes, and without gaps that could hide one, need no further look.
    flagged = _jump_screen(close, threshold)
    for j in np.flatnonzero(flagged).tolist():
        symbol = prices.symbols[j]
        column = close[:, j]
        present = np.flatnonzero(~np.isnan(column))
        previous, current = column[present[:-1]], column[present[1:]]
        with np.errstate(over="ignore"):  # 1e15 / 1e-300 is an infinite jump, and flagged as one
            ratios = current / previous
        for k in np.flatnonzero((ratios < threshold) | (ratios > 1 / threshold)):
            day_actions = explained.get((symbol, iso(prices.dates[present[k + 1]])))
            if day_actions is not None:
                adjusted = (current[k] * day_actions[0] + day_actions[1]) / previous[k]
                if threshold <= adjusted <= 1 / threshold:
                    continue
            warnings.append(
                JumpWarning(
                    symbol=symbol,
                    date=iso(prices.dates[present[k + 1]]),
                    ratio=float(ratios[k]),
                    previous_close=float(previous[k]),
                    close=float(current[k]),
                )
            )
    return warnings


def _ratio_text(ratio: float) -> str:
    """A move's ratio for a warning: three decimals (``0.143``), or three significant digits below 0.01, where
    decimals would show nothing (a 1:5,000 split's ``0.0002``, not ``0.000``)."""
    return f"{ratio:.3f}" if ratio >= 0.01 else f"{ratio:.3g}"


def find_unseen_splits(prices: PriceData, path: str) -> list[str]:
    """A warning line for each split of ``prices.actions`` the closes do not show: prices adjusted already.

    A split of ratio ``r`` should move the close by about ``1 / r`` on its ex-date; when the move is nearer
    to no move at all (``|log(move * r)| > |log(move)|``), the prices are most likely adjusted for it
    already (zipline's csvdir sample is), and applying it would adjust them twice.
    """
    lines: list[str] = []
    splits = [action for action in prices.actions if action.kind == "split" and action.value != 1.0]
    if not splits:
        return lines
    index = {symbol: j for j, symbol in enumerate(prices.symbols)}
    bar_of = {day: i for i, day in enumerate(np.datetime_as_string(prices.dates, unit="D").tolist())}
    for action in splits:
        if action.date not in bar_of:
            continue
        j, bar = index[action.symbol], bar_of[action.date]
        earlier = np.flatnonzero(~np.isnan(prices.close[:bar, j]))
        if not len(earlier):
            continue
        before, after = float(prices.close[earlier[-1], j]), float(prices.close[bar, j])
        move = after / before
        if abs(math.log(move * action.value)) > abs(math.log(move)):  # the split takes the close further away
            lines.append(f"{path}: split {action.value:g} for {action.symbol!r} on {action.date} is not in the "
                         f"prices: close moves {before:g} -> {after:g} (x{move:.3f}) where the split would show about "
                         f"x{_ratio_text(1 / action.value)}; the prices look adjusted already, and applying the split "
                         "adjusts them twice (see docs/corporate-actions.md)")
    return lines


@attrs.frozen(kw_only=True)
class StaleWarning:
    """A run of identical closes long enough to suggest a stale price feed rather than a quiet market.

    ``first`` and ``last`` are the dates (ISO) of the run's first and last close, ``bars`` how many closes
    it holds (bars without a close inside it are not counted), ``price`` the repeated close.
    """

    symbol: str
    first: str
    last: str
    bars: int
    price: float


def find_stale_prices(prices: PriceData, min_bars: int = DEFAULT_STALE_BARS) -> list[StaleWarning]:
    """Runs of at least ``min_bars`` consecutive identical closes, by symbol then date.

    Like :func:`find_suspicious_jumps`, a run is followed across bars without a close, so a gap neither
    breaks nor lengthens it. ``min_bars`` must be at least 2.
    """
    if isinstance(min_bars, bool) or not isinstance(min_bars, int | np.integer) or min_bars < 2:
        raise ValueError(f"min_bars must be an integer >= 2, got {min_bars!r}")
    warnings: list[StaleWarning] = []
    close = prices.close
    # Whole-panel first: a column can hold a run only if it has min_bars - 1 repeats of the close before
    # (or gaps, which a run is followed across); the rest need no further look.
    repeats = np.count_nonzero(close[1:] == close[:-1], axis=0)
    candidates = (repeats >= min_bars - 1) | _missing_columns(close)
    for j in np.flatnonzero(candidates).tolist():
        symbol = prices.symbols[j]
        column = close[:, j]
        present = np.flatnonzero(~np.isnan(column))
        if len(present) < min_bars:
            continue
        values = column[present]
        # Run k spans values[starts[k]:ends[k]]; a run starts where the close differs from the one before.
        starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
        ends = np.append(starts[1:], len(values))
        long_runs = np.flatnonzero(ends - starts >= min_bars)  # whole-array: most runs are one bar long
        for start, end in zip(starts[long_runs].tolist(), ends[long_runs].tolist(), strict=True):
            warnings.append(
                StaleWarning(
                    symbol=symbol,
                    first=iso(prices.dates[present[start]]),
                    last=iso(prices.dates[present[end - 1]]),
                    bars=int(end - start),
                    price=float(values[start]),
                )
            )
    return warnings


def jump_message(path: str, jump: JumpWarning) -> str:
    """The one-line warning for a suspicious jump in the data at ``path`` (as the scenario names it)."""
    return (
        f"{path}: close for {jump.symbol!r} moves {jump.previous_close:g} -> {jump.close:g} (x{jump.ratio:.3f}) "
        f"on {jump.date}; likely an unadjusted split or other corporate action (the loaders apply no adjustment)"
    )


def stale_messages(path: str, runs: Sequence[StaleWarning], min_bars: int) -> list[str]:
    """One warning line per symbol with stale runs (in the order of ``runs``), naming its longest run.

    A symbol with one run gets its dates; one with several gets their count and span as well, so a series
    that is stale for years (skfolio's RRC) is one line, not dozens.
    """
    by_symbol: dict[str, list[StaleWarning]] = {}
    for run in runs:
        by_symbol.setdefault(run.symbol, []).append(run)
    lines = []
    for symbol, found in by_symbol.items():
        longest = max(found, key=lambda run: run.bars)  # the first of equally long runs
        where = f"{longest.bars} bars from {longest.first} to {longest.last}"
        if len(found) == 1:
            what = f"stays at {longest.price:g} for {where}"
        else:
            what = (f"stays unchanged for {min_bars} or more bars {len(found)} times from {found[0].first} to "
                    f"{found[-1].last}, the longest at {longest.price:g} for {where}")
        lines.append(f"{path}: close for {symbol!r} {what}; likely stale prices (set [data] stale_bars to "
                     "change the length flagged, 0 to turn this off)")
    return lines


def missing_text_message(path: str, prices: PriceData) -> list[str]:
    """One line for the cells of ``prices`` written as text meaning "no price" (``#N/A``, ``null``...), which
    were read as missing: how many, which texts, and the first (none when there are none)."""
    low, high = (iso(prices.dates[0]), iso(prices.dates[-1])) if prices.n_bars else ("", "")
    cells = [cell for cell in prices.missing_text if low <= cell.date <= high and cell.symbol in prices.symbols]
    if not cells:
        return []
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.text] = counts.get(cell.text, 0) + 1
    texts = ", ".join(f"{text!r} x{count}" for text, count in sorted(counts.items()))
    first = min(cells, key=lambda cell: (cell.date, cell.symbol, cell.field))
    many = "cell" if len(cells) == 1 else "cells"
    return [f"{path}: {len(cells)} {many} written as text read as missing ({texts}), the first {first.field} for "
            f"{first.symbol!r} on {first.date}; check the source meant no price there"]


_PRICE_FIELDS = ("close", "open", "high", "low")


def float32_symbols(narrow: set[str], symbols: Sequence[str]) -> tuple[str, ...]:
    """The ``symbols`` whose prices a source stored as 32-bit (or 16-bit) floats, given the names of its columns
    of that type: a wide source's symbol columns among them, or every symbol when one of a long source's price
    columns (``close``, ``open``, ``high``, ``low``, in any case) is."""
    wide = tuple(symbol for symbol in symbols if symbol in narrow)
    if wide:
        return wide
    return tuple(symbols) if any(name.strip().lower() in _PRICE_FIELDS for name in narrow) else ()


def is_narrow_float(dtype: object) -> bool:
    """Whether a column of this type holds 32- (or 16-) bit floats: numpy's, or pandas' nullable ``Float32``."""
    if isinstance(dtype, pd.Float32Dtype):
        return True
    return isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8


def float32_message(path: str, prices: PriceData) -> list[str]:
    """One line when prices stored as 32-bit floats are run as other numbers than the decimals they print as.

    A float32 ``10.1`` is 10.100000381469727 exactly, and that is the price the run trades at, as numpy and
    pandas widen it; the same prices in a CSV file run at 10.1. The line names how many symbols, and the first
    cell whose shortest float32 (or, for ``float16_symbols``, float16) text (what pandas prints) differs from the
    number run, with both. None when
    every cell's decimals are its exact value (prices in quarters, say), or no price was stored so.
    """
    for symbol in prices.float32_symbols:
        j = prices.symbols.index(symbol)
        single = np.float16 if symbol in prices.float16_symbols else np.float32
        for field in _PRICE_FIELDS:
            values = getattr(prices, field)
            if values is None:
                continue
            column = values[:, j]
            shown = np.where(np.isnan(column), np.nan, column.astype(single).astype(str).astype(float))
            differs = np.flatnonzero(~np.isnan(column) & (shown != column))
            if not len(differs):
                continue
            i = int(differs[0])
            others = len(prices.float32_symbols) - 1
            more = f" (and {others} other symbol{'s' if others != 1 else ''})" if others else ""
            bits, fix = ((16, "give them as float64 from their source: a 16-bit float holds 3 or 4 significant "
                          "digits, and widening it cannot bring back the ones it lost") if single is np.float16
                         else (32, "give them as float64 rounded to their decimals (e.g. "
                               "frame.astype('float64').round(6)) to run the decimals shown"))
            return [f"{path}: prices of {symbol!r}{more} are stored as {bits}-bit floats and run as their exact "
                    f"values, not the decimals they print as ({field} for {symbol!r} on {iso(prices.dates[i])}: "
                    f"{single(column[i])!s} is run as {float(column[i])!r}); {fix}"]
    return []


def priceless_dates_message(path: str, prices: PriceData) -> list[str]:
    """One line for the dates of ``prices`` on which no symbol has a price (no open, high, low or close): an exchange
    holiday written as a dated row of empty cells. Such a date is still a bar (a weekly rebalance may fall on it)
    where nothing can trade; none when there are none."""
    if not prices.symbols or not prices.n_bars:
        return []
    priceless = np.ones(prices.n_bars, dtype=bool)
    for values in (prices.open, prices.high, prices.low, prices.close):
        if values is not None:
            priceless &= np.isnan(values).all(axis=1)
    count = int(priceless.sum())
    if not count:
        return []
    dates = "1 date has" if count == 1 else f"{count} dates have"
    return [f"{path}: {dates} no price for any symbol (the first {iso(prices.dates[int(np.argmax(priceless))])}); "
            "likely a holiday row: such a date is still a bar, where nothing can trade"]


DAILY_GAP_DAYS = 3
"""The median calendar days between consecutive bars above which the bars are not daily (a weekend is 3 days)."""


def bar_spacing_message(path: str, prices: PriceData) -> list[str]:
    """One line when the bars of ``prices`` are clearly not daily (the median gap between consecutive dates is
    over :data:`DAILY_GAP_DAYS` calendar days: weekly or monthly bars), since the annualised figures take 252
    bars a year (``docs/metrics.md``): weekly bars would overstate the volatility about 2.2 times
    (``sqrt(252 / 52)``); none for daily bars or fewer than 3 dates."""
    if prices.n_bars < 3:
        return []
    days = np.diff(np.asarray(prices.dates, dtype="datetime64[D]")).astype(np.int64)
    median = float(np.median(days))
    if median <= DAILY_GAP_DAYS:
        return []
    return [f"{path}: the bars are {median:g} calendar days apart (the median gap, {iso(prices.dates[0])} .. "
            f"{iso(prices.dates[-1])}), not daily; annualised figures (volatility, Sharpe, Sortino, alpha, tracking "
            "error) assume 252 daily bars a year, so they are off for these bars (docs/metrics.md)"]


Found = tuple[tuple[np.ndarray, np.ndarray], Sequence[tuple[int, int, int]]]
""":func:`~eventbt.data.fit.bounds_and_gaps` of a panel's closes: each series' bounds and its interior gaps."""


def long_gaps(prices: PriceData, min_bars: int, *, found: Found | None = None) -> list[tuple[str, str, str, int]]:
    """``(symbol, first missing date, last missing date, bars)`` of each run of at least ``min_bars`` bars
    without a close between a symbol's first and last close (a gap forward-filling would bridge). ``found`` is
    :func:`~eventbt.data.fit.bounds_and_gaps` of the closes (a :class:`~eventbt.data.fit.Fit`'s ``bounds`` and
    ``gaps``) when the caller has it: the run's fit check has worked both out already."""
    (first, last), gaps = bounds_and_gaps(prices.close) if found is None else found
    found_runs = []
    for j, _, count in gaps:
        if count < min_bars:  # fewer missing bars in all than one long gap takes
            continue
        absent = np.isnan(prices.close[first[j]: last[j] + 1, j])
        edges = np.diff(np.concatenate(([0], absent.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if end - start >= min_bars:
                found_runs.append((prices.symbols[j], iso(prices.dates[first[j] + start]),
                                   iso(prices.dates[first[j] + end - 1]), end - start))
    return found_runs


def gap_messages(path: str, prices: PriceData, min_bars: int, *, found: Found | None = None) -> list[str]:
    """A line per gap of at least ``min_bars`` bars that ``[data] missing = "ffill"`` fills with the close
    before it: the run marks the position at that old price throughout. ``found`` as for :func:`long_gaps`."""
    return [f"{path}: close for {symbol!r} is missing for {bars} bars from {first} to {last}; forward-filled "
            "with the close before the gap, so the run marks it at a stale price (set [data] missing = 'error' "
            "to refuse gaps, [data] stale_bars to change the length flagged)"
            for symbol, first, last, bars in long_gaps(prices, min_bars, found=found)]


def case_twins_messages(path: str, symbols: Sequence[str]) -> list[str]:
    """One line for each group of symbols that differ only in case (``KO`` and ``ko`` in a long file): most likely
    one symbol written two ways, which the run trades as two. Symbols are taken as written, so this is a
    warning, not an error."""
    groups: dict[str, list[str]] = {}
    for symbol in symbols:
        groups.setdefault(symbol.casefold(), []).append(symbol)
    return [f"{path}: symbols {' and '.join(repr(s) for s in sorted(group))} differ only in case; they are traded "
            "as different symbols (likely one written two ways)" for _, group in sorted(groups.items())
            if len(group) > 1]


_FIELD_NAMES = frozenset({"open", "high", "low", "close", "adj close", "adj_close", "volume", "price"})


def field_named_messages(path: str, symbols: Sequence[str]) -> list[str]:
    """One line for each symbol named like a price field (``volume`` beside the symbols of a wide file): a wide
    file's every column but the date is a symbol, so it would be traded."""
    return [f"{path}: symbol {symbol!r} is named like a price field, and is traded as a symbol (a wide file takes "
            "every column but the date as a symbol's closes: drop the column, or use a long file for several "
            "fields)" for symbol in symbols if symbol.strip().casefold() in _FIELD_NAMES]


def data_warnings(prices: PriceData, path: str, *, jump_threshold: float = DEFAULT_JUMP_THRESHOLD,
                  stale_bars: int = DEFAULT_STALE_BARS, missing: str = "ffill",
                  found: Found | None = None) -> list[str]:
    """The warning lines about the data at ``path`` (``[data] path`` as written) that ``eventbt run`` prints
    (and writes into the audit log as ``data_warning`` notes) and ``eventbt validate`` lists: cells written as
    text meaning "no price", prices stored as 32-bit floats that run as other numbers than they print as
    (:func:`float32_message`), dates on which no symbol has a price (:func:`priceless_dates_message`), bars
    that are not daily (:func:`bar_spacing_message`), each
    suspicious jump (but those the corporate actions explain), each split the prices do not show, each symbol
    with stale runs and, with ``missing = "ffill"``, each gap of ``stale_bars`` or more bars forward-filling
    bridges (``stale_bars = 0``: neither), symbols that differ only in case (:func:`case_twins_messages`) and
    symbols named like a price field (:func:`field_named_messages`).
    ``found`` as for :func:`long_gaps`."""
    lines = case_twins_messages(path, prices.symbols)
    lines.extend(field_named_messages(path, prices.symbols))
    lines.extend(missing_text_message(path, prices))
    lines.extend(float32_message(path, prices))
    lines.extend(priceless_dates_message(path, prices))
    lines.extend(bar_spacing_message(path, prices))
    lines.extend(jump_message(path, jump) for jump in find_suspicious_jumps(prices, jump_threshold))
    lines.extend(find_unseen_splits(prices, path))
    if stale_bars:
        lines.extend(stale_messages(path, find_stale_prices(prices, stale_bars), stale_bars))
        if missing == "ffill":
            lines.extend(gap_messages(path, prices, stale_bars, found=found))
    return lines
