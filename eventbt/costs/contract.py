"""The cost-model contract as a run checks it: every value a commission or slippage model returns, at the call.

The execution handler (filling) and the rebalance handler (sizing) call a model only through
:func:`commission_of` and :func:`fill_price_of` (or :func:`fill_costs`, the two for one expected fill),
which pass the value on when it keeps the contract and otherwise raise a :class:`~eventbt.errors.ContractError`
naming the model, the call and the value:

- a commission: a finite number >= 0, for ``commission(quantity, value)`` or, for a model that takes the
  order, ``commission(quantity, value, order)``;
- a fill price: a finite number > 0, at or above the reference price for a buy and at or below it for a sell
  (slippage never improves a price), for ``fill_price(side, reference_price, quantity)`` or
  ``fill_price(side, reference_price, quantity, order)``.

Which form a model has is read from its method's signature once per model class (:func:`takes_order`, which
the handlers ask when they are built) and kept; a call is then a dictionary look-up and a plain call. A
caller passes ``order`` (an :class:`~eventbt.protocols.OrderContext`) when it has one; a model of the plain
form is called without it.

A model method that raises is reported the same way, with the signature it was called with, so a model
with the wrong signature that slipped past the checks before the run (a model built in Python rather than
from a scenario) is not blamed on the handler that called it. The checks are comparisons on the value
returned; a float in range takes the fast path. A number of another real type (a numpy scalar, ``float64``
included, a ``Fraction``) is passed on as the plain float it equals; a bool is not a number here.

:func:`model_label` names a model as a scenario would: its registered name for a built-in class, else its
import path ``module:Class``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from eventbt.costs.registry import COMMISSION_MODELS, SLIPPAGE_MODELS
from eventbt.errors import ContractError
from eventbt.protocols import OrderContext, accepts_order

__all__ = ["COMMISSION_ORDER_SIGNATURE", "COMMISSION_SIGNATURE", "SLIPPAGE_ORDER_SIGNATURE", "SLIPPAGE_SIGNATURE",
           "commission_of", "fill_costs", "fill_effect", "fill_price_of", "model_label", "order_context_needed",
           "takes_order"]

COMMISSION_SIGNATURE = "commission(quantity, value)"
"""The commission model's protocol method, as messages show it."""
SLIPPAGE_SIGNATURE = "fill_price(side, reference_price, quantity)"
"""The slippage model's protocol method, as messages show it."""
COMMISSION_ORDER_SIGNATURE = "commission(quantity, value, order)"
"""The commission model's richer protocol method (it sees the order)."""
SLIPPAGE_ORDER_SIGNATURE = "fill_price(side, reference_price, quantity, order)"
"""The slippage model's richer protocol method (it sees the order)."""

_INF = math.inf
_METHODS = {"commission": ("commission", 2), "slippage": ("fill_price", 3)}
_TAKES_ORDER: dict[tuple[type, str], bool] = {}


def takes_order(model: object, kind: str) -> bool:
    """Whether ``model`` (a ``kind`` = ``"commission"`` or ``"slippage"`` model) takes the order
    (:func:`~eventbt.protocols.accepts_order` on its method), read once per model class and kept."""
    key = (type(model), kind)
    found = _TAKES_ORDER.get(key)
    if found is None:
        method, positional = _METHODS[kind]
        found = _TAKES_ORDER[key] = accepts_order(getattr(model, method, None), positional)
    return found


def order_context_needed(commission: object, slippage: object) -> bool:
    """Whether either model takes the order: a caller builds an :class:`OrderContext` only then."""
    return takes_order(commission, "commission") or takes_order(slippage, "slippage")


def _order_shown(order: OrderContext | None) -> str:
    """`` (a SELL of 'KO' on 2013-01-03)`` for a call with an order, else nothing."""
    if order is None:
        return ""
    side = "BUY" if order.side > 0 else "SELL"
    when = f" on {order.date}" if order.date else ""
    kind = "" if order.order_type == "market" else f" {order.order_type}"
    return f" (a{kind} {side} of {order.symbol!r}{when})"


def _of(symbol: str | None) -> str:
    """`` of 'KO'`` after a share count, for a call that shows no order; nothing without a symbol."""
    return "" if symbol is None else f" of {symbol!r}"


def _for(symbol: str | None) -> str:
    """`` for 'KO'`` after a call, for a call that shows no order; nothing without a symbol."""
    return "" if symbol is None else f" for {symbol!r}"


def model_label(model: object) -> str:
    """``'per_share'`` for a built-in model, ``'package.module:Class'`` for any other."""
    cls = type(model)
    for registry in (COMMISSION_MODELS, SLIPPAGE_MODELS):
        for name, candidate in registry.items():
            if candidate is cls:
                return name
    return f"{cls.__module__}:{cls.__qualname__}"


def _as_number(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shares(quantity: int) -> str:
    return f"{quantity:,} share{'' if quantity == 1 else 's'}"


def commission_of(model: Any, quantity: int, value: float, order: OrderContext | None = None, *,
                  symbol: str | None = None) -> float:
    """``model.commission(quantity, value)``, or ``model.commission(quantity, value, order)`` for a model that
    takes the order (when ``order`` is given), checked: a finite number >= 0 (see the module docs). ``symbol``
    names the order's symbol in a message when no order is shown."""
    rich = order is not None and takes_order(model, "commission")
    try:
        charge = model.commission(quantity, value, order) if rich else model.commission(quantity, value)
    except Exception as exc:
        call = f"commission({quantity!r}, {value!r}, order)" if rich else f"commission({quantity!r}, {value!r})"
        raise ContractError(
            f"commission model {model_label(model)!r} raised {type(exc).__name__}: {exc} when called as "
            f"{call}{_order_shown(order) if rich else _for(symbol)}; expected "
            f"{COMMISSION_ORDER_SIGNATURE if rich else COMMISSION_SIGNATURE} returning a finite number >= 0",
            plugin=model_label(model)) from exc
    if charge.__class__ is float and 0.0 <= charge < _INF:
        return charge
    number = _as_number(charge)
    if number is not None and 0.0 <= number < _INF:
        return number  # a numpy float64 too: the book's cash and the audit log take plain floats
    raise ContractError(
        f"commission model {model_label(model)!r} returned {_shown(charge)} for {_shares(quantity)}"
        f"{'' if rich else _of(symbol)} worth {value:,.2f}{_order_shown(order if rich else None)}; expected a finite "
        "number >= 0",
        plugin=model_label(model))


def fill_price_of(model: Any, side: int, reference_price: float, quantity: int, bar: object = None,
                  order: OrderContext | None = None, *, symbol: str | None = None) -> float:
    """``model.fill_price(side, reference_price, quantity)`` (``order`` as a fourth argument for a model that
    takes the order, when given; ``bar=`` when given), checked: a finite number > 0 on the trader's worse side
    of the reference price (see the module docs). ``symbol`` names the order's symbol in a message when no
    order is shown."""
    rich = order is not None and takes_order(model, "slippage")
    try:
        if rich:
            fill = (model.fill_price(side, reference_price, quantity, order) if bar is None
                    else model.fill_price(side, reference_price, quantity, order, bar=bar))
        elif bar is None:
            fill = model.fill_price(side, reference_price, quantity)
        else:
            fill = model.fill_price(side, reference_price, quantity, bar=bar)
    except Exception as exc:
        extra = ", order" if rich else ""
        raise ContractError(
            f"slippage model {model_label(model)!r} raised {type(exc).__name__}: {exc} when called as "
            f"fill_price({side!r}, {reference_price!r}, {quantity!r}{extra})"
            f"{_order_shown(order) if rich else _for(symbol)}; "
            f"expected {SLIPPAGE_ORDER_SIGNATURE if rich else SLIPPAGE_SIGNATURE} returning a finite price > 0",
            plugin=model_label(model)) from exc
    if fill.__class__ is float:
        if (reference_price <= fill < _INF) if side > 0 else (0.0 < fill <= reference_price):
            return fill
    else:
        number = _as_number(fill)
        if number is not None and ((reference_price <= number < _INF) if side > 0
                                   else (0.0 < number <= reference_price)):
            return number  # a numpy float64 too, as the commission
    buying = side > 0
    side_rule = ("at or above the reference price for a buy" if buying
                 else "at or below the reference price for a sell")
    raise ContractError(
        f"slippage model {model_label(model)!r} returned {_shown(fill)} for a {'buy' if buying else 'sell'} of "
        f"{_shares(quantity)}{'' if rich else _of(symbol)} at reference price {reference_price!r}"
        f"{_order_shown(order if rich else None)}; "
        f"expected a finite price > 0, {side_rule}", plugin=model_label(model))


def fill_costs(commission: Any, slippage: Any, side: int, reference_price: float, quantity: int,
               order: OrderContext | None = None, *, symbol: str | None = None) -> tuple[float, float]:
    """``(fill price, commission)`` of an expected fill of ``quantity`` shares at ``reference_price``: the fill
    price through :func:`fill_price_of`, then the commission on ``quantity * fill`` through
    :func:`commission_of` (``order`` passed to a model that takes it). Its cash effect is :func:`fill_effect`'s."""
    fill = fill_price_of(slippage, side, reference_price, quantity, order=order, symbol=symbol)
    return fill, commission_of(commission, quantity, quantity * fill, order, symbol=symbol)


def fill_effect(commission: Any, slippage: Any, side: int, reference_price: float, quantity: int,
                order: OrderContext | None = None, *, symbol: str | None = None) -> float:
    """The expected cash effect of that fill (:func:`fill_costs`): ``-side * quantity * fill - commission``, the
    proceeds (> 0) of a sell, minus the cost (< 0) of a buy; what the sizers (rebalance, withdrawal sales) count."""
    fill, charge = fill_costs(commission, slippage, side, reference_price, quantity, order, symbol=symbol)
    return -side * quantity * fill - charge
