"""Step through a scenario's events: stop at a date, then walk a rebalance event by event.

Opens a prompt (type help) stopped before the first event of --at DATE. For scripts and bug reports:
--commands "next 3; portfolio; continue", --script FILE (one command a line), or --dump to print the whole
rebalance at DATE (the next one on or after it) event by event, as text or with --json as JSON.
See docs/debugging.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventbt.debug.debugger import Debugger

__all__ = ["add_arguments", "execute"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="the scenario file (TOML)")
    parser.add_argument("--at", metavar="DATE", help="stop before the first event of DATE (YYYY-MM-DD)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="override a scenario value (repeatable)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--commands", metavar="'CMD; CMD'", help="run these commands (separated by ;) and exit")
    group.add_argument("--script", metavar="FILE", help="run the commands in FILE (one a line) and exit")
    group.add_argument("--dump", action="store_true", help="print the rebalance at DATE event by event and exit")
    parser.add_argument("--json", action="store_true", help="with --dump: print JSON instead of text")


def execute(args: argparse.Namespace) -> int:
    from pathlib import Path

    from eventbt.debug.prompt import DebugShell, stop_line
    from eventbt.errors import DebuggerError
    from eventbt.simulation import Simulation

    if args.json and not args.dump:
        raise DebuggerError("--json goes with --dump", argument="--json")
    debugger = Simulation.from_scenario(args.scenario, args.overrides).debugger
    stopped = debugger.run_until(args.at) if args.at else debugger.simulation.bus.peek()
    if args.dump:
        return _dump(debugger, args.at, as_json=args.json, scenario=args.scenario)
    out = sys.stdout
    shell = DebugShell(debugger, stdout=out, color=out.isatty())
    shell.say(stop_line(stopped, debugger))
    if args.commands is not None:
        shell.run_lines(args.commands.split(";"))
    elif args.script is not None:
        try:
            text = Path(args.script).read_text(encoding="utf-8")
        except OSError as exc:
            raise DebuggerError(f"cannot read {args.script}: {exc.strerror}", argument=args.script) from None
        shell.run_lines(text.splitlines())
    elif sys.stdin.isatty():
        shell.interact()
    else:
        shell.run_lines(sys.stdin)
    return 0


def _dump(debugger: Debugger, at: str | None, *, as_json: bool, scenario: str) -> int:
    import orjson

    records = debugger.step_rebalance()
    if as_json:
        publishers = debugger.simulation.bus.publisher
        payload = {
            "scenario": scenario,
            "at": at,
            "steps": [record.to_dict(publishers[record.event.id]) for record in records],
        }
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                                      | orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    elif records:
        print(records)
    else:
        print("no rebalance on or after this date")
    return 0
