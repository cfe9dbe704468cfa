"""Accounting invariants over generated scenarios: random prices, targets, cost models, schedules, timings."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from eventbt.events import FillEvent, OrderEvent, Side
from eventbt.handler import Handler
from eventbt.simulation import Simulation
from tests.properties.scripted import random_prices, scripted_config

COMMISSIONS = st.one_of(
    st.just({"model": "zero"}),
    st.builds(lambda rate, minimum: {"model": "percentage", "rate": rate, "minimum": minimum},
              st.floats(0, 0.01), st.floats(0, 5)),
    st.builds(lambda amount: {"model": "fixed", "amount": amount}, st.floats(0, 20)),
    st.builds(lambda per_share, minimum: {"model": "per_share", "per_share": per_share, "minimum": minimum,
                                          "max_pct": 0.01}, st.floats(0, 0.02), st.floats(0, 2)),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Any, Any]:
    """A small scenario (config, prices): 2-25 bars, 1-4 symbols, scripted targets on random bars."""
    bars = draw(st.integers(2, 25))
    symbols = draw(st.integers(1, 4))
    timing = draw(st.sampled_from(["same_close", "next_open"]))
    prices = random_prices(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), bars=bars, symbols=symbols,
                           with_open=timing == "next_open", gaps=draw(st.booleans()))
    rebalance_bars = draw(st.sets(st.integers(0, bars - 1), min_size=1, max_size=bars))
    targets = {}
    for bar in sorted(rebalance_bars):
        raw = draw(st.lists(st.floats(0, 1), min_size=symbols, max_size=symbols))
        invested = draw(st.floats(0, 1))
        total = sum(raw)
        targets[bar] = {chr(ord("A") + j): (w / total * invested if total > 0 else 0.0)
                        for j, w in enumerate(raw)}
    config = scripted_config(
        targets,
        portfolio={"initial_cash": draw(st.floats(1_000, 10_000_000))},
        rebalance={"cash_buffer": draw(st.floats(0, 0.2)), "min_trade_value": draw(st.floats(0, 500))},
        execution={"timing": timing, "commission": draw(COMMISSIONS),
                   "slippage": {"model": "fixed_bps", "bps": draw(st.floats(0, 50))}},
    )
    return config, prices


class BookWatcher(Handler):
    """Runs after the portfolio handler: records the book before and after every fill, and every order."""

    name = "book_watcher"
    subscribes = (FillEvent, OrderEvent)

    def __init__(self) -> None:
        self.fills: list[tuple[FillEvent, float, int, float, int]] = []  # fill, cash/held before, after
        self.orders: list[OrderEvent] = []
        self._cash: float | None = None
        self._held: dict[str, int] = {}

    def on_order(self, event: OrderEvent) -> None:
        self.orders.append(event)

    def on_fill(self, event: FillEvent) -> None:
        portfolio = self.context.portfolio
        before_cash = portfolio.initial_cash if self._cash is None else self._cash
        before_held = self._held.get(event.symbol, 0)
        after_cash, after_held = portfolio.cash, portfolio.position(event.symbol)
        self.fills.append((event, before_cash, before_held, after_cash, after_held))
        self._cash = after_cash
        self._held[event.symbol] = after_held


def _run(config: Any, prices: Any) -> tuple[Simulation, BookWatcher]:
    watcher = BookWatcher()
    simulation = Simulation(config, prices=prices, extra_handlers=[watcher])
    assert simulation.run() is not None
    return simulation, watcher


@given(scenarios())
def test_cash_never_negative_and_each_fill_moves_cash_plus_position_by_minus_commission(
        scenario: tuple[Any, Any]) -> None:
    """After every fill cash >= 0, and cash + held * fill price changes by exactly -commission (1e-9 rel)."""
    simulation, watcher = _run(*scenario)
    for fill, cash_before, held_before, cash_after, held_after in watcher.fills:
        assert cash_after >= -1e-6
        assert held_after == held_before + int(fill.side) * fill.quantity
        before = cash_before + held_before * fill.price
        after = cash_after + held_after * fill.price
        scale = max(abs(cash_before), abs(held_before * fill.price), abs(cash_after), 1.0)
        assert abs((after - before) - (-fill.commission)) <= 1e-9 * scale
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
