"""The defective real files of scenarios/data (see its PROVENANCE.md): each is handled by a documented
behaviour or reported with a clear warning."""

from __future__ import annotations

import csv
import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest

from eventbt.cli import main
from eventbt.data.checks import find_stale_prices
from eventbt.data.loaders import find_suspicious_jumps, load_prices
from eventbt.scenario.validate import validate

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
    # the stale stretch: most 1990-1995 closes repeat the previous one (not an error: find_stale_prices warns)
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


SKFOLIO = DATA / "skfolio" / "sp500_dataset.csv.gz"
PYPFOPT = DATA / "pypfopt" / "stock_prices.csv"
DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
STALE_HINT = "likely stale prices (set [data] stale_bars to change the length flagged, 0 to turn this off)"
JUMP_HINT = "likely an unadjusted split or other corporate action (the loaders apply no adjustment)"


def _raw_runs(symbol: str, min_bars: int) -> list[tuple[str, str, int, float]]:
    """(first date, last date, closes, price) of each run of identical close texts, read with csv and gzip."""
    with gzip.open(SKFOLIO, "rt", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(symbol)
    days = [(row[0], row[column]) for row in rows[1:] if row[column]]
    runs = [list(run) for _, run in itertools.groupby(days, key=lambda day: day[1])]
    return [(run[0][0], run[-1][0], len(run), float(run[0][1])) for run in runs if len(run) >= min_bars]


def test_rrc_stale_runs_in_the_skfolio_file_are_found() -> None:
    """Every run of 10+ identical RRC closes in the raw CSV is found, the first 69 bars at 3.322 from 1990-01-02."""
    expected = _raw_runs("RRC", 10)
    assert expected[0] == ("1990-01-02", "1990-04-09", 69, 3.322)  # PROVENANCE: flat at 3.322 for weeks
    prices = load_prices(SKFOLIO)
    found = find_stale_prices(prices)
    assert [(w.first, w.last, w.bars, w.price) for w in found] == expected
    assert {w.symbol for w in found} == {"RRC"}  # the 19 other symbols move at least every 9 bars


def _scenario(tmp_path: Path, data: Path, extra: str = "") -> Path:
    scenario = tmp_path / "defects.toml"
    scenario.write_text(f'[data]\npath = "{data.as_posix()}"\n{extra}'
                        '[strategy]\nname = "equal_weight"\n[run]\nprogress = false\n')
    return scenario


def test_a_run_on_stale_rrc_warns_once_for_its_stale_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt run` on RRC 1990-1995 prints the jump and one stale line; stale_bars = 0 drops the stale line."""
    runs = _raw_runs("RRC", 10)
    first, longest = runs[0], max(runs, key=lambda run: run[2])
    assert first == longest and (len(runs), runs[-1][1]) == (17, "1992-06-10")
    path = SKFOLIO.as_posix()
    scenario = _scenario(tmp_path, SKFOLIO, 'symbols = ["RRC"]\nend = "1995-12-29"\n')
    assert main(["run", str(scenario), "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"eventbt: warning: {path}: close for 'RRC' moves 3.322 -> 1.107 (x0.333) on 1990-04-10; {JUMP_HINT}",
        f"eventbt: warning: {path}: close for 'RRC' stays unchanged for 10 or more bars 17 times from 1990-01-02 "
        f"to 1992-06-10, the longest at 3.322 for 69 bars from 1990-01-02 to 1990-04-09; {STALE_HINT}",
    ]
    documented = warnings[1].removeprefix(f"eventbt: warning: {path}")
    assert f"data/skfolio/sp500_dataset.csv.gz{documented}" in DOC
    assert main(["run", str(scenario), "--quiet", "--set", "data.stale_bars=0"]) == 0
    assert [line for line in capsys.readouterr().err.splitlines() if "warning" in line] == warnings[:1]


def test_a_tighter_jump_threshold_flags_the_spurious_ge_dividend_jump() -> None:
    """GE 1.464624 -> 1.608741 (x1.0984) on 1993-03-03: under 1/0.6 = 1.667 and 1/0.9 = 1.111, over 1/0.92 = 1.087."""
    prices = load_prices(PYPFOPT, symbols=["GE"])
    at = {threshold: [j.date for j in find_suspicious_jumps(prices, threshold)] for threshold in (0.6, 0.9, 0.92)}
    assert "1993-03-03" not in at[0.6] and "1993-03-03" not in at[0.9] and "1993-03-03" in at[0.92]


def test_validate_lists_data_warnings_under_the_scenario_threshold(tmp_path: Path) -> None:
    """`eventbt validate` with jump_threshold = 0.92 lists the GE jump as a warning, and the scenario stays valid."""
    scenario = _scenario(tmp_path, PYPFOPT, 'symbols = ["GE"]\nstart = "1993-01-04"\nend = "1993-03-31"\n')
    assert validate(scenario).warnings == ()
    report = validate(scenario, ["data.jump_threshold=0.92"])
    path = PYPFOPT.as_posix()
    # pypfopt's GE closes: 1.464624 on 1993-03-02, 1.608741 on 1993-03-03; 1.608741 / 1.464624 = 1.0984
    message = f"{path}: close for 'GE' moves 1.46462 -> 1.60874 (x1.098) on 1993-03-03; {JUMP_HINT}"
    assert report.ok and report.warnings == (message,)
    assert f"  warnings:\n    {message}" in report.format()
    assert message.replace(path, "data/pypfopt/stock_prices.csv") in DOC
