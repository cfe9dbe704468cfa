"""Step through a scenario's events: stop at a date, then walk a rebalance event by event.

Opens a prompt (type help) stopped before the first event of --at DATE (with a note when DATE is before or
after the data, or not a rebalance date). For scripts and bug reports: --commands "next 3; portfolio;
continue", --script FILE (one command a line), or --dump to print the whole rebalance at DATE (the next one on
or after it, with a note when that is another date) event by event, as text or with --json as JSON (after a
handler error, with an "error": its message, handler and failing event). A
scripted session with a failed command exits 2; a handler error stops the run at the failing event as a
post-mortem and the prompt stays. See docs/debugging.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventbt.debug.debugger import Debugger
    from eventbt.errors import HandlerError

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
    from eventbt.errors import DebuggerError, HandlerError
    from eventbt.simulation import Simulation

    if args.json and not args.dump:
        raise DebuggerError("--json goes with --dump", argument="--json")
    if args.at:  # checked before the scenario is read, and named as the option
        from eventbt.debug.breakpoints import day_start_ns

        try:
            day_start_ns(args.at)
        except DebuggerError as exc:
            raise DebuggerError(f"--at: {exc}", argument=args.at) from None
    # The session's log stays in memory (docs/debugging.md): the scenario's [audit] path is left as it is.
    script = None
    if args.script is not None:  # read before the run is built and stepped to --at
        try:
            script = Path(args.script).read_text(encoding="utf-8")
        except OSError as exc:
            raise DebuggerError(f"cannot read {args.script}: {exc.strerror}", argument=args.script) from None
    debugger = Simulation.from_scenario(args.scenario, args.overrides, audit_path=False).debugger
    notes = _at_notes(debugger, args.at) if args.at else []
    if args.dump:
        return _dump(debugger, args.at, as_json=args.json, scenario=args.scenario, notes=notes)
    out = sys.stdout
    shell = DebugShell(debugger, stdout=out, color=out.isatty())
    for note in notes:
        shell.say(f"note: {note}")
    try:
        stopped = debugger.run_until(args.at) if args.at else debugger.simulation.bus.peek()
        shell.say(stop_line(stopped, debugger))
    except HandlerError as exc:  # the run failed before --at: a post-mortem at the failing event
        shell.post_mortem(exc, f"--at {args.at}")
    scripted = True
    if args.commands is not None:
        shell.run_lines(args.commands.split(";"))
    elif script is not None:
        shell.run_lines(script.splitlines())
    elif sys.stdin.isatty():
        scripted = False
        shell.interact()
    else:
        shell.run_lines(sys.stdin)
    if scripted and shell.errors:
        count = len(shell.errors)
        raise DebuggerError(f"{count} debugger command{'s' if count > 1 else ''} failed; the first: "
                            f"{shell.errors[0]}")
    return 0


def _at_notes(debugger: Debugger, at: str) -> list[str]:
    """What to tell about ``--at``: a date before or after the data, or a date that is not a rebalance date."""
    from eventbt.debug.debugger import day_start_ns

    day_start_ns(at)  # a bad date is an error before anything runs
    dates = debugger.dates
    if dates is None or not len(dates):
        return []
    first, last = str(dates[0])[:10], str(dates[-1])[:10]
    day = str(at).strip()[:10]
    if day < first:
        return [f"--at {at} is before the data, which starts on {first}: stopped at the first event"]
    if day > last:
        return [f"--at {at} is after the data, which ends on {last}: the run went to its end"]
    rebalances = debugger.rebalance_dates()
    if rebalances and day not in rebalances:
        following = next((d for d in rebalances if d > day), None)
        after = f"the next is on {following}" if following else "there is none after it"
        bars = {str(d)[:10] for d in dates}
        where = "" if day in bars else " nor a date of the data (stopped before the first event after it)"
        return [f"{at} is not a rebalance date{where}; {after}"]
    return []


def _dump(debugger: Debugger, at: str | None, *, as_json: bool, scenario: str, notes: list[str]) -> int:
    import orjson

    from eventbt.errors import DebuggerError, HandlerError

    if at:
        last = str(debugger.dates[-1])[:10] if debugger.dates is not None and len(debugger.dates) else None
        if last is not None and str(at).strip()[:10] > last:
            raise DebuggerError(f"--dump --at {at}: no rebalance on or after it, the data ends on {last}",
                                argument=at)
        debugger.run_until(at)
    failure: HandlerError | None = None
    try:
        records = debugger.step_rebalance()
    except HandlerError as exc:  # the steps up to the failure are printed first, then the error (as step-rebalance)
        records, failure = debugger.partial_steps, exc
    if not records:
        if failure is not None:
            raise failure
        raise DebuggerError(f"--dump: no rebalance on or after {at or 'the start'}", argument=at)
    shown = records[0].event.date[:10]
    if at and shown != str(at).strip()[:10]:
        print(f"eventbt: note: no rebalance on {at}; this is the next one, on {shown}", file=sys.stderr)
    elif notes:
        for note in notes:
            print(f"eventbt: note: {note}", file=sys.stderr)
    if as_json:
        payload: dict[str, object] = {
            "scenario": scenario,
            "at": at,
            "rebalance": shown,
            "steps": [record.to_dict() for record in records],
        }
        if failure is not None:
            payload["error"] = _error_dict(failure)
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                                      | orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    else:
        print(records)
    if failure is not None:
        sys.stdout.flush()
        raise failure
    return 0


def _error_dict(exc: HandlerError) -> dict[str, object]:
    """A handler error in ``--dump --json``: the message (its first line, as stderr says it), the handler, and the
    failing event (its id, type and time). That event is not among the steps: its delivery did not finish, though
    the handlers before the failing one took it (the portfolio may have booked a fill)."""
    from eventbt.events import Event

    event = exc.event if isinstance(exc.event, Event) else None
    return {"message": str(exc).splitlines()[0] if str(exc) else type(exc).__name__, "handler": exc.handler,
            "event": None if event is None else event.id, "type": None if event is None else event.kind,
            "time": None if event is None else event.date}
