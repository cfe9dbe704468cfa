"""Compare two finished runs (run folders or audit logs) event by event: the first divergence and the results.

Exit 0 when the event streams agree, 1 when they differ (the report is the same as 'eventbt replay'). A log
modified after it was written (its digest disagrees) is compared anyway, with a warning: the report then shows
the first event that differs from the other run.
--html FILE also writes the comparison as a page: the first divergence side by side and every rebalance whose
orders differ (the same section `eventbt report RUN_A --compare RUN_B` adds to a report).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="a run folder (with audit.jsonl) or an audit log")
    parser.add_argument("run_b", metavar="RUN_B", help="the run to compare it with")
    parser.add_argument("--html", metavar="FILE", help="also write the comparison as a self-contained HTML page")


def execute(args: argparse.Namespace) -> int:
    from eventbt.replays.replayer import compare_logs

    if args.html:
        from eventbt.report.target import check_page_target

        check_page_target(args.html, option="--html")
    logs = (_read(args.run_a, "A"), _read(args.run_b, "B"))
    report = compare_logs(*logs, labels=("A", "B"))
    print(report.format())
    if args.html:
        from eventbt.report.compare import compare_page, compare_runs
        from eventbt.results import atomic_write

        atomic_write(args.html, compare_page(compare_runs(args.run_a, args.run_b, logs=logs, report=report)))
        print(f"html: {args.html}")
    return report.exit_code


def _read(path: str, label: str) -> list[dict[str, Any]]:
    """A run's log for comparing. One whose digest disagrees (edited after it was written) is compared anyway,
    with a warning: comparing it with the original, or with a fresh run, shows the first event that differs."""
    from eventbt.replays.replayer import digest_problem, read_log

    records, target = read_log(path)
    problem = digest_problem(records)
    if problem is not None:
        print(f"eventbt: warning: {label} {target}: {problem}; compared as it is", file=sys.stderr)
    return records
