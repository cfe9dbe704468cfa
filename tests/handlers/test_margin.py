"""The margin rule's liquidation (handlers/margin.py, docs/long-short.md): the fraction and the shares, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eventbt.costs.commission import FixedCommission, ZeroCommission
from eventbt.costs.slippage import FixedBpsSlippage
from eventbt.errors import ContractError
from handlers.margin import MarginHandler, liquidation, margin_figures

ZERO = FixedBpsSlippage(bps=0.0)


def test_equity_and_gross_exposure_of_a_long_short_book() -> None:
    """1,000 A at 8.00 and -500 B at 10.00 with cash 1,000: equity 1,000 + 8,000 - 5,000, gross 13,000."""
    assert margin_figures(np.array([1_000, -500]), np.array([8.0, 10.0]), 1_000.0) == (4_000.0, 13_000.0)


def test_without_costs_the_fraction_restores_the_margin_exactly() -> None:
    """E = 4,000, G = 13,000, m = 0.4: f = 1 - 4,000 / 5,200 = 0.230769; ceil(230.77) = 231 A, ceil(115.38) = 116 B."""
    fraction, shares, costs, cash = liquidation(
        positions=np.array([1_000, -500]), marks=np.array([8.0, 10.0]), tradable=np.array([True, True]),
        equity=4_000.0, gross=13_000.0, maintenance_margin=0.4, commission=ZeroCommission(), slippage=ZERO)
    assert fraction == pytest.approx(1 - 4_000 / 5_200, abs=1e-15)
    assert shares == {0: -231, 1: 116}
    # 231 x 8 = 1,848 in, 116 x 10 = 1,160 out
    assert (costs, cash) == (0.0, pytest.approx(688.0))
    # after: 769 A (6,152) and -384 B (3,840): gross 9,992; equity 4,000: 40.03% >= 40%


def test_expected_costs_raise_the_fraction_until_the_orders_stop_changing() -> None:
    """2,500 A at 7.60 (E = 4,000, G = 19,000, m = 0.25) with a fixed 10.00 commission: f0 = 0.157895 sells 395;
    with C = 10, f = 1 - 3,990 / 4,750 = 0.16 sells 400; C is still 10, so 400 it is."""
    fraction, shares, costs, cash = liquidation(
        positions=np.array([2_500]), marks=np.array([7.6]), tradable=np.array([True]), equity=4_000.0,
        gross=19_000.0, maintenance_margin=0.25, commission=FixedCommission(amount=10.0), slippage=ZERO)
    assert fraction == pytest.approx(0.16, abs=1e-12)
    assert (shares, costs, cash) == ({0: -400}, 10.0, pytest.approx(400 * 7.6 - 10.0))
    # after: 2,100 A (15,960), equity 4,000 - 10 = 3,990: exactly 25%


def test_negative_equity_closes_everything_and_untradable_positions_wait() -> None:
    """E <= 0: f = 1, every position with a price at the bar is closed; B has none this bar and is left."""
    fraction, shares, _, _ = liquidation(
        positions=np.array([300, -200]), marks=np.array([5.0, 10.0]), tradable=np.array([True, False]),
        equity=-50.0, gross=3_500.0, maintenance_margin=0.25, commission=ZeroCommission(), slippage=ZERO)
    assert (fraction, shares) == (1.0, {0: -300})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"maintenance_margin": 1.0}, "maintenance_margin must be a number > 0 and < 1, got 1.0"),
    ({"maintenance_margin": 0.25, "response": "sell"}, "response must be one of liquidate, stop, got 'sell'"),
])
def test_the_handler_checks_its_parameters(kwargs: dict[str, object], message: str) -> None:
    """A margin handler built by hand gets the same range checks as the scenario keys."""
    with pytest.raises(ValueError) as caught:
        MarginHandler(commission=ZeroCommission(), slippage=ZERO, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


class _NegativeCommission:
    """A commission model that breaks the contract: a charge below zero."""

    def commission(self, quantity: int, value: float) -> float:
        return -1.0


def test_a_cost_model_breaking_the_contract_in_a_liquidation_names_the_symbol() -> None:
    """The liquidation sizes its orders through the checked cost-model calls; given the symbols, the error names
    the symbol whose order it was sizing (B: A has no price this bar), as the rebalance's and the fill's do."""
    with pytest.raises(ContractError) as caught:
        liquidation(positions=np.array([300, -200]), marks=np.array([5.0, 10.0]), tradable=np.array([False, True]),
                    equity=-50.0, gross=3_500.0, maintenance_margin=0.25, commission=_NegativeCommission(),
                    slippage=ZERO, symbols=("A", "B"))
    assert "returned -1.0 for 200 shares of 'B' worth 2,000.00" in str(caught.value)
