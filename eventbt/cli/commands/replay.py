"""Replay an audit log: re-run the recorded scenario and compare the new events with the recorded ones.

Exit 0 when the runs are identical (the digest is printed), 1 when they differ: the first divergence is
printed with the recorded and new event side by side, the differing fields marked with '*', the causal
chain, and how the end results differ. With --set, the replay is a what-if: the scenario is changed before
the run, so the report shows where the change starts to matter; --handler replaces a pipeline stage (for
example the execution handler) with your own class. A log that names code other than eventbt's own (a
module:Class cost model, strategy, handler or replaced stage) is replayed only with --trust: replaying runs
that code. A run whose prices were held in memory (given from Python) is replayed only on the same prices
given again with --data FILE. See docs/replay.md.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audit", help="the audit log (audit.jsonl) or the run folder holding it")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="change a scenario value before re-running (repeatable): a what-if replay")
    parser.add_argument("--base-dir", metavar="DIR",
                        help="the folder the scenario's data path is relative to (default: the recorded one, "
                             "else the audit log's folder)")
    parser.add_argument("--handler", dest="handlers", action="append", default=[], metavar="STAGE=MODULE:CLASS",
                        help="replace a pipeline stage (strategy, rebalance, execution, portfolio) for the re-run "
                             "with a handler class taking the built-in's keyword arguments (repeatable)")
    parser.add_argument("--data", metavar="FILE",
                        help="read the prices from FILE instead of the scenario's data path; for a run whose prices "
                             "were held in memory, the same prices as a file (taken when they hash as recorded)")
    parser.add_argument("--allow-changed-data", action="store_true",
                        help="replay even if a data file (or prices held in memory) no longer has the recorded "
                             "SHA-256")
    parser.add_argument("--trust", action="store_true",
                        help="import and run the code the log names (a module:Class strategy, cost model, handler "
                             "or replaced stage); without it such a log is refused, listing those imports")


def execute(args: argparse.Namespace) -> int:
    from eventbt.errors import PluginError
    from eventbt.replays.replayer import replay

    stages: dict[str, str] = {}
    for text in args.handlers:
        stage, equals, reference = text.partition("=")
        if not equals or not stage or not reference:
            raise PluginError(f"--handler {text}: expected STAGE=module:Class, e.g. execution=mypkg.exec:MyExecution",
                              reference=text)
        stages[stage.strip()] = reference.strip()
    report = replay(args.audit, overrides=args.overrides, base_dir=args.base_dir,
                    allow_changed_data=args.allow_changed_data, handlers=stages, trust=args.trust,
                    data_path=args.data)
    print(report.format())
    return report.exit_code
