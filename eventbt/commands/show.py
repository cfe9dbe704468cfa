"""Print the metrics of a run folder again (the end-of-run summary, plus every figure of docs/metrics.md)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "execute", "format_metrics"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `eventbt run SCENARIO --out DIR`")
    parser.add_argument("--benchmark", metavar="FILE[:COLUMN]", help="measure against a benchmark series")
    parser.add_argument("--risk-free", type=float, default=0.0, metavar="RATE", help="annual risk-free rate")


def format_metrics(name: str, metrics: dict[str, object]) -> str:
    """The metrics as a grouped two-column text table, headed by the run's name and period."""
    from eventbt.report.format import METRIC_ROWS, format_value

    title = f"{name}  {metrics.get('start')} .. {metrics.get('end')}"
    if not metrics.get("complete", True):
        title += f"  [INCOMPLETE: {metrics.get('status')}]"
    rows = [(group, label, format_value(metrics[key], style)) for key, label, style, group in METRIC_ROWS
            if key in metrics]
    width = max(len(label) for _, label, _ in rows)
    lines, current = [title], ""
    for group, label, text in rows:
        if group != current:
            lines.append(f" {group}")
            current = group
        lines.append(f"   {label:<{width}}  {text}")
    if "digest" in metrics:
        lines.append(f" Audit digest  {metrics['digest']}")
    return "\n".join(lines)


def execute(args: argparse.Namespace) -> int:
    from eventbt.report.data import load_run

    run = load_run(args.run_dir, benchmark=args.benchmark, risk_free=args.risk_free)
    print(format_metrics(run.name, run.metrics))
    return 0
