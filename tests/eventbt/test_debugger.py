"""The step debugger's Python API: stepping, rebalances, breakpoints, views, and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eventbt
from eventbt.debug import Debugger, StepRecord, day_start_ns, event_class
from eventbt.errors import DebuggerError
from eventbt.events import (
    BarEndEvent,
    BarOpenEvent,
    FillEvent,
    MarketEvent,
    NoticeEvent,
    OrderEvent,
    Side,
    SignalEvent,
    SnapshotEvent,
)
from tests.eventbt.debug_fixtures import FailingGenerator, record_blocks, write_tiny

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny(tmp_path)


def test_step_rebalance_goes_market_signal_orders_sells_first_fills_snapshot(tiny: Path) -> None:
    """The second rebalance comes out in pipeline order with each event caused by the one before it."""
    sim = eventbt.Simulation.from_scenario(tiny)
    assert sim.debugger.run_until("2021-01-06") is not None
    records = sim.debugger.step_rebalance()
    kinds = [type(r.event) for r in records]
    assert kinds == [MarketEvent, SignalEvent, NoticeEvent, OrderEvent, OrderEvent, FillEvent, FillEvent,
                     BarEndEvent, SnapshotEvent]
    market, signal, notice, sell, buy, sell_fill, buy_fill, bar_end, snapshot = (r.event for r in records)
    assert all(r.event.date.startswith("2021-01-06") for r in records)
    assert signal.cause_id == market.id
    assert notice.cause_id == signal.id and sell.cause_id == signal.id and buy.cause_id == signal.id
    assert (sell.side, sell.symbol, sell.quantity) == (Side.SELL, "AAA", 8)
    assert (buy.side, buy.symbol, buy.quantity) == (Side.BUY, "BBB", 7)
    assert sell_fill.cause_id == sell.id and sell_fill.order_id == sell.id
    assert buy_fill.cause_id == buy.id and buy_fill.order_id == buy.id
    assert snapshot.cause_id == bar_end.id
    assert [e.id for e in sim.debugger.trace(buy_fill.id).events] == [buy_fill.id, buy.id, signal.id, market.id]


def test_step_records_say_who_took_the_event_and_what_it_emitted(tiny: Path) -> None:
    """A step record is a Delivery: the handlers in bus order and the events each one published."""
    sim = eventbt.Simulation.from_scenario(tiny)
    record = sim.debugger.step()
    assert isinstance(record, StepRecord) and isinstance(record, eventbt.Delivery)
    assert record.handlers == sim.bus.subscribers(MarketEvent)
    assert sorted(record.handlers) == ["execution", "portfolio", "rebalance", "strategy"]
    emitted = dict(record.emitted)
    assert [type(e) for e in emitted["strategy"]] == [SignalEvent]
    assert emitted["portfolio"] == () and emitted["execution"] == ()
    signal_step = sim.debugger.step()
    assert signal_step is not None
    # two scaled_for_cash notices, then the two buys (no sells on the first rebalance)
    assert [e.kind for e in dict(signal_step.emitted)["rebalance"]] == ["NoticeEvent", "NoticeEvent",
                                                                        "OrderEvent", "OrderEvent"]


def test_step_records_carry_the_cash_and_position_changes(tiny: Path) -> None:
    """Each fill's record has cash before/after and the shares and average cost it changed (hand figures)."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.run_until("2021-01-06")
    fills = [r for r in sim.debugger.step_rebalance() if isinstance(r.event, FillEvent)]
    sell, buy = fills
    assert (sell.cash_before, sell.cash_after) == pytest.approx((28.0, 187.0))
    (aaa,) = sell.changes
    assert (aaa.symbol, aaa.shares_before, aaa.shares_after) == ("AAA", 49, 41)
    assert aaa.average_cost_before == aaa.average_cost_after == pytest.approx(10.0)
    assert (buy.cash_before, buy.cash_after) == pytest.approx((187.0, 11.0))
    assert buy.cash_change == pytest.approx(-176.0)
    (bbb,) = buy.changes
    assert (bbb.symbol, bbb.shares_before, bbb.shares_after) == ("BBB", 24, 31)
    assert bbb.average_cost_after == pytest.approx(655 / 31)


def test_events_without_a_portfolio_effect_record_no_change(tiny: Path) -> None:
    """A market bar or an order changes neither cash nor positions."""
    sim = eventbt.Simulation.from_scenario(tiny)
    for record in sim.debugger.next(6):
        if not isinstance(record.event, FillEvent):
            assert record.changes == () and record.cash_before == record.cash_after


def _plain_digest(path: Path) -> str:
    result = eventbt.Simulation.from_scenario(path).run()
    assert result is not None
    return result.digest


def test_stepping_then_running_gives_the_plain_run_digest(tiny: Path) -> None:
    """Stop, step, look around, set breakpoints and resume: same digest and equity as one uninterrupted run."""
    plain = eventbt.Simulation.from_scenario(tiny).run()
    assert plain is not None
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.step()
    str(sim.debugger.queue)
    sim.debugger.run_until("2021-01-05")
    sim.debugger.next(2)
    str(sim.debugger.portfolio)
    sim.debugger.add_breakpoint("FillEvent")
    assert isinstance(sim.debugger.continue_(), FillEvent)
    sim.debugger.step_rebalance()
    assert sim.debugger.run_until("2099-01-01") is None
    result = sim.debugger.result
    assert result is not None and sim.finished
    assert result.digest == plain.digest
    assert result.equity.equals(plain.equity)


def test_stepping_every_event_of_a_next_open_run_gives_the_plain_digest() -> None:
    """With next_open, a rebalance ends at the next bar's snapshot, after its BarOpenEvent fills."""
    path = SCENARIOS / "ema_next_open.toml"
    sim = eventbt.Simulation.from_scenario(path)
    records = sim.debugger.step_rebalance()
    kinds = [r.event.kind for r in records]
    assert kinds[0] == "MarketEvent" and kinds[-1] == "SnapshotEvent"
    opens = [i for i, r in enumerate(records) if isinstance(r.event, BarOpenEvent)]
    fills = [i for i, r in enumerate(records) if isinstance(r.event, FillEvent)]
    assert len(opens) == 1 and fills and min(fills) > opens[0]
    snapshots = [r.event for r in records if isinstance(r.event, SnapshotEvent)]
    assert [s.bar for s in snapshots] == [records[0].event.bar, records[0].event.bar + 1]  # type: ignore[attr-defined]
    while sim.debugger.step() is not None:
        pass
    assert sim.debugger.result is not None
    assert sim.debugger.result.digest == _plain_digest(path)


def test_run_until_stops_before_the_first_event_of_the_date(tiny: Path) -> None:
    """The event returned is still queued and is the first one of that date."""
    sim = eventbt.Simulation.from_scenario(tiny)
    event = sim.debugger.run_until("2021-01-05")
    assert isinstance(event, MarketEvent) and event.date == "2021-01-05T16:00:00"
    assert sim.debugger.queue.events[0] is event
    assert sim.debugger.last is not None and sim.debugger.last.date.startswith("2021-01-04")


def test_run_until_past_the_end_finishes_the_run(tiny: Path) -> None:
    """Past the data, run_until returns None and the run is complete; stepping further returns None."""
    sim = eventbt.Simulation.from_scenario(tiny)
    assert sim.debugger.run_until("2030-01-01") is None
    assert sim.finished and sim.status == "completed"
    assert sim.debugger.step() is None
    assert sim.debugger.step_rebalance() == []


@pytest.mark.parametrize(
    ("kwargs", "kind", "date", "symbol"),
    [
        ({"event_type": "fill"}, "FillEvent", "2021-01-04", "AAA"),
        ({"symbol": "BBB"}, "NoticeEvent", "2021-01-04", "BBB"),  # the scaled_for_cash notice comes first
        ({"event_type": "OrderEvent", "symbol": "BBB"}, "OrderEvent", "2021-01-04", "BBB"),
        ({"date": "2021-01-05"}, "MarketEvent", "2021-01-05", None),
        ({"event_type": FillEvent, "date": "2021-01-06"}, "FillEvent", "2021-01-06", "AAA"),
        ({"predicate": lambda e: isinstance(e, SnapshotEvent) and e.total_value > 1100},
         "SnapshotEvent", "2021-01-05", None),
    ],
)
def test_each_kind_of_breakpoint_stops_before_the_right_event(tiny: Path, kwargs: dict, kind: str, date: str,
                                                              symbol: str | None) -> None:
    """Type, symbol, date, predicate and combinations stop before the first matching event."""
    sim = eventbt.Simulation.from_scenario(tiny)
    point = sim.debugger.add_breakpoint(**kwargs)
    event = sim.debugger.continue_()
    assert event is not None and sim.debugger.hit is point
    assert event.kind == kind and event.date.startswith(date)
    assert getattr(event, "symbol", None) == symbol
    assert sim.debugger.queue.events[0] is event  # still queued: the breakpoint stops before delivery


def test_date_breakpoint_fires_once_and_continue_then_runs_to_the_end(tiny: Path) -> None:
    """Reaching a date stops once; continuing after it runs to the end and returns None."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.add_breakpoint(date="2021-01-05")
    assert sim.debugger.continue_() is not None
    assert sim.debugger.continue_() is None
    assert sim.finished and sim.debugger.hit is None


def test_deleted_breakpoints_no_longer_stop(tiny: Path) -> None:
    """After delete_breakpoint, continue runs past the events it matched."""
    sim = eventbt.Simulation.from_scenario(tiny)
    point = sim.debugger.add_breakpoint("FillEvent")
    sim.debugger.delete_breakpoint(point.number)
    assert sim.debugger.continue_() is None
    with pytest.raises(DebuggerError, match="no breakpoint 1"):
        sim.debugger.delete_breakpoint(point.number)


def test_why_finds_the_notices_behind_an_order_and_its_fill(tiny: Path) -> None:
    """why(order) and why(fill) give that symbol's scaled_for_cash notice; why() all of the rebalance's."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.step_rebalance()
    debugger = sim.debugger
    assert [(n.code, n.symbol) for n in debugger.why().notices] == [("scaled_for_cash", "AAA"),
                                                                     ("scaled_for_cash", "BBB")]
    orders = [e for e in sim.bus.events.values() if isinstance(e, OrderEvent)]
    fills = [e for e in sim.bus.events.values() if isinstance(e, FillEvent)]
    bbb_order = next(o for o in orders if o.symbol == "BBB")
    bbb_fill = next(f for f in fills if f.symbol == "BBB")
    for event_id in (bbb_order.id, bbb_fill.id):
        (notice,) = debugger.why(event_id).notices
        assert notice.symbol == "BBB" and dict(notice.details)["wanted"] == 25 and notice.details["quantity"] == 24
    text = str(debugger.why(bbb_order.id))
    assert "wanted 25, ordered 24" in text and "1,000.00 was available" in text


def test_orders_and_fills_views_list_the_latest_rebalance(tiny: Path) -> None:
    """orders() shows each order's outcome; fills() each fill's price and commission."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.run_until("2021-01-06")
    sim.debugger.next(3)  # market, signal, notice: both orders are queued, none delivered yet
    assert [row[-1] for row in sim.debugger.orders().rows] == ["queued", "queued"]
    sim.debugger.next(4)  # the two orders and their two fills
    rows = sim.debugger.orders().rows
    assert [(r[1], r[2], r[3], r[-1]) for r in rows] == [("SELL", "AAA", "8", "filled 8"),
                                                         ("BUY", "BBB", "7", "filled 7")]
    fills = sim.debugger.fills().rows
    assert [(r[3], r[4], r[6], r[7], r[8]) for r in fills] == [("SELL", "AAA", "20.0000", "160.00", "1.00"),
                                                             ("BUY", "BBB", "25.0000", "175.00", "1.00")]


def test_portfolio_view_shows_cash_positions_and_weights(tiny: Path) -> None:
    """After the last rebalance: 41 AAA @ 20, 31 BBB @ 25, cash 11, total 1,606."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.run_until("2030-01-01")
    view = sim.debugger.portfolio
    assert view.positions == {"AAA": 41, "BBB": 31}
    assert view.cash == pytest.approx(11.0)
    assert view.total_value == pytest.approx(1606.0)
    assert view.weights == pytest.approx({"AAA": 820 / 1606, "BBB": 775 / 1606})
    assert "1,606.00" in str(view) and "51.1%" in str(view)  # 820 / 1606 = 0.5106


def test_views_render_as_html_tables_for_jupyter(tiny: Path) -> None:
    """Step records, step lists, the portfolio and the queue have _repr_html_ tables with their cells."""
    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.run_until("2021-01-06")
    queue_html = sim.debugger.queue._repr_html_()
    assert queue_html.count("<table>") == 1 and "MarketEvent" in queue_html
    records = sim.debugger.step_rebalance()
    fill = next(r for r in records if isinstance(r.event, FillEvent))
    html = fill._repr_html_()
    assert "<table>" in html and "<td" in html and "41 shares" in html
    assert records._repr_html_().count("<table>") == len(records)
    portfolio_html = sim.debugger.portfolio._repr_html_()
    assert "<th" in portfolio_html and "BBB" in portfolio_html and "&lt;" not in portfolio_html


def test_step_text_aligns_handlers_and_formats_money_and_shares(tiny: Path) -> None:
    """A fill step reads: title, handler row, cash row with a signed change, a position row."""
    sim = eventbt.Simulation.from_scenario(tiny)
    records = sim.debugger.step_rebalance()
    fill = next(r for r in records if isinstance(r.event, FillEvent) and r.event.symbol == "AAA")
    lines = str(fill).splitlines()
    assert lines[0].endswith("FillEvent #7  BUY 49 AAA @ 10.0000  commission 1.00  slippage 0.00  (order #5)")
    assert lines[1:] == [
        "  portfolio  -",
        "  cash       1,000.00 -> 509.00  (-491.00)",
        "  AAA        0 -> 49 shares  average cost 0.0000 -> 10.0000",
    ]


@pytest.mark.parametrize(("text", "message"), [("2021-13-01", "not a date"), ("soon", "not a date")])
def test_bad_dates_are_debugger_errors(text: str, message: str) -> None:
    """A date that does not parse is a DebuggerError naming it."""
    with pytest.raises(DebuggerError, match=message) as info:
        day_start_ns(text)
    assert info.value.argument == text


def test_event_types_resolve_by_short_or_full_name() -> None:
    """'fill', 'FillEvent' and the class all name FillEvent; an unknown name lists the known ones."""
    assert event_class("fill") is event_class("FillEvent") is event_class(FillEvent) is FillEvent
    with pytest.raises(DebuggerError, match=r"expected one of .*FillEvent"):
        event_class("trade")


def test_debugger_can_wrap_a_simulation_directly(tiny: Path) -> None:
    """Debugger(sim) drives the simulation like sim.debugger: the first step is bar 0's MarketEvent."""
    sim = eventbt.Simulation.from_scenario(tiny)
    record = Debugger(sim).step()
    assert record is not None and isinstance(record.event, MarketEvent) and record.event.bar == 0
    following = sim.debugger.step()
    assert following is not None and following.seq == record.seq + 1


def test_step_rebalance_follows_a_carried_order_until_it_is_filled() -> None:
    """With a volume limit and carry, the rebalance's steps run to the bar whose snapshot follows the last fill."""
    import numpy as np

    from eventbt.prices import PriceData
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import Simulation

    # 10,000 cash, A at 10.00, target 100%: buy 1,000 shares; limit 0.5 of volumes 300, 400, 500, 1,000 fills
    # 150, 200, 250 and the last 400 on bars 0..3 (worked out in tests/handlers/test_partial_fills.py).
    prices = PriceData(dates=np.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
                                      dtype="datetime64[ns]"), symbols=("A",),
                       close=np.full((4, 1), 10.0), volume=np.array([[300.0], [400.0], [500.0], [1_000.0]]))
    config = ScenarioConfig.from_dict({
        "data": {"path": "unused.csv"}, "portfolio": {"initial_cash": 10_000.0},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": 1.0}}},
        "schedule": {"dates": ["2024-01-02"]}, "execution": {"volume_limit": 0.5, "remainder": "carry"},
    })
    sim = Simulation(config, prices=prices)
    records = sim.debugger.step_rebalance()
    fills = [r.event.quantity for r in records if isinstance(r.event, FillEvent)]  # type: ignore[attr-defined]
    assert fills == [150, 200, 250, 400]
    assert isinstance(records[-1].event, SnapshotEvent) and records[-1].event.bar == 3


def test_the_old_simulation_delegates_still_work_but_warn(tiny: Path) -> None:
    """sim.run_until and friends (replaced by sim.debugger.*) keep working for a release, with a warning."""
    sim = eventbt.Simulation.from_scenario(tiny)
    with pytest.warns(DeprecationWarning, match=r"Simulation\.run_until is deprecated.*sim\.debugger\.run_until"):
        event = sim.run_until("2021-01-05")
    assert event is not None and event is sim.debugger.event()
    with pytest.warns(DeprecationWarning, match="step_rebalance"):
        assert sim.step_rebalance()


def test_the_old_module_paths_still_import_but_warn() -> None:
    """eventbt.debugger (now eventbt.debug.debugger) imports as an alias whose names warn and are the new ones."""
    import importlib
    import sys

    from eventbt.debug import debugger as new

    sys.modules.pop("eventbt.debugger", None)
    old = importlib.import_module("eventbt.debugger")
    with pytest.warns(DeprecationWarning, match=r"eventbt\.debugger is deprecated.*import Debugger from "
                                                r"eventbt\.debug\.debugger"):
        assert old.Debugger is new.Debugger
    with pytest.raises(AttributeError):
        old.__wrapped__  # noqa: B018 - dunder names are not forwarded (tools probe for them)


@pytest.mark.parametrize("name", ["ema_rotation", "ema_next_open", "cash_flows", "quandl_actions"])
def test_step_rebalance_passes_quiet_bars_as_blocks_with_the_same_steps(name: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Stepping every rebalance of a run, the bars between rebalances go as quiet blocks; the step records (their
    dicts, with who published each event), the digest and the equity equal those of the same stepping with
    every event of those bars delivered one by one (the reference: blocks switched off for the search), and the
    search asks its stop about a fraction of the events."""
    from eventbt.debug.debugger import Debugger

    def step_all(blocks: bool) -> tuple[list[list[dict[str, object]]], eventbt.Result, int]:
        asked = [0]
        real_run = Debugger._run

        def counted(self: Debugger, stop, *, quiet_bars: bool = False):  # type: ignore[no-untyped-def]
            def counting(event):  # type: ignore[no-untyped-def]
                asked[0] += 1
                return stop(event)
            return real_run(self, counting, quiet_bars=quiet_bars and blocks)

        with monkeypatch.context() as patch:
            patch.setattr(Debugger, "_run", counted)
            sim = eventbt.Simulation.from_scenario(SCENARIOS / f"{name}.toml", audit=False)
            groups = []
            while steps := sim.debugger.step_rebalance():
                groups.append([record.to_dict(sim.bus.publisher[record.event.id]) for record in steps])
        result = sim.debugger.result
        assert result is not None
        return groups, result, asked[0]

    blocked, result, asked = step_all(blocks=True)
    reference, expected, asked_each = step_all(blocks=False)
    assert blocked == reference and len(blocked) > 1
    assert result.digest == expected.digest and result.equity.equals(expected.equity)
    assert asked < asked_each / 2


def test_after_quiet_blocks_the_debugger_is_where_the_run_is() -> None:
    """A user's generator fails inside a stretch of quiet bars while step_rebalance searches for the next
    rebalance: with blocks, the debugger's last event (what its views and `run_until` go by) is the snapshot of
    the bar before the failing one, as when those bars go event by event (the reference); so is it after a
    rebalance is stepped."""
    from eventbt.bench.workloads import gbm_prices, rotation_config
    from eventbt.errors import HandlerError
    from eventbt.schedule import rebalance_mask

    prices = gbm_prices(8, 260, seed=5)
    month_ends = np.flatnonzero(rebalance_mask(prices.dates, rebalance="monthly"))
    failing = int(month_ends[6]) + 5  # well inside the quiet bars before the eighth rebalance

    lasts = []
    for blocks in (True, False):
        sim = eventbt.Simulation(rotation_config(), prices=prices, audit=False)
        sim.bus.blocks = blocks
        strategy = sim.pipeline.stage("strategy")
        strategy.generator = FailingGenerator(strategy.generator, failing)  # type: ignore[attr-defined]
        steps = sim.debugger.step_rebalance()
        after_step = (sim.debugger.last.id, steps[-1].event.id)  # type: ignore[union-attr]
        with pytest.raises(HandlerError):
            while sim.debugger.step_rebalance():
                pass
        last = sim.debugger.last  # the failing market event was not delivered whole: the bar before's snapshot
        assert isinstance(last, SnapshotEvent) and last.bar == failing - 1
        if blocks:  # the bars before the failing one did go as a block
            assert sim.bus.last_in_block() is last
        lasts.append((after_step, last.id))
    assert lasts[0] == lasts[1]


def test_a_failure_at_the_first_bar_of_a_block_after_a_block_leaves_the_debugger_there() -> None:
    """A handler of the user's whose quiet_until moves on five bars at a time makes the quiet bars go as blocks of
    five, back to back. A generator failing at the first bar of one of them leaves the debugger at the snapshot of
    the bar before, the last bar of the block before, as stepping event by event does (the reference)."""
    from eventbt.bench.workloads import gbm_prices, rotation_config
    from eventbt.errors import HandlerError
    from eventbt.events import MarketEvent
    from eventbt.handler import Handler
    from eventbt.quiet import QuietBars
    from eventbt.schedule import rebalance_mask

    prices = gbm_prices(8, 260, seed=5)
    failing = 140  # a multiple of five: a block starts there; no month ends there or the bar before
    assert not rebalance_mask(prices.dates, rebalance="monthly")[failing - 1:failing + 1].any()

    class FiveAtATime(Handler):
        name = "five_at_a_time"
        subscribes = (MarketEvent,)

        def on_market(self, event: MarketEvent) -> None:
            return None

        def quiet_until(self, bar: int) -> int:
            return (bar // 5 + 1) * 5

        def on_quiet_bars(self, bars: QuietBars) -> None:
            return None

    lasts = []
    for blocks in (True, False):
        sim = eventbt.Simulation(rotation_config(), prices=prices, audit=False, extra_handlers=[FiveAtATime()])
        sim.bus.blocks = blocks
        strategy = sim.pipeline.stage("strategy")
        strategy.generator = FailingGenerator(strategy.generator, failing)  # type: ignore[attr-defined]
        taken = record_blocks(sim)
        with pytest.raises(HandlerError):
            while sim.debugger.step_rebalance():
                pass
        if blocks:
            spans = [(block.start, block.stop) for block in taken]
            assert (failing - 5, failing) in spans and any(start == failing for start, _ in spans)
        last = sim.debugger.last
        assert isinstance(last, SnapshotEvent) and last.bar == failing - 1
        lasts.append(last.id)
    assert lasts[0] == lasts[1]


def test_an_event_delivered_after_a_block_is_where_the_debugger_is() -> None:
    """With next-open fills, the open event of the bar right after a block of quiet bars (here a rebalance bar)
    goes one by one after the block. A handler of the user's failing on it leaves the debugger at that open event
    (the last event stepping's search saw), not at the block's last snapshot before it, as stepping event by event
    does (the reference)."""
    from eventbt.bench.workloads import gbm_prices, rotation_config
    from eventbt.errors import HandlerError
    from eventbt.events import BarOpenEvent
    from eventbt.handler import Handler
    from eventbt.prices import PriceData
    from eventbt.quiet import NEVER, QuietBars

    closes = gbm_prices(8, 260, seed=5)
    prices = PriceData(dates=closes.dates, symbols=closes.symbols, close=closes.close, open=closes.close.copy())
    failing = 150

    class FailsAtAnOpen(Handler):
        name = "fails_at_an_open"
        subscribes = (BarOpenEvent,)

        def on_bar_open(self, event: BarOpenEvent) -> None:
            if event.bar == failing:
                raise ZeroDivisionError("the user's bug")

        def quiet_until(self, bar: int) -> int:
            return failing if bar <= failing else NEVER

        def on_quiet_bars(self, bars: QuietBars) -> None:
            return None

    lasts = []
    for blocks in (True, False):
        config = rotation_config().with_overrides(["execution.timing=next_open"])
        sim = eventbt.Simulation(config, prices=prices, audit=False, extra_handlers=[FailsAtAnOpen()])
        sim.bus.blocks = blocks
        with pytest.raises(HandlerError):
            while sim.debugger.step_rebalance():
                pass
        last = sim.debugger.last
        assert isinstance(last, BarOpenEvent) and last.bar == failing
        if blocks:  # a block went before it
            block_last = sim.bus.last_in_block()
            assert block_last is not None and sim.bus.seq_of(block_last.id) < sim.bus.seq_of(last.id)
        lasts.append(last.id)
    assert lasts[0] == lasts[1]


def _audited_tiny(folder: Path) -> Path:
    """The tiny scenario with ``[audit] path = "log.jsonl"`` (the log of a run with no output folder)."""
    path = write_tiny(folder)
    path.write_text(path.read_text(encoding="utf-8") + '[audit]\npath = "log.jsonl"\n', encoding="utf-8")
    return path


def test_building_or_debugging_a_simulation_leaves_the_scenario_audit_log_as_it_was(tmp_path: Path) -> None:
    """Building a Simulation writes nothing (the file is opened when the run writes its first lines), and a debug
    session keeps its log in memory, so the earlier run's log at ``[audit] path`` stays byte for byte; a new
    ``[audit] path`` is not even created until a run writes it."""
    scenario = _audited_tiny(tmp_path)
    log = tmp_path / "log.jsonl"
    eventbt.Simulation.from_scenario(scenario)
    assert not log.exists()  # built, not run: no file
    first = eventbt.Simulation.from_scenario(scenario).run()
    assert first is not None and first.audit.path == log
    written = log.read_bytes()
    assert written.splitlines()[0].startswith(b'{"') and b'"record":"footer"' in written.splitlines()[-1]
    eventbt.Simulation.from_scenario(scenario)
    assert log.read_bytes() == written
    sim = eventbt.Simulation.from_scenario(scenario)
    sim.debugger.next(3)  # a session that stops part-way
    assert sim.audit.path is None and log.read_bytes() == written
    resumed = sim.run()  # run on to the end: the same run, its log in memory
    assert resumed is not None and resumed.digest == first.digest and log.read_bytes() == written
    # An audit_path given to the Simulation is what the user asked for: debugging keeps it.
    chosen = tmp_path / "chosen.jsonl"
    sim = eventbt.Simulation.from_scenario(scenario, audit_path=chosen)
    sim.debugger.next(3)
    assert sim.audit.path == chosen
    assert sim.run() is not None and eventbt.audit.read_audit(chosen)[-1]["digest"] == first.digest


def test_the_debugger_is_where_the_run_is_whoever_moved_it(tiny: Path) -> None:
    """The debugger's position comes from the bus: after sim.run() resumes a stepped run, the portfolio is titled
    with the last bar (2021-01-06, the tiny scenario's last) and event() is the run's last event, its final
    SnapshotEvent; a second Debugger on a run already at 2021-01-05 knows it (not "the start"), and refuses
    run_until a date already passed."""
    sim = eventbt.Simulation.from_scenario(tiny)
    debugger = sim.debugger
    debugger.run_until("2021-01-05")
    debugger.next(2)
    assert sim.run() is not None
    assert str(debugger.portfolio).splitlines()[0].startswith("portfolio after 2021-01-06T16:00:00")
    last = debugger.event()
    assert isinstance(last, SnapshotEvent) and last.id == max(sim.bus.events) and last.date.startswith("2021-01-06")

    sim = eventbt.Simulation.from_scenario(tiny)
    sim.debugger.run_until("2021-01-05")
    stepped = sim.debugger.next(2)
    other = Debugger(sim)
    assert other.last is stepped[-1].event
    assert str(other.portfolio).splitlines()[0].startswith("portfolio after 2021-01-05T16:00:00")
    with pytest.raises(DebuggerError, match="the run is already past 2021-01-04"):
        other.run_until("2021-01-04")


def test_reduced_at_fill_quotes_the_price_the_cash_check_used() -> None:
    """ema_next_open, 2012-06-08: AAPL order #501 wanted 560 and filled 553 with 46,522.81 cash. The sentence quoted
    the reference price 83.9600, at which 554 shares would fit (46,522.81 / 83.96 = 554.1). Worked by hand: the fill
    price is 83.959999 x 1.0005 (5 bps slippage) = 84.0020 and per_share commission 0.005 a share, so 553 cost
    553 x 84.0020 + 2.765 = 46,455.86 <= 46,522.81 and 554 cost 46,539.87 > it. The sentence now quotes those."""
    sim = eventbt.Simulation.from_scenario(SCENARIOS / "ema_next_open.toml", audit=False)
    sim.debugger.run_until("2012-06-08")
    sim.debugger.step_rebalance()
    (notice,) = [n for n in sim.debugger.why(501).notices if n.code == "reduced_at_fill"]
    reference = notice.details["price"]
    fill_price = reference * 1.0005
    assert round(fill_price, 4) == 84.0020
    assert 553 * fill_price + 553 * 0.005 <= notice.details["cash"] < 554 * fill_price + 554 * 0.005
    (row,) = [line for line in str(sim.debugger.why(501)).splitlines() if "reduced_at_fill" in line]
    assert row.endswith("wanted 560, filled 553: only 46,522.81 cash at the fill, at 84.0020 a share with slippage "
                        f"plus commission: 553 cost {553 * fill_price + 553 * 0.005:,.2f} (2.77 commission)")


def test_step_rebalance_part_way_through_finishes_the_rebalance_in_progress(tiny: Path) -> None:
    """After next(3) delivered bar 0's MarketEvent #1, SignalEvent #2 and notice #3 (the hand-worked listing of
    debug_fixtures), step_rebalance() went on to the next rebalance, delivering the rest of this one unseen; now it
    gives the rest of this one, notice #4 to snapshot #10, and the call after it the next rebalance (#14 to #22)."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    assert [r.event.id for r in debugger.next(3)] == [1, 2, 3]
    assert [r.event.id for r in debugger.step_rebalance()] == [4, 5, 6, 7, 8, 9, 10]
    assert [r.event.id for r in debugger.step_rebalance()] == list(range(14, 23))


@pytest.mark.parametrize(("scenario", "cut"), [
    ("ema_next_open.toml", 1), ("ema_next_open.toml", 6), ("ema_next_open.toml", 7), ("ema_next_open.toml", 11),
    ("order_types.toml", 1), ("order_types.toml", 12), ("order_types.toml", 13), ("order_types.toml", 25),
])
def test_step_rebalance_after_some_steps_gives_the_rest_of_the_same_rebalance(scenario: str, cut: int) -> None:
    """A rebalance stepped whole and one stepped `cut` events, then finished by step_rebalance(), are the same events:
    the second call gives the first's steps after the cut. The cuts fall on the rebalance's first bar, between its
    snapshot and the next bar (ema_next_open: 6, its orders waiting for the open; order_types: 12, its limit orders
    waiting for a later bar) and on that later bar."""
    whole = eventbt.Simulation.from_scenario(SCENARIOS / scenario, audit=False).debugger.step_rebalance()
    debugger = eventbt.Simulation.from_scenario(SCENARIOS / scenario, audit=False).debugger
    debugger.run_until(whole[0].event.date[:10])
    while debugger.upcoming is not None and debugger.upcoming.id < whole[0].event.id:  # the bar's open, if any
        debugger.step()
    assert [r.event.id for r in debugger.next(cut)] == [r.event.id for r in whole[:cut]]
    assert [r.event.id for r in debugger.step_rebalance()] == [r.event.id for r in whole[cut:]]


def test_next_until_and_step_rebalance_stop_at_a_breakpoint_as_continue_does(tiny: Path) -> None:
    """A breakpoint on BBB's fill (FillEvent #8, bar 0's second fill in the hand-worked listing) stops next(20),
    run_until() and step_rebalance() before it, with `hit` set, as continue_() does; the move's first event is
    delivered unchecked (the run may be stopped before it at that breakpoint), so step_rebalance() then finishes
    the rebalance: #8 to snapshot #10."""
    for move in ("next", "run_until", "step_rebalance"):
        debugger = eventbt.Simulation.from_scenario(tiny).debugger
        point = debugger.add_breakpoint("fill", "BBB")
        if move == "next":
            assert [r.event.id for r in debugger.next(20)] == [1, 2, 3, 4, 5, 6, 7]
        elif move == "run_until":
            stopped = debugger.run_until("2021-01-06")
            assert stopped is not None and stopped.id == 8
        else:
            assert [r.event.id for r in debugger.step_rebalance()] == [1, 2, 3, 4, 5, 6, 7]
        assert debugger.hit is point and debugger.upcoming is not None and debugger.upcoming.id == 8
        assert [r.event.id for r in debugger.step_rebalance()] == [8, 9, 10] and debugger.hit is None


def test_a_step_record_knows_who_published_its_event(tiny: Path) -> None:
    """to_dict() needed the publisher passed in; a debugger's record now carries it: bar 0's MarketEvent #1 comes
    from the data feed, its SignalEvent #2 from the strategy, as the bus recorded them."""
    sim = eventbt.Simulation.from_scenario(tiny)
    market, signal = sim.debugger.next(2)
    assert (market.publisher, signal.publisher) == ("data_feed", "strategy")
    assert signal.to_dict()["by"] == "strategy" == sim.bus.publisher[2]
    assert signal.to_dict("someone")["by"] == "someone"
