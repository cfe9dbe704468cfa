"""The built-in cost models: what a fill pays in commission, and the price it gets after slippage.

Each class fits a protocol of :mod:`eventbt.protocols` by shape and is named in a scenario by its ``name``
(``[execution.commission] model = "per_share"``); the other keys of that table are its parameters.
``quantity`` is whole shares, ``value`` the traded value ``quantity * fill price`` in account currency,
and every commission model charges 0 when nothing is filled (``quantity == 0``).

Commission models (:class:`~eventbt.protocols.CommissionModel`):

- ``zero``: 0.
- ``percentage``: ``max(minimum, rate * value)``; ``rate`` is a fraction (0.001 = 0.1% = 10 bps) and
  ``minimum`` defaults to 0. The scenario supplies the numbers; there is no default rate.
- ``fixed``: ``amount`` per fill, whatever its size.
- ``per_share``: ``min(max(minimum, per_share * quantity), max_pct * value)``, the cap applying only when
  ``max_pct`` is given. This is the shape of Interactive Brokers' fixed schedule for US stocks (IBKR Pro
  "Fixed" pricing): USD 0.005 per share, minimum USD 1.00 per order, maximum 1% of the trade value, which
  are the defaults here except the cap, given as ``max_pct = 0.01`` (a fraction despite the name). The
  broker revises these numbers (older schedules capped at 0.5%), and its fees passed through on top are
  not modelled. When the cap is below the minimum the cap wins, as in that schedule: 100 shares at 0.50
  pay 1% of 50.00 = 0.50, not 1.00.
- ``ibkr_tiered``: Interactive Brokers' tiered schedule for US stocks (IBKR Pro "Tiered"). The broker's
  part is ``min(max(minimum, rate * quantity), max_pct * value)``, where ``rate`` is the tier's per-share
  rate for the account's ``monthly_volume`` (shares already traded this month); third-party fees are
  added on top: ``(clearing_per_share + exchange_per_share + regulatory_per_share) * quantity +
  pass_through_rate * broker part``. See :class:`IbkrTieredCommission` for the published numbers.

Slippage models (:class:`~eventbt.protocols.SlippageModel`), ``side`` +1 for a buy and -1 for a sell:

- ``zero``: the fill is the reference price.
- ``fixed_bps``: buy fill = ``p * (1 + bps / 10000)``, sell fill = ``p * (1 - bps / 10000)``, whatever the
  quantity; ``bps`` has no default.

A slippage model may also expose ``fraction``, the proportional price move it applies whatever the
quantity (``bps / 10000`` for ``fixed_bps``, 0 for ``zero``). It is optional and not part of the
protocol: a caller that finds it may size orders with it, a caller that does not must use ``fill_price``.

Parameters are validated when a model is built: a negative, NaN or infinite amount, a rate of 100% or
more, or a non-number raises :class:`ValueError` (or :class:`TypeError`) whose message starts with the
parameter's name.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import attrs

__all__ = [
    "FixedBpsSlippage",
    "FixedCommission",
    "IbkrTieredCommission",
    "PerShareCommission",
    "PercentageCommission",
    "ZeroCommission",
    "ZeroSlippage",
]


def _number(attribute: attrs.Attribute[Any], value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be finite, got {value!r}")
    return float(value)


def _at_least_zero(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if _number(attribute, value) < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _fraction_below_one(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not 0 <= _number(attribute, value) < 1:
        raise ValueError(f"{attribute.name} must be a fraction >= 0 and < 1 (0.01 = 1%), got {value!r}")


def _positive_fraction_or_none(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not 0 < _number(attribute, value) < 1:
        raise ValueError(f"{attribute.name} must be a fraction > 0 and < 1 (0.01 = 1%), got {value!r}")


def _bps(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not 0 <= _number(attribute, value) < 10_000:
        raise ValueError(f"{attribute.name} must be >= 0 and < 10000 (1 bp = 0.01%), got {value!r}")


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

    rate: float = attrs.field(validator=_fraction_below_one)
    minimum: float = attrs.field(default=0.0, validator=_at_least_zero)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return max(float(self.minimum), self.rate * value)


@attrs.frozen(kw_only=True)
class FixedCommission:
    """``amount`` per fill, whatever its size."""

    name: ClassVar[str] = "fixed"

    amount: float = attrs.field(validator=_at_least_zero)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return float(self.amount)


@attrs.frozen(kw_only=True)
class PerShareCommission:
    """``max(minimum, per_share * quantity)``, capped at ``max_pct * value`` when ``max_pct`` is given.

    The defaults are Interactive Brokers' fixed schedule for US stocks: 0.005 per share, minimum 1.00 per
    order; pass ``max_pct=0.01`` for its cap of 1% of the traded value. For example 100 shares pay
    ``max(1.00, 0.50) = 1.00``, 1,000 shares pay 5.00, and with the cap 1,000 shares at 0.20 (value
    200.00) pay ``min(5.00, 2.00) = 2.00``.
    """

    name: ClassVar[str] = "per_share"

    per_share: float = attrs.field(default=0.005, validator=_at_least_zero)
    minimum: float = attrs.field(default=1.0, validator=_at_least_zero)
    max_pct: float | None = attrs.field(default=None, validator=_positive_fraction_or_none)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        charge = max(float(self.minimum), self.per_share * quantity)
        if self.max_pct is not None:
            charge = min(charge, self.max_pct * value)
        return charge


@attrs.frozen(kw_only=True)
class ZeroSlippage:
    """Fills at the reference price."""

    name: ClassVar[str] = "zero"

    @property
    def fraction(self) -> float:
        """The proportional price move: none."""
        return 0.0

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return float(reference_price)


@attrs.frozen(kw_only=True)
class FixedBpsSlippage:
    """Buys fill ``bps`` basis points above the reference price, sells ``bps`` below, whatever the size."""

    name: ClassVar[str] = "fixed_bps"

    bps: float = attrs.field(validator=_bps)

    @property
    def fraction(self) -> float:
        """The proportional price move, ``bps / 10000`` (5 bps -> 0.0005)."""
        return self.bps / 10_000

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        if side == 1:
            return reference_price * (1 + self.fraction)
        if side == -1:
            return reference_price * (1 - self.fraction)
        raise ValueError(f"side must be +1 (buy) or -1 (sell), got {side!r}")


def _tuple_of_numbers(value: object) -> tuple[float, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of numbers, got {type(value).__name__} {value!r}")
    return tuple(value)


def _tiers(instance: IbkrTieredCommission, attribute: attrs.Attribute[Any], value: tuple[float, ...]) -> None:
    for item in value:
        _number(attribute, item)
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

    Formula, for ``quantity`` shares of traded ``value``::

        rate   = tier_rates[i], i = number of tier_bounds strictly below monthly_volume
        broker = min(max(minimum, rate * quantity), max_pct * value)
        total  = broker + pass_through_rate * broker
                 + (clearing_per_share + exchange_per_share + regulatory_per_share) * quantity

    The defaults are the IBKR Pro "Tiered" schedule for US stocks as published on Interactive Brokers'
    stock-commissions page: USD 0.0035/share for a monthly volume up to 300,000 shares, 0.0020 for
    300,001-3,000,000, 0.0015 for 3,000,001-20,000,000, 0.0010 for 20,000,001-100,000,000 and 0.0005
    above; minimum USD 0.35 per order; maximum 1% of the trade value; NSCC/DTC clearing USD 0.00020 per
    share; pass-through fees NYSE 0.000175 and FINRA 0.000565 times the commission (0.00074 together).
    Exchange fees depend on the venue and whether the order adds or removes liquidity, so
    ``exchange_per_share`` defaults to 0; regulatory fees charged on sales only (SEC transaction fee,
    FINRA trading activity fee) cannot be told apart here, as a commission model does not see the side,
    so ``regulatory_per_share`` defaults to 0. The broker revises all of these: pass current numbers.

    ``monthly_volume`` fixes the tier for the whole run (a backtest's own volume is rarely what sets an
    account's tier). Example: 1,000 shares at 20.00 in the first tier: broker ``max(0.35, 3.50) = 3.50``,
    cap 200.00; plus 0.20 clearing and 0.00259 pass-through: 3.70259.
    """

    name: ClassVar[str] = "ibkr_tiered"

    monthly_volume: float = attrs.field(default=0.0, validator=_at_least_zero)
    tier_rates: tuple[float, ...] = attrs.field(default=(0.0035, 0.002, 0.0015, 0.001, 0.0005),
                                                converter=_tuple_of_numbers, validator=_tiers)
    tier_bounds: tuple[float, ...] = attrs.field(default=(300_000, 3_000_000, 20_000_000, 100_000_000),
                                                 converter=_tuple_of_numbers, validator=_increasing)
    minimum: float = attrs.field(default=0.35, validator=_at_least_zero)
    max_pct: float | None = attrs.field(default=0.01, validator=_positive_fraction_or_none)
    clearing_per_share: float = attrs.field(default=0.0002, validator=_at_least_zero)
    exchange_per_share: float = attrs.field(default=0.0, validator=_at_least_zero)
    regulatory_per_share: float = attrs.field(default=0.0, validator=_at_least_zero)
    pass_through_rate: float = attrs.field(default=0.000175 + 0.000565, validator=_fraction_below_one)

    @property
    def rate(self) -> float:
        """The per-share rate of the tier ``monthly_volume`` falls in."""
        return float(self.tier_rates[sum(bound < self.monthly_volume for bound in self.tier_bounds)])

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        broker = max(float(self.minimum), self.rate * quantity)
        if self.max_pct is not None:
            broker = min(broker, self.max_pct * value)
        per_share = self.clearing_per_share + self.exchange_per_share + self.regulatory_per_share
        return broker * (1 + self.pass_through_rate) + per_share * quantity
