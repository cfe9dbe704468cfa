"""Comparing two audit logs record by record: the first divergence, its causal chain, the end results.

Two runs agree when their events agree one by one, in order: for each ``publish`` record the compared fields
are the event's ``type``, ``time``, ``cause``, the handlers it went ``to`` and every field of its ``data``
(:func:`eventbt.audit.event_records`, which reads audit format 1 and 2 alike, so an old log replays against a
new run). The header (scenario,
versions, data hashes) and ``note`` records are not part of the comparison: a what-if run changes the
scenario on purpose. :func:`first_divergence` finds where two streams part, :func:`outcome` sums up how a
run ended (final value, trades, costs) from its records alone, and :func:`format_divergence` prints both
side by side with the differing fields marked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from eventbt.audit import event_records, trace_records

__all__ = [
    "ABSENT",
    "Divergence",
    "compared_fields",
    "describe_record",
    "divergence_rows",
    "event_records",
    "first_divergence",
    "flatten",
    "format_chain",
    "format_divergence",
    "format_outcomes",
    "outcome",
    "same_json",
    "scenario_changes",
    "shown_value",
    "written_differently",
]

_COMPARED = ("type", "time", "cause", "to", "data")


@attrs.frozen(kw_only=True)
class Divergence:
    """Where two event streams first differ.

    ``index`` is the position in the stream of events (0-based); ``recorded`` and
    ``new`` the two records there (``None`` when that stream has already ended); ``fields`` the differing
    fields, dotted (``data.commission``); ``recorded_chain``/``new_chain`` the causal chains, event first.
    """

    index: int
    recorded: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    fields: tuple[str, ...]
    recorded_chain: tuple[Mapping[str, Any], ...] = ()
    new_chain: tuple[Mapping[str, Any], ...] = ()

    @property
    def record(self) -> Mapping[str, Any]:
        """The recorded side if there is one, else the new one (what the headline describes)."""
        found = self.recorded if self.recorded is not None else self.new
        assert found is not None
        return found

    @property
    def event_type(self) -> str | None:
        """The event type of the divergence."""
        return str(self.record.get("type"))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{"a.b.c": leaf}``; a non-mapping value is ``{prefix: value}``."""
    if not isinstance(value, Mapping):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key in sorted(value):
        flat.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
    if not value and prefix:
        flat[prefix] = {}
    return flat


def compared_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields of a ``publish`` record, flattened (``type``, ``time``, ``cause``, ``to``, ``data.*``)."""
    flat: dict[str, Any] = {}
    for field in _COMPARED:
        flat.update(flatten(record.get(field), field))
    return flat


def first_divergence(recorded: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> Divergence | None:
    """The first place the event streams of two logs differ, or ``None`` when they agree throughout."""
    left, right = event_records(recorded), event_records(new)
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else None
        b = right[index] if index < len(right) else None
        if a is not None and b is not None and a == b:
            continue
        flat_a = compared_fields(a) if a is not None else {}
        flat_b = compared_fields(b) if b is not None else {}
        fields = tuple(key for key in sorted({*flat_a, *flat_b})
                       if flat_a.get(key, ABSENT) != flat_b.get(key, ABSENT))
        if not fields:
            continue  # differs only in fields not compared (``by``, ``seq``, ``id``, or the format)
        return Divergence(index=index, recorded=a, new=b, fields=fields,
                          recorded_chain=_chain(recorded, a), new_chain=_chain(new, b))
    return None


class _Absent:
    """What a record or header lacks, as a comparison shows it: ``(absent)``."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def _chain(records: Sequence[Mapping[str, Any]], record: Mapping[str, Any] | None) -> tuple[Mapping[str, Any], ...]:
    if record is None:
        return ()
    event_id = record.get("id")
    if not isinstance(event_id, int):
        return ()
    return tuple(trace_records(list(records), event_id))


def describe_record(record: Mapping[str, Any]) -> str:
    """The headline of a ``publish`` record: ``seq 611, 2012-05-31T16:00:00, FillEvent #615``."""
    return f"seq {record.get('seq')}, {record.get('time')}, {record.get('type')} #{record.get('id')}"


def format_chain(chain: Sequence[Mapping[str, Any]]) -> str:
    """``FillEvent #615 (2012-05-31T16:00:00) <- OrderEvent #612 <- ... <- MarketEvent #609``."""
    if not chain:
        return "(none)"
    head = chain[0]
    parts = [f"{head.get('type')} #{head.get('id')} ({head.get('time')})"]
    parts.extend(f"{record.get('type')} #{record.get('id')}" for record in chain[1:])
    return " <- ".join(parts)


def _text(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return "null" if value is None else str(value)


def divergence_rows(divergence: Divergence) -> list[tuple[str, bool, str, str]]:
    """The two records of a divergence field by field, as ``eventbt diff`` prints them and the report's table
    shows them: ``(field, differs, recorded's text, new's text)``, the recorded record's fields first."""
    flat_a = compared_fields(divergence.recorded) if divergence.recorded is not None else {}
    flat_b = compared_fields(divergence.new) if divergence.new is not None else {}
    keys = [*flat_a, *(k for k in flat_b if k not in flat_a)]
    return [(key, key in divergence.fields, _text(flat_a.get(key, ABSENT)), _text(flat_b.get(key, ABSENT)))
            for key in keys]


def format_divergence(divergence: Divergence, *, labels: tuple[str, str] = ("recorded", "new")) -> str:
    """The divergence as text: headline, the two records side by side (``*`` marks a differing field),
    and both causal chains."""
    lines = [f"first divergence at event record {divergence.index + 1}: {describe_record(divergence.record)}"]
    if divergence.recorded is None or divergence.new is None:
        ended = labels[0] if divergence.recorded is None else labels[1]
        lines.append(f"  the {ended} run has no more events here")
    rows = [(("* " if differs else "  ") + key, a, b) for key, differs, a, b in divergence_rows(divergence)]
    header = ("  field", labels[0], labels[1])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    lines.append(f"  causal chain ({labels[0]}): {format_chain(divergence.recorded_chain)}")
    lines.append(f"  causal chain ({labels[1]}): {format_chain(divergence.new_chain)}")
    return "\n".join(lines)


def outcome(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How a run ended, from its records: final value, fills, commission, slippage, status and digest."""
    final_value: float | None = None
    trades = 0
    commission = 0.0
    slippage = 0.0
    status: str | None = None
    digest: str | None = None
    for record in records:
        kind = record.get("record")
        if kind == "publish":
            event_type = record.get("type")
            if event_type == "SnapshotEvent":
                final_value = float(record["data"]["total_value"])
            elif event_type == "FillEvent":
                trades += 1
                commission += float(record["data"]["commission"])
                slippage += float(record["data"]["slippage"])
        elif kind == "footer":
            status, digest = record.get("status"), record.get("digest")
    return {"final_value": final_value, "trades": trades, "total_commission": commission,
            "total_slippage": slippage, "status": status, "digest": digest}


def format_outcomes(recorded: Mapping[str, Any], new: Mapping[str, Any], *,
                    labels: tuple[str, str] = ("recorded", "new")) -> str:
    """The end results of two runs side by side, with the change of each figure."""
    rows = [("", labels[0], labels[1], "change")]
    for key, label in (("final_value", "final value"), ("trades", "trades"),
                       ("total_commission", "commission"), ("total_slippage", "slippage"), ("status", "status")):
        a, b = recorded.get(key), new.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            spec = ",.2f" if key != "trades" else ","
            sign = "+" if b - a >= 0 else "-"
            rows.append((label, format(a, spec), format(b, spec), sign + format(abs(b - a), spec)))
        else:
            rows.append((label, _text(a), _text(b), "" if a == b else "changed"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["end results:"]
    for row in rows:
        lines.append("  " + "  ".join([row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in
                                                                 zip(row[1:], widths[1:], strict=True))]).rstrip())
    return "\n".join(lines)


def shown_value(value: Any) -> str:
    """A header value as a change line shows it: ``(absent)``, ``""`` for an empty text (data.end unset, shown
    rather than a blank), a float as Python writes it back (``5.0``)."""
    return '""' if value == "" else _text(value)


def same_json(a: Any, b: Any) -> bool:
    """Whether two values of a header are written the same in JSON, types included: ``5`` and ``5.0`` are equal in
    Python but not the same JSON (an integer and a float), and the digest hashes what is written."""
    if a is ABSENT or b is ABSENT:
        return a is b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def written_differently(a: Any, b: Any, why: str = "") -> str:
    """For two values equal as numbers but not written the same (``5`` and ``5.0``): `` (the same number, written
    as an integer and as a float)``, with ``: why`` before the parenthesis closes when given; else nothing."""
    numbers = (int, float)
    if (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool)
            and a == b and type(a) is not type(b)):
        kinds = ("an integer" if isinstance(a, int) else "a float", "an integer" if isinstance(b, int) else "a float")
        return f" (the same number, written as {kinds[0]} and as {kinds[1]}{': ' + why if why else ''})"
    return ""


def scenario_changes(recorded: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``table.key: old -> new`` for every resolved scenario value that differs between two headers, as JSON
    writes it (:func:`same_json`): ``5`` against ``5.0`` is a change, said to be the same number."""
    a, b = flatten(recorded), flatten(new)
    why = "the header records the scenario as written"
    return [f"{key}: {shown_value(a.get(key, ABSENT))} -> {shown_value(b.get(key, ABSENT))}"
            f"{written_differently(a.get(key, ABSENT), b.get(key, ABSENT), why)}"
            for key in sorted({*a, *b}) if not same_json(a.get(key, ABSENT), b.get(key, ABSENT))]
