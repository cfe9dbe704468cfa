"""eventbt.testing: the factories, the recording handler and the harness work as documented."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import eventbt
from eventbt.costs import FixedBpsSlippage, PerShareCommission
from eventbt.events import FillEvent, OrderEvent, Side, SignalEvent
from eventbt.testing import EventFactory, RecordingHandler, bind, deliver, fixed_clock
from handlers.execution import ExecutionHandler

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "ema_next_open.toml"


def test_factory_numbers_ids_dates_bars_and_links_causes() -> None:
    """Ids count from 1, bar n closes at 16:00 n days after start, and causes point at their events."""
    make = EventFactory(("B", "A"), start="2024-01-02")
    market = make.market({"A": 10.0}, bar=2)
    signal = make.signal({"A": 1.0}, cause=market, bar=2)
    order = make.order("A", Side.BUY, 5, 10.0, cause=signal, bar=2)
    fill = make.fill(order, price=10.01)
    assert make.symbols == ("A", "B")
    assert [market.id, signal.id, order.id, fill.id] == [1, 2, 3, 4]
    assert market.date == "2024-01-04T16:00:00"
    assert market.close[0] == 10.0 and math.isnan(market.close[1])
    assert (signal.cause_id, order.cause_id, fill.cause_id, fill.order_id) == (1, 2, 3, 3)
    assert fill.slippage == pytest.approx(0.05)  # |10.01 - 10.00| * 5


def test_factory_refuses_unknown_symbols_and_fields() -> None:
    """A close for a symbol the factory does not know, or an unknown bar field, is an error."""
    make = EventFactory(("A",))
    with pytest.raises(KeyError, match="no symbol 'Z'"):
        make.market({"Z": 1.0})
    with pytest.raises(TypeError, match="unknown bar field 'spread'"):
        make.market([1.0], spread=[0.1])


def test_deliver_runs_one_handler_on_chosen_events() -> None:
    """The execution handler, bound alone, fills an order the way its docstring says (hand-worked)."""
    make = EventFactory(("A",))
    handler = ExecutionHandler(commission=PerShareCommission(per_share=0.005, minimum=1.0),
                               slippage=FixedBpsSlippage(bps=10))
    bind(handler, ("A",), cash=10_000.0)
    assert deliver(handler, make.market([50.0])) == []
    [fill] = deliver(handler, make.order("A", Side.BUY, 100, 50.0))
    # 50 * 1.001 = 50.05; commission max(1.00, 100 * 0.005 = 0.50) = 1.00
    assert isinstance(fill, FillEvent) and fill.price == pytest.approx(50.05) and fill.commission == 1.0
    with pytest.raises(TypeError, match="does not subscribe to SignalEvent"):
        deliver(handler, make.signal({"A": 1.0}))


def test_recording_handler_sees_a_real_runs_events_in_order() -> None:
    """On the bundled next-open scenario the recorder gets every signal and order, in publication order."""
    recorder = RecordingHandler(SignalEvent, OrderEvent)
    simulation = eventbt.Simulation.from_scenario(SCENARIO, extra_handlers=[recorder])
    result = simulation.run()
    assert result is not None
    records = result.audit.records()
    published = [r["id"] for r in records if r.get("type") in ("SignalEvent", "OrderEvent")]
    assert [event.id for event in recorder.events] == published
    assert len(recorder.of(SignalEvent)) == len(result.signals)
    with pytest.raises(ValueError, match="at least one event type"):
        RecordingHandler()


def test_fixed_clock_works_for_the_first_run_of_a_fresh_process() -> None:
    """docs/testing.md's example in a fresh interpreter: the run inside the block is the process's first, so
    pandas is first needed there. Imported under freezegun's clock, its compiled parts crashed the process
    (exit -11); fixed_clock imports them before it freezes."""
    import subprocess
    import sys

    code = ("import eventbt\nfrom eventbt.testing import fixed_clock\nwith fixed_clock('2030-01-01'):\n"
            f"    result = eventbt.run({str(SCENARIO)!r})\nprint(result.audit.records()[0]['wall_clock'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "{'started': '2030-01-01T00:00:00+00:00'}"


def test_fixed_clock_freezes_the_run_metadata() -> None:
    """Inside fixed_clock the audit header records the frozen start time."""
    with fixed_clock("2031-05-06T07:08:09"):
        result = eventbt.run(SCENARIO)
    assert result.audit.records()[0]["wall_clock"] == {"started": "2031-05-06T07:08:09+00:00"}


def test_bind_on_the_factory_gives_its_calendar_and_ids() -> None:
    """A fee handler reads the context's dates (the days since the previous bar): bound to the factory it finds
    them (bound to symbols alone, the dates are empty and its first bar failed with an IndexError), and its
    FeeEvent's id follows the factory's, where both counters began at 1 and gave the same id twice."""
    from eventbt.events import FeeEvent
    from handlers.fees import ManagementFee

    make = EventFactory(("A",), start="2024-01-02")
    fee = ManagementFee(annual_rate=0.0365, frequency="daily")
    context = bind(fee, make, cash=100_000.0)
    assert np.array_equal(context.dates[:2], np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[ns]"))
    deliver(fee, make.market({"A": 10.0}, bar=0))
    [charged] = deliver(fee, make.market({"A": 10.0}, bar=1))  # MarketEvents #1 and #2: the fee is #3
    assert isinstance(charged, FeeEvent) and charged.id == 3
    # 100,000 x 0.0365 x 1 day / 365 = 10.00 (ManagementFee's day count is 365).
    assert charged.amount == pytest.approx(100_000.0 * 0.0365 / 365, rel=1e-12)
