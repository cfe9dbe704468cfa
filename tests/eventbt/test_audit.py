"""The audit log: rendering, the digest's volatile fields, file mode, reading back, tracing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from freezegun import freeze_time

from eventbt.audit import AuditLog, digest_of_lines, read_audit, trace_records
from eventbt.errors import AuditError
from eventbt.events import BarEndEvent, MarketEvent, OrderEvent, Side, format_time


def _fill_log(audit: AuditLog) -> None:
    market = MarketEvent(id=1, time_ns=57_600_000_000_000, bar=0, symbols=("A",), close=np.array([1.0]))
    order = OrderEvent(id=2, time_ns=57_600_000_000_000, cause_id=1, bar=0, symbol="A", side=Side.BUY,
                       quantity=3, reference_price=1.0)
    audit.published(0, market, "data_feed")
    audit.delivered(1, ("strategy", "rebalance"))
    audit.published(1, order, "rebalance")
    audit.delivered(2, ())


def test_time_text_matches_format_time_everywhere() -> None:
    """The cached calendar arithmetic gives format_time's text for 20,000 random times, 1906-2096."""
    audit = AuditLog(enabled=False)
    rng = np.random.default_rng(0)
    times = [*rng.integers(-2 * 10**18, 4 * 10**18, 20_000).tolist(), 0, -1, 86_400 * 10**9]
    assert [audit._time_text(t) for t in times] == [format_time(t) for t in times]


def test_records_are_sorted_json_lines_with_their_documented_fields() -> None:
    """A publish record carries seq, id, type, time, cause, by and data; a deliver record the handlers."""
    audit = AuditLog()
    _fill_log(audit)
    lines = audit.lines()
    assert all(list(orjson.loads(line)) == sorted(orjson.loads(line)) for line in lines)
    publish, deliver, order, nobody = (orjson.loads(line) for line in lines)
    assert publish == {"by": "data_feed", "cause": None, "data": {"bar": 0}, "id": 1, "record": "publish",
                       "seq": 0, "time": "1970-01-01T16:00:00", "type": "MarketEvent"}
    assert deliver == {"event": 1, "record": "deliver", "to": ["strategy", "rebalance"]}
    assert order["data"]["side"] == "BUY" and order["cause"] == 1
    assert nobody == {"event": 2, "record": "deliver", "to": []}


def test_deliver_lines_from_the_template_equal_a_direct_rendering() -> None:
    """The cached deliver template gives byte for byte what rendering the record would."""
    audit = AuditLog()
    for event_id in (1, 22, 333_333):
        audit.delivered(event_id, ("a", "b"))
    expected = [orjson.dumps({"record": "deliver", "event": i, "to": ["a", "b"]}, option=orjson.OPT_SORT_KEYS)
                for i in (1, 22, 333_333)]
    assert audit.lines() == expected


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


@freeze_time("2026-11-24 12:00:00")
def test_file_mode_writes_whole_lines_and_the_footer_carries_the_digest(tmp_path: Path) -> None:
    """In file mode every line is JSON, the footer is last, and its digest recomputes from the file."""
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, batch=2)
    audit.header(eventbt_version="x", wall_clock={"started": "frozen"})
    _fill_log(audit)
    digest = audit.close("completed", events=2)
    records = read_audit(path)
    assert [r["record"] for r in records] == ["header", "publish", "deliver", "publish", "deliver", "footer"]
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
    audit.published(2, BarEndEvent(id=3, time_ns=57_600_000_000_000, cause_id=2, bar=0), "x")
    assert [r["id"] for r in trace_records(audit.records(), 3)] == [3, 2, 1]


@pytest.mark.parametrize("by", ["data_feed", 'quo"te %d 100%', "ünï\\code", "%b%%"])
def test_publish_lines_from_the_envelope_equal_a_direct_rendering(by: str) -> None:
    """Assembled publish lines are byte for byte orjson's rendering of the whole record, whatever the publisher."""
    events = [
        MarketEvent(id=7, time_ns=0, bar=3, symbols=("A",), close=np.array([1.0])),
        OrderEvent(id=8, time_ns=1_700_000_000_123_456_789, cause_id=7, bar=3, symbol="B%", side=Side.SELL,
                   quantity=5, reference_price=0.1 + 0.2, target_weight=None),
        BarEndEvent(id=9, time_ns=-86_400_000_000_000, cause_id=None, bar=0),
    ]
    audit = AuditLog()
    for seq, event in enumerate(events):
        audit.published(seq, event, by)
    expected = [orjson.dumps({"record": "publish", "seq": seq, "id": e.id, "type": e.kind,
                              "time": format_time(e.time_ns), "cause": e.cause_id, "by": by,
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
