"""What compute_metrics and Result.metrics accept from Python: a benchmark series must have dates (a tz-naive
DatetimeIndex), the equity must be the equity frame, the risk-free rate a finite annual fraction; anything else is
a DataError saying what was given and the fix, never a figure computed from a misread input."""

from __future__ import annotations

import pandas as pd
import pytest

from eventbt.errors import DataError
from eventbt.results.metrics import compute_metrics

DAYS = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
EQUITY = pd.DataFrame({"total_value": [1000.0, 1010.0, 1000.0, 1030.0]}, index=DAYS)
LEVELS = pd.Series([100.0, 102.0, 99.0, 105.0], index=pd.to_datetime(["2023-12-29", "2024-01-03", "2024-01-04",
                                                                      "2024-01-05"]), name="IDX")


@pytest.mark.parametrize(("benchmark", "message"), [
    (pd.Series(LEVELS.to_numpy(), index=[str(d.date()) for d in LEVELS.index], name="IDX"),
     "benchmark column 'IDX' has text such as '2023-12-29' for dates; expected a DatetimeIndex"),
    (pd.Series(LEVELS.to_numpy(), index=[d.date() for d in LEVELS.index], name="IDX"),
     "benchmark column 'IDX' has datetime.date objects such as datetime.date(2023, 12, 29) for dates"),
    (LEVELS.tz_localize("UTC"), "benchmark column 'IDX' has dates with a time zone (UTC); expected dates without "
                                "one, as the run's: series.index = series.index.tz_localize(None)"),
    (pd.DataFrame({"IDX": LEVELS, "OTHER": LEVELS}), "benchmark is a DataFrame of 2 columns (IDX, OTHER); expected "
                                                     "one level series: pass one column, frame['NAME']"),
    ([100.0, 102.0], "benchmark is a list; expected a pandas Series of levels with a date index"),
])
def test_a_benchmark_without_dates_is_refused(benchmark: object, message: str) -> None:
    """A benchmark indexed by text or datetime.date (pd.read_csv without parse_dates) matched no run date and read as
    flat (return 0.0, beta None); a tz-aware one raised a TypeError, a DataFrame an AttributeError."""
    with pytest.raises(DataError) as caught:
        compute_metrics(EQUITY, benchmark=benchmark)
    assert str(caught.value).startswith(message)


def test_a_one_column_frame_is_its_column() -> None:
    """A one-column DataFrame is measured as its column; by hand, the levels carried to the run's dates are 100, 102,
    99, 105: a total return of 105 / 100 - 1 = 5%."""
    figures = compute_metrics(EQUITY, benchmark=LEVELS.to_frame())
    assert figures["benchmark_total_return"] == pytest.approx(0.05)
    assert figures["beta"] == compute_metrics(EQUITY, benchmark=LEVELS)["beta"]


@pytest.mark.parametrize(("equity", "message"), [
    (EQUITY["total_value"], "equity is a Series (a Series: pass the whole equity frame"),
    (EQUITY.rename(columns={"total_value": "value"}), "equity has no 'total_value' column (columns: value)"),
    (EQUITY.set_axis([str(d.date()) for d in DAYS]), "equity's index is text such as '2024-01-02', not dates"),
])
def test_an_equity_that_is_not_the_equity_frame_is_refused(equity: object, message: str) -> None:
    """compute_metrics given the total_value Series (not the frame) raised KeyError 'total_value'; now a DataError
    saying what it expected."""
    with pytest.raises(DataError) as caught:
        compute_metrics(equity)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("rate", "message"), [
    (5, "risk_free 5 is 500% a year; expected an annual rate as a fraction, 0.05 for 5%"),
    (-1.0, "risk_free -1 is -100% a year"),
    (float("nan"), "risk_free is nan; expected a finite annual rate"),
    (float("inf"), "risk_free is inf; expected a finite annual rate"),
])
def test_a_risk_free_rate_that_is_not_an_annual_fraction_is_refused(rate: float, message: str) -> None:
    """A rate of 5 was read as 500% a year, and nan or inf gave a null Sharpe without a word."""
    with pytest.raises(DataError) as caught:
        compute_metrics(EQUITY, risk_free=rate)
    assert str(caught.value).startswith(message)


def test_a_rate_below_100_percent_is_used() -> None:
    """A 5% rate is accepted and lowers the Sharpe ratio (the excess return falls by 0.05 / 252 a bar)."""
    assert compute_metrics(EQUITY, risk_free=0.05)["sharpe"] < compute_metrics(EQUITY)["sharpe"]


@pytest.mark.parametrize("command", ["show", "compare", "report"])
@pytest.mark.parametrize(("rate", "message"), [
    ("5", "argument --risk-free: rate 5 is 500% a year; expected an annual rate as a fraction, 0.05 for 5%"),
    ("nan", "argument --risk-free: rate is nan; expected a finite annual rate as a fraction"),
])
def test_the_commands_refuse_such_a_rate(command: str, rate: str, message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`--risk-free 5` of show, compare and report is refused before any folder is read (it was 500%)."""
    from eventbt.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main([command, "no-such-run", f"--risk-free={rate}"])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
