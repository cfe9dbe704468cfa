"""The fill rules of limit and stop orders on daily bars, and the checks of an order's own type fields.

The rules (``docs/orders.md``), with a limit price ``X`` or a stop price ``S`` and the bar's open ``O``, high
``H`` and low ``L``:

- limit buy: fills when ``L <= X``, at ``min(O, X)``; limit sell: when ``H >= X``, at ``max(O, X)``;
- stop buy: when ``H >= S``, at ``max(O, S)``; stop sell: when ``L <= S``, at ``min(O, S)``;
- at placement (``same_close`` only) the order is checked against the close ``C`` it is placed at: a limit
  buy with ``C <= X``, a limit sell with ``C >= X``, a stop buy with ``C >= S``, a stop sell with ``C <= S``
  fills at ``C``.

:func:`on_bar` and :func:`at_placement` return a :class:`Check`: the reference price the order fills at
(``None``: no fill) and why, in words that name the bar's low or high against the limit or stop. The numbers
in the words are the prices as Python writes them (``repr``), so a high of 37.599998 never reads as reaching
a stop of 37.6. The checks are plain float comparisons, cheap enough for every waiting order at every bar.
"""

from __future__ import annotations

import math
import numbers

import attrs

from eventbt.events import OrderEvent
from eventbt.protocols import ORDER_TYPES, TIMES_IN_FORCE

__all__ = ["MAX_SHARES", "SHARE_TOLERANCE", "WAITING_TYPES", "Check", "at_placement", "limit_price_for", "on_bar",
           "order_problem", "price_of", "whole_shares"]

SHARE_TOLERANCE = 1e-9
"""Share counts within this of the next whole number are taken as that number: ``|d| / p`` can land a hair
below an integer from rounding alone (``25 * p / p < 25``), which would otherwise leave one share behind. The
rebalance, the margin liquidation and their recomputation in ``eventbt verify`` all size by it."""


MAX_SHARES = 2**53
"""Share counts are int64 in the books and float64 in ``q * p``: above 2**53 neither is exact."""


def whole_shares(shares: float) -> int:
    """``floor(shares)``, with :data:`SHARE_TOLERANCE` for floating-point rounding."""
    return math.floor(shares + SHARE_TOLERANCE)


WAITING_TYPES = ("limit", "stop")
"""The order types that wait for a bar whose prices reach them."""


@attrs.frozen(kw_only=True)
class Check:
    """One check of an order: on ``bar`` (``date``), the reference price it fills at (``None``: it does not fill
    there) and ``why``, in words."""

    bar: int
    date: str
    price: float | None
    why: str


def _num(value: float) -> str:
    return repr(float(value))


def price_of(order: OrderEvent) -> float:
    """The order's limit price (a limit order) or stop price (a stop order)."""
    price = order.limit_price if order.order_type == "limit" else order.stop_price
    assert price is not None, "a limit or stop order without its price (checked on entry)"
    return price


def on_bar(order: OrderEvent, open_: float, high: float, low: float, *, bar: int, date: str) -> Check:
    """Whether a waiting limit or stop order fills on a bar with this open, high and low (see the module docs)."""
    kind, buying = order.order_type, order.side > 0
    level = price_of(order)
    # A limit buy and a stop sell wait for the low to come down to them; a limit sell and a stop buy for the high.
    low_side = (kind == "limit") == buying
    name, extreme = ("low", low) if low_side else ("high", high)
    if not (extreme == extreme and open_ == open_):  # NaN: no bar for the symbol
        missing = " and ".join(word for word, value in (("open", open_), (name, extreme)) if value != value)
        return Check(bar=bar, date=date, price=None, why=f"no {missing} for {order.symbol} on {date}")
    reached = extreme <= level if low_side else extreme >= level
    word = "limit" if kind == "limit" else "stop"
    if not reached:
        sign = ">" if low_side else "<"
        return Check(bar=bar, date=date, price=None,
                     why=f"{name} {_num(extreme)} {sign} {word} {_num(level)}: not reached on {date}")
    # The price the bar gave first: the open when it is already beyond the level, else the level itself.
    take_min = low_side
    price = min(open_, level) if take_min else max(open_, level)
    sign = "<=" if low_side else ">="
    how = "min" if take_min else "max"
    return Check(bar=bar, date=date, price=price,
                 why=f"{name} {_num(extreme)} {sign} {word} {_num(level)} on {date}: filled at {how}(open "
                     f"{_num(open_)}, {word} {_num(level)}) = {_num(price)}")


def at_placement(order: OrderEvent, close: float, *, bar: int, date: str) -> Check:
    """Whether a limit or stop order fills at once at the close it is placed at (``same_close`` only)."""
    kind, buying = order.order_type, order.side > 0
    level = price_of(order)
    word = "limit" if kind == "limit" else "stop"
    if close != close:
        return Check(bar=bar, date=date, price=None, why=f"no close for {order.symbol} on {date} when placed")
    below = (kind == "limit") == buying  # fills at once when the close is at or below the level
    marketable = close <= level if below else close >= level
    if marketable:
        sign = "<=" if below else ">="
        return Check(bar=bar, date=date, price=close,
                     why=f"close {_num(close)} {sign} {word} {_num(level)} when placed on {date}: filled at the "
                         "close")
    sign = ">" if below else "<"
    return Check(bar=bar, date=date, price=None,
                 why=f"close {_num(close)} {sign} {word} {_num(level)} when placed on {date}: waiting")


def limit_price_for(side: int, reference_price: float, offset_bps: float) -> float:
    """The rebalance's limit price: ``p * (1 - bps / 10000)`` for a buy (below), ``p * (1 + bps / 10000)`` for a
    sell (above)."""
    fraction = offset_bps / 10_000
    return reference_price * (1 - fraction) if side > 0 else reference_price * (1 + fraction)


def _finite_positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return math.isfinite(number) and number > 0


def order_problem(order: OrderEvent) -> str | None:
    """What is wrong with an order's type fields (``order_type``, ``limit_price``, ``stop_price``,
    ``time_in_force``, ``expire_after``), in words that follow ``OrderEvent #N (reason 'x')``; ``None`` when
    nothing is."""
    kind = order.order_type
    if kind not in ORDER_TYPES:
        return f"has order_type {kind!r}; expected one of {', '.join(map(repr, ORDER_TYPES))}"
    for field, wanted in (("limit_price", "limit"), ("stop_price", "stop")):
        value = getattr(order, field)
        if kind == wanted and not _finite_positive(value):
            return f"is a {kind} order with {field} {value!r}; expected a finite number > 0"
        if kind != wanted and value is not None:
            return f"is a {kind} order with a {field} ({value!r}); expected {field} only on a {wanted} order"
    if order.time_in_force not in TIMES_IN_FORCE:
        return (f"has time_in_force {order.time_in_force!r}; expected one of "
                f"{', '.join(map(repr, TIMES_IN_FORCE))}")
    expire = order.expire_after
    if kind not in WAITING_TYPES and order.time_in_force != "day":
        return (f"is a {kind} order with time_in_force {order.time_in_force!r}; expected time_in_force only on a "
                "limit or stop order")
    if kind not in WAITING_TYPES and expire is not None:
        return f"is a {kind} order with expire_after {expire!r}; expected expire_after only on a limit or stop order"
    if expire is not None:
        if isinstance(expire, bool) or not isinstance(expire, int) or expire < 1:
            return f"has expire_after {expire!r}; expected a whole number of bars >= 1 (an int)"
        if order.time_in_force != "gtc":
            return f"has expire_after {expire} with time_in_force 'day'; expected expire_after only with 'gtc'"
    return None
