"""The bar-aware slippage models against hand-worked numbers, and what the execution handler shows them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from eventbt.costs.impact import HalfSpreadSlippage, SqrtImpactSlippage, VolumeShareSlippage, corwin_schultz_spread
from eventbt.prices import PriceData
from eventbt.protocols import BarContext
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation


def test_half_spread_uses_the_spread_column() -> None:
    """A spread of 0.10 on a close of 50.00 is 20 bps; half of it moves a fill by 0.05."""
    bar = BarContext(close=50.0, spread=0.10, high=51.0, low=49.0)
    model = HalfSpreadSlippage()
    # s = 0.10 / 50.00 = 0.002; f = 0.001; buy 50.00 * 1.001 = 50.05, sell 50.00 * 0.999 = 49.95
    assert model.fill_price(1, 50.0, 100, bar=bar) == pytest.approx(50.05)
    assert model.fill_price(-1, 50.0, 100, bar=bar) == pytest.approx(49.95)


def test_half_spread_estimates_from_high_and_low() -> None:
    """Without a spread column the Corwin-Schultz estimate from two bars' ranges is used."""
    # beta = ln(102/98)^2 + ln(101/99)^2 = 0.0016004 + 0.0004000 = 0.0020005
    # gamma = ln(102/98)^2 = 0.0016004; k = 3 - 2*sqrt(2) = 0.171573
    # alpha = (sqrt(0.004001) - sqrt(0.0020005)) / k - sqrt(gamma / k) = 0.107978 - 0.096581 = 0.011398
    # S = 2 (e^alpha - 1) / (1 + e^alpha) = 0.011398
    assert corwin_schultz_spread(102.0, 98.0, 101.0, 99.0) == pytest.approx(0.011398, abs=1e-6)
    bar = BarContext(high=102.0, low=98.0, previous_high=101.0, previous_low=99.0, close=100.0)
    # buy 100.00 * (1 + 0.011398 / 2) = 100.5699
    assert HalfSpreadSlippage().fill_price(1, 100.0, 10, bar=bar) == pytest.approx(100.5699, abs=1e-4)


def test_corwin_schultz_is_zero_when_negative_and_nan_without_a_range() -> None:
    """Bars that do not overlap give a negative alpha, set to 0; a bar without high/low gives NaN."""
    # beta = ln(110/108)^2 + ln(100/98)^2 = 0.000336 + 0.000408; gamma = ln(110/98)^2 = 0.013352
    # alpha = (0.038575 - 0.027277) / 0.171573 - sqrt(0.013352 / 0.171573) = 0.0659 - 0.2790 < 0 -> 0
    assert corwin_schultz_spread(110.0, 108.0, 100.0, 98.0) == 0.0
    assert math.isnan(corwin_schultz_spread(math.nan, math.nan, math.nan, math.nan))


def test_corwin_schultz_needs_a_previous_bar() -> None:
    """Corwin and Schultz (2012) need two consecutive bars, so with no previous bar the estimate is NaN."""
    # pairing H/L 101/99 with itself would give beta = 2 ln(101/99)^2, gamma = ln(101/99)^2,
    # alpha = ln(101/99) = 0.0200007 and S = 2 (e^alpha - 1) / (1 + e^alpha) = 0.0200: the whole day's range
    assert math.isnan(corwin_schultz_spread(101.0, 99.0, math.nan, math.nan))


@pytest.mark.parametrize(("spread_bps", "expected"), [(0.0, 100.0), (10.0, 100.05)])
def test_half_spread_on_a_first_bar_charges_spread_bps(spread_bps: float, expected: float) -> None:
    """A first bar (H/L 101/99) pays spread_bps / 2, not half its range, as Corwin-Schultz needs two bars."""
    bar = BarContext(high=101.0, low=99.0, close=100.0)
    # spread_bps 0 -> f = 0 -> 100.00 (before the fix: f = 0.02 / 2 = 1%, a buy at 101.00);
    # spread_bps 10 -> f = 0.0005 -> 100.00 * 1.0005 = 100.05
    assert HalfSpreadSlippage(spread_bps=spread_bps).fill_price(1, 100.0, 10, bar=bar) == pytest.approx(expected)


def test_volume_share_grows_with_the_square_of_the_share() -> None:
    """1% of the volume moves the price by 0.1 * 0.01^2; beyond the 2.5% limit the share is capped."""
    model = VolumeShareSlippage()
    # share = 1,000 / 100,000 = 0.01; f = 0.1 * 0.0001 = 1e-5; 40.00 * (1 + 1e-5) = 40.0004
    assert model.fill_price(1, 40.0, 1_000, bar=BarContext(volume=100_000.0)) == pytest.approx(40.0004)
    # share = 10,000 / 100,000 = 0.1 -> capped at 0.025; f = 0.1 * 0.000625 = 6.25e-5; 40 * (1 - f) = 39.9975
    assert model.fill_price(-1, 40.0, 10_000, bar=BarContext(volume=100_000.0)) == pytest.approx(39.9975)


def test_volume_share_at_zero_and_unknown_volume() -> None:
    """Zero volume charges the capped share; unknown volume or no bar charges nothing."""
    model = VolumeShareSlippage()
    # zero volume -> share = 0.025 -> f = 6.25e-5; 40 * (1 + f) = 40.0025
    assert model.fill_price(1, 40.0, 1, bar=BarContext(volume=0.0)) == pytest.approx(40.0025)
    assert model.fill_price(1, 40.0, 1_000, bar=BarContext()) == 40.0
    assert model.fill_price(1, 40.0, 1_000) == 40.0


def test_sqrt_impact_follows_the_square_root_law() -> None:
    """Y sigma sqrt(Q/V) (Toth et al. 2011): 1.0 * 0.02 * sqrt(2,500 / 1,000,000) = 0.001, a buy at 100.10."""
    bar = BarContext(volatility=0.02, average_volume=1_000_000.0)
    model = SqrtImpactSlippage()
    assert model.fill_price(1, 100.0, 2_500, bar=bar) == pytest.approx(100.10)
    # four times the quantity doubles the impact: f = 0.002, sell 100 * 0.998 = 99.80
    assert model.fill_price(-1, 100.0, 10_000, bar=bar) == pytest.approx(99.80)


def test_sqrt_impact_cap_zero_volume_and_unknowns() -> None:
    """The impact is capped at max_fraction, is the cap at zero volume, and 0 when an estimate is unknown."""
    model = SqrtImpactSlippage()
    # 0.02 * sqrt(1e8 / 1e6) = 0.2 -> capped at 0.1; sell 100 * 0.9 = 90
    assert model.fill_price(-1, 100.0, 100_000_000,
                            bar=BarContext(volatility=0.02, average_volume=1e6)) == pytest.approx(90.0)
    assert model.fill_price(1, 100.0, 1, bar=BarContext(volatility=0.02, average_volume=0.0)) == pytest.approx(110.0)
    assert model.fill_price(1, 100.0, 1_000, bar=BarContext(average_volume=1e6)) == 100.0
    assert model.fill_price(1, 100.0, 1_000) == 100.0


# -- through the execution handler --------------------------------------------------------------------
DATES = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[ns]")


def _run(slippage: dict[str, object], timing: str, volume: list[float]) -> tuple[Simulation, list[float]]:
    close = np.array([[100.0], [110.0], [99.0]])
    prices = PriceData(dates=DATES, symbols=("A",), close=close, open=close.copy(), high=close + 1.0,
                       low=close - 1.0, volume=np.array(volume).reshape(-1, 1))
    raw = {
        "scenario": {"name": "impact"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": 100_000.0},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5}}},
        "schedule": {"dates": ["2024-01-02"]},
        "execution": {"timing": timing, "slippage": slippage},
    }
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices,
                            audit=False)
    result = simulation.run()
    assert result is not None
    return simulation, result.trades["price"].tolist()


def test_same_close_fill_sees_its_own_bar_volume() -> None:
    """With same_close the fill bar's own volume prices the order."""
    # 500 shares (50,000 / 100) against a volume of 20,000: share 0.025 -> f = 0.1 * 0.025^2 = 6.25e-5
    # fill 100 * (1 + 6.25e-5) = 100.00625 (sizing saw no bar: floor(50,000 / 100) = 500 shares)
    _, fills = _run({"model": "volume_share"}, "same_close", [20_000.0, 1.0, 1.0])
    assert fills == [pytest.approx(100.00625)]


def test_next_open_fill_sees_only_the_previous_bar() -> None:
    """With next_open the fill at bar 1's open is priced by bar 0's volume, not bar 1's."""
    # bar 0 volume 20,000 (bar 1's 1.0 is unknown at its open): f = 6.25e-5; open 110 * (1 + f) = 110.006875
    _, fills = _run({"model": "volume_share"}, "next_open", [20_000.0, 1.0, 1.0])
    assert fills == [pytest.approx(110.006875)]


def test_bar_context_estimates_over_the_trailing_window() -> None:
    """Volatility is the sample std of log returns and the average volume the mean over completed bars."""
    simulation, _ = _run({"model": "sqrt_impact"}, "same_close", [1_000.0, 2_000.0, 3_000.0])
    bar = simulation.execution.bar_context("A")
    # log returns ln(110/100) = 0.0953102, ln(99/110) = -0.1053605; mean -0.0050252;
    # sample std = sqrt(2 * 0.1003353^2 / 1) = 0.1418956
    assert bar.volatility == pytest.approx(0.1418956, rel=1e-6)
    assert bar.average_volume == pytest.approx(2_000.0)  # (1,000 + 2,000 + 3,000) / 3
    assert (bar.high, bar.low, bar.previous_high, bar.previous_low) == (100.0, 98.0, 111.0, 109.0)
