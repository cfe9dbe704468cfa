"""The step debugger on orders that wait: `waiting` lists them with their last check, `why` says why each filled
or expired, in the bar's own numbers (scenarios/order_types.toml, prices from its data file)."""

from __future__ import annotations

from pathlib import Path

import eventbt
from eventbt.events import OrderStateEvent
from tests.eventbt.debug_fixtures import write_tiny

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "order_types.toml"


def test_waiting_lists_the_orders_and_why_each_did_not_fill_on_the_last_bar() -> None:
    """Before 2013-01-03 the four limit buys wait since their placement; after it only IBM, whose low 194.440002
    stayed above its limit 196.350006 x 0.99 = 194.38650594."""
    sim = eventbt.Simulation.from_scenario(SCENARIO)
    sim.debugger.run_until("2013-01-03")
    rows = sim.debugger.waiting().rows
    assert [(row[0], row[2], row[3], row[4]) for row in rows] == [
        ("#3", "AAPL", "318", "limit 77.6485 gtc 3 bars"), ("#4", "IBM", "127", "limit 194.3865 gtc 3 bars"),
        ("#5", "KO", "398", "limit 37.2240 gtc 3 bars"), ("#6", "MSFT", "542", "limit 27.3438 gtc 3 bars")]
    assert rows[1][5:] == ("2013-01-03 .. 2013-01-07",
                           "close 196.350006 > limit 194.38650594 when placed on 2013-01-02: waiting")
    sim.debugger.step()  # the MarketEvent of 2013-01-03: AAPL, KO and MSFT fill
    [ibm] = sim.debugger.waiting().rows
    assert ibm[6] == "low 194.440002 > limit 194.38650594: not reached on 2013-01-03"


def test_why_names_the_bars_low_against_the_limit() -> None:
    """IBM fills on 2013-01-04 at its open 194.190002 (low 192.779999 <= 194.38650594): the state says so."""
    sim = eventbt.Simulation.from_scenario(SCENARIO)
    sim.debugger.run_until("2013-01-07")
    view = sim.debugger.why(4)
    assert [(s.state, s.reason) for s in view.states] == [
        ("open", "close 196.350006 > limit 194.38650594 when placed on 2013-01-02: waiting"),
        ("filled", "low 192.779999 <= limit 194.38650594 on 2013-01-04: filled at min(open 194.190002, limit "
                   "194.38650594) = 194.190002")]
    fill = next(e for e in sim.bus.events.values() if e.kind == "FillEvent" and getattr(e, "order_id", 0) == 4)
    assert sim.debugger.why(fill.id).states == view.states  # asked of its fill, the same order's reasons


def test_an_expired_order_explains_itself_from_its_cancel() -> None:
    """The one-day MSFT limit at 26.90: why on its CancelEvent shows the expiry and 2013-01-22's low 27.0."""
    sim = eventbt.Simulation.from_scenario(SCENARIO)
    sim.debugger.run_until("2013-01-23")
    expired = next(e for e in sim.bus.events.values() if isinstance(e, OrderStateEvent) and e.state == "expired")
    reasons = [s.reason for s in sim.debugger.why(expired.cause_id).states]  # its cause: the CancelEvent
    assert reasons[-1] == "day order expired: low 27.0 > limit 26.9: not reached on 2013-01-22"


def test_a_next_open_market_order_waits_for_the_open() -> None:
    """With next_open the rebalance's market orders are listed between the signal's close and the next open,
    as orders for the next open not checked yet."""
    sim = eventbt.Simulation.from_scenario(ROOT / "scenarios" / "ema_next_open.toml")
    sim.debugger.add_breakpoint("OrderEvent")
    first = sim.debugger.continue_()
    assert first is not None
    dates = [str(day)[:10] for day in sim.prices.dates]
    sim.debugger.run_until(dates[dates.index(first.date[:10]) + 1])  # stops before the next bar's open
    rows = sim.debugger.waiting().rows
    assert rows and rows[0][0] == f"#{first.id}"
    assert {(row[4], row[6]) for row in rows} == {("next open", "not checked yet")}


def test_orders_queued_on_the_bus_are_said_to_have_not_reached_the_execution_handler(tmp_path: Path) -> None:
    """Between bar 0's signal and its fills (tiny listing: orders #5 and #6 published by the signal #2, queued
    behind notices #3 and #4), `waiting` said "no order waiting" and `fills` "none"; now both say the orders are
    published and not delivered yet. Once #5 is delivered, its fill #7 is listed and only #6 is said to be queued."""
    debugger = eventbt.Simulation.from_scenario(write_tiny(tmp_path)).debugger
    debugger.next(2)
    not_yet = ("2 OrderEvent #5-#6 published, not delivered: they have not reached the execution handler yet (they are "
               "queued: step on, then ask again)")
    assert str(debugger.waiting()) == f"no order waiting after 2021-01-04T16:00:00; {not_yet}"
    assert str(debugger.fills()) == f"fills of signal #2 on 2021-01-04T16:00:00: none yet, {not_yet}"
    debugger.next(3)
    lines = str(debugger.fills()).splitlines()
    assert lines[0] == "fills of signal #2 on 2021-01-04T16:00:00" and lines[2].split()[:2] == ["#7", "#5"]
    assert lines[3:] == ["OrderEvent #6 published, not delivered: it has not reached the execution handler yet (it is "
                         "queued: step on, then ask again)"]
