"""The report of a run with nothing to chart: no rebalance (a schedule longer than the data, a one-bar window,
a run that stopped before its first rebalance) or no bar at all (a run that stopped on its first bar).

Each is a real run of a bundled data set; the page and the PNGs are written, and every chart or table that
would be empty says why instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eventbt.cli import main
from eventbt.display.svg import bar_chart, line_chart, stacked_area
from eventbt.report.png import PNG_NAMES

ROOT = Path(__file__).resolve().parents[2]
NEXT_OPEN = ROOT / "scenarios" / "ema_next_open.toml"
LONG_SHORT = ROOT / "scenarios" / "long_short.toml"
CSVDIR = ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily"

NO_REBALANCE = "No rebalance: the run never set target weights."
NO_FILLS = "No fills: the run traded nothing."
NO_BARS = "No bars: the run stopped before its first bar."
NO_SIGNAL = "No rebalance: the audit log holds no signal"


def _chart(page: str, kind: str) -> str:
    """The ``<svg>`` of the chart ``kind`` on ``page``."""
    found = re.search(rf'<svg class="chart" data-chart="{kind}".*?</svg>', page, flags=re.S)
    assert found is not None, kind
    return found.group(0)


def _assert_no_rebalance_page(page: str) -> None:
    """The weights, turnover and costs charts are empty and say why; so do the rebalances and the trades."""
    assert NO_REBALANCE in _chart(page, "weights") and 'data-empty="1"' in _chart(page, "weights")
    for kind in ("turnover", "costs"):
        assert NO_FILLS in _chart(page, kind) and "<path" not in _chart(page, kind)
    assert NO_SIGNAL in page
    assert f'<p data-empty="trades">{NO_FILLS}</p>' in page


def _failing_scenario(folder: Path, rebalance: str) -> Path:
    """A scenario on the bundled csvdir data whose weights sum to 1.2, so it stops at its first rebalance."""
    path = folder / f"sum_{rebalance}.toml"
    path.write_text(f'[data]\npath = "{CSVDIR.as_posix()}"\nformat = "per_symbol_dir"\n\n[strategy]\n'
                    'name = "static_weights"\n\n[strategy.params]\nweights = { AAPL = 0.6, KO = 0.6 }\n\n'
                    f'[schedule]\nrebalance = "{rebalance}"\n')
    return path


@pytest.mark.parametrize("overrides", [
    ["schedule.every_n_bars=100000"],  # the first rebalance would be bar 100,000; the data has 753
    ["data.start=2013-01-02", "data.end=2013-01-02"],  # one bar, before the 50-bar EMA is ready
])
def test_run_report_of_a_run_that_never_rebalanced(tmp_path: Path, overrides: list[str]) -> None:
    """`eventbt run --out DIR --report` of a run without a rebalance writes the report (it raised IndexError
    in the weights chart), whose charts and tables say there was none."""
    out = tmp_path / "run"
    sets = [arg for override in overrides for arg in ("--set", override)]
    assert main(["run", str(NEXT_OPEN), "--out", str(out), "--report", "--quiet", *sets]) == 0
    page = (out / "report.html").read_text()
    _assert_no_rebalance_page(page)
    assert 'data-empty="1"' not in _chart(page, "equity-linear")  # the bars are there: a flat line of cash


def test_margin_run_that_never_rebalanced(tmp_path: Path) -> None:
    """A margin account's report charts weights as lines, one per symbol held: with none held the chart says so
    (it raised ValueError taking the minimum of no series). Its strategy, an EMA crossover with a slow span longer
    than the data, never has the history to set target weights."""
    out = tmp_path / "run"
    overrides = ["strategy.name=ema_allocation", "strategy.params={ fast_span = 5, slow_span = 5000, top_n = 2 }"]
    sets = [arg for override in overrides for arg in ("--set", override)]
    assert main(["run", str(LONG_SHORT), "--out", str(out), "--report", "--quiet", *sets]) == 0
    page = (out / "report.html").read_text()
    _assert_no_rebalance_page(page)
    assert 'data-empty="1"' not in _chart(page, "exposure")  # zero exposure on every bar, drawn


def test_report_of_a_run_that_failed_before_its_first_rebalance(tmp_path: Path) -> None:
    """`eventbt report DIR` (and --png) on a run that stopped at its first month end: the page and the five PNGs
    are written; the drawdown sentence says there was none rather than naming a peak never left."""
    out = tmp_path / "run"
    assert main(["run", str(_failing_scenario(tmp_path, "monthly")), "--out", str(out), "--quiet"]) == 2
    assert main(["report", str(out), "--no-explorer", "--png", str(tmp_path / "png")]) == 0
    page = (out / "report.html").read_text()
    _assert_no_rebalance_page(page)
    assert "INCOMPLETE: failed" in page
    assert "No drawdown: the value never fell below an earlier peak." in page and "Deepest:" not in page
    for name in PNG_NAMES:
        assert (tmp_path / "png" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_report_of_a_run_that_failed_on_its_first_bar(tmp_path: Path) -> None:
    """A run stopped by its first bar's rebalance has no bar in equity.csv: every chart and the monthly table
    say so, the period is n/a, and the PNGs are written."""
    out = tmp_path / "run"
    assert main(["run", str(_failing_scenario(tmp_path, "daily")), "--out", str(out), "--quiet"]) == 2
    assert (out / "equity.csv").read_text().count("\n") == 1  # the header only
    assert main(["report", str(out), "--png", str(tmp_path / "png")]) == 0
    page = (out / "report.html").read_text()
    for kind in ("equity-linear", "equity-log", "drawdown"):
        assert NO_BARS in _chart(page, kind), kind
    assert f'<p data-empty="monthly">{NO_BARS}</p>' in page
    assert "n/a to n/a, 0 bars" in page
    assert sorted(path.name for path in (tmp_path / "png").iterdir()) == sorted(PNG_NAMES)


@pytest.mark.parametrize("chart", [
    lambda: stacked_area(np.array([], dtype="datetime64[D]"), ["A"], np.zeros((0, 1)), title="t", kind="k",
                         empty="none here"),
    lambda: bar_chart(np.array([], dtype="datetime64[D]"), [("a", np.array([]))], title="t", kind="k",
                      empty="none here"),
    lambda: line_chart(np.array(["2020-01-01"], dtype="datetime64[D]"), [], title="t", kind="k", empty="none here"),
    lambda: line_chart(np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
                       [("a", np.array([np.nan, -1.0]))], title="t", kind="k", log=True, empty="none here"),
])
def test_a_chart_with_nothing_to_draw_says_so(chart: object) -> None:
    """No date, no series, or no finite (positive, on a log scale) value: an empty chart with its note."""
    svg = chart()  # type: ignore[operator]
    assert svg.startswith('<svg class="chart" data-chart="k" data-empty="1"')
    assert ">none here</text>" in svg and "<path" not in svg


def test_a_flat_line_gets_round_ticks() -> None:
    """A constant 1,000,000 is padded by 4% of its level: 960k to 1.04M, five ticks 20k apart (the range, 80k,
    over five is 16k, rounded up to a 1-2-2.5-5 step: 20k), not 999,999.96 to 1,000,000.04 labelled 1e+03k."""
    dates = np.arange("2020-01-01", "2020-01-11", dtype="datetime64[D]")
    svg = line_chart(dates, [("cash", np.full(10, 1e6))], title="t", kind="k")
    ticks = re.findall(r'<text class="tick" x="64" [^>]*>([^<]*)</text>', svg)
    assert ticks == ["960k", "980k", "1M", "1.02M", "1.04M"]
