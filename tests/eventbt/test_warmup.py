"""The warm-up: bars only the strategy sees, before the first tradable bar; and walk-forward windows that use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eventbt
from eventbt.data.loaders import load_prices
from eventbt.data.warmup import warmup_warnings, with_warmup
from eventbt.errors import DataError
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from eventbt.sweeps.executors import SerialExecutor
from eventbt.sweeps.walkforward import walk_forward

ROOT = Path(__file__).resolve().parents[2]
RECORDER = "tests.handlers.actions_fixtures:Recorder"
NEXT_OPEN = ROOT / "scenarios" / "ema_next_open.toml"
DATES = np.array([np.datetime64("2024-01-01") + np.timedelta64(day, "D") for day in range(10)], dtype="datetime64[ns]")


def _run(warmup: int | str, *, start: str = "", handlers: list[dict[str, Any]] | None = None,
         events: list[dict[str, Any]] | None = None) -> Simulation:
    close = np.linspace(10, 19, 10).reshape(-1, 1)
    prices = load_prices_like(close)
    raw: dict[str, Any] = {"data": {"path": "unused.csv", "start": start},
                           "strategy": {"name": RECORDER, "params": {"weights": {"A": 0.5}}},
                           "schedule": {"rebalance": "daily"}, "run": {"warmup": warmup}}
    if handlers:
        raw["handlers"] = handlers
    if events:
        raw["events"] = events
    config = ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent)
    simulation = Simulation(config, prices=with_warmup(prices, start=start, end="", warmup=warmup, path="p.csv"))
    simulation.run()
    return simulation


def load_prices_like(close: np.ndarray) -> PriceData:
    return PriceData(dates=DATES[: len(close)], symbols=("A",), close=close)


def _types(simulation: Simulation) -> list[tuple[str, int]]:
    return [(r["type"], r["data"]["bar"]) for r in simulation.audit.records() if r.get("record") == "publish"]


def test_the_warm_up_bars_feed_the_strategy_and_nothing_else() -> None:
    """warmup = 3, start empty: bars 0-2 reach update only; targets are asked, orders made, rows kept from bar 3."""
    simulation = _run(3)
    generator = simulation.strategy.generator
    assert generator.bars == list(range(10))
    assert generator.asked == list(range(3, 10))
    published = _types(simulation)
    assert published[:3] == [("WarmupBarEvent", 0), ("WarmupBarEvent", 1), ("WarmupBarEvent", 2)]
    assert ("MarketEvent", 3) in published and not any(t == "MarketEvent" and b < 3 for t, b in published)
    result = simulation.result()
    assert str(result.equity.index[0].date()) == "2024-01-04" and len(result.equity) == 7
    assert (result.summary["start"], result.summary["bars"], result.summary["warmup_bars"]) == ("2024-01-04", 7, 3)
    # The first buy is at bar 3's close, 13: floor(0.5 x 1,000,000 / 13) = 38,461 shares.
    assert (result.trades["date"].iloc[0].date().isoformat(), int(result.trades["quantity"].iloc[0])) == (
        "2024-01-04", 38_461)
    header = simulation.audit.records()[0]
    assert (header["bars"], header["warmup_bars"]) == (10, 3)


def test_warm_up_bars_before_start_and_a_warm_up_date() -> None:
    """warmup = 2 with start 01-05 warms up on 01-03 and 01-04; warmup = "2024-01-02" on 01-02 .. 01-04."""
    by_bars = _run(2, start="2024-01-05")
    assert by_bars.prices.warmup_bars == 2 and str(by_bars.prices.dates[0])[:10] == "2024-01-03"
    by_date = _run("2024-01-02", start="2024-01-05")
    assert by_date.prices.warmup_bars == 3 and str(by_date.prices.dates[0])[:10] == "2024-01-02"
    assert by_date.result().summary["start"] == "2024-01-05"


def test_a_short_warm_up_is_noted_and_warned_about() -> None:
    """Asked for 5 bars before 01-03 with two in the data: two bars, a note in the log and a warning line."""
    simulation = _run(5, start="2024-01-03")
    assert simulation.prices.warmup_bars == 2
    notes = [r for r in simulation.audit.records() if r.get("record") == "note" and r["code"] == "warmup_shortened"]
    assert [(n["requested"], n["bars"]) for n in notes] == [(5, 2)]
    # the run's warnings (what `eventbt run` prints, and eventbt.run logs) have the line validate gives
    assert [line for line in simulation.data_warnings if "[run] warmup" in line] == [
        "unused.csv: [run] warmup = 5 bars, but the data has only 2 before [data] start 2024-01-03; the strategy "
        "warms up on those"]
    prices = PriceData(dates=DATES, symbols=("A",), close=np.ones((10, 1)), warmup_bars=2)
    assert warmup_warnings(prices, warmup=5, start="2024-01-03", path="prices.csv") == [
        "prices.csv: [run] warmup = 5 bars, but the data has only 2 before [data] start 2024-01-03; the strategy "
        "warms up on those"]
    docs = (ROOT / "docs" / "errors.md").read_text()
    assert ("prices.csv: [run] warmup = 50 bars, but the data has only 20 before [data] start 2024-02-01; the "
            "strategy warms up on those") in docs


def test_a_warm_up_date_before_the_data_is_noted_and_warned_about() -> None:
    """A warm-up from 2023-12-01 with the data starting on 2024-01-01 and [data] start 2024-01-03 warms up on
    01-01 and 01-02, two bars (counted by hand), shortened as the bar-count form is: it went without a word.
    From the data's first date itself nothing is shortened."""
    simulation = _run("2023-12-01", start="2024-01-03")
    assert simulation.prices.warmup_bars == 2
    notes = [r for r in simulation.audit.records() if r.get("record") == "note" and r["code"] == "warmup_shortened"]
    assert [(n["requested"], n["bars"], n["start"]) for n in notes] == [("2023-12-01", 2, "2024-01-03")]
    line = ("unused.csv: [run] warmup = 2023-12-01, but the data starts on 2024-01-01, 2 bars before [data] start "
            "2024-01-03; the strategy warms up on those")
    assert [line for line in simulation.data_warnings if "[run] warmup" in line] == [line]
    full = _run("2024-01-01", start="2024-01-03")
    assert full.prices.warmup_bars == 2 and not [line for line in full.data_warnings if "[run] warmup" in line]
    assert not [r for r in full.audit.records() if r.get("code") == "warmup_shortened"]


QUANDL = ROOT / "scenarios" / "data" / "zipline" / "quandl_samples" / "QUANDL_ARCHIVE.zip"


@pytest.mark.parametrize(("load", "options", "message"), [
    (lambda: load_prices(QUANDL, symbols=["AAPL"]), {"start": "", "end": "", "warmup": 300},
     "prices.csv: [run] warmup = 300 leaves no bar to trade: the warm-up reaches to 2014-12-31, the last bar of the "
     "run; expected a shorter warm-up or a later [data] end"),
    (lambda: PriceData(dates=np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]"), symbols=("A",),
                       close=np.ones((2, 1))),
     {"start": "2021-01-01", "end": "", "warmup": 5}, "prices.csv: start 2021-01-01 is after the last date "
     "(2020-01-03); expected a start between 2020-01-02 and 2020-01-03"),
    # a weekend window: the data read up to its end stops the Friday before (it said 'start is after the last
    # date (2020-01-03)', though the file goes on)
    (lambda: PriceData(dates=np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]"), symbols=("A",),
                       close=np.ones((2, 1))),
     {"start": "2020-01-04", "end": "2020-01-05", "warmup": 5}, "prices.csv: no dates from 2020-01-04 to "
     "2020-01-05; expected a range holding at least one date (the last date before 2020-01-04 is 2020-01-03)"),
])
def test_a_warm_up_that_does_not_fit_is_an_error(load: Any, options: dict[str, Any], message: str) -> None:
    """A warm-up over the whole of the Quandl sample (252 bars), a start after the data: one-line DataErrors."""
    with pytest.raises(DataError) as caught:
        with_warmup(load(), path="prices.csv", **options)
    assert str(caught.value) == message
    docs = (ROOT / "docs" / "errors.md").read_text()
    assert message in docs


def test_an_event_dated_in_the_warm_up_is_refused() -> None:
    """A deposit on 01-02 (bar 1, in a 3-bar warm-up) is before the run's first day, 01-04: an error, as it is
    without a warm-up (it was booked at bar 3, the first tradable bar, two days after its date). One dated on the
    first tradable day is booked there."""
    from eventbt.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"\[events\[0\]\] date 2024-01-02 is before the run's first day "
                                            r"\(2024-01-04, the first tradable bar\)"):
        _run(3, events=[{"date": "2024-01-02", "type": "deposit", "amount": 1000.0}])
    simulation = _run(3, events=[{"date": "2024-01-04", "type": "deposit", "amount": 1000.0}])
    flows = [r["data"]["bar"] for r in simulation.audit.records() if r.get("type") == "CashFlowEvent"]
    assert flows == [3]
    assert simulation.result().equity["flow"].iloc[0] == 1000.0


def test_no_fee_accrues_over_the_warm_up() -> None:
    """A daily management fee charges nothing at the first tradable bar (no day of the run has passed) and a day
    at the next: 1% a year on the value, x 1 / 365."""
    simulation = _run(3, handlers=[{"name": "management_fee", "params": {"annual_rate": 0.01}}])
    fees = [(r["data"]["bar"], r["data"]["details"]["days"]) for r in simulation.audit.records()
            if r.get("type") == "FeeEvent"]
    assert fees[0] == (4, 1.0)


def test_verify_replays_a_run_with_a_warm_up(tmp_path: Path) -> None:
    """eventbt verify finds the books of a warmed-up run (equity.csv starting at bar 40) in agreement."""
    eventbt.run(NEXT_OPEN, overrides=["run.warmup=40", "data.start=2013-01-02"], out=tmp_path)
    report = eventbt.verify_run(tmp_path)
    assert report.ok, report.disagreement


def test_walk_forward_test_windows_start_with_warm_indicators(tmp_path: Path) -> None:
    """With [run] warmup = 50 (the slow EMA's span) each test run trades from its first weekly bar, and is the run
    `eventbt run --set run.warmup=50 --set data.start=... --set data.end=...` gives."""
    result = walk_forward(NEXT_OPEN, ["strategy.params.fast_span=5,10"], "train=1y,test=1y",
                          overrides=["run.warmup=50"], executor=SerialExecutor())
    for _, window in result.windows.iterrows():
        overrides = [f"strategy.params.fast_span={5 if window['combination'] == 0 else 10}", "run.warmup=50",
                     f'data.start="{window["test_start"]}"', f'data.end="{window["test_end"]}"']
        direct = eventbt.run(NEXT_OPEN, overrides=overrides)
        assert direct.digest == window["test_digest"]
        first_signal = min(r["time"][:10] for r in direct.audit.records() if r.get("type") == "SignalEvent")
        first_friday = str(direct.equity.index[direct.equity.index.day_of_week == 4][0].date())
        assert first_signal <= first_friday  # warm from the first week: the signal is not ~50 bars late
    cold = eventbt.run(NEXT_OPEN, overrides=[f'data.start="{result.windows["test_start"].iloc[0]}"'])
    cold_first = min(r["time"][:10] for r in cold.audit.records() if r.get("type") == "SignalEvent")
    assert cold_first > str(cold.equity.index[40].date())  # without it: EMA(50) needs 50 closes first


@pytest.mark.parametrize(("start", "end", "expected"), [
    # DATES run Monday 2024-01-01 .. Wednesday 01-10. 2023-12-01 is 31 days before 01-01; 2024-02-01 is 22 days
    # after 01-10; 2023-12-25 is 7 days before 01-01 and 2024-01-17 7 days after 01-10: within the slack.
    ("2023-12-01", "", ["p.csv: [data] start 2023-12-01 is 31 days before the data's first date from then on, "
                        "2024-01-01, where the run starts; check the date, or leave start empty to start with the "
                        "data"]),
    ("", "2024-02-01", ["p.csv: [data] end 2024-02-01 is 22 days after the data's last date up to then, 2024-01-10, "
                        "where the run ends; check the date, or leave end empty to run to the end of the data"]),
    ("2023-12-25", "2024-01-17", []),
    ("2024-01-03", "2024-01-09", []),
])
def test_a_data_window_far_outside_the_data_is_warned_about(start: str, end: str, expected: list[str]) -> None:
    """A [data] start or end well outside the data (a year written wrong) was accepted without a word: the run
    simply started (ended) with the data. More than a week away it is warned of, naming the key, the date given
    and the data's first (last) date; day counts worked out on the calendar."""
    from eventbt.data.warmup import window_warnings

    prices = PriceData(dates=DATES, symbols=("A",), close=np.ones((10, 1)))
    cut = prices.select(start=np.datetime64(start or "2024-01-01", "ns"), end=np.datetime64(end or "2024-01-10", "ns"))
    assert window_warnings(cut, start=start, end=end, path="p.csv") == expected


def test_validate_run_and_eventbt_run_warn_of_a_start_years_before_the_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """[data] start 2002-01-06 for a file of 2020-01-06 .. 01-10 (6,574 days: 18 years of 365 days and 4 leap
    days, 2004 .. 2016): `eventbt validate`, `eventbt run` and eventbt.run say the same line, and the run's audit
    log has it as a data_warning note."""
    from eventbt.cli import main
    from eventbt.scenario.validate import validate

    days = ["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09", "2020-01-10"]
    (tmp_path / "prices.csv").write_text("date,A\n" + "".join(f"{day},10\n" for day in days))
    scenario = tmp_path / "s.toml"
    scenario.write_text('[data]\npath = "prices.csv"\nstart = "2002-01-06"\n[strategy]\nname = "equal_weight"\n'
                        "[run]\nprogress = false\n")
    line = ("prices.csv: [data] start 2002-01-06 is 6,574 days before the data's first date from then on, "
            "2020-01-06, where the run starts; check the date, or leave start empty to start with the data")
    assert validate(scenario).warnings == (line,)
    capsys.readouterr()
    assert main(["run", str(scenario), "--quiet", "--plain"]) == 0
    assert f"eventbt: warning: {line}" in capsys.readouterr().err.splitlines()
    with caplog.at_level("WARNING", logger="eventbt"):
        eventbt.run(ScenarioConfig.from_toml(scenario))
    assert line in caplog.messages
    simulation = Simulation(ScenarioConfig.from_toml(scenario))
    assert [r["message"] for r in simulation.audit.records() if r.get("code") == "data_warning"] == [line]
