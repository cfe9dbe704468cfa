"""What the step debugger shows: the views of the portfolio, queue, orders, fills and why.

Each view is frozen data with ``table()`` (an :class:`~eventbt.debug.render.Table`), ``text()``/``str()``
(aligned text) and ``_repr_html_()`` (an HTML table in Jupyter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.debug.render import Table, describe, emitted_text, explain, money, order_terms, price, quantity, weight
from eventbt.events import CancelEvent, Event, FillEvent, NoticeEvent, OrderEvent, OrderStateEvent

if TYPE_CHECKING:
    import numpy as np

    from eventbt.orders import WaitingOrder
    from eventbt.portfolio import PortfolioView

__all__ = [
    "EventView",
    "FillsView",
    "OrdersView",
    "HoldingsView",
    "QueueView",
    "Table",
    "TraceView",
    "WaitingView",
    "WhyView",
]

# What `why` and `orders` say about a signal still queued (stopped before it, after `next` delivered its market).
NOT_YET = "it has not reached the rebalance handler yet (it is queued: step on, then ask again)"


def orders_not_yet(queued: Sequence[OrderEvent]) -> str:
    """What `waiting` and `fills` say about orders published and still queued on the bus (between a signal and its
    fills): ``5 OrderEvent #639-#643 published, not delivered: they have not reached the execution handler yet
    (they are queued: step on, then ask again)``."""
    they, have, are = ("they", "have", "are") if len(queued) > 1 else ("it", "has", "is")
    return (f"{emitted_text(queued)} published, not delivered: {they} {have} not reached the execution handler yet "
            f"({they} {are} queued: step on, then ask again)")


class _Shown:
    def table(self) -> Table:
        raise NotImplementedError

    def text(self, *, color: bool = False) -> str:
        return self.table().text(color=color)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.table().html()


@attrs.frozen(kw_only=True)
class HoldingsView(_Shown):
    """The book at a moment: cash, and per held symbol shares, average cost, mark, value and weight."""

    when: str
    cash: float
    total_value: float
    rows: tuple[tuple[str, int, float, float], ...]  # (symbol, shares, average cost, mark)

    @classmethod
    def of(cls, portfolio: PortfolioView, when: str) -> HoldingsView:
        rows = tuple((portfolio.symbols[i], int(q), float(portfolio.average_cost[i]), float(portfolio.marks[i]))
                     for i, q in enumerate(portfolio.positions.tolist()) if q)
        return cls(when=when, cash=portfolio.cash, total_value=portfolio.total_value(), rows=rows)

    @property
    def positions(self) -> dict[str, int]:
        return {symbol: shares for symbol, shares, _, _ in self.rows}

    @property
    def weights(self) -> dict[str, float]:
        """Market value / total value per held symbol."""
        total = self.total_value
        return {symbol: shares * mark / total if total else 0.0 for symbol, shares, _, mark in self.rows}

    def table(self) -> Table:
        weights = self.weights
        rows = [(s, quantity(q), price(avg), price(mark), money(q * mark), weight(weights[s]))
                for s, q, avg, mark in self.rows]
        rows.append(("cash", "", "", "", money(self.cash), weight(self.cash / self.total_value)))
        return Table.of(("symbol", "shares", "average cost", "mark", "value", "weight"), rows,
                        numeric=("shares", "average cost", "mark", "value", "weight"),
                        title=f"portfolio after {self.when}: total value {money(self.total_value)}")


def _event_rows(events: Sequence[Event], publishers: Mapping[int, str]) -> list[tuple[str, ...]]:
    return [(f"#{e.id}", e.date, e.kind, publishers.get(e.id, "?"), describe(e)) for e in events]


_EVENT_HEADERS = ("id", "time", "type", "by", "fields")


@attrs.frozen(kw_only=True)
class QueueView(_Shown):
    """Queued events in delivery order; ``events[0]`` is delivered next."""

    events: tuple[Event, ...]
    publishers: Mapping[int, str]

    def table(self) -> Table:
        title = f"{len(self.events)} event(s) queued" if self.events else "queue empty (the run is over)"
        return Table.of(_EVENT_HEADERS, _event_rows(self.events, self.publishers), numeric=("id",), title=title)


@attrs.frozen(kw_only=True)
class TraceView(_Shown):
    """A causal chain, the event first and the market bar that started it last."""

    events: tuple[Event, ...]
    publishers: Mapping[int, str]

    def table(self) -> Table:
        title = " <- ".join(f"{e.kind} #{e.id}" for e in self.events)
        return Table.of(_EVENT_HEADERS, _event_rows(self.events, self.publishers), numeric=("id",), title=title)


@attrs.frozen(kw_only=True)
class EventView(_Shown):
    """One event in full: every audited field, who published it, who takes it, whether it is still queued."""

    event: Event
    publisher: str
    to: tuple[str, ...]
    queued: bool

    def table(self) -> Table:
        e = self.event
        rows = [("type", e.kind), ("time", e.date), ("cause", "-" if e.cause_id is None else f"#{e.cause_id}"),
                ("published by", self.publisher), ("delivered to" if not self.queued else "queued for",
                                                   ", ".join(self.to) or "(no handler)")]
        rows.extend((key, _field(key, value)) for key, value in sorted(e.audit_fields().items()))
        return Table.of(("field", "value"), rows, title=f"{e.kind} #{e.id}  {describe(e)}".rstrip())


def _field(key: str, value: Any) -> str:
    """A field's value as the debugger writes it: an id as ``#3738``, a price, weight, amount or quantity as
    :mod:`eventbt.debug.render` does."""
    if isinstance(value, int) and not isinstance(value, bool) and (key == "id" or key.endswith("_id")):
        return f"#{value}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_field(str(k), v)}" for k, v in value.items())
    if isinstance(value, float) and key.endswith("price"):
        return price(value)
    if isinstance(value, float) and key.endswith("weight"):
        return weight(value)
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1 else money(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return quantity(value)
    return str(value)


@attrs.frozen(kw_only=True)
class OrdersView(_Shown):
    """The orders of one rebalance with their outcome (filled, cancelled, queued, waiting)."""

    rows: tuple[tuple[str, ...], ...]
    title: str

    @classmethod
    def of(cls, events: Sequence[Event], queued: set[int]) -> OrdersView:
        if not events:
            return cls(rows=(), title="no rebalance yet")
        filled: dict[int, int] = {}
        cancelled: dict[int, int] = {}
        for e in events:
            if isinstance(e, FillEvent):
                filled[e.order_id] = filled.get(e.order_id, 0) + e.quantity
            elif isinstance(e, CancelEvent):
                cancelled[e.order_id] = cancelled.get(e.order_id, 0) + e.quantity
        rows = []
        for o in events:
            if not isinstance(o, OrderEvent):
                continue
            if o.id in queued:
                status = "queued"
            elif o.id in filled or o.id in cancelled:
                status = f"filled {quantity(filled.get(o.id, 0))}" + (
                    f", cancelled {quantity(cancelled[o.id])}" if o.id in cancelled else "")
            else:
                terms = order_terms(o)
                status = f"waiting for a fill ({terms})" if terms else "waiting for a fill"
            target = "" if o.target_weight is None else weight(o.target_weight)
            rows.append((f"#{o.id}", o.side.name, o.symbol, quantity(o.quantity), price(o.reference_price),
                         target, o.reason, status))
        title = f"orders of signal #{events[0].id} on {events[0].date}"
        if events[0].id in queued:
            title += f": none yet, {NOT_YET}"
        elif not rows:
            title += ": none"
        return cls(rows=tuple(rows), title=title)

    def table(self) -> Table:
        return Table.of(("id", "side", "symbol", "quantity", "price", "target", "reason", "status"), self.rows,
                        numeric=("id", "quantity", "price", "target"), title=self.title)


@attrs.frozen(kw_only=True)
class FillsView(_Shown):
    """The fills and cancels of one rebalance."""

    rows: tuple[tuple[str, ...], ...]
    title: str

    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, events: Sequence[Event], queued: set[int] | None = None) -> FillsView:
        """The fills and cancels among ``events``; ``queued``: the ids still queued on the bus (orders among them
        are said to have not reached the execution handler yet)."""
        if not events:
            return cls(rows=(), title="no rebalance yet")
        rows = []
        for e in events:
            if isinstance(e, FillEvent):
                rows.append((f"#{e.id}", f"#{e.order_id}", e.date, e.side.name, e.symbol, quantity(e.quantity),
                             price(e.price), money(e.quantity * e.price), money(e.commission), money(e.slippage), ""))
            elif isinstance(e, CancelEvent):
                rows.append((f"#{e.id}", f"#{e.order_id}", e.date, "CANCEL", e.symbol, quantity(e.quantity),
                             "", "", "", "", e.reason))
        title = f"fills of signal #{events[0].id} on {events[0].date}"
        waiting = [e for e in events if isinstance(e, OrderEvent) and e.id in (queued or set())]
        if not rows and waiting:
            return cls(rows=(), title=f"{title}: none yet, {orders_not_yet(waiting)}")
        notes = (orders_not_yet(waiting),) if waiting else ()
        return cls(rows=tuple(rows), title=title + ("" if rows else ": none"), notes=notes)

    def table(self) -> Table:
        """One row per fill or cancel; a ``reason`` column (why a cancel's shares went unfilled) when there is a
        cancel."""
        headers: tuple[str, ...] = ("id", "order", "time", "side", "symbol", "quantity", "price", "value",
                                    "commission", "slippage", "reason")
        rows = self.rows
        if not any(row[-1] for row in rows):
            headers, rows = headers[:-1], tuple(row[:-1] for row in rows)
        return Table.of(headers, rows, numeric=("id", "order", "quantity", "price", "value", "commission", "slippage"),
                        title=self.title, notes=self.notes)


@attrs.frozen(kw_only=True)
class WhyView(_Shown):
    """The notices explaining what a rebalance skipped, scaled, trimmed or reduced, and the state changes of an
    order that say why (a limit or stop order filled or expired: the bar's low or high against its price)."""

    subject: str
    notices: tuple[NoticeEvent, ...]
    states: tuple[OrderStateEvent, ...] = ()
    queued: bool = False  # the subject is a signal still queued: the rebalance handler has not seen it
    fills: Mapping[int, FillEvent] = attrs.field(factory=dict)  # a reduced_at_fill notice's id -> the fill after it

    @classmethod
    def of(cls, subject: str, events: Sequence[Event], *, queued: bool = False,
           fills: Mapping[int, FillEvent] | None = None) -> WhyView:
        return cls(subject=subject, notices=tuple(e for e in events if isinstance(e, NoticeEvent)),
                   states=tuple(e for e in events if isinstance(e, OrderStateEvent) and e.reason), queued=queued,
                   fills=dict(fills or {}))

    def table(self) -> Table:
        explained: list[tuple[int, tuple[str, ...]]] = [
            (n.id, (f"#{n.id}", n.code, n.symbol or "", explain(n, self.fills.get(n.id)))) for n in self.notices]
        explained.extend((e.id, (f"#{e.id}", str(e.state), e.symbol, e.reason)) for e in self.states)
        rows = [row for _, row in sorted(explained)]
        if self.queued:
            title = f"why: {self.subject}: {NOT_YET}"
        else:
            title = f"why: {self.subject}" + ("" if rows else ": no notice (nothing skipped, scaled or trimmed)")
        return Table.of(("id", "code", "symbol", "explanation"), rows, numeric=("id",), title=title)


@attrs.frozen(kw_only=True)
class WaitingView(_Shown):
    """The orders waiting for a later bar, each with the last bar it was checked on and why it did not fill."""

    rows: tuple[tuple[str, ...], ...]
    title: str

    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, waiting: Sequence[WaitingOrder], dates: np.ndarray | None, when: str,
           queued: Sequence[OrderEvent] = ()) -> WaitingView:
        """``waiting``: the execution handler's orders waiting for a later bar; ``queued``: the orders published and
        still queued on the bus, which the execution handler has not seen yet (said below the table)."""
        def day(bar: int | None) -> str:
            if bar is None or dates is None or not 0 <= bar < len(dates):
                return "the data's end"
            return str(dates[bar])[:10]

        rows = []
        for row in waiting:
            order = row.order
            terms = order_terms(order) or row.waits_for or order.order_type
            check = row.check.why if row.check is not None else "not checked yet"
            rows.append((f"#{order.id}", order.side.name, order.symbol, quantity(row.remaining), terms,
                         f"{day(row.first_bar)} .. {day(row.last_bar)}", check))
        title = (f"{len(rows)} order(s) waiting after {when}" if rows
                 else f"no order waiting after {when}")
        if queued and not rows:
            return cls(rows=(), title=f"{title}; {orders_not_yet(queued)}")
        return cls(rows=tuple(rows), title=title, notes=(orders_not_yet(queued),) if queued else ())

    def table(self) -> Table:
        return Table.of(("id", "side", "symbol", "left", "order", "bars", "last check"), self.rows,
                        numeric=("id", "left"), title=self.title, notes=self.notes)
