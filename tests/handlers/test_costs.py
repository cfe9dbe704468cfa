"""The built-in cost models against hand-worked numbers."""

from __future__ import annotations

import attrs
import pytest

from eventbt.costs import (
    FixedBpsSlippage,
    FixedCommission,
    IbkrTieredCommission,
    PercentageCommission,
    PerShareCommission,
    ZeroCommission,
    ZeroSlippage,
)


def test_zero_commission_is_always_zero() -> None:
    """ZeroCommission charges nothing for any fill."""
    model = ZeroCommission()
    assert model.commission(0, 0.0) == 0.0
    assert model.commission(1_000, 50_000.0) == 0.0


def test_percentage_commission_without_minimum() -> None:
    """PercentageCommission charges rate * value when no minimum is set."""
    model = PercentageCommission(rate=0.001)
    # 0.001 * 10,000.00 = 10.00
    assert model.commission(100, 10_000.0) == pytest.approx(10.0)
    # 0.001 * 150.00 = 0.15
    assert model.commission(3, 150.0) == pytest.approx(0.15)


def test_percentage_commission_with_minimum() -> None:
    """PercentageCommission charges the minimum when rate * value is below it, else rate * value."""
    model = PercentageCommission(rate=0.001, minimum=5.0)
    # 0.001 * 2,000.00 = 2.00 < 5.00 -> 5.00
    assert model.commission(20, 2_000.0) == 5.0
    # 0.001 * 10,000.00 = 10.00 > 5.00 -> 10.00
    assert model.commission(100, 10_000.0) == pytest.approx(10.0)


def test_fixed_commission_is_per_fill() -> None:
    """FixedCommission charges the same amount for one share as for ten thousand."""
    model = FixedCommission(amount=4.95)
    assert model.commission(1, 20.0) == 4.95
    assert model.commission(10_000, 200_000.0) == 4.95


def test_per_share_minimum_binds() -> None:
    """PerShareCommission charges the minimum when per_share * quantity is below it."""
    # 100 shares * 0.005 = 0.50 < 1.00 -> 1.00
    assert PerShareCommission().commission(100, 2_000.0) == 1.0


def test_per_share_rate_binds() -> None:
    """PerShareCommission charges per_share * quantity when that is above the minimum."""
    # 1,000 shares * 0.005 = 5.00 > 1.00 -> 5.00
    assert PerShareCommission().commission(1_000, 20_000.0) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        (100, 25.0, 1.00),  # max(1.00, 100 * 0.005 = 0.50) = 1.00; cap 1% of 2,500 = 25.00
        (1_000, 25.0, 5.00),  # 1,000 * 0.005 = 5.00; cap 1% of 25,000 = 250.00
        (1_000, 0.25, 2.50),  # 5.00 capped at 1% of 250.00 = 2.50
    ],
)
def test_per_share_defaults_match_the_published_fixed_examples(quantity: int, price: float, expected: float) -> None:
    """The defaults give the "Fixed Examples" of Interactive Brokers' US stock commissions page (2024-25)."""
    assert PerShareCommission().commission(quantity, quantity * price) == pytest.approx(expected)


def test_per_share_cap_binds() -> None:
    """The cap max_pct of the traded value binds on cheap shares and not on dear ones."""
    model = PerShareCommission(max_pct=0.01)
    # 10,000 shares at 0.40: per share 0.005 * 10,000 = 50.00; cap 1% of 4,000.00 = 40.00 -> 40.00
    assert model.commission(10_000, 4_000.0) == pytest.approx(40.0)
    # 1,000 shares at 20.00: 5.00; cap 1% of 20,000.00 = 200.00 does not bind -> 5.00
    assert model.commission(1_000, 20_000.0) == pytest.approx(5.0)
    # max_pct=None drops the cap: 1,000 shares at 0.25 pay the full 5.00
    assert PerShareCommission(max_pct=None).commission(1_000, 250.0) == pytest.approx(5.0)


def test_per_share_cap_below_minimum_wins() -> None:
    """Below the minimum the 1% cap is charged, as the notes to Interactive Brokers' US commission table say."""
    # 100 shares at 0.50: max(1.00, 0.50) = 1.00; cap 1% of 50.00 = 0.50 -> 0.50 (Lean would charge 1.00)
    assert PerShareCommission().commission(100, 50.0) == pytest.approx(0.5)


def test_per_share_custom_numbers() -> None:
    """PerShareCommission uses the per_share and minimum it is given."""
    model = PerShareCommission(per_share=0.01, minimum=2.0)
    # 150 shares * 0.01 = 1.50 < 2.00 -> 2.00; 500 shares * 0.01 = 5.00 -> 5.00
    assert model.commission(150, 1_500.0) == 2.0
    assert model.commission(500, 5_000.0) == pytest.approx(5.0)


@pytest.mark.parametrize(
    "model",
    [
        ZeroCommission(),
        PercentageCommission(rate=0.001, minimum=5.0),
        FixedCommission(amount=4.95),
        PerShareCommission(),
        IbkrTieredCommission(),
    ],
    ids=repr,
)
def test_commission_for_zero_quantity_is_zero(model: object) -> None:
    """Every commission model charges nothing when nothing is filled, whatever its minimum."""
    assert model.commission(0, 0.0) == 0.0  # type: ignore[attr-defined]


def test_fixed_bps_fill_prices() -> None:
    """FixedBpsSlippage moves a buy bps above and a sell bps below the reference price."""
    model = FixedBpsSlippage(bps=5)
    # buy: 100.00 * (1 + 5 / 10,000) = 100.00 * 1.0005 = 100.05
    assert model.fill_price(1, 100.0, 10) == pytest.approx(100.05)
    # sell: 100.00 * (1 - 0.0005) = 99.95
    assert model.fill_price(-1, 100.0, 10) == pytest.approx(99.95)
    # 25 bps on a 40.00 buy: 40.00 * 1.0025 = 40.10
    assert FixedBpsSlippage(bps=25).fill_price(1, 40.0, 1) == pytest.approx(40.10)


def test_fixed_bps_ignores_quantity() -> None:
    """FixedBpsSlippage gives the same fill for one share as for a million."""
    model = FixedBpsSlippage(bps=10)
    assert model.fill_price(1, 50.0, 1) == model.fill_price(1, 50.0, 1_000_000)


def test_fixed_bps_rejects_a_side_that_is_not_plus_or_minus_one() -> None:
    """A side other than +1 or -1 is an error, not a silent fill at the reference price."""
    with pytest.raises(ValueError, match=r"^side must be \+1 \(buy\) or -1 \(sell\), got 0$"):
        FixedBpsSlippage(bps=5).fill_price(0, 100.0, 1)


def test_zero_slippage_fills_at_reference() -> None:
    """ZeroSlippage fills buys and sells at the reference price."""
    model = ZeroSlippage()
    assert model.fill_price(1, 12.34, 100) == 12.34
    assert model.fill_price(-1, 12.34, 100) == 12.34


def test_slippage_fraction() -> None:
    """The optional fraction is bps / 10000 for fixed_bps and 0 for zero."""
    # 5 / 10,000 = 0.0005
    assert FixedBpsSlippage(bps=5).fraction == pytest.approx(0.0005)
    assert ZeroSlippage().fraction == 0.0


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (ZeroCommission, "zero"),
        (PercentageCommission, "percentage"),
        (FixedCommission, "fixed"),
        (PerShareCommission, "per_share"),
        (ZeroSlippage, "zero"),
        (FixedBpsSlippage, "fixed_bps"),
    ],
)
def test_names(cls: type, name: str) -> None:
    """Each model carries the name a scenario uses for it."""
    assert cls.name == name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: PercentageCommission(rate=-0.001),
            ValueError,
            "rate must be a fraction >= 0 and < 1 (0.01 = 1%), got -0.001",
        ),
        (
            lambda: PercentageCommission(rate=1.5),
            ValueError,
            "rate must be a fraction >= 0 and < 1 (0.01 = 1%), got 1.5",
        ),
        (lambda: PercentageCommission(rate=0.001, minimum=-1), ValueError, "minimum must be >= 0, got -1"),
        (lambda: FixedCommission(amount=float("nan")), ValueError, "amount must be finite, got nan"),
        (lambda: FixedCommission(amount=float("inf")), ValueError, "amount must be finite, got inf"),
        (lambda: PerShareCommission(per_share=-0.005), ValueError, "per_share must be >= 0, got -0.005"),
        (
            lambda: PerShareCommission(max_pct=0),
            ValueError,
            "max_pct must be a fraction > 0 and < 1 (0.01 = 1%), got 0",
        ),
        (
            lambda: PerShareCommission(max_pct=1),
            ValueError,
            "max_pct must be a fraction > 0 and < 1 (0.01 = 1%), got 1",
        ),
        (lambda: FixedBpsSlippage(bps=-5), ValueError, "bps must be >= 0 and < 10000 (1 bp = 0.01%), got -5"),
        (
            lambda: FixedBpsSlippage(bps=10_000),
            ValueError,
            "bps must be >= 0 and < 10000 (1 bp = 0.01%), got 10000",
        ),
        (lambda: FixedBpsSlippage(bps="5"), TypeError, "bps must be a number, got str '5'"),  # type: ignore[arg-type]
        (lambda: FixedCommission(amount=True), TypeError, "amount must be a number, got bool True"),
    ],
)
def test_invalid_parameters(build: object, error: type[Exception], message: str) -> None:
    """Invalid parameters are rejected with a message that starts with the parameter's name."""
    with pytest.raises(error) as excinfo:
        build()  # type: ignore[operator]
    assert str(excinfo.value) == message


def test_models_are_frozen_and_keyword_only() -> None:
    """Parameters cannot be changed after construction or passed by position."""
    model = FixedBpsSlippage(bps=5)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        model.bps = 10  # type: ignore[misc]
    with pytest.raises(TypeError):
        FixedBpsSlippage(5)  # type: ignore[call-arg]


# -- ibkr_tiered -------------------------------------------------------------------------------------

BROKER_ONLY = {"clearing_per_share": 0.0, "pass_through_rate": 0.0}


@pytest.mark.parametrize(
    ("monthly_volume", "rate"),
    [
        (0, 0.0035),
        (299_999, 0.0035),  # the next share is number 300,000: "<= 300,000" is the first tier
        (300_000, 0.002),  # the next share is number 300,001
        (2_999_999, 0.002),
        (3_000_000, 0.0015),
        (20_000_000, 0.001),
        (99_999_999, 0.001),
        (100_000_000, 0.0005),
    ],
)
def test_ibkr_tiered_next_share_rate_by_monthly_volume(monthly_volume: int, rate: float) -> None:
    """The rate of the account's next share is the published tier that share falls in, bounds inclusive."""
    model = IbkrTieredCommission(monthly_volume=monthly_volume, **BROKER_ONLY)
    assert model.rate == rate
    # one share at 50.00: the rate is far below the 0.35 minimum, so look at the tiered part alone
    assert model.tiered(1) == pytest.approx(rate)


def test_ibkr_tiered_applies_the_tiers_marginally_as_the_published_example() -> None:
    """Selling 30,000,000 shares pays 41,950 as in IB's "Fixed vs. Tiered Pricing Comparison Examples" (2023)."""
    model = IbkrTieredCommission(**BROKER_ONLY)
    # 300,000 * 0.0035 + 2,700,000 * 0.002 + 17,000,000 * 0.0015 + 10,000,000 * 0.001
    # = 1,050 + 5,400 + 25,500 + 10,000 = 41,950 (cap 1% of 150,000,000 does not bind)
    assert model.commission(30_000_000, 150_000_000.0) == pytest.approx(41_950.0)


def test_ibkr_tiered_one_million_shares_from_the_month_start() -> None:
    """1,000,000 shares at 20.00 from the month's start pay 2,450 broker, 2,651.81 with IB's 2024-25 fees."""
    # broker: 300,000 * 0.0035 + 700,000 * 0.0020 = 1,050 + 1,400 = 2,450.00 (cap 200,000 does not bind)
    # pass-through: 2,450 * (0.000175 + 0.000563) = 2,450 * 0.000738 = 1.8081
    # clearing: 1,000,000 * 0.0002 = 200.00; total 2,450 + 1.8081 + 200 = 2,651.8081
    assert IbkrTieredCommission(**BROKER_ONLY).commission(1_000_000, 20_000_000.0) == pytest.approx(2_450.0)
    assert IbkrTieredCommission().commission(1_000_000, 20_000_000.0) == pytest.approx(2_651.8081)
    # starting mid-tier: 3,000,000 already traded, 1,000,000 more all at 0.0015 = 1,500.00
    assert IbkrTieredCommission(monthly_volume=3_000_000, **BROKER_ONLY).commission(
        1_000_000, 20_000_000.0) == pytest.approx(1_500.0)
    # straddling: 299,000 traded, 2,000 more: 1,000 * 0.0035 + 1,000 * 0.002 = 3.50 + 2.00 = 5.50
    assert IbkrTieredCommission(monthly_volume=299_000, **BROKER_ONLY).commission(
        2_000, 40_000.0) == pytest.approx(5.5)


def test_ibkr_tiered_minimum_and_cap() -> None:
    """The 0.35 minimum binds on small orders, the 1% cap on cheap shares, and the cap wins below the minimum."""
    model = IbkrTieredCommission(**BROKER_ONLY)
    # 50 shares * 0.0035 = 0.175 < 0.35 -> 0.35 (cap 1% of 1,000.00 = 10.00 does not bind)
    assert model.commission(50, 1_000.0) == pytest.approx(0.35)
    # 1,000 shares at 0.10: 3.50 capped at 1% of 100.00 = 1.00
    assert model.commission(1_000, 100.0) == pytest.approx(1.0)
    # 10 shares at 1.00: max(0.35, 0.035) = 0.35, cap 1% of 10.00 = 0.10 -> 0.10 (the broker's notes: the
    # maximum is assessed when below the minimum; Lean would charge 0.35)
    assert model.commission(10, 10.0) == pytest.approx(0.10)
    # with the default fees: 0.10 * (1 + 0.000738) + 10 * 0.0002 = 0.1000738 + 0.002 = 0.1020738
    assert IbkrTieredCommission().commission(10, 10.0) == pytest.approx(0.1020738)


def test_ibkr_tiered_adds_third_party_fees() -> None:
    """Clearing and exchange fees per share and pass-through fees on the broker part are added on top."""
    model = IbkrTieredCommission()
    # broker 1,000 * 0.0035 = 3.50; pass-through 3.50 * 0.000738 = 0.002583; clearing 1,000 * 0.0002 = 0.20
    assert model.commission(1_000, 20_000.0) == pytest.approx(3.702583)
    with_exchange = IbkrTieredCommission(exchange_per_share=0.003, pass_through_rate=0.0)
    # capped broker part 1.00 (1% of 100.00) + (0.0002 + 0.003) * 1,000 = 1.00 + 3.20 = 4.20
    assert with_exchange.commission(1_000, 100.0) == pytest.approx(4.20)
    assert model.commission(0, 0.0) == 0.0


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"tier_rates": [0.0035, 0.002]}, "tier_rates must have one rate more than tier_bounds"),
        ({"tier_bounds": [300_000, 300_000, 1e6, 2e6]}, "tier_bounds must be strictly increasing"),
        ({"tier_rates": [0.0035, -0.002, 0.0015, 0.001, 0.0005]}, "tier_rates must hold numbers >= 0"),
        ({"minimum": -1.0}, "minimum must be >= 0"),
    ],
)
def test_ibkr_tiered_rejects_bad_tiers(parameters: dict[str, object], message: str) -> None:
    """Inconsistent tiers and negative amounts are refused with the parameter's name."""
    with pytest.raises(ValueError, match=message):
        IbkrTieredCommission(**parameters)  # type: ignore[arg-type]
