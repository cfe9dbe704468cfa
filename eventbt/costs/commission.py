"""The built-in commission models: what a fill pays in commission.

Each class fits a protocol of :mod:`eventbt.protocols` by shape and is named in a scenario by its ``name``
(``[execution.commission] model = "per_share"``); the other keys of that table are its parameters.
``quantity`` is whole shares, ``value`` the traded value ``quantity * fill price`` in account currency,
and every commission model charges 0 when nothing is filled (``quantity == 0``).

Commission models (:class:`~eventbt.protocols.CommissionModel`):

- ``zero``: 0.
- ``percentage``: ``max(minimum, rate * value)``; ``rate`` is a fraction (0.001 = 0.1% = 10 bps) and
  ``minimum`` defaults to 0. The scenario supplies the numbers; there is no default rate.
- ``fixed``: ``amount`` per fill, whatever its size.
- ``per_share``: ``min(max(minimum, per_share * quantity), max_pct * value)``. The defaults are
  Interactive Brokers' fixed schedule for US stocks (IBKR Pro "Fixed"): USD 0.005 per share, minimum
  USD 1.00 per order, maximum 1% of the trade value. See :class:`PerShareCommission` for the source.
- ``ibkr_tiered``: Interactive Brokers' tiered schedule for US stocks (IBKR Pro "Tiered"). The broker's
  part applies each monthly-volume tier's per-share rate to the shares of the order that fall in it,
  then the 0.35 minimum and the 1% cap; clearing and pass-through fees are added on top. See
  :class:`IbkrTieredCommission`.

- ``sec_fee``: the SEC's Section 31 fee on sales, ``rate * value`` of each sell fill, 0 on buys. It sees the
  order (``commission(quantity, value, order)``): see :class:`SecFeeCommission`.

When the cap is below the minimum (a trade worth less than 100.00 under the fixed schedule, 35.00 under
the tiered one), **the cap is charged**: Interactive Brokers' notes to its US stock commission
table say that when the calculated maximum per order is below the minimum per order, the maximum is
assessed. (QuantConnect Lean's ``InteractiveBrokersFeeModel`` and qf-lib let the minimum win instead;
eventbt follows the broker whose schedule these models are.) So 100 shares at 0.50 pay 1% of 50.00 =
0.50, not 1.00.

Sales also pay regulatory fees (the SEC's Section 31 fee, FINRA's trading activity fee). A commission model
of the plain form does not see the side; one that takes the order does (``sec_fee``), and the
``us_regulatory_fees`` fee handler (:class:`handlers.fees.UsRegulatoryFees`) charges them all as fees.

Parameters are validated when a model is built (:mod:`eventbt.costs.checks`): a negative, NaN or infinite
amount, a rate of 100% or more, or a non-number raises :class:`ValueError` (or :class:`TypeError`) whose
message starts with the parameter's name.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import attrs

from eventbt.costs.checks import (
    at_least_zero_field,
    fraction_below_one_field,
    number,
    positive_fraction_or_none_field,
)
from eventbt.exact import fsum
from eventbt.protocols import OrderContext

__all__ = [
    "FixedCommission",
    "IbkrTieredCommission",
    "PerShareCommission",
    "PercentageCommission",
    "SecFeeCommission",
    "ZeroCommission",
]


@attrs.frozen(kw_only=True)
class ZeroCommission:
    """No commission."""

    name: ClassVar[str] = "zero"

    def commission(self, quantity: int, value: float) -> float:
        return 0.0


@attrs.frozen(kw_only=True)
class PercentageCommission:
    """``max(minimum, rate * value)``; ``rate`` is a fraction of the traded value (0.001 = 0.1%)."""

    name: ClassVar[str] = "percentage"

    rate: float = attrs.field(validator=fraction_below_one_field)
    minimum: float = attrs.field(default=0.0, validator=at_least_zero_field)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return max(float(self.minimum), self.rate * value)


@attrs.frozen(kw_only=True)
class FixedCommission:
    """``amount`` per fill, whatever its size."""

    name: ClassVar[str] = "fixed"

    amount: float = attrs.field(validator=at_least_zero_field)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return float(self.amount)


@attrs.frozen(kw_only=True)
class PerShareCommission:
    """``min(max(minimum, per_share * quantity), max_pct * value)``: a per-share rate, a minimum, a cap.

    The defaults are Interactive Brokers' fixed schedule for US stocks (IBKR Pro "Fixed"): USD 0.005 per
    share, minimum USD 1.00 per order, maximum 1% of the trade value (``max_pct = 0.01``, a fraction despite
    the name). Source: Interactive Brokers, "Commissions: Stocks, ETFs, Warrants and Structured Products",
    United States table (interactivebrokers.co.uk/en/pricing/commissions-stocks.php), as published in
    2024-25 (the page then listed the SEC fee rate in force from 22 May 2024 to 13 May 2025); its examples:
    100 shares at USD 25 = 1.00, 1,000 shares at USD 25 = 5.00 and 1,000 shares at USD 0.25 = 2.50 (the
    cap: 1% of 250.00). The broker revises these numbers (older schedules capped at 0.5%), so pass current
    ones. When the cap is below the minimum the cap is charged, as those notes say (see the module
    docstring): 100 shares at 0.50 pay 0.50. ``max_pct = None`` (Python only; TOML has no null) drops the
    cap. Exchange and regulatory fees on top of the fixed rate are not modelled here; sales' regulatory
    fees are the ``us_regulatory_fees`` handler's.
    """

    name: ClassVar[str] = "per_share"

    per_share: float = attrs.field(default=0.005, validator=at_least_zero_field)
    minimum: float = attrs.field(default=1.0, validator=at_least_zero_field)
    max_pct: float | None = attrs.field(default=0.01, validator=positive_fraction_or_none_field)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        charge = max(float(self.minimum), self.per_share * quantity)
        if self.max_pct is not None:
            charge = min(charge, self.max_pct * value)
        return charge


def _tuple_of_numbers(value: object) -> tuple[float, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of numbers, got {type(value).__name__} {value!r}")
    return tuple(value)


def _tiers(instance: IbkrTieredCommission, attribute: attrs.Attribute[Any], value: tuple[float, ...]) -> None:
    for item in value:
        number(attribute.name, item)
        if item < 0:
            raise ValueError(f"{attribute.name} must hold numbers >= 0, got {value!r}")


def _increasing(instance: IbkrTieredCommission, attribute: attrs.Attribute[Any], value: tuple[float, ...]) -> None:
    _tiers(instance, attribute, value)
    if any(b <= a for a, b in itertools.pairwise(value)):
        raise ValueError(f"{attribute.name} must be strictly increasing, got {value!r}")
    if len(instance.tier_rates) != len(value) + 1:
        raise ValueError(
            f"tier_rates must have one rate more than tier_bounds ({len(value)} bounds), "
            f"got {len(instance.tier_rates)} rates"
        )


@attrs.frozen(kw_only=True)
class IbkrTieredCommission:
    """Interactive Brokers' tiered commission for US stocks, tiers and third-party fees as parameters.

    Formula, for ``quantity`` shares of traded ``value``, with ``tier_bounds`` ``b_1 < b_2 < ...`` and
    ``b_0 = 0``, ``b_last = infinity``: the order's shares are the account's shares number
    ``monthly_volume + 1`` to ``monthly_volume + quantity`` this month, and each pays the rate of the tier
    it falls in::

        tiered = sum_i tier_rates[i] * (shares of the order numbered in (b_i, b_i+1])
        broker = min(max(minimum, tiered), max_pct * value)
        total  = broker + pass_through_rate * broker
                 + (clearing_per_share + exchange_per_share + regulatory_per_share) * quantity

    Sources (Interactive Brokers, "Commissions: Stocks, ETFs, Warrants and Structured Products", United
    States table, interactivebrokers.co.uk/en/pricing/commissions-stocks.php, as published in 2024-25):
    USD 0.0035/share for a monthly volume up to 300,000 shares, 0.0020 for 300,001-3,000,000, 0.0015 for
    3,000,001-20,000,000, 0.0010 for 20,000,001-100,000,000 and 0.0005 above; minimum USD 0.35 per order;
    maximum 1% of the trade value; NSCC/DTC clearing USD 0.00020 per share; pass-through fees NYSE 0.000175
    and FINRA 0.000563 times the commission (0.000738 together; an earlier version of the page had FINRA
    0.000565). The tiers apply marginally, as in Interactive Brokers' "Stock and ETF Fixed vs. Tiered
    Pricing Comparison Examples" (interactivebrokers.ca, index.php?f=713, figures of 2023): selling
    30,000,000 shares from a month's start pays "IB First 300,000 Shares: $1,050", "IB Next 2,700,000
    Shares: 5,400", "IB Next 17,000,000 Shares: 25,500", "IB Next 10,000,000 Shares: 10,000". When the cap
    is below the minimum, the cap is charged (see the module docstring).

    Exchange fees depend on the venue and whether the order adds or removes liquidity, so
    ``exchange_per_share`` defaults to 0. Regulatory fees on sales (SEC Section 31, FINRA trading activity
    fee) cannot be charged here, as a commission model does not see the side: use the ``us_regulatory_fees``
    fee handler; ``regulatory_per_share`` (default 0) adds a per-share fee on both sides, such as FINRA's
    CAT fee. The clearing fee is not capped at 0.5% of the value as QuantConnect Lean does: no such cap is
    on the broker's page. The broker revises all of these: pass current numbers.

    ``monthly_volume`` is the number of shares the account has already traded this month, fixed for the
    whole run: the run's own volume does not accumulate (a backtest's own volume is rarely what sets an
    account's tier). Examples: 1,000 shares at 20.00 from the month's start: broker ``max(0.35, 3.50) =
    3.50`` (cap 200.00), plus 0.20 clearing and ``3.50 * 0.000738 = 0.002583`` pass-through: 3.702583.
    1,000,000 shares at 20.00: ``300,000 * 0.0035 + 700,000 * 0.0020 = 2,450.00``, plus 200.00 clearing
    and 1.8081 pass-through: 2,651.81.
    """

    name: ClassVar[str] = "ibkr_tiered"

    monthly_volume: float = attrs.field(default=0.0, validator=at_least_zero_field)
    tier_rates: tuple[float, ...] = attrs.field(default=(0.0035, 0.002, 0.0015, 0.001, 0.0005),
                                                converter=_tuple_of_numbers, validator=_tiers)
    tier_bounds: tuple[float, ...] = attrs.field(default=(300_000, 3_000_000, 20_000_000, 100_000_000),
                                                 converter=_tuple_of_numbers, validator=_increasing)
    minimum: float = attrs.field(default=0.35, validator=at_least_zero_field)
    max_pct: float | None = attrs.field(default=0.01, validator=positive_fraction_or_none_field)
    clearing_per_share: float = attrs.field(default=0.0002, validator=at_least_zero_field)
    exchange_per_share: float = attrs.field(default=0.0, validator=at_least_zero_field)
    regulatory_per_share: float = attrs.field(default=0.0, validator=at_least_zero_field)
    pass_through_rate: float = attrs.field(default=0.000175 + 0.000563, validator=fraction_below_one_field)

    @property
    def rate(self) -> float:
        """The per-share rate of the account's next share, number ``monthly_volume + 1``."""
        return float(self.tier_rates[sum(bound <= self.monthly_volume for bound in self.tier_bounds)])

    def tiered(self, quantity: int) -> float:
        """The broker's part before the minimum and the cap: each tier's rate on the shares in that tier."""
        first, last = float(self.monthly_volume), float(self.monthly_volume) + quantity
        lowers = (0.0, *self.tier_bounds)
        uppers = (*self.tier_bounds, math.inf)
        return fsum(rate * (min(last, upper) - max(first, lower))
                    for rate, lower, upper in zip(self.tier_rates, lowers, uppers, strict=True)
                    if min(last, upper) > max(first, lower))

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        broker = max(float(self.minimum), self.tiered(quantity))
        if self.max_pct is not None:
            broker = min(broker, self.max_pct * value)
        per_share = self.clearing_per_share + self.exchange_per_share + self.regulatory_per_share
        return broker * (1 + self.pass_through_rate) + per_share * quantity


@attrs.frozen(kw_only=True)
class SecFeeCommission:
    """The SEC's Section 31 fee, on sales only: ``rate * value`` of each sell fill, 0 on a buy.

    A model that takes the order (:func:`~eventbt.protocols.accepts_order`): the side comes from its
    :class:`~eventbt.protocols.OrderContext`, so sizing a sale already counts the fee. The default ``rate =
    0.0000206`` is USD 20.60 per million of covered sales, in force from 4 April 2026: U.S. Securities and
    Exchange Commission, "Order Making Fiscal Year 2026 Annual Adjustments to Transaction Fee Rates", Release
    No. 34-104909, 27 February 2026 (Federal Register 91 FR 10643, 4 March 2026), and its fee rate advisory for
    fiscal year 2026. Earlier rates: USD 27.80 per million from 22 May 2024, 0.00 from 14 May 2025 to 3 April
    2026 (FINRA Information Notice, 24 April 2025); pass the rate of your period. Brokers round the fee up to
    the cent; that is not modelled. This is the fee alone, what a commission-free broker passes on; to add it
    to a broker's commission, write a model that sums the two (``docs/cost-models.md``), and do not also run
    the ``us_regulatory_fees`` handler's SEC part (``sec_rate = 0``) or the fee is charged twice. Example:
    selling 1,000 shares at 20.00 pays ``0.0000206 x 20,000 = 0.412``; buying them pays 0.
    """

    name: ClassVar[str] = "sec_fee"

    rate: float = attrs.field(default=0.0000206, validator=fraction_below_one_field)

    def commission(self, quantity: int, value: float, order: OrderContext) -> float:
        if quantity <= 0 or order.side > 0:
            return 0.0
        return self.rate * value
