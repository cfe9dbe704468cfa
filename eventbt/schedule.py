"""Which bars are rebalance bars.

Computed once from the calendar of the data (dates only, never prices), before the run:

- ``daily``: every bar;
- ``weekly``: the last bar of each ISO week (ISO year and week number) present in the data;
- ``monthly``: the last bar of each calendar month present in the data;
- ``quarterly``: the last bar of each calendar quarter present in the data;
- ``every_n_bars = N``: bars 0, N, 2N, ... counted from the first tradable bar of the run (after a warm-up);
- ``dates = [...]``: exactly those dates, each of which must be a bar of the data.

The last bar of the data counts as the last bar of its week, month or quarter, even when the period goes on
past the end of the data.
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


def rebalance_mask(dates: np.ndarray, *, rebalance: str | None = None, every_n_bars: int | None = None,
                   dates_list: Sequence[str] | None = None, source: str | None = None,
                   first_bar: int = 0) -> np.ndarray:
    """A boolean array, one entry per bar, true on rebalance bars. ``source`` names the scenario in errors;
    ``first_bar`` is the first tradable bar (the bars before it are the warm-up, where a date of ``dates_list``
    would never rebalance: an error, as a date that is not a bar is)."""
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
                before = str(dates[pos - 1])[:10] if pos > 0 else "none"
                after = str(dates[pos])[:10] if pos < n else "none"
                raise ScenarioError(
                    f"[schedule] date {text} is not a bar of the data (nearest bars: {before}, {after})",
                    path=source, table="schedule", key="dates",
                )
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
