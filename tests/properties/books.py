"""What the accounting property suites share: the market and costs they draw, the watcher that records the book
around every fill, and the identity every fill must keep (cash + q * fill price moves by -commission)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from eventbt.events import FillEvent, OrderEvent
from eventbt.handler import Handler
from eventbt.prices import PriceData
from eventbt.simulation import Simulation
from tests.properties.scripted import random_prices

COMMISSIONS = st.one_of(
    st.just({"model": "zero"}),
    st.builds(lambda rate, minimum: {"model": "percentage", "rate": rate, "minimum": minimum},
              st.floats(0, 0.01), st.floats(0, 5)),
    st.builds(lambda amount: {"model": "fixed", "amount": amount}, st.floats(0, 20)),
    st.builds(lambda per_share, minimum: {"model": "per_share", "per_share": per_share, "minimum": minimum,
                                          "max_pct": 0.01}, st.floats(0, 0.02), st.floats(0, 2)),
)


def draw_market(draw: st.DrawFn) -> tuple[int, int, str, PriceData]:
    """``(bars, symbols, timing, prices)``: 2-25 bars of 1-4 symbols (opens for next-open fills, gaps or not)."""
    bars = draw(st.integers(2, 25))
    symbols = draw(st.integers(1, 4))
    timing = draw(st.sampled_from(["same_close", "next_open"]))
    prices = random_prices(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), bars=bars, symbols=symbols,
                           with_open=timing == "next_open", gaps=draw(st.booleans()))
    return bars, symbols, timing, prices


def draw_costs(draw: st.DrawFn, timing: str) -> dict[str, Any]:
    """The ``rebalance`` and ``execution`` tables: a cash buffer, a minimum trade, a commission model and
    fixed-bps slippage."""
    return {"rebalance": {"cash_buffer": draw(st.floats(0, 0.2)), "min_trade_value": draw(st.floats(0, 500))},
            "execution": {"timing": timing, "commission": draw(COMMISSIONS),
                          "slippage": {"model": "fixed_bps", "bps": draw(st.floats(0, 50))}}}


class BookWatcher(Handler):
    """Runs after the portfolio handler: records the book before and after every fill, and every order."""

    name = "book_watcher"
    subscribes: tuple[type, ...] = (FillEvent, OrderEvent)

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


def run_watched(config: Any, prices: Any, watcher: BookWatcher) -> tuple[Simulation, BookWatcher]:
    """Run ``config`` on ``prices`` to the end with ``watcher`` after the pipeline."""
    simulation = Simulation(config, prices=prices, extra_handlers=[watcher])
    assert simulation.run() is not None
    return simulation, watcher


def check_fill_identity(watcher: BookWatcher) -> None:
    """Each fill moves the position by its signed quantity and cash + q * fill price by exactly -commission
    (1e-9 relative to the amounts involved)."""
    for fill, cash_before, held_before, cash_after, held_after in watcher.fills:
        assert held_after == held_before + int(fill.side) * fill.quantity
        before = cash_before + held_before * fill.price
        after = cash_after + held_after * fill.price
        scale = max(abs(cash_before), abs(held_before * fill.price), abs(cash_after), 1.0)
        assert abs((after - before) - (-fill.commission)) <= 1e-9 * scale
