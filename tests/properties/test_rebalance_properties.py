"""Rebalance and run-level properties: cash limits, idempotent targets, no look-ahead, hash-seed independence."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from eventbt.costs import FixedBpsSlippage, PercentageCommission, PerShareCommission, ZeroCommission, ZeroSlippage
from eventbt.events import Side
from eventbt.portfolio import Portfolio
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.rebalance import generate_orders
from tests.properties.scripted import random_prices

ROOT = Path(__file__).resolve().parents[2]

COMMISSION_MODELS = st.one_of(
    st.just(ZeroCommission()),
    st.builds(PercentageCommission, rate=st.floats(0, 0.01), minimum=st.floats(0, 5)),
    st.builds(PerShareCommission, per_share=st.floats(0, 0.02), minimum=st.floats(0, 2)),
)
SLIPPAGE_MODELS = st.one_of(st.just(ZeroSlippage()), st.builds(FixedBpsSlippage, bps=st.floats(0, 50)))


@st.composite
def books(draw: st.DrawFn) -> dict[str, Any]:
    """A book and targets for one rebalance: 1-5 symbols, prices, whole-share positions, cash, weights."""
    n = draw(st.integers(1, 5))
    prices = np.array(draw(st.lists(st.floats(0.5, 2_000), min_size=n, max_size=n)))
    positions = np.array(draw(st.lists(st.integers(0, 5_000), min_size=n, max_size=n)), dtype=np.int64)
    raw = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    invested = draw(st.floats(0, 1))
    weights = raw / raw.sum() * invested if raw.sum() > 0 else raw
    return {"symbols": tuple(chr(ord("A") + j) for j in range(n)), "weights": weights, "positions": positions,
            "prices": prices, "cash": draw(st.floats(0, 1_000_000)), "commission": draw(COMMISSION_MODELS),
            "slippage": draw(SLIPPAGE_MODELS), "cash_buffer": draw(st.floats(0, 0.2))}


@given(books())
def test_rebalance_sells_first_and_never_buys_more_than_cash_allows(book: dict[str, Any]) -> None:
    """Orders are sells then buys, and the buys' expected cost is at most cash plus the sells' proceeds."""
    orders, _ = generate_orders(**book)
    sides = [order.side for order in orders]
    assert sides == sorted(sides, key=lambda side: side is Side.BUY)
    proceeds = math.fsum(o.expected for o in orders if o.side is Side.SELL)
    cost = -math.fsum(o.expected for o in orders if o.side is Side.BUY)
    assert cost <= book["cash"] + proceeds + 1e-9 * max(1.0, book["cash"] + proceeds)
    held = dict(zip(book["symbols"], book["positions"].tolist(), strict=True))
    assert all(o.quantity <= held[o.symbol] for o in orders if o.side is Side.SELL)


@given(books())
def test_with_zero_costs_the_same_targets_at_the_same_prices_trade_nothing_the_second_time(
        book: dict[str, Any]) -> None:
    """Applying the fills of one rebalance, then asking again with the same targets and prices, gives no order."""
    book = {**book, "commission": ZeroCommission(), "slippage": ZeroSlippage()}
    portfolio = Portfolio(book["symbols"], max(book["cash"], 1.0))
    portfolio.positions[:] = book["positions"]
    book["cash"] = portfolio.cash
    orders, _ = generate_orders(**book)
    for order in orders:
        portfolio.apply_fill(book["symbols"].index(order.symbol), int(order.side), order.quantity,
                             order.reference_price, 0.0)
    again, _ = generate_orders(**{**book, "positions": portfolio.positions.copy(), "cash": portfolio.cash})
    assert again == []


@given(st.integers(0, 2**32 - 1), st.integers(3, 20), st.sampled_from(["same_close", "next_open"]))
def test_perturbing_prices_after_bar_t_changes_no_event_up_to_t(seed: int, cut: int, timing: str) -> None:
    """Every audit record published at or before bar t's close is the same when later prices change."""
    rng = np.random.default_rng(seed)
    prices = random_prices(rng, bars=cut + 8, symbols=3, with_open=timing == "next_open", gaps=True)
    config = ScenarioConfig.from_dict({
        "data": {"path": "generated.csv"},
        "strategy": {"name": "ema_allocation", "params": {"fast_span": 2, "slow_span": 3, "top_n": 2}},
        "schedule": {"rebalance": "daily"},
        "execution": {"timing": timing, "commission": {"model": "percentage", "rate": 0.001},
                      "slippage": {"model": "fixed_bps", "bps": 5.0}},
    })

    def later_changed(array: np.ndarray | None) -> np.ndarray | None:
        if array is None:
            return None
        changed = array.copy()
        changed[cut + 1:] *= rng.uniform(0.5, 1.5, size=changed[cut + 1:].shape)
        return changed

    other = attrs.evolve(prices, close=later_changed(prices.close), open=later_changed(prices.open))
    cutoff = f"{np.datetime_as_string(prices.dates[cut], unit='D')}T16:00:00"

    def records(data: Any) -> list[dict[str, Any]]:
        result = Simulation(config, prices=data).run()
        assert result is not None
        return [r for r in result.audit.records() if r["record"] == "publish" and r["time"] <= cutoff]

    before = records(prices)
    assert any(r["type"] == "MarketEvent" and r["data"]["bar"] == cut for r in before)
    assert before == records(other)


DIGEST_SCRIPT = """
import numpy as np
from eventbt.simulation import Simulation
from tests.properties.scripted import random_prices, scripted_config
prices = random_prices(np.random.default_rng(11), bars=30, symbols=4, with_open=True, gaps=True)
targets = {bar: {"A": 0.3, "B": 0.2, "C": 0.1, "D": 0.35} for bar in range(0, 30, 3)}
config = scripted_config(targets, execution={"timing": "next_open", "commission": {"model": "per_share"},
                                             "slippage": {"model": "fixed_bps", "bps": 7.0}})
print(Simulation(config, prices=prices).run().digest)
"""


def test_a_generated_scenario_has_the_same_digest_under_different_hash_seeds() -> None:
    """Two subprocesses with PYTHONHASHSEED 1 and 999 print the same digest for one generated scenario."""
    digests = []
    for seed in ("1", "999"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], env=env, cwd=ROOT, capture_output=True,
                              text=True, check=True)
        digests.append(done.stdout.strip())
    assert len(digests[0]) == 64 and digests[0] == digests[1]
