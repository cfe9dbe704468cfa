"""The report package and its commands: reading a run folder, the self-contained HTML, the PNG charts,
``eventbt show``, ``eventbt compare`` and the notebook view, on real runs of the bundled scenario."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.errors import DataError
from eventbt.report import load_benchmark, load_run, render_html, write_report
from eventbt.report.png import PNG_NAMES
from eventbt.results import Result
from eventbt.simulation import run

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_rotation.toml"
BENCHMARK = ROOT / "scenarios" / "data" / "skfolio" / "sp500_index.csv.gz"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The bundled scenario run twice into temporary folders: as written, and with slippage switched off."""
    base = tmp_path_factory.mktemp("runs")
    result = run(SCENARIO, out=base / "base")
    run(SCENARIO, overrides=["execution.slippage.bps=0"], out=base / "no_slippage")
    return {"base": base / "base", "no_slippage": base / "no_slippage", "result": result}


class _Collector(HTMLParser):
    """Counts tags and collects every URL-bearing attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action")]


def test_rebalances_join_every_fill_to_its_order(runs: dict[str, object]) -> None:
    """Every fill of trades.csv appears once under its rebalance, with the same commission in total."""
    folder = Path(str(runs["base"]))
    data = load_run(folder)
    trades = pd.read_csv(folder / "trades.csv")
    fills = [order["fill"] for r in data.rebalances for order in r["orders"] if order["fill"]]
    assert sorted(f["order_id"] for f in fills) == sorted(trades["order_id"])
    assert sum(f["commission"] for f in fills) == pytest.approx(trades["commission"].sum(), rel=1e-12)
    assert len(data.rebalances) == len(pd.read_csv(folder / "signals.csv"))


def test_html_is_self_contained_and_complete(runs: dict[str, object]) -> None:
    """The page loads nothing from outside, and holds one trade row per fill and every chart."""
    folder = Path(str(runs["base"]))
    page = render_html(load_run(folder, benchmark=f"{BENCHMARK}:SP500"))
    parser = _Collector()
    parser.feed(page)
    assert parser.urls == []
    assert "@import" not in page and "url(" not in page
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}  # the SVG namespace only
    trades = len(pd.read_csv(folder / "trades.csv"))
    table = re.search(r'data-table="trades">(.*?)</table>', page, flags=re.S)
    assert table is not None and table.group(1).count("<tr>") == trades + 1  # + the header row
    for kind in ("equity-linear", "equity-log", "drawdown", "weights", "turnover", "costs"):
        assert f'data-chart="{kind}"' in page
    assert "Equity vs SP500" in page and "Tracking error" in page


def test_report_command_writes_html_and_pngs(runs: dict[str, object], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`eventbt report RUN_DIR --out FILE --png DIR` writes the page and the five PNG charts, reading the run
    folder once for both."""
    import eventbt.report
    import eventbt.report.data

    loads: list[object] = []
    real = eventbt.report.load_run

    def counted(*args: object, **kwargs: object) -> object:
        loads.append(args[0])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    # Both names: the one the command and build_report call, and the one the other report modules import.
    monkeypatch.setattr(eventbt.report, "load_run", counted)
    monkeypatch.setattr(eventbt.report.data, "load_run", counted)
    folder = Path(str(runs["base"]))
    code = main(["report", str(folder), "--out", str(tmp_path / "r.html"), "--png", str(tmp_path / "png"),
                 "--benchmark", str(BENCHMARK)])
    assert code == 0
    assert loads == [str(folder)]
    assert (tmp_path / "r.html").stat().st_size > 100_000
    for name in PNG_NAMES:
        data = (tmp_path / "png" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    assert "report:" in capsys.readouterr().out


def test_write_report_defaults_into_the_run_folder(runs: dict[str, object]) -> None:
    """Without ``out`` the report is RUN_DIR/report.html."""
    folder = Path(str(runs["no_slippage"]))
    assert write_report(folder) == folder / "report.html"
    assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_show_prints_the_metrics(runs: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt show RUN_DIR` prints the run's figures, formatted from summary.json's values."""
    folder = Path(str(runs["base"]))
    summary = pd.read_json(folder / "summary.json", typ="series")
    assert main(["show", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{summary['cagr'] * 100:.2f}%" in out
    assert f"{summary['trades']:,}" in out and str(summary["digest"]) in out


def test_compare_puts_runs_side_by_side(runs: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt compare A B` has one column per run; the run without slippage shows 0.00 slippage."""
    assert main(["compare", str(runs["base"]), str(runs["no_slippage"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "base", "no_slippage"]
    slippage = next(line for line in lines if line.startswith("Total slippage"))
    assert slippage.split()[-1] == "0.00" and slippage.split()[-2] != "0.00"


@pytest.mark.parametrize("spec, message", [
    ("missing.csv:SP500", "benchmark file not found"),
    (f"{BENCHMARK}:NOPE", "benchmark column 'NOPE' not found (columns: SP500)"),
])
def test_bad_benchmark_is_a_data_error(spec: str, message: str) -> None:
    """A benchmark that names a missing file or column is a DataError naming it."""
    with pytest.raises(DataError, match=re.escape(message)):
        load_benchmark(spec)


@pytest.mark.parametrize("rows, message", [
    ("2020-01-02,990.00\n2020-01-03,\"1,005.50\"\n",
     "bench.csv: benchmark column 'SPX' on 2020-01-03 (row 2) is '1,005.50'; expected a number (without thousands "
     "separators) or an empty cell for no level"),
    ("2020-01-02,990\n2020-01-03,-\n", "bench.csv: benchmark column 'SPX' on 2020-01-03 (row 2) is '-'; expected"),
    ("02/01/2020,990\n13/01/2020,995\n",
     "bench.csv: date '13/01/2020' (row 2) is not a date; expected a date like YYYY-MM-DD or M/D/YYYY"),
    ("2020-01-02,990\n2020-01-03,995\n2020-01-03,995\n",
     "bench.csv: benchmark column 'SPX': date 2020-01-03 appears twice (rows 2 and 3); expected one level per date"),
])
def test_a_benchmark_file_is_read_by_the_price_files_rules(tmp_path: Path, rows: str, message: str) -> None:
    """A level with a thousands separator or other text, a day-first date and a date written twice are each a
    DataError naming the file, the column, the date and the row (they were dropped, misread or crashed the
    report); the rows are counted by hand from the first data row."""
    (tmp_path / "bench.csv").write_text("Date,SPX\n" + rows)
    with pytest.raises(DataError) as caught:
        load_benchmark("bench.csv:SPX", base=tmp_path)
    assert str(caught.value).startswith(message)


def test_a_benchmark_date_with_an_offset_is_read_at_its_wall_date(tmp_path: Path) -> None:
    """A date written with a UTC offset keeps the date as written, as in a price file; an empty cell and
    ``n/a`` are no level (as before), so the series holds the other two levels."""
    (tmp_path / "bench.csv").write_text("Date,SPX\n2020-01-02T00:00:00+09:00,990\n2020-01-03T00:00:00+09:00,\n"
                                        "2020-01-06T00:00:00+09:00,n/a\n2020-01-07T00:00:00+09:00,1005.5\n")
    series, name = load_benchmark("bench.csv:SPX", base=tmp_path)
    assert name == "SPX"
    assert [str(day.date()) for day in series.index] == ["2020-01-02", "2020-01-07"]
    assert series.tolist() == [990.0, 1005.5]


def test_missing_run_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt report` on a folder without equity.csv fails with exit code 2 and a one-line message."""
    assert main(["report", str(tmp_path)]) == 2
    assert "equity.csv is missing" in capsys.readouterr().err


def test_result_renders_in_jupyter(runs: dict[str, object]) -> None:
    """Result._repr_html_ holds the summary figures and an SVG equity chart."""
    result = runs["result"]
    assert isinstance(result, Result)
    view = result._repr_html_()
    assert "<svg" in view and 'data-chart="equity-log"' in view
    assert f"{result.summary['sharpe']:.3f}" in view


def test_run_report_flag_uses_the_scenarios_benchmark(tmp_path: Path) -> None:
    """`eventbt run --out DIR --report` writes DIR/report.html, measured against [report] benchmark."""
    out = tmp_path / "run"
    root = Path(__file__).resolve().parents[2]
    scenario = root / "scenarios" / "ema_next_open.toml"
    override = "report.benchmark=data/skfolio/sp500_index.csv.gz:SP500"
    assert main(["run", str(scenario), "--out", str(out), "--report", "--quiet", "--set", override]) == 0
    html = (out / "report.html").read_text()
    assert "Equity vs SP500" in html
    run = load_run(out)  # no benchmark given: the scenario's is used
    assert run.benchmark_name == "SP500" and "beta" in run.metrics
    assert main(["run", str(scenario), "--report"]) == 2  # --report needs --out


def test_report_of_a_run_with_flows_is_time_weighted(tmp_path: Path) -> None:
    """With a deposit and a withdrawal the report says its returns are time-weighted, shows the money-weighted
    return and net flows, and its drawdown and monthly table leave the flows out."""
    out = tmp_path / "cash_flows"
    run(ROOT / "scenarios" / "cash_flows.toml", out=out)
    data = load_run(out)
    page = render_html(data)
    summary = pd.read_json(out / "summary.json", typ="series")
    assert 'data-note="flows"' in page and "net +30,000.00" in page
    cards = re.findall(r'<div class="card-label">(.*?)</div><div class="card-value"(?: title="([^"]*)")?>(.*?)</div>',
                       page)
    assert ("Money-weighted", "", f"{summary['money_weighted_return'] * 100:,.2f}%") in cards
    # an abbreviated card carries the exact figure on hover: +50,000 - 20,000 of scenarios/cash_flows.toml
    assert ("Net flows", "30,000.00", "30.0k") in cards
    final = f"{summary['final_value']:,.2f}"
    short = f"{summary['final_value'] / 1e3:.1f}k"
    assert [card for card in cards if card[0] == "Final value"] == [("Final value", final, short)]
    assert f"Deepest: {summary['max_drawdown'] * 100:.2f}%" in page  # -14.31%, not the flow-blind -25.92%
    # June 2012, the month of the 50,000 deposit: its compounded time-weighted return, not +50%.
    equity = data.equity
    june = equity.loc["2012-06"]
    may_end = equity.loc[:"2012-05-31", "total_value"].iloc[-1]
    growth, previous = 1.0, may_end
    for value, flow in zip(june["total_value"], june["flow"], strict=True):
        growth *= (value - flow) / previous
        previous = value
    heatmap = re.search(r'data-table="monthly">(.*?)</table>', page, flags=re.S)
    assert heatmap is not None
    row_2012 = re.search(r"<tr><th>2012</th>(.*?)</tr>", heatmap.group(1))
    assert row_2012 is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row_2012.group(1))
    assert cells[5] == f"{(growth - 1) * 100:.1f}"


def test_a_loaded_run_is_not_taken_with_another_folder_or_benchmark(runs: dict[str, object]) -> None:
    """build_report(run=...) uses the run as read: another run_dir, a benchmark or a risk-free rate beside it
    would be silently ignored, so they are refused."""
    from eventbt.report import build_report, load_run

    folder = Path(str(runs["base"]))
    run = load_run(folder)
    for kwargs in ({"run_dir": folder.parent}, {"run_dir": folder, "benchmark": str(BENCHMARK)},
                   {"run_dir": folder, "risk_free": 0.02}):
        with pytest.raises(ValueError, match="read already"):
            build_report(run=run, explorer=False, **kwargs)  # type: ignore[arg-type]
    assert build_report(folder, run=run, explorer=False)[0].startswith("<!DOCTYPE html>")
    elsewhere = Path.cwd()  # the same folder written another way is the same run
    assert build_report(Path(os.path.relpath(folder.resolve(), elsewhere)), run=run, explorer=False)[0] \
        .startswith("<!DOCTYPE html>")


def test_report_out_empty_writes_into_the_run_folder(runs: dict[str, object], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt report RUN_DIR --out ""` writes RUN_DIR/report.html, as without --out."""
    folder = tmp_path / "run"
    shutil.copytree(Path(str(runs["base"])), folder)
    assert main(["report", str(folder), "--out", "", "--no-explorer"]) == 0
    assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert f"report: {folder / 'report.html'}" in capsys.readouterr().out
