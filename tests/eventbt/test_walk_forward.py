"""Walk-forward: the windows, the stitched out-of-sample curve and the choice made on each training window."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
import pytest

from eventbt.errors import SweepError
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from eventbt.sweeps.executors import SerialExecutor
from eventbt.sweeps.walkforward import Window, parse_walk_forward, stitch, walk_forward, windows

SCENARIO = Path(__file__).parents[2] / "scenarios" / "ema_next_open.toml"


def direct_summary(overrides: Sequence[str]) -> dict[str, object]:
    """One run loading its own (cut) prices, outside the walk-forward code."""
    result = Simulation(ScenarioConfig.from_toml(SCENARIO, overrides), audit=True).run()
    assert result is not None
    return result.summary


def test_windows_on_a_calendar_year_of_daily_dates() -> None:
    """Every day of 2020 with train=3m, test=1m gives nine windows, test months back to back."""
    dates = np.arange("2020-01-01", "2021-01-01", dtype="datetime64[D]").astype("datetime64[ns]")
    found = windows(dates, *parse_walk_forward("train=3m,test=1m"))
    # Bar i is day i of 2020 (a leap year). Window 1: train Jan-Mar = bars 0..90 (31 + 29 + 31 = 91 days),
    # test April = bars 91..120 (30 days). Window 2 starts a month later: train Feb-Apr = bars 31..120, test
    # May = bars 121..151. Window 9: train Sep-Nov from bar 244 (31+29+31+30+31+30+31+31), test December =
    # bars 335..365. A tenth would train Oct-Dec and end its training on 2021-01-01, past the data: none.
    assert len(found) == 9
    assert found[0] == Window(number=1, train_start=0, test_start=91, test_stop=121)
    assert found[1] == Window(number=2, train_start=31, test_start=121, test_stop=152)
    assert found[-1] == Window(number=9, train_start=244, test_start=335, test_stop=366)
    assert all(a.test_stop == b.test_start for a, b in itertools.pairwise(found))


def test_stitch_chains_growth_from_window_to_window() -> None:
    """Two test runs from 100: +10% then +20%, then -10% then -1%, chain to 110, 120, 108, 118.8."""
    # Window 2's growth (90/100, 99/100) applies to window 1's last value, 120: 108 and 118.8.
    assert stitch([np.array([110.0, 120.0]), np.array([90.0, 99.0])], 100.0) == pytest.approx([110, 120, 108, 118.8])


@pytest.mark.parametrize("spec", ["train=3y", "train=3y,test=0y", "train=3x,test=1y", "test=1y,test=1y",
                                  "train=1y,test=1y,train=2y"])
def test_bad_walk_forward_specs_are_named(spec: str) -> None:
    """A malformed --walk-forward spec raises a SweepError quoting it."""
    with pytest.raises(SweepError, match=f"^--walk-forward {spec}: must look like 'train=3y,test=1y'"):
        parse_walk_forward(spec)


def test_walk_forward_picks_the_training_best_and_stitches_the_test_runs(tmp_path: Path) -> None:
    """On 2012-2014 with train=1y, test=1y: two windows, each choice the best training Sharpe of single runs."""
    # The data runs 2012-01-03 .. 2014-12-31. Window 1: train from 2012-01-03 to before 2013-01-03, test to
    # before 2014-01-03; window 2 is a year later and its test ends with the data. A third would train until
    # 2015-01-03, past the data.
    spans = ["5", "10"]
    result = walk_forward(SCENARIO, [f"strategy.params.fast_span={','.join(spans)}"], "train=1y,test=1y",
                          executor=SerialExecutor(), out=tmp_path)
    table = result.windows
    assert list(table["train_start"]) == ["2012-01-03", "2013-01-03"]
    assert list(table["train_end"]) == ["2013-01-02", "2014-01-02"]
    assert list(table["test_start"]) == ["2013-01-03", "2014-01-03"]
    assert list(table["test_end"]) == ["2014-01-02", "2014-12-31"]
    growth = 1.0
    for _, window in table.iterrows():
        period = [f'data.start="{window["train_start"]}"', f'data.end="{window["train_end"]}"']
        sharpes = [direct_summary([f"strategy.params.fast_span={s}", *period])["sharpe"] for s in spans]
        best = int(np.argmax(sharpes))  # the combination number is the value's position in a 1-key grid
        assert window["combination"] == best
        test = direct_summary([f"strategy.params.fast_span={spans[best]}",
                               f'data.start="{window["test_start"]}"', f'data.end="{window["test_end"]}"'])
        assert window["test_digest"] == test["digest"]
        assert window["test_total_costs"] == test["costs"]["total"]["amount"]  # type: ignore[index]
        growth *= 1.0 + float(test["total_return"])  # type: ignore[arg-type]
    assert result.total_return == pytest.approx(growth - 1.0, rel=1e-12)
    equity = pd.read_csv(tmp_path / "walk_forward_equity.csv")
    assert list(equity["window"].unique()) == [1, 2]
    assert equity["date"].iloc[0] == "2013-01-03" and equity["date"].iloc[-1] == "2014-12-31"
    assert result.equity["total_value"].iloc[-1] == pytest.approx(100_000.0 * growth, rel=1e-12)
    assert equity["total_value"].iloc[-1] == result.equity["total_value"].iloc[-1]  # the CSV at full precision


def test_each_window_run_has_the_events_that_fall_in_its_bars() -> None:
    """cash_flows.toml deposits 50,000 on 2012-06-01, buys 100 KO on 2013-01-02 and withdraws 20,000 on 2013-06-03
    (all trading days). With train=6m, test=6m the first training window (2012-01-03 .. 2012-07-02) ends before
    the order: it used to fail on it ('after the last bar'); a later test window used to book the earlier events
    at its first bar. Each test run is checked against a run of the scenario with the events picked here by
    hand, by their dates; so is every training run."""
    scenario = SCENARIO.parent / "cash_flows.toml"
    result = walk_forward(scenario, ["strategy.params.top_n=1,2"], "train=6m,test=6m", executor=SerialExecutor())
    base = ScenarioConfig.from_toml(scenario)
    deposit, order, withdrawal = base.events
    assert (deposit.date, order.date, withdrawal.date) == ("2012-06-01", "2013-01-02", "2013-06-03")
    picked = {("2012-01-03", "2012-07-02"): (deposit,), ("2012-07-03", "2013-01-02"): (order,),
              ("2013-01-03", "2013-07-02"): (withdrawal,)}

    def digest(overrides: str, span: tuple[str, str]) -> str:
        config = attrs.evolve(base, events=picked.get(span, ())).with_overrides(
            [overrides, f'data.start="{span[0]}"', f'data.end="{span[1]}"'])
        run = Simulation(config, audit=True).run()
        assert run is not None
        return run.digest

    for _, window in result.windows.iterrows():
        span = (window["test_start"], window["test_end"])
        assert window["test_digest"] == digest(window["overrides"], span), span
        train = (window["train_start"], window["train_end"])  # every training run of the window, too
        for _, row in result.train[result.train["window"] == window["window"]].iterrows():
            top_n = f"strategy.params.top_n={row['strategy.params.top_n']}"  # (its overrides hold the window's dates)
            assert row["digest"] == digest(top_n, train), (train, top_n)
    assert len(result.windows) == 5 and len(result.train) == 10


def test_walk_forward_refuses_data_keys_in_the_grid() -> None:
    """The windows set data.start and data.end, so a grid over data.* keys is refused."""
    with pytest.raises(SweepError, match="grid keys cannot be data"):
        walk_forward(SCENARIO, ['data.end="2013-01-01"'], "train=1y,test=1y", executor=SerialExecutor())


@pytest.mark.parametrize(("setup", "message"), [
    ({"walk_forward.csv": "my notes\n"}, "holds walk_forward.csv, which this walk-forward would overwrite; pick "
                                         "another --out"),
    ({"": "a file, not a folder\n"}, "is a file; a walk-forward writes its files into a folder"),
])
def test_walk_forward_never_overwrites_what_it_did_not_write(tmp_path: Path, setup: dict[str, str],
                                                             message: str) -> None:
    """An --out holding one of its file names, or naming a file, is refused before any window runs."""
    out = tmp_path / "out"
    for name, text in setup.items():
        if name:
            out.mkdir(exist_ok=True)
            (out / name).write_text(text)
        else:
            out.write_text(text)
    with pytest.raises(SweepError) as caught:
        walk_forward(SCENARIO, ["strategy.params.fast_span=5"], "train=1y,test=1y", executor=SerialExecutor(),
                     out=out)
    assert str(caught.value) == f"--out: {out} {message}"
    target = out / "walk_forward.csv" if out.is_dir() else out
    assert target.read_text() == next(iter(setup.values()))  # untouched: the text the case put there


def test_an_event_on_a_day_without_a_bar_before_a_window_is_booked_in_it(tmp_path: Path) -> None:
    """A deposit dated 2020-06-30, a day the data has no bar for: it falls on 2020-07-01, the first bar of the
    window that starts there. The window's run starts at [data] start = 2020-07-01 and refused an event dated
    before it; it is dated that bar, and booked there as a run of the whole data books it."""
    days = np.arange("2020-01-01", "2021-01-01", dtype="datetime64[D]")
    days = days[np.is_busday(days) & (days != np.datetime64("2020-06-30"))]
    rows = ["date,A,B"] + [f"{day},{10 + 0.01 * i:.2f},{20 - 0.01 * i:.2f}" for i, day in enumerate(days)]
    (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "s.toml").write_text(
        '[data]\npath = "prices.csv"\n[strategy]\nname = "static_weights"\n[strategy.params]\n'
        'weights = { A = 0.5, B = 0.5 }\n[schedule]\nrebalance = "monthly"\n'
        '[[events]]\ndate = "2020-06-30"\ntype = "deposit"\namount = 1000.0\n')
    result = walk_forward(tmp_path / "s.toml", ["portfolio.initial_cash=100000,200000"], "train=3m,test=3m",
                          executor=SerialExecutor())
    assert len(result.windows) == 3
    window = result.windows[result.windows["test_start"] == "2020-07-01"]
    assert len(window) == 1
    config = ScenarioConfig.from_toml(tmp_path / "s.toml", [window["overrides"].iloc[0], 'data.start="2020-07-01"',
                                                            f'data.end="{window["test_end"].iloc[0]}"'])
    by_hand = attrs.evolve(config, events=(attrs.evolve(config.events[0], date="2020-07-01"),))
    run = Simulation(by_hand, audit=True).run()
    assert run is not None and window["test_digest"].iloc[0] == run.digest
    assert run.equity["flow"].iloc[0] == 1000.0  # booked at the window's first bar


def test_a_failed_combination_is_not_chosen_over_one_without_the_metric(tmp_path: Path) -> None:
    """fast_span=60 fails (it must be less than slow_span, 50); fast_span=10 runs but trades nothing in a
    one-month window, so its Sharpe ratio is undefined. The walk used to take the failed row (first in grid
    order) and stop with "every combination failed"; it chooses fast_span=10 in every window, as it does with
    the grid in the other order."""
    grid = ["strategy.params.fast_span=60,10"]
    result = walk_forward(SCENARIO, grid, "train=1m,test=1m", overrides=['data.end="2012-05-31"'],
                          executor=SerialExecutor(), out=tmp_path / "wf")
    reversed_order = walk_forward(SCENARIO, ["strategy.params.fast_span=10,60"], "train=1m,test=1m",
                                  overrides=['data.end="2012-05-31"'], executor=SerialExecutor())
    assert list(result.windows["overrides"]) == ["strategy.params.fast_span=10"] * 4
    assert list(result.windows["test_digest"]) == list(reversed_order.windows["test_digest"])
    assert result.failed == 0 and (tmp_path / "wf" / "walk_forward_train.csv").exists()


def test_a_failing_test_run_is_recorded_in_its_window_and_the_walk_goes_on(tmp_path: Path) -> None:
    """A withdrawal of 95,000 on 2013-06-03 exceeds the cash the chosen top_n=2 holds in window 1's test run
    (2013-01-03 to 2014-01-02), and every training run of window 2 (2013-01-03 to 2014-01-02) as well. Both
    windows are recorded as failed, with the error and the window's dates and overrides, and the three files
    are written; it used to stop with the bare handler error and write nothing."""
    (tmp_path / "wd.toml").write_text(f'extends = "{SCENARIO.as_posix()}"\n[[events]]\ndate = "2013-06-03"\n'
                                      'type = "withdrawal"\namount = 95_000.0\n')
    result = walk_forward(tmp_path / "wd.toml", ["strategy.params.top_n=1,2"], "train=1y,test=1y",
                          executor=SerialExecutor(), out=tmp_path / "wf")
    assert list(result.windows["test_status"]) == ["failed", "failed"] and result.failed == 2
    first = result.windows.iloc[0]
    assert first["overrides"] == "strategy.params.top_n=2" and "AccountingError: withdrawal of 95,000.00" in first[
        "test_error"]
    assert pd.isna(result.windows["combination"].iloc[1])
    assert result.windows["test_error"].iloc[1].startswith("every combination failed on the training window")
    assert result.first_error() == ("window 1 (train 2012-01-03 to 2013-01-02, test 2013-01-03 to 2014-01-02), "
                                    "the test run of strategy.params.top_n=2: " + first["test_error"])
    assert np.isnan(result.total_return) and result.equity.empty
    assert (tmp_path / "wf" / "walk_forward_train.csv").exists()


def test_a_failing_test_run_leaves_the_other_windows_and_no_total_return(tmp_path: Path) -> None:
    """The same withdrawal with 6-month windows: it falls in window 2's test run (2013-01-03 to 2013-07-02)
    and in every training run of window 3 (2013-01-03 to 2013-07-02), so those two windows fail; windows 1, 4
    and 5 (no withdrawal in their runs) run, and the curve holds those windows only, with no total return."""
    (tmp_path / "wd.toml").write_text(f'extends = "{SCENARIO.as_posix()}"\n[[events]]\ndate = "2013-06-03"\n'
                                      'type = "withdrawal"\namount = 95_000.0\n')
    result = walk_forward(tmp_path / "wd.toml", ["strategy.params.top_n=1,2"], "train=6m,test=6m",
                          executor=SerialExecutor())
    assert list(result.windows["test_status"]) == ["ok", "failed", "failed", "ok", "ok"]
    # Counts stay whole beside the failed windows' missing ones (no 12.0 trades, no combination 1.0).
    assert str(result.windows["test_trades"].dtype) == str(result.windows["combination"].dtype) == "Int64"
    assert result.windows["test_trades"].isna().tolist() == [False, True, True, False, False]
    assert sorted(set(result.equity["window"])) == [1, 4, 5]
    assert np.isnan(result.total_return)
