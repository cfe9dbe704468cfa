"""``rebalance_mask`` for calendar periods against the calendar as Python's ``datetime`` reads it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from eventbt.schedule import rebalance_mask


def _last_bars(days: list[dt.date], key) -> list[bool]:  # type: ignore[no-untyped-def]
    """True at a day whose period (``key``) differs from the next day's, and at the last day: by hand, per day."""
    return [i == len(days) - 1 or key(days[i]) != key(days[i + 1]) for i in range(len(days))]


@pytest.mark.parametrize("seed", range(5))
def test_monthly_and_quarterly_masks_follow_the_calendar(seed: int) -> None:
    # Sorted distinct days from 1890 to 2110 (before the 1970 epoch too, where the months counted from it are
    # negative), dense enough that many months and quarters hold several bars and some hold one.
    rng = np.random.default_rng(seed)
    ordinals = np.unique(rng.integers(dt.date(1890, 1, 1).toordinal(), dt.date(2110, 12, 31).toordinal(), 3_000))
    if seed == 0:  # the days either side of the epoch and of a quarter's end, every one of them
        edges = [dt.date(1969, 12, 31), dt.date(1970, 1, 1), dt.date(1969, 9, 30), dt.date(1969, 10, 1)]
        ordinals = np.unique(np.concatenate([ordinals, [day.toordinal() for day in edges]]))
    days = [dt.date.fromordinal(int(ordinal)) for ordinal in ordinals]
    dates = np.array([day.isoformat() for day in days], dtype="datetime64[ns]")

    monthly = rebalance_mask(dates, rebalance="monthly")
    quarterly = rebalance_mask(dates, rebalance="quarterly")

    assert monthly.tolist() == _last_bars(days, lambda day: (day.year, day.month))
    assert quarterly.tolist() == _last_bars(days, lambda day: (day.year, (day.month - 1) // 3))
    assert monthly.dtype == bool and len(monthly) == len(days)


def test_a_schedule_date_in_the_warm_up_is_refused() -> None:
    """With two warm-up bars (the 2nd and 3rd of January), a date among them would never rebalance: the strategy
    only sees the warm-up. It was accepted and silently did nothing; as a date that is not a bar, it is an error.
    A date from the first tradable bar on is a rebalance bar as before."""
    from eventbt.errors import ScenarioError

    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], dtype="datetime64[ns]")
    with pytest.raises(ScenarioError, match=r"\[schedule\] date 2020-01-03 is in the warm-up, before the first "
                                            r"tradable bar \(2020-01-06\): nothing is traded there"):
        rebalance_mask(dates, dates_list=["2020-01-03", "2020-01-07"], first_bar=2)
    assert rebalance_mask(dates, dates_list=["2020-01-06", "2020-01-07"], first_bar=2).tolist() == [
        False, False, True, True]


def test_every_n_bars_counts_from_the_first_tradable_bar() -> None:
    """Every second bar after two bars of warm-up: bars 2, 4 and 6, the run's first, third and fifth, as in a run
    whose data starts at bar 2; after three: bars 3 and 5. They were counted from the warm-up's first bar (0, 2,
    4, 6 whatever the warm-up), so with three bars of it the run's first rebalance came a bar late."""
    dates = np.arange(np.datetime64("2020-01-06"), np.datetime64("2020-01-13"), dtype="datetime64[D]")
    dates = dates.astype("datetime64[ns]")  # 7 days, Monday to Sunday; every day a bar here
    assert np.flatnonzero(rebalance_mask(dates, every_n_bars=2, first_bar=2)).tolist() == [2, 4, 6]
    assert np.flatnonzero(rebalance_mask(dates, every_n_bars=2, first_bar=3)).tolist() == [3, 5]
    assert np.flatnonzero(rebalance_mask(dates, every_n_bars=3)).tolist() == [0, 3, 6]
