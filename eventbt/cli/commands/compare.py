"""Compare the metrics of several run folders side by side (one column per run)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from eventbt.cli.options import risk_free_option
from eventbt.paths import run_labels

if TYPE_CHECKING:
    from eventbt.display.tables import TableSpec

__all__ = ["add_arguments", "compare_table", "compare_spec", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="folders written by `eventbt run --out`")
    parser.add_argument("--benchmark", metavar="FILE[:COLUMN]", help="measure every run against this series")
    parser.add_argument("--risk-free", type=risk_free_option, default=0.0, metavar="RATE", help="annual risk-free rate")
    parser.add_argument("--plain", action="store_true",
                        help="print plain text even on a terminal (as NO_COLOR or TERM=dumb do)")
    parser.add_argument("--json", action="store_true",
                        help="print every run's figures as one JSON object keyed by run, at full precision")


def _rows(metrics: list[dict[str, object]]) -> list[tuple[str, list[str]]]:
    """(group, [label, one cell per run]) for every metric any run has, in the order of METRIC_ROWS."""
    from eventbt.display.format import format_value, metric_rows

    return [(group, [label.strip(), *(format_value(m.get(key), style) for m in metrics)])
            for key, label, style, group in metric_rows(metrics) if any(key in m for m in metrics)]


def _note(names: list[str], metrics: list[dict[str, object]]) -> str:
    """Which runs have time-weighted returns (deposits or withdrawals taken out), or nothing."""
    from eventbt.display.format import flows_note

    with_flows = [name for name, m in zip(names, metrics, strict=True) if flows_note(m)]
    if not with_flows:
        return ""
    return (f"Returns of {', '.join(with_flows)} are time-weighted (deposits and withdrawals taken out); "
            "the money-weighted return counts them.")


def _incomplete(names: list[str], metrics: list[dict[str, object]]) -> str:
    """The runs that did not complete, with their status (``fail: failed, b: interrupted``), or nothing."""
    return ", ".join(f"{name}: {m.get('status')}" for name, m in zip(names, metrics, strict=True)
                     if not m.get("complete", True))


def compare_table(names: list[str], metrics: list[dict[str, object]]) -> str:
    """A text table: one row per metric any run has, one column per run; above it, as ``show`` marks its
    title, ``[INCOMPLETE: NAME: STATUS]`` when a run did not complete."""
    from eventbt.display.format import text_table

    note, incomplete = _note(names, metrics), _incomplete(names, metrics)
    table = text_table(["metric", *names], [cells for _, cells in _rows(metrics)]) + (f"\n{note}" if note else "")
    return f"[INCOMPLETE: {incomplete}]\n{table}" if incomplete else table


def compare_spec(names: list[str], metrics: list[dict[str, object]]) -> TableSpec:
    """The same table for the terminal, with a rule between the groups of metrics (Returns, Risk, ...)."""
    from eventbt.display.tables import Row, TableSpec

    rows, current = [], ""
    for group, cells in _rows(metrics):
        rows.append(Row(cells=tuple(cells), section=group != current))
        current = group
    return TableSpec(columns=("metric", *names), rows=tuple(rows), incomplete=_incomplete(names, metrics) or None,
                     note=_note(names, metrics))


def execute(args: argparse.Namespace) -> int:
    from eventbt.display.tables import print_table
    from eventbt.report.data import load_benchmark, load_run

    benchmark = load_benchmark(args.benchmark)[0].rename(args.benchmark) if args.benchmark else None
    runs = [load_run(folder, benchmark=benchmark, risk_free=args.risk_free) for folder in args.run_dirs]
    names = run_labels(args.run_dirs)
    metrics = [run.metrics for run in runs]
    if args.json:
        from eventbt.cli.commands.show import metrics_json

        print(metrics_json({name: figures for name, figures in zip(names, metrics, strict=True)}))
        return 0
    print_table(compare_spec(names, metrics), compare_table(names, metrics), plain=args.plain)
    return 0
