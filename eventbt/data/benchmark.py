"""The benchmark a scenario's ``[report] benchmark`` names: a wide CSV of levels, read into one series.

It lives in the data wing because both ends read it: a run checks it before its first bar (so a bad
benchmark stops the run before it starts, not after it ends), ``eventbt validate`` checks it the same way,
and the report and ``eventbt compare`` read it for their figures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eventbt.errors import DataError

__all__ = ["load_benchmark"]


def load_benchmark(spec: str, *, base: Path | None = None) -> tuple[pd.Series, str]:
    """Read ``FILE[:COLUMN]`` (a wide CSV, optionally gzip, first column the date) into a level series.

    Without ``COLUMN`` the first data column is used. Returns the series and its display name.
    """
    path_text, column = spec, None
    if not Path(spec).exists() and ":" in spec:
        path_text, column = spec.rsplit(":", 1)
    path = Path(path_text)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise DataError(f"benchmark file not found (expected FILE[:COLUMN]): {spec}", path=None)
    try:
        frame = pd.read_csv(path, index_col=0, parse_dates=True)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser errors are ValueErrors
        raise DataError(f"benchmark file cannot be read as a CSV of levels ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", path=str(path_text)) from exc
    if frame.shape[1] == 0:
        raise DataError("benchmark file has no data column", path=str(path_text))
    if column is None:
        column = str(frame.columns[0])
    if column not in frame.columns:
        raise DataError(f"benchmark column {column!r} not found (columns: {', '.join(map(str, frame.columns))})",
                        path=str(path_text))
    series = pd.to_numeric(frame[column], errors="coerce").dropna()
    try:
        series.index = pd.DatetimeIndex(series.index)
    except (ValueError, TypeError) as exc:
        raise DataError(f"benchmark file's first column is not dates ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", path=str(path_text)) from exc
    return series.sort_index(), column
