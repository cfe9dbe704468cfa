"""The debugger's prompt: a :mod:`cmd` shell over a :class:`~eventbt.debug.debugger.Debugger`.

Interactive on a terminal (readline line editing and a history file); otherwise it reads commands one per
line (standard input, ``--commands``, ``--script``) and echoes each after the prompt, so the output reads
as a transcript. Command names take dashes or underscores (``step-rebalance``); ``n``, ``s`` and ``step``
(pdb's habits) are ``next``, ``c`` is ``continue`` and ``q`` ``quit``. A wrong command or argument prints
``error: ...`` (with a did-you-mean where one is close) and the prompt goes on; :attr:`DebugShell.errors`
keeps them, so a scripted session can end with a non-zero exit status.

A handler error while moving does not end the session: the prompt stays at the failing event as a
post-mortem, showing the error and the event's causal chain (``event``, ``trace``, ``why``, ``portfolio`` and
``queue`` still work; moving on says the run is over).

Ctrl-C on a terminal, as in pdb: at the prompt it only prints a reminder of how to leave; while a command moves
the run, it stops the run before the next event (never inside a handler) and the prompt comes back. A second
Ctrl-C before the run has stopped interrupts as usual, ending the session (for a handler that never returns).
Scripted sessions (``--commands``, ``--script``, standard input) keep Ctrl-C's usual meaning.
"""

from __future__ import annotations

import cmd
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

from eventbt.debug.breakpoints import did_you_mean, event_class, event_names
from eventbt.debug.debugger import Debugger
from eventbt.debug.render import describe, money
from eventbt.errors import DebuggerError, EventbtError, HandlerError
from eventbt.events import Event

__all__ = ["CTRL_C_AT_PROMPT", "INTERRUPTED", "DebugShell", "ctrl_c_stops_the_run", "history_path"]

_ALIASES = {"n": "next", "s": "next", "step": "next", "c": "continue", "q": "quit", "exit": "quit"}
# What Ctrl-C prints at the idle prompt, and above the stop line of a move it stopped.
CTRL_C_AT_PROMPT = "(Ctrl-C: type quit or press Ctrl-D to leave the debugger)"
INTERRUPTED = "interrupted (Ctrl-C): the run stopped between two events, no handler cut short"


def history_path() -> Path:
    """Where the prompt keeps its history: ``$EVENTBT_HISTORY``, else ``~/.eventbt_history``."""
    return Path(os.environ.get("EVENTBT_HISTORY") or Path.home() / ".eventbt_history")


def stop_line(event: Event | None, debugger: Debugger) -> str:
    """Where the run stands after a move: the event it stopped before, or how the run ended."""
    if debugger.error is not None:
        failing = debugger.error.event
        where = f"{failing.kind} #{failing.id}  {failing.date}" if isinstance(failing, Event) else "an event"
        return (f"the run failed at {where} (handler {debugger.error.handler!r}); post-mortem: event, trace, "
                "why, portfolio and queue show it as it stopped")
    if event is not None:
        return f"stopped before {event.kind} #{event.id}  {event.date}  {describe(event)}".rstrip()
    result = debugger.result
    if result is None:
        return "the run is over"
    return (f"the run is over: final value {money(float(result.summary['final_value']))}, "
            f"audit digest {result.digest}")


@contextlib.contextmanager
def ctrl_c_stops_the_run(debugger: Debugger) -> Iterator[None]:
    """While the block runs, Ctrl-C (SIGINT) asks ``debugger``'s move to stop before its next event
    (:meth:`Debugger.interrupt`) instead of raising :class:`KeyboardInterrupt` wherever the run is. A second
    Ctrl-C before the move has stopped raises it as usual, to get out of a handler that never returns.

    Only in the main thread (where Python runs signal handlers); elsewhere the block runs unchanged. The
    previous handler is put back afterwards, also when the block raises.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_ctrl_c(signum: int, frame: FrameType | None) -> None:
        if debugger.interrupt_requested:
            signal.default_int_handler(signum, frame)
        debugger.interrupt()

    debugger.interrupt_requested = False
    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        debugger.interrupt_requested = False  # one that came after the move stopped is not for the next command


class DebugShell(cmd.Cmd):
    """``next [N]``, ``step-rebalance``, ``continue``, ``until DATE``, ``break``, ... (``help`` lists them)."""

    prompt = "(eventbt) "

    def __init__(self, debugger: Debugger, *, stdout: IO[str], color: bool = False) -> None:
        super().__init__(stdout=stdout)
        self.debugger = debugger
        self.color = color
        self.errors: list[str] = []  # "'command': message" of each command that failed, in order
        self._typed = ""  # the command line being run, as typed

    # -- plumbing -------------------------------------------------------------------------------------
    def say(self, thing: Any) -> None:
        text = thing if isinstance(thing, str) else thing.text(color=self.color)
        self.stdout.write(text + "\n")

    def onecmd(self, line: str) -> bool:
        self._typed = line.strip()  # as typed: an unknown command is named so, not with its dashes made _
        name, _, rest = line.strip().partition(" ")
        name = _ALIASES.get(name, name).replace("-", "_")
        try:
            return super().onecmd(f"{name} {rest}".strip())
        except HandlerError as exc:
            self.post_mortem(exc, line.strip())
        except (EventbtError, ValueError) as exc:
            self.error(line.strip(), str(exc))
        return False

    def error(self, command: str, message: str) -> None:
        """Print ``error: message`` and keep it in :attr:`errors`."""
        self.errors.append(f"{command}: {message}" if command else message)
        self.say(f"error: {message}")

    def post_mortem(self, exc: HandlerError, command: str = "") -> None:
        """Show a handler error that ended the run, and the failing event's causal chain; the prompt stays."""
        self.error(command, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        self.say(stop_line(None, self.debugger))
        if isinstance(exc.event, Event):
            self.say(self.debugger.trace(exc.event.id))

    def emptyline(self) -> bool:
        return False

    def command_names(self) -> list[str]:
        """Every command name, dashed as typed (``step-rebalance``), and the aliases."""
        names = [name[3:].replace("_", "-") for name in self.get_names() if name.startswith("do_") and name != "do_EOF"]
        return sorted({*names, *_ALIASES})

    def default(self, line: str) -> None:
        typed = self._typed or line.strip()
        word = typed.split()[0]
        hint = did_you_mean(word.replace("_", "-"), self.command_names())
        self.error(typed, f"unknown command {word!r}{hint} (type help)")

    def run_lines(self, lines: Iterable[str]) -> None:
        """Run commands one per line, echoing each after the prompt; stops at ``quit``."""
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            self.stdout.write(f"{self.prompt}{line}\n")
            if self.onecmd(line):
                return

    def interact(self) -> None:
        """The interactive loop (:meth:`read_loop` over :func:`input`), with readline line editing, completion of
        command names and a history kept in :func:`history_path`."""
        try:
            import readline
        except ImportError:  # pragma: no cover - readline is missing on some platforms
            self.read_loop(input)
            return
        path = history_path()
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        completer = readline.get_completer()
        readline.set_completer(self.complete)  # type: ignore[arg-type]  # typeshed says a list; it returns one name
        readline.parse_and_bind(f"{self.completekey}: complete")
        try:
            self.read_loop(input)
        finally:
            readline.set_completer(completer)
            with contextlib.suppress(OSError):
                readline.write_history_file(path)

    def read_loop(self, read: Callable[[str], str]) -> None:
        """Read commands with ``read(prompt)`` and run them until ``quit`` or the end of input (Ctrl-D). Ctrl-C at
        the prompt prints :data:`CTRL_C_AT_PROMPT` and asks again; while a command runs, it stops the run before
        its next event (:func:`ctrl_c_stops_the_run`)."""
        while True:
            try:
                line = read(self.prompt)
            except KeyboardInterrupt:
                self.stdout.write("\n")
                self.say(CTRL_C_AT_PROMPT)
                continue
            except EOFError:
                line = "EOF"
            with ctrl_c_stops_the_run(self.debugger):
                if self.onecmd(line):
                    return

    def _moved(self, event: Event | None) -> None:
        self.say(stop_line(event, self.debugger))

    def _at_breakpoint(self) -> None:
        """Where a breakpoint stopped a move: the breakpoint, then the event it stopped before."""
        self.say(f"breakpoint {self.debugger.hit}")
        self._moved(self.debugger.upcoming)

    def _interrupted(self) -> None:
        """Where an interrupted move stopped: :data:`INTERRUPTED`, then the event it stopped before."""
        self.say(INTERRUPTED)
        self._moved(self.debugger.upcoming)

    # -- moving ---------------------------------------------------------------------------------------
    def do_next(self, arg: str) -> None:
        """next [N]: deliver the next N events (default 1) and show each step; a breakpoint stops it (also: n, s,
        step)."""
        text = arg.strip()
        if text and not (text.isdigit() and int(text) > 0):
            raise DebuggerError(f"next takes a positive whole number of events (default 1), got {text!r}",
                                argument=text)
        count = int(text) if text else 1
        records = self.debugger.next(count, on_step=self.say)  # each step shown as it is made (an error's too)
        if self.debugger.hit is not None:
            self._at_breakpoint()
        elif self.debugger.interrupted:
            self._interrupted()
        elif len(records) < count:
            self._moved(None)

    def do_step_rebalance(self, arg: str) -> None:
        """step-rebalance: step the next rebalance, from its MarketEvent to its last snapshot (part-way through one:
        the rest of it); a breakpoint stops it."""
        records = self.debugger.step_rebalance(on_step=self.say)  # each step shown as it is made (an error's too)
        if self.debugger.hit is not None:
            self._at_breakpoint()
        elif self.debugger.interrupted:
            self._interrupted()
        elif not records or self.debugger.finished:
            self._moved(None)

    def do_continue(self, arg: str) -> None:
        """continue: run to the next breakpoint, or to the end."""
        event = self.debugger.continue_()
        if self.debugger.hit is not None:
            self.say(f"breakpoint {self.debugger.hit}")
        if self.debugger.interrupted:
            self.say(INTERRUPTED)
        self._moved(event)

    def do_until(self, arg: str) -> None:
        """until DATE: run to just before the first event at or after DATE (YYYY-MM-DD) still to come (on the day in
        progress, the next event: the run does not move)."""
        if not arg.strip():
            raise DebuggerError("until needs a date (YYYY-MM-DD)")
        event = self.debugger.run_until(arg.strip())
        if self.debugger.hit is not None:
            self.say(f"breakpoint {self.debugger.hit}")
        if self.debugger.interrupted:
            self.say(INTERRUPTED)
        self._moved(event)

    # -- breakpoints ----------------------------------------------------------------------------------
    def do_break(self, arg: str) -> None:
        """break [TYPE] [SYMBOL] [DATE]: stop before such events, the words in any order (no argument: list the
        breakpoints)."""
        words = arg.split()
        if not words:
            points = self.debugger.breakpoints.values()
            self.say("\n".join(str(p) for p in points) if points else "no breakpoints")
            return
        # A word that is not a symbol and starts with a digit is meant as a date: the parser says if it is not one.
        dates = [w for w in words if _looks_like_date(w, self.debugger.symbols)]
        rest = [w for w in words if w not in dates]
        if len(dates) > 1 or len(rest) > 2:
            raise DebuggerError(f"break takes [TYPE] [SYMBOL] [DATE] (in any order), got {arg.strip()!r}",
                                argument=arg)
        event_type: str | None = None
        symbol: str | None = None
        if len(rest) == 2:
            # Each word is recognisable: `break XOM fill` is `break fill XOM`. When neither word or both are event
            # types, the first is taken as the type (its error names it: `break ordr AAA`, `break AAA AAA`).
            first, second = rest
            event_type, symbol = (second, first) if _is_event_type(second) and not _is_event_type(first) else rest
        elif rest:
            word = rest[0]
            try:
                event_class(word)
                event_type = word
            except DebuggerError:
                if word not in self.debugger.symbols:
                    # Neither a type nor a symbol of the data: a breakpoint that could never fire.
                    hint = did_you_mean(word, [*event_names(), *self.debugger.symbols])
                    raise DebuggerError(f"{word!r} is neither an event type nor a symbol of the run's data{hint}, "
                                        "so a breakpoint on it would never fire", argument=word) from None
                symbol = word
        point = self.debugger.add_breakpoint(event_type, symbol, date=dates[0] if dates else None)
        self.say(f"breakpoint {point}")

    def do_delete(self, arg: str) -> None:
        """delete N: remove breakpoint N."""
        text = arg.strip()
        if not text.isdigit():
            raise DebuggerError(f"delete takes a breakpoint number, got {text!r}", argument=text)
        self.debugger.delete_breakpoint(int(text))
        self.say(f"deleted breakpoint {int(text)}")

    # -- looking --------------------------------------------------------------------------------------
    def do_queue(self, arg: str) -> None:
        """queue: the queued events, in delivery order."""
        self.say(self.debugger.queue)

    def do_portfolio(self, arg: str) -> None:
        """portfolio: cash, positions, average cost, marks and weights now."""
        self.say(self.debugger.portfolio)

    def do_event(self, arg: str) -> None:
        """event [ID]: one event in full (default: the one the run is stopped before)."""
        self.say(self.debugger.event_view(_event_id(arg)))

    def do_trace(self, arg: str) -> None:
        """trace [ID]: an event's causal chain back to its market bar (default: the one stopped before)."""
        self.say(self.debugger.trace(_event_id(arg)))

    def do_orders(self, arg: str) -> None:
        """orders: the orders of the latest rebalance and what became of them."""
        self.say(self.debugger.orders())

    def do_fills(self, arg: str) -> None:
        """fills: the fills (and cancels) of the latest rebalance."""
        self.say(self.debugger.fills())

    def do_why(self, arg: str) -> None:
        """why [ID]: the notices explaining a skipped, scaled, trimmed or reduced order, and why a limit or stop
        order filled or expired (default: the rebalance)."""
        self.say(self.debugger.why(_event_id(arg)))

    def do_waiting(self, arg: str) -> None:
        """waiting: the orders waiting for a later bar (limit, stop, next open or close) and their last check."""
        self.say(self.debugger.waiting())

    def do_help(self, arg: str) -> None:
        """help [COMMAND]: the commands, or one command's help."""
        commands = sorted(name[3:] for name in self.get_names() if name.startswith("do_") and name != "do_EOF")
        if arg.strip():
            name = arg.strip().replace("-", "_")
            method: Callable[..., Any] | None = getattr(self, f"do_{_ALIASES.get(name, name)}", None)
            if method is None:
                hint = did_you_mean(arg.strip(), self.command_names())
                self.error(f"help {arg.strip()}", f"unknown command {arg.strip()!r}{hint}")
                return
            self.say(method.__doc__ or "")
            return
        for name in commands:
            self.say(getattr(self, f"do_{name}").__doc__ or name.replace("_", "-"))

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger."""
        return True

    def do_EOF(self, arg: str) -> bool:
        self.stdout.write("\n")
        return True


def _is_event_type(word: str) -> bool:
    try:
        event_class(word)
    except DebuggerError:
        return False
    return True


def _looks_like_date(word: str, symbols: tuple[str, ...]) -> bool:
    return word[:1].isdigit() and word not in symbols


def _event_id(arg: str) -> int | None:
    text = arg.strip().lstrip("#")
    if not text:
        return None
    if not text.isdigit():
        raise DebuggerError(f"not an event id: {arg.strip()!r}", argument=arg.strip())
    return int(text)
