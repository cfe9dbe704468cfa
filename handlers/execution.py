"""The execution handler: orders in, fills (or cancels) out.

Timing:

- ``same_close``: an order fills at once, at its bar's close with slippage.
- ``next_open``: orders wait for the next bar's :class:`~eventbt.events.BarOpenEvent` and fill there, in
  the order they were published (sells first), at the open with slippage. Orders still waiting when the
  data ends are cancelled.

Either way, each buy is checked against the cash available when it fills (the portfolio's cash at the start
of the bar plus the effect of the fills this handler has already sent): a buy whose cost with commission
does not fit is cut to the largest whole number of shares that does, possibly zero (then cancelled), with a
``reduced_at_fill`` notice. Cash never goes negative.

The fill price comes from the slippage model, the commission from the commission model, both given the
filled quantity and traded value ``quantity * fill price``.
"""

from __future__ import annotations

import math

import numpy as np

from eventbt.events import BarOpenEvent, CancelEvent, Event, FillEvent, MarketEvent, NoticeEvent, OrderEvent
from eventbt.handler import Handler
from eventbt.protocols import CommissionModel, SlippageModel

__all__ = ["TIMINGS", "ExecutionHandler"]

TIMINGS = ("same_close", "next_open")


class ExecutionHandler(Handler):
    """Fills orders with the configured timing, slippage and commission."""

    name = "execution"

    def __init__(self, *, commission: CommissionModel, slippage: SlippageModel,
                 timing: str = "same_close") -> None:
        if timing not in TIMINGS:
            raise ValueError(f"timing must be one of {', '.join(TIMINGS)}, got {timing!r}")
        self.commission = commission
        self.slippage = slippage
        self.timing = timing
        self.subscribes = (MarketEvent, OrderEvent) if timing == "same_close" else (
            BarOpenEvent, MarketEvent, OrderEvent)
        self._pending: list[OrderEvent] = []
        self._prices: np.ndarray | None = None
        self._cash = 0.0

    def on_market(self, event: MarketEvent) -> None:
        self._cash = self.context.portfolio.cash
        if self.timing == "same_close":
            self._prices = event.close

    def on_bar_open(self, event: BarOpenEvent) -> list[Event] | None:
        self._cash = self.context.portfolio.cash
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        out: list[Event] = []
        for order in pending:
            out.extend(self._fill(order, event.open, event.bar, event.time_ns))
        return out

    def on_order(self, event: OrderEvent) -> list[Event] | None:
        if self.timing == "next_open":
            self._pending.append(event)
            return None
        assert self._prices is not None, "an order arrived before any market event"
        return self._fill(event, self._prices, event.bar, event.time_ns)

    def finish(self) -> list[Event] | None:
        """Cancel the orders still waiting for an open when the data has ended."""
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        return [self._cancel(order, order.quantity, "data ended before the order could fill",
                             order.bar, order.time_ns) for order in pending]

    def _cancel(self, order: OrderEvent, quantity: int, reason: str, bar: int, time_ns: int) -> CancelEvent:
        return CancelEvent(id=self.context.next_id(), time_ns=max(time_ns, order.time_ns), cause_id=order.id,
                           bar=bar, order_id=order.id, symbol=order.symbol, quantity=quantity, reason=reason)

    def _fill(self, order: OrderEvent, prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        context = self.context
        price = float(prices[context.symbol_index[order.symbol]])
        if price != price:  # NaN: no price
            return [self._cancel(order, order.quantity, "no price for the symbol at the fill", bar, time_ns)]
        side, quantity = int(order.side), order.quantity
        fill = self.slippage.fill_price(side, price, quantity)
        commission = self.commission.commission(quantity, quantity * fill)
        out: list[Event] = []
        if side > 0 and quantity * fill + commission > self._cash:
            wanted = quantity
            quantity = self._affordable(price, quantity)
            details = {"wanted": wanted, "quantity": quantity, "cash": self._cash, "price": price}
            out.append(NoticeEvent(id=context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code="reduced_at_fill", symbol=order.symbol,
                                   details=details))
            if quantity == 0:
                out.append(self._cancel(order, wanted, "not enough cash at the fill", bar, time_ns))
                return out
            out.append(self._cancel(order, wanted - quantity, "not enough cash at the fill", bar, time_ns))
            fill = self.slippage.fill_price(side, price, quantity)
            commission = self.commission.commission(quantity, quantity * fill)
        self._cash += -side * quantity * fill - commission
        out.append(FillEvent(id=context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                             order_id=order.id, symbol=order.symbol, side=order.side, quantity=quantity,
                             price=fill, reference_price=price, commission=commission,
                             slippage=abs(fill - price) * quantity))
        return out

    def _affordable(self, price: float, quantity: int) -> int:
        """The largest n <= quantity whose cost with commission fits in the cash now available."""

        def cost(n: int) -> float:
            fill = self.slippage.fill_price(1, price, n)
            return n * fill + self.commission.commission(n, n * fill)

        # cost(n) grows with n, so bisect on [0, hi] for the last n that fits.
        low, high = 0, max(0, min(quantity, math.floor(self._cash / self.slippage.fill_price(1, price, 1))))
        while low < high:
            middle = (low + high + 1) // 2
            if cost(middle) <= self._cash:
                low = middle
            else:
                high = middle - 1
        return low
