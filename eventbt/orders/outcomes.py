"""What became of a run's orders, in the words ``eventbt run`` warns with after the run.

- :func:`manual_orders_cancelled`: a line for each ``[[events]]`` order whose shares were cancelled in whole or
  in part (cut at the fill, expired, left when the data ended).
- :func:`rebalance_orders_unfilled`: one line for the rebalance's orders that ended with nothing filled
  (expired limit orders, orders cancelled for no price, buys cut to no shares), counted by reason. A rebalance
  order cut in part (to the cash there is) is routine and not counted, nor is one placed on the last bar that
  the data's end cancels there (a next-open order of a last-bar rebalance never had a bar to fill on); a run
  may have hundreds of orders, so the line counts them and names the first.

Both read the events the run published (the bus's ``events`` and ``publisher``, by id): the execution
handler's cancels and fills, and the orders they name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from eventbt.events import CancelEvent, Event, FillEvent, OrderEvent, OrderReason

__all__ = ["DATA_ENDED", "manual_orders_cancelled", "rebalance_orders_unfilled"]

DATA_ENDED = "data ended before the order could fill"
"""The reason of a cancel of an order still waiting when the data ends."""

_REBALANCE = (OrderReason.REBALANCE, OrderReason.EXIT)  # the reasons of a rebalance's orders

# A cancel's reason in a few words, for the counts: the first pattern that matches gives the words.
_KINDS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"order expired.*\b(limit|stop) [^ :]+: not reached on "), lambda m: f"expired: {m[1]} not reached"),
    (re.compile(r"order expired[^:]*: no "), lambda m: "expired: no price to check"),
    (re.compile(r"order expired"), lambda m: "expired"),
    (re.compile(r"^superseded by the rebalance signal"), lambda m: "cancelled: superseded by the next rebalance"),
    (re.compile(r"\(the series ended\)"), lambda m: "cancelled: the symbol's series ended"),
)


def _kind(reason: str) -> str:
    """``reason`` in the words the counts use (a reason without variable parts is used as it is)."""
    for pattern, words in _KINDS:
        found = pattern.search(reason)
        if found is not None:
            return words(found)
    return f"cancelled: {reason}"


def _described(order: OrderEvent) -> str:
    """``#13 (sell 100 C, 2020-01-06)``: the order's id, side, shares, symbol and date."""
    return f"#{order.id} ({order.side.name.lower()} {order.quantity:,} {order.symbol}, {order.date[:10]})"


def _cancelled(cancel: CancelEvent) -> str:
    shares = f"{cancel.quantity:,} share{'' if cancel.quantity == 1 else 's'}"
    return f"{shares} cancelled on {cancel.date[:10]}: {cancel.reason}"


def _last_bar_end(cancel: CancelEvent, order: OrderEvent) -> bool:
    """Whether ``cancel`` is the data's end cancelling ``order`` on the bar it was placed on: no bar followed."""
    return cancel.reason == DATA_ENDED and cancel.bar <= order.bar


def _execution_events(events: Mapping[int, Event], publisher: Mapping[int, str]) -> list[Event]:
    """The execution handler's events, in id order (a quiet block's events are never its)."""
    return [events[event_id] for event_id, by in publisher.items() if by == "execution"]


def manual_orders_cancelled(events: Mapping[int, Event], publisher: Mapping[int, str]) -> list[str]:
    """A line for each cancel of an ``[[events]]`` order (published by ``injected``)."""
    manual = {event_id for event_id, by in publisher.items() if by == "injected"}
    lines: list[str] = []
    for cancel in _execution_events(events, publisher) if manual else ():
        if isinstance(cancel, CancelEvent) and cancel.order_id in manual:
            order = events[cancel.order_id]
            assert isinstance(order, OrderEvent)
            lines.append(f"[[events]] order {_described(order)}: {_cancelled(cancel)}")
    return lines


def rebalance_orders_unfilled(events: Mapping[int, Event], publisher: Mapping[int, str]) -> str | None:
    """One line for the rebalance's orders that ended with nothing filled (``None``: none did), e.g. ``2 of 6
    rebalance orders ended with nothing filled (1 expired: limit not reached, 1 cancelled: no price for the symbol
    at the fill); the first: order #8 (sell 1,428 B, 2020-01-03), 1,428 shares cancelled on 2020-01-06: no price
    for the symbol at the fill; each one's CancelEvent in the audit log says why``.

    An order counts when it has a cancel and no fill, unless the data's end cancelled it on the bar it was
    placed on; its last cancel says why. Rebalance orders are those with the reason ``rebalance`` or ``exit``;
    each ends with a fill or a cancel of the execution handler (one still waiting when the data ends is
    cancelled then), so those name them all."""
    filled: set[int] = set()
    last_cancel: dict[int, CancelEvent] = {}
    for event in _execution_events(events, publisher):
        if isinstance(event, FillEvent):
            filled.add(event.order_id)
        elif isinstance(event, CancelEvent):
            last_cancel[event.order_id] = event
    orders = [events.get(order_id) for order_id in sorted(filled | last_cancel.keys())]
    rebalance = [order for order in orders if isinstance(order, OrderEvent) and order.reason in _REBALANCE]
    unfilled = [order for order in rebalance
                if order.id not in filled and not _last_bar_end(last_cancel[order.id], order)]
    if not unfilled:
        return None
    total = len(rebalance)
    counts: dict[str, int] = {}
    for order in unfilled:
        kind = _kind(last_cancel[order.id].reason)
        counts[kind] = counts.get(kind, 0) + 1
    first, cancel = unfilled[0], last_cancel[unfilled[0].id]
    told = f"order {_described(first)}, {_cancelled(cancel)}"
    head = f"{len(unfilled):,} of {total:,} rebalance order{'' if total == 1 else 's'} ended with nothing filled"
    if len(unfilled) == 1:
        return f"{head}: {told}; its CancelEvent is in the audit log"
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{head} ({kinds}); the first: {told}; each one's CancelEvent in the audit log says why"
