"""What the command line tells you besides its results: warnings, notes and errors, as text or as JSON lines.

By default each message is one line of text on standard error, ``eventbt: warning: ...``, ``eventbt: note:
...``, ``eventbt: error: ...``. With ``eventbt --log json COMMAND`` each is one JSON object per line instead,
written by structlog: ``{"command": "run", "event": "<the message>", "level": "warning", "timestamp": ...}``
plus the message's own fields (``code``, ``path``, ...), for pipelines and CI systems that collect logs.
structlog is imported only in that mode, so a plain run does not pay for it.

These messages are about the run, not part of it: the audit log is the record of what a run did, and nothing
here goes into it or its digest.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

__all__ = ["LOG_FORMATS", "configure", "error", "note", "warning"]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

_state: dict[str, Any] = {"format": "text", "logger": None}


def configure(log_format: LogFormat = "text", *, command: str | None = None) -> None:
    """Choose how messages are written for the rest of the process (``command`` is added to JSON lines)."""
    _state["format"] = log_format
    _state["logger"] = None
    if log_format == "json":
        import structlog

        processors: list[Any] = [structlog.processors.add_log_level,
                                 structlog.processors.TimeStamper(fmt="iso", utc=True),
                                 structlog.processors.JSONRenderer(sort_keys=True)]
        logger = structlog.wrap_logger(structlog.PrintLogger(file=sys.stderr), processors=processors)
        _state["logger"] = logger.bind(command=command) if command else logger


def _emit(level: str, message: str, fields: dict[str, Any]) -> None:
    logger = _state["logger"]
    if logger is not None:
        getattr(logger, level)(message, **fields)
    else:
        print(f"eventbt: {level}: {message}", file=sys.stderr)


def warning(message: str, **fields: Any) -> None:
    """Something about the input worth knowing (a suspicious price, a stale series): the run goes on."""
    _emit("warning", message, fields)


def note(message: str, **fields: Any) -> None:
    """What the command did that the user may not expect (partial results written, a date moved)."""
    _emit("info" if _state["logger"] is not None else "note", message, fields)


def no_explorer(why: str) -> None:
    """The note that a report was written without its event explorer, and why (``run --report``, ``report``)."""
    note(f"no event explorer in the report: {why}")


def error(message: str, **fields: Any) -> None:
    """Why the command stopped (exit status 2 or more)."""
    _emit("error", message, fields)
