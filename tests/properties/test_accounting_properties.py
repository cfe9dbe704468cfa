"""Accounting invariants over generated scenarios: random prices, targets, cost models, schedules, timings."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eventbt.events import Side
from eventbt.simulation import Simulation
from tests.properties.books import BookWatcher, check_fill_identity, draw_costs, draw_market, run_watched
from tests.properties.scripted import scripted_config


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Any, Any]:
    """A small scenario (config, prices): 2-25 bars, 1-4 symbols, scripted targets on random bars."""
    bars, symbols, timing, prices = draw_market(draw)
    rebalance_bars = draw(st.sets(st.integers(0, bars - 1), min_size=1, max_size=bars))
    targets = {}
    for bar in sorted(rebalance_bars):
        raw = draw(st.lists(st.floats(0, 1), min_size=symbols, max_size=symbols))
        invested = draw(st.floats(0, 1))
        total = sum(raw)
        targets[bar] = {chr(ord("A") + j): (w / total * invested if total > 0 else 0.0)
                        for j, w in enumerate(raw)}
    config = scripted_config(targets, portfolio={"initial_cash": draw(st.floats(1_000, 10_000_000))},
                             **draw_costs(draw, timing))
    return config, prices


def _run(config: Any, prices: Any) -> tuple[Simulation, BookWatcher]:
    return run_watched(config, prices, BookWatcher())


@given(scenarios())
def test_cash_never_negative_and_each_fill_moves_cash_plus_position_by_minus_commission(
        scenario: tuple[Any, Any]) -> None:
    """After every fill cash >= 0, and cash + held * fill price changes by exactly -commission (1e-9 rel)."""
    simulation, watcher = _run(*scenario)
    check_fill_identity(watcher)
    assert all(cash_after >= -1e-6 for _, _, _, cash_after, _ in watcher.fills)
    assert all(cash >= -1e-6 for cash in simulation.history.cash)


@given(scenarios())
def test_final_value_is_initial_cash_plus_realized_plus_unrealized_minus_buy_commissions(
        scenario: tuple[Any, Any]) -> None:
    """Final value = initial cash + realized + unrealized P&L - commissions on buys (sells' are in realized)."""
    simulation, watcher = _run(*scenario)
    portfolio = simulation.portfolio
    buy_commissions = sum(f.commission for f, *_ in watcher.fills if f.side is Side.BUY)
    expected = (portfolio.initial_cash + float(portfolio.realized_pnl.sum()) + portfolio.unrealized_pnl()
                - buy_commissions)
    final = simulation.history.total_value[-1]
    assert abs(final - expected) <= 1e-9 * max(abs(final), portfolio.initial_cash)


@given(scenarios())
def test_orders_of_each_rebalance_are_sells_then_buys(scenario: tuple[Any, Any]) -> None:
    """Within the orders caused by one signal, no sell comes after a buy."""
    _, watcher = _run(*scenario)
    by_signal: dict[int | None, list[Side]] = {}
    for order in watcher.orders:
        by_signal.setdefault(order.cause_id, []).append(order.side)
    for sides in by_signal.values():
        assert sides == sorted(sides, key=lambda side: side is Side.BUY)
