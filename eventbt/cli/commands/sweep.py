"""Run a scenario over a grid of parameter values and rank the combinations.

Each --grid TABLE.KEY=V1,V2,... adds a key; every combination (or --random N of them) is the scenario plus
one override per key; --random without --seed draws a seed and records it, so --resume draws the same
combinations. Writes DIR/results.parquet and DIR/results.csv (ranked by --rank-by), and DIR/heatmap.png for
a two-key grid; --resume finishes an interrupted sweep. When every combination fails, the first error is
printed and the exit status is 2. With --walk-forward
train=3y,test=1y, picks the best combination on each training window and runs it on the following test
window instead (see docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_arguments", "execute"]

_METRICS = ("final_value", "total_return", "cagr", "money_weighted_return", "annual_volatility", "sharpe",
            "max_drawdown", "trades", "total_commission", "total_slippage", "total_costs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="the base scenario file (TOML)")
    parser.add_argument("--grid", action="append", default=[], metavar="TABLE.KEY=V1,V2",
                        help="values to sweep for one key (repeatable), e.g. strategy.params.top_n=1,2,3")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="override a base scenario value (repeatable)")
    parser.add_argument("--random", type=int, metavar="N", help="run N combinations drawn at random")
    parser.add_argument("--seed", type=int, metavar="S", help="seed for --random")
    parser.add_argument("--executor", choices=("local", "dask", "serial"), default="local",
                        help="local process pool (default), a Dask cluster, or serial in this process")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler, e.g. tcp://host:8786 (default: start a LocalCluster)")
    parser.add_argument("--workers", type=int, metavar="N", help="processes (local) or LocalCluster workers")
    parser.add_argument("--out", required=True, metavar="DIR", help="write the results into DIR")
    parser.add_argument("--rank-by", choices=_METRICS, default="sharpe", help="metric to rank by (default sharpe)")
    parser.add_argument("--resume", action="store_true", help="run only the combinations not yet in DIR")
    parser.add_argument("--walk-forward", metavar="train=3y,test=1y",
                        help="walk-forward: window lengths in y(ears), m(onths), w(eeks) or d(ays)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="rows of the ranking to print (default 10)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def execute(args: argparse.Namespace) -> int:
    import pandas as pd

    from eventbt.display.format import format_value
    from eventbt.errors import SweepError
    from eventbt.sweeps.grid import sweep

    if args.top < 1:  # checked before any combination runs
        raise SweepError(f"must be at least 1, got {args.top}", option="--top")
    progress = False if args.quiet or getattr(args, "log", "text") == "json" else None  # no bar in JSON lines
    if args.walk_forward:
        from eventbt.sweeps.walkforward import walk_forward

        if args.resume or args.random is not None:
            raise SweepError("is not supported with --resume or --random", option="--walk-forward")
        outcome = walk_forward(args.scenario, args.grid, args.walk_forward, overrides=args.overrides,
                               executor=args.executor, scheduler=args.scheduler, workers=args.workers,
                               out=args.out, rank_by=args.rank_by, progress=progress)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(_printable(outcome.windows.drop(columns="test_error")).to_string(index=False, na_rep="n/a"),
                  file=sys.stdout)
        print(f"out-of-sample total return: {format_value(outcome.total_return, 'pct')}", file=sys.stdout)
        first = outcome.first_error()
        if first is not None and outcome.failed == len(outcome.windows):  # the files are written
            raise SweepError(f"every window failed ({outcome.failed}); the first: {first}", option="--walk-forward")
        if first is not None:
            print(f"eventbt: note: {outcome.failed} of {len(outcome.windows)} windows failed (so no out-of-sample "
                  f"total return); the first: {first}", file=sys.stderr)
        return 0
    from eventbt.sweeps.grid import parse_grid, sampling_notes

    if args.random is not None:
        for note in sampling_notes(parse_grid(args.grid), args.random):
            print(f"eventbt: note: {note}", file=sys.stderr)
    result = sweep(args.scenario, args.grid, overrides=args.overrides, random=args.random, seed=args.seed,
                   executor=args.executor, scheduler=args.scheduler, workers=args.workers, out=args.out,
                   rank_by=args.rank_by, resume=args.resume, progress=progress)
    table = result.table
    failed = result.failed
    flows = bool(table["net_flows"].fillna(0.0).ne(0.0).any())
    returns = ["total_return", *(["money_weighted_return", "net_flows"] if flows else [])]
    shown = table[["rank", *[c for c in table.columns if "." in c], *returns, "sharpe", "max_drawdown",
                   "total_costs", args.rank_by, "status"]]
    shown = shown.loc[:, ~shown.columns.duplicated()].head(args.top)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(_printable(shown).to_string(index=False, na_rep="n/a"), file=sys.stdout)
    if flows:
        print("returns are time-weighted (deposits and withdrawals taken out); money_weighted_return counts them",
              file=sys.stdout)
    print(f"{len(table)} combinations, {failed} failed; results in {args.out}", file=sys.stdout)
    if result.seed is not None and args.seed is None:
        print(f"random sample drawn with seed {result.seed} (recorded in sweep.json; --resume draws the same "
              f"combinations, --seed {result.seed} draws them again elsewhere)", file=sys.stdout)
    first = result.first_error()
    if first is not None and failed == len(table):
        raise SweepError(f"every combination failed ({failed}); the first: {first}")
    if first is not None:
        print(f"eventbt: note: {failed} of {len(table)} combinations failed; the first: {first}", file=sys.stderr)
    return 0


def _printable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its missing values printed as ``n/a`` whatever the column's type: a count (``Int64``) or a
    text (a digest) misses as ``<NA>`` or ``None``, which ``to_string``'s ``na_rep`` leaves as they are."""
    columns = [name for name in table.columns if table[name].dtype == object or str(table[name].dtype) == "Int64"]
    return table.astype(dict.fromkeys(columns, object)).fillna(dict.fromkeys(columns, "n/a"))
