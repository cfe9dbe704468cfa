"""Read an audit log: trace an event's causal chain, show events as a table, export them, verify the digest.

  eventbt audit trace LOG EVENT_ID
  eventbt audit show LOG [--type FillEvent] [--symbol AAPL] [--from 2020-01-01] [--to 2020-12-31]
  eventbt audit export LOG --to events.csv|events.parquet   (a new file, or one an earlier export wrote)
  eventbt audit verify LOG          (exit 1 when the log was modified after it was written)

trace, show and export read a log modified after it was written as it is, after a one-line warning on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "execute", "export_target", "is_event_export", "publish_rows", "show_options"]

_BASE_COLUMNS = ("seq", "time", "type", "id", "cause", "by")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    trace = sub.add_parser("trace", help="the causal chain of one event, the event first")
    trace.add_argument("log", help="the audit log (or the run folder holding audit.jsonl)")
    trace.add_argument("event_id", type=int, metavar="EVENT_ID")
    show = sub.add_parser("show", help="published events as a readable table")
    show.add_argument("log", help="the audit log (or the run folder holding audit.jsonl)")
    show.add_argument("--type", dest="event_type", metavar="TYPE",
                      help="only this event type: FillEvent, or its short name as the step debugger takes it, fill")
    show.add_argument("--symbol", help="only events about this symbol")
    show.add_argument("--from", dest="start", metavar="DATE", help="only events on or after DATE")
    show.add_argument("--to", dest="end", metavar="DATE", help="only events on or before DATE")
    show.add_argument("--limit", type=int, help="show at most this many rows")
    export = sub.add_parser("export", help="published events to a CSV or Parquet file, one row per event",
                            description="Write every published event of the log to a CSV or Parquet file, one "
                                        "row per event. FILE must be new or a file an earlier export wrote (its "
                                        "first columns are seq,time,type,id,cause,by): any other file, a price "
                                        "file or a run's trades.csv, is refused and left as it is.")
    export.add_argument("log", help="the audit log (or the run folder holding audit.jsonl)")
    export.add_argument("--to", dest="target", required=True, metavar="FILE",
                        help="x.csv or x.parquet: a new file, or one an earlier export wrote (never another file)")
    verify = sub.add_parser("verify", help="check the log against the digest in its footer")
    verify.add_argument("log", help="the audit log (or the run folder holding audit.jsonl)")


def publish_rows(records: Sequence[Mapping[str, Any]], *, event_type: str | None = None,
                 symbol: str | None = None, start: str | None = None,
                 end: str | None = None) -> list[dict[str, Any]]:
    """One flat row per ``publish`` record that passes the filters: the base columns, then ``data``'s keys
    (nested values as JSON text). ``end`` includes the whole of its day."""
    rows = []
    for record in records:
        if record.get("record") != "publish":
            continue
        data = record.get("data") or {}
        day = str(record.get("time", ""))[:10]
        if event_type and record.get("type") != event_type:
            continue
        if symbol and data.get("symbol") != symbol:
            continue
        if (start and day < start) or (end and day > end):
            continue
        row = {column: record.get(column) for column in _BASE_COLUMNS}
        for key, value in data.items():
            row[key] = json.dumps(value, sort_keys=True) if isinstance(value, Mapping | list) else value
        rows.append(row)
    return rows


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    # Numbers as the log holds them (a float's shortest round-trip text): 44732549.66, not 4.47325e+07, so a row
    # lines up with trades.csv and equity.csv, which are written at full precision too.
    cells = [[("" if row.get(c) is None else repr(row[c]) if isinstance(row.get(c), float) else str(row[c]))
              for c in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells)
    return "\n".join(lines)


def _check_filters(records: Sequence[Mapping[str, Any]], event_type: str | None, symbol: str | None,
                   path: str) -> str | None:
    """The ``--type`` to filter on, as the log names it: a type the log holds as given, else one of eventbt's by
    any name the step debugger takes (``fill``, ``FillEvent``, any case:
    :func:`eventbt.debug.breakpoints.event_class`). A ``--type`` that names no event type and a ``--symbol`` no
    event of the log is about are refused: a typo would otherwise read as a log without such events."""
    if not event_type and not symbol:
        return event_type
    from eventbt.debug.breakpoints import event_class, event_names
    from eventbt.errors import AuditError, EventbtError, did_you_mean

    types: set[str] = set()
    symbols: set[str] = set()
    for record in records:
        if record.get("record") == "publish":
            types.add(str(record.get("type")))
            data = record.get("data")
            if isinstance(data, Mapping) and data.get("symbol") is not None:
                symbols.add(str(data["symbol"]))
    if event_type and event_type not in types:
        try:
            event_type = event_class(event_type).kind
        except EventbtError:
            known = sorted(types | set(event_names()))
            raise AuditError(f"--type {event_type!r} is not an event type{did_you_mean(event_type, known)}; the "
                             f"log's events are {', '.join(sorted(types)) or 'none'}", path=path) from None
    if symbol and symbol not in symbols:
        raise AuditError(f"--symbol {symbol!r}: no event of the log is about this symbol"
                         f"{did_you_mean(symbol, sorted(symbols))}", path=path)
    return event_type


def show_options(start: str | None, end: str | None, limit: int | None) -> None:
    """``--from`` and ``--to`` as ``YYYY-MM-DD`` (as the debugger's dates), checked before the log is read: a date
    in another form, or not a day of the calendar, and a ``--limit`` below 1 are errors naming the option, not
    filters that quietly match the wrong rows (the days are compared as text)."""
    from eventbt.errors import EventbtError

    for option, text in (("--from", start), ("--to", end)):
        if text is None:
            continue
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            dt.date.fromisoformat(text)
        except ValueError:
            raise EventbtError(f"{option}: not a date: {text!r} (expected YYYY-MM-DD)") from None
    if start is not None and end is not None and start > end:
        raise EventbtError(f"--from {start} is after --to {end}; expected --from on or before --to")
    if limit is not None and limit < 1:
        raise EventbtError(f"--limit: expected a whole number of rows of 1 or more, got {limit}")


def execute(args: argparse.Namespace) -> int:
    from eventbt.audit import read_audit, trace_records
    from eventbt.errors import AuditError
    from eventbt.replays.replayer import check_header, compressed_beside, load_log
    from eventbt.results.files import atomic_write

    if args.action == "verify":
        try:
            records = load_log(args.log)
        except AuditError as exc:
            print(f"eventbt: {exc}", file=sys.stderr)
            return 1
        print(f"intact: {len(records):,} records; digest {records[-1].get('digest')}")
        return 0
    # A --to that may not be written is refused before the log is read.
    target = export_target(str(args.target)) if args.action == "export" else None
    if args.action == "show":
        show_options(args.start, args.end, args.limit)
    path = Path(args.log) / "audit.jsonl" if Path(args.log).is_dir() else Path(args.log)
    if not path.is_file():
        raise AuditError(f"no such audit log{compressed_beside(path)}", path=str(path))
    records = read_audit(path)
    check_header(records, str(path))  # an empty file or another JSON-lines file is not an empty log
    _warn_if_edited(records, path, {"trace": "traced", "show": "shown", "export": "exported"}[args.action])
    if args.action == "trace":
        chain = list(trace_records(list[Mapping[str, Any]](records), args.event_id))
        if not chain:
            raise AuditError(f"no event #{args.event_id} in the log", path=str(path))
        rows = publish_rows(chain)
        print(_table(rows))
        return 0
    if args.action == "show":
        event_type = _check_filters(records, args.event_type, args.symbol, str(path))
        rows = publish_rows(records, event_type=event_type, symbol=args.symbol, start=args.start, end=args.end)
        if args.limit is not None:
            rows = rows[: args.limit]
        print(_table(rows) if rows else "no events match")
        return 0
    if target is None:  # pragma: no cover - argparse allows only the four actions
        raise AssertionError(f"unknown action {args.action!r}")
    parquet = target.suffix == ".parquet"
    frame = _events_frame(records, parquet=parquet)
    atomic_write(target, _frame_bytes(frame, parquet=parquet))
    print(f"wrote {len(frame):,} events to {args.target}")
    return 0


def _warn_if_edited(records: Sequence[Mapping[str, Any]], path: Path, done: str) -> None:
    """One line on stderr, as ``eventbt diff`` gives, when the log's digest disagrees with its lines (it was edited
    after it was written): what is wrong and where (:func:`eventbt.replays.replayer.digest_problem`). The log is
    read as it is: reading an edited log is how one looks at the edit."""
    from eventbt.replays.replayer import digest_problem

    if records[-1].get("record") != "footer":
        return  # a log cut short has no digest to check
    problem = digest_problem(records)
    if problem is not None:
        print(f"eventbt: warning: {path}: {problem}; {done} as it is", file=sys.stderr)


def _events_frame(records: Sequence[Mapping[str, Any]], *, parquet: bool) -> Any:
    """The published events as a table; for Parquet, a column mixing text and numbers is made text."""
    import pandas as pd

    frame = pd.DataFrame(publish_rows(records))
    if parquet:
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame


def _frame_bytes(frame: Any, *, parquet: bool) -> bytes:
    if parquet:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return str(frame.to_csv(index=False)).encode()


def export_target(text: str) -> Path:
    """The file ``audit export --to`` may write: a new ``.csv`` or ``.parquet`` file, or one an earlier export
    wrote (:func:`is_event_export`), which is replaced. A folder or any other file (a price file, a run's
    ``trades.csv``) is an :class:`~eventbt.errors.OutputError` naming it, and nothing is read or written."""
    from eventbt.errors import EventbtError, OutputError

    target = Path(text)
    if target.suffix not in (".csv", ".parquet"):
        raise EventbtError(f"--to {text}: expected a file name ending in .csv or .parquet")
    if target.is_dir():
        raise OutputError("is a folder; --to names the .csv or .parquet file to write", path=text)
    if (target.exists() or target.is_symlink()) and not is_event_export(target):
        raise OutputError("exists and is not an export eventbt wrote; --to never overwrites another "
                          "file (remove it or name another)", path=text)
    return target


def is_event_export(path: Path) -> bool:
    """Whether ``path`` is a table an export wrote: a CSV whose header, or a Parquet file whose schema, starts
    with the columns every export starts with (``seq,time,type,id,cause,by``)."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            columns = list(pq.read_schema(path).names)
        else:
            with path.open("rb") as handle:
                columns = handle.readline(1 << 16).decode("utf-8").rstrip("\r\n").split(",")
    except (OSError, ValueError):  # not a file, not text, not Parquet (pyarrow's errors are these): not an export
        return False
    return columns[: len(_BASE_COLUMNS)] == list(_BASE_COLUMNS)
