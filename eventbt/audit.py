"""The audit log: every event published, with the handlers it is delivered to, as JSON lines with sorted keys.

The record schema is documented in ``docs/audit-log.md``. In short, each line is one JSON object whose
``record`` field says what it is:

- ``header``: first line; the run's metadata (eventbt version, audit format, resolved scenario, data file
  hashes, ...). Its ``wall_clock`` (start time) and ``environment`` (Python and library versions, the
  scenario file's path) fields are the only data in a log that may differ between runs of the same scenario;
  the digest leaves them out.
- ``publish``: an event entered the queue: ``seq``, ``id``, ``type``, ``time``, ``cause``, ``by`` (the
  publisher), ``to`` (the handlers it is delivered to, in delivery order; empty when nobody subscribes) and
  ``data`` (the event's :meth:`~eventbt.events.Event.audit_fields`). Events are delivered in (``time``,
  ``seq``) order, so the line says when and to whom without a record of its own.
- ``note``: anything else worth keeping (a warning, a dead letter, an interruption), with a ``code``.
- ``footer``: last line; how the run ended (``status``: completed, failed, interrupted), the error if any,
  and ``digest``: the SHA-256 of every line before the footer (the header without ``wall_clock`` and
  ``environment``).

This is audit format 2 (:data:`AUDIT_FORMAT`, in the header as ``audit_format``). Format 1 (eventbt 0.1) had
a separate ``deliver`` line after each ``publish`` line; the readers (:func:`read_audit`,
:func:`event_records`, replay, verify) accept both.

Records are kept as small tuples while the run goes and rendered in batches: the events of every bar
(``MarketEvent``, ``BarEndEvent``, ``SnapshotEvent``, ...) from byte templates, the others with orjson, the
bytes identical to what ``orjson.dumps(record, option=OPT_SORT_KEYS)`` gives (tests/eventbt/test_audit.py
checks it). In file mode every batch is one write of whole lines, so a log cut short by a kill is valid JSON
lines up to its last line.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from eventbt.errors import AuditError
from eventbt.events import BarEndEvent, BarOpenEvent, DataEndEvent, Event, MarketEvent, SnapshotEvent
from eventbt.quiet import QuietBars

__all__ = ["AUDIT_FORMAT", "RECORDED_LIBRARIES", "AuditLog", "digest_of_lines", "event_records", "read_audit",
           "runtime_versions", "trace_records", "version_differences"]

AUDIT_FORMAT = 2
"""The format version this eventbt writes (``audit_format`` in the header; a header without it is format 1)."""

_PUBLISH = 0
_RECORD = 2
_QUIET = 3

_NS_PER_DAY = 86_400_000_000_000
_EPOCH_ORDINAL = 719_163  # datetime.date(1970, 1, 1).toordinal()
_GROUP = 32  # lines joined at a time while rendering (see AuditLog.flush)

_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY


# Fields that differ between machines or runs of the same scenario; the digest leaves them out.
VOLATILE_FIELDS = ("environment", "wall_clock")

# The libraries whose versions a header records (under ``environment``): what a run's numbers pass through.
RECORDED_LIBRARIES = ("numpy", "pandas", "attrs", "orjson")


def runtime_versions() -> dict[str, str]:
    """``{"python": ..., "numpy": ..., ...}``: the interpreter's and :data:`RECORDED_LIBRARIES`' versions
    (read once per process: reading package metadata parses files, and versions do not change in a process)."""
    return dict(_runtime_versions())


@functools.cache
def _runtime_versions() -> tuple[tuple[str, str], ...]:
    import sys

    versions = {"python": sys.version.split()[0]}  # what platform.python_version() reads, without platform
    for name in RECORDED_LIBRARIES:
        versions[name] = _installed_version(name)
    return tuple(versions.items())


def _installed_version(name: str) -> str:
    """The installed version of the library ``name``, as ``importlib.metadata.version`` gives it.

    Importing ``importlib.metadata`` and parsing a package's metadata costs tens of milliseconds, a tenth of a
    small run's whole process, so the version comes from the module's ``__version__`` when it has one, else
    from the name of its one ``.dist-info`` folder beside it (``attrs-26.1.0.dist-info``: attrs computes
    ``__version__`` from the metadata), and only failing both from the metadata.
    ``tests/eventbt/test_audit.py`` checks the answer against ``importlib.metadata`` for every recorded library.
    """
    import importlib

    try:
        module = importlib.import_module(name)
    except ImportError:  # pragma: no cover - all are dependencies
        return "not installed"
    version = module.__dict__.get("__version__")
    if isinstance(version, str):
        return version
    if module.__file__ is not None:
        folders = list(Path(module.__file__).parent.parent.glob(f"{name}-*.dist-info"))
        if len(folders) == 1:
            return folders[0].name[len(name) + 1: -len(".dist-info")]
    import importlib.metadata

    return importlib.metadata.version(name)


def version_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``"numpy 2.4.6 -> 2.5.0"`` for each version in ``recorded`` (a header's ``environment``) that differs."""
    names = ["python", *RECORDED_LIBRARIES]
    return [f"{name} {recorded[name]} -> {current.get(name, 'not installed')}" for name in names
            if name in recorded and recorded[name] != current.get(name)]


def _drop_volatile(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without the wall-clock and machine fields (what the digest takes of a header)."""
    for key in VOLATILE_FIELDS:
        record.pop(key, None)
    return record


def _render(record: Mapping[str, Any]) -> bytes:
    """One record as a JSON line (no newline): sorted keys, numpy scalars as numbers, by orjson directly."""
    return orjson.dumps(record, option=_JSON_OPTIONS)



# The publish lines of a bar's own events, with orjson's key order (sorted): the head and tail are fixed per
# (type, publisher, subscribers) (_ends); the cause, numbers, id, seq and time are filled in.
_BAR_LINE = b'%s%s,"data":{"bar":%d},"id":%d,"record":"publish","seq":%d,"time":"%s%s'
_DATA_LINE = b'%s%s,"data":%s,"id":%d,"record":"publish","seq":%d,"time":"%s%s'
_SNAPSHOT_LINE = (b'%s%s,"data":{"bar":%d,"cash":%s,"positions_value":%s,"total_value":%s},"id":%d,'
                  b'"record":"publish","seq":%d,"time":"%s%s')
# Each line format starts with "%s%s" (head, cause) and ends with "%s%s" (time, tail): _quiet_format_around_cash
# relies on it.
assert _BAR_LINE[:4] == _SNAPSHOT_LINE[:4] == _BAR_LINE[-4:] == _SNAPSHOT_LINE[-4:] == b"%s%s"


def _ends(kind: str, by: str, to: tuple[str, ...]) -> tuple[bytes, bytes]:
    """The fixed head (up to the cause) and tail (after the time) of a publish line."""
    head = b'{"by":' + orjson.dumps(by) + b',"cause":'
    tail = b'","to":' + orjson.dumps(list(to)) + b',"type":' + orjson.dumps(kind) + b"}"
    return head, tail


def _bar_template(kind: str, by: str, to: tuple[str, ...]) -> Callable[[int, int, int | None, bytes, Event], bytes]:
    """A renderer of the ``publish`` line of an event whose data is just ``{"bar": n}`` (a bar's market,
    open, end and data-end events), from bytes fixed per (type, publisher, subscribers)."""
    head, tail = _ends(kind, by, to)

    def render(seq: int, event_id: int, cause: int | None, time: bytes, event: Event) -> bytes:
        return _BAR_LINE % (head, b"null" if cause is None else b"%d" % cause, event.bar,  # type: ignore[attr-defined]
                            event_id, seq, time, tail)

    return render


def _snapshot_template(kind: str, by: str, to: tuple[str, ...]) -> Callable[[int, int, int | None, bytes, Event],
                                                                               bytes]:
    """A renderer of a ``SnapshotEvent``'s ``publish`` line; its floats are formatted by orjson itself."""
    head, tail = _ends(kind, by, to)
    dumps = orjson.dumps

    def render(seq: int, event_id: int, cause: int | None, time: bytes, event: Event) -> bytes:
        snapshot: Any = event
        return _SNAPSHOT_LINE % (
            head, b"null" if cause is None else b"%d" % cause, snapshot.bar, dumps(snapshot.cash),
            dumps(snapshot.positions_value), dumps(snapshot.total_value), event_id, seq, time, tail)

    return render


def _floats(values: Sequence[float]) -> list[bytes]:
    """Each of ``values`` as orjson writes it, from one call (orjson formats a float alike alone or in a list)."""
    return orjson.dumps(list(values))[1:-1].split(b",") if len(values) else []


def _times(stamps: Sequence[int], time_text: Callable[[int], bytes]) -> list[bytes]:
    """:func:`~eventbt.events.format_time` of each of ``stamps`` (ns), as bytes: the dates by numpy at once and
    the time of day once, when every stamp has the same one, a whole second past midnight (format_time
    writes ``YYYY-MM-DDTHH:MM:SS``, a bare date at midnight); else one by one."""
    times = np.asarray(stamps, dtype=np.int64)
    offsets = times % _NS_PER_DAY
    first = int(offsets[0])
    if first % 1_000_000_000 == 0 and first and (offsets == first).all():
        suffix = time_text(int(times[0]))[10:]
        days: list[bytes] = times.view("datetime64[ns]").astype("datetime64[D]").astype("S10").tolist()
        return [day + suffix for day in days]
    return [time_text(int(time_ns)) for time_ns in stamps]


def _data_template(kind: str, by: str, to: tuple[str, ...]) -> Callable[[int, int, int | None, bytes, Event], bytes]:
    """A renderer of any event's ``publish`` line: the fixed head and tail around its ``audit_fields()`` as orjson
    writes them (sorted keys, numpy scalars as numbers): the bytes of ``orjson.dumps`` of the whole record."""
    head, tail = _ends(kind, by, to)
    dumps = orjson.dumps

    def render(seq: int, event_id: int, cause: int | None, time: bytes, event: Event) -> bytes:
        return _DATA_LINE % (head, b"null" if cause is None else b"%d" % cause,
                             dumps(event.audit_fields(), option=_JSON_OPTIONS), event_id, seq, time, tail)

    return render


@functools.lru_cache(maxsize=64)
def _quiet_format_around_cash(by: str, snapshot_by: str, to: tuple[tuple[str, ...], ...],
                              with_open: bool) -> tuple[bytes, bytes]:
    """The ``%`` format of a quiet bar's lines (its open event's when ``with_open``, then its market, bar-end and
    snapshot events'), with what is fixed for the run's blocks written in: :data:`_BAR_LINE` and
    :data:`_SNAPSHOT_LINE` with their heads, tails and causes' ``null``, in two halves around the place of the cash
    (a block's own; :func:`_quiet_lines` puts it in). Made once per publisher and subscribers. ``to`` holds the
    subscribers of each of :data:`~eventbt.quiet.BLOCK_EVENTS`. Left to fill: bar, id, seq, time (open, when there
    is one); bar, id, seq, time (market); bar, id, seq, time (bar end); cause, bar, positions value, total value,
    id, seq, time (snapshot)."""
    def fixed(text: bytes) -> bytes:
        return text.replace(b"%", b"%%")

    bar_middle = _BAR_LINE[4:-2]

    def bar_line(kind: str, subscribers: tuple[str, ...]) -> bytes:
        head, tail = _ends(kind, by, subscribers)
        return fixed(head) + b"null" + bar_middle + fixed(tail) + b"\n"

    snapshot_head, snapshot_tail = _ends(SnapshotEvent.kind, snapshot_by, to[3])
    before, after = _SNAPSHOT_LINE[4:-2].split(b'"cash":%s', 1)
    return ((bar_line(BarOpenEvent.kind, to[0]) if with_open else b"") + bar_line(MarketEvent.kind, to[1])
            + bar_line(BarEndEvent.kind, to[2]) + fixed(snapshot_head) + b"%d" + before + b'"cash":',
            after + fixed(snapshot_tail))


def _quiet_lines(block: QuietBars, by: str, to: tuple[tuple[str, ...], ...],
                 time_text: Callable[[int], bytes]) -> bytes:
    """The publish lines of a block of quiet bars (:mod:`eventbt.quiet`), three or four to a bar (open, market,
    bar end and snapshot), joined by newlines (none after the last): the bytes :func:`_bar_template` and
    :func:`_snapshot_template` give for the events themselves (tests/eventbt/test_quiet_bars.py compares the two).

    The values to fill in are laid out as columns, one per place in :func:`_quiet_format_around_cash`'s format; ``zip``
    builds each bar's tuple from them and ``map`` fills the format, with no Python loop per bar (with an open
    event or without, the same)."""
    before, after = _quiet_format_around_cash(by, block.snapshot_by, to, block.open_ns is not None)
    line = before + orjson.dumps(block.cash) + after  # a number's text holds no "%"
    bars, per_bar = range(block.start, block.stop), block.per_bar

    def every_bar(first: int) -> range:  # an id or sequence number, one per bar from ``first``
        return range(first, first + per_bar * len(bars), per_bar)

    market, at = block.market_id(block.start), block.first_seq + block.market_offset
    closes = _times(block.time_ns, time_text)
    columns: list[Iterable[object]] = []
    if block.open_ns is not None:
        columns += [bars, every_bar(block.first_id), every_bar(block.first_seq), _times(block.open_ns, time_text)]
    columns += [bars, every_bar(market), every_bar(at), closes,  # market event
                bars, every_bar(market + 1), every_bar(at + 1), closes,  # bar end
                every_bar(market + 1), bars, _floats(block.positions_value), _floats(block.total_value),  # snapshot
                every_bar(market + 2), every_bar(at + 2), closes]
    return b"\n".join(map(line.__mod__, zip(*columns, strict=True)))


_TEMPLATES: dict[type, Callable[[str, str, tuple[str, ...]], Callable[[int, int, int | None, bytes, Event], bytes]]] = {
    MarketEvent: _bar_template, BarOpenEvent: _bar_template, BarEndEvent: _bar_template,
    DataEndEvent: _bar_template, SnapshotEvent: _snapshot_template,
}
"""The event classes rendered from templates (exactly these classes, not subclasses: their ``audit_fields``
are fixed in eventbt/events.py, and tests/eventbt/test_audit.py checks the bytes)."""


class AuditLog:
    """Collects audit records; in memory by default, appended to ``path`` when one is given.

    ``enabled=False`` keeps nothing and costs (almost) nothing: the digest is then empty.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, enabled: bool = True,
                 batch: int = 4096) -> None:
        self.path = Path(path) if path is not None else None
        self.enabled = enabled
        self._batch = batch
        self._pending: list[tuple[Any, ...]] = []
        self._chunks: list[bytes] = []  # rendered batches (memory mode), each whole lines ending in \n
        self._hash = hashlib.sha256()
        self._times: dict[int, bytes] = {}
        self._days: dict[int, str] = {}
        self._templates: dict[tuple[type, str, tuple[str, ...]], Callable[..., bytes]] = {}
        self._fd: int | None = None
        self._digest: str | None = None
        self.count = 0  # lines rendered so far
        # The file is opened (created, or an earlier log in it emptied) only when the first lines are written, so
        # a log that never writes (a run built and not run, one kept in memory for debugging) leaves it as it was.
        self._opened = False

    def _open(self) -> None:
        """Open ``path`` for the first lines: create it, or empty the earlier log in it."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0o666 less the umask, as for any file a program creates (the user decides who may read it).
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o666)
        self._opened = True

    def keep_in_memory(self) -> bool:
        """Keep the log in memory instead of writing ``path``, when nothing has been written to it yet (then the
        file is left as it was); whether the log is in memory now."""
        if not self._opened:
            self.path = None
        return self.path is None

    # -- recording (hot path: append a tuple) ---------------------------------------------------------
    def published(self, seq: int, event: Event, by: str, to: tuple[str, ...] = ()) -> None:
        """Record that ``by`` published ``event`` as publication ``seq``; it will be delivered ``to`` these.

        Goes through :meth:`recorder`, the bus's way in, so the two cannot drift apart."""
        record = self.recorder()
        if record is not None:
            record(seq, event, by, to)

    def recorder(self) -> Callable[[int, Event, str, tuple[str, ...]], None] | None:
        """:meth:`published` as a closure over this log's state, for the bus's hot loop (``None`` when
        disabled): the same effect, without an attribute lookup per call."""
        if not self.enabled:
            return None
        pending = self._pending
        append = pending.append
        batch = self._batch
        flush = self.flush

        def published(seq: int, event: Event, by: str, to: tuple[str, ...]) -> None:
            append((_PUBLISH, seq, event, by, to))
            if len(pending) >= batch:
                flush()

        return published

    def quiet_bars(self, block: QuietBars, by: str, to: tuple[tuple[str, ...], ...]) -> None:
        """Record a block of quiet bars (:mod:`eventbt.quiet`) delivered by the bus: ``by`` is the feed, ``to`` the
        subscribers of the block's market, bar-end and snapshot events. Its lines are those of its events."""
        if not self.enabled:
            return
        self._pending.append((_QUIET, block, by, to))
        if len(self._pending) >= self._batch:
            self.flush()

    def record(self, kind: str, **fields: Any) -> None:
        """Add a ``header``, ``note`` or other record (fields must be JSON-ready). A closed log (its footer
        written) takes no more records: an :class:`~eventbt.errors.AuditError` (``records()[0]`` is the header)."""
        if self._digest is not None:
            raise AuditError(f"the log is closed (its footer is written); it takes no {kind!r} record after it "
                             "(records() reads it: records()[0] is its header)")
        if self.enabled:
            self._pending.append((_RECORD, kind, fields))

    def header(self, **fields: Any) -> None:
        self.record("header", **fields)

    def note(self, code: str, **fields: Any) -> None:
        self.record("note", code=code, **fields)

    # -- rendering ------------------------------------------------------------------------------------
    def _time_text(self, time_ns: int) -> str:
        """:func:`~eventbt.events.format_time`, cached per day (events of a run share few days)."""
        day, offset = divmod(time_ns, _NS_PER_DAY)
        text = self._days.get(day)
        if text is None:
            # The calendar date of day `day` since 1970-01-01 (proleptic Gregorian, as numpy's).
            text = self._days[day] = dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        if offset == 0:
            return text
        seconds = offset // 1_000_000_000
        return f"{text}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def _cached_time(self, time_ns: int) -> bytes:
        """:meth:`_time_text` as the line's bytes, kept by second (the text has whole seconds; midnight exactly
        prints as a bare date). :meth:`flush` does the same inline."""
        key = time_ns // 1_000_000_000 if time_ns % _NS_PER_DAY else ~time_ns
        text = self._times.get(key)
        if text is None:
            text = self._times[key] = self._time_text(time_ns).encode()
        return text

    def flush(self) -> None:
        """Render pending records, fold them into the digest, and write them (file mode).

        Lines are joined into one bytes object every :data:`_GROUP` lines (a quiet block's lines come as one
        already) and the batch is one write (file mode) or one kept chunk (memory): each orjson result reserves
        about 4 KiB whatever its length, so holding thousands of them at once would cost megabytes per batch.
        """
        pending = self._pending
        if not pending:
            return
        render_event = _render
        update = self._hash.update
        pieces: list[bytes] = []
        out: list[bytes] = []
        append = out.append
        times = self._times
        cached_time = self._cached_time
        templates = self._templates
        # The template of the last publish record's (type, publisher, subscribers), compared by identity: runs of
        # records share them (a bar's orders, its fills), and a look-up by value hashes the subscribers' tuple.
        last: tuple[object, object, object] = (None, None, None)  # no record's: the first one looks its template up
        template: Callable[[int, int, int | None, bytes, Event], bytes]

        def flush_group() -> None:
            if out:
                piece = b"\n".join(out) + b"\n"
                update(piece)
                pieces.append(piece)
                out.clear()

        lines = 0
        for item in pending:
            tag = item[0]
            if tag == _PUBLISH:
                lines += 1
                _, seq, event, by, to = item
                cls = event.__class__
                if cls is not last[0] or by is not last[1] or to is not last[2]:
                    last = kind = (cls, by, to)
                    found = templates.get(kind)
                    if found is None:
                        found = templates[kind] = _TEMPLATES.get(cls, _data_template)(event.kind, by, to)
                    template = found
                time_ns = event.time_ns  # cached_time(time_ns), inline
                key = time_ns // 1_000_000_000 if time_ns % _NS_PER_DAY else ~time_ns
                time = times.get(key)
                if time is None:
                    time = times[key] = self._time_text(time_ns).encode()
                append(template(seq, event.id, event.cause_id, time, event))
                if len(out) >= _GROUP:
                    flush_group()
            elif tag == _QUIET:
                lines += item[1].count
                flush_group()
                piece = _quiet_lines(item[1], item[2], item[3], cached_time) + b"\n"  # a block has a bar at least
                update(piece)
                pieces.append(piece)
            else:
                # A header, note or footer: the digest takes its clean form (or nothing, for the footer).
                lines += 1
                flush_group()
                record = {"record": item[1], **item[2]}
                pieces.append(render_event(record) + b"\n")
                if record["record"] != "footer":
                    update(render_event(_drop_volatile(dict(record))) + b"\n")
        flush_group()
        self.count += lines
        pending.clear()
        if len(times) > 4096:
            times.clear()
        chunk = b"".join(pieces)
        if self.path is not None and not self._opened:
            self._open()
        if self._fd is not None:
            os.write(self._fd, chunk)
        else:
            self._chunks.append(chunk)

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the deterministic content recorded so far (final once the log is closed)."""
        if self._digest is not None:
            return self._digest
        self.flush()
        return self._hash.hexdigest()

    def close(self, status: str, **fields: Any) -> str:
        """Write the footer (``status`` and the digest) and close the file; returns the digest."""
        if self._digest is not None:
            return self._digest
        digest = self.digest if self.enabled else ""
        self._digest = digest
        if self.enabled:
            self._pending.append((_RECORD, "footer", {"status": status, "digest": digest, **fields}))
            self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        return digest

    # -- reading --------------------------------------------------------------------------------------
    def lines(self) -> list[bytes]:
        """Every rendered line so far (reads the file back in file mode)."""
        self.flush()
        if self._opened:
            return self.path.read_bytes().splitlines()  # type: ignore[union-attr]  # opened: a path
        return b"".join(self._chunks).splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines()]

    def trace(self, event_id: int) -> list[dict[str, Any]]:
        """The ``publish`` records of an event's causal chain, the event first, back to its market bar."""
        return [dict(record) for record in trace_records(self.records(), event_id)]

    def write_to(self, path: str | os.PathLike[str]) -> None:
        """Write the in-memory lines to ``path`` (the CLI uses it when the log was kept in memory)."""
        Path(path).write_bytes(b"".join(line + b"\n" for line in self.lines()))


# The first two bytes of a gzip file (RFC 1952): a compressed log is refused by name, not as line 1 of bad JSON.
GZIP_MAGIC = b"\x1f\x8b"


def read_audit(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Parse an audit log file: one JSON object with a ``record`` field per line. A line that is not one (not
    JSON, a list, a number, an object without ``record``) is an :class:`~eventbt.errors.AuditError` naming
    the file and the line; so is a file that cannot be read, and a gzip-compressed one (by its first bytes)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot be read: {exc.strerror}", path=str(path)) from None
    if data.startswith(GZIP_MAGIC):
        raise AuditError("is gzip-compressed; expected plain JSON lines (gunzip it first)", path=str(path))
    records = []
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AuditError(f"not a JSON object ({exc})", path=str(path), line=number) from exc
        if not isinstance(record, dict) or not isinstance(record.get("record"), str):
            what = "an object without a 'record' field" if isinstance(record, dict) else type(record).__name__
            raise AuditError(f"is {what}, not an audit record (a JSON object with a 'record' field)",
                             path=str(path), line=number)
        records.append(record)
    return records


def digest_of_lines(records: Sequence[Mapping[str, Any]]) -> str:
    """Recompute the digest of parsed records (everything before the footer, without volatile fields)."""
    digest = hashlib.sha256()
    for record in records:
        if record.get("record") == "footer":
            break
        digest.update(_render(_drop_volatile(dict(record))))
        digest.update(b"\n")
    return digest.hexdigest()


def event_records(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``publish`` records of a log, in order, each with its ``to`` (the handlers it was delivered to).

    Format 2 logs have ``to`` on the line; in a format 1 log it comes from the event's ``deliver`` line (an
    event published but never delivered, at a failure, has ``to`` empty), so both formats read the same.
    """
    published = [record for record in records if record.get("record") == "publish"]
    if not published or "to" in published[0]:
        return published
    delivered = {record["event"]: record.get("to", []) for record in records if record.get("record") == "deliver"}
    return [{**record, "to": delivered.get(record.get("id"), [])} for record in published]


def trace_records(records: Sequence[Mapping[str, Any]], event_id: int) -> Iterator[Mapping[str, Any]]:
    """The ``publish`` records of an event's causal chain, the event first, the root last."""
    by_id = {r["id"]: r for r in records if r.get("record") == "publish"}
    current: int | None = event_id
    seen: set[int] = set()  # a log of handlers' own making may have a cause that loops back: stop there
    while current is not None and current in by_id and current not in seen:
        seen.add(current)
        record = by_id[current]
        yield record
        current = record.get("cause")
