"""The report of a tiny run (one symbol, three days) worked out by hand: its wording, its rebalances when the
event explorer cannot be built, a failed run's report and two runs compared.

The data: AAA closes at 100.00, 101.00 and 99.50 on 2021-01-04, 05 and 06. A daily ``static_weights`` of 100%
AAA with a 0.1% commission buys 9,990 shares on 2021-01-04 (1,000,000 / (100 x 1.001) = 9,990.01, floored),
paying 999,000.00 and 999.00 commission, which leaves 1.00 of cash; the later rebalances are a share short of
their target at most and trade nothing.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from eventbt.cli import main

PRICES = "date,AAA\n2021-01-04,100.0\n2021-01-05,101.0\n2021-01-06,99.5\n"
SCENARIO = """[scenario]
name = "tiny"
[data]
path = "prices.csv"
[strategy]
name = "static_weights"
[strategy.params]
weights = {{ AAA = {weight} }}
[schedule]
rebalance = "daily"
[execution.commission]
model = "percentage"
rate = 0.001
"""


def _scenario(folder: Path, *, weight: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prices.csv").write_text(PRICES)
    path = folder / "tiny.toml"
    path.write_text(SCENARIO.format(weight=weight))
    return path


def _text(page: str, section: str) -> str:
    """The text of the page's ``<section id=SECTION>``, its tags taken out."""
    found = re.search(rf'<section id="{section}".*?</section>', page, flags=re.S)
    assert found is not None, section
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def test_counts_and_days_are_worded_and_formatted_as_elsewhere(tmp_path: Path) -> None:
    """One fill, one rebalance with fills, three bars: singular where it is one. The value peaks on 2021-01-05
    (1.00 + 9,990 x 101.00 = 1,008,991.00) and ends below it (1.00 + 9,990 x 99.50 = 994,006.00: -1.49%), not
    recovered, one calendar day from the peak to the last bar."""
    out = tmp_path / "run"
    assert main(["run", str(_scenario(tmp_path / "tiny")), "--out", str(out), "--quiet", "--report"]) == 0
    page = (out / "report.html").read_text()
    assert "3 bars, 1 rebalance with fills." in page
    assert "<h2>Trades (1 fill)</h2>" in page
    assert "Deepest: -1.49% from 2021-01-05 to 2021-01-06, not recovered by the last bar (1 day)." in page


def test_drawdown_days_have_thousands_separators() -> None:
    """The demo's deepest drawdown lasted 2,082 days, written as the metrics table writes it."""
    from eventbt.report.html import _deepest

    sentence = _deepest({"max_drawdown": -0.547, "max_drawdown_peak": "2007-10-29",
                         "max_drawdown_trough": "2009-03-31", "max_drawdown_recovery": "2013-07-11",
                         "max_drawdown_days": 2082})
    assert sentence == "Deepest: -54.70% from 2007-10-29 to 2009-03-31, recovered 2013-07-11 (2,082 days)."


def test_a_run_that_holds_nothing_says_so_in_its_weights_chart(tmp_path: Path) -> None:
    """A target of 0% AAA rebalances three times to cash: weights.csv has three rows of zeros, and the weights
    chart says only cash was held, as a run that never rebalanced says it never did."""
    out = tmp_path / "run"
    assert main(["run", str(_scenario(tmp_path / "tiny", weight=0.0)), "--out", str(out), "--quiet",
                 "--report"]) == 0
    page = (out / "report.html").read_text()
    chart = re.search(r'<svg class="chart" data-chart="weights".*?</svg>', page, flags=re.S)
    assert chart is not None and "Only cash: no rebalance held a position." in chart.group(0)


def test_compared_runs_are_named_as_compare_names_them(tmp_path: Path) -> None:
    """`report A --compare B` heads both runs' columns with their folders' names, as `eventbt compare` does
    (the scenario of both is "tiny", so it would not tell them apart); two folders of one name get their parent
    folder's too. B's 0.2% commission changes the first sizing notice, so the runs differ."""
    scenario = _scenario(tmp_path / "tiny")
    for out, extra in ((tmp_path / "first", []), (tmp_path / "second", ["--set", "execution.commission.rate=0.002"]),
                       (tmp_path / "x" / "run", []), (tmp_path / "y" / "run", [])):
        assert main(["run", str(scenario), "--out", str(out), "--quiet", *extra]) == 0
    page = tmp_path / "a.html"
    assert main(["report", str(tmp_path / "first"), "--compare", str(tmp_path / "second"), "--out", str(page),
                 "--no-explorer"]) == 0
    assert '<th scope="col">first</th><th scope="col">second</th>' in page.read_text()
    assert main(["report", str(tmp_path / "x" / "run"), "--compare", str(tmp_path / "y" / "run" / "audit.jsonl"),
                 "--out", str(page), "--no-explorer"]) == 0
    assert "<h2 id=\"compare-title\">Compared with y/run</h2>" in page.read_text()


def test_without_the_data_each_rebalance_is_a_row_to_click(tmp_path: Path) -> None:
    """A run whose data folder is gone has no explorer; its rebalances are the rows `--no-explorer` gives, each
    with its orders, fills, notices and fees from the audit log, and no timeline whose cash columns (the
    explorer's) would be blank. The 2021-01-04 row: one order of 9,990 AAA filled at 100.00 with 999.00
    commission (see the module docstring), scaled for cash."""
    out = tmp_path / "run"
    scenario = _scenario(tmp_path / "tiny")
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    shutil.rmtree(scenario.parent)
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert 'data-explorer="unavailable"' in page and "not found" in _text(page, "rebalances")
    assert 'data-table="timeline"' not in page and "Cash before" not in page
    assert main(["report", str(out), "--no-explorer", "--out", str(tmp_path / "plain.html")]) == 0
    plain = (tmp_path / "plain.html").read_text()
    rows = re.findall(r'<details class="rebalance".*?</details>', page, flags=re.S)
    assert rows == re.findall(r'<details class="rebalance".*?</details>', plain, flags=re.S) and len(rows) == 3
    first = re.sub(r"<[^>]+>", " ", rows[0])
    assert re.search(r"\b4 +AAA +BUY +9,990 +100\.00% +100\.00 +100\.00 +999\.00 +0\.00 +filled\b", first)
    assert "scaled_for_cash" in first
    # The notice's numbers as the log holds them (they printed to six figures: available=1e+06, cost=1.001e+06):
    # 10,000 shares wanted at 100.00 with 0.1% commission cost 1,001,000.00; 1,000,000 / 1,001,000 is the factor.
    assert f"available=1000000.0, cost=1001000.0, factor={1_000_000 / 1_001_000!r}, quantity=9990" in first


def test_a_comparison_without_the_explorer_marks_the_rows(tmp_path: Path) -> None:
    """`report A --compare B --no-explorer` marks the rebalances whose orders differ in the list of rows: with a
    0.2% commission B buys 9,980 AAA on 2021-01-04 (1,000,000 / (100 x 1.002) = 9,980.04), A 9,990."""
    scenario = _scenario(tmp_path / "tiny")
    assert main(["run", str(scenario), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["run", str(scenario), "--out", str(tmp_path / "b"), "--quiet",
                 "--set", "execution.commission.rate=0.002"]) == 0
    assert main(["report", str(tmp_path / "a"), "--compare", str(tmp_path / "b"), "--no-explorer"]) == 0
    page = (tmp_path / "a" / "report.html").read_text()
    marked = re.findall(r'<details class="rebalance" id="rebalance-([0-9-]+)"[^>]*data-differs="1"', page)
    assert "2021-01-04" in marked and 'href="#rebalance-2021-01-04"' in page
    assert 'data-table="timeline"' not in page


FAILING = """extends = "tiny.toml"
[scenario]
name = "fail"
[[events]]
date = "2021-01-05"
type = "withdrawal"
amount = 5000.0
"""


def _failing(folder: Path) -> Path:
    """The tiny run with a withdrawal of 5,000.00 on 2021-01-05, when the cash is 1.00: it fails on that bar."""
    _scenario(folder)
    path = folder / "fail.toml"
    path.write_text(FAILING)
    return path


def test_run_report_writes_the_report_of_a_failed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run --report` of a run that fails still writes the partial run's report, the same page `eventbt report`
    writes of the folder afterwards, then exits 2 with the error."""
    out = tmp_path / "run"
    assert main(["run", str(_failing(tmp_path / "tiny")), "--out", str(out), "--quiet", "--report"]) == 2
    captured = capsys.readouterr()
    assert f"report: {out / 'report.html'}" in captured.out and "withdrawal of 5,000.00" in captured.err
    page = (out / "report.html").read_text()
    assert main(["report", str(out), "--out", str(tmp_path / "again.html")]) == 0
    assert page == (tmp_path / "again.html").read_text()


def test_a_failed_runs_report_says_why_it_stopped(tmp_path: Path) -> None:
    """The report of a failed run states the audit log footer's error under its INCOMPLETE badge."""
    import json

    out = tmp_path / "run"
    assert main(["run", str(_failing(tmp_path / "tiny")), "--out", str(out), "--quiet"]) == 2
    footer = json.loads((out / "audit.jsonl").read_text().splitlines()[-1])
    assert footer["record"] == "footer" and footer["status"] == "failed"
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    header = re.search(r"<header>.*?</header>", page, flags=re.S)
    assert header is not None
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", header.group(0))).split())
    assert f"INCOMPLETE: failed The run stopped on 2021-01-05: {footer['error']}" in text
    assert "withdrawal of 5,000.00 on 2021-01-05 exceeds the cash of 1.00" in footer["error"]


def test_the_rebalance_of_the_failing_bar_says_why_its_turnover_is_na(tmp_path: Path) -> None:
    """The 2021-01-05 rebalance traded nothing on the bar the run failed on, which has no equity.csv row (its
    only row is 2021-01-04), so its turnover has no total value to divide by: n/a, and the page says why."""
    out = tmp_path / "run"
    assert main(["run", str(_failing(tmp_path / "tiny")), "--out", str(out), "--quiet"]) == 2
    assert (out / "equity.csv").read_text().splitlines()[1:] == ["2021-01-04,1.0,999000.0,999001.0,0.0"]
    assert main(["report", str(out)]) == 0
    row = re.search(r'<details class="rebalance" id="rebalance-2021-01-05".*?</summary>',
                    (out / "report.html").read_text(), flags=re.S)
    assert row is not None
    assert ('<span class="num" title="no total value for this bar in equity.csv: the run stopped during it">n/a'
            in row.group(0))


def test_the_footer_is_read_from_the_logs_end_whatever_its_length(tmp_path: Path) -> None:
    """A footer whose error is longer than the first piece read from the file's end is still read whole."""
    import json

    from eventbt.report.data import read_footer

    log = tmp_path / "audit.jsonl"
    footer = {"record": "footer", "status": "failed", "error": "x" * 300_000}
    log.write_text(json.dumps({"record": "header"}) + "\n" + json.dumps(footer) + "\n")
    assert read_footer(log) == footer
    log.write_text(json.dumps({"record": "header"}) + "\n")
    assert read_footer(log) is None and read_footer(tmp_path / "none.jsonl") is None
