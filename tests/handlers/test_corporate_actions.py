"""The corporate-action rules piece by piece: entitlements, and the history a strategy sees (no look-ahead)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from eventbt.prices import CorporateAction, PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.corporate_actions import dividend_amounts, split_shares

RECORDER = "tests.handlers.actions_fixtures:Recorder"
DATES = np.array([np.datetime64("2024-01-01") + np.timedelta64(day, "D") for day in range(8)], dtype="datetime64[ns]")


@pytest.mark.parametrize(("shares", "ratio", "whole", "fraction"), [
    (101, 1.5, 151, 0.5),        # 3-for-2: 151.5 new shares
    (180, 7.0, 1260, 0.0),       # AAPL 2014
    (106, 0.1, 10, 0.6),         # 1-for-10 reverse split: 10.6
    (30, 0.1, 3, 0.0),           # 30 x 0.1 is exactly 3 (the float product is 3.0000000000000004)
    (3, 0.5, 1, 0.5),            # 1-for-2
    (-101, 1.5, -151, -0.5),     # a short position rounds towards zero too
    (0, 7.0, 0, 0.0),
])
def test_split_shares_are_whole_shares_and_a_fraction(shares: int, ratio: float, whole: int, fraction: float) -> None:
    """shares x ratio, worked by hand, split into whole shares (towards zero) and the fraction left over."""
    assert split_shares(shares, ratio) == (whole, pytest.approx(fraction, abs=1e-12))


@pytest.mark.parametrize(("shares", "amount", "rate", "expected"), [
    (151, 0.5, 0.3, (75.5, 22.65, 52.85)),     # 151 x 0.50 = 75.50; 30% = 22.65; 75.50 - 22.65 = 52.85
    (1260, 0.47, 0.0, (592.2, 0.0, 592.2)),     # 1,260 x 0.47, nothing withheld
    (-100, 1.0, 0.3, (-100.0, 0.0, -100.0)),    # a short position pays the dividend; no tax on a payment
])
def test_dividend_amounts_are_gross_tax_and_net(shares: int, amount: float, rate: float,
                                                expected: tuple[float, float, float]) -> None:
    """gross = shares x amount per share, tax = gross x rate on dividends received, net = gross - tax."""
    assert dividend_amounts(shares, amount, rate) == pytest.approx(expected, abs=1e-9)


def _prices(close: list[list[float]], actions: tuple[CorporateAction, ...], volume: float = 1000.0) -> PriceData:
    array = np.array(close, dtype=float)
    return PriceData(dates=DATES[: len(array)], symbols=("A", "B"), close=array, volume=np.full(array.shape, volume),
                     actions=actions)


def _action(bar: int, symbol: str, kind: str, value: float) -> CorporateAction:
    return CorporateAction(date=str(DATES[bar])[:10], symbol=symbol, kind=kind, value=value)


def _recorded(prices: PriceData, *, strategy: dict[str, Any] | None = None, **data: Any) -> Any:
    raw = {"data": {"path": "unused.csv", "corporate_actions": "columns", **data},
           "strategy": {"name": RECORDER, **(strategy or {})}, "schedule": {"rebalance": "daily"}}
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices)
    simulation.run()
    return simulation.strategy.generator


CLOSE = [[10, 100], [11, 101], [12, 102], [6.5, 103], [7, 104], [7.5, 100], [8, 101], [8.5, 102]]
SPLIT_AT = 3


def test_the_history_is_split_continuous_from_the_split_on() -> None:
    """Before the split the history is raw; from its ex-date on, the rows before it are / 2 (volumes x 2)."""
    generator = _recorded(_prices(CLOSE, (_action(SPLIT_AT, "A", "split", 2.0),)))
    raw = np.array(CLOSE)
    np.testing.assert_array_equal(generator.closes[SPLIT_AT - 1], raw[:SPLIT_AT])
    seen = generator.closes[SPLIT_AT + 1]
    np.testing.assert_array_equal(seen[:SPLIT_AT, 0], raw[:SPLIT_AT, 0] / 2)
    np.testing.assert_array_equal(seen[SPLIT_AT:, 0], raw[SPLIT_AT : SPLIT_AT + 2, 0])
    np.testing.assert_array_equal(seen[:, 1], raw[: SPLIT_AT + 2, 1])  # B untouched
    np.testing.assert_array_equal(generator.volumes[SPLIT_AT + 1][:SPLIT_AT, 0], [2000.0] * SPLIT_AT)
    # adjust() came once, at the split's bar before its update (the last bar seen was the one before).
    assert generator.factors == [(SPLIT_AT - 1, [0.5, 1.0])]


def test_the_rescaled_history_has_no_look_ahead() -> None:
    """Changing every price and action after bar 4 changes nothing the strategy saw up to bar 4."""
    first = _recorded(_prices(CLOSE, (_action(SPLIT_AT, "A", "split", 2.0),)))
    later = [row if bar <= 4 else [row[0] * 3, row[1] / 2] for bar, row in enumerate(CLOSE)]
    second = _recorded(_prices(later, (_action(SPLIT_AT, "A", "split", 2.0), _action(6, "B", "split", 0.5),
                                       _action(5, "A", "dividend", 0.2))), strategy={"prices": "total_return"})
    for bar in range(5):
        np.testing.assert_array_equal(first.closes[bar], second.closes[bar])
    assert not np.array_equal(first.closes[7], second.closes[7])


def test_total_return_prices_scale_the_history_at_a_dividend() -> None:
    """With prices = "total_return", a dividend of 0.70 on B after a close of 104 scales B's past by 1 - 0.7/104."""
    generator = _recorded(_prices(CLOSE, (_action(5, "B", "dividend", 0.7),)), strategy={"prices": "total_return"})
    factor = 1 - 0.7 / 104
    np.testing.assert_allclose(generator.closes[5][:5, 1], np.array(CLOSE)[:5, 1] * factor, rtol=1e-15)
    assert generator.closes[5][5, 1] == 100  # the ex-date's own close is as quoted
    split_only = _recorded(_prices(CLOSE, (_action(5, "B", "dividend", 0.7),)))
    np.testing.assert_array_equal(split_only.closes[5][:, 1], np.array(CLOSE)[:6, 1])  # default: not adjusted


def test_a_generator_without_adjust_still_sees_the_adjusted_history() -> None:
    """adjust() is optional: without it the history the view shows is rescaled all the same."""
    generator = _recorded(_prices(CLOSE, (_action(SPLIT_AT, "A", "split", 2.0),)), strategy={
        "params": {"adjusts": False}})
    assert generator.closes[SPLIT_AT][0, 0] == 5.0


def test_ema_allocation_continues_its_emas_on_the_split_adjusted_series() -> None:
    """After a split the EMAs equal pandas' ewm(adjust=False) over the series adjusted back from the split."""
    rng = np.random.default_rng(7)
    close = np.exp(np.cumsum(rng.normal(0, 0.02, size=(40, 2)), axis=0)) * 100
    close[20:, 0] /= 4  # a 4-for-1 split at bar 20
    prices = PriceData(dates=np.arange(40).astype("datetime64[D]").astype("datetime64[ns]"), symbols=("A", "B"),
                       close=close, actions=(CorporateAction(date="1970-01-21", symbol="A", kind="split", value=4.0),))
    raw = {"data": {"path": "unused.csv", "corporate_actions": "columns"},
           "strategy": {"name": "ema_allocation", "params": {"fast_span": 3, "slow_span": 8, "top_n": 1}},
           "schedule": {"rebalance": "monthly"}}
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices)
    simulation.run()
    adjusted = close.copy()
    adjusted[:20, 0] /= 4
    frame = pd.DataFrame(adjusted)
    fast = frame.ewm(span=3, adjust=False).mean().to_numpy()[-1]
    slow = frame.ewm(span=8, adjust=False).mean().to_numpy()[-1]
    emas = simulation.strategy.generator._emas.value
    np.testing.assert_allclose(emas[0], fast, rtol=1e-12)
    np.testing.assert_allclose(emas[1], slow, rtol=1e-12)
