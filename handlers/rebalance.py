"""The rebalance handler: target weights in, whole-share orders out.

The arithmetic is two pure functions, usable on their own:

- :func:`compare_positions`: portfolio value ``V = C + sum(q*p)``, targets ``T = w * V * (1 - cash_buffer)``
  and dollar changes ``d = T - q*p``.
- :func:`generate_orders`: whole-share orders from those changes. Sells first (a full exit when the target
  is 0, else ``min(q, floor(|d| / p))`` shares); buys ``floor(d / buy_fill_price)``; both floors allow
  1e-9 of a share for rounding. Skips below ``min_trade_value`` or at zero shares, and a sale whose
  commission exceeds its proceeds when there is no cash to pay the difference. If the buys' expected cost
  (fill with slippage, plus commission) exceeds cash plus the sells' expected proceeds, every buy is
  scaled by ``available / cost`` (rounded down), then one share at a time is taken off the buy with the
  largest expected cost (ties: the later symbol) until the buys fit. Orders come out sells first, then
  buys, each in symbol order. ``docs/architecture.md`` ("Sizing orders in a cash account") works an example.

Every skip, scale and trim is returned as a :class:`Note` and published as a ``NoticeEvent``, so the audit
log says why an order is missing or smaller.

The orders are ``market`` orders unless the handler is given another ``order_type`` (``[execution]
order_type``; see ``docs/orders.md``): a ``limit`` order's limit is ``limit_offset_bps`` from its reference
price, below it for a buy and above it for a sell. The sizing is the same for every type. A cost model that
takes the order is given an :class:`~eventbt.protocols.OrderContext` of the order being sized
(``order_context``: the rebalance's bar, date and order type; ``order_id`` ``None``).

In a margin account (``margin=True``; ``docs/long-short.md``) positions and weights are signed and
:func:`generate_margin_orders` does the arithmetic: the same ``V`` and ``T``, every trade rounded toward zero
(a position changing side is closed, then opened from flat), trades that reduce a position before trades that
increase one (sells of longs, buys to cover, short sales, buys, each in symbol order), and no cash
constraint: buys may take cash below zero. On a bar with a margin call (a ``MarginCallEvent`` before the
signal) the rebalance is sized on the book as the call's liquidation will leave it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np

from eventbt.costs.contract import fill_effect, fill_price_of, order_context_needed
from eventbt.errors import AccountingError
from eventbt.events import (
    Event,
    MarginCallEvent,
    MarketEvent,
    NoticeCode,
    NoticeEvent,
    OrderEvent,
    OrderReason,
    Side,
    SignalEvent,
)
from eventbt.exact import fsum
from eventbt.handler import Handler
from eventbt.orders import MAX_SHARES, limit_price_for, whole_shares
from eventbt.protocols import (
    REBALANCE_ORDER_TYPES,
    TIMES_IN_FORCE,
    CommissionModel,
    OrderContext,
    SlippageModel,
)
from eventbt.quiet import NEVER, QuietBars

__all__ = ["Note", "PlannedOrder", "RebalanceHandler", "compare_positions", "generate_margin_orders",
           "generate_orders"]


@attrs.frozen(kw_only=True)
class PlannedOrder:
    """An order the rebalance will publish; ``expected`` is its expected cash effect (+ proceeds, - cost)."""

    symbol: str
    side: Side
    quantity: int
    reference_price: float
    target_weight: float
    expected: float


@attrs.frozen(kw_only=True)
class Note:
    """Why an order was skipped or made smaller."""

    code: NoticeCode
    symbol: str | None
    details: dict[str, Any]



def compare_positions(weights: np.ndarray, positions: np.ndarray, prices: np.ndarray, cash: float,
                      cash_buffer: float = 0.0) -> tuple[np.ndarray, float]:
    """Dollar change per symbol to reach the targets, and the portfolio value ``V`` they are based on."""
    held_value = positions * prices
    # The exact sum over the held values only (a zero adds nothing to it; a NaN or an infinity is kept): a
    # rotation holds a few of its symbols, and fsum is plain Python over its terms.
    value = cash + fsum(held_value[held_value != 0])
    return weights * value * (1.0 - cash_buffer) - held_value, value


def _order_reason(target_weight: float) -> OrderReason:
    """The reason a rebalance's order is sent with: ``exit`` for a trade to weight 0, else ``rebalance``. The
    sizing gives a cost model that takes the order the same reason (:class:`_OrderContexts`)."""
    return OrderReason.EXIT if target_weight == 0 else OrderReason.REBALANCE


class _OrderContexts:
    """An order's context for the cost models, ``contexts(i, side)``: the sizing's ``order_context`` (or a bare
    one) with symbol ``i``'s name, the side and the reason its order is sent with (:func:`_order_reason` of its
    target weight); ``None`` when neither model takes the order."""

    __slots__ = ("symbols", "template", "weights")

    def __init__(self, symbols: tuple[str, ...], weights: np.ndarray, commission: CommissionModel,
                 slippage: SlippageModel, order_context: OrderContext | None) -> None:
        self.symbols = symbols
        self.weights = weights
        # None when neither model takes the order: a rebalance then builds no context at all.
        self.template: OrderContext | None = None
        if order_context_needed(commission, slippage):
            self.template = order_context if order_context is not None else OrderContext(side=1, symbol="")

    def __call__(self, i: int, side: int) -> OrderContext | None:
        template = self.template
        if template is None:
            return None
        return attrs.evolve(template, symbol=self.symbols[i], side=side,
                            reason=str(_order_reason(float(self.weights[i]))))


def _check_max_shares(side: Side, quantity: int, symbol: str, price: float) -> None:
    """Stop the run when an order asks for more than :data:`MAX_SHARES` shares (a price too small for the
    portfolio's value): the books would not hold the position exactly."""
    if quantity > MAX_SHARES:
        raise AccountingError(f"{'buying' if side == Side.BUY else 'selling'} {quantity:,} shares of {symbol!r} at "
                              f"{price!r}: more than the {MAX_SHARES:,} shares a position holds exactly; the price "
                              "is too small for the portfolio's value", symbol=symbol)


def _skip_note(symbol: str, change: float, weight: float, tradable: bool, min_trade_value: float) -> Note | None:
    """The note of a target the rebalance leaves alone: no price this bar, or a change below
    ``min_trade_value``; ``None`` when it is to be traded."""
    if not tradable:
        return Note(code=NoticeCode.SKIP_NOT_TRADABLE, symbol=symbol,
                    details={"change": change, "target_weight": weight, "reason": "no price this bar"})
    if abs(change) < min_trade_value:
        return Note(code=NoticeCode.SKIP_MIN_TRADE_VALUE, symbol=symbol,
                    details={"change": change, "min_trade_value": min_trade_value})
    return None


def _changed(changes: np.ndarray, prices: np.ndarray, positions: np.ndarray, weights: np.ndarray,
             tradable: np.ndarray | None) -> Iterator[tuple[int, float, float, int, float, bool]]:
    """``(i, change, price, position, weight, tradable)`` for each symbol ``i`` whose change is not 0, in symbol
    order, as Python numbers: each array read once at those symbols (``tolist``) rather than an element at a time,
    the same values as ``float(a[i])``, ``int(positions[i])`` and ``bool(tradable[i])``."""
    at = np.flatnonzero(changes)
    ok = [True] * len(at) if tradable is None else tradable[at].astype(bool).tolist()
    return zip(at.tolist(), changes[at].astype(float).tolist(), prices[at].astype(float).tolist(),
               list(map(int, positions[at].tolist())), weights[at].astype(float).tolist(), ok, strict=True)


def generate_orders(*, symbols: tuple[str, ...], weights: np.ndarray, positions: np.ndarray,
                    prices: np.ndarray, cash: float, commission: CommissionModel, slippage: SlippageModel,
                    cash_buffer: float = 0.0, min_trade_value: float = 0.0,
                    tradable: np.ndarray | None = None,
                    order_context: OrderContext | None = None) -> tuple[list[PlannedOrder], list[Note]]:
    """Orders (sells, then buys, each in symbol order) and notes; see the module docstring.

    ``order_context`` is what a cost model that takes the order sees (bar, date, order type), with each order's
    symbol, side and reason filled in; without it such a model sees those alone.
    """
    changes, _ = compare_positions(weights, positions, prices, cash, cash_buffer)
    context = _OrderContexts(symbols, weights, commission, slippage, order_context)

    notes: list[Note] = []
    sells: list[PlannedOrder] = []
    buys: dict[int, int] = {}
    for i, d, p, q, w, ok in _changed(changes, prices, positions, weights, tradable):
        symbol = symbols[i]
        skipped = _skip_note(symbol, d, w, ok, min_trade_value)
        if skipped is not None:
            notes.append(skipped)
            continue
        if d < 0:
            n = q if w == 0 else min(q, whole_shares(-d / p))
            if n > 0:
                proceeds = fill_effect(commission, slippage, -1, p, n, context(i, -1), symbol=symbol)
                if proceeds < 0 and cash + math.fsum(o.expected for o in sells) + proceeds < 0:
                    # A commission larger than the sale brings in, and no cash to pay it with.
                    notes.append(Note(code=NoticeCode.SKIP_COST_EXCEEDS_CASH, symbol=symbol,
                                      details={"quantity": n, "proceeds": proceeds, "cash": cash}))
                    continue
                sells.append(PlannedOrder(symbol=symbol, side=Side.SELL, quantity=n, reference_price=p,
                                          target_weight=w, expected=proceeds))
                continue
        else:
            n = whole_shares(d / fill_price_of(slippage, 1, p, 1, order=context(i, 1), symbol=symbol))
            _check_max_shares(Side.BUY, n, symbol, p)
            if n > 0:
                buys[i] = n
                continue
        notes.append(Note(code=NoticeCode.SKIP_ZERO_SHARES, symbol=symbol, details={"change": d, "price": p}))

    available = cash + math.fsum(order.expected for order in sells)
    costs = {i: -fill_effect(commission, slippage, 1, float(prices[i]), n, context(i, 1), symbol=symbols[i])
             for i, n in buys.items()}
    total = math.fsum(costs.values())
    if buys and total > available:
        factor = max(available, 0.0) / total
        for i, n in list(buys.items()):
            scaled = math.floor(n * factor)
            notes.append(Note(code=NoticeCode.SCALED_FOR_CASH, symbol=symbols[i], details={
                "wanted": n, "quantity": scaled, "factor": factor, "available": available, "cost": total}))
            buys[i] = scaled
            costs[i] = -fill_effect(commission, slippage, 1, float(prices[i]), scaled, context(i, 1),
                                    symbol=symbols[i])
        total = math.fsum(costs.values())
        trimmed: dict[int, int] = {}
        while total > available and any(buys.values()):
            # Largest expected cost first; on equal cost, the later symbol (larger index).
            i = max((i for i in buys if buys[i] > 0), key=lambda j: (costs[j], j))
            buys[i] -= 1
            trimmed[i] = trimmed.get(i, 0) + 1
            costs[i] = -fill_effect(commission, slippage, 1, float(prices[i]), buys[i], context(i, 1),
                                    symbol=symbols[i])
            total = math.fsum(costs.values())
        for i in sorted(trimmed):
            notes.append(Note(code=NoticeCode.TRIMMED_FOR_CASH, symbol=symbols[i], details={
                "removed": trimmed[i], "quantity": buys[i], "cost": total, "available": available}))
    orders = list(sells)
    for i in sorted(buys):
        n = buys[i]
        if n > 0:
            orders.append(PlannedOrder(symbol=symbols[i], side=Side.BUY, quantity=n,
                                       reference_price=float(prices[i]), target_weight=float(weights[i]),
                                       expected=-costs[i]))
        else:
            notes.append(Note(code=NoticeCode.SKIP_ZERO_SHARES, symbol=symbols[i],
                              details={"reason": "no share left after the cash constraint"}))
    return orders, notes


def generate_margin_orders(*, symbols: tuple[str, ...], weights: np.ndarray, positions: np.ndarray,
                           prices: np.ndarray, cash: float, commission: CommissionModel, slippage: SlippageModel,
                           cash_buffer: float = 0.0, min_trade_value: float = 0.0,
                           tradable: np.ndarray | None = None,
                           order_context: OrderContext | None = None) -> tuple[list[PlannedOrder], list[Note]]:
    """Orders and notes in a margin account (signed positions and weights; the module docstring and
    ``docs/long-short.md``): reducing trades first (sells of longs, then buys to cover), then increasing ones
    (short sales, then buys), each group in symbol order; no cash constraint. ``order_context`` as for
    :func:`generate_orders`."""
    changes, value = compare_positions(weights, positions, prices, cash, cash_buffer)
    if value <= 0:  # the book owes more than it holds: every target is 0
        weights = np.zeros_like(weights)
        changes = -(positions * prices)
    context = _OrderContexts(symbols, weights, commission, slippage, order_context)
    notes: list[Note] = []
    groups: tuple[list[PlannedOrder], ...] = ([], [], [], [])  # sells of longs, covers, short sales, buys

    def plan(group: int, i: int, quantity: int, p: float, w: float) -> None:
        """Plan ``quantity`` shares of symbol ``i`` in ``group``, at its price ``p`` and target weight ``w``."""
        side = Side.SELL if group in (0, 2) else Side.BUY
        _check_max_shares(side, quantity, symbols[i], p)
        # A trade to weight 0 is sent as an exit (RebalanceHandler): priced as one, as generate_orders does.
        groups[group].append(PlannedOrder(symbol=symbols[i], side=side, quantity=quantity, reference_price=p,
                                          target_weight=w,
                                          expected=fill_effect(commission, slippage, int(side), p, quantity,
                                                               context(i, int(side)), symbol=symbols[i])))

    for i, d, p, q, w, ok in _changed(changes, prices, positions, weights, tradable):
        symbol = symbols[i]
        skipped = _skip_note(symbol, d, w, ok, min_trade_value)
        if skipped is not None:
            notes.append(skipped)
            continue
        target = w * value * (1.0 - cash_buffer)  # T, as compare_positions has it (w = 0 when V <= 0)
        opening: tuple[int, int] | None = None  # (group, shares) of a trade opening from flat after a close
        if q > 0 and d < 0:
            if w <= 0:
                plan(0, i, q, p, w)
                opening = (2, whole_shares(-target / p)) if w < 0 else None
            else:
                opening = (0, min(q, whole_shares(-d / p)))
        elif q < 0 and d > 0:
            if w >= 0:
                plan(1, i, -q, p, w)
                opening = (3, whole_shares(target / fill_price_of(slippage, 1, p, 1, order=context(i, 1),
                                                                  symbol=symbol))) if w > 0 else None
            else:
                opening = (1, min(-q, whole_shares(d / p)))
        elif d > 0:
            opening = (3, whole_shares(d / fill_price_of(slippage, 1, p, 1, order=context(i, 1), symbol=symbol)))
        else:
            opening = (2, whole_shares(-d / p))
        if opening is None:
            continue
        group, n = opening
        if n > 0:
            plan(group, i, n, p, w)
        else:
            notes.append(Note(code=NoticeCode.SKIP_ZERO_SHARES, symbol=symbol, details={"change": d, "price": p}))
    return [order for group in groups for order in group], notes


class RebalanceHandler(Handler):
    """Turns each :class:`SignalEvent` into notices and :class:`OrderEvent`s."""

    name = "rebalance"
    subscribes: tuple[type[Event], ...] = (MarketEvent, SignalEvent)

    def __init__(self, *, commission: CommissionModel, slippage: SlippageModel, cash_buffer: float = 0.0,
                 min_trade_value: float = 0.0, order_type: str = "market", limit_offset_bps: float = 0.0,
                 time_in_force: str = "day", expire_after: int | None = None, margin: bool = False) -> None:
        if order_type not in REBALANCE_ORDER_TYPES:
            raise ValueError(f"order_type must be one of {', '.join(REBALANCE_ORDER_TYPES)}, got {order_type!r}")
        if time_in_force not in TIMES_IN_FORCE:
            raise ValueError(f"time_in_force must be one of {', '.join(TIMES_IN_FORCE)}, got {time_in_force!r}")
        self.commission = commission
        self.slippage = slippage
        self.cash_buffer = cash_buffer
        self.min_trade_value = min_trade_value
        self.order_type = order_type
        self.limit_offset_bps = limit_offset_bps
        self.time_in_force = time_in_force
        self.expire_after = expire_after
        self._order_aware = order_context_needed(commission, slippage)  # read once: an OrderContext only then
        self.margin = margin
        if margin:
            self.subscribes = (*type(self).subscribes, MarginCallEvent)
        self._close: np.ndarray | None = None
        self._call: MarginCallEvent | None = None  # a margin call of this bar, whose liquidation is not booked yet

    def on_market(self, event: MarketEvent) -> None:
        self._close = event.close

    def quiet_until(self, bar: int) -> int:
        """A market event only gives the closes a signal is sized at: any bar may be quiet."""
        return NEVER

    def on_quiet_bars(self, bars: QuietBars) -> None:
        self._close = bars.close_row(bars.stop - 1)

    def on_margin_call(self, event: MarginCallEvent) -> None:
        """Remember the call: a signal of the same bar is sized on the book its liquidation will leave."""
        self._call = event

    def on_signal(self, event: SignalEvent) -> list[Event]:
        context = self.context
        portfolio = context.portfolio
        weights = np.zeros(len(context.symbols))
        for symbol, weight in event.weights.items():
            weights[context.symbol_index[symbol]] = weight
        close = self._close
        assert close is not None, "a signal arrived before any market event"
        # The portfolio has marked this bar already: its marks are the closes where there is one and the
        # last close elsewhere, the prices the arithmetic values positions at.
        tradable = close == close
        prices = portfolio.marks
        sizing = OrderContext(side=1, symbol="", order_type=self.order_type, bar=event.bar, date=event.date[:10],
                              time_ns=event.time_ns) if self._order_aware else None
        positions, cash = portfolio.positions, portfolio.cash
        call = self._call
        if call is not None and call.bar == event.bar and call.quantities:
            positions = positions.copy()
            for symbol, change in call.quantities.items():
                positions[context.symbol_index[symbol]] += change
            cash += call.expected_cash
        arithmetic = generate_margin_orders if self.margin else generate_orders
        orders, notes = arithmetic(
            symbols=context.symbols, weights=weights, positions=positions, prices=prices,
            cash=cash, commission=self.commission, slippage=self.slippage,
            cash_buffer=self.cash_buffer, min_trade_value=self.min_trade_value, tradable=tradable,
            order_context=sizing)
        next_id, time_ns, bar = context.next_id, event.time_ns, event.bar
        out: list[Event] = [
            NoticeEvent(id=next_id(), time_ns=time_ns, cause_id=event.id, bar=bar, handler=self.name,
                        code=note.code, symbol=note.symbol, details=note.details)
            for note in notes
        ]
        out.extend(
            OrderEvent(id=next_id(), time_ns=time_ns, cause_id=event.id, bar=bar, symbol=o.symbol,
                       side=o.side, quantity=o.quantity, reference_price=o.reference_price,
                       reason=_order_reason(o.target_weight),
                       target_weight=o.target_weight, **self._order_fields(o))
            for o in orders
        )
        return out

    def _order_fields(self, order: PlannedOrder) -> dict[str, Any]:
        """The order type fields of an order (none for a market order, whose event keeps its defaults)."""
        if self.order_type == "market":
            return {}
        if self.order_type != "limit":
            return {"order_type": self.order_type}
        gtc = self.time_in_force == "gtc"  # expire_after, kept in [execution] for sweeps, applies to gtc only
        return {"order_type": "limit", "time_in_force": self.time_in_force,
                "expire_after": self.expire_after if gtc else None,
                "limit_price": limit_price_for(int(order.side), order.reference_price, self.limit_offset_bps)}
