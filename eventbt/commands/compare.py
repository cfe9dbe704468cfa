"""Compare the metrics of several run folders side by side (one column per run)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "compare_table", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="folders written by `eventbt run --out`")
    parser.add_argument("--benchmark", metavar="FILE[:COLUMN]", help="measure every run against this series")
    parser.add_argument("--risk-free", type=float, default=0.0, metavar="RATE", help="annual risk-free rate")


def compare_table(names: list[str], metrics: list[dict[str, object]]) -> str:
    """A text table: one row per metric any run has, one column per run."""
    from eventbt.report.format import METRIC_ROWS, format_value, text_table

    rows = [[label.strip(), *(format_value(m.get(key), style) for m in metrics)]
            for key, label, style, _ in METRIC_ROWS if any(key in m for m in metrics)]
    return text_table(["metric", *names], rows)


def execute(args: argparse.Namespace) -> int:
    from pathlib import Path

    from eventbt.report.data import load_benchmark, load_run

    benchmark = load_benchmark(args.benchmark)[0].rename(args.benchmark) if args.benchmark else None
    runs = [load_run(folder, benchmark=benchmark, risk_free=args.risk_free) for folder in args.run_dirs]
    names = [Path(folder).name if Path(folder).name else str(folder) for folder in args.run_dirs]
    print(compare_table(names, [run.metrics for run in runs]))
    return 0
