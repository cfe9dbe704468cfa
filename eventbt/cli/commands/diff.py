"""Compare two finished runs (run folders or audit logs) event by event: the first divergence and the results.

Exit 0 when the event streams agree, 1 when they differ (the report is the same as 'eventbt replay').
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="a run folder (with audit.jsonl) or an audit log")
    parser.add_argument("run_b", metavar="RUN_B", help="the run to compare it with")


def execute(args: argparse.Namespace) -> int:
    from eventbt.replays.replayer import compare_logs, load_log

    report = compare_logs(load_log(args.run_a), load_log(args.run_b), labels=("A", "B"))
    print(report.format())
    return report.exit_code
