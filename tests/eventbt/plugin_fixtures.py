"""Classes that the plug-in tests name by import path, as a user's own module would define them."""

from __future__ import annotations

import attrs


def _not_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class FlatPlusPercentCommission:
    """A commission of ``base`` plus ``rate`` of the traded value per fill."""

    base: float = attrs.field(validator=_not_negative)
    rate: float = attrs.field(default=0.0, validator=_not_negative)

    def commission(self, quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return self.base + self.rate * value


class SpreadSlippage:
    """A plain (not attrs) slippage model: pays half of ``spread`` (a fraction) on each side."""

    def __init__(self, spread: float = 0.0) -> None:
        self.spread = spread

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price * (1 + side * self.spread / 2)


class Brokers:
    """A namespace, so a model can be named by a dotted attribute path."""

    @attrs.frozen(kw_only=True)
    class Discount:
        """One unit of account currency per fill."""

        def commission(self, quantity: int, value: float) -> float:
            return 1.0 if quantity > 0 else 0.0


class NotACostModel:
    """A class with neither ``commission`` nor ``fill_price``."""


def make_commission() -> FlatPlusPercentCommission:
    """A function, not a class."""
    return FlatPlusPercentCommission(base=1.0)
