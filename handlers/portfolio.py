"""The portfolio handler: books fills, marks to market at the end of every bar, keeps the histories.

It is the only writer of the run's :class:`~eventbt.portfolio.Portfolio`. At each
:class:`~eventbt.events.BarEndEvent` (after all of the bar's fills) it marks the book at the last known
closes and publishes a :class:`~eventbt.events.SnapshotEvent`.

Histories, kept as plain lists and turned into pandas objects only when results are built:
value history (cash, positions value, total value and the deposits and withdrawals booked, every bar),
trade log (every fill with its costs and realized P&L), signal history (targets at each rebalance) and
weights history (actual weights at the end of each rebalance bar). The portfolio handler is the one place
that books deposits and withdrawals, so the ``flow`` of the results comes from its value history.
"""

from __future__ import annotations

import math
from typing import Any

from eventbt.events import (
    BarEndEvent,
    CashFlowEvent,
    Event,
    FeeEvent,
    FillEvent,
    MarketEvent,
    NoticeEvent,
    SignalEvent,
    SnapshotEvent,
)
from eventbt.handler import Handler

__all__ = ["PortfolioHandler"]


class PortfolioHandler(Handler):
    """Keeps the books and the histories of the run."""

    name = "portfolio"
    subscribes = (MarketEvent, SignalEvent, FillEvent, BarEndEvent, CashFlowEvent, FeeEvent)

    def __init__(self, *, weights_lag: int = 0) -> None:
        # Weights are recorded at the end of the bar whose fills carried out a rebalance: the signal bar
        # itself with same-close execution, the next bar with next-open execution (weights_lag = 1).
        self.weights_lag = weights_lag
        # (bar, cash, positions value, total value, external flow): the flow is the net of the bar's deposits
        # (+) and withdrawals (-), exactly rounded, 0.0 on a bar without any; fees are not flows.
        self.values: list[tuple[int, float, float, float, float]] = []
        self._flows: list[float] = []  # this bar's deposits and withdrawals so far
        self.trades: list[tuple[Any, ...]] = []
        self.signals: list[tuple[int, dict[str, float]]] = []
        self.weights: list[tuple[int, list[float]]] = []
        self._signal_bar = -1
        self.fees: dict[str, float] = {}  # fee model -> total charged (credits negative)
        self.fee_log: list[tuple[Any, ...]] = []  # (bar, model, amount, reason, symbol, cause_id, id)

    def on_market(self, event: MarketEvent) -> None:
        self.context.portfolio.update_marks(event.close)

    def on_signal(self, event: SignalEvent) -> None:
        self.signals.append((event.bar, dict(event.weights)))
        self._signal_bar = event.bar + self.weights_lag

    def on_fill(self, event: FillEvent) -> None:
        portfolio = self.context.portfolio
        i = self.context.symbol_index[event.symbol]
        # No date for the book's messages: an AccountingError reaches the user as a HandlerError naming
        # the fill and its time, so formatting a date for every fill would be wasted work.
        realized = portfolio.apply_fill(i, int(event.side), event.quantity, event.price, event.commission,
                                        event.slippage)
        self.trades.append((event.bar, event.symbol, event.side.name, event.quantity, event.price,
                            event.reference_price, event.commission, event.slippage, realized,
                            event.order_id, event.id))

    def on_cash_flow(self, event: CashFlowEvent) -> None:
        """Book a deposit or withdrawal (a withdrawal larger than the cash is an AccountingError)."""
        reason = event.reason or ("deposit" if event.amount > 0 else "withdrawal")
        self.context.portfolio.apply_cash_flow(event.amount, reason=reason, date=event.date)
        self._flows.append(event.amount)

    def on_fee(self, event: FeeEvent) -> list[Event] | None:
        """Book a fee (amount > 0 charged, < 0 credited) and attribute what was paid to its model.

        The book pays what the cash covers; a shortfall (or paying an earlier one) is published as a
        ``fee_owed`` notice with the amount paid, so the audit log holds every cash movement.
        """
        portfolio = self.context.portfolio
        paid = portfolio.apply_fee(event.model, event.amount, date=event.date)
        self.fees[event.model] = self.fees.get(event.model, 0.0) + paid
        self.fee_log.append((event.bar, event.model, paid, event.reason, event.symbol, event.cause_id, event.id))
        if paid == event.amount:
            return None
        details = {"model": event.model, "due": event.amount, "paid": paid,
                   "owed": portfolio.fees_owed.get(event.model, 0.0)}
        return [NoticeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                            handler=self.name, code="fee_owed", symbol=event.symbol, details=details)]

    def on_bar_end(self, event: BarEndEvent) -> list[Event]:
        portfolio = self.context.portfolio
        positions_value = portfolio.positions_value()
        cash = portfolio.cash
        total = cash + positions_value
        flow = math.fsum(self._flows) if self._flows else 0.0
        self._flows.clear()
        self.values.append((event.bar, cash, positions_value, total, flow))
        if self._signal_bar == event.bar:
            self.weights.append((event.bar, portfolio.weights().tolist()))
        return [SnapshotEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                              bar=event.bar, cash=cash, positions_value=positions_value, total_value=total)]
