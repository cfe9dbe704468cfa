"""The engine against the plain reference implementation on the real 20-stock data, trade for trade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.scenario import ScenarioConfig
from tests.scenarios.reference_backtest import reference_backtest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _reference_for(config: ScenarioConfig, prices: eventbt.PriceData):  # type: ignore[no-untyped-def]
    schedule = config.schedule
    schedule_spec = ({"rebalance": schedule.rebalance} if schedule.rebalance else
                     {"every_n_bars": schedule.every_n_bars} if schedule.every_n_bars else
                     {"dates": list(schedule.dates or ())})
    return reference_backtest(
        prices.to_frame("close"),
        open_=prices.to_frame("open") if prices.open is not None else None,
        initial_cash=config.portfolio.initial_cash,
        strategy={"name": config.strategy.name, **config.strategy.params},
        schedule=schedule_spec,
        cash_buffer=config.rebalance.cash_buffer,
        min_trade_value=config.rebalance.min_trade_value,
        timing=config.execution.timing,
        commission=dict(config.execution.commission),
        slippage=dict(config.execution.slippage),
    )


def _compare(config: ScenarioConfig) -> None:
    simulation = eventbt.Simulation(config)
    result = simulation.run()
    assert result is not None
    expected = _reference_for(config, simulation.prices)

    engine = result.trades
    reference = expected.trades.reset_index(drop=True)
    assert len(engine) == len(reference)
    assert engine["symbol"].tolist() == reference["symbol"].tolist()
    assert engine["side"].tolist() == reference["side"].tolist()
    assert engine["quantity"].tolist() == reference["quantity"].astype(int).tolist()
    assert pd.DatetimeIndex(engine["date"]).equals(pd.DatetimeIndex(reference["date"]))
    for column in ("price", "commission", "slippage", "realized_pnl"):
        np.testing.assert_allclose(engine[column].to_numpy(), reference[column].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-9, err_msg=column)
    values = result.equity["total_value"]
    assert values.index.equals(expected.values.index)
    np.testing.assert_allclose(values.to_numpy(), expected.values.to_numpy(dtype=float), rtol=1e-6)


@pytest.mark.slow
def test_ema_rotation_matches_the_reference_trade_for_trade() -> None:
    """ema_rotation.toml (20 stocks, 33 years, monthly, same close) agrees with the reference loop."""
    _compare(ScenarioConfig.from_toml(SCENARIOS / "ema_rotation.toml"))


def test_ema_next_open_matches_the_reference_trade_for_trade() -> None:
    """ema_next_open.toml (4 OHLCV stocks, weekly, next open) agrees with the reference loop."""
    _compare(ScenarioConfig.from_toml(SCENARIOS / "ema_next_open.toml"))


@pytest.mark.parametrize("overrides", [
    ["schedule.rebalance=quarterly", "strategy.params.weighting=score", "strategy.params.max_weight=0.3"],
    ["rebalance.cash_buffer=0.05", "rebalance.min_trade_value=5000", "execution.commission.model=percentage",
     "execution.commission.rate=0.001", "execution.commission.minimum=5.0"],
    ["execution.timing=next_open"],
])
def test_variations_match_the_reference(overrides: list[str]) -> None:
    """Other schedules, weightings, buffers and costs on the 4-stock OHLCV data agree with the reference."""
    config = ScenarioConfig.from_toml(SCENARIOS / "ema_next_open.toml", overrides)
    _compare(config)
