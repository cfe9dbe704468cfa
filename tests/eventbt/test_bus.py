"""The bus contract: (time, seq) order, ties, scheduling, sources, errors, step records."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import pytest

from eventbt.audit import AuditLog
from eventbt.bus import Bus
from eventbt.errors import BusError, HandlerError
from eventbt.events import Event
from eventbt.handler import Handler


@attrs.frozen(kw_only=True, slots=True)
class Ping(Event):
    kind = "Ping"
    label: str = ""

    def audit_fields(self) -> dict[str, object]:
        return {"label": self.label}


@attrs.frozen(kw_only=True, slots=True)
class Pong(Event):
    kind = "Pong"
    label: str = ""


class Recorder(Handler):
    """Records every Ping it sees; optionally answers with events built by ``react``."""

    subscribes = (Ping,)

    def __init__(self, name: str, react=None) -> None:  # type: ignore[no-untyped-def]
        self.name = name
        self.seen: list[str] = []
        self.react = react

    def on_ping(self, event: Ping) -> Iterable[Event] | None:
        self.seen.append(event.label)
        return self.react(event) if self.react else None


def test_same_time_events_are_delivered_in_publication_order() -> None:
    """Three events at one time arrive in the order they were published."""
    bus = Bus()
    recorder = Recorder("r")
    bus.add(recorder)
    for i, label in enumerate("abc"):
        bus.publish(Ping(id=i, time_ns=0, label=label))
    bus.run()
    assert recorder.seen == ["a", "b", "c"]


def test_events_are_ordered_by_time_before_sequence() -> None:
    """An event published first for a later time comes after one published later for an earlier time."""
    bus = Bus()
    recorder = Recorder("r")
    bus.add(recorder)
    bus.now_ns = 0
    bus.publish(Ping(id=1, time_ns=20, label="late"))
    bus.publish(Ping(id=2, time_ns=10, label="early"))
    bus.publish(Ping(id=3, time_ns=20, label="late-2"))
    bus.run()
    assert recorder.seen == ["early", "late", "late-2"]


def test_events_published_while_dispatching_queue_behind_existing_ones() -> None:
    """A reaction to 'a' is delivered after 'b', which was already queued for the same time."""
    bus = Bus()
    ids = iter(range(100, 200))

    def react(event: Ping):  # type: ignore[no-untyped-def]
        return [Ping(id=next(ids), time_ns=event.time_ns, label=event.label + "'")] if "'" not in event.label else None

    recorder = Recorder("r", react)
    bus.add(recorder)
    bus.publish(Ping(id=1, time_ns=0, label="a"))
    bus.publish(Ping(id=2, time_ns=0, label="b"))
    bus.run()
    assert recorder.seen == ["a", "b", "a'", "b'"]


def test_scheduled_event_waits_for_its_time() -> None:
    """An event scheduled for t=5 from t=0 comes after everything at t=0 and before t=7."""
    bus = Bus()
    recorder = Recorder("r", lambda e: [Ping(id=99, time_ns=5, label="scheduled")] if e.label == "a" else None)
    bus.add(recorder)
    bus.now_ns = 0
    bus.publish(Ping(id=1, time_ns=0, label="a"))
    bus.publish(Ping(id=2, time_ns=7, label="seven"))
    bus.publish(Ping(id=3, time_ns=0, label="b"))
    bus.run()
    assert recorder.seen == ["a", "b", "scheduled", "seven"]


def test_schedule_refuses_the_present_and_publish_refuses_the_past() -> None:
    """schedule() needs a later time and publish() may not go back in time."""
    bus = Bus()
    bus.now_ns = 10
    with pytest.raises(BusError, match="not after the current time"):
        bus.schedule(Ping(id=1, time_ns=10))
    with pytest.raises(BusError, match="before the current time"):
        bus.publish(Ping(id=2, time_ns=9))


class ListSource:
    """A source yielding pre-built events in order."""

    name = "source"

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def peek_time(self) -> int | None:
        return self.events[0].time_ns if self.events else None

    def pop(self) -> Event:
        return self.events.pop(0)


def test_source_is_pulled_only_when_nothing_earlier_or_equal_is_queued() -> None:
    """Two source events at the same time: the reaction to the first comes before the second."""
    bus = Bus()
    recorder = Recorder("r", lambda e: [Ping(id=50, time_ns=e.time_ns, label="reaction")] if e.label == "m" else None)
    bus.add(recorder)
    bus.attach_source(ListSource([Ping(id=1, time_ns=10, label="m"), Ping(id=2, time_ns=10, label="end")]))
    bus.run()
    assert recorder.seen == ["m", "reaction", "end"]


def test_subscribers_receive_in_the_order_they_were_added() -> None:
    """Handlers subscribed to the same type are called in the order they were added."""
    bus = Bus()
    calls: list[str] = []
    bus.subscribe(Ping, "second", lambda e: calls.append("second"))
    bus.subscribe(Ping, "first", lambda e: calls.append("first"))
    bus.publish(Ping(id=1, time_ns=0))
    bus.run()
    assert calls == ["second", "first"]


def test_handler_error_names_handler_event_and_chain() -> None:
    """A raising handler stops the run; the error names the handler, the event and its causes."""
    bus = Bus()

    def boom(event: Ping) -> None:
        if event.label == "child":
            raise ZeroDivisionError("bad maths")

    bus.subscribe(Ping, "parent", lambda e: [Ping(id=2, time_ns=0, cause_id=1, label="child")] if e.id == 1 else None)
    bus.subscribe(Ping, "breaker", boom)
    bus.publish(Ping(id=1, time_ns=0, label="root"))
    with pytest.raises(HandlerError) as info:
        bus.run()
    error = info.value
    assert error.handler == "breaker"
    assert [e.id for e in error.chain] == [2, 1]  # type: ignore[attr-defined]
    assert "handler 'breaker' raised ZeroDivisionError: bad maths; while handling Ping #2" in str(error)
    assert "causal chain: Ping#2 <- Ping#1" in str(error)


def test_step_returns_what_each_handler_emitted() -> None:
    """step() delivers one event and reports each handler and its emitted events."""
    bus = Bus()
    bus.subscribe(Ping, "echo", lambda e: [Pong(id=10 + e.id, time_ns=0, cause_id=e.id)])
    bus.subscribe(Ping, "quiet", lambda e: None)
    bus.publish(Ping(id=1, time_ns=0))
    delivery = bus.step()
    assert delivery is not None
    assert delivery.event.id == 1
    assert delivery.handlers == ("echo", "quiet")
    assert [e.id for e in delivery.emitted[0][1]] == [11]
    assert delivery.emitted[1][1] == ()
    assert bus.step() is not None  # the Pong, with no subscriber
    assert bus.step() is None


def test_run_stop_predicate_leaves_the_event_queued() -> None:
    """run(stop) returns the event it stopped before; it is the next one delivered."""
    bus = Bus()
    recorder = Recorder("r")
    bus.add(recorder)
    for i, label in enumerate("abc"):
        bus.publish(Ping(id=i, time_ns=0, label=label))
    stopped = bus.run(lambda e: e.label == "b")
    assert stopped is not None and stopped.label == "b"  # type: ignore[attr-defined]
    assert recorder.seen == ["a"]
    bus.run()
    assert recorder.seen == ["a", "b", "c"]


def test_audit_records_every_publication_with_its_handlers() -> None:
    """The audit log gets a publish record per event, naming the handlers it is delivered to, in order."""
    audit = AuditLog()
    bus = Bus(audit)
    bus.subscribe(Ping, "h1", lambda e: None)
    bus.subscribe(Ping, "h2", lambda e: None)
    bus.publish(Ping(id=7, time_ns=0, label="x"), by="test")
    bus.publish(Pong(id=8, time_ns=0, label="y"), by="test")
    bus.run()
    records = audit.records()
    assert records == [
        {"record": "publish", "seq": 0, "id": 7, "type": "Ping", "time": "1970-01-01", "cause": None, "by": "test",
         "to": ["h1", "h2"], "data": {"label": "x"}},
        {"record": "publish", "seq": 1, "id": 8, "type": "Pong", "time": "1970-01-01", "cause": None, "by": "test",
         "to": [], "data": {}},
    ]


@pytest.mark.parametrize(("returned", "words"), [
    (lambda e: Pong(id=99, time_ns=e.time_ns, label="x"), "returned one Pong (#99), not a list of events"),
    (lambda e: {"label": "x"}, "returned dict {'label': 'x'}, not a list of events"),
    (lambda e: [Pong(id=99, time_ns=e.time_ns), "later"], "returned a list holding str 'later', which is not an event"),
    # a None in the list (it was blamed as the handler raising AttributeError)
    (lambda e: [None], "returned a list holding NoneType None, which is not an event"),
])
@pytest.mark.parametrize("how", ["run", "step"])
def test_a_hook_that_returns_something_else_is_named(returned, words: str, how: str) -> None:  # type: ignore[no-untyped-def]
    """A hook returning one event, a dict or a list with a non-event in it: a HandlerError naming the handler,
    what it returned and what a hook returns, from run() and step() alike."""
    bus = Bus()
    bus.add(Recorder("one", react=returned))
    bus.publish(Ping(id=1, time_ns=0, label="a"))
    with pytest.raises(HandlerError) as caught:
        bus.run() if how == "run" else bus.step()
    assert str(caught.value).startswith(f"handler 'one' raised ContractError: {words}; a hook returns a list of "
                                        "events or None; while handling Ping #1")
    assert caught.value.handler == "one"


def test_a_subscribed_event_without_its_hook_is_refused_when_the_handler_is_added() -> None:
    """subscribes = (Ping,) with no on_ping: a ContractError naming the handler, its class and the hook wanted."""
    from eventbt.errors import ContractError

    class Typo(Handler):
        name = "typo"
        subscribes = (Ping,)

        def on_pings(self, event: Ping) -> None: ...

    with pytest.raises(ContractError, match=r"^handler 'typo' \(.*Typo\) subscribes to Ping but has no "
                                            r"on_ping\(event\) method$"):
        Bus().add(Typo())


@pytest.mark.parametrize("use_step", [False, True])
def test_a_handler_reusing_an_id_or_publishing_in_the_past_is_named(use_step: bool) -> None:
    """An event published with an id already taken (a fee given its fill's id, say) is refused: the log, trace and
    the debugger find events by id, and two events of one id made trace() loop for ever. Like a publication in the
    past, the refusal is the handler's error, naming it, the event it handled and the chain (a bare BusError
    before), whether the bus runs or steps."""
    for react, message in (
        (lambda ping: [Pong(id=ping.id, time_ns=ping.time_ns, cause_id=ping.id)],
         "handler 'echo' raised BusError: echo published Pong #1, an id already taken by Ping #1; a new event takes "
         "its id from context.next_id(); while handling Ping #1"),
        (lambda ping: [Pong(id=2, time_ns=ping.time_ns - 1, cause_id=ping.id)],
         "handler 'echo' raised BusError: echo published Pong #2 at 1970-01-01T00:00:00, before the current time"),
    ):
        bus = Bus()
        bus.add(Recorder("echo", react))
        bus.publish(Ping(id=1, time_ns=5, label="a"))
        with pytest.raises(HandlerError) as caught:
            if use_step:
                bus.step()
            else:
                bus.run()
        assert str(caught.value).startswith(message)
        assert caught.value.handler == "echo"


def test_trace_stops_where_a_cause_loops_back() -> None:
    """An event naming itself as its cause (a handler's slip) ends the chain instead of looping for ever, in the
    bus and in the audit log."""
    from eventbt.audit import trace_records

    audit = AuditLog()
    bus = Bus(audit=audit)
    bus.publish(Ping(id=1, time_ns=0, label="root"))
    bus.publish(Ping(id=2, time_ns=0, cause_id=2, label="loop"))
    assert [e.id for e in bus.trace(2)] == [2]
    assert [r["id"] for r in trace_records(audit.records(), 2)] == [2]
