"""Accounting invariants of a margin account over generated scenarios: random prices, signed targets within a
gross limit, costs, timings, financing, borrow and margin rules (docs/long-short.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from eventbt.events import FeeEvent, FillEvent, OrderEvent
from eventbt.prices import PriceData
from eventbt.replays.books import rebuild_books
from eventbt.replays.margin_books import MarginChecks, built_in_models
from eventbt.simulation import Simulation
from tests.properties.books import BookWatcher, check_fill_identity, draw_costs, draw_market, run_watched
from tests.properties.scripted import scripted_config


@st.composite
def margin_scenarios(draw: st.DrawFn) -> tuple[Any, Any]:
    """A small margin account: 2-25 bars, 1-4 symbols, signed scripted targets of gross up to max_gross."""
    bars, symbols, timing, prices = draw_market(draw)
    max_gross = draw(st.floats(1.0, 3.0))
    targets = {}
    for bar in sorted(draw(st.sets(st.integers(0, bars - 1), min_size=1, max_size=bars))):
        raw = draw(st.lists(st.floats(-1, 1), min_size=symbols, max_size=symbols))
        gross = math.fsum(abs(w) for w in raw)
        wanted = draw(st.floats(0, max_gross))
        targets[bar] = {chr(ord("A") + j): (w / gross * wanted if gross > 0 else 0.0) for j, w in enumerate(raw)}
    portfolio: dict[str, Any] = {"initial_cash": draw(st.floats(1_000, 10_000_000)), "allow_short": True,
                                 "max_gross": max_gross, "financing_rate": draw(st.floats(0, 0.1)),
                                 "borrow_rate": draw(st.floats(0, 0.5))}
    if draw(st.booleans()):
        portfolio["maintenance_margin"] = draw(st.floats(0.05, 0.95)) / max_gross
    config = scripted_config(targets, portfolio=portfolio, **draw_costs(draw, timing))
    return config, prices


class MarginWatcher(BookWatcher):
    """The accounting tests' book watcher, which also follows the cash a fee moves between two fills."""

    name = "margin_watcher"
    subscribes = (FillEvent, OrderEvent, FeeEvent)

    def on_fee(self, event: FeeEvent) -> None:
        self._cash = self.context.portfolio.cash


def _run(config: Any, prices: Any) -> tuple[Simulation, BookWatcher]:
    return run_watched(config, prices, MarginWatcher())


@given(margin_scenarios())
def test_each_fill_moves_cash_plus_position_by_minus_commission(scenario: tuple[Any, Any]) -> None:
    """Longs, shorts, covers and crossings alike: cash + q * fill price changes by exactly -commission."""
    _, watcher = _run(*scenario)
    check_fill_identity(watcher)


@given(margin_scenarios())
def test_final_value_is_initial_cash_plus_pnl_less_opening_commissions_and_fees(scenario: tuple[Any, Any]) -> None:
    """Final value = initial cash + realized + unrealized P&L - the commissions of fills that only opened or added
    to a position (a closing fill's are in its realized P&L) - the fees paid."""
    simulation, watcher = _run(*scenario)
    portfolio = simulation.portfolio
    opening = math.fsum(f.commission for f, _, held, *_ in watcher.fills if held == 0 or (held > 0) == (f.side > 0))
    fees = math.fsum(simulation.history.fees.values())
    expected = (portfolio.initial_cash + math.fsum(portfolio.realized_pnl.tolist()) + portfolio.unrealized_pnl()
                - opening - fees)
    final = simulation.history.total_value[-1]
    scale = max(abs(final), portfolio.initial_cash, math.fsum(abs(f.quantity * f.price) for f, *_ in watcher.fills))
    assert abs(final - expected) <= 1e-9 * scale


def _crash() -> tuple[Any, Any]:
    """A book that is called: 2.5x long A and 0.3x short B on 10,000 at 10.00; A falls to 7.60 on the third
    bar, where equity 10,000 + 2,500 x (7.6 - 10) = 4,000 is 21% of the gross 19,000 (below 25%)."""
    dates = np.array(["2024-01-05", "2024-01-08", "2024-01-10", "2024-01-11"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A", "B"), close=np.array([[10, 10], [10, 10], [7.6, 10], [7.6, 10]],
                                                                         dtype=float))
    config = scripted_config({0: {"A": 2.5, "B": -0.3}}, portfolio={
        "initial_cash": 10_000.0, "allow_short": True, "max_gross": 2.8, "financing_rate": 0.05,
        "borrow_rate": 0.01, "maintenance_margin": 0.25})
    return config, prices


def _books_agree(config: Any, prices: Any) -> Simulation:
    """Run, rebuild verify's books from the log, check them against the run bar by bar; the simulation."""
    simulation, _ = _run(config, prices)
    records = list(simulation.audit.records())
    books = rebuild_books(records, prices=prices, initial_cash=config.portfolio.initial_cash,
                          next_open=config.execution.timing == "next_open",
                          margin=MarginChecks(config.portfolio, prices, built_in_models(config.execution)))
    history = simulation.history
    assert books.bars == history.bars
    for rebuilt, booked in zip(books.total_value, history.total_value, strict=True):
        assert abs(rebuilt - booked) <= 1e-9 * max(abs(booked), config.portfolio.initial_cash)
    assert books.margin_calls == len(history.margin_calls)
    return simulation


@given(margin_scenarios())
def test_the_books_rebuilt_from_the_log_agree(scenario: tuple[Any, Any]) -> None:
    """verify's books (signed fills, every financing and borrow fee, every margin call and its orders, recomputed)
    raise nothing and end at the run's values, bar by bar."""
    _books_agree(*scenario)


def test_the_books_rebuilt_from_the_log_agree_through_a_margin_call() -> None:
    """The generated scenarios seldom reach a margin call; this one does (see _crash), and the books agree."""
    simulation = _books_agree(*_crash())
    assert len(simulation.history.margin_calls) == 1
