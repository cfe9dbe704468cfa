"""Time the built-in workloads, each as a ratio to a yardstick timed beside it in the same run.

rotation against a plain numpy loop of the same rules (equity checked equal), parts (the rotation's time
taken apart: audit log, building, result frames, events, cost models, each against the loop), bus against a
bare dispatch loop, scale (3,000 x 5,040) in a child process, startup (a whole small run) against `import
pandas`, sweep on a two-worker Dask cluster against a serial sweep, bt (the rotation in bt, when installed)
against eventbt.
Workloads are generated from a fixed seed (see docs/performance.md); data generation and imports are not timed.
Each figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from eventbt.bench.workloads import SIZES, WORKLOADS

    parser.add_argument("--workload", choices=(*WORKLOADS, "all"), default="all",
                        help="which workload to run (default: all)")
    parser.add_argument("--size", choices=SIZES, default="large",
                        help="workload size (default: large)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per figure, best kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def execute(args: argparse.Namespace) -> int:
    import sys

    from eventbt.bench.runner import format_table, run_benchmarks
    from eventbt.errors import ScenarioError

    if args.repeat < 1:
        raise ScenarioError(f"--repeat must be at least 1, got {args.repeat}")
    rows = run_benchmarks(args.workload, args.size, args.repeat)
    if args.json:
        from eventbt.results.result import strict_json  # NaN and infinities as null: strict JSON

        print(strict_json({"python": sys.version.split()[0], "results": rows}, indent=2), file=sys.stdout)
    else:
        print(format_table(rows), file=sys.stdout)
    return 0
