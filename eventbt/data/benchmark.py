"""The benchmark a scenario's ``[report] benchmark`` names: a wide CSV of levels, read into one series.

It lives in the data wing because both ends read it: a run checks it before its first bar (so a bad
benchmark stops the run before it starts, not after it ends), ``eventbt validate`` checks it the same way,
and the report and ``eventbt compare`` read it for their figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from eventbt.errors import DataError, shown_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_benchmark", "split_benchmark"]


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
