"""The order types wing: how limit and stop orders fill on daily bars, and what an order waiting looks like.

- :mod:`eventbt.orders.rules`: the fill rules (:func:`~eventbt.orders.rules.on_bar`,
  :func:`~eventbt.orders.rules.at_placement`), the rebalance's limit price, the checks of an order's type
  fields;
- :class:`WaitingOrder`: an order waiting for a later bar, as the execution handler shows it to the debugger.
- :mod:`eventbt.orders.outcomes`: what became of a run's orders, in the warnings ``eventbt run`` prints after it.

The execution handler (``handlers/execution.py``) applies the rules; ``docs/orders.md`` states them.
"""

from __future__ import annotations

import attrs

from eventbt.events import OrderEvent
from eventbt.orders.rules import (
    MAX_SHARES,
    SHARE_TOLERANCE,
    WAITING_TYPES,
    Check,
    at_placement,
    limit_price_for,
    on_bar,
    order_problem,
    price_of,
    whole_shares,
)

__all__ = ["MAX_SHARES", "SHARE_TOLERANCE", "WAITING_TYPES", "Check", "WaitingOrder", "at_placement",
           "limit_price_for", "on_bar", "order_problem", "price_of", "whole_shares"]


@attrs.frozen(kw_only=True)
class WaitingOrder:
    """An order waiting for a later bar: the order (as restated by any split), the shares ``filled`` so far and
    ``remaining``, the first bar it can fill on and the last (``None``: until the data ends), the last check
    made of it (``None`` before its first) and, for an order of a market type, what it waits for (``next
    open``, ``next close``, ``carried to the next open``, ...; a limit or stop order waits for its price)."""

    order: OrderEvent
    filled: int
    remaining: int
    first_bar: int
    last_bar: int | None
    check: Check | None
    waits_for: str = ""
