"""The US regulatory fee handler: SEC and FINRA TAF on sales, CAT on both sides, worked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.scenario.plugins import FEE_HANDLERS
from eventbt.simulation import Simulation
from handlers.fees import UsRegulatoryFees
from tests.properties.scripted import SCRIPTED

# The rates on Interactive Brokers' US stock commissions page in 2024-25.
IB_2024 = {"sec_rate": 0.0000278, "taf_per_share": 0.000166, "taf_max": 8.30, "cat_per_share": 0.000048}


@pytest.mark.parametrize(
    ("rates", "side", "quantity", "price", "expected"),
    [
        # sell 1,000 @ 20.00: SEC 0.0000278 * 20,000 = 0.556; TAF 0.000166 * 1,000 = 0.166; CAT 0.048
        (IB_2024, -1, 1_000, 20.0, {"sec": 0.556, "taf": 0.166, "cat": 0.048}),
        # buy 1,000 @ 20.00: only CAT, 0.000048 * 1,000 = 0.048
        (IB_2024, 1, 1_000, 20.0, {"sec": 0.0, "taf": 0.0, "cat": 0.048}),
        # 2026 defaults, sell 1,000 @ 20.00: SEC 0.0000206 * 20,000 = 0.412; TAF 0.000195 * 1,000 = 0.195
        ({}, -1, 1_000, 20.0, {"sec": 0.412, "taf": 0.195, "cat": 0.0}),
        # TAF cap: sell 100,000 @ 1.00: 0.000195 * 100,000 = 19.50 -> 9.79; SEC 0.0000206 * 100,000 = 2.06
        ({}, -1, 100_000, 1.0, {"sec": 2.06, "taf": 9.79, "cat": 0.0}),
        # a buy under the defaults pays nothing
        ({}, 1, 100_000, 1.0, {"sec": 0.0, "taf": 0.0, "cat": 0.0}),
    ],
)
def test_regulatory_fees_per_fill(rates: dict[str, float], side: int, quantity: int, price: float,
                                  expected: dict[str, float]) -> None:
    """Each part by hand from the rates IB listed in 2024-25 and the 2026 SEC order and FINRA schedule."""
    parts = UsRegulatoryFees(**rates).fees(side, quantity, price)
    assert parts == pytest.approx(expected)


def test_a_sale_of_1000_at_20_pays_77_cents_more_under_the_2024_rates() -> None:
    """Sell 1,000 @ 20 under IB's 2024-25 rates: 0.556 + 0.166 + 0.048 = 0.770 on top of the commission."""
    assert sum(UsRegulatoryFees(**IB_2024).fees(-1, 1_000, 20.0).values()) == pytest.approx(0.770)


def _run(handler: UsRegulatoryFees) -> tuple[Simulation, Any]:
    # Flat 20.00; buy 500 on bar 0 (weight 0.5 of 20,000), sell them all on bar 2, the last (weight 0).
    dates = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A",), close=np.full((3, 1), 20.0))
    raw = {
        "scenario": {"name": "regulatory"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": 20_000.0},
        "strategy": {"name": SCRIPTED, "params": {"targets": {"0": {"A": 0.5}, "2": {}}}},
        "schedule": {"rebalance": "daily"},
    }
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices,
                            extra_handlers=[handler])
    result = simulation.run()
    assert result is not None
    return simulation, result


def test_the_handler_charges_each_fill_at_the_next_bar_or_the_end_of_the_data() -> None:
    """The buy pays CAT at the next bar; the sale on the last bar pays SEC, TAF and CAT when the data ends."""
    simulation, result = _run(UsRegulatoryFees(**IB_2024))
    # buy 500 @ 20.00 on bar 0: CAT 500 * 0.000048 = 0.024, charged at bar 1's market event;
    # sell 500 @ 20.00 on bar 2 (the last): SEC 0.0000278 * 10,000 = 0.278, TAF 0.000166 * 500 = 0.083,
    # CAT 0.024 -> 0.385, charged at the end of the data, before the last snapshot
    log = simulation.history.fee_log
    assert [(row.bar, row.model, row.paid) for row in log] == [
        (1, "us_regulatory_fees", pytest.approx(0.024)), (2, "us_regulatory_fees", pytest.approx(0.385))]
    fills = result.trades["fill_id"].tolist()
    assert [row.cause_id for row in log] == fills  # each fee is caused by its fill
    assert result.equity["total_value"].iloc[-1] == pytest.approx(20_000.0 - 0.024 - 0.385)
    assert result.summary["costs"]["fee:us_regulatory_fees"]["amount"] == pytest.approx(0.409)


def test_the_handler_is_registered_by_name_and_checks_its_parameters() -> None:
    """[[handlers]] name = "us_regulatory_fees" finds it; a negative or absurd rate is refused by name."""
    assert FEE_HANDLERS["us_regulatory_fees"] is UsRegulatoryFees
    with pytest.raises(ValueError, match=r"^taf_max must be a finite number >= 0, got -1$"):
        UsRegulatoryFees(taf_max=-1)
    with pytest.raises(ValueError, match=r"^sec_rate must be a fraction of the sale value below 0.01"):
        UsRegulatoryFees(sec_rate=20.60)
    with pytest.raises(TypeError, match=r"^cat_per_share must be a number, got str"):
        UsRegulatoryFees(cat_per_share="0.00005")  # type: ignore[arg-type]
