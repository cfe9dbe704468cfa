"""The ``eventbt`` command line: one sub-command per module in :mod:`eventbt.cli.commands`.

Exit codes: 0 success; 1 a check or comparison found a difference (``replay``, ``verify``); 2 bad input (a
one-line error on stderr, no traceback unless ``--debug``); 130 interrupted (SIGINT), 143 terminated
(SIGTERM).
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["build_parser", "commands", "drop_working_folder", "main", "named_command", "program"]

IMPORT_CWD = "EVENTBT_IMPORT_CWD"
"""Set to ``1`` to keep the working folder on ``sys.path`` under ``python -m eventbt``."""


def drop_working_folder() -> None:
    """Take the working folder that ``python -m`` put first on ``sys.path`` back off, as the ``eventbt``
    command (a console script) never has it: the code a scenario or a received audit log names is imported
    from the installed packages and ``PYTHONPATH``, not from the folder the command runs in. ``PYTHONPATH=.``
    or ``EVENTBT_IMPORT_CWD=1`` keeps it (docs/scenarios.md)."""
    import os

    if os.environ.get(IMPORT_CWD, "") not in ("", "0") or getattr(sys.flags, "safe_path", False) or not sys.path:
        return
    try:
        here = os.getcwd()
    except OSError:
        here = None
    if sys.path[0] in ("", ".") or (here is not None and os.path.abspath(sys.path[0]) == here):
        del sys.path[0]


@functools.cache
def commands() -> dict[str, str]:
    """Sub-command name -> module: every module of :mod:`eventbt.cli.commands`, each with
    ``add_arguments(parser)`` and ``execute(args) -> int`` (``audit_trace.py`` would be ``audit-trace``)."""
    import eventbt.cli.commands as package

    found = {info.name.replace("_", "-"): f"eventbt.cli.commands.{info.name}"
             for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")}
    return dict(sorted(found.items()))  # read once a process: named_command and build_parser both ask


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or, with ``only``, the top level and that one sub-command (each sub-command's
    module is imported to add its arguments; a run need not import the other twelve)."""
    from eventbt import __version__

    parser = argparse.ArgumentParser(prog="eventbt", description="Event-driven backtests you can see and trust.")
    parser.add_argument("--version", action="version", version=f"eventbt {__version__}")
    parser.add_argument("--log", choices=("text", "json"), default="text",
                        help="how warnings, notes and errors are written on stderr: text lines (default) or JSON "
                             "lines, one object per message (structlog)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = commands() if only is None else {only: commands()[only]}
    for name, module_name in named.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.__doc__.strip().splitlines()[0] if module.__doc__ else None,
                                 description=module.__doc__, formatter_class=_DocFormatter)
        command.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        module.add_arguments(command)
        command.set_defaults(module=module, command_parser=command)
        for action in command._actions:  # a command's own actions (`audit show`) name their misspelt options
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    child.set_defaults(command_parser=child)
    return parser


class _DocFormatter(argparse.HelpFormatter):
    """A command's description (its module docstring) as paragraphs: each reflowed to the terminal, and a
    paragraph with indented lines (usage examples) kept line by line as written. argparse's own formatter runs
    the whole docstring into one paragraph."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        blocks = []
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines):
                blocks.append("\n".join(indent + line.rstrip() for line in lines))
            else:
                blocks.append(textwrap.fill(" ".join(line.strip() for line in lines), width,
                                            initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(blocks)


def _unrecognized(command: argparse.ArgumentParser, extra: Sequence[str]) -> str:
    """argparse's ``unrecognized arguments`` line, with a did-you-mean for a misspelt option of ``command``."""
    from eventbt.errors import closest

    options = {option.lstrip("-"): option for action in command._actions for option in action.option_strings
               if option.startswith("--")}
    hints = []
    for word in extra:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            close = closest(name.lstrip("-"), list(options), cutoff=0.75)
            if close is not None:
                hints.append(f"{name}: did you mean {options[close]}?")
    return f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(hints)})" if hints else "")


def named_command(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names, when its first word after the top-level ``--log`` option is one; else
    ``None`` (no command, a misspelt one, ``--help`` or ``--version``: the whole parser answers those)."""
    words = iter(argv)
    for word in words:
        if word == "--log":
            next(words, None)
        elif not word.startswith("--log="):
            return word if word in commands() else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from eventbt.cli import log
    from eventbt.errors import EventbtError, RunInterrupted

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=named_command(argv))
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the sub-command's parser, whose usage shows the options it does take
        command = getattr(args, "command_parser", parser)
        if args.command in argv and extra[0] in argv[:argv.index(args.command)]:
            command = parser  # a top-level mistake, before the command
        command.error(_unrecognized(command, extra))
    log.configure(args.log, command=args.command)
    try:
        code: int = args.module.execute(args)
        return code
    except RunInterrupted as exc:
        if args.log == "json":
            log.error(str(exc), code="interrupted", exit_status=exc.exit_status)
        else:
            print(f"eventbt: {exc}", file=sys.stderr)
        return exc.exit_status
    except EventbtError as exc:
        if args.debug:
            traceback.print_exc()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.error(message, error_type=type(exc).__name__)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted", code="interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`eventbt run ... | head`): stop quietly, as other command-line tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # A file the command had to read or write (a path too long, a full disk, no permission): one line.
        if args.debug:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        log.error(f"{where}{exc.strerror or exc}", error_type=type(exc).__name__)
        return 2


def program() -> NoReturn:
    """The ``eventbt`` program (its console script, ``python -m eventbt``): :func:`main`, then exit with its status.

    Before the interpreter exits, the objects alive are frozen (:func:`gc.freeze`): Python's shutdown would
    otherwise walk every object that pandas, pyarrow and the run made, looking for reference cycles only to free
    memory the process is about to return. That walk is about 0.1 s, a ninth of a small run's whole process (0.85 s)
    (docs/performance.md). Every file the command wrote is closed by then, and ``atexit`` functions still run:
    only the exit is cheaper. :func:`main` itself, which tests and notebooks call, leaves the collector alone.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
