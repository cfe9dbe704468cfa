"""The audit log: rendering, the digest's volatile fields, file mode, reading back, tracing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from freezegun import freeze_time

from eventbt.audit import (
    RECORDED_LIBRARIES,
    AuditLog,
    digest_of_lines,
    event_records,
    read_audit,
    runtime_versions,
    trace_records,
)
from eventbt.errors import AuditError
from eventbt.events import BarEndEvent, MarketEvent, OrderEvent, Side, SnapshotEvent, format_time


def _fill_log(audit: AuditLog) -> None:
    market = MarketEvent(id=1, time_ns=57_600_000_000_000, bar=0, symbols=("A",), close=np.array([1.0]))
    order = OrderEvent(id=2, time_ns=57_600_000_000_000, cause_id=1, bar=0, symbol="A", side=Side.BUY,
                       quantity=3, reference_price=1.0)
    audit.published(0, market, "data_feed", ("strategy", "rebalance"))
    audit.published(1, order, "rebalance", ())


def test_time_text_matches_format_time_everywhere() -> None:
    """The cached calendar arithmetic gives format_time's text for 20,000 random times, 1906-2096."""
    audit = AuditLog(enabled=False)
    rng = np.random.default_rng(0)
    times = [*rng.integers(-2 * 10**18, 4 * 10**18, 20_000).tolist(), 0, -1, 86_400 * 10**9]
    assert [audit._time_text(t) for t in times] == [format_time(t) for t in times]


def test_records_are_sorted_json_lines_with_their_documented_fields() -> None:
    """A publish record carries seq, id, type, time, cause, by, the handlers it goes to, and data."""
    audit = AuditLog()
    _fill_log(audit)
    lines = audit.lines()
    assert all(list(orjson.loads(line)) == sorted(orjson.loads(line)) for line in lines)
    publish, order = (orjson.loads(line) for line in lines)
    assert publish == {"by": "data_feed", "cause": None, "data": {"bar": 0}, "id": 1, "record": "publish",
                       "seq": 0, "time": "1970-01-01T16:00:00", "to": ["strategy", "rebalance"],
                       "type": "MarketEvent"}
    assert order["data"]["side"] == "BUY" and order["cause"] == 1 and order["to"] == []


def test_a_format_1_log_reads_as_the_same_events() -> None:
    """Format 1 had a deliver line after each publish line; event_records folds it into ``to`` as format 2
    writes it, so the two formats compare equal."""
    audit = AuditLog()
    _fill_log(audit)
    new = event_records(audit.records())
    old = [{key: value for key, value in record.items() if key != "to"} for record in new]
    format_1 = [old[0], {"record": "deliver", "event": 1, "to": ["strategy", "rebalance"]},
                old[1], {"record": "deliver", "event": 2, "to": []}]
    assert event_records(format_1) == new


def test_digest_leaves_out_wall_clock_and_environment() -> None:
    """Two logs differing only in wall_clock and environment have one digest; the digest is recomputable."""
    digests = []
    for started, python in (("2020-01-01T00:00:00", "3.11.7"), ("2026-11-24T23:59:59", "3.12.1")):
        audit = AuditLog()
        audit.header(eventbt_version="x", wall_clock={"started": started}, environment={"python": python})
        _fill_log(audit)
        digests.append(audit.close("completed"))
        assert digest_of_lines(audit.records()) == digests[-1]
    assert digests[0] == digests[1]
    other = AuditLog()
    other.header(eventbt_version="y", wall_clock={}, environment={})
    _fill_log(other)
    assert other.close("completed") != digests[0]


def test_recorded_versions_are_those_the_package_metadata_gives() -> None:
    """The header's environment reads versions without importlib.metadata (module ``__version__``, the
    ``.dist-info`` folder's name); checked against importlib.metadata and platform, which it avoids."""
    import importlib.metadata
    import platform

    expected = {"python": platform.python_version(),
                **{name: importlib.metadata.version(name) for name in RECORDED_LIBRARIES}}
    assert runtime_versions() == expected


@freeze_time("2026-11-24 12:00:00")
def test_file_mode_writes_whole_lines_and_the_footer_carries_the_digest(tmp_path: Path) -> None:
    """In file mode every line is JSON, the footer is last, and its digest recomputes from the file."""
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, batch=2)
    audit.header(eventbt_version="x", wall_clock={"started": "frozen"})
    _fill_log(audit)
    digest = audit.close("completed", events=2)
    records = read_audit(path)
    assert [r["record"] for r in records] == ["header", "publish", "publish", "footer"]
    assert records[-1] == {"record": "footer", "status": "completed", "digest": digest, "events": 2}
    assert digest_of_lines(records) == digest


def test_an_unreadable_line_names_the_file_and_line(tmp_path: Path) -> None:
    """read_audit reports a broken line with its number."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"record": "header"}\n{"record": "publ\n')
    with pytest.raises(AuditError, match=r"audit.jsonl: line 2: not a JSON object") as info:
        read_audit(path)
    assert info.value.line == 2


def test_trace_records_follows_causes_to_the_root() -> None:
    """From the order back to the market bar, via cause ids."""
    audit = AuditLog()
    _fill_log(audit)
    audit.published(2, BarEndEvent(id=3, time_ns=57_600_000_000_000, cause_id=2, bar=0), "x", ())
    assert [r["id"] for r in trace_records(audit.records(), 3)] == [3, 2, 1]


@pytest.mark.parametrize("by", ["data_feed", 'quo"te %d 100%', "ünï\\code", "%b%%"])
@pytest.mark.parametrize("to", [(), ("portfolio",), ("a%s", 'b"', "ü")])
def test_publish_lines_from_templates_equal_a_direct_rendering(by: str, to: tuple[str, ...]) -> None:
    """Publish lines, from a template or not, are byte for byte orjson's rendering of the whole record, whatever
    the publisher, the subscribers, the ids, the times and the floats (tiny, huge, negative, NaN-free)."""
    events = [
        MarketEvent(id=7, time_ns=0, bar=3, symbols=("A",), close=np.array([1.0])),
        OrderEvent(id=8, time_ns=1_700_000_000_123_456_789, cause_id=7, bar=3, symbol="B%", side=Side.SELL,
                   quantity=5, reference_price=0.1 + 0.2, target_weight=None),
        BarEndEvent(id=9, time_ns=-86_400_000_000_000, cause_id=None, bar=0),
        BarEndEvent(id=10, time_ns=57_600_000_000_000, cause_id=3, bar=123_456),
    ]
    events += [SnapshotEvent(id=11 + i, time_ns=57_600_000_000_000, cause_id=10, bar=i, cash=cash,
                             positions_value=value, total_value=cash + value)
               for i, (cash, value) in enumerate([(0.0, 1e16), (-0.0, 5e-324), (166.98, 375426769.41),
                                                  (1.7976931348623157e308, -2.5e-7), (1 / 3, 2 / 3)])]
    audit = AuditLog()
    for seq, event in enumerate(events):
        audit.published(seq, event, by, to)
    expected = [orjson.dumps({"record": "publish", "seq": seq, "id": e.id, "type": e.kind,
                              "time": format_time(e.time_ns), "cause": e.cause_id, "by": by, "to": list(to),
                              "data": e.audit_fields()},
                             option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
                for seq, e in enumerate(events)]
    assert audit.lines() == expected


def test_audit_log_trace_returns_the_chain_of_a_finished_run() -> None:
    """AuditLog.trace from a run's fill goes Fill -> Order -> Signal -> Market, by parsed records."""
    import eventbt

    result = eventbt.run(Path(__file__).resolve().parents[2] / "scenarios" / "ema_next_open.toml")
    fill = next(r for r in result.audit.records() if r.get("type") == "FillEvent")
    chain = result.audit.trace(fill["id"])
    assert [r["type"] for r in chain] == ["FillEvent", "OrderEvent", "SignalEvent", "MarketEvent"]
    assert [r["id"] for r in chain[1:]] == [chain[0]["cause"], chain[1]["cause"], chain[2]["cause"]]


@pytest.mark.parametrize(("line", "what"), [
    (b"[1, 2]", "is list, not an audit record"),
    (b"42", "is int, not an audit record"),
    (b'{"seq": 1}', "is an object without a 'record' field, not an audit record"),
])
def test_a_line_that_is_not_a_record_names_the_file_and_line(tmp_path: Path, line: bytes, what: str) -> None:
    """JSON that parses but is not an audit record (a list, a number, an object without 'record') is refused
    with the file and the line, not passed on to crash a reader."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"record": "header"}\n' + line + b"\n")
    with pytest.raises(AuditError, match=rf"audit.jsonl: line 2: {what}") as info:
        read_audit(path)
    assert info.value.line == 2


def test_the_file_honours_the_umask(tmp_path: Path) -> None:
    """The log is created 0o666 less the umask, like any file a program writes (umask 0o022 -> 0o644)."""
    import os

    old = os.umask(0o027)
    try:
        log = AuditLog(tmp_path / "a.jsonl")
        log.close("completed")
    finally:
        os.umask(old)
    assert (tmp_path / "a.jsonl").stat().st_mode & 0o777 == 0o640
