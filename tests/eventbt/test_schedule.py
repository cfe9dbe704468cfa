"""``rebalance_mask`` for calendar periods against the calendar as Python's ``datetime`` reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


# Bars: Thursday 2020-01-02, Friday 01-03, Monday 01-06, Tuesday 01-07 (a run cut to these by [data] start and
# end, or the whole data when they are empty). The messages are written out by hand from those four dates.
_FOUR_BARS = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], dtype="datetime64[ns]")
_WINDOW = "(the run's bars go from 2020-01-02 to 2020-01-07)"


@pytest.mark.parametrize(("date", "start", "end", "message"), [
    ("2019-12-30", "2020-01-02", "", f"date 2019-12-30 is before [data] start 2020-01-02 {_WINDOW}; expected a date "
     "of the run: drop it, or set [data] start to 2019-12-30 or earlier"),
    ("2020-01-08", "", "2020-01-07", f"date 2020-01-08 is after [data] end 2020-01-07 {_WINDOW}; expected a date of "
     "the run: drop it, or set [data] end to 2020-01-08 or later"),
    ("2019-12-30", "", "", f"date 2019-12-30 is before the data's first date 2020-01-02 {_WINDOW}; expected a date "
     "of the run: drop it, or use data that goes back to it"),
    ("2020-01-08", "", "", f"date 2020-01-08 is after the data's last date 2020-01-07 {_WINDOW}; expected a date of "
     "the run: drop it, or use data that goes on to it"),
    # [data] start on Wednesday 2020-01-01 (a holiday): the Wednesday itself is inside the window, not a bar
    ("2020-01-01", "2019-12-31", "", "date 2020-01-01 is not a bar of the data (the first bar from [data] start "
     "2019-12-31 is 2020-01-02)"),
    ("2020-01-08", "", "2020-01-09", "date 2020-01-08 is not a bar of the data (the last bar up to [data] end "
     "2020-01-09 is 2020-01-07)"),
    ("2020-01-04", "", "", "date 2020-01-04 is not a bar of the data (nearest bars: 2020-01-03, 2020-01-06)"),
])
def test_a_schedule_date_outside_the_run_names_the_window(date: str, start: str, end: str, message: str) -> None:
    """A date before [data] start or after [data] end was reported as 'not a bar of the data (nearest bars: none,
    ...)', though the file has it: the message names the key, the run's bars and what to do, and never a bar
    'none'."""
    from eventbt.errors import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        rebalance_mask(_FOUR_BARS, dates_list=[date], source="x.toml", start=start, end=end)
    assert str(caught.value) == f"x.toml: [schedule] {message}"
    assert (caught.value.table, caught.value.key) == ("schedule", "dates")


def test_validate_and_run_name_data_start_for_a_schedule_date_before_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The run and `eventbt validate` pass [data] start to the schedule's check: a file of Monday 2020-01-06 to
    Friday 2020-01-10, run from Wednesday 2020-01-08, refuses the file's Monday as before [data] start (bars
    Wednesday to Friday), with the same line from both."""
    from eventbt.cli import main
    from eventbt.scenario.validate import validate

    days = ["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09", "2020-01-10"]
    (tmp_path / "prices.csv").write_text("date,A\n" + "".join(f"{day},10\n" for day in days))
    scenario = tmp_path / "s.toml"
    scenario.write_text('[data]\npath = "prices.csv"\nstart = "2020-01-08"\n[strategy]\nname = "equal_weight"\n'
                        '[schedule]\ndates = ["2020-01-06", "2020-01-09"]\n')
    expected = (f"{scenario}: [schedule] date 2020-01-06 is before [data] start 2020-01-08 (the run's bars go from "
                "2020-01-08 to 2020-01-10); expected a date of the run: drop it, or set [data] start to 2020-01-06 "
                "or earlier")
    assert validate(scenario).problems == (expected,)
    capsys.readouterr()
    assert main(["run", str(scenario), "--quiet", "--plain"]) == 2
    assert f"eventbt: error: {expected}" in capsys.readouterr().err.splitlines()
