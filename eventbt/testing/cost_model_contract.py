"""The contract every cost model keeps, as two checks to call from your own tests.

Every built-in model passes them, and a custom model should too::

    from eventbt.testing import check_commission_model

    def test_my_commission_keeps_the_contract():
        check_commission_model(MyCommission(rate=0.001))

:func:`check_commission_model` calls ``commission(quantity, quantity * price)`` over a grid of quantities
(1 to 1,000,000 shares) and prices (0.01 to 100,000) and requires: 0 for quantity 0; a finite real
number, never negative; the same answer for the same inputs; non-decreasing in quantity at a fixed price
(to within a relative 1e-12, for float noise); finite on extreme inputs (prices down to 1e-8, quantities up
to 10**12).

:func:`check_slippage_model` calls ``fill_price(side, price, quantity)`` for buys (+1) and sells (-1) over
the same grid and extremes and requires: a finite real number above 0; never better than the reference
price for the trader (not below it for a buy, not above it for a sell); the same answer for the same
inputs. A model whose ``fill_price`` takes the ``bar`` keyword is checked again with each of
:data:`CONTRACT_BARS` (an ordinary bar, zero volume, no volume data, a first bar with no history, a bar
with a spread column, a huge range); it may instead raise :class:`ValueError` for a bar it cannot price,
a clear error. A model that sets ``monotone_in_quantity = True`` must also move the price no less for more
shares (buys non-decreasing, sells non-increasing, to within a relative 1e-12). A model that declares
``bar_fields`` (the :class:`~eventbt.protocols.BarContext` fields it reads, which a run checks against the
data's columns) must name only fields :class:`~eventbt.protocols.BarContext` has.

A model that takes the order (``commission(quantity, value, order)``, ``fill_price(side, reference_price,
quantity, order)``; see :func:`~eventbt.protocols.accepts_order`) is checked with each of
:data:`CONTRACT_ORDERS` (buys and sells of the market and waiting types, a symbol it may not know, a sizing
call with no order id): every property above must hold for each order, the monotony for a fixed order. A
slippage model is given only the orders of the side it is asked about.

A violation raises :class:`AssertionError` naming the model, the call and the property broken. So does a
model that cannot be called as the protocol says (no such method, or a signature that takes neither the
protocol's positional arguments nor those and the order: the message shows all three) and a call that raises
(the message names the call and the exception, which is chained as the cause).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from eventbt.protocols import (
    BarContext,
    CommissionModel,
    OrderContext,
    SlippageModel,
    accepts_bar,
    accepts_order,
    bar_columns_needed,
)

__all__ = ["CONTRACT_BARS", "CONTRACT_ORDERS", "check_commission_model", "check_slippage_model"]

CONTRACT_BARS: dict[str, BarContext] = {
    "ordinary": BarContext(open=99.0, high=101.0, low=98.0, close=100.0, volume=1_000_000.0,
                           previous_high=100.5, previous_low=98.5, average_volume=900_000.0,
                           volatility=0.02, window=20),
    "zero_volume": BarContext(open=10.0, high=10.0, low=10.0, close=10.0, volume=0.0, average_volume=0.0,
                              volatility=0.0, window=20),
    "no_volume_data": BarContext(open=10.0, high=11.0, low=9.0, close=10.0, window=20),
    "first_bar": BarContext(timing="next_open", fill_open=10.0, window=20),
    "spread_column": BarContext(high=50.5, low=49.5, close=50.0, spread=0.1, volume=10.0, average_volume=10.0,
                                volatility=0.5, window=20),
    "huge_range": BarContext(high=1e7, low=1e-8, close=1.0, volume=1.0, average_volume=1e-3, volatility=5.0,
                             window=20),
}
"""The bars a bar-aware slippage model is checked with, by name."""

CONTRACT_ORDERS: dict[str, OrderContext] = {
    "buy": OrderContext(side=1, symbol="AAPL", bar=10, date="2024-01-16", time_ns=1_705_420_800_000_000_000,
                        reason="rebalance", order_id=12),
    "sell": OrderContext(side=-1, symbol="AAPL", bar=10, date="2024-01-16", time_ns=1_705_420_800_000_000_000,
                         reason="exit", order_id=13),
    "buy_limit": OrderContext(side=1, symbol="MSFT", order_type="limit", bar=11, date="2024-01-17",
                              time_ns=1_705_507_200_000_000_000, reason="manual", order_id=20),
    "sell_stop": OrderContext(side=-1, symbol="MSFT", order_type="stop", bar=11, date="2024-01-17",
                              time_ns=1_705_507_200_000_000_000, reason="manual", order_id=21),
    "sell_on_open": OrderContext(side=-1, symbol="KO", order_type="market_on_open", bar=12, date="2024-01-18",
                                 time_ns=1_705_593_600_000_000_000, reason="rebalance", order_id=30),
    "unknown_symbol_buy": OrderContext(side=1, symbol="ZZZZ9", bar=0, date="2024-01-02", reason="liquidate"),
    "sizing_sell": OrderContext(side=-1, symbol="KO"),
}
"""The orders a cost model that takes the order is checked with, by name (a sizing call has no id, no date)."""

_QUANTITIES = (1, 2, 3, 10, 99, 100, 101, 199, 200, 250, 1_000, 5_000, 10_000, 100_000, 1_000_000)
_PRICES = (0.01, 0.1, 0.2, 0.5, 1.0, 9.99, 10.0, 50.0, 100.0, 1_000.0, 10_000.0, 100_000.0)
_EXTREME_QUANTITIES = (1, 1_000_000_000, 10**12)
_EXTREME_PRICES = (1e-8, 1e-4, 1e5, 1e7)

_MONOTONE_TOLERANCE = 1e-12


def _named(model: object) -> str:
    """The model as a message names it: its own ``repr`` (an attrs class shows its parameters), else
    ``module:Class`` rather than ``<module.Class object at 0x...>``."""
    if type(model).__repr__ is not object.__repr__:
        return repr(model)
    from eventbt.costs.contract import model_label

    return model_label(model)


def _violation(model: object, call: str, result: object, broken: str) -> AssertionError:
    return AssertionError(f"{_named(model)}: {call} returned {result!r}, which breaks: {broken}")


def _shape(model: object, method: str, arguments: tuple[str, ...]) -> None:
    """Raise unless ``model.<method>`` exists and takes ``arguments`` (or those and ``order``) as positional
    arguments."""
    from eventbt.protocols import signature_problem

    expected = f"{method}({', '.join(arguments)})"
    if isinstance(model, type):  # its method unbound: self would take the first argument, and the order form fit
        raise AssertionError(f"{model.__module__}:{model.__qualname__} is a class; pass an instance "
                             f"({model.__qualname__}(...)), as a scenario builds one")
    bound = getattr(model, method, None)
    if not callable(bound):
        raise AssertionError(f"{_named(model)}: has no {method}() method; expected {expected} or "
                             f"{method}({', '.join(arguments)}, order)")
    problem = signature_problem(bound, arguments, (*arguments, "order"))
    if problem is not None:
        raise AssertionError(f"{_named(model)}: has {problem}")


def _call(model: object, call: str, function: Callable[..., Any], *arguments: Any,
          allowed: tuple[type[Exception], ...] = (), **keywords: Any) -> Any:
    """``function(*arguments, **keywords)``; an exception (other than ``allowed``) fails the check, named."""
    try:
        return function(*arguments, **keywords)
    except allowed:
        raise
    except Exception as exc:
        raise AssertionError(f"{_named(model)}: {call} raised {type(exc).__name__}: {exc}") from exc


def _checked_number(model: object, call: str, result: object) -> float:
    if isinstance(result, bool) or not isinstance(result, numbers.Real):
        raise _violation(model, call, result, "the result must be a real number")
    if not math.isfinite(result):
        raise _violation(model, call, result, "the result must be finite")
    return float(result)


def check_commission_model(model: CommissionModel) -> None:
    """Raise :class:`AssertionError` unless ``model`` keeps the commission-model contract."""
    _shape(model, "commission", ("quantity", "value"))
    if accepts_order(model.commission, 2):
        for name, order in CONTRACT_ORDERS.items():
            _check_commission(model, order, f", order=CONTRACT_ORDERS[{name!r}]")
    else:
        _check_commission(model, None, "")


def _check_commission(model: CommissionModel, order: OrderContext | None, shown: str) -> None:
    def charged(call: str, quantity: int, value: float) -> Any:
        if order is None:
            return _call(model, call, model.commission, quantity, value)
        return _call(model, call, model.commission, quantity, value, order)

    zero_call = f"commission(quantity=0, value=0.0{shown})"
    nothing = _checked_number(model, zero_call, charged(zero_call, 0, 0.0))
    if nothing != 0:
        raise _violation(model, zero_call, nothing, "nothing filled must cost 0")
    for price in _PRICES:
        previous: tuple[int, float] | None = None
        for quantity in _QUANTITIES:
            value = quantity * price
            call = f"commission(quantity={quantity}, value={value!r}{shown})"
            charge = _checked_number(model, call, charged(call, quantity, value))
            if charge < 0:
                raise _violation(model, call, charge, "commission must not be negative")
            again = charged(call, quantity, value)
            if again != charge:
                raise _violation(
                    model, call, charge, f"the same inputs must give the same commission (then {again!r})"
                )
            if previous is not None:
                previous_quantity, previous_charge = previous
                if charge < previous_charge - _MONOTONE_TOLERANCE * max(1.0, abs(previous_charge)):
                    raise _violation(
                        model,
                        call,
                        charge,
                        f"commission must not fall as quantity grows at price {price} (quantity "
                        f"{previous_quantity} cost {previous_charge!r})",
                    )
            previous = (quantity, charge)
    for price in _EXTREME_PRICES:
        for quantity in _EXTREME_QUANTITIES:
            value = quantity * price
            call = f"commission(quantity={quantity}, value={value!r}{shown})"
            charge = _checked_number(model, call, charged(call, quantity, value))
            if charge < 0:
                raise _violation(model, call, charge, "commission must not be negative")


def check_slippage_model(model: SlippageModel) -> None:
    """Raise :class:`AssertionError` unless ``model`` keeps the slippage-model contract."""
    _shape(model, "fill_price", ("side", "reference_price", "quantity"))
    try:
        bar_columns_needed(model)
    except ValueError as exc:
        raise AssertionError(f"{_named(model)}: {exc}") from None
    except TypeError as exc:
        raise AssertionError(f"{_named(model)}: bar_fields must be a tuple of BarContext field names, or a tuple of "
                             f"such tuples ({exc})") from None
    orders: list[tuple[str, OrderContext | None]] = [("", None)]
    if accepts_order(model.fill_price, 3):
        orders = [(name, order) for name, order in CONTRACT_ORDERS.items()]
    for order_name, order in orders:
        shown = f", order=CONTRACT_ORDERS[{order_name!r}]" if order is not None else ""
        _check_slippage(model, None, shown, order)
        if accepts_bar(model.fill_price):
            for name, bar in CONTRACT_BARS.items():
                try:
                    _check_slippage(model, bar, f"{shown}, bar=CONTRACT_BARS[{name!r}]", order)
                except ValueError:
                    continue  # a clear error for a bar the model cannot price is allowed


def _check_slippage(model: SlippageModel, bar: BarContext | None, shown: str,
                    order: OrderContext | None = None) -> None:
    monotone = getattr(model, "monotone_in_quantity", False) is True
    keywords = {} if bar is None else {"bar": bar}
    allowed: tuple[type[Exception], ...] = () if bar is None else (ValueError,)
    with_order = () if order is None else (order,)
    for side, worse in (
        (1, "below the reference price for a buy"),
        (-1, "above the reference price for a sell"),
    ):
        if order is not None and order.side != side:
            continue  # an order is priced on its own side only
        for price in (*_PRICES, *_EXTREME_PRICES):
            previous: float | None = None
            for quantity in sorted({*_QUANTITIES, *_EXTREME_QUANTITIES}):
                call = f"fill_price(side={side}, reference_price={price!r}, quantity={quantity}{shown})"
                fill = _checked_number(model, call, _call(model, call, model.fill_price, side, price, quantity,
                                                          *with_order, allowed=allowed, **keywords))
                if fill <= 0:
                    raise _violation(model, call, fill, "a fill price must be above 0")
                if side * (fill - price) < 0:
                    raise _violation(model, call, fill, f"a fill must not be {worse}")
                again = _call(model, call, model.fill_price, side, price, quantity, *with_order, allowed=allowed,
                              **keywords)
                if again != fill:
                    raise _violation(
                        model, call, fill, f"the same inputs must give the same fill price (then {again!r})"
                    )
                if monotone and previous is not None and side * (fill - previous) < -_MONOTONE_TOLERANCE * previous:
                    raise _violation(
                        model, call, fill,
                        f"monotone_in_quantity: the price must not move less for more shares (then {previous!r})",
                    )
                previous = fill
