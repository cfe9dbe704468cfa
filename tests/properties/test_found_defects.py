"""Defects the property suite found in the rebalance arithmetic, kept as regression tests once fixed."""

from __future__ import annotations

import numpy as np

from eventbt.costs import PercentageCommission, ZeroCommission, ZeroSlippage
from handlers.rebalance import generate_orders


def test_a_sell_costing_more_than_it_brings_in_is_skipped_without_cash_to_pay() -> None:
    """Selling 1 share at 0.50 under a 1.00 minimum commission needs 0.50 of cash: skipped at 0, made at 0.5."""
    # proceeds 1 * 0.50 - max(1.00, 0) = -0.50: with cash 0 the sale would leave cash at -0.50.
    commission = PercentageCommission(rate=0.0, minimum=1.0)
    orders, notes = generate_orders(symbols=("A",), weights=np.array([0.0]), positions=np.array([1]),
                                    prices=np.array([0.5]), cash=0.0, commission=commission,
                                    slippage=ZeroSlippage())
    assert orders == []
    assert [note.code for note in notes] == ["skip_cost_exceeds_cash"]
    orders, _ = generate_orders(symbols=("A",), weights=np.array([0.0]), positions=np.array([1]),
                                prices=np.array([0.5]), cash=0.5, commission=commission, slippage=ZeroSlippage())
    assert [order.expected for order in orders] == [-0.5]


def test_a_negligible_target_weight_sells_the_whole_position_at_once() -> None:
    """A target of 1e-143 on 25 held shares sells all 25 in one rebalance, not 24 then 1."""
    prices = np.array([1.0, 1.0, 1311.6295733576933])
    orders, _ = generate_orders(symbols=("A", "B", "C"), weights=np.array([0.0, 0.0, 1.0036337486254791e-143]),
                                positions=np.array([0, 0, 25]), prices=prices, cash=0.0,
                                commission=ZeroCommission(), slippage=ZeroSlippage())
    assert [(order.symbol, order.quantity) for order in orders] == [("C", 25)]
