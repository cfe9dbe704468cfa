"""Write a self-contained HTML report of a run folder (charts, metrics, costs, rebalances, trades).

The file opens offline: its charts are inline SVG and its script is inline. Its rebalance timeline opens each
rebalance's events as the step debugger shows them, which steps the run again from its scenario and data
(--no-explorer leaves that out; --trust allows code the run's log names that is not eventbt's own). The data
is found as `eventbt replay` finds it: in --base-dir DIR when given, else the scenario's recorded folder, else
the run folder.
--compare RUN_B marks the first divergence from another run and the rebalances whose orders differ. --png DIR
also writes the charts as PNG files (needs matplotlib). --benchmark FILE[:COLUMN] draws and measures against
a price series.
"""

from __future__ import annotations

import argparse

from eventbt.cli.options import risk_free_option

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `eventbt run SCENARIO --out DIR`")
    parser.add_argument("--out", metavar="FILE", help="where to write the report (default RUN_DIR/report.html)")
    parser.add_argument("--png", metavar="DIR", help="also write the charts as PNG files into DIR (over charts "
                                                     "eventbt wrote there, never over another file)")
    parser.add_argument("--benchmark", metavar="FILE[:COLUMN]",
                        help="a wide CSV (gzip allowed) of benchmark levels, e.g. data.csv.gz:SP500")
    parser.add_argument("--risk-free", type=risk_free_option, default=0.0, metavar="RATE",
                        help="annual risk-free rate for Sharpe, Sortino and alpha (default 0)")
    parser.add_argument("--compare", metavar="RUN_B",
                        help="another run (folder or audit log): show the first divergence and the rebalances "
                             "whose orders differ")
    parser.add_argument("--no-explorer", dest="explorer", action="store_false",
                        help="leave out the event explorer (it steps the run again from its scenario and data)")
    parser.add_argument("--base-dir", metavar="DIR",
                        help="the folder the scenario's data path (and [report] benchmark) is relative to (default: "
                             "the recorded one, else the run folder)")
    parser.add_argument("--trust", action="store_true",
                        help="let the explorer import code the run's log names that is not eventbt's own")


def execute(args: argparse.Namespace) -> int:
    from pathlib import Path

    from eventbt.cli import log
    from eventbt.report import load_run, write_report
    from eventbt.report.target import check_page_target

    # An --out or --png eventbt may not write is refused, in the option's own words, before anything is read.
    target = check_page_target(args.out if args.out else Path(args.run_dir) / "report.html")
    if args.png:
        from eventbt.report.png import check_png_folder

        check_png_folder(args.png)
    # read once, for both outputs
    run = load_run(args.run_dir, benchmark=args.benchmark, risk_free=args.risk_free, base_dir=args.base_dir)
    target = write_report(args.run_dir, target, explorer=args.explorer, trust=args.trust, compare=args.compare,
                          run=run, on_unavailable=log.no_explorer, base_dir=args.base_dir)
    print(f"report: {target}")
    if args.png:
        from eventbt.report.png import write_pngs

        for path in write_pngs(run, args.png):
            print(f"chart: {path}")
    return 0
