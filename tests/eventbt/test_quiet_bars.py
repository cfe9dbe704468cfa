"""Quiet bars taken as blocks (eventbt/quiet.py) against the same runs delivered event by event.

The reference is the engine itself with blocks out of the way: ``Simulation.run(stop=...)`` never offers a block
(a ``stop`` must see every event), so a run with a ``stop`` that never stops delivers every event one by one,
as before blocks existed and as the debugger does. Everything a user can observe must be equal: the audit log
line for line, the digest, the results, the events the bus keeps, the error of a failing run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from eventbt.bench.workloads import gbm_prices, rotation_config
from eventbt.errors import HandlerError
from eventbt.events import BarEndEvent, Event, MarketEvent, SnapshotEvent
from eventbt.handler import Context, Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import PriceData
from eventbt.quiet import BLOCK_EVENTS, QuietBars
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.strategy import StrategyHandler
from tests.eventbt.debug_fixtures import FailingGenerator, record_blocks
from tests.eventbt.doc_code import DOCS, doc_module

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _never(event: Event) -> bool:
    return False


def _run(make: Any, *, blocks: bool) -> tuple[Simulation, list[QuietBars]]:
    """Build a simulation with ``make()`` and run it, with blocks or event by event; the blocks it took."""
    simulation = make()
    taken: list[QuietBars] = record_blocks(simulation)
    try:
        if blocks:
            assert simulation.run() is not None
        else:
            assert simulation.run(stop=_never) is not None
    except HandlerError as failure:  # the simulation and its blocks go with the error, for the failure tests
        failure.simulation, failure.taken = simulation, taken  # type: ignore[attr-defined]
        raise
    return simulation, taken


def _publishes(simulation: Simulation) -> list[dict[str, Any]]:
    return [record for record in simulation.audit.records() if record["record"] == "publish"]


def _fields(event: Event) -> dict[str, Any]:
    return {key: ((value.dtype.str, value.shape, value.tobytes()) if isinstance(value, np.ndarray) else value)
            for key, value in attrs.asdict(event, recurse=False).items()}


def _with_gaps() -> PriceData:
    """The generated closes with holes: a symbol that starts late and one missing for three weeks, so some
    quiet bars are not complete (their marks keep the last close)."""
    prices = gbm_prices(6, 300, seed=11)
    close = np.array(prices.close)
    close[:40, 2] = np.nan
    close[150:165, 4] = np.nan
    return PriceData(dates=prices.dates, symbols=prices.symbols, close=close)


def _with_fees(*handlers: dict[str, Any]) -> Simulation:
    """The rotation with fee handlers of handlers/fees.py ([[handlers]] entries)."""
    config = rotation_config().to_dict()
    config["handlers"] = list(handlers)
    return Simulation(ScenarioConfig.from_dict(config), prices=gbm_prices(12, 400, seed=3))


CASES = {
    "rotation": lambda: Simulation(rotation_config(), prices=gbm_prices(12, 400, seed=3)),
    "gaps": lambda: Simulation(rotation_config(), prices=_with_gaps()),
    "ema_rotation": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "ema_rotation.toml")),
    "quandl_actions": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "quandl_actions.toml")),
    # The same splits and dividends with same-close fills: blocks end before each action's bar.
    "quandl_actions_same_close": lambda: Simulation(ScenarioConfig.from_toml(
        SCENARIOS / "quandl_actions.toml", ["execution.timing=same_close"])),
    "ragged_weekly": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "ragged_weekly.toml")),
    "cash_flows": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "cash_flows.toml")),
    # The withdrawal funded by selling: the bars while its sales wait are not quiet.
    "cash_flows_sell": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "cash_flows.toml",
                                                                   ["portfolio.withdrawal=sell"])),
    "ema_next_open": lambda: Simulation(ScenarioConfig.from_toml(SCENARIOS / "ema_next_open.toml")),
    "fees_on_fills": lambda: _with_fees({"name": "stamp_duty"}, {"name": "us_regulatory_fees"}),
    "management_fee_monthly": lambda: _with_fees({"name": "management_fee",
                                                  "params": {"annual_rate": 0.01, "frequency": "monthly"}}),
    "management_fee_daily": lambda: _with_fees({"name": "management_fee", "params": {"annual_rate": 0.01}}),
    "cash_interest": lambda: _with_fees({"name": "cash_interest", "params": {"annual_rate": 0.02}}),
}
# Which take blocks: the bars between rebalances, corporate actions, [[events]] entries and fees due are quiet
# (next-open runs with a bar's open event in each block).
TAKES_BLOCKS = {"rotation": True, "gaps": True, "ema_rotation": True, "quandl_actions": True,
                "quandl_actions_same_close": True, "ragged_weekly": True, "cash_flows": True, "cash_flows_sell": True,
                "ema_next_open": True, "fees_on_fills": True, "management_fee_monthly": True,
                # these charge at every bar: none is quiet
                "management_fee_daily": False, "cash_interest": False}


@pytest.mark.parametrize("case", sorted(CASES))
def test_blocks_and_event_by_event_give_the_same_run(case: str) -> None:
    blocked, taken = _run(CASES[case], blocks=True)
    stepped, none = _run(CASES[case], blocks=False)
    assert none == []
    assert bool(taken) == TAKES_BLOCKS[case]
    assert blocked.audit.digest == stepped.audit.digest
    assert _publishes(blocked) == _publishes(stepped)
    assert blocked.bus.delivered == stepped.bus.delivered
    assert blocked.result().equity.equals(stepped.result().equity)
    assert blocked.result().trades.equals(stepped.result().trades)
    # The events the bus keeps (the debugger's, trace's, the explorer's): built on demand, field for field.
    assert list(blocked.bus.events) == list(stepped.bus.events)
    for event_id, event in stepped.bus.events.items():
        other = blocked.bus.events[event_id]
        assert type(other) is type(event)
        assert _fields(other) == _fields(event), event_id
        assert blocked.bus.publisher[event_id] == stepped.bus.publisher[event_id]
    # A quiet bar is one where, run event by event, nothing but the bar's own events happened.
    own = {"BarOpenEvent", "MarketEvent", "BarEndEvent", "SnapshotEvent"}
    busy = {record["data"]["bar"] for record in _publishes(stepped) if record["type"] not in own}
    in_blocks = [bar for block in taken for bar in range(block.start, block.stop)]
    assert len(in_blocks) == len(set(in_blocks)) and not busy & set(in_blocks)


def test_a_quiet_bars_events_are_built_once_and_trace_back() -> None:
    simulation, taken = _run(CASES["rotation"], blocks=True)
    block = taken[1]
    bar = block.start + 1
    # Same-close fills: three events a bar (market, bar end, snapshot), so the second bar's market event is the
    # block's fourth id and its snapshot two ids later; worked out here from that layout, not asked of the block.
    assert block.per_bar == 3
    market_id = block.first_id + 3
    market = simulation.bus.events[market_id]
    assert isinstance(market, MarketEvent) and market.bar == bar
    assert simulation.bus.events[market_id] is market  # built once, then kept
    assert market is block.market(bar)
    np.testing.assert_array_equal(market.close, simulation.prices.close[bar])
    snapshot = simulation.bus.events[market_id + 2]
    assert isinstance(snapshot, SnapshotEvent)
    # The history's row of that bar is the snapshot's.
    row = simulation.history.bars.index(bar)
    assert (snapshot.cash, snapshot.positions_value, snapshot.total_value) == (
        simulation.history.cash[row], simulation.history.positions_value[row], simulation.history.total_value[row])
    chain = simulation.bus.trace(snapshot.id)
    assert [type(event) for event in chain] == [SnapshotEvent, BarEndEvent]
    assert simulation.bus.publisher[snapshot.id] == "portfolio"
    assert simulation.bus.publisher[market_id] == "data_feed"


class _CountingStrategy(StrategyHandler):
    """A replacement that overrides ``on_market``: its parent's ``on_quiet_bars`` is not written for it."""

    def __init__(self, **arguments: Any) -> None:
        super().__init__(**arguments)
        self.bars = 0

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        self.bars += 1
        return super().on_market(event)


class _Watcher(Handler):
    name = "watcher"

    def __init__(self, subscribes: tuple[type[Event], ...]) -> None:
        self.subscribes = subscribes
        self.seen = 0

    def on_market(self, event: MarketEvent) -> None:
        self.seen += 1

    def on_fill(self, event: Event) -> None:
        self.seen += 1


def test_a_handler_that_cannot_take_a_block_sees_every_bar() -> None:
    prices = gbm_prices(8, 200, seed=5)
    simulation, taken = _run(lambda: Simulation(rotation_config(), prices=prices,
                                                stages={"strategy": _CountingStrategy}), blocks=True)
    assert taken == []
    assert simulation.pipeline.stage("strategy").bars == 200  # type: ignore[attr-defined]

    from eventbt.events import FillEvent

    market_watcher = _Watcher((MarketEvent,))
    simulation, taken = _run(lambda: Simulation(rotation_config(), prices=prices,
                                                extra_handlers=[market_watcher]), blocks=True)
    assert taken == [] and market_watcher.seen == 200
    fill_watcher = _Watcher((FillEvent,))
    simulation, taken = _run(lambda: Simulation(rotation_config(), prices=prices,
                                                extra_handlers=[fill_watcher]), blocks=True)
    assert taken and fill_watcher.seen == len(simulation.result().trades)


def _bar_of(event: Event) -> int:
    return int(getattr(event, "bar", -1))


@pytest.mark.parametrize("change", ["nothing", "add a handler", "blocks off"])
def test_the_blocks_follow_the_bus_as_it_is_wired_now(change: str) -> None:
    """Which handlers take a block is worked out once and kept while the bus is wired the same: a handler added
    during a run, or ``blocks`` turned off, changes it from the next block on (the rest of the run bar by bar).
    Left alone (the reference), the same run goes on offering blocks."""
    prices = gbm_prices(8, 200, seed=5)
    simulation = Simulation(rotation_config(), prices=prices)
    assert simulation.run(stop=lambda event: _bar_of(event) >= 100, quiet_bars=True) is None
    assert simulation.bus.delivered > 0
    next_bar = _bar_of(simulation.bus.pending()[0])  # blocks may run past bar 100: the stop does not see them
    assert 100 <= next_bar < 200
    watcher = _Watcher((MarketEvent,))
    if change == "add a handler":
        watcher.context = simulation.context
        simulation.bus.add(watcher)
    elif change == "blocks off":
        simulation.bus.blocks = False
    offered: list[object] = []
    feed = simulation.pipeline.feed
    pop_block = feed.pop_block
    feed.pop_block = lambda handlers: offered.append(handlers) or pop_block(handlers)  # type: ignore[method-assign]
    assert simulation.run() is not None
    if change == "nothing":
        assert offered  # blocks go on
        return
    assert offered == []  # no block offered for the rest of the run
    if change == "add a handler":
        assert watcher.seen == 200 - next_bar  # every bar from there on, one by one


@pytest.mark.parametrize("timing", ["same_close", "next_open"])
@pytest.mark.parametrize("offset", [0, 1, 10])
def test_a_generator_failing_inside_a_block_fails_as_event_by_event(offset: int, timing: str) -> None:
    """The generator fails at a block's first bar, its second, or further in (the bar after the seventh month
    end starts a block with same-close fills, the bar after that with next-open ones: rebalances are at month
    ends); with next-open fills the failing bar's open event is delivered before its market event."""
    from eventbt.schedule import rebalance_mask

    prices = gbm_prices(8, 260, seed=5)
    if timing == "next_open":
        prices = PriceData(dates=prices.dates, symbols=prices.symbols, close=prices.close,
                           open=np.array(prices.close) * 0.999)
    month_ends = np.flatnonzero(rebalance_mask(prices.dates, rebalance="monthly"))
    bar = int(month_ends[6]) + 1 + offset + (timing == "next_open")
    assert bar + 1 < month_ends[7]
    config = rotation_config().with_overrides([f"execution.timing={timing}"])

    def make() -> Simulation:
        simulation = Simulation(config, prices=prices)
        strategy = simulation.pipeline.stage("strategy")
        strategy.generator = FailingGenerator(strategy.generator, bar)  # type: ignore[attr-defined]
        return simulation

    outcomes = []
    for blocks in (True, False):
        with pytest.raises(HandlerError) as failure:
            _run(make, blocks=blocks)
        simulation = failure.value.simulation  # type: ignore[attr-defined]
        taken = failure.value.taken  # type: ignore[attr-defined]
        if blocks:  # the failing bar was inside a block (its first bar, with offset 0)
            assert any(block.start <= bar for block in taken)
            assert [block.start for block in taken if block.start <= bar][-1] == bar - offset
        # What the strategy's view holds after the failure, every row it reads (the close and the open).
        view = simulation.pipeline.stage("strategy").view  # type: ignore[attr-defined]
        rows = [view.history(name).tobytes() for name in ("close", "open")[: 1 + (prices.open is not None)]]
        outcomes.append((str(failure.value), _publishes(simulation), list(simulation.history.bars),
                         simulation.history.total_value, simulation.bus.delivered,
                         simulation.pipeline.book.marks.tolist(), rows))
    assert outcomes[0] == outcomes[1]
    day = str(prices.dates[bar])[:10]
    assert "while handling MarketEvent" in outcomes[0][0] and f"at {day}" in outcomes[0][0]
    assert outcomes[0][2][-1] == bar - 1  # the books were recorded up to the bar before the failure


def test_progress_reaches_the_last_bar() -> None:
    seen: list[int] = []
    simulation = Simulation(rotation_config(), prices=gbm_prices(5, 300, seed=2), progress=seen.append)
    simulation.run()
    assert seen[-1] == 299 and seen == sorted(seen)


def test_reserved_ids_are_consecutive_and_not_given_again() -> None:
    context = Context(symbols=("A",), dates=np.array([], dtype="datetime64[ns]"),
                      portfolio=Portfolio(("A",), 100.0))
    assert context.next_id() == 1
    assert context.reserve_ids(5) == 2  # 2..6
    assert context.next_id() == 7
    assert context.reserve_ids(1) == 8
    assert context.next_id() == 9


def _block(times: list[int], values: list[float], *, with_open: bool = False) -> QuietBars:
    close = np.arange(len(times) * 2, dtype=float).reshape(len(times), 2) + 1.0
    close.setflags(write=False)

    def market(bar: int, event_id: int) -> MarketEvent:
        return MarketEvent(id=event_id, time_ns=times[bar - 7], bar=bar, symbols=("A", "B"), close=close[bar - 7],
                           complete=True)

    opens = [time - 6 * HOUR - HOUR // 2 for time in times] if with_open else None
    block = QuietBars(start=7, stop=7 + len(times), first_id=40, time_ns=times, close=close,
                      fields={"open": close - 0.5} if with_open else {}, complete=[True] * len(times),
                      symbols=("A", "B"), market=market, open_ns=opens)
    block.first_seq = 55
    block.snapshot_by = 'book "100%"'
    block.set_snapshots(0.1 + 0.2, values, [0.1 + 0.2 + value for value in values])
    return block


DAY = 86_400_000_000_000
HOUR = 3_600_000_000_000


@pytest.mark.parametrize("with_open", [False, True])
@pytest.mark.parametrize("times", [
    [10_957 * DAY + 16 * HOUR + k * DAY for k in range(4)],  # closes at 16:00: the dates at once
    [10_957 * DAY + 7 * HOUR, 10_958 * DAY + 16 * HOUR, 10_959 * DAY + 9 * HOUR + 1_500_000_000,
     -400 * DAY + 16 * HOUR],
])
def test_a_blocks_lines_are_its_events_lines(times: list[int], with_open: bool) -> None:
    """The audit lines of a block, rendered from its arrays, against the lines of its events one by one (the
    event templates, themselves checked against orjson in test_audit.py); names with quotes and % signs."""
    from eventbt.audit import AuditLog

    values = [1e16, 0.0, 123456.789, 5e-324][: len(times)]
    block = _block(times, values, with_open=with_open)
    to = (("execution%s",), ("portfolio", "50% off"), ('say "hi"',), ())  # BarOpen, Market, BarEnd, Snapshot
    by = "feed%d"
    whole, one_by_one = AuditLog(), AuditLog()
    whole.quiet_bars(block, by, to)
    kinds = [BLOCK_EVENTS.index(kind) for kind in block.kinds]
    for k, seq in enumerate(range(block.first_seq, block.first_seq + block.count)):
        event = block.event(seq)
        assert type(event) is block.kinds[k % block.per_bar]
        last = k % block.per_bar == block.per_bar - 1
        one_by_one.published(seq, event, block.snapshot_by if last else by, to[kinds[k % block.per_bar]])
    assert whole.lines() == one_by_one.lines()
    assert len(whole.lines()) == (4 if with_open else 3) * len(times) and whole.count == one_by_one.count


# docs/cost-models.md's tutorial fee handler, with its optional quiet-bar methods, run as the page writes it.
TicketFee: Any = doc_module(DOCS / "cost-models.md", "my_fees.py")["TicketFee"]


def test_a_users_handler_with_the_quiet_methods_keeps_the_blocks_and_the_numbers() -> None:
    """A fee handler of the user's that says when it is quiet lets quiet bars go by as blocks; its fees, charged
    at the bar after each rebalance, are those of the run event by event (2.00 a fill)."""
    prices = gbm_prices(8, 300, seed=4)
    blocked, taken = _run(lambda: Simulation(rotation_config(), prices=prices, extra_handlers=[TicketFee()]),
                          blocks=True)
    stepped, _ = _run(lambda: Simulation(rotation_config(), prices=prices, extra_handlers=[TicketFee()]),
                      blocks=False)
    assert taken
    assert blocked.audit.digest == stepped.audit.digest
    # Every fill is charged, at the next bar's market event or, for the last bar's, when the data ends.
    fills = len(blocked.history.trades)
    assert fills > 0 and blocked.history.fees == {"ticket_fee": 2.0 * fills} == stepped.history.fees


class _Interrupting(TicketFee):
    """Ctrl-C arriving while this handler takes its third block (after the portfolio has taken it)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = 0

    def on_quiet_bars(self, bars: QuietBars) -> None:
        self.blocks += 1
        if self.blocks == 3:
            raise KeyboardInterrupt


def test_an_interruption_inside_a_block_leaves_the_books_and_the_log_agreeing() -> None:
    """The block is in the audit log as soon as the portfolio has recorded its bars, so the results of an
    interrupted run (built from the book's history) and its log hold the same bars."""
    simulation = Simulation(rotation_config(), prices=gbm_prices(8, 300, seed=4), extra_handlers=[_Interrupting()])
    with pytest.raises(KeyboardInterrupt):
        simulation.run()
    snapshots = [record["data"]["bar"] for record in _publishes(simulation) if record["type"] == "SnapshotEvent"]
    assert snapshots == simulation.history.bars and len(snapshots) > 40
