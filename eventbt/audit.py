"""The audit log: every event published and every delivery, as JSON lines with sorted keys.

The record schema is documented in ``docs/audit-log.md``. In short, each line is one JSON object whose
``record`` field says what it is:

- ``header``: first line; the run's metadata (eventbt version, resolved scenario, data file hashes, ...).
  Its ``wall_clock`` (start time) and ``environment`` (Python and library versions, the scenario file's
  path) fields are the only data in a log that may differ between runs of the same scenario; the digest
  leaves them out.
- ``publish``: an event entered the queue: ``seq``, ``id``, ``type``, ``time``, ``cause``, ``by`` (the
  publisher) and ``data`` (the event's :meth:`~eventbt.events.Event.audit_fields`).
- ``deliver``: an event was taken from the queue and handed to its subscribers: ``event`` (its id) and
  ``to`` (the handlers, in delivery order; empty when nobody subscribes). Written before the handlers run,
  so the ``publish`` records of what they emit follow it.
- ``note``: anything else worth keeping (a warning, a dead letter, an interruption), with a ``code``.
- ``footer``: last line; how the run ended (``status``: completed, failed, interrupted), the error if any,
  and ``digest``: the SHA-256 of every line before the footer (the header without ``wall_clock`` and
  ``environment``).

Records are kept as small tuples while the run goes and rendered in batches through a structlog processor
chain ending in :class:`structlog.processors.JSONRenderer` with orjson; in file mode every batch is one
write of whole lines, so a log cut short by a kill is valid JSON lines up to its last line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import structlog

from eventbt.errors import AuditError
from eventbt.events import Event

__all__ = ["RECORDED_LIBRARIES", "AuditLog", "digest_of_lines", "read_audit", "runtime_versions", "trace_records",
           "version_differences"]

_PUBLISH = 0
_DELIVER = 1
_RECORD = 2

_NS_PER_DAY = 86_400_000_000_000
_EPOCH_ORDINAL = 719_163  # datetime.date(1970, 1, 1).toordinal()
_GROUP = 32  # lines joined at a time while rendering (see AuditLog.flush)
_MARK = 7_355_608_113_579_224  # an id no run reaches, marking where a deliver line's event id goes
_MARK_BYTES = b"%d" % _MARK

_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY


# Fields that differ between machines or runs of the same scenario; the digest leaves them out.
VOLATILE_FIELDS = ("environment", "wall_clock")

# The libraries whose versions a header records (under ``environment``): what a run's numbers pass through.
RECORDED_LIBRARIES = ("numpy", "pandas", "attrs", "orjson", "structlog")


def runtime_versions() -> dict[str, str]:
    """``{"python": ..., "numpy": ..., ...}``: the interpreter's and :data:`RECORDED_LIBRARIES`' versions."""
    import importlib.metadata
    import platform

    versions = {"python": platform.python_version()}
    for name in RECORDED_LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[name] = "not installed"
    return versions


def version_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``"numpy 2.4.6 -> 2.5.0"`` for each version in ``recorded`` (a header's ``environment``) that differs."""
    names = ["python", *RECORDED_LIBRARIES]
    return [f"{name} {recorded[name]} -> {current.get(name, 'not installed')}" for name in names
            if name in recorded and recorded[name] != current.get(name)]


def _drop_volatile(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: remove the wall-clock and machine fields."""
    for key in VOLATILE_FIELDS:
        event_dict.pop(key, None)
    return event_dict


def _renderer() -> structlog.processors.JSONRenderer:
    return structlog.processors.JSONRenderer(serializer=orjson.dumps, option=_JSON_OPTIONS)


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
        self._render = _renderer()
        self._times: dict[int, str] = {}
        self._days: dict[int, str] = {}
        self._deliver_templates: dict[tuple[str, ...], tuple[bytes, ...]] = {}
        self._fd: int | None = None
        self._digest: str | None = None
        self.count = 0
        if self.path is not None and enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    # -- recording (hot path: append a tuple) ---------------------------------------------------------
    def published(self, seq: int, event: Event, by: str) -> None:
        if self.enabled:
            self._pending.append((_PUBLISH, seq, event, by))
            if len(self._pending) >= self._batch:
                self.flush()

    def delivered(self, event_id: int, handlers: tuple[str, ...]) -> None:
        if self.enabled:
            self._pending.append((_DELIVER, event_id, handlers))
            if len(self._pending) >= self._batch:
                self.flush()

    def record(self, kind: str, **fields: Any) -> None:
        """Add a ``header``, ``note`` or other record (fields must be JSON-ready)."""
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

    def flush(self) -> None:
        """Render pending records, fold them into the digest, and write them (file mode).

        Lines are joined into one bytes object every :data:`_GROUP` lines and the batch is one write (file
        mode) or one kept chunk (memory): each orjson result reserves about 4 KiB whatever its length, so
        holding thousands of them at once would cost megabytes per batch.
        """
        pending = self._pending
        if not pending:
            return
        # The renderer returns bytes (orjson); typed as such once for the loop.
        render: Callable[[Any, str, dict[str, Any]], bytes] = self._render  # type: ignore[assignment]
        update = self._hash.update
        pieces: list[bytes] = []
        out: list[bytes] = []
        append = out.append
        times = self._times
        templates = self._deliver_templates
        def flush_group() -> None:
            if out:
                piece = b"\n".join(out) + b"\n"
                update(piece)
                pieces.append(piece)
                out.clear()

        for item in pending:
            tag = item[0]
            if tag == _DELIVER:
                # Deliver lines differ only in the event id: render each handler list once through the
                # chain, with a marker id, and stamp the id into the cached bytes (byte-identical).
                template = templates.get(item[2])
                if template is None:
                    marked = render(None, "audit", {"record": "deliver", "event": _MARK, "to": item[2]})
                    head, tail = marked.split(_MARK_BYTES)
                    template = templates[item[2]] = (head, tail)
                append(template[0] + b"%d" % item[1] + template[1])
            elif tag == _PUBLISH:
                event = item[2]
                # The text has whole seconds: cache by second (midnight exactly prints as a bare date).
                time_ns = event.time_ns
                key = time_ns // 1_000_000_000 if time_ns % _NS_PER_DAY else ~time_ns
                text = times.get(key)
                if text is None:
                    text = times[key] = self._time_text(time_ns)
                append(render(None, "audit", {"record": "publish", "seq": item[1], "id": event.id,
                                              "type": event.kind, "time": text, "cause": event.cause_id,
                                              "by": item[3], "data": event.audit_fields()}))
            else:
                # A header, note or footer: the digest takes its clean form (or nothing, for the footer).
                flush_group()
                record = {"record": item[1], **item[2]}
                pieces.append(render(None, "audit", record) + b"\n")
                if record["record"] != "footer":
                    clean = _drop_volatile(None, "", dict(record))
                    update(render(None, "audit", clean) + b"\n")
                continue
            if len(out) >= _GROUP:
                flush_group()
        flush_group()
        self.count += len(pending)
        pending.clear()
        if len(times) > 4096:
            times.clear()
        chunk = b"".join(pieces)
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
        if self.path is not None and self.enabled:
            return self.path.read_bytes().splitlines()
        return b"".join(self._chunks).splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines()]

    def trace(self, event_id: int) -> list[dict[str, Any]]:
        """The ``publish`` records of an event's causal chain, the event first, back to its market bar."""
        return [dict(record) for record in trace_records(self.records(), event_id)]

    def write_to(self, path: str | os.PathLike[str]) -> None:
        """Write the in-memory lines to ``path`` (the CLI uses it when the log was kept in memory)."""
        Path(path).write_bytes(b"".join(line + b"\n" for line in self.lines()))


def read_audit(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Parse an audit log file; an unreadable line is an :class:`~eventbt.errors.AuditError` naming it."""
    records = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), start=1):
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise AuditError(f"not a JSON object ({exc})", path=str(path), line=number) from exc
    return records


def digest_of_lines(records: Sequence[Mapping[str, Any]]) -> str:
    """Recompute the digest of parsed records (everything before the footer, without volatile fields)."""
    render = _renderer()
    digest = hashlib.sha256()
    for record in records:
        if record.get("record") == "footer":
            break
        clean = _drop_volatile(None, "", dict(record))
        digest.update(render(None, "audit", clean))  # type: ignore[arg-type]
        digest.update(b"\n")
    return digest.hexdigest()


def trace_records(records: Sequence[Mapping[str, Any]], event_id: int) -> Iterator[Mapping[str, Any]]:
    """The ``publish`` records of an event's causal chain, the event first, the root last."""
    by_id = {r["id"]: r for r in records if r.get("record") == "publish"}
    current: int | None = event_id
    while current is not None and current in by_id:
        record = by_id[current]
        yield record
        current = record.get("cause")
