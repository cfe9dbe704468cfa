"""Events: the one ``__repr__`` every event class inherits writes what attrs would write for that class."""

from __future__ import annotations

import inspect

import attrs
import numpy as np
import pytest

from eventbt import events
from eventbt.events import Event, Side

EVENT_CLASSES = sorted((cls for _, cls in inspect.getmembers(events, inspect.isclass)
                        if issubclass(cls, Event)), key=lambda cls: cls.__name__)


def test_every_built_in_event_class_is_checked() -> None:
    """The classes found are the base and the 19 built-in events (eventbt/events.py has 20 ``@attrs.frozen``),
    so the check below covers each of them."""
    assert len(EVENT_CLASSES) == 20 and Event in EVENT_CLASSES


def _value(index: int) -> object:
    """A value of one of the kinds events hold, by position: the repr must render each as attrs does."""
    return (None, 7, -2.5, "AAA", ("AAA", "BBB"), np.array([1.0, np.nan]), Side.SELL, {"AAA": 0.5})[index % 8]


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_an_event_repr_is_the_one_attrs_writes(cls: type[Event]) -> None:
    """The reference is an independent twin made by ``attrs.make_class`` with the same fields and attrs' own
    generated repr; the event is filled with the same values field by field (no validation involved)."""
    fields = attrs.fields(cls)
    values = {field.name: _value(i + len(cls.__name__)) for i, field in enumerate(fields)}
    event = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(event, name, value)
    twin = attrs.make_class(cls.__name__, {field.name: attrs.field(repr=field.repr) for field in fields},
                            repr=True, slots=True)
    assert repr(event) == repr(twin(**values))
    assert cls.__repr__ is Event.__repr__  # inherited: attrs compiled no repr of its own for the class


def test_declared_fields_convert_by_the_value_for_a_user_event_with_real_type_annotations() -> None:
    """A user's event whose annotations are type objects (a module without postponed annotations), a
    ``Side | None`` and a read-only mapping: recorded as the log wants them, by hand: the side by its name, the
    mapping as a plain dict, None as None, the number as it is."""
    import types
    from collections.abc import Mapping

    from eventbt.events import Side as SideType

    fields = {"bar": attrs.field(type=int), "side": attrs.field(type=SideType | None),
              "weights": attrs.field(type=Mapping[str, float]), "other": attrs.field(type=SideType | None)}
    user_event = attrs.make_class("UserEvent", fields, bases=(Event,), frozen=True, slots=True, kw_only=True)
    user_event.audit_fields = Event.declared_fields  # type: ignore[attr-defined]
    event = user_event(id=1, time_ns=0, bar=3, side=SideType.SELL, weights=types.MappingProxyType({"A": 0.5}),
                       other=None)
    record = event.audit_fields()
    assert record == {"bar": 3, "side": "SELL", "weights": {"A": 0.5}, "other": None}
    assert type(record["weights"]) is dict


def test_an_events_mappings_refuse_changes_as_its_fields_do() -> None:
    """A signal's weights, a notice's details and a margin call's quantities are dicts that refuse changes: the
    audit log renders an event after its subscribers have seen it, so a handler setting weights["IBM"] = 0.99
    rewrote what the log said the strategy published (the rebalance had traded the original weights). They stay
    equal to dicts, pickle and copy as the event does, and a dict() of one is a copy to change."""
    import copy
    import pickle

    from eventbt.events import FrozenDict, MarginCallEvent, NoticeEvent, SignalEvent

    signal = SignalEvent(id=1, time_ns=0, bar=0, strategy="ema", weights={"AAPL": 0.5})
    notice = NoticeEvent(id=2, time_ns=0, bar=0, handler="rebalance", code="x")
    call = MarginCallEvent(id=3, time_ns=0, bar=0, equity=1.0, gross_exposure=2.0, maintenance_margin=0.5,
                           response="liquidate", quantities={"A": -3})
    for mapping in (signal.weights, notice.details, call.quantities):
        assert isinstance(mapping, FrozenDict)
        for change in (lambda m: m.__setitem__("IBM", 0.99), lambda m: m.update(IBM=0.99), lambda m: m.pop("A"),
                       lambda m: m.clear(), lambda m: m.setdefault("IBM", 1), lambda m: m.popitem()):
            with pytest.raises(TypeError, match="an event's mapping cannot be changed"):
                change(mapping)
    assert signal.weights == {"AAPL": 0.5} and dict(signal.weights) == {"AAPL": 0.5}
    assert pickle.loads(pickle.dumps(signal)) == signal and copy.deepcopy(signal) == signal
    copied = dict(signal.weights)
    copied["IBM"] = 0.99  # a copy changes freely
    assert signal.weights == {"AAPL": 0.5}
