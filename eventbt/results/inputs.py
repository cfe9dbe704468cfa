"""What the metrics accept from Python: the equity frame, a benchmark series and the risk-free rate.

A figure computed from an input of the wrong shape is worse than an error: a benchmark whose dates are text
matches none of the run's dates and would read as a flat benchmark (beta ``None``, a 0% return). So each input
is checked before anything is computed, and one that does not fit is a :class:`~eventbt.errors.DataError`
saying what was given and how to make it fit (``docs/metrics.md``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from eventbt.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["benchmark_series", "check_equity", "check_risk_free"]


def check_equity(equity: Any) -> None:
    """Refuse an ``equity`` that is not a frame with a ``total_value`` column and a date index (the shape of
    ``equity.csv`` read with ``index_col="date", parse_dates=True``, or of ``Result.equity``)."""
    import pandas as pd

    if not isinstance(equity, pd.DataFrame):
        hint = " (a Series: pass the whole equity frame, as Result.equity or equity.csv read with pandas)" \
            if isinstance(equity, pd.Series) else ""
        raise DataError(f"equity is a {type(equity).__name__}{hint}; expected a DataFrame with a 'total_value' "
                        "column and a date index")
    if "total_value" not in equity.columns:
        columns = ", ".join(map(str, equity.columns)) or "none"
        raise DataError(f"equity has no 'total_value' column (columns: {columns}); expected the columns of "
                        "equity.csv")
    if len(equity) and not isinstance(equity.index, pd.DatetimeIndex):
        raise DataError(f"equity's index is {_index_kind(equity.index)}, not dates; expected a DatetimeIndex: "
                        "read equity.csv with index_col='date', parse_dates=True")


def benchmark_series(benchmark: Any) -> pd.Series:
    """``benchmark`` as a level series with a tz-naive :class:`~pandas.DatetimeIndex`, or a ``DataError``.

    A one-column DataFrame is taken as its column. Dates as text or ``datetime.date`` objects, a time zone, or
    a frame of several columns are refused, with the fix in the message.
    """
    import pandas as pd

    if isinstance(benchmark, pd.DataFrame):
        if benchmark.shape[1] != 1:
            columns = ", ".join(map(str, benchmark.columns)) or "none"
            raise DataError(f"benchmark is a DataFrame of {benchmark.shape[1]} columns ({columns}); expected one "
                            "level series: pass one column, frame['NAME']")
        benchmark = benchmark.iloc[:, 0]
    if not isinstance(benchmark, pd.Series):
        raise DataError(f"benchmark is a {type(benchmark).__name__}; expected a pandas Series of levels with a "
                        "date index")
    name = str(benchmark.name) if benchmark.name is not None else "benchmark"
    index = benchmark.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        raise DataError(f"benchmark column {name!r} has dates with a time zone ({index.tz}); expected dates "
                        "without one, as the run's: series.index = series.index.tz_localize(None)")
    if not isinstance(index, pd.DatetimeIndex) and len(index):  # an empty one: "holds no level" (check_levels)
        raise DataError(f"benchmark column {name!r} has {_index_kind(index)} for dates; expected a DatetimeIndex, as "
                        "the run's (other dates match none of the run's dates): "
                        "series.index = pd.to_datetime(series.index)")
    return benchmark


def check_risk_free(rate: Any, *, source: str = "risk_free") -> float:
    """The annual risk-free rate as a float: finite, and a fraction (``|rate| < 1``), or a ``DataError`` naming
    ``source`` (the option or argument that gave it). A rate of 5 is 500% a year, surely meant as 0.05."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise DataError(f"{source} {rate!r} is not a number; expected an annual rate as a fraction, 0.05 "
                        "for 5%") from None
    if not math.isfinite(value):
        raise DataError(f"{source} is {value}; expected a finite annual rate as a fraction, 0.05 for 5%")
    if abs(value) >= 1:
        raise DataError(f"{source} {value:g} is {value * 100:g}% a year; expected an annual rate as a fraction, "
                        "0.05 for 5%")
    return value


def _index_kind(index: pd.Index) -> str:
    """What an index holds, as a message names it: ``text such as '2024-01-03'``, ``datetime.date objects``..."""
    if len(index) == 0:
        return f"an empty {type(index).__name__}"
    first = index[0]
    if isinstance(first, str):
        return f"text such as {first!r}"
    kind = type(first)
    return f"{kind.__module__}.{kind.__name__} objects such as {first!r}" if kind.__module__ != "builtins" \
        else f"{kind.__name__} values such as {first!r}"
