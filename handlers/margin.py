"""The margin handler: the margin rule of a margin account, checked at every close (``docs/long-short.md``).

With ``[portfolio] maintenance_margin = m`` the handler reads the book through the context's read-only view
when a bar's :class:`~eventbt.events.MarketEvent` reaches it (the stage before the strategy: the marks are
this bar's closes, the positions those held going into the close) and computes

- equity ``E = cash + sum(q * p)`` and gross exposure ``G = sum(|q| * p)`` (exactly rounded sums);
- a margin call when ``G > 0`` and ``E < m * G``.

A call is a :class:`~eventbt.events.MarginCallEvent`. With ``margin_call = "stop"`` the handler stops the run
when the event comes back to it (an :class:`~eventbt.errors.AccountingError`, after the event is in the audit
log). With ``"liquidate"`` it publishes, caused by the call, orders with reason ``liquidate`` that reduce every
position with a price at this bar by the same fraction ``f`` of its shares (:func:`liquidation`): longs sold,
then shorts covered, each in symbol order, filled by the execution handler like any other order. The call
carries the shares (``quantities``) and the cash they are expected to move, so that a rebalance on the same
bar is sized on the book they leave.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from eventbt.costs.contract import fill_costs, order_context_needed
from eventbt.errors import AccountingError
from eventbt.events import Event, MarginCallEvent, MarketEvent, OrderEvent, OrderReason, Side
from eventbt.handler import Handler
from eventbt.orders import SHARE_TOLERANCE
from eventbt.protocols import MARGIN_CALLS, CommissionModel, MarginCall, OrderContext, SlippageModel

__all__ = ["MAX_ROUNDS", "MarginHandler", "liquidation", "margin_figures"]

MAX_ROUNDS = 50
"""At most this many rounds of the fixed point of :func:`liquidation` (each changes at least one order)."""


def margin_figures(positions: np.ndarray, marks: np.ndarray, cash: float) -> tuple[float, float]:
    """``(equity, gross exposure)`` of a book: ``cash + sum(q * p)`` and ``sum(|q| * p)``, exactly rounded."""
    held = np.flatnonzero(positions)
    return _figures(np.multiply(positions[held].astype(float), marks[held]).tolist(), cash)


def _figures(values: Sequence[float], cash: float) -> tuple[float, float]:
    """:func:`margin_figures` from the held positions' values ``q * p`` (a book's ``held_values()``)."""
    return cash + math.fsum(values), math.fsum(abs(value) for value in values)


def liquidation(*, positions: np.ndarray, marks: np.ndarray, tradable: np.ndarray, equity: float, gross: float,
                maintenance_margin: float, commission: CommissionModel, slippage: SlippageModel,
                order: Callable[[int, int], OrderContext | None] | None = None,
                symbols: Sequence[str] | None = None) -> tuple[float, dict[int, int], float, float]:
    """The liquidation of a margin call: ``(f, shares, expected costs, expected cash)``.

    ``shares`` maps each symbol index to the signed shares it trades (+ a cover, - a sale): ``ceil(f * |q| -
    1e-9)`` of each position with a price at this bar (``tradable``), at most ``|q|``. ``f`` starts at ``1 -
    E / (m * G)`` (1 when ``E <= 0``) and is raised to ``min(1, max(f, 1 - (E - C(f)) / (m * G)))``, ``C(f)``
    the expected commission and slippage of the orders ``f`` asks for (at the marks, through the models, as the
    rebalance sizes an order), until those orders stop changing (at most :data:`MAX_ROUNDS` rounds).
    ``symbols`` (indexed like ``positions``) name the symbol in a cost model's contract error.
    """
    scale = maintenance_margin * gross
    held = [i for i in np.flatnonzero(positions).tolist() if tradable[i] and marks[i] > 0]

    def orders(f: float) -> tuple[dict[int, int], float, float]:
        shares: dict[int, int] = {}
        costs: list[float] = []
        effects: list[float] = []
        for i in held:
            q, p = int(positions[i]), float(marks[i])
            n = min(abs(q), math.ceil(f * abs(q) - SHARE_TOLERANCE))
            if n <= 0:
                continue
            side = 1 if q < 0 else -1
            context = order(i, side) if order is not None else None  # for a model that takes the order
            fill, charge = fill_costs(commission, slippage, side, p, n, context,
                                      symbol=None if symbols is None else symbols[i])
            shares[i] = side * n
            costs.append(abs(fill - p) * n + charge)
            effects.append(-side * n * fill - charge)
        return shares, math.fsum(costs), math.fsum(effects)

    f = 1.0 if equity <= 0 else min(1.0, 1.0 - equity / scale)
    shares, costs, cash = orders(f)
    for _ in range(MAX_ROUNDS):
        if f >= 1.0:
            break
        f = min(1.0, max(f, 1.0 - (equity - costs) / scale))
        again = orders(f)
        if again[0] == shares:
            break
        shares, costs, cash = again
    return f, shares, costs, cash


class MarginHandler(Handler):
    """Checks the margin rule at every close and answers a call (see the module docstring).

    ``commission`` and ``slippage`` are the run's models, which size a liquidation's expected costs.
    """

    name = "margin"
    subscribes = (MarketEvent, MarginCallEvent)

    def __init__(self, *, maintenance_margin: float, response: MarginCall = "liquidate",
                 commission: CommissionModel, slippage: SlippageModel) -> None:
        if not (isinstance(maintenance_margin, int | float) and 0 < maintenance_margin < 1):
            raise ValueError(f"maintenance_margin must be a number > 0 and < 1, got {maintenance_margin!r}")
        if response not in MARGIN_CALLS:
            raise ValueError(f"response must be one of {', '.join(MARGIN_CALLS)}, got {response!r}")
        self.maintenance_margin = float(maintenance_margin)
        self.response = response
        self.commission = commission
        self.slippage = slippage
        self._order_aware = order_context_needed(commission, slippage)  # read once: an OrderContext only then

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        book = self.context.portfolio
        if not len(book.held_index()):
            return None
        m = self.maintenance_margin
        equity, gross = _figures(book.held_values(), book.cash)
        if not (gross > 0 and equity < m * gross):
            return None
        context = self.context
        if self.response == "stop":
            return [MarginCallEvent(id=context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                                    equity=equity, gross_exposure=gross, maintenance_margin=m, response="stop")]
        symbols = context.symbols

        def order(i: int, side: int) -> OrderContext:
            """A liquidation order as an order-aware cost model sees it while the call sizes it."""
            return OrderContext(side=side, symbol=symbols[i], bar=event.bar, date=event.date[:10],
                                time_ns=event.time_ns, reason=str(OrderReason.LIQUIDATE))

        fraction, shares, costs, cash = liquidation(
            positions=book.positions, marks=book.marks, tradable=event.close == event.close, equity=equity,
            gross=gross, maintenance_margin=m, commission=self.commission, slippage=self.slippage,
            order=order if self._order_aware else None, symbols=symbols)
        quantities: Mapping[str, int] = {symbols[i]: n for i, n in sorted(shares.items())}
        call = MarginCallEvent(id=context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                               equity=equity, gross_exposure=gross, maintenance_margin=m, response="liquidate",
                               fraction=fraction, expected_costs=costs, expected_cash=cash, quantities=quantities)
        out: list[Event] = [call]
        # Sells of longs first, then covers of shorts, each in symbol order.
        for i, n in sorted(shares.items(), key=lambda item: (item[1] > 0, item[0])):
            out.append(OrderEvent(id=context.next_id(), time_ns=event.time_ns, cause_id=call.id, bar=event.bar,
                                  symbol=symbols[i], side=Side.BUY if n > 0 else Side.SELL, quantity=abs(n),
                                  reference_price=float(book.marks[i]), reason=OrderReason.LIQUIDATE))
        return out

    def on_margin_call(self, event: MarginCallEvent) -> None:
        """Stop the run at a call answered with ``"stop"`` (the call is in the audit log by now)."""
        if event.response != "stop":
            return
        day = event.date[:10]
        raise AccountingError(
            f"margin call on {day}: equity {event.equity:,.2f} is {event.ratio:.2%} of the gross exposure "
            f"{event.gross_exposure:,.2f}, below [portfolio] maintenance_margin {event.maintenance_margin:g}; "
            "[portfolio] margin_call = 'stop' ends the run", date=day, policy="[portfolio] margin_call")
