"""The defective real files of scenarios/data (see its PROVENANCE.md): each is handled by a documented
behaviour or reported with a clear warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventbt.cli import main
from eventbt.loaders import find_suspicious_jumps, load_prices

DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"


def _close_on(prices, symbol: str, day: str) -> float:  # type: ignore[no-untyped-def]
    dates = prices.dates.astype("datetime64[D]").astype(str).tolist()
    return float(prices.close[dates.index(day), prices.symbols.index(symbol)])


def test_unadjusted_split_in_the_quandl_archive_is_flagged() -> None:
    """QUANDL_ARCHIVE.zip is raw: AAPL 645.57 -> 93.70 on 2014-06-09 (7:1) is its one suspicious jump."""
    prices = load_prices(DATA / "zipline" / "quandl_samples" / "QUANDL_ARCHIVE.zip")
    jumps = find_suspicious_jumps(prices)
    assert [(j.symbol, j.date, j.previous_close, j.close) for j in jumps] == [("AAPL", "2014-06-09", 645.57, 93.7)]
    assert jumps[0].ratio == pytest.approx(1 / 7, rel=0.02)  # 93.70 / 645.57 = 0.14514, 1/7 = 0.14286


def test_a_run_on_unadjusted_data_warns_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt run` over the raw pipeline AAPL file prints a one-line warning naming the file, date and move."""
    scenario = tmp_path / "split.toml"
    scenario.write_text(
        f'[data]\npath = "{(DATA / "zipline" / "pipeline_inputs").as_posix()}"\nsymbols = ["AAPL", "MSFT"]\n'
        '[strategy]\nname = "equal_weight"\n[run]\nprogress = false\n')
    assert main(["run", str(scenario), "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    data = (DATA / "zipline" / "pipeline_inputs").as_posix()
    assert warnings == [
        f"eventbt: warning: {data}: close for 'AAPL' moves 645.57 -> 93.7 (x0.145) on 2014-06-09; likely an "
        "unadjusted split or other corporate action (the loaders apply no adjustment)"]


@pytest.mark.parametrize(("symbol", "day", "before", "after"), [
    ("AAPL", "2014-06-09", "2014-06-06", 93.7),  # the split column says 7.0 here; prices are already adjusted
    ("KO", "2012-08-13", "2012-08-10", None),    # the split column says 2.0 here
])
def test_split_column_that_disagrees_with_adjusted_prices_is_not_applied(symbol: str, day: str, before: str,
                                                                         after: float | None) -> None:
    """csvdir_daily's split column is ignored: prices load as written, with no jump on the flagged days."""
    prices = load_prices(DATA / "zipline" / "csvdir_daily", symbols=[symbol])
    ratio = _close_on(prices, symbol, day) / _close_on(prices, symbol, before)
    assert 0.9 < ratio < 1.1  # applying the split again would make this 1/7 or 1/2
    if after is not None:
        assert _close_on(prices, symbol, day) == pytest.approx(after, abs=0.01)
    assert find_suspicious_jumps(prices) == []


def test_stale_rrc_and_its_one_third_drop_are_flagged() -> None:
    """skfolio's RRC falls 3.322 -> 1.107 on 1990-04-10 (x0.3332), a likely bad corporate action: flagged."""
    prices = load_prices(DATA / "skfolio" / "sp500_dataset.csv.gz", symbols=["RRC"], end="1995-12-29")
    jumps = find_suspicious_jumps(prices)
    assert [(j.symbol, j.date, j.previous_close, j.close) for j in jumps] == [("RRC", "1990-04-10", 3.322, 1.107)]
    # the stale stretch: most 1990-1995 closes repeat the previous one (not an error, not flagged)
    column = prices.close[:, 0]
    assert np.mean(column[1:] == column[:-1]) > 0.5


def test_spurious_dividend_date_jumps_pass_the_default_scan() -> None:
    """pypfopt's GE +9.8% on 1993-03-03 (skfolio: +0.9%) is inside the default band: a documented limit."""
    pypfopt = load_prices(DATA / "pypfopt" / "stock_prices.csv", symbols=["GE"])
    skfolio = load_prices(DATA / "skfolio" / "sp500_dataset.csv.gz", symbols=["GE"])
    spurious = _close_on(pypfopt, "GE", "1993-03-03") / _close_on(pypfopt, "GE", "1993-03-02")
    real = _close_on(skfolio, "GE", "1993-03-03") / _close_on(skfolio, "GE", "1993-03-02")
    assert 1.09 < spurious < 1.11 and 1.0 < real < 1.02
    assert not [j for j in find_suspicious_jumps(pypfopt) if j.date == "1993-03-03"]
    # a tighter band (0.9 .. 1/0.9 = 1.111) still misses +9.8%: one series alone cannot tell it from a real move
    assert not [j for j in find_suspicious_jumps(pypfopt, threshold=0.9) if j.date == "1993-03-03"]
