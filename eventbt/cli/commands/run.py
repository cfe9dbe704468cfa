"""Run a scenario file and print its summary.

With --out DIR, writes equity.csv, trades.csv, weights.csv, signals.csv, summary.json, audit.jsonl and the
resolved scenario.toml into DIR (see docs/results.md); with --report also DIR/report.html (docs/report.md),
measured against the scenario's [report] benchmark when it names one. DIR must be new, empty, or the folder
of an earlier run, which is then replaced whole; a folder holding other files is refused. A run that fails
or is interrupted (Ctrl-C, SIGTERM) still writes the results it has into DIR, with complete = false in
summary.json.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventbt.display.tables import TableSpec

__all__ = ["add_arguments", "execute", "format_summary", "summary_spec"]

_ROWS = [
    ("final_value", "Final value", "money"),
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("money_weighted_return", "Money-weighted return", "pct"),
    ("net_flows", "Net flows", "money"),
    ("annual_volatility", "Annual volatility", "pct"),
    ("sharpe", "Sharpe (rf 0)", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("trades", "Trades", "int"),
    ("total_commission", "Total commission", "money"),
    ("total_slippage", "Total slippage", "money"),
    # then a "Fee: <model>" row per fee model and "Total costs", from summary["costs"], with corporate
    # actions the dividends and withholding tax, in total and per symbol, from summary["dividends"], and in a
    # margin account the exposures and margin calls of summary["exposure"] (_rows)
    ("events", "Events moved", "int"),
    ("dead_letters", "Skipped (dead letters)", "int"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="the scenario file (TOML)")
    parser.add_argument("--out", metavar="DIR", help="write the result files into DIR")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="override a scenario value (repeatable), e.g. --set execution.timing=next_open")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--report", action="store_true",
                        help="also write DIR/report.html, the self-contained HTML report (needs --out)")
    parser.add_argument("--plain", action="store_true",
                        help="print the summary as plain text even on a terminal (as NO_COLOR or TERM=dumb do)")


def _rows(summary: dict[str, object]) -> list[tuple[str, str]]:
    """(label, text) of each summary figure, formatted as ``show`` and the report format them."""
    from eventbt.display.format import fee_models, format_value, group_lines
    from eventbt.results import exposure_figures, income_lines
    from eventbt.results.costs import owed_figures

    costs = summary.get("costs")
    amounts = {name: entry["amount"] for name, entry in costs.items()} if isinstance(costs, dict) else {}
    rows = []
    for key, label, style in _ROWS:
        rows.append((label, format_value(summary.get(key), style)))
        if key == "total_slippage" and amounts:
            rows += [(f"Fee: {name.removeprefix('fee:')}", format_value(amounts[name], "money"))
                     for name in fee_models([summary])]
            rows.append(("Total costs", format_value(amounts.get("total"), "money")))
            rows += [("Fees owed at the end", format_value(owed, "money")) for owed in owed_figures(summary).values()]
        if key == "total_slippage":
            rows += income_lines(summary)
            rows += group_lines(exposure_figures(summary), "Exposure")
    return rows


def _title(summary: dict[str, object]) -> str:
    return f"{summary.get('scenario', '')}  {summary.get('start')} .. {summary.get('end')}"


def format_summary(summary: dict[str, object]) -> str:
    """The summary as an aligned two-column table (a note under the title when the run has flows, or went under
    water)."""
    from eventbt.display.format import summary_note

    title = _title(summary)
    if not summary.get("complete", True):
        title += f"  [INCOMPLETE: {summary.get('status')}]"
    note = summary_note(summary)
    rows = [*_rows(summary), ("Audit digest", str(summary.get("digest")))]
    width = max(len(label) for label, _ in rows)
    lines = [title, *([f"  {note}"] if note else [])]
    return "\n".join([*lines, *(f"  {label:<{width}}  {text}" for label, text in rows)])


def summary_spec(summary: dict[str, object]) -> TableSpec:
    """The summary as a table for the terminal: the rows of :func:`format_summary`, the digest dimmed below."""
    from eventbt.display.format import summary_note
    from eventbt.display.tables import Row, TableSpec

    note = summary_note(summary)
    rows = tuple(Row(cells=(label, text)) for label, text in _rows(summary))
    return TableSpec(columns=("", ""), rows=rows, show_header=False,
                     footer=f"Audit digest  {summary.get('digest')}",
                     title=_title(summary), note=note or "",
                     incomplete=None if summary.get("complete", True) else str(summary.get("status")))


def execute(args: argparse.Namespace) -> int:
    from eventbt.cli import log
    from eventbt.display.progress import ProgressBar
    from eventbt.display.tables import print_table
    from eventbt.errors import ScenarioError
    from eventbt.scenario import ScenarioConfig
    from eventbt.scenario.config import ignored_settings
    from eventbt.simulation import Simulation, load_scenario_prices, open_output, run_to_folder

    if args.report and not args.out:
        raise ScenarioError("--report writes DIR/report.html: give the run folder with --out DIR")
    config = ScenarioConfig.from_toml(args.scenario, args.overrides)
    prices = load_scenario_prices(config)
    # Every output path is checked, and the run folder claimed, before anything is written (docs/results.md).
    folder, audit_path = open_output(config, args.out)
    # No bar beside --log json: its stderr is JSON lines for a program to read, and a bar would break them.
    show = not args.quiet and config.run.progress and getattr(args, "log", "text") != "json"
    bar = ProgressBar(prices.n_bars, enabled=None if show else False)
    try:
        simulation = Simulation(config, prices=prices, audit_path=audit_path, progress=lambda i: bar.update(i + 1))
    except BaseException:
        bar.close()
        if folder is not None:
            folder.abandon()
        raise
    # The scenario's settings without effect: warned about, not in the audit log.
    for warning in ignored_settings(config.to_dict(), config.source, config.origins):
        log.warning(warning, code="ignored_setting")
    for warning in simulation.data_warnings:  # also in the audit log, as data_warning notes
        log.warning(warning, code="data_warning", path=config.data.path)

    def partial() -> None:
        log.note(f"partial results (complete = false) written to {args.out}", code="partial_results",
                 out=str(args.out))
        if args.report:  # the partial run's report, marked INCOMPLETE with the error; then the error goes on
            try:
                report()
            except Exception as exc:  # the run's own error is the one to report; this one is a note
                log.note(f"no report written: {exc}", code="no_report")

    def report() -> None:
        from eventbt.report import write_report

        page = write_report(args.out, trust=True,  # the run just ran its code
                            on_unavailable=log.no_explorer)
        print(f"report: {page}", file=sys.stdout)

    try:
        result = run_to_folder(simulation, folder, on_partial=partial)
    finally:
        bar.close()
    print_table(summary_spec(result.summary), format_summary(result.summary), plain=args.plain)
    for code, line in simulation.order_warnings():
        log.warning(line, code=code)
    if args.report:
        report()
    return 0
