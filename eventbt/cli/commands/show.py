"""Print the metrics of a run folder again (the end-of-run summary, plus every figure of docs/metrics.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from eventbt.cli.options import risk_free_option

if TYPE_CHECKING:
    from eventbt.display.tables import TableSpec

__all__ = ["add_arguments", "execute", "format_metrics", "metrics_json", "metrics_spec"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `eventbt run SCENARIO --out DIR`")
    parser.add_argument("--benchmark", metavar="FILE[:COLUMN]", help="measure against a benchmark series")
    parser.add_argument("--risk-free", type=risk_free_option, default=0.0, metavar="RATE", help="annual risk-free rate")
    parser.add_argument("--plain", action="store_true",
                        help="print plain text even on a terminal (as NO_COLOR or TERM=dumb do)")
    parser.add_argument("--json", action="store_true",
                        help="print every figure as one JSON object, at full precision (undefined ones null)")


def format_metrics(name: str, metrics: dict[str, object]) -> str:
    """The metrics as a grouped two-column text table, headed by the run's name and period."""
    from eventbt.display.format import format_value, metric_rows, summary_note

    title = f"{name}  {metrics.get('start')} .. {metrics.get('end')}"
    if not metrics.get("complete", True):
        title += f"  [INCOMPLETE: {metrics.get('status')}]"
    rows = [(group, label, format_value(metrics[key], style)) for key, label, style, group in metric_rows([metrics])
            if key in metrics]
    width = max(len(label) for _, label, _ in rows)
    note = summary_note(metrics)
    lines, current = [title, *([f" {note}"] if note else [])], ""
    for group, label, text in rows:
        if group != current:
            lines.append(f" {group}")
            current = group
        lines.append(f"   {label:<{width}}  {text}")
    if "digest" in metrics:
        lines.append(f" Audit digest  {metrics['digest']}")
    return "\n".join(lines)


def metrics_spec(name: str, metrics: dict[str, object]) -> TableSpec:
    """The metrics as a table for the terminal: a bold heading row per group, the audit digest dimmed below."""
    from eventbt.display.format import format_value, metric_rows, summary_note
    from eventbt.display.tables import Row, TableSpec

    rows, current = [], ""
    for key, label, style, group in metric_rows([metrics]):
        if key not in metrics:
            continue
        if group != current:
            rows.append(Row(cells=(group, ""), style="bold", section=True))
            current = group
        rows.append(Row(cells=(label, format_value(metrics[key], style))))
    return TableSpec(columns=("", ""), rows=tuple(rows), show_header=False,
                     footer=f"Audit digest  {metrics['digest']}" if "digest" in metrics else "",
                     title=f"{name}  {metrics.get('start')} .. {metrics.get('end')}",
                     note=summary_note(metrics),
                     incomplete=None if metrics.get("complete", True) else str(metrics.get("status")))


def execute(args: argparse.Namespace) -> int:
    from eventbt.display.tables import print_table
    from eventbt.report.data import load_run

    run = load_run(args.run_dir, benchmark=args.benchmark, risk_free=args.risk_free)
    if args.json:
        print(metrics_json(run.metrics))
        return 0
    print_table(metrics_spec(run.name, run.metrics), format_metrics(run.name, run.metrics), plain=args.plain)
    return 0


def metrics_json(metrics: object) -> str:
    """``metrics`` (a run's figures, or runs' figures by name) as indented JSON with sorted keys: floats at full
    precision (Python's shortest text that reads back the same), a NaN or an infinity (a figure undefined for
    the run) as ``null``, numpy numbers and dates as plain ones."""
    import json
    import math

    def plain(value: object) -> object:
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    return json.dumps(plain(metrics), indent=2, sort_keys=True, allow_nan=False)
