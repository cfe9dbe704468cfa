"""Plug-ins that break their contract, named by import path in the hostile-input tests as a user's module would.

Each class does one wrong thing, said in its docstring; the tests check the error that names it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eventbt.events import CashFlowEvent, Event, FeeEvent, FillEvent, MarketEvent, OrderEvent, Side, SignalEvent
from eventbt.handler import Handler
from handlers.fees import FeeHandler

# --- commission models ---------------------------------------------------------------------------------------


class NegativeCommission:
    """A rebate of 1.00 on every fill (and on nothing filled too)."""

    def commission(self, quantity: int, value: float) -> float:
        return -1.0


class NumpyCommission:
    """1.00 a fill or 0.1% of the value, whichever is more, written with numpy: a numpy float64."""

    def commission(self, quantity: int, value: float) -> Any:
        return np.maximum(1.0, 0.001 * value)


class NumpyFee(Handler):
    """A custody fee of 0.50 at every bar after the first, as a numpy float64."""

    name = "numpy_fee"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event]:
        return [FeeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                         model=self.name, amount=np.float64(0.5), reason="custody")] if event.bar else []


class NumpyDeposit(Handler):
    """A deposit of numpy.float64(250.0) at the second bar."""

    name = "numpy_deposit"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event]:
        return [CashFlowEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar,
                              amount=np.float64(250.0), reason="numpy deposit")] if event.bar == 1 else []


class NanCommission:
    """NaN for any fill."""

    def commission(self, quantity: int, value: float) -> float:
        return math.nan if quantity else 0.0


class InfiniteCommission:
    """Infinity for any fill."""

    def commission(self, quantity: int, value: float) -> float:
        return math.inf if quantity else 0.0


class TextCommission:
    """A string instead of a number."""

    def commission(self, quantity: int, value: float) -> Any:
        return "1.00"


class RaisingCommission:
    """Raises for every call."""

    def commission(self, quantity: int, value: float) -> float:
        raise RuntimeError("rate table not loaded")


class OneArgumentCommission:
    """``commission(order)``: the wrong signature."""

    def commission(self, order: object) -> float:
        return 0.0


class FourArgumentCommission:
    """``commission(quantity, value, side, venue)``: one argument too many even for the form that takes the order."""

    def commission(self, quantity: int, value: float, side: int, venue: str) -> float:
        return 0.0


class NotCallableCommission:
    """``commission`` set to a number on the instance."""

    def commission(self, quantity: int, value: float) -> float:
        return 0.0

    def __init__(self) -> None:
        self.commission = 5.0  # type: ignore[assignment, method-assign]


class NegativeAtTheFill:
    """Fine while the rebalance sizes orders (it asks about whole orders), negative for an odd share count."""

    def commission(self, quantity: int, value: float) -> float:
        return -2.5 if quantity == 7 else 0.0


# --- slippage models -----------------------------------------------------------------------------------------


class NegativeFill:
    """A negative fill price."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return -reference_price


class ImprovingFill:
    """A price 1% better than the reference for the trader, on both sides."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price * (1 - 0.01 * side)


class NanFill:
    """NaN for any fill."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return math.nan


class ZeroSellFill:
    """Buys at the reference, sells at 0."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price if side > 0 else 0.0


class NumberBarFields:
    """``bar_fields = 5``: not field names."""

    bar_fields = 5

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        return reference_price


class TwoArgumentFill:
    """``fill_price(price, order)``: the wrong signature."""

    def fill_price(self, price: float, order: object) -> float:
        return price


class RaisingFill:
    """Raises for every call."""

    def fill_price(self, side: int, reference_price: float, quantity: int) -> float:
        raise ZeroDivisionError("division by zero")


# --- handlers ------------------------------------------------------------------------------------------------


class NanFee(Handler):
    """Publishes a fee of NaN at every bar (a Handler of its own, not a FeeHandler)."""

    name = "nan_fee"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event]:
        return [FeeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                         model=self.name, amount=math.nan, reason="broken fee")]


class MisspeltSymbolFee(Handler):
    """Publishes a fee of 1.00 at every bar on 'AA', a symbol the data (A and B) does not have."""

    name = "misspelt_fee"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event]:
        return [FeeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                         model=self.name, amount=1.0, reason="custody", symbol="AA")]


class SecondNanFee(NanFee):
    """A subclass that keeps NanFee's name: two handlers of one name in one run."""


class NanFeeHandler(FeeHandler):
    """A FeeHandler whose computed fee is NaN."""

    name = "nan_fee_handler"

    def on_market(self, event: MarketEvent) -> list[Event]:
        fee = self._charge(event, math.nan, reason="custody", cause_id=event.id)
        return [fee] if fee is not None else []


class ZeroCashFlow(Handler):
    """Publishes a cash flow of 0 at the second bar."""

    name = "zero_flow"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 1:
            return None
        return [CashFlowEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar, amount=0.0,
                              reason="nothing")]


class _FirstBarFill(Handler):
    """Publishes one fill of A at the first bar, past the execution handler: ``side``, ``quantity``, ``price``."""

    subscribes = (MarketEvent,)
    side = Side.BUY
    quantity = 10
    price = 10.0

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [FillEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, order_id=0, symbol="A",
                          side=self.side, quantity=self.quantity, price=self.price, reference_price=10.0,
                          commission=0.0, slippage=0.0)]


class NanFillPublisher(_FirstBarFill):
    """Publishes a fill of 10 A at NaN at the first bar."""

    name = "nan_fills"
    price = math.nan


class UnheldSalePublisher(_FirstBarFill):
    """Publishes a fill selling 5 A, which the book does not hold, at the first bar (past the execution handler,
    which would not sell shares not held)."""

    name = "unheld_sale"
    side = Side.SELL
    quantity = 5


class FractionalOrder(Handler):
    """Orders 2.5 shares of A at the first bar."""

    name = "fractional"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="A", side=Side.BUY,
                           quantity=2.5, reference_price=10.0)]  # type: ignore[arg-type]


class NumpyQuantityOrder(Handler):
    """Orders numpy.int64(3) shares of A at the first bar (a count worked out with numpy)."""

    name = "numpy_quantity"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="A", side=Side.BUY,
                           quantity=np.int64(3), reference_price=10.0)]  # type: ignore[arg-type]


class IntSideOrder(Handler):
    """Orders 1 A at the first bar with side 1 (an int) instead of Side.BUY."""

    name = "int_side"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="A", side=1,  # type: ignore[arg-type]
                           quantity=1, reference_price=10.0)]


class UnknownSymbolOrder(Handler):
    """Orders a symbol that is not in the data."""

    name = "unknown_symbol"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="TSLA", side=Side.BUY,
                           quantity=1, reference_price=10.0)]


class NanSignal(Handler):
    """Publishes target weights of its own at the first bar, one of them NaN."""

    name = "nan_signal"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if event.bar != 0:
            return None
        return [SignalEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=0,
                            strategy="mine", weights={"A": 0.5, "B": math.nan})]


class MisspeltHook(Handler):
    """Subscribes to FillEvent but spells its hook ``on_fills``."""

    name = "misspelt"
    subscribes = (FillEvent,)

    def on_fills(self, event: FillEvent) -> None:
        return None


class HookWithoutEvent(Handler):
    """``on_fill(self)``: a hook that takes no event."""

    name = "no_event"
    subscribes = (FillEvent,)

    def on_fill(self) -> None:
        return None


class FinishWithArgument(Handler):
    """``finish(self, result)``: the simulation calls ``finish()``."""

    name = "finish_argument"
    subscribes = (FillEvent,)

    def on_fill(self, event: FillEvent) -> None:
        return None

    def finish(self, result: object) -> None:  # type: ignore[override]
        return None


class SubscribesToOneClass(Handler):
    """``subscribes = FillEvent`` (a class, not a tuple of classes)."""

    name = "not_a_tuple"
    subscribes = FillEvent  # type: ignore[assignment]

    def on_fill(self, event: FillEvent) -> None:
        return None


class SubscribesByName(Handler):
    """``subscribes = ("FillEvent",)``: names instead of classes."""

    name = "by_name"
    subscribes = ("FillEvent",)  # type: ignore[assignment]


class RaisingBind(Handler):
    """A ``bind`` that fails on the run's context (it expects a symbol the data does not have)."""

    name = "raising_bind"
    subscribes = (MarketEvent,)

    def bind(self, context: Any) -> None:
        super().bind(context)
        self.index = context.symbol_index["SPY"]

    def on_market(self, event: MarketEvent) -> None:
        return None


class Impostor(Handler):
    """Calls itself ``portfolio``, the name of a built-in stage."""

    name = "portfolio"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> None:
        return None


class RaisingConstructor(Handler):
    """A constructor that raises something other than TypeError or ValueError."""

    name = "raising_constructor"

    def __init__(self) -> None:
        raise RuntimeError("no licence file")


# --- strategies ----------------------------------------------------------------------------------------------


class UpdateWithoutView:
    """``update(self)``: takes no view."""

    def update(self) -> None:
        return None

    def target_weights(self, view: object) -> None:
        return None


class TargetsWithTwoArguments:
    """``target_weights(self, view, cash)``: one argument too many."""

    def update(self, view: object) -> None:
        return None

    def target_weights(self, view: object, cash: float) -> None:
        return None
