"""eventbt.display.tables: rich tables on a terminal, today's plain text everywhere else (run, show, compare)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eventbt.cli import main
from eventbt.cli.commands.compare import compare_spec, compare_table
from eventbt.cli.commands.run import format_summary, summary_spec
from eventbt.cli.commands.show import format_metrics, metrics_spec
from eventbt.display.tables import Row, TableSpec, draw, print_table, render_rich, wants_rich

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_next_open.toml"
DIGEST = "ab" * 32

SUMMARY: dict[str, object] = {
    "scenario": "demo", "start": "2020-01-02", "end": "2020-12-31", "complete": True, "status": "completed",
    "final_value": 1234567.891, "total_return": 0.1234, "cagr": 0.05, "money_weighted_return": 0.0612,
    "net_flows": 0.0, "flow_bars": 0, "annual_volatility": 0.2, "sharpe": 1.5,
    "max_drawdown": -0.25, "trades": 1200, "total_commission": 1000.5, "total_slippage": 0.0, "events": 45000,
    "dead_letters": 0, "digest": DIGEST,
    "costs": {"commission": {"amount": 1000.5, "bps_per_year": 1.0}, "slippage": {"amount": 0.0, "bps_per_year": 0.0},
              "fee:stamp_duty": {"amount": 12345.678, "bps_per_year": 9.9},
              "total": {"amount": 13346.178, "bps_per_year": 10.9}},
}
# The same figures as formatted by hand: money with thousands separators and 2 decimals, fractions as percent.
SUMMARY_CELLS = ["1,234,567.89", "12.34%", "5.00%", "6.12%", "0.00", "20.00%", "1.500", "-25.00%", "1,200",
                 "1,000.50", "0.00", "12,345.68", "13,346.18", "45,000", "0"]


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def console() -> Console:
    """A 100-column terminal console writing into memory."""
    return Console(file=io.StringIO(), force_terminal=True, width=100)


def table_of(spec: TableSpec) -> Table:
    """The rich table among ``spec``'s renderables."""
    return next(part for part in render_rich(spec) if isinstance(part, Table))


def cells(table: Table, column: int) -> list[str]:
    """The plain text of one column's cells."""
    return [cell.plain if isinstance(cell, Text) else str(cell) for cell in table.columns[column].cells]


@pytest.mark.parametrize(("isatty", "plain", "environ", "expected"), [
    (True, False, {"TERM": "xterm-256color"}, True),
    (False, False, {"TERM": "xterm-256color"}, False),  # a pipe, a file, pytest's capture
    (True, True, {"TERM": "xterm-256color"}, False),  # --plain
    (True, False, {"TERM": "xterm", "NO_COLOR": "1"}, False),
    (True, False, {"TERM": "xterm", "NO_COLOR": ""}, True),  # an empty NO_COLOR does not count (no-color.org)
    (True, False, {"TERM": "dumb"}, False),
])
def test_rich_only_on_a_terminal_that_asks_for_it(isatty: bool, plain: bool, environ: dict[str, str],
                                                  expected: bool) -> None:
    """wants_rich is true only for a terminal without --plain, NO_COLOR or TERM=dumb."""
    stream = Terminal() if isatty else io.StringIO()
    assert wants_rich(stream, plain=plain, environ=environ) is expected


def test_plain_summary_is_unchanged() -> None:
    """Off a terminal the summary is the aligned two-column text, label column 22 wide (the longest label),
    with a line per fee model and the total costs after slippage."""
    expected = "\n".join([
        "demo  2020-01-02 .. 2020-12-31",
        "  Final value             1,234,567.89",
        "  Total return            12.34%",
        "  CAGR                    5.00%",
        "  Money-weighted return   6.12%",
        "  Net flows               0.00",
        "  Annual volatility       20.00%",
        "  Sharpe (rf 0)           1.500",
        "  Max drawdown            -25.00%",
        "  Trades                  1,200",
        "  Total commission        1,000.50",
        "  Total slippage          0.00",
        "  Fee: stamp_duty         12,345.68",
        "  Total costs             13,346.18",
        "  Events moved            45,000",
        "  Skipped (dead letters)  0",
        f"  Audit digest            {DIGEST}",
    ])
    assert format_summary(SUMMARY) == expected
    out = io.StringIO()
    print_table(summary_spec(SUMMARY), format_summary(SUMMARY), file=out)
    assert out.getvalue() == expected + "\n"


def test_rich_summary_cells_are_right_aligned_and_the_digest_is_dim() -> None:
    """The rich summary has one row per figure, values right-aligned, and the digest dimmed under the table."""
    spec = summary_spec(SUMMARY)
    table = table_of(spec)
    assert table.columns[1].justify == "right"
    assert cells(table, 1) == SUMMARY_CELLS
    assert cells(table, 0)[0] == "Final value" and "Audit digest" not in cells(table, 0)
    footer = render_rich(spec)[-1]
    assert isinstance(footer, Text) and footer.plain == f"Audit digest  {DIGEST}" and footer.style == "dim"
    screen = console()
    draw(spec, screen)
    text = screen.file.getvalue()  # type: ignore[attr-defined]
    assert "demo  2020-01-02 .. 2020-12-31" in text and DIGEST in text and "INCOMPLETE" not in text
    # Right-aligned: each value ends in the same screen column.
    lines = [line for line in text.splitlines() if any(line.rstrip().endswith(cell) for cell in SUMMARY_CELLS)]
    ends = {len(line.rstrip()) for line in lines}
    assert len(lines) == len(SUMMARY_CELLS) and len(ends) == 1


def test_a_run_with_flows_says_its_returns_are_time_weighted() -> None:
    """With deposits or withdrawals the summary says, under the title, that the returns are time-weighted."""
    summary = {**SUMMARY, "net_flows": 30_000.0, "flow_bars": 2}
    note = ("Returns are time-weighted (deposits and withdrawals, net +30,000.00, taken out); the money-weighted "
            "return counts them.")
    assert format_summary(summary).splitlines()[1] == f"  {note}"
    assert summary_spec(summary).note == note and summary_spec(SUMMARY).note == ""
    screen = console()
    draw(summary_spec(summary), screen)
    assert "Returns are time-weighted" in screen.file.getvalue()  # type: ignore[attr-defined]


def test_incomplete_run_has_a_red_note_in_the_title() -> None:
    """A run that did not complete says INCOMPLETE and its status in the title, in bold red, in both renderings."""
    summary = {**SUMMARY, "complete": False, "status": "interrupted"}
    heading = render_rich(summary_spec(summary))[0]
    assert isinstance(heading, Text)
    assert heading.plain == "demo  2020-01-02 .. 2020-12-31  INCOMPLETE: interrupted"
    start = heading.plain.index("INCOMPLETE")
    assert any(span.start <= start < span.end and span.style == "bold red" for span in heading.spans)
    assert format_summary(summary).splitlines()[0] == "demo  2020-01-02 .. 2020-12-31  [INCOMPLETE: interrupted]"


def test_brackets_in_names_are_not_markup() -> None:
    """A scenario or run name with square brackets is printed as written, not read as rich markup."""
    screen = console()
    draw(TableSpec(title="[bold]x", columns=("metric", "[red]run"), rows=(Row(cells=("[i]a", "1")),)), screen)
    text = screen.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold]x" in text and "[red]run" in text and "[i]a" in text


def test_print_table_on_a_terminal_draws_with_rich() -> None:
    """On a terminal print_table draws the rich table instead of the plain text."""
    spec = TableSpec(columns=("metric", "a"), rows=(Row(cells=("Fills", "1,200")),))
    out = Terminal()
    print_table(spec, "PLAIN", file=out)
    assert "PLAIN" not in out.getvalue() and "Fills" in out.getvalue() and "1,200" in out.getvalue()


def test_compare_spec_has_one_column_per_run_and_a_section_per_group() -> None:
    """compare's rich table has the metric column then one right-aligned column per run, a rule between groups."""
    a: dict[str, object] = {"total_return": 0.1, "cagr": 0.05, "sharpe": 1.0, "total_slippage": 1234.5}
    b: dict[str, object] = {"total_return": -0.02, "cagr": -0.01, "sharpe": None, "total_slippage": 0.0,
         "complete": False, "status": "failed"}
    spec = compare_spec(["a", "b"], [a, b])
    table = table_of(spec)
    assert [str(c.header) for c in table.columns] == ["metric", "a", "b"]
    assert [c.justify for c in table.columns] == ["left", "right", "right"]
    assert cells(table, 0) == ["Total return", "CAGR", "Sharpe", "Total slippage"]
    assert cells(table, 1) == ["10.00%", "5.00%", "1.000", "1,234.50"]
    assert cells(table, 2) == ["-2.00%", "-1.00%", "n/a", "0.00"]
    # Returns | Risk | Costs: a section ends after CAGR and after Sharpe.
    assert [row.end_section for row in table.rows] == [False, True, True, False]
    assert spec.incomplete == "b: failed"
    plain = compare_table(["a", "b"], [a, b]).splitlines()  # b did not complete: marked above the table
    assert plain[0] == "[INCOMPLETE: b: failed]" and plain[1].split() == ["metric", "a", "b"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small bundled scenario run once into a temporary folder."""
    out = tmp_path_factory.mktemp("tables") / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--quiet"]) == 0
    return out


def test_show_prints_plain_text_off_a_terminal(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt show` off a terminal prints format_metrics exactly, its digest the one in summary.json."""
    from eventbt.report.data import load_run

    run = load_run(run_folder)
    capsys.readouterr()
    assert main(["show", str(run_folder)]) == 0
    assert capsys.readouterr().out == format_metrics(run.name, run.metrics) + "\n"
    digest = json.loads((run_folder / "summary.json").read_text())["digest"]
    assert metrics_spec(run.name, run.metrics).footer == f"Audit digest  {digest}"


@pytest.mark.parametrize(("command", "plain_first_line"), [
    ("run", "ema_next_open  2012-01-03 .. 2014-12-31"),
    ("show", "ema_next_open  2012-01-03 .. 2014-12-31"),
    ("compare", "metric  run"),
])
def test_plain_flag_forces_plain_text_on_a_terminal(run_folder: Path, command: str, plain_first_line: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal `run`/`show`/`compare` draw with rich, and with --plain print the plain text instead."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    target = [str(SCENARIO), "--quiet"] if command == "run" else [str(run_folder)]
    outputs = {}
    for flags in ([], ["--plain"]):
        screen = Terminal()
        monkeypatch.setattr("sys.stdout", screen)
        assert main([command, *target, *flags]) == 0
        outputs[bool(flags)] = screen.getvalue()
    assert outputs[True].splitlines()[0].split() == plain_first_line.split()
    assert outputs[False] != outputs[True] and "\x1b[" in outputs[False] and "\x1b[" not in outputs[True]
