"""The data feed's events per bar, and the end-of-data event it adds only when a handler wants it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from eventbt.events import DataEndEvent, Event
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.data_feed import DataFeed
from handlers.fees import StampDuty

DATES = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[ns]")
CLOSE = np.array([[10.0], [11.0]])


def _drain(feed: DataFeed) -> list[Event]:
    events = []
    while feed.peek_time() is not None:
        events.append(feed.pop())
    return events


@pytest.mark.parametrize(
    ("with_open", "with_data_end", "kinds"),
    [
        (False, False, ["MarketEvent", "BarEndEvent", "MarketEvent", "BarEndEvent"]),
        (False, True, ["MarketEvent", "BarEndEvent", "MarketEvent", "DataEndEvent", "BarEndEvent"]),
        (True, True, ["BarOpenEvent", "MarketEvent", "BarEndEvent",
                      "BarOpenEvent", "MarketEvent", "DataEndEvent", "BarEndEvent"]),
    ],
)
def test_the_feed_yields_one_data_end_event_after_the_last_market_event(
        with_open: bool, with_data_end: bool, kinds: list[str]) -> None:
    """The end of the data comes once, between the last bar's market event and its bar end, when asked for."""
    prices = PriceData(dates=DATES, symbols=("A",), close=CLOSE, open=CLOSE.copy())
    ids = itertools.count(1)
    events = _drain(DataFeed(prices, ids.__next__, with_open=with_open, with_data_end=with_data_end))
    assert [event.kind for event in events] == kinds
    ends = [event for event in events if isinstance(event, DataEndEvent)]
    if with_data_end:
        # at the last bar's close (2024-01-03 16:00), the same time as its market event
        assert [(end.bar, end.date, end.cause_id) for end in ends] == [(1, "2024-01-03T16:00:00", None)]
        assert ends[0].time_ns == events[kinds.index("MarketEvent", len(kinds) - 3)].time_ns


@pytest.mark.parametrize(("extra", "published"), [((), False), ((StampDuty(),), True)])
def test_a_run_publishes_the_end_of_the_data_only_when_a_handler_subscribes(
        extra: tuple[StampDuty, ...], published: bool) -> None:
    """Without a subscriber no DataEndEvent is published, so such runs keep their events and digest."""
    raw = {"data": {"path": "unused.csv"}, "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5}}},
           "schedule": {"dates": ["2024-01-02"]}}
    prices = PriceData(dates=DATES, symbols=("A",), close=CLOSE)
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices,
                            extra_handlers=list(extra))
    result = simulation.run()
    assert result is not None
    types = [r["type"] for r in result.audit.records() if r.get("record") == "publish"]
    assert ("DataEndEvent" in types) is published
