"""Check a scenario file without running it: its keys, its extends chain, its data and every import path.

Reports every problem found (not just the first) and lists the code the scenario would import. Exit 0 when
valid, 1 when problems were found.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="the scenario file (TOML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="check with this override applied (repeatable)")


def execute(args: argparse.Namespace) -> int:
    from eventbt.scenario.validate import validate

    report = validate(args.scenario, args.overrides)
    print(report.format())
    return 0 if report.ok else 1
