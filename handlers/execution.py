"""The execution handler: orders in, fills (or cancels) out.

Timing:

- ``same_close``: an order fills at once, at its bar's close with slippage.
- ``next_open``: orders wait for the next bar's :class:`~eventbt.events.BarOpenEvent` and fill there, in
  the order they were published (sells first), at the open with slippage. Orders still waiting when the
  data ends are cancelled.

Either way, each buy is checked against the cash available when it fills (the book's cash as booked so far,
read through the context's read-only view, plus the effect of this handler's fills the book has not booked
yet; the handler keeps no cash of its own): a buy whose cost with commission
does not fit is cut to the largest whole number of shares that does, possibly zero (then cancelled), with a
``reduced_at_fill`` notice. Cash never goes negative. In a margin account (``margin=True``; see
``docs/long-short.md``) there is no such check: a fill may take cash below zero.

The fill price comes from the slippage model, the commission from the commission model, both given the
filled quantity and traded value ``quantity * fill price``. A slippage model whose ``fill_price`` takes the
``bar`` keyword (see :func:`~eventbt.protocols.accepts_bar`) is also given a
:class:`~eventbt.protocols.BarContext` for the symbol: the last completed bar's open/high/low/close/volume
(the fill bar's with ``same_close``, the previous bar's with ``next_open``, whose fill bar is known only
by its open) and trailing estimates over ``estimate_window`` bars. Models without it are called exactly as
before.

Partial fills (``volume_limit``, a fraction in (0, 1]): the shares filled of a symbol on a bar, summed over
all its orders, are at most ``floor(volume_limit * volume)``, with the volume of the fill bar for
``same_close`` and of the bar before for ``next_open`` (the fill bar's volume is not known at its open). An
unknown (NaN) volume fills nothing. What an order cannot fill is cancelled (``remainder = "cancel"``) or
carried to the next bar (``"carry"``), where it fills first: at the next :class:`MarketEvent` with
``same_close`` (this handler sees it before the strategy and the rebalance, so the fills are booked before
the bar's signal), at the next open with ``next_open``. A carried remainder is cancelled when a new order
for its symbol arrives, and every carried remainder when a :class:`SignalEvent` arrives: the rebalance
sizes its orders from positions that already hold everything filled. A buy cut for cash cancels the whole
rest of its order. The commission of a partial fill is ``commission(cumulative quantity, cumulative value)``
minus what the order has already paid, so a minimum is charged once per order (``commission_per =
"order"``, zipline's rule). With ``commission_per = "day"`` the cumulation restarts on each bar (bars are
days): the part of an order filled on a later day pays as a new order, minimum included, as Interactive
Brokers treats an order that persists overnight. Each state change of an
order is an :class:`OrderStateEvent` (``open``, ``partially_filled``, ``filled``, ``cancelled``), and an
order held back by the limit gets a ``volume_limited`` notice. Without a volume limit none of this runs and
no state events are published.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import deque
from collections.abc import Callable
from fractions import Fraction

import attrs
import numpy as np

from eventbt.costs.contract import commission_of, fill_price_of
from eventbt.errors import ContractError
from eventbt.events import (
    BarOpenEvent,
    CancelEvent,
    Event,
    FillEvent,
    MarketEvent,
    NoticeCode,
    NoticeEvent,
    OrderEvent,
    OrderState,
    OrderStateEvent,
    Side,
    SignalEvent,
    SplitEvent,
)
from eventbt.exact import mean, sample_std
from eventbt.handler import Handler
from eventbt.protocols import (
    COMMISSION_PER,
    REMAINDERS,
    TIMINGS,
    BarContext,
    CommissionModel,
    CommissionPer,
    Remainder,
    SlippageModel,
    Timing,
    accepts_bar,
)

__all__ = ["ExecutionHandler"]

_WORKING = (OrderState.OPEN, OrderState.PARTIALLY_FILLED)  # the states in which an order still has shares to fill
# floor(volume_limit * volume) with room for binary fractions: 0.29 * 100 is 28.999999999999996.
_FLOOR_TOLERANCE = 1e-9


class _Working:
    """An order worked under a volume limit: the shares, value and commission filled so far.

    ``since`` is ``(bar, filled, value, commission)`` when the current commission period began: the
    order's first fill with ``commission_per = "order"``, the day's first fill with ``"day"``.
    """

    __slots__ = ("commission", "filled", "order", "since", "value")

    def __init__(self, order: OrderEvent) -> None:
        self.order = order
        self.filled = 0
        self.value = 0.0
        self.commission = 0.0
        self.since: tuple[int, int, float, float] = (-1, 0, 0.0, 0.0)

    @property
    def remaining(self) -> int:
        return self.order.quantity - self.filled


class ExecutionHandler(Handler):
    """Fills orders with the configured timing, slippage and commission."""

    name = "execution"

    def __init__(self, *, commission: CommissionModel, slippage: SlippageModel,
                 timing: Timing = "same_close", estimate_window: int = 20, volume_limit: float | None = None,
                 remainder: Remainder = "cancel", commission_per: CommissionPer = "order",
                 margin: bool = False) -> None:
        if timing not in TIMINGS:
            raise ValueError(f"timing must be one of {', '.join(TIMINGS)}, got {timing!r}")
        if volume_limit is not None and not (isinstance(volume_limit, int | float) and 0 < volume_limit <= 1):
            raise ValueError(f"volume_limit must be a number > 0 and <= 1, got {volume_limit!r}")
        if remainder not in REMAINDERS:
            raise ValueError(f"remainder must be one of {', '.join(REMAINDERS)}, got {remainder!r}")
        if commission_per not in COMMISSION_PER:
            raise ValueError(f"commission_per must be one of {', '.join(COMMISSION_PER)}, got {commission_per!r}")
        self.commission_per = commission_per
        self.margin = margin  # a margin account: no cash check at the fill
        self.commission = commission
        self.slippage = slippage
        self.timing = timing
        self.subscribes = (MarketEvent, OrderEvent, SplitEvent) if timing == "same_close" else (
            BarOpenEvent, MarketEvent, OrderEvent, SplitEvent)
        self._pending: list[OrderEvent] = []
        self._prices: np.ndarray | None = None
        # This handler's fills the book has not booked yet: (fill id, cash effect). The cash a fill may use
        # is the book's cash (read-only view) plus these effects, in the order they were sent.
        self._unbooked: deque[tuple[int, float]] = deque()
        # Bar-aware slippage: the completed bars' rows it may see (kept only for such a model).
        self._bar_aware = accepts_bar(slippage.fill_price)
        if estimate_window < 2:
            raise ValueError(f"estimate_window must be >= 2, got {estimate_window!r}")
        self.estimate_window = estimate_window
        self._history: list[MarketEvent] = []
        self._bar: BarContext | None = None
        self._fill_open: np.ndarray | None = None
        # Partial fills: off (and not subscribed to signals) without a volume limit.
        self.volume_limit = None if volume_limit is None else float(volume_limit)
        self.remainder = remainder
        if volume_limit is not None:
            self.subscribes = (*self.subscribes, SignalEvent)
        self._carried: list[_Working] = []
        self._volume: np.ndarray | None = None  # the last market event's volumes
        self._used: dict[int, int] = {}  # shares filled this bar, by symbol index
        self._now = (0, 0)  # (bar, time_ns) of the last market event

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if self._bar_aware:
            self._history.append(event)
            del self._history[: -(self.estimate_window + 1)]
        if self.timing == "same_close":
            self._prices = event.close
        if self.volume_limit is None:
            return None
        self._volume = event.volume
        self._now = (event.bar, event.time_ns)
        if self.timing != "same_close":
            return None
        # Carried remainders fill first, before this bar's signal (queued after these fills).
        self._used = {}
        return self._work(self._take_carried(), event.close, event.bar, event.time_ns) or None

    def on_bar_open(self, event: BarOpenEvent) -> list[Event] | None:
        self._fill_open = event.open
        if self.volume_limit is not None:
            self._used = {}
            pending, self._pending = self._pending, []
            working = self._take_carried() + [_Working(order) for order in pending]
            return self._work(working, event.open, event.bar, event.time_ns) or None
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        out: list[Event] = []
        for order in pending:
            out.extend(self._fill(order, event.open, event.bar, event.time_ns))
        return out

    def on_order(self, event: OrderEvent) -> list[Event] | None:
        quantity = event.quantity
        if not (quantity.__class__ is int and quantity > 0 and event.side.__class__ is Side
                and event.symbol in self.context.symbol_index):
            raise self._bad_order(event)
        if self.volume_limit is not None:
            return self._order_limited(event)
        if self.timing == "next_open":
            self._pending.append(event)
            return None
        assert self._prices is not None, "an order arrived before any market event"
        return self._fill(event, self._prices, event.bar, event.time_ns)

    def _bad_order(self, order: OrderEvent) -> ContractError:
        """What is wrong with an order another handler published (the check on entry; see :meth:`on_order`)."""
        what = f"OrderEvent #{order.id} (reason {str(order.reason)!r})"
        quantity = order.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, numbers.Integral) or quantity <= 0:
            problem = f"asks for {quantity!r} shares of {order.symbol!r}; expected a whole number > 0 (an int)"
        elif not isinstance(order.side, Side):
            problem = (f"has side {order.side!r} ({type(order.side).__name__}); expected eventbt.events.Side.BUY "
                       "or Side.SELL")
        elif order.symbol not in self.context.symbol_index:
            problem = f"is for symbol {order.symbol!r}, which is not in the data"
        else:  # an integral quantity of another type (numpy): ask for a plain int
            problem = (f"asks for {quantity!r} shares as a {type(quantity).__name__}; expected a whole number > 0 "
                       "(an int)")
        return ContractError(f"{what} {problem}", plugin=None)
    def on_split(self, event: SplitEvent) -> list[Event] | None:
        """Restate the symbol's orders still waiting for a fill in new shares (see the module docstring)."""
        ratio = Fraction(repr(float(event.ratio)))
        out: list[Event] = []
        pending = []
        for order in self._pending:
            if order.symbol != event.symbol:
                pending.append(order)
                continue
            quantity = math.floor(order.quantity * ratio)
            out.append(self._split_notice(event, order, order.quantity, quantity))
            if quantity == 0:
                work = _Working(order)
                reason = "a split left less than one share"
                out.extend(self._close(work, reason, event.bar, event.time_ns) if self.volume_limit is not None
                           else [self._cancel(order, order.quantity, reason, event.bar, event.time_ns)])
                continue
            pending.append(attrs.evolve(order, quantity=quantity, reference_price=order.reference_price / event.ratio))
        self._pending = pending
        carried = []
        for work in self._carried:
            if work.order.symbol != event.symbol:
                carried.append(work)
                continue
            remaining = math.floor(work.remaining * ratio)
            out.append(self._split_notice(event, work.order, work.remaining, remaining))
            if remaining == 0:
                out.extend(self._close(work, "a split left less than one share", event.bar, event.time_ns))
                continue
            work.order = attrs.evolve(work.order, quantity=work.filled + remaining,
                                      reference_price=work.order.reference_price / event.ratio)
            carried.append(work)
        self._carried = carried
        self._rescale_known_bars(self.context.symbol_index[event.symbol], event.ratio)
        return out or None

    def _rescale_known_bars(self, i: int, ratio: float) -> None:
        """Restate what this handler keeps of earlier bars in new shares: the prices a bar-aware slippage model
        estimates from (/ ratio; volumes x ratio) and, with ``next_open``, the previous bar's volume a volume
        limit reads (x ratio), so a split is neither a jump in volatility nor a shrunken volume."""

        def scaled(row: np.ndarray, factor: float) -> np.ndarray:
            row = row.copy()
            row[i] *= factor
            row.setflags(write=False)
            return row

        def restated(row: np.ndarray | None, factor: float) -> np.ndarray | None:
            return None if row is None else scaled(row, factor)

        self._history = [attrs.evolve(bar, close=scaled(bar.close, 1 / ratio), open=restated(bar.open, 1 / ratio),
                                      high=restated(bar.high, 1 / ratio), low=restated(bar.low, 1 / ratio),
                                      volume=restated(bar.volume, ratio)) for bar in self._history]
        self._volume = restated(self._volume, ratio)

    def _split_notice(self, split: SplitEvent, order: OrderEvent, before: int, after: int) -> NoticeEvent:
        details = {"order_id": order.id, "ratio": split.ratio, "wanted": before, "quantity": after,
                   "reference_price_before": order.reference_price,
                   "reference_price": order.reference_price / split.ratio}
        return NoticeEvent(id=self.context.next_id(), time_ns=split.time_ns, cause_id=split.id, bar=split.bar,
                           handler=self.name, code=NoticeCode.SPLIT_ADJUSTED, symbol=order.symbol, details=details)

    def _available_cash(self) -> float:
        """The cash a fill may use now: the book's, less what this handler's fills not yet booked will move.

        Fills are booked in the order they were sent (the bus delivers them in publication order, the
        portfolio first), so those with an id up to the book's ``last_fill_id`` are booked.
        """
        book = self.context.portfolio
        unbooked = self._unbooked
        booked = book.last_fill_id
        while unbooked and unbooked[0][0] <= booked:
            unbooked.popleft()
        if self.margin:
            return math.inf
        cash = book.cash
        for _, effect in unbooked:
            cash += effect
        return cash

    def finish(self) -> list[Event] | None:
        """Cancel the orders still waiting for an open when the data has ended."""
        if self.volume_limit is not None:
            reason = "data ended before the order could fill"
            bar, time_ns = self._now
            out = self._cancel_carried(lambda work: True, reason, bar, time_ns)
            pending, self._pending = self._pending, []
            for order in pending:
                out.extend(self._close(_Working(order), reason, order.bar, order.time_ns))
            return out or None
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        return [self._cancel(order, order.quantity, "data ended before the order could fill",
                             order.bar, order.time_ns) for order in pending]

    def _cancel(self, order: OrderEvent, quantity: int, reason: str, bar: int, time_ns: int) -> CancelEvent:
        return CancelEvent(id=self.context.next_id(), time_ns=max(time_ns, order.time_ns), cause_id=order.id,
                           bar=bar, order_id=order.id, symbol=order.symbol, quantity=quantity, reason=reason)

    def _fill(self, order: OrderEvent, prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        """Fill the whole order (no volume limit), cut to the cash available for a buy."""
        price = float(prices[self.context.symbol_index[order.symbol]])
        if price != price:  # NaN: no price
            return [self._cancel(order, order.quantity, "no price for the symbol at the fill", bar, time_ns)]

        def after_cut(wanted: int, quantity: int) -> list[Event]:
            return [self._cancel(order, wanted - quantity, "not enough cash at the fill", bar, time_ns)]

        out, _, _ = self._trade(order, price, order.quantity, bar, time_ns, self._commission_of_fill, after_cut)
        return out

    def _commission_of_fill(self, quantity: int, fill: float) -> float:
        return commission_of(self.commission, quantity, quantity * fill)

    def _fill_price(self, side: int, price: float, symbol: str) -> Callable[[int], float]:
        """The fill price of n shares: the slippage model (checked), given the bar when it takes one."""
        slippage = self.slippage
        if not self._bar_aware:
            return lambda n: fill_price_of(slippage, side, price, n)
        bar_context = self.bar_context(symbol)
        return lambda n: fill_price_of(slippage, side, price, n, bar=bar_context)

    def _trade(self, order: OrderEvent, price: float, quantity: int, bar: int, time_ns: int,
               commission: Callable[[int, float], float],
               after_cut: Callable[[int, int], list[Event]]) -> tuple[list[Event], FillEvent | None, bool]:
        """Fill ``quantity`` shares of ``order`` at ``price`` with slippage and ``commission(n, fill)``.

        A buy whose cost does not fit in the cash is cut to the largest whole number of shares that does
        (a ``reduced_at_fill`` notice, then ``after_cut(wanted, quantity)``'s events); a sale whose
        commission exceeds its proceeds when the cash cannot pay the difference is not made (a
        ``skip_cost_exceeds_cash`` notice, then ``after_cut(quantity, 0)``). Returns the events, the fill
        (``None`` when nothing filled) and whether the buy was cut.
        """
        side = int(order.side)
        fill_price = self._fill_price(side, price, order.symbol)
        fill = fill_price(quantity)
        charge = commission(quantity, fill)
        cash = self._available_cash()
        out: list[Event] = []
        if side < 0 and cash + quantity * fill - charge < 0:
            # A sale whose commission exceeds its proceeds, with no cash to pay the difference.
            details = {"quantity": quantity, "proceeds": quantity * fill - charge, "cash": cash}
            out.append(NoticeEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code=NoticeCode.SKIP_COST_EXCEEDS_CASH, symbol=order.symbol,
                                   details=details))
            return out + after_cut(quantity, 0), None, False
        cut = side > 0 and quantity * fill + charge > cash
        if cut:
            wanted = quantity

            def cost(n: int) -> float:
                f = fill_price(n)
                return n * f + commission(n, f)

            # cost(n) grows with n, so bisect on [0, hi] for the last n that fits.
            low, high = 0, max(0, min(quantity, math.floor(cash / fill_price(1))))
            while low < high:
                middle = (low + high + 1) // 2
                if cost(middle) <= cash:
                    low = middle
                else:
                    high = middle - 1
            quantity = low
            details = {"wanted": wanted, "quantity": quantity, "cash": cash, "price": price}
            out.append(NoticeEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code=NoticeCode.REDUCED_AT_FILL, symbol=order.symbol,
                                   details=details))
            out.extend(after_cut(wanted, quantity))
            if quantity == 0:
                return out, None, True
            fill = fill_price(quantity)
            charge = commission(quantity, fill)
        fill_event = FillEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                               order_id=order.id, symbol=order.symbol, side=order.side, quantity=quantity,
                               price=fill, reference_price=price, commission=charge,
                               slippage=abs(fill - price) * quantity)
        self._unbooked.append((fill_event.id, -side * quantity * fill - charge))
        out.append(fill_event)
        return out, fill_event, cut

    # -- bar-aware slippage ---------------------------------------------------------------------------
    def bar_context(self, symbol: str) -> BarContext:
        """What a bar-aware slippage model sees of ``symbol`` now (see :class:`BarContext`)."""
        i = self.context.symbol_index[symbol]
        fill_open = math.nan
        if self.timing == "next_open" and self._fill_open is not None:
            fill_open = float(self._fill_open[i])
        if not self._history:
            return BarContext(timing=self.timing, fill_open=fill_open, window=self.estimate_window)
        last = self._history[-1]
        previous = self._history[-2] if len(self._history) > 1 else None

        def at(row: np.ndarray | None) -> float:
            return math.nan if row is None else float(row[i])

        # math.log (the C library), not numpy's log, whose SIMD loops differ in the last bit between CPUs;
        # the mean and deviation are exactly rounded sums (eventbt.exact), as is every money figure.
        closes = [float(event.close[i]) for event in self._history]
        logs = [math.log(c) if 0 < c < math.inf else math.nan for c in closes]
        returns = [b - a for a, b in itertools.pairwise(logs) if a == a and b == b]
        volatility = sample_std(returns) if len(returns) >= 2 else math.nan
        volumes = [at(event.volume) for event in self._history[-self.estimate_window:]]
        known = [v for v in volumes if v == v]
        return BarContext(
            timing=self.timing, open=at(last.open), high=at(last.high), low=at(last.low), close=at(last.close),
            volume=at(last.volume), fill_open=fill_open,
            previous_high=at(previous.high) if previous is not None else math.nan,
            previous_low=at(previous.low) if previous is not None else math.nan,
            average_volume=mean(known) if known else math.nan, volatility=volatility,
            window=self.estimate_window,
        )

    # -- partial fills (volume limit) -----------------------------------------------------------------
    def on_signal(self, event: SignalEvent) -> list[Event] | None:
        """A new rebalance supersedes every carried remainder (subscribed only with a volume limit)."""
        reason = f"superseded by the rebalance signal of bar {event.bar}"
        return self._cancel_carried(lambda work: True, reason, event.bar, event.time_ns) or None

    def _order_limited(self, event: OrderEvent) -> list[Event]:
        out = self._cancel_carried(lambda work: work.order.symbol == event.symbol,
                                   "replaced by a new order for the symbol", event.bar, event.time_ns)
        work = _Working(event)
        out.append(self._state(work, OrderState.OPEN, event.id, event.bar, event.time_ns))
        if self.timing == "next_open":
            self._pending.append(event)
            return out
        assert self._prices is not None, "an order arrived before any market event"
        out.extend(self._work([work], self._prices, event.bar, event.time_ns))
        return out

    def _take_carried(self) -> list[_Working]:
        carried, self._carried = self._carried, []
        return carried

    def _cancel_carried(self, which: Callable[[_Working], bool], reason: str, bar: int,
                        time_ns: int) -> list[Event]:
        out: list[Event] = []
        kept = []
        for work in self._carried:
            if which(work):
                out.extend(self._close(work, reason, bar, time_ns))
            else:
                kept.append(work)
        self._carried = kept
        return out

    def _state(self, work: _Working, state: OrderState, cause_id: int, bar: int, time_ns: int,
               reason: str = "") -> OrderStateEvent:
        order = work.order
        return OrderStateEvent(id=self.context.next_id(), time_ns=max(time_ns, order.time_ns), cause_id=cause_id,
                               bar=bar, order_id=order.id, symbol=order.symbol, state=state,
                               quantity=order.quantity, filled_quantity=work.filled,
                               remaining_quantity=work.remaining if state in _WORKING else 0,
                               commission=work.commission, reason=reason)

    def _close(self, work: _Working, reason: str, bar: int, time_ns: int) -> list[Event]:
        """Cancel what is left of a worked order: a CancelEvent and its ``cancelled`` state."""
        cancel = self._cancel(work.order, work.remaining, reason, bar, time_ns)
        return [cancel, self._state(work, OrderState.CANCELLED, cancel.id, bar, time_ns, reason)]

    def _rest(self, work: _Working, bar: int, time_ns: int) -> list[Event]:
        """What the volume limit left of an order: carried to the next bar, or cancelled."""
        if self.remainder == "carry":
            self._carried.append(work)
            return []
        return self._close(work, "volume limit reached", bar, time_ns)

    def _work(self, working: list[_Working], prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        out: list[Event] = []
        for work in working:
            out.extend(self._fill_limited(work, prices, bar, time_ns))
        return out

    def _fill_limited(self, work: _Working, prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        """Fill as much of ``work`` as the symbol's volume left this bar and the cash allow."""
        assert self.volume_limit is not None
        context, order = self.context, work.order
        i = context.symbol_index[order.symbol]
        price = float(prices[i])
        if price != price:  # NaN: no price
            return self._close(work, "no price for the symbol at the fill", bar, time_ns)
        wanted = work.remaining
        volume = math.nan if self._volume is None else float(self._volume[i])
        allowed = max(math.floor(self.volume_limit * volume + _FLOOR_TOLERANCE), 0) if volume == volume else 0
        used = self._used.get(i, 0)
        quantity = min(wanted, max(allowed - used, 0))
        out: list[Event] = []
        if quantity < wanted:
            details = {"wanted": wanted, "quantity": quantity, "volume": volume if volume == volume else None,
                       "volume_limit": self.volume_limit, "allowed": allowed, "filled_before": used,
                       "remainder": self.remainder}
            out.append(NoticeEvent(id=context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code=NoticeCode.VOLUME_LIMITED, symbol=order.symbol,
                                   details=details))
        if quantity == 0:
            return out + self._rest(work, bar, time_ns)

        if self.commission_per == "day" and work.since[0] != bar:
            work.since = (bar, work.filled, work.value, work.commission)  # a new day: a new order
        _, filled_before, value_before, paid_before = work.since

        def commission(n: int, fill: float) -> float:
            # The period's fills as one fill, less what they have paid: a minimum is paid once a period.
            total = commission_of(self.commission, work.filled - filled_before + n,
                                  work.value - value_before + n * fill)
            return max(total - (work.commission - paid_before), 0.0)

        def after_cut(_wanted: int, filled: int) -> list[Event]:
            return self._close(work, "not enough cash at the fill", bar, time_ns) if filled == 0 else []

        events, fill_event, cut = self._trade(order, price, quantity, bar, time_ns, commission, after_cut)
        out.extend(events)
        if fill_event is None:
            return out
        self._used[i] = used + fill_event.quantity
        work.filled += fill_event.quantity
        work.value += fill_event.quantity * fill_event.price
        work.commission += fill_event.commission
        if work.remaining == 0:
            out.append(self._state(work, OrderState.FILLED, fill_event.id, bar, time_ns))
            return out
        if cut:
            reason = "not enough cash at the fill"
        else:
            reason = "volume limit: rest carried" if self.remainder == "carry" else "volume limit: rest cancelled"
        out.append(self._state(work, OrderState.PARTIALLY_FILLED, fill_event.id, bar, time_ns, reason))
        out.extend(self._close(work, reason, bar, time_ns) if cut else self._rest(work, bar, time_ns))
        return out
