"""The cost-model contract: every built-in model keeps it, and broken models fail it with a clear message."""

from __future__ import annotations

import itertools

import attrs
import pytest

import eventbt.testing
from eventbt.protocols import OrderContext, accepts_order
from eventbt.scenario.plugins import COMMISSION_MODELS, SLIPPAGE_MODELS
from eventbt.testing.cost_model_contract import CONTRACT_ORDERS, check_commission_model, check_slippage_model

# Parameters for each built-in model; a model added to a registry without an entry here fails its test.
COMMISSION_EXAMPLES: dict[str, list[dict[str, object]]] = {
    "zero": [{}],
    "percentage": [{"rate": 0.001}, {"rate": 0.0025, "minimum": 5.0}],
    "fixed": [{"amount": 0.0}, {"amount": 4.95}],
    "per_share": [{}, {"max_pct": 0.01}, {"per_share": 0.01, "minimum": 0.0, "max_pct": 0.005}],
    "ibkr_tiered": [{}, {"monthly_volume": 5_000_000}, {"max_pct": None, "exchange_per_share": 0.003}],
    "sec_fee": [{}, {"rate": 0.0000278}, {"rate": 0.0}],
}
SLIPPAGE_EXAMPLES: dict[str, list[dict[str, object]]] = {
    "zero": [{}],
    "fixed_bps": [{"bps": 0}, {"bps": 5}, {"bps": 9_999}],
    "half_spread": [{}, {"spread_bps": 10}, {"max_fraction": 0.01}],
    "volume_share": [{}, {"volume_limit": 0.1, "price_impact": 0.5}],
    "sqrt_impact": [{}, {"coefficient": 0.5, "max_fraction": 0.5}],
    "spread_by_symbol": [{}, {"spread_bps": {"AAPL": 2.0, "KO": 9_999.0}, "default_spread_bps": 10.0}],
}


def test_testing_package_reexports_the_checks() -> None:
    """eventbt.testing exposes the two contract checks."""
    assert eventbt.testing.check_commission_model is check_commission_model
    assert eventbt.testing.check_slippage_model is check_slippage_model


@pytest.mark.parametrize("name", sorted(COMMISSION_MODELS))
def test_built_in_commission_models_keep_the_contract(name: str) -> None:
    """Every registered commission model passes the contract with each example's parameters."""
    for parameters in COMMISSION_EXAMPLES[name]:
        check_commission_model(COMMISSION_MODELS[name](**parameters))


@pytest.mark.parametrize("name", sorted(SLIPPAGE_MODELS))
def test_built_in_slippage_models_keep_the_contract(name: str) -> None:
    """Every registered slippage model passes the contract with each example's parameters."""
    for parameters in SLIPPAGE_EXAMPLES[name]:
        check_slippage_model(SLIPPAGE_MODELS[name](**parameters))


def case(model: object, message: str) -> object:
    """One parametrized case, named after the model's class."""
    return pytest.param(model, message, id=type(model).__name__)


@attrs.frozen
class RebateCommission:
    """Pays the trader one unit per fill: negative commission."""

    def commission(self, quantity: int, value: float) -> float:
        return -1.0 if quantity > 0 else 0.0


@attrs.frozen
class AlwaysOneCommission:
    """Charges one unit even when nothing is filled."""

    def commission(self, quantity: int, value: float) -> float:
        return 1.0


@attrs.define
class CountingCommission:
    """Charges more on every call: not deterministic."""

    calls: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1), repr=False)

    def commission(self, quantity: int, value: float) -> float:
        return 0.0 if quantity == 0 else next(self.calls) / 100


@attrs.frozen
class VolumeDiscountCommission:
    """Charges 10 / quantity: cheaper in total for bigger fills."""

    def commission(self, quantity: int, value: float) -> float:
        return 0.0 if quantity == 0 else 10 / quantity


@attrs.frozen
class OverflowingCommission:
    """Charges 1e300 per share, which overflows to infinity beyond 1e8 shares."""

    def commission(self, quantity: int, value: float) -> float:
        return quantity * 1e300


@attrs.frozen
class TextCommission:
    """Returns text instead of a number."""

    def commission(self, quantity: int, value: float) -> object:
        return "0"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        case(
            RebateCommission(),
            "RebateCommission(): commission(quantity=1, value=0.01) returned -1.0, "
            "which breaks: commission must not be negative",
        ),
        case(
            AlwaysOneCommission(),
            "AlwaysOneCommission(): commission(quantity=0, value=0.0) returned 1.0, "
            "which breaks: nothing filled must cost 0",
        ),
        case(
            # first call at quantity 1 returns 1 / 100 = 0.01, the repeat 2 / 100 = 0.02
            CountingCommission(),
            "CountingCommission(): commission(quantity=1, value=0.01) returned 0.01, "
            "which breaks: the same inputs must give the same commission (then 0.02)",
        ),
        case(
            # 10 / 1 = 10.0 at quantity 1, then 10 / 2 = 5.0 at quantity 2, both at price 0.01
            VolumeDiscountCommission(),
            "VolumeDiscountCommission(): commission(quantity=2, value=0.02) returned 5.0, which breaks: "
            "commission must not fall as quantity grows at price 0.01 (quantity 1 cost 10.0)",
        ),
        case(
            # the grid stops at 1e6 shares (1e306, finite); the first extreme input is 1e9 shares at 1e-8
            OverflowingCommission(),
            f"OverflowingCommission(): commission(quantity=1000000000, value={1_000_000_000 * 1e-8!r}) "
            "returned inf, which breaks: the result must be finite",
        ),
        case(
            TextCommission(),
            "TextCommission(): commission(quantity=0, value=0.0) returned '0', "
            "which breaks: the result must be a real number",
        ),
    ],
)
def test_broken_commission_models_fail_the_contract(model: object, message: str) -> None:
    """A commission model that breaks the contract fails with the model, the call and the property."""
    with pytest.raises(AssertionError) as excinfo:
        check_commission_model(model)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@attrs.frozen
class HalfPriceSlippage:
    """Buys at half the reference price: better than the market for the trader."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price / 2 if side == 1 else reference_price


@attrs.frozen
class SideBlindSlippage:
    """Doubles the price whatever the side, so sells fill above the reference."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price * 2


@attrs.frozen
class FreeSaleSlippage:
    """Sells at a price of 0."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price if side == 1 else 0.0


@attrs.define
class DriftingSlippage:
    """Adds a growing amount on every call: not deterministic."""

    calls: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1), repr=False)

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price + side * next(self.calls)


@attrs.frozen
class NanSlippage:
    """Returns NaN."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return float("nan")


@attrs.frozen
class MisspeltBarFields:
    """Declares a BarContext field that does not exist, so a run could not check its data."""

    bar_fields = ("avg_volume",)

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: object = None) -> float:
        return reference_price


@pytest.mark.parametrize(
    ("model", "message"),
    [
        case(
            MisspeltBarFields(),
            "MisspeltBarFields(): bar_fields names 'avg_volume', which is not a BarContext field (known: open, "
            "fill_open, high, low, previous_high, previous_low, close, volatility, volume, average_volume, spread)",
        ),
        case(
            # 0.01 / 2 = 0.005 < 0.01
            HalfPriceSlippage(),
            "HalfPriceSlippage(): fill_price(side=1, reference_price=0.01, quantity=1) returned 0.005, "
            "which breaks: a fill must not be below the reference price for a buy",
        ),
        case(
            # buys pass (0.02 >= 0.01); the first sell, 0.01 * 2 = 0.02, is above 0.01
            SideBlindSlippage(),
            "SideBlindSlippage(): fill_price(side=-1, reference_price=0.01, quantity=1) returned 0.02, "
            "which breaks: a fill must not be above the reference price for a sell",
        ),
        case(
            FreeSaleSlippage(),
            "FreeSaleSlippage(): fill_price(side=-1, reference_price=0.01, quantity=1) returned 0.0, "
            "which breaks: a fill price must be above 0",
        ),
        case(
            # first call 0.01 + 1 = 1.01, the repeat 0.01 + 2 = 2.01
            DriftingSlippage(),
            "DriftingSlippage(): fill_price(side=1, reference_price=0.01, quantity=1) returned 1.01, "
            "which breaks: the same inputs must give the same fill price (then 2.01)",
        ),
        case(
            NanSlippage(),
            "NanSlippage(): fill_price(side=1, reference_price=0.01, quantity=1) returned nan, "
            "which breaks: the result must be finite",
        ),
    ],
)
def test_broken_slippage_models_fail_the_contract(model: object, message: str) -> None:
    """A slippage model that breaks the contract fails with the model, the call and the property."""
    with pytest.raises(AssertionError) as excinfo:
        check_slippage_model(model)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@attrs.frozen
class SizeBlindBarSlippage:
    """Bar-aware, says it is monotone, but charges less for bigger orders when the bar has volume."""

    monotone_in_quantity = True

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: object = None) -> float:
        volume = getattr(bar, "volume", float("nan"))
        fraction = 0.01 / quantity if volume == volume else 0.0
        return reference_price * (1 + side * fraction)


@attrs.frozen
class BarGoesNegative:
    """Bar-aware: a sell at zero volume fills at a negative price."""

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: object = None) -> float:
        if bar is not None and getattr(bar, "volume", 1.0) == 0:
            return reference_price * (1 + side * 2.0)
        return reference_price


@attrs.frozen
class RefusesUnknownVolume:
    """Bar-aware: raises a clear ValueError when the bar has no volume data."""

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: object = None) -> float:
        if bar is not None and getattr(bar, "volume", 0.0) != getattr(bar, "volume", 0.0):
            raise ValueError("volume is unknown")
        return reference_price


def test_bar_aware_models_are_checked_with_the_contract_bars() -> None:
    """A bar-aware model that breaks monotonicity only when given a bar fails, naming the bar."""
    with pytest.raises(AssertionError, match=r"bar=CONTRACT_BARS\['ordinary'\].*monotone_in_quantity"):
        check_slippage_model(SizeBlindBarSlippage())


def test_bar_aware_models_must_stay_positive_at_zero_volume() -> None:
    """A sell filling below zero at zero volume breaks the contract."""
    with pytest.raises(AssertionError, match=r"zero_volume.*above 0"):
        check_slippage_model(BarGoesNegative())


def test_a_clear_value_error_for_a_bar_is_allowed() -> None:
    """A model may refuse a bar it cannot price with a ValueError."""
    check_slippage_model(RefusesUnknownVolume())


def test_plain_three_argument_models_are_not_given_a_bar() -> None:
    """A model without the bar keyword is only called with three arguments, and passes."""

    @attrs.frozen
    class Plain:
        def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
            return reference_price * (1 + side * 0.001)

    check_slippage_model(Plain())


# --- the richer form: models that take the order ------------------------------------------------------------


class _Plain:
    def commission(self, quantity: int, value: float) -> float:
        return 0.0


class _Rich:
    def commission(self, quantity: int, value: float, order: OrderContext) -> float:
        return 0.0


class _RichByPosition:
    def commission(self, quantity: int, value: float, context: OrderContext) -> float:
        return 0.0


class _OptionalOrder:
    def commission(self, quantity: int, value: float, order: OrderContext | None = None) -> float:
        return 0.0


class _OptionalOther:
    def commission(self, quantity: int, value: float, rate: float = 0.001) -> float:
        return 0.0


class _StarArgs:
    def commission(self, quantity: int, value: float, *extra: object) -> float:
        return 0.0


@pytest.mark.parametrize(("model", "takes"), [
    (_Plain(), False), (_Rich(), True), (_RichByPosition(), True), (_OptionalOrder(), True),
    (_OptionalOther(), False), (_StarArgs(), False),
], ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value))
def test_the_richer_form_is_read_from_the_signature(model: object, takes: bool) -> None:
    """A third positional parameter named order, or one without a default, is the order; else the plain form."""
    assert accepts_order(model.commission, 2) is takes  # type: ignore[attr-defined]


@attrs.frozen
class SellRebateCommission:
    """Takes the order and pays a rebate of 1.00 on every sale: negative commission."""

    def commission(self, quantity: int, value: float, order: OrderContext) -> float:
        return -1.0 if quantity > 0 and order.side < 0 else 0.0


@attrs.frozen
class BuysBelowSlippage:
    """Takes the order, and fills a limit buy 1% below the reference price: better than the market."""

    def fill_price(self, side: int, reference_price: float, quantity: int, order: OrderContext) -> float:
        return reference_price * 0.99 if order.order_type == "limit" else reference_price


@attrs.frozen
class OneSymbolOnly:
    """Takes the order, and cannot price a symbol it does not know (raises KeyError)."""

    def fill_price(self, side: int, reference_price: float, quantity: int, order: OrderContext) -> float:
        return reference_price * {"AAPL": 1.0, "MSFT": 1.0, "KO": 1.0}[order.symbol] ** side


@pytest.mark.parametrize(
    ("check", "model", "message"),
    [
        # the grid starts at quantity 1, price 0.01; "buy" comes first in CONTRACT_ORDERS and charges 0
        (check_commission_model, SellRebateCommission(),
         "SellRebateCommission(): commission(quantity=1, value=0.01, order=CONTRACT_ORDERS['sell']) returned -1.0, "
         "which breaks: commission must not be negative"),
        # 0.01 * 0.99 = 0.0099 for the first limit order, a buy
        (check_slippage_model, BuysBelowSlippage(),
         f"BuysBelowSlippage(): fill_price(side=1, reference_price=0.01, quantity=1, "
         f"order=CONTRACT_ORDERS['buy_limit']) returned {0.01 * 0.99!r}, which breaks: a fill must not be below the "
         "reference price for a buy"),
        (check_slippage_model, OneSymbolOnly(),
         "OneSymbolOnly(): fill_price(side=1, reference_price=0.01, quantity=1, "
         "order=CONTRACT_ORDERS['unknown_symbol_buy']) raised KeyError: 'ZZZZ9'"),
    ],
    ids=["SellRebateCommission", "BuysBelowSlippage", "OneSymbolOnly"],
)
def test_models_that_take_the_order_are_checked_with_every_contract_order(check: object, model: object,
                                                                           message: str) -> None:
    """The contract calls a model that takes the order with each CONTRACT_ORDERS entry and names the one that broke."""
    with pytest.raises(AssertionError) as excinfo:
        check(model)  # type: ignore[operator]
    assert str(excinfo.value) == message


def test_the_contract_orders_cover_both_sides_and_the_waiting_types() -> None:
    """Buys and sells, market, limit, stop and market_on_open orders, and a sizing call without an id."""
    orders = CONTRACT_ORDERS.values()
    assert {order.side for order in orders} == {1, -1}
    assert {order.order_type for order in orders} >= {"market", "limit", "stop", "market_on_open"}
    assert any(order.order_id is None and not order.date for order in orders)


class PlainRebate:
    """A plain class (no repr of its own) whose commission is a rebate."""

    def commission(self, quantity: int, value: float) -> float:
        return -0.001 * value


def test_a_model_without_a_repr_of_its_own_is_named_by_its_import_path() -> None:
    """Not `<...PlainRebate object at 0x7f...>`: the message names the class as a scenario would."""
    with pytest.raises(AssertionError) as excinfo:
        check_commission_model(PlainRebate())
    assert str(excinfo.value).startswith(f"{__name__}:PlainRebate: commission(quantity=1, value=0.01) returned ")


def test_a_class_given_instead_of_an_instance_is_named_as_such() -> None:
    """check_commission_model(CappedPct) (the class) called the unbound method with the quantity as self and
    failed inside the model: "'int' object has no attribute 'minimum'". It says to pass an instance."""
    from eventbt.costs.commission import PercentageCommission
    from eventbt.costs.slippage import FixedBpsSlippage

    for check, model in ((check_commission_model, PercentageCommission), (check_slippage_model, FixedBpsSlippage)):
        with pytest.raises(AssertionError) as caught:
            check(model)  # type: ignore[arg-type]
        assert str(caught.value) == (f"{model.__module__}:{model.__qualname__} is a class; pass an instance "
                                     f"({model.__qualname__}(...)), as a scenario builds one")
