"""Injected events: the cash flows and manual orders a scenario's ``[[events]]`` schedule at given dates.

Each entry happens at the first bar on or after its date (and not before the first tradable bar: an entry
dated in the warm-up happens at the first bar after it). When that bar's :class:`~eventbt.events.MarketEvent`
reaches this handler (it is placed after the pipeline's own handlers, so the bar's rebalance has been
decided by then), it publishes, in the scenario's order:

- a deposit or withdrawal as a :class:`~eventbt.events.CashFlowEvent` (``amount`` signed: + in, - out),
  which the portfolio handler books;
- a manual order as an :class:`~eventbt.events.OrderEvent` with ``reason = "manual"``, sized and priced by
  the scenario and filled by the execution handler like any other order (at this close with ``same_close``,
  at the next open with ``next_open``), or by the rules of its ``order_type`` (a limit or stop order, with its
  price and time in force; see ``docs/orders.md``).

Injected events start their own causal chain (``cause_id`` is ``None``) and are published by ``injected``,
which is how the audit log shows them as injected.

A withdrawal larger than the cash: with ``[portfolio] withdrawal = "error"`` (the default) the withdrawal is
published anyway and the portfolio handler stops the run with an :class:`~eventbt.errors.AccountingError`
naming the date, the amount and the cash. With ``"sell"``, when the cash does not cover it, this handler
funds it through the ordinary order path:

1. it publishes a ``withdrawal_short`` notice (amount, cash, shortfall); on a rebalance bar it publishes it
   again once the bar's rebalance has sent its orders, since those change what there is to sell;
2. when its notice comes back to it, it sells the same fraction ``f`` of every position (pro rata by market
   value) as whole shares, ``ceil(f * shares)``, with ``f`` the smallest fraction (searched in steps of
   ``2**-80``, in exact arithmetic) whose expected proceeds
   (at the last close, after the slippage and commission models, as the rebalance sizes a sale) cover the
   shortfall. Shares already ordered for sale and not yet filled are not counted, nor are symbols without a
   close at this bar. The orders have reason ``liquidate`` and fill like any other order (at this close with
   ``same_close``, at the next open with ``next_open``);
3. once every one of those orders has filled (or been cancelled), it publishes the withdrawal, which the
   portfolio books at once: at the same close with ``same_close``, at the next bar's open with
   ``next_open``. If the cash still falls short (a fill at an open below the close, the bar's own buys), it
   goes back to step 1 for the rest; when nothing is left to sell, or a round fills nothing, or the data
   ends first, the run stops with an :class:`~eventbt.errors.AccountingError`.

Withdrawals are funded one at a time, in the scenario's order; a withdrawal the cash covers is published at
its bar as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eventbt.costs.contract import fill_effect, order_context_needed
from eventbt.errors import AccountingError, ScenarioError, did_you_mean
from eventbt.events import (
    CancelEvent,
    CashFlowEvent,
    Event,
    FillEvent,
    MarketEvent,
    NoticeCode,
    NoticeEvent,
    OrderEvent,
    OrderReason,
    Side,
    SignalEvent,
)
from eventbt.exact import fsum
from eventbt.handler import Context, Handler
from eventbt.protocols import WITHDRAWAL_POLICIES, OrderContext, WithdrawalPolicy
from eventbt.quiet import QuietBars, next_bar

__all__ = ["InjectedEvents"]


class InjectedEvents(Handler):
    """Publishes scenario-scheduled deposits, withdrawals and manual orders at their bars.

    ``events`` are the ``[[events]]`` entries as plain mappings (``date``, ``type`` and the type's keys);
    ``source`` names the scenario file in errors; ``withdrawal`` is ``[portfolio] withdrawal``, and with
    ``"sell"`` the run's ``commission`` and ``slippage`` models size the sales (see the module docs).
    """

    name = "injected"
    subscribes: tuple[type[Event], ...] = (MarketEvent,)

    def __init__(self, events: Sequence[Mapping[str, Any]], *, source: str | None = None,
                 withdrawal: WithdrawalPolicy = "error", commission: object = None, slippage: object = None,
                 start: str = "") -> None:
        self.entries = [dict(entry) for entry in events]
        self.source = source
        self.start = start  # [data] start: an entry dated before it is outside the run (empty: the first bar)
        self._by_bar: dict[int, list[dict[str, Any]]] = {}
        if withdrawal not in WITHDRAWAL_POLICIES:
            raise ValueError(f"withdrawal must be one of {', '.join(WITHDRAWAL_POLICIES)}, got {withdrawal!r}")
        self.withdrawal = withdrawal
        # Funding withdrawals by selling needs the cost models (to size the sales) and the order flow (to see
        # what is already being sold and when the sales have filled); a run without it subscribes to bars only.
        self._selling = withdrawal == "sell" and any(entry["type"] == "withdrawal" for entry in self.entries)
        if self._selling:
            if commission is None or slippage is None:
                raise ValueError("withdrawal = 'sell' needs the commission and slippage models to size the sales")
            self.subscribes = (MarketEvent, SignalEvent, NoticeEvent, OrderEvent, FillEvent, CancelEvent)
        self.commission = commission
        self.slippage = slippage
        self._waiting: deque[_Withdrawal] = deque()
        self._working: dict[int, list[int]] = {}  # order id -> [symbol index, side, shares not yet filled]
        self._close: np.ndarray | None = None
        self._bar = -1
        self._entry_bars: list[int] = []  # the bars with entries, in order (set by bind)

    def bind(self, context: Context) -> None:
        super().bind(context)
        days = np.asarray(context.dates).astype("datetime64[D]")
        self._by_bar = {}
        for index, entry in enumerate(self.entries):
            label = f"events[{index}]"
            first = getattr(context, "first_bar", 0)
            bar = max(int(np.searchsorted(days, np.datetime64(entry["date"], "D"))), first)
            begins = self.start or (str(days[first]) if first < len(days) else "")
            if begins and entry["date"] < begins:
                which = ("[data] start" if self.start else "the first tradable bar" if first
                         else "the first bar of the data")
                raise ScenarioError(f"[{label}] date {entry['date']} is before the run's first day ({begins}, {which})",
                                    path=self.source, table=label, key="date")
            if bar >= len(days):
                last = str(days[-1]) if len(days) else "none"
                raise ScenarioError(f"[{label}] date {entry['date']} is after the last bar of the data ({last})",
                                    path=self.source, table=label, key="date")
            if entry["type"] == "order" and entry["symbol"] not in context.symbol_index:
                raise ScenarioError(f"[{label}] symbol {entry['symbol']!r} is not in the data"
                                    f"{did_you_mean(entry['symbol'], context.symbols)}",
                                    path=self.source, table=label, key="symbol")
            self._by_bar.setdefault(bar, []).append(entry)
        self._entry_bars = sorted(self._by_bar)

    def quiet_until(self, bar: int) -> int:
        """Quiet until the next bar with an entry, unless a withdrawal waits for its sales."""
        if self._waiting:
            return bar
        return next_bar(self._entry_bars, bar)

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """The last bar's closes, as :meth:`on_market` keeps them (no entry falls in a quiet bar)."""
        self._close, self._bar = bars.close_row(bars.stop - 1), bars.stop - 1

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        self._close, self._bar = event.close, event.bar
        entries = self._by_bar.get(event.bar)
        if not entries:
            return None
        out: list[Event] = []
        ahead = 0.0  # the flows published so far in this bar, not booked yet
        for entry in entries:
            if entry["type"] == "withdrawal" and self._selling:
                amount = float(entry["amount"])
                covered = not self._waiting and self.context.portfolio.cash + ahead - amount >= -_CASH_TOLERANCE
                if not covered:
                    self._waiting.append(_Withdrawal(amount=amount, reason=str(entry.get("reason", "")),
                                                     date=event.date[:10]))
                    if len(self._waiting) == 1:
                        out.extend(self._announce(event.time_ns, event.bar, spent=-ahead))
                    continue
            if entry["type"] == "order":
                i = self.context.symbol_index[entry["symbol"]]
                side = Side.BUY if entry["side"] == "buy" else Side.SELL
                # The type keys the entry gives (none for a market order, whose event keeps its defaults).
                typed = {key: entry[key] for key in _ORDER_TYPE_KEYS if key in entry}
                out.append(OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar,
                                      symbol=entry["symbol"], side=side, quantity=int(entry["quantity"]),
                                      reference_price=float(event.close[i]), reason=OrderReason.MANUAL, **typed))
            else:
                sign = 1.0 if entry["type"] == "deposit" else -1.0
                ahead += sign * float(entry["amount"])
                out.append(CashFlowEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar,
                                         amount=sign * float(entry["amount"]), reason=str(entry.get("reason", ""))))
        return out

    # -- funding a withdrawal by selling ([portfolio] withdrawal = "sell"; see the module docs) -----------------
    def on_signal(self, event: SignalEvent) -> list[Event] | None:
        """A rebalance at the bar a withdrawal waits to be sized at: size it after the rebalance's orders."""
        head = self._waiting[0] if self._waiting else None
        if head is None or head.notice_id is None or head.notice_bar != event.bar:
            return None
        return self._announce(event.time_ns, event.bar, after="this bar's rebalance orders")

    def on_notice(self, event: NoticeEvent) -> list[Event] | None:
        head = self._waiting[0] if self._waiting else None
        if head is None or event.id != head.notice_id:
            return None  # another handler's notice, or one of ours superseded after a rebalance
        head.notice_id = None
        return self._sell_for(head, event)

    def on_order(self, event: OrderEvent) -> None:
        # Every order in flight, so sales are not sized twice and a withdrawal is booked once all are done (the
        # withdrawal's own sales are counted from the moment they are sent).
        self._working.setdefault(event.id, [self.context.symbol_index.get(event.symbol, -1), int(event.side),
                                            int(event.quantity)])

    def on_fill(self, event: FillEvent) -> list[Event] | None:
        return self._done(event.order_id, event.quantity, event, filled=True)

    def on_cancel(self, event: CancelEvent) -> list[Event] | None:
        return self._done(event.order_id, event.quantity, event, filled=False)

    def finish(self) -> list[Event] | None:
        """A withdrawal still waiting for its sales when the data ends cannot be booked: an error."""
        if self._waiting:
            head = self._waiting[0]
            raise AccountingError(
                f"withdrawal of {head.amount:,.2f} due on {head.date} was not funded before the data ended (cash "
                f"{self.context.portfolio.cash:,.2f}; its sales had not filled)", date=head.date)
        return None

    def _done(self, order_id: int, quantity: int, event: FillEvent | CancelEvent, *,
              filled: bool) -> list[Event] | None:
        """Count ``quantity`` shares of ``order_id`` as filled or cancelled; book the withdrawal when its sales
        are all done."""
        working = self._working.get(order_id)
        if working is not None:
            working[2] -= quantity
            if working[2] <= 0:
                del self._working[order_id]
        head = self._waiting[0] if self._waiting else None
        if head is None:
            return None
        if order_id in head.orders and filled:
            head.filled += quantity
        if not head.sized or self._working:
            return None  # still sizing, or orders (its sales, the bar's own) still to fill
        return self._settle(head, event.time_ns, event.bar)

    def _settle(self, head: _Withdrawal, time_ns: int, bar: int) -> list[Event]:
        """Every order in flight is done: book ``head`` if the cash now covers it, else sell again for the rest."""
        if self.context.portfolio.cash - head.amount < -_CASH_TOLERANCE:
            if head.orders and head.filled == 0:
                raise AccountingError(
                    f"withdrawal of {head.amount:,.2f} due on {head.date}: its sales filled nothing (cash "
                    f"{self.context.portfolio.cash:,.2f}); expected the positions to be sellable", date=head.date)
            return self._announce(time_ns, bar)
        return self._book(head, time_ns, bar)

    def _book(self, head: _Withdrawal, time_ns: int, bar: int, spent: float = 0.0) -> list[Event]:
        """Publish ``head`` (the cash covers it), then start on the next waiting withdrawal, if any.

        ``spent`` is what withdrawals published before it and not booked yet will take from the cash.
        """
        self._waiting.popleft()
        out: list[Event] = [CashFlowEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=head.first_notice_id,
                                          bar=bar, amount=-head.amount, reason=head.reason)]
        spent += head.amount
        if self._waiting:
            following = self._waiting[0]
            if self.context.portfolio.cash - spent - following.amount >= -_CASH_TOLERANCE:
                out.extend(self._book(following, time_ns, bar, spent))
            else:
                out.extend(self._announce(time_ns, bar, spent=spent))
        return out

    def _announce(self, time_ns: int, bar: int, after: str | None = None, spent: float = 0.0) -> list[Event]:
        """A ``withdrawal_short`` notice for the first waiting withdrawal; its sales are sized on its return.

        ``spent``: what flows published and not booked yet will take from the cash (shown in the notice).
        """
        head = self._waiting[0]
        cash = self.context.portfolio.cash - spent
        head.rounds += after is None
        details: dict[str, Any] = {"amount": head.amount, "due": head.date, "cash": cash,
                                   "shortfall": head.amount - cash, "round": head.rounds}
        if after is not None:
            details["after"] = after
        notice = NoticeEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=head.first_notice_id, bar=bar,
                             handler=self.name, code=NoticeCode.WITHDRAWAL_SHORT, symbol=None, details=details)
        head.notice_id, head.notice_bar, head.sized = notice.id, bar, False
        if head.first_notice_id is None:
            head.first_notice_id = notice.id
        return [notice]

    def _sell_for(self, head: _Withdrawal, notice: NoticeEvent) -> list[Event]:
        """The orders that fund ``head`` (see the module docs), or the withdrawal itself when the cash covers it.

        Orders already in flight (the bar's rebalance, a manual order) count with their expected cash effect,
        and the shares they sell are not sold again; the withdrawal is booked once they and the sales are done.
        """
        book = self.context.portfolio
        head.sized, head.filled, head.orders = True, 0, {}
        assert self.commission is not None and self.slippage is not None and self._close is not None
        commission, slippage = self.commission, self.slippage
        aware = order_context_needed(commission, slippage)
        symbols = self.context.symbols

        def effect(side: int, n: int, price: float, i: int) -> float:
            """The expected cash effect of a fill of ``n`` shares of symbol ``i`` at ``price`` (+ proceeds, - cost);
            a cost model that takes the order sees a market order of this bar."""
            order = OrderContext(side=side, symbol=symbols[i], bar=notice.bar, date=notice.date[:10],
                                 time_ns=notice.time_ns, reason=str(OrderReason.LIQUIDATE)) if aware else None
            return fill_effect(commission, slippage, side, price, n, order, symbol=symbols[i])

        selling = np.zeros(len(self.context.symbols), dtype=np.int64)
        in_flight = []
        for index, side, left in self._working.values():
            if index >= 0 and left > 0 and book.marks[index] > 0:
                in_flight.append(effect(side, left, float(book.marks[index]), index))
                if side < 0:
                    selling[index] += left
        cash = book.cash + fsum(in_flight)
        shortfall = head.amount - cash
        if shortfall <= _CASH_TOLERANCE:
            # Covered (once what is in flight has filled): book it now, or when the last order is done.
            return [] if self._working else self._book(head, notice.time_ns, notice.bar)
        marks, close = book.marks, self._close
        candidates = [(i, int(book.positions[i]) - int(selling[i]), float(marks[i]))
                      for i in range(len(selling))
                      if int(book.positions[i]) > selling[i] and close[i] == close[i] and marks[i] > 0]

        def shares(step: int) -> list[int]:
            """``ceil(f * sellable)`` for ``f = step / 2**_STEPS``, in exact integer arithmetic (so positions whose
            share counts are in proportion reach their next share at the same fraction)."""
            return [-((-step * sellable) >> _STEPS) for _, sellable, _ in candidates]

        def proceeds(counts: list[int]) -> float:
            return fsum([effect(-1, n, price, i) for (i, _, price), n in zip(candidates, counts, strict=True) if n > 0])

        everything = proceeds(shares(1 << _STEPS))
        if everything < shortfall and not self._working:
            raise AccountingError(
                f"withdrawal of {head.amount:,.2f} due on {head.date} exceeds the cash of {cash:,.2f} (short by "
                f"{shortfall:,.2f}), and selling every position that can be sold would bring in only "
                f"{everything:,.2f} after costs", date=head.date)
        low, high = 0, 1 << _STEPS  # the sales of `high` cover the shortfall (or are everything there is to sell)
        if everything >= shortfall:
            while high - low > 1:
                middle = (low + high) // 2
                if proceeds(shares(middle)) >= shortfall:
                    high = middle
                else:
                    low = middle
        out: list[Event] = []
        for (i, _, price), n in zip(candidates, shares(high), strict=True):
            if n > 0:
                order = OrderEvent(id=self.context.next_id(), time_ns=notice.time_ns, cause_id=notice.id,
                                   bar=notice.bar, symbol=self.context.symbols[i], side=Side.SELL, quantity=n,
                                   reference_price=price, reason=OrderReason.LIQUIDATE)
                head.orders[order.id] = n
                self._working[order.id] = [i, -1, n]
                out.append(order)
        return out


_ORDER_TYPE_KEYS = ("order_type", "limit_price", "stop_price", "time_in_force", "expire_after")
"""An ``[[events]]`` order's keys that set its type (docs/orders.md)."""
_CASH_TOLERANCE = 1e-6  # as the book's: cash may dip this far below zero from rounding alone
# The fraction of each position sold is searched in steps of 2**-80: finer than the gap between any two
# fractions at which a position of up to 2**39 shares reaches its next whole share.
_STEPS = 80


class _Withdrawal:
    """A withdrawal waiting for its sales: the amount, the notice its sales are sized at, the orders out."""

    __slots__ = ("amount", "date", "filled", "first_notice_id", "notice_bar", "notice_id", "orders", "reason",
                 "rounds", "sized")

    def __init__(self, *, amount: float, reason: str, date: str) -> None:
        self.amount = amount
        self.reason = reason
        self.date = date
        self.first_notice_id: int | None = None
        self.notice_id: int | None = None  # the notice not yet delivered, at which the sales are sized
        self.notice_bar = -1
        self.orders: dict[int, int] = {}  # this round's order ids -> shares not yet filled or cancelled
        self.filled = 0  # shares filled in this round
        self.rounds = 0
        self.sized = False  # whether this round's sales have been sized (and sent)
