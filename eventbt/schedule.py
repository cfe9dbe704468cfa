"""Which bars are rebalance bars.

Computed once from the calendar of the data (dates only, never prices), before the run:

- ``daily``: every bar;
- ``weekly``: the last bar of each ISO week (ISO year and week number) present in the data;
- ``monthly``: the last bar of each calendar month present in the data;
- ``quarterly``: the last bar of each calendar quarter present in the data;
- ``every_n_bars = N``: bars 0, N, 2N, ... counted from the first tradable bar of the run (after a warm-up);
- ``dates = [...]``: exactly those dates, each of which must be a bar of the data.

The last bar of the data counts as the last bar of its week, month or quarter, even when the period goes on
past the end of the data: a rebalance day a live trader would not have known as one (``docs/scenarios.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eventbt.errors import ScenarioError
from eventbt.protocols import PERIODS

__all__ = ["PERIODS", "rebalance_mask"]


def _last_of_groups(keys: np.ndarray) -> np.ndarray:
    """True where the next key differs (and at the last element)."""
    mask = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        mask[:-1] = keys[1:] != keys[:-1]
    return mask


def _not_a_bar(text: str, dates: np.ndarray, pos: int, *, first_bar: int, start: str, end: str) -> str:
    """Why the date ``text`` (which would sit at ``pos`` in ``dates``) is no rebalance bar, and what to do.

    A date outside the run is before ``[data] start`` or after ``[data] end`` (or outside the data, when those
    leave it open); one inside it falls between two bars, both named, or between the window's edge and the bar
    nearest it."""
    first, last = str(dates[0])[:10], str(dates[-1])[:10]
    window = f"the run's bars go from {str(dates[min(first_bar, len(dates) - 1)])[:10]} to {last}"
    if pos == 0 and start and text < start:
        return (f"[schedule] date {text} is before [data] start {start} ({window}); expected a date of the run: "
                f"drop it, or set [data] start to {text} or earlier")
    if pos == 0 and start:
        return f"[schedule] date {text} is not a bar of the data (the first bar from [data] start {start} is {first})"
    if pos == 0:
        return (f"[schedule] date {text} is before the data's first date {first} ({window}); expected a date of the "
                "run: drop it, or use data that goes back to it")
    if pos == len(dates) and end and text > end:
        return (f"[schedule] date {text} is after [data] end {end} ({window}); expected a date of the run: "
                f"drop it, or set [data] end to {text} or later")
    if pos == len(dates) and end:
        return f"[schedule] date {text} is not a bar of the data (the last bar up to [data] end {end} is {last})"
    if pos == len(dates):
        return (f"[schedule] date {text} is after the data's last date {last} ({window}); expected a date of the "
                "run: drop it, or use data that goes on to it")
    return (f"[schedule] date {text} is not a bar of the data (nearest bars: {str(dates[pos - 1])[:10]}, "
            f"{str(dates[pos])[:10]})")


def rebalance_mask(dates: np.ndarray, *, rebalance: str | None = None, every_n_bars: int | None = None,
                   dates_list: Sequence[str] | None = None, source: str | None = None,
                   first_bar: int = 0, start: str = "", end: str = "") -> np.ndarray:
    """A boolean array, one entry per bar, true on rebalance bars. ``source`` names the scenario in errors;
    ``first_bar`` is the first tradable bar (the bars before it are the warm-up, where a date of ``dates_list``
    would never rebalance: an error, as a date that is not a bar is); ``start`` and ``end`` are the scenario's
    ``[data]`` window, named when a date of ``dates_list`` falls outside it."""
    n = len(dates)
    if every_n_bars is not None:
        mask = np.zeros(n, dtype=bool)
        mask[first_bar::every_n_bars] = True  # counted from the first tradable bar: a warm-up's bars never trade
        return mask
    if dates_list is not None:
        wanted = np.array(dates_list, dtype="datetime64[ns]")
        positions = np.searchsorted(dates, wanted)
        for text, day, pos in zip(dates_list, wanted, positions, strict=True):
            if pos >= n or dates[pos] != day:
                raise ScenarioError(_not_a_bar(text, dates, pos, first_bar=first_bar, start=start, end=end),
                                    path=source, table="schedule", key="dates")
            if pos < first_bar:
                raise ScenarioError(
                    f"[schedule] date {text} is in the warm-up, before the first tradable bar "
                    f"({str(dates[first_bar])[:10]}): nothing is traded there",
                    path=source, table="schedule", key="dates",
                )
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        return mask
    if rebalance == "daily":
        return np.ones(n, dtype=bool)
    if rebalance == "weekly":
        import pandas as pd

        iso = pd.DatetimeIndex(dates).isocalendar()
        keys = iso["year"].to_numpy(dtype=np.int64) * 100 + iso["week"].to_numpy(dtype=np.int64)
    elif rebalance in ("monthly", "quarterly"):
        # Months since 1970-01 (numpy's calendar months; floor division keeps earlier dates in their quarter).
        months = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        keys = months if rebalance == "monthly" else months // 3
    else:
        raise ScenarioError(
            f"[schedule] rebalance must be one of {', '.join(PERIODS)}, got {rebalance!r}",
            path=source, table="schedule", key="rebalance",
        )
    return _last_of_groups(keys)
