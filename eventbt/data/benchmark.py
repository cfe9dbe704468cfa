"""The benchmark a scenario's ``[report] benchmark`` names: a wide CSV of levels, read into one series.

It lives in the data wing because both ends read it: a run checks it before its first bar (so a bad
benchmark stops the run before it starts, not after it ends), ``eventbt validate`` checks it the same way,
and the report and ``eventbt compare`` read it for their figures.

A benchmark is measured over the run's dates by carrying its last known level forward (``docs/metrics.md``),
so it must have a level on or before the run's first date, and at least one date inside the run; every level
must be a positive number. Anything else is a :class:`~eventbt.errors.DataError` naming the file, the column
and the date at fault (:func:`check_levels`, :func:`check_dates`), never a flat or -100% benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from eventbt.errors import DataError, shown_path

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["check_dates", "check_levels", "load_benchmark", "load_benchmark_for_run", "split_benchmark"]


def split_benchmark(spec: str, base: Path | None = None) -> tuple[str, str | None]:
    """``FILE[:COLUMN]`` as its file and its column (``None``: the file's first data column).

    A ``spec`` that names a file as a whole (relative to ``base`` when given) is all file, colons included;
    otherwise the text after its last colon is the column.
    """
    whole = Path(spec)
    if base is not None and not whole.is_absolute():
        whole = base / whole
    if whole.exists() or ":" not in spec:
        return spec, None
    file, column = spec.rsplit(":", 1)
    return file, column


def load_benchmark(spec: str, *, base: Path | None = None, source: str | None = None) -> tuple[pd.Series, str]:
    """Read ``FILE[:COLUMN]`` (a wide CSV, optionally gzip, first column the date) into a level series.

    A relative ``FILE`` is read from ``base`` (the scenario's folder) when given. Without ``COLUMN`` the first
    data column is used. Returns the series and its display name. ``source`` is the scenario file whose ``[report]
    benchmark`` this is: a file not found is then named as that key of that file.
    """
    import pandas as pd

    path_text, column = split_benchmark(spec, base)
    path = Path(path_text)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        shown = shown_path(path)
        where = f" (looked for {shown})" if shown != path_text else ""
        key = "[report] " if source is not None else ""
        raise DataError(f"{key}benchmark file not found (expected FILE[:COLUMN]): {spec}{where}", path=source)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser errors are ValueErrors
        raise DataError(f"benchmark file cannot be read as a CSV of levels ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", path=str(path_text)) from exc
    if frame.shape[1] < 2:
        raise DataError("benchmark file has no data column", path=str(path_text))
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # the 1-based data row, as messages name it
    columns = [str(c) for c in frame.columns[1:]]
    if column is None:
        column = columns[0]
    if column not in columns:
        raise DataError(f"benchmark column {column!r} not found (columns: {', '.join(columns)})",
                        path=str(path_text))
    series = _levels(frame.iloc[:, 0], frame[column], path=str(path_text), column=column)
    check_levels(series, path=str(path_text), column=column)
    return series, column


def _levels(dates: pd.Series, cells: pd.Series, *, path: str, column: str) -> pd.Series:
    """The levels of one benchmark column by date, read by the price files' rules: dates ``YYYY-MM-DD`` (a time
    or a UTC offset may follow; the date as written is kept) or ``M/D/YYYY``, one format for the column, each
    once; a level a plain number, an empty cell (or a text a price file reads as no value: ``n/a``, ``#N/A``...)
    no level. Anything else is a :class:`DataError` naming ``path``, ``column``, the date and the row."""
    import numpy as np
    import pandas as pd

    from eventbt.data.checks import MISSING_TEXT, iso, parse_dates

    days = parse_dates(dates.str.strip(), path)
    rows = dates.index.to_numpy()
    order = np.argsort(days, kind="stable")
    twice = np.flatnonzero(days[order][1:] == days[order][:-1])
    if len(twice):
        first, second = int(rows[order[twice[0]]]), int(rows[order[twice[0] + 1]])
        day = iso(days[order[twice[0]]])
        raise DataError(f"benchmark column {column!r}: date {day} appears twice (rows {first} and {second}); "
                        "expected one level per date", path=path, date=day, row=second)
    texts = cells.str.strip()
    values = pd.to_numeric(texts, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) & ~texts.isin(MISSING_TEXT).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        day = iso(days[i])
        raise DataError(f"benchmark column {column!r} on {day} (row {int(rows[i])}) is {texts.iloc[i]!r}; expected "
                        "a number (without thousands separators) or an empty cell for no level",
                        path=path, date=day, row=int(rows[i]))
    present = ~np.isnan(values)
    return pd.Series(values[present], index=pd.DatetimeIndex(days[present]), name=column).sort_index()


def load_benchmark_for_run(spec: str, dates: np.ndarray | pd.Index, *, base: Path | None = None,
                           source: str | None = None) -> tuple[pd.Series, str]:
    """:func:`load_benchmark`, then :func:`check_dates` against the run's ``dates`` (its bars, a warm-up's
    left out): what a run and ``eventbt validate`` check before the first bar."""
    series, column = load_benchmark(spec, base=base, source=source)
    check_dates(series, dates, path=split_benchmark(spec, base)[0], column=column)
    return series, column


def check_levels(levels: pd.Series, *, path: str | None, column: str) -> None:
    """Refuse a benchmark with no level, with a date twice (which level holds?), or with a level that is not a
    positive finite number (a return from or to zero or a negative level means nothing): a :class:`DataError`
    naming ``path``, ``column`` and the first such date."""
    import numpy as np

    where = f"benchmark column {column!r}"
    if levels.empty:
        raise DataError(f"{where} holds no level (no number in it); expected positive levels by date", path=path)
    repeated = levels.index.duplicated()
    if repeated.any():
        day = _day(levels.index[repeated][0])
        raise DataError(f"{where}: date {day} appears twice; expected one level per date", path=path, date=day)
    values = levels.to_numpy(dtype=float)
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if len(bad):
        day = _day(levels.index[bad[0]])
        raise DataError(f"{where} on {day} is {float(values[bad[0]])!r}; expected a positive level", path=path,
                        date=day)


def check_dates(levels: pd.Series, dates: np.ndarray | pd.Index, *, path: str | None, column: str) -> None:
    """Refuse a benchmark that cannot be measured over the run's ``dates`` by carrying its last known level
    forward: one with no date from the run's first to its last (all before it, which would read as a flat
    benchmark, or all after it), and one that starts after the run's first date (its returns would cover a
    shorter span than the run's, annualised over the run's). A run without dates is not checked."""
    import pandas as pd

    if len(dates) == 0 or levels.empty:
        return
    run = pd.DatetimeIndex(dates)
    first, last = run.min(), run.max()
    held = pd.DatetimeIndex(levels.index)
    where = f"benchmark column {column!r}"
    if not ((held >= first) & (held <= last)).any():
        raise DataError(f"{where}: no date of the benchmark falls in the run's dates ({_day(first)} .. {_day(last)});"
                        f" its dates run {_day(held.min())} .. {_day(held.max())}", path=path)
    if held.min() > first:
        raise DataError(f"{where} starts on {_day(held.min())}, after the run's first date {_day(first)}; expected "
                        "a level on or before it (start the run later with [data] start, or use a longer "
                        "benchmark)", path=path, date=_day(held.min()))


def _day(value: object) -> str:
    return str(value)[:10]
