"""Injected events: the cash flows and manual orders a scenario's ``[[events]]`` schedule at given dates.

Each entry happens at the first bar on or after its date (and not before the first tradable bar: an entry
dated in the warm-up happens at the first bar after it). When that bar's :class:`~eventbt.events.MarketEvent`
reaches this handler (it is placed after the pipeline's own handlers, so the bar's rebalance has been
decided by then), it publishes, in the scenario's order:

- a deposit or withdrawal as a :class:`~eventbt.events.CashFlowEvent` (``amount`` signed: + in, - out),
  which the portfolio handler books;
- a manual order as an :class:`~eventbt.events.OrderEvent` with ``reason = "manual"``, sized and priced by
  the scenario and filled by the execution handler like any other order (at this close with ``same_close``,
  at the next open with ``next_open``).

Injected events start their own causal chain (``cause_id`` is ``None``) and are published by ``injected``,
which is how the audit log shows them as injected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eventbt.errors import ScenarioError
from eventbt.events import CashFlowEvent, Event, MarketEvent, OrderEvent, OrderReason, Side
from eventbt.handler import Context, Handler

__all__ = ["InjectedEvents"]


class InjectedEvents(Handler):
    """Publishes scenario-scheduled deposits, withdrawals and manual orders at their bars.

    ``events`` are the ``[[events]]`` entries as plain mappings (``date``, ``type`` and the type's keys);
    ``source`` names the scenario file in errors.
    """

    name = "injected"
    subscribes = (MarketEvent,)

    def __init__(self, events: Sequence[Mapping[str, Any]], *, source: str | None = None) -> None:
        self.entries = [dict(entry) for entry in events]
        self.source = source
        self._by_bar: dict[int, list[dict[str, Any]]] = {}

    def bind(self, context: Context) -> None:
        super().bind(context)
        days = np.asarray(context.dates).astype("datetime64[D]")
        self._by_bar = {}
        for index, entry in enumerate(self.entries):
            label = f"events[{index}]"
            bar = max(int(np.searchsorted(days, np.datetime64(entry["date"], "D"))), getattr(context, "first_bar", 0))
            if bar >= len(days):
                last = str(days[-1]) if len(days) else "none"
                raise ScenarioError(f"[{label}] date {entry['date']} is after the last bar of the data ({last})",
                                    path=self.source, table=label, key="date")
            if entry["type"] == "order" and entry["symbol"] not in context.symbol_index:
                raise ScenarioError(f"[{label}] symbol {entry['symbol']!r} is not in the data",
                                    path=self.source, table=label, key="symbol")
            self._by_bar.setdefault(bar, []).append(entry)

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        entries = self._by_bar.get(event.bar)
        if not entries:
            return None
        out: list[Event] = []
        for entry in entries:
            if entry["type"] == "order":
                i = self.context.symbol_index[entry["symbol"]]
                side = Side.BUY if entry["side"] == "buy" else Side.SELL
                out.append(OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar,
                                      symbol=entry["symbol"], side=side, quantity=int(entry["quantity"]),
                                      reference_price=float(event.close[i]), reason=OrderReason.MANUAL))
            else:
                sign = 1.0 if entry["type"] == "deposit" else -1.0
                out.append(CashFlowEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=event.bar,
                                         amount=sign * float(entry["amount"]), reason=str(entry.get("reason", ""))))
        return out
