"""The one exception tree of eventbt.

Every error eventbt raises on purpose derives from :class:`EventbtError` and from the builtin it is
closest to, so ``except ValueError`` still catches a bad scenario value::

    EventbtError
    ├── ScenarioError(ValueError)      a scenario file or override is wrong (file, table, key)
    ├── DataError(ValueError)          price data is wrong (file, symbol, date, row)
    ├── SignalError(ValueError)        a strategy returned unusable target weights (strategy, date, symbol)
    ├── PluginError(ImportError)       an import path or registered name cannot be resolved
    ├── ContractError(TypeError)       a plug-in broke its contract: wrong shape, signature or returned value
    ├── BusError(RuntimeError)         the bus was misused (publishing into the past, stepping a finished run)
    ├── HandlerError(RuntimeError)     a handler raised while handling an event (handler, event, causal chain)
    ├── AccountingError(RuntimeError)  a fill would break the books (negative cash, selling unheld shares)
    ├── AuditError(ValueError)         an audit log cannot be read, or its digest does not match
    ├── OutputError(OSError)           an output folder or file cannot be used: a file, a folder holding other
    │                                  files, a place that cannot be written, a path leaving the run's folder
    ├── SweepError(ValueError)         a sweep's grid, options or output folder is wrong
    └── DebuggerError(ValueError)      a debugger command is wrong (a bad date, event type or event id)

    RunInterrupted(KeyboardInterrupt)  the run was stopped by SIGINT or SIGTERM; partial results are marked
                                       incomplete

:class:`RunInterrupted` belongs to the tree in spirit (it is eventbt's, it says what happened to the run and
keeps the signal as an attribute) but derives from :class:`KeyboardInterrupt`, not :class:`EventbtError`: a
Ctrl-C must get through a caller's ``except Exception`` (a loop of runs that skips failing ones can still be
stopped). Catch it as ``except KeyboardInterrupt`` or by name.

Messages name what is at fault and what was expected; the same values are kept as attributes so callers and
tests never need to parse the wording.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = [
    "AccountingError",
    "AuditError",
    "BusError",
    "ContractError",
    "DataError",
    "DebuggerError",
    "EventbtError",
    "HandlerError",
    "OutputError",
    "PluginError",
    "RunInterrupted",
    "ScenarioError",
    "SignalError",
    "SweepError",
    "closest",
    "did_you_mean",
    "looks_alike",
    "shown_path",
]


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows where something was looked for (a scenario's relative paths are read from the
    scenario's folder, which need not be the working directory): relative to the working directory when it is
    inside it, else absolute."""
    full = os.path.abspath(path)
    here = os.getcwd()
    try:
        inside = os.path.commonpath([full, here]) == here
    except ValueError:  # on another drive (Windows)
        inside = False
    return os.path.relpath(full, here) if inside else full


def closest(text: str, choices: Sequence[str], *, cutoff: float = 0.6) -> str | None:
    """The choice ``text`` most likely meant: the same word in another case first, then the closest spelling
    (:func:`difflib.get_close_matches` at ``cutoff``, as written, then ignoring case); ``None`` when none is
    close. Every did-you-mean of eventbt's messages (a symbol, an event type, a key, a value, an option) asks
    this one function."""
    import difflib

    text = str(text)
    same = [choice for choice in choices if choice.lower() == text.lower() and choice != text]
    close = same or difflib.get_close_matches(text, list(choices), n=1, cutoff=cutoff)
    if not close:
        lowered = {choice.lower(): choice for choice in choices}
        close = [lowered[m] for m in difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=cutoff)]
    return close[0] if close else None


def did_you_mean(text: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``choices`` (:func:`closest`), or nothing: the hint every
    message naming a wrong word gives (a symbol, an event type, a key). A choice that prints the same as
    ``text`` but is other characters (:func:`looks_alike`) is shown with ``ascii()``, both of them, since
    ``did you mean 'NESTLÉ'?`` after ``'NESTLÉ'`` would tell nothing."""
    close = closest(text, choices)
    if close is None:
        return ""
    if looks_alike(close, text):
        return (f" (did you mean {close!a}? it looks the same as {text!a} but is other characters: write both "
                "the same way, e.g. in Unicode NFC)")
    return f" (did you mean {close!r}?)"


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphen, zero-width characters


def looks_alike(one: str, other: str) -> bool:
    """Whether two different names differ only in how their characters are written: composed or decomposed
    accents (an ``É``, or an ``E`` and a combining accent, as macOS writes file names), or characters that show
    as nothing (a zero-width space, a soft hyphen)."""
    import unicodedata

    return one != other and (unicodedata.normalize("NFC", one).translate(_INVISIBLE)
                             == unicodedata.normalize("NFC", other).translate(_INVISIBLE))


class EventbtError(Exception):
    """Root of every error eventbt raises on purpose.

    ``policy`` names the scenario key whose setting ended the run here (``[portfolio] margin_call``, ``[data]
    delisting``, ``[portfolio] withdrawal``), when the error is a stop the scenario chose rather than a failure:
    ``[run] on_error = "skip"`` skips a handler's failures, never such a stop. ``None`` for every other error.
    """

    policy: str | None = None


class ScenarioError(EventbtError, ValueError):
    """A scenario file, or a ``--set`` override, is invalid.

    ``path`` is the scenario file, ``table`` the TOML table (``execution.slippage``), ``key`` the key at
    fault (``None`` when the whole table is wrong).
    """

    def __init__(
        self, message: str, *, path: str | None = None, table: str | None = None, key: str | None = None
    ) -> None:
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)
        self.path = path
        self.table = table
        self.key = key


class DataError(EventbtError, ValueError):
    """Price data is invalid; names the file and, where known, the symbol, date and row."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        symbol: str | None = None,
        date: str | None = None,
        row: int | None = None,
        policy: str | None = None,
    ) -> None:
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)
        self.path = path
        self.symbol = symbol
        self.date = date
        self.row = row
        self.policy = policy


class SignalError(EventbtError, ValueError):
    """A signal generator returned target weights the rebalance cannot use, or raised (its error is the cause)."""

    def __init__(
        self, message: str, *, strategy: str | None = None, date: str | None = None, symbol: str | None = None
    ) -> None:
        prefix = f"strategy {strategy!r} on {date}: " if strategy and date else ""
        super().__init__(prefix + message)
        self.strategy = strategy
        self.date = date
        self.symbol = symbol


class PluginError(EventbtError, ImportError):
    """A ``module:Class`` import path or a registered name could not be resolved."""

    def __init__(self, message: str, *, reference: str | None = None) -> None:
        super().__init__(message)
        self.reference = reference


class ContractError(EventbtError, TypeError):
    """A plug-in (a handler, a cost model, a strategy) broke its contract: a hook that returns something other
    than a list of events, a subscribed event without its hook, a method with the wrong signature, a value it
    may not return. ``plugin`` names it (its name or ``module:Class``)."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class BusError(EventbtError, RuntimeError):
    """The bus was used against its contract."""


class HandlerError(EventbtError, RuntimeError):
    """A handler raised while handling an event.

    ``handler`` is the handler's name, ``event`` the event it was given and ``chain`` the causal chain of
    that event back to the market bar that started it (a list of events, the failing one first).
    """

    def __init__(self, message: str, *, handler: str, event: object, chain: list[object]) -> None:
        super().__init__(message)
        self.handler = handler
        self.event = event
        self.chain = chain


class AccountingError(EventbtError, RuntimeError):
    """A fill would break the books: negative cash or selling shares that are not held."""

    def __init__(self, message: str, *, symbol: str | None = None, date: str | None = None,
                 policy: str | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.date = date
        self.policy = policy


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C, or SIGTERM); results up to the interruption are marked incomplete.

    A :class:`KeyboardInterrupt`, so ``except Exception`` does not swallow it (see the module docstring).
    ``signal`` is the signal's name (``"SIGINT"`` or ``"SIGTERM"``) and ``exit_status`` the command line's
    exit status for it (128 + the signal number: 130, 143).
    """

    def __init__(self, message: str, *, signal: str = "SIGINT") -> None:
        super().__init__(message)
        self.signal = signal

    @property
    def exit_status(self) -> int:
        import signal as signals

        return 128 + int(getattr(signals, self.signal, signals.SIGINT))


class AuditError(EventbtError, ValueError):
    """An audit log cannot be read or does not match its digest."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + (f"line {line}: " if line else "") + message)
        self.path = path
        self.line = line


class OutputError(EventbtError, OSError):
    """An output folder or file cannot be used; ``path`` is the path at fault, as given.

    The message starts with the path: ``runs/x: holds files that are not an eventbt run (notes.txt); ...``.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SweepError(EventbtError, ValueError):
    """A sweep cannot start: a bad ``--grid`` or ``--walk-forward`` spec, option, or output folder."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(f"{option}: {message}" if option else message)
        self.option = option


class DebuggerError(EventbtError, ValueError):
    """A step-debugger request is wrong: a date that does not parse, an unknown event type or event id.

    ``argument`` is the text at fault.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
