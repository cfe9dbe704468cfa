"""Check a run folder: rebuild the books from the audit log and the prices, and compare every file with them.

Checks the audit log's digest, scenario.toml against the recorded scenario and the price files' hashes; then
every cell of trades.csv, signals.csv, equity.csv and weights.csv and every figure of summary.json against
what the log and the prices give, and reports the first disagreement by file, row and column. Exit 0 when
everything agrees, 1 at a disagreement, 2 when a file cannot be read (one line naming it). The prices are
read from the scenario's data path, found as `eventbt replay` finds it: relative to --base-dir DIR when
given, else to the scenario's folder recorded in the audit header when the data is there, else to the run
folder. --data PATH reads the prices from PATH instead (a folder, where the run read one file, is the folder
holding that file). A run whose prices were held in memory (given from Python) is checked only on the same
prices given again with --data FILE: they agree when their dates, symbols and numbers hash as recorded.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `eventbt run --out`")
    parser.add_argument("--data", metavar="PATH",
                        help="read the prices from PATH instead of the scenario's path (a folder, where the run "
                             "read one file, is the folder holding that file); for a run whose prices were held in "
                             "memory, the same prices as a file")
    parser.add_argument("--base-dir", metavar="DIR",
                        help="the folder the scenario's data path is relative to (default: the recorded one, "
                             "else the run folder)")


def execute(args: argparse.Namespace) -> int:
    from eventbt.replays.verify import verify_run

    report = verify_run(args.run_dir, data_path=args.data, base_dir=args.base_dir)
    if report.disagreement is not None:
        print(f"{report.run_dir}: DISAGREES at {report.disagreement}", file=sys.stdout)
        if report.checked:
            print(f"  agreed before that: {', '.join(report.checked)}", file=sys.stdout)
        return 1
    print(f"{report.run_dir}: OK ({report.status}; {report.bars} bars, {report.fills} fills; "
          f"checked {', '.join(report.checked)})", file=sys.stdout)
    return 0
