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
``docs/long-short.md``) there is no such check: a fill may take cash below zero. A sale of more shares than
are held is cut to those held unless the account may sell short (``[portfolio] allow_short``).

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

Order types (``docs/orders.md``): a ``market`` order is all of the above. An order that waits for a later bar
(a ``limit`` or ``stop`` order, ``market_on_open`` with ``same_close``, ``market_on_close`` with
``next_open``) is worked when that bar's :class:`MarketEvent` arrives, after the carried remainders, in the
order the orders were placed: a ``market_on_open`` order at the bar's open price, a ``market_on_close`` order
at its close, a limit or stop order by the rules of :mod:`eventbt.orders.rules` on the bar's open, high and
low (and, with ``same_close``, once at placement against the close). A limit fill is held at its limit after
slippage. Limit and stop orders always publish their :class:`OrderStateEvent` events (``open``, ``filled``,
``expired`` at the end of their time in force, ...), whose reasons say why they filled or did not;
:meth:`ExecutionHandler.waiting` lists the orders waiting, for the debugger. With a rebalance of limit orders
(``rebalance_order_type = "limit"``) a :class:`SignalEvent` cancels the earlier rebalance's orders still
waiting.

Series that end (a delisting): ``series_last`` gives each symbol's last bar with a close
(:func:`eventbt.data.fit.series_bounds`, known before the run, as the delisting handler knows it). At the first
bar after a symbol's last close (its open with ``next_open``, else its close) the symbol's orders still waiting
(for a later bar, the next open, or carried) are cancelled, in id order, with the reason ``prices for 'C' end on
2020-01-07 (the series ended): the order cannot fill``; an order for the symbol that arrives later is cancelled so
when it arrives. This handler comes before the delisting handler, so these cancels precede its sale.

Cost models that take the order (see :func:`~eventbt.protocols.accepts_order`) are given an
:class:`~eventbt.protocols.OrderContext` of the order at each fill: read once when the handler is built, and
built per fill only for such models.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import deque
from collections.abc import Callable, Sequence
from fractions import Fraction

import attrs
import numpy as np

from eventbt.costs.contract import commission_of, fill_price_of, order_context_needed
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
    OrderReason,
    OrderState,
    OrderStateEvent,
    Side,
    SignalEvent,
    SplitEvent,
    format_time,
)
from eventbt.exact import mean, sample_std
from eventbt.handler import Context, Handler
from eventbt.orders import WAITING_TYPES, Check, WaitingOrder, at_placement, on_bar, order_problem, whole_shares
from eventbt.orders.outcomes import DATA_ENDED
from eventbt.protocols import (
    COMMISSION_PER,
    REMAINDERS,
    TIMINGS,
    BarContext,
    CommissionModel,
    CommissionPer,
    OrderContext,
    Remainder,
    SlippageModel,
    Timing,
    accepts_bar,
)
from eventbt.quiet import NEVER, QuietBars

__all__ = ["ExecutionHandler"]

_WORKING = (OrderState.OPEN, OrderState.PARTIALLY_FILLED)  # the states in which an order still has shares to fill


def _restated(price: float, ratio: Fraction) -> float:
    """A limit or stop price in old shares restated in new ones: the decimal the price is written as (its
    ``repr``, as the ratio's) divided by the ratio exactly, then rounded once. ``10.02 / 0.1`` in floats is
    100.19999999999999, which a bar's low of 100.2 (read from the same decimal text) would not reach; this gives
    100.2. (The reference price, which no bar is compared with, is divided as a float, as before.)"""
    return float(Fraction(repr(float(price))) / ratio)


def _at(row: np.ndarray | None, i: int) -> float:
    """``row[i]`` as a float, NaN without the row (data without that column)."""
    return math.nan if row is None else float(row[i])


class _Working:
    """An order worked under a volume limit, or waiting for a later bar: the shares, value and commission filled
    so far.

    ``since`` is ``(bar, filled, value, commission)`` when the current commission period began: the
    order's first fill with ``commission_per = "order"``, the day's first fill with ``"day"``. An order waiting
    for a later bar also has the first and last bar it may fill on (``last_bar`` ``None``: until the data
    ends) and its last :class:`~eventbt.orders.Check`; ``closed`` is set once its rest is cancelled.
    """

    __slots__ = ("check", "closed", "commission", "filled", "first_bar", "last_bar", "order", "since", "value")

    def __init__(self, order: OrderEvent) -> None:
        self.order = order
        self.filled = 0
        self.value = 0.0
        self.commission = 0.0
        self.since: tuple[int, int, float, float] = (-1, 0, 0.0, 0.0)
        self.first_bar = order.bar + 1
        self.last_bar: int | None = None
        self.check: Check | None = None
        self.closed = False

    @property
    def remaining(self) -> int:
        return self.order.quantity - self.filled


class ExecutionHandler(Handler):
    """Fills orders with the configured timing, slippage and commission."""

    name = "execution"

    def __init__(self, *, commission: CommissionModel, slippage: SlippageModel,
                 timing: Timing = "same_close", estimate_window: int = 20, volume_limit: float | None = None,
                 remainder: Remainder = "cancel", commission_per: CommissionPer = "order",
                 rebalance_order_type: str = "market", margin: bool = False,
                 series_last: Sequence[int] | None = None) -> None:
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
        self._unbooked: deque[tuple[int, float, int, int]] = deque()  # (fill id, cash effect, symbol, shares)
        # Their shares by symbol index (+ bought, - sold): a sale may sell what the book holds plus these.
        self._unbooked_shares: dict[int, int] = {}
        self._positions: np.ndarray = np.zeros(0, dtype=np.int64)  # the book's positions (read-only), from bind
        self._cuts_sales = not margin  # whether a sale is cut to the shares held (from the book, at bind)
        # The last such sum, (the book's cash object, effects added, total), which the next call goes on from
        # while nothing was booked and the cash is the same object: a bar of n orders then adds n effects, not
        # n * n / 2.
        self._unbooked_sum: tuple[float, int, float] | None = None
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
        # Signals: a new rebalance supersedes carried remainders (volume limit) and the earlier rebalance's limit
        # orders still waiting; without either, not subscribed (the audit log's lines stay as they were).
        self.rebalance_order_type = rebalance_order_type
        if volume_limit is not None or rebalance_order_type in WAITING_TYPES:
            self.subscribes = (*self.subscribes, SignalEvent)
        # Orders waiting for a later bar (limit, stop, market_on_open/close for another bar), in the order placed.
        self._waiting: list[_Working] = []
        self._market: MarketEvent | None = None  # the last market event (its open/high/low at placement checks)
        # Cost models that take the order: read once here, an OrderContext built per fill only for them.
        self._order_aware = order_context_needed(commission, slippage)
        self._carried: list[_Working] = []
        self._volume: np.ndarray | None = None  # the last market event's volumes
        self._used: dict[int, int] = {}  # shares filled this bar, by symbol index
        self._now = (0, 0)  # (bar, time_ns) of the last market event
        # Series that end before the data: symbol index -> the first bar after its last close (set at bind).
        self._series_last = None if series_last is None else [int(bar) for bar in series_last]
        self._ends: dict[int, int] = {}
        self._first_end = NEVER  # the earliest of those bars

    def bind(self, context: Context) -> None:
        super().bind(context)
        if self._series_last is not None:
            n_bars = len(context.dates)
            self._ends = {j: last + 1 for j, last in enumerate(self._series_last) if 0 <= last < n_bars - 1}
            self._first_end = min(self._ends.values(), default=NEVER)
        self._positions = context.portfolio.positions  # a read-only view of the book's array: always current
        # A sale is cut to the shares held unless the account may sell short: a cash account, and a margin account
        # that only borrows cash ([portfolio] max_gross > 1 without allow_short).
        self._cuts_sales = not context.portfolio.allow_short

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        if self._bar_aware:
            self._history.append(event)
            del self._history[: -(self.estimate_window + 1)]
        if self.timing == "same_close":
            self._prices = event.close
        self._market = event
        out: list[Event] = self._cancel_ended(event.bar, event.time_ns) if event.bar >= self._first_end else []
        if self.volume_limit is not None:
            self._volume = event.volume
            self._now = (event.bar, event.time_ns)
            if self.timing == "same_close":
                # Carried remainders fill first, before this bar's signal (queued after these fills).
                self._used = {}
                out.extend(self._work(self._take_carried(), event.close, event.bar, event.time_ns))
        if self._waiting:
            out.extend(self._work_waiting(event))
        return out or None

    def quiet_until(self, bar: int) -> int:
        """Quiet while no order waits (for a later bar or the next open), with no volume limit and no bar-aware
        cost model (each of which works on every bar's prices). A bar where a waiting order is cancelled because
        its symbol's series ended is therefore never quiet: an order waits up to it."""
        if self._waiting or self._pending or self.volume_limit is not None or self._bar_aware:
            return bar
        return NEVER

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """The last bar's closes (same close) or opens (next open) and its market event, as :meth:`on_market` and
        :meth:`on_bar_open` keep them."""
        last = bars.stop - 1
        if self.timing == "same_close":
            self._prices = bars.close_row(last)
        else:
            self._fill_open = bars.row("open", last)
        self._market = bars.market(last)

    def on_bar_open(self, event: BarOpenEvent) -> list[Event] | None:
        self._fill_open = event.open
        out: list[Event] = self._cancel_ended(event.bar, event.time_ns) if event.bar >= self._first_end else []
        if self.volume_limit is not None:
            self._used = {}
            pending, self._pending = self._pending, []
            working = self._take_carried() + [_Working(order) for order in pending]
            out.extend(self._work(working, event.open, event.bar, event.time_ns))
            return out or None
        if not self._pending:
            return out or None
        pending, self._pending = self._pending, []
        for order in pending:
            out.extend(self._fill(order, event.open, event.bar, event.time_ns))
        return out

    def on_order(self, event: OrderEvent) -> list[Event] | None:
        quantity = event.quantity
        if not (quantity.__class__ is int and quantity > 0 and event.side.__class__ is Side
                and event.symbol in self.context.symbol_index):
            raise self._bad_order(event)
        kind = event.order_type
        typed = kind != "market" or event.limit_price is not None or event.stop_price is not None \
            or event.expire_after is not None or event.time_in_force != "day"
        if typed:
            problem = order_problem(event) or self._data_problem(event)
            if problem is not None:
                raise ContractError(f"OrderEvent #{event.id} (reason {str(event.reason)!r}) {problem}", plugin=None)
        if event.bar >= self._first_end and self._ended(event.symbol, event.bar):
            return self._order_ended(event)  # its symbol's series has ended: it can never fill
        if typed:
            if kind in WAITING_TYPES:
                return self._order_waiting(event)
            if (kind == "market_on_open") == (self.timing == "same_close"):
                return self._order_later(event)  # the next open with same_close, the next close with next_open
        if self.volume_limit is not None:
            return self._order_limited(event)
        if self.timing == "next_open":
            self._pending.append(event)
            return None
        assert self._prices is not None, "an order arrived before any market event"
        return self._fill(event, self._prices, event.bar, event.time_ns)

    # -- series that end (a delisting) ----------------------------------------------------------------------
    def _ended(self, symbol: str, bar: int) -> bool:
        """Whether ``symbol``'s prices have ended by ``bar`` (it is past the symbol's last close)."""
        end = self._ends.get(self.context.symbol_index[symbol])
        return end is not None and bar >= end

    def _ended_reason(self, symbol: str) -> str:
        """Why an order for ``symbol``, whose series has ended, is cancelled: the symbol and its last date."""
        last = self._ends[self.context.symbol_index[symbol]] - 1
        date = str(np.datetime_as_string(self.context.dates[last], unit="D"))
        return f"prices for {symbol!r} end on {date} (the series ended): the order cannot fill"

    def _cancel_ended(self, bar: int, time_ns: int) -> list[Event]:
        """Cancel the orders still waiting (for a later bar, the next open, or carried) for a symbol whose series
        has ended by ``bar``, in id order (see the module docstring)."""
        if not (self._waiting or self._carried or self._pending):  # the common bar after an end: nothing waits
            return []
        ended: list[tuple[int, str, _Working]] = []
        lists = {"carried": self._carried, "waiting": self._waiting}
        for which, works in lists.items():
            kept = []
            for work in works:
                if self._ended(work.order.symbol, bar):
                    ended.append((work.order.id, which, work))
                else:
                    kept.append(work)
            lists[which] = kept
        self._carried, self._waiting = lists["carried"], lists["waiting"]
        pending = []
        for order in self._pending:
            if self._ended(order.symbol, bar):
                ended.append((order.id, "pending", _Working(order)))
            else:
                pending.append(order)
        self._pending = pending
        out: list[Event] = []
        for _, which, work in sorted(ended, key=lambda item: item[0]):
            reason = self._ended_reason(work.order.symbol)
            out.extend(self._close(work, reason, bar, time_ns) if which == "carried"
                       else self._end_waiting(work, reason, bar, time_ns))
        return out

    def _order_ended(self, event: OrderEvent) -> list[Event]:
        """An order for a symbol whose series has ended: cancelled as it arrives (``open``, then ``cancelled``, for
        an order that has states: a limit or stop order, or any order under a volume limit)."""
        work = _Working(event)
        out: list[Event] = []
        if event.order_type in WAITING_TYPES or self.volume_limit is not None:
            out.append(self._state(work, OrderState.OPEN, event.id, event.bar, event.time_ns))
        out.extend(self._end_waiting(work, self._ended_reason(event.symbol), event.bar, event.time_ns))
        return out

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
            problem = (f"asks for {quantity!r} shares, typed {type(quantity).__name__}; expected a whole number > 0 as "
                       "a Python int (int(quantity))")
        return ContractError(f"{what} {problem}", plugin=None)

    def _data_problem(self, order: OrderEvent) -> str | None:
        """An order type the data cannot fill (no open, high or low prices at all), in words; else ``None``."""
        market = self._market
        if market is None:
            return None
        needs = {"limit": ("open", "high", "low"), "stop": ("open", "high", "low"),
                 "market_on_open": ("open",)}.get(order.order_type, ())
        missing = [name for name in needs if getattr(market, name) is None]
        if not missing:
            return None
        words = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        return (f"is a {order.order_type} order, but the data has no {words} prices; expected data with open, high "
                "and low prices for limit and stop orders, opens for market_on_open (see docs/orders.md)")

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
            out.append(self._split_notice(event, order, order.quantity, quantity, ratio))
            if quantity == 0:
                out.extend(self._end_waiting(_Working(order), "a split left less than one share", event.bar,
                                             event.time_ns))
                continue
            pending.append(attrs.evolve(order, quantity=quantity, reference_price=order.reference_price / event.ratio))
        self._pending = pending
        self._carried = self._restate_working(self._carried, event, ratio, out)
        self._waiting = self._restate_working(self._waiting, event, ratio, out)
        self._rescale_known_bars(self.context.symbol_index[event.symbol], event.ratio)
        return out or None

    def _restate_working(self, works: list[_Working], event: SplitEvent, ratio: Fraction,
                         out: list[Event]) -> list[_Working]:
        """``works`` with the split symbol's orders restated in new shares (quantity, reference, limit and stop
        prices); one left with less than a share is closed. The notices and closes go to ``out``."""
        kept = []
        for work in works:
            if work.order.symbol != event.symbol:
                kept.append(work)
                continue
            remaining = math.floor(work.remaining * ratio)
            out.append(self._split_notice(event, work.order, work.remaining, remaining, ratio))
            if remaining == 0:
                out.extend(self._close(work, "a split left less than one share", event.bar, event.time_ns))
                continue
            order = work.order
            work.order = attrs.evolve(
                order, quantity=work.filled + remaining, reference_price=order.reference_price / event.ratio,
                limit_price=None if order.limit_price is None else _restated(order.limit_price, ratio),
                stop_price=None if order.stop_price is None else _restated(order.stop_price, ratio))
            kept.append(work)
        return kept

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

    def _split_notice(self, split: SplitEvent, order: OrderEvent, before: int, after: int,
                      ratio: Fraction) -> NoticeEvent:
        details = {"order_id": order.id, "ratio": split.ratio, "wanted": before, "quantity": after,
                   "reference_price_before": order.reference_price,
                   "reference_price": order.reference_price / split.ratio}
        for field in ("limit_price", "stop_price"):  # a waiting limit or stop order's price, restated likewise
            price = getattr(order, field)
            if price is not None:
                details[field] = _restated(price, ratio)
        return NoticeEvent(id=self.context.next_id(), time_ns=split.time_ns, cause_id=split.id, bar=split.bar,
                           handler=self.name, code=NoticeCode.SPLIT_ADJUSTED, symbol=order.symbol, details=details)

    def _available_cash(self) -> float:
        """The cash a fill may use now: the book's, less what this handler's fills not yet booked will move.

        Fills are booked in the order they were sent (the bus delivers them in publication order, the
        portfolio first), so those with an id up to the book's ``last_fill_id`` are booked. The effects are
        added to the book's cash one by one in the order sent; while the book's cash is the same and no fill
        was booked, the sum goes on from the last call's (the same additions in the same order, so the same
        float: ``tests/handlers/test_execution.py`` checks it against the sum made afresh).
        """
        book = self.context.portfolio
        unbooked = self._unbooked
        booked = book.last_fill_id
        if unbooked and unbooked[0][0] <= booked:
            shares = self._unbooked_shares
            while unbooked and unbooked[0][0] <= booked:
                _, _, i, change = unbooked.popleft()
                shares[i] -= change
            self._unbooked_sum = None
        if self.margin:
            return math.inf
        cash = book.cash
        last = self._unbooked_sum
        added, total = (last[1], last[2]) if last is not None and last[0] is cash else (0, cash)
        for index in range(added - len(unbooked), 0):  # the effects sent since, counted from the right
            total += unbooked[index][1]
        self._unbooked_sum = (cash, len(unbooked), total)
        return total

    def finish(self) -> list[Event] | None:
        """Cancel the orders still waiting for an open (or a later bar) when the data has ended."""
        reason = DATA_ENDED
        waiting, self._waiting = self._waiting, []
        out: list[Event] = []
        for work in waiting:
            out.extend(self._end_waiting(work, reason, *self._last_bar(work)))
        if self.volume_limit is not None:
            out.extend(self._cancel_carried(lambda work: True, reason, *self._now))
        pending, self._pending = self._pending, []
        for order in pending:  # market orders waiting for the next open
            out.extend(self._end_waiting(_Working(order), reason, order.bar, order.time_ns))
        return out or None

    def _cancel(self, order: OrderEvent, quantity: int, reason: str, bar: int, time_ns: int) -> CancelEvent:
        return CancelEvent(id=self.context.next_id(), time_ns=max(time_ns, order.time_ns), cause_id=order.id,
                           bar=bar, order_id=order.id, symbol=order.symbol, quantity=quantity, reason=reason)

    def _fill(self, order: OrderEvent, prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        """Fill the whole order (no volume limit), cut to the cash available for a buy."""
        i = self.context.symbol_index[order.symbol]
        return self._fill_at(order, float(prices[i]), bar, time_ns, i)

    def _fill_at(self, order: OrderEvent, price: float, bar: int, time_ns: int, i: int) -> list[Event]:
        """:meth:`_fill` at ``price``; ``i`` is the order's symbol index."""
        if price != price:  # NaN: no price
            return [self._cancel(order, order.quantity, "no price for the symbol at the fill", bar, time_ns)]

        def after_cut(wanted: int, quantity: int, reason: str) -> list[Event]:
            return [self._cancel(order, wanted - quantity, reason, bar, time_ns)]

        out, _, _ = self._trade(order, price, order.quantity, bar, time_ns, i, self._commission_of_fill, after_cut)
        return out

    def _commission_of_fill(self, quantity: int, fill: float, order: OrderContext | None, symbol: str) -> float:
        return commission_of(self.commission, quantity, quantity * fill, order, symbol=symbol)

    def _fill_price(self, side: int, price: float, symbol: str, order: OrderContext | None,
                    cap: float | None = None) -> Callable[[int], float]:
        """The fill price of n shares: the slippage model (checked), given the bar when it takes one and the
        order when it takes that; a limit order's fill held at its limit ``cap``."""
        slippage = self.slippage
        bar_context = self.bar_context(symbol) if self._bar_aware else None

        def fill_price(n: int) -> float:
            return fill_price_of(slippage, side, price, n, bar=bar_context, order=order, symbol=symbol)

        if cap is None:
            return fill_price
        if side > 0:
            return lambda n: min(fill_price(n), cap)
        return lambda n: max(fill_price(n), cap)

    def _order_context(self, order: OrderEvent, bar: int, time_ns: int) -> OrderContext:
        """What a cost model that takes the order sees of ``order`` filling at ``bar``."""
        return OrderContext(side=int(order.side), symbol=order.symbol, order_type=order.order_type, bar=bar,
                            date=format_time(time_ns)[:10], time_ns=time_ns, reason=str(order.reason),
                            order_id=order.id)

    def _trade(self, order: OrderEvent, price: float, quantity: int, bar: int, time_ns: int, i: int,
               commission: Callable[[int, float, OrderContext | None, str], float],
               after_cut: Callable[[int, int, str], list[Event]],
               cap: float | None = None) -> tuple[list[Event], FillEvent | None, str | None]:
        """Fill ``quantity`` shares of ``order`` at ``price`` with slippage and ``commission(n, fill, order,
        symbol)`` (the order's context, for a model that takes it, else ``None``; the symbol names it in a
        message); ``i`` is the symbol's index, ``cap`` a limit order's limit.

        A buy whose cost does not fit in the cash is cut to the largest whole number of shares that does
        (a ``reduced_at_fill`` notice, then ``after_cut(wanted, quantity, reason)``'s events); a sale whose
        commission exceeds its proceeds when the cash cannot pay the difference is not made (a
        ``skip_cost_exceeds_cash`` notice, then ``after_cut(quantity, 0, reason)``). In an account that does not
        sell short (a cash account, or a margin account without ``allow_short``) a sale of more shares than are
        held (the book's, with this handler's fills not booked yet) is cut to those (``after_cut``; none held:
        nothing filled): another handler's order may have sold them this bar.
        Returns the events, the fill (``None`` when nothing filled) and why the order was cut, if it was.
        """
        side = int(order.side)
        out: list[Event] = []
        cut: str | None = None
        cash = self._available_cash()  # (first: it also drops the fills the book has booked since)
        if side < 0 and self._cuts_sales:
            held = self._positions.item(i) + self._unbooked_shares.get(i, 0)
            if quantity > held:
                cut = ("not enough shares held at the fill (a cash account does not sell short)" if not self.margin
                       else "not enough shares held at the fill ([portfolio] allow_short is off)")
                out.extend(after_cut(quantity, max(held, 0), cut))
                quantity = max(held, 0)
                if quantity == 0:
                    return out, None, cut
        context = self._order_context(order, bar, time_ns) if self._order_aware else None
        # The common fill (no limit, a model that takes no bar) asks the model itself; the price function of n
        # shares is built only for the other fills, or for a cut buy's search below.
        fill_price = None
        if cap is None and not self._bar_aware:
            fill = fill_price_of(self.slippage, side, price, quantity, order=context, symbol=order.symbol)
        else:
            fill_price = self._fill_price(side, price, order.symbol, context, cap)
            fill = fill_price(quantity)
        charge = commission(quantity, fill, context, order.symbol)
        if side < 0 and cash + quantity * fill - charge < 0:
            # A sale whose commission exceeds its proceeds, with no cash to pay the difference.
            details = {"quantity": quantity, "proceeds": quantity * fill - charge, "cash": cash}
            out.append(NoticeEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code=NoticeCode.SKIP_COST_EXCEEDS_CASH, symbol=order.symbol,
                                   details=details))
            return out + after_cut(quantity, 0, "not enough cash at the fill"), None, cut
        if side > 0 and quantity * fill + charge > cash:
            cut = "not enough cash at the fill"
            wanted = quantity
            if fill_price is None:
                fill_price = self._fill_price(side, price, order.symbol, context, cap)

            def cost(n: int) -> float:
                f = fill_price(n)
                return n * f + commission(n, f, context, order.symbol)

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
            out.extend(after_cut(wanted, quantity, cut))
            if quantity == 0:
                return out, None, cut
            fill = fill_price(quantity)
            charge = commission(quantity, fill, context, order.symbol)
        fill_event = FillEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                               order_id=order.id, symbol=order.symbol, side=order.side, quantity=quantity,
                               price=fill, reference_price=price, commission=charge,
                               slippage=abs(fill - price) * quantity)
        if self._cuts_sales:  # fills limited by the shares held (and, in a cash account, by the cash)
            self._unbooked.append((fill_event.id, -side * quantity * fill - charge, i, side * quantity))
            self._unbooked_shares[i] = self._unbooked_shares.get(i, 0) + side * quantity
        out.append(fill_event)
        return out, fill_event, cut

    # -- orders that wait for a later bar (docs/orders.md) ------------------------------------------------
    def waiting(self) -> tuple[WaitingOrder, ...]:
        """The orders waiting for a later bar, in the order they were placed: limit and stop orders, orders for
        the next open or close, and (``next_open``) market orders for the next open and carried remainders,
        each with its last check (for the debugger's ``waiting``)."""
        later = "next open" if self.timing == "next_open" else "next close"

        def shown(work: _Working, waits_for: str) -> WaitingOrder:
            return WaitingOrder(order=work.order, filled=work.filled, remaining=work.remaining,
                                first_bar=work.first_bar, last_bar=work.last_bar, check=work.check,
                                waits_for=waits_for)

        kinds = {"market_on_open": "next open", "market_on_close": "next close"}
        rows = [shown(work, f"carried to the {later}") for work in self._carried]
        rows.extend(shown(work, kinds.get(work.order.order_type, "")) for work in self._waiting)
        for order in self._pending:
            work = _Working(order)
            work.last_bar = order.bar + 1
            rows.append(shown(work, "next open"))
        return tuple(sorted(rows, key=lambda row: row.order.id))

    @staticmethod
    def _cap(order: OrderEvent) -> float | None:
        """A limit order's limit: its fill, slippage included, is held there."""
        return order.limit_price if order.order_type == "limit" else None

    def _order_waiting(self, event: OrderEvent) -> list[Event]:
        """A limit or stop order: accepted (``open``), checked at placement with ``same_close``, then waiting."""
        out: list[Event] = []
        if self.volume_limit is not None:
            out = self._replace_carried(event)
        work = _Working(event)
        if event.time_in_force == "day":
            work.last_bar = event.bar + 1
        elif event.expire_after is not None:
            work.last_bar = event.bar + event.expire_after
        if self.timing == "same_close":  # checked once against the close it is placed at
            assert self._prices is not None, "an order arrived before any market event"
            close = float(self._prices[self.context.symbol_index[event.symbol]])
            work.check = at_placement(event, close, bar=event.bar, date=event.date[:10])
        placed = work.check
        waits = placed is None or placed.price is None
        out.append(self._state(work, OrderState.OPEN, event.id, event.bar, event.time_ns,
                               placed.why if placed is not None and waits else ""))
        if placed is not None and placed.price is not None:
            out.extend(self._fill_limited(work, placed.price, event.bar, event.time_ns, cap=self._cap(event),
                                          waiting=True))
        if not work.closed and work.remaining > 0:
            self._waiting.append(work)
        return out

    def _order_later(self, event: OrderEvent) -> list[Event] | None:
        """A ``market_on_open`` order with ``same_close`` or a ``market_on_close`` one with ``next_open``: it waits
        for the next bar's open or close."""
        out: list[Event] = []
        work = _Working(event)
        work.last_bar = event.bar + 1
        if self.volume_limit is not None:
            out = self._replace_carried(event)
            out.append(self._state(work, OrderState.OPEN, event.id, event.bar, event.time_ns))
        self._waiting.append(work)
        return out or None

    def _work_waiting(self, event: MarketEvent) -> list[Event]:
        """Work the orders waiting for this bar, in the order they were placed (see the module docstring)."""
        bar, time_ns, date = event.bar, event.time_ns, event.date[:10]
        index = self.context.symbol_index
        waiting, self._waiting = self._waiting, []
        kept: list[_Working] = []
        out: list[Event] = []
        for work in waiting:
            order = work.order
            if bar < work.first_bar:
                kept.append(work)
                continue
            i = index[order.symbol]
            if order.order_type not in WAITING_TYPES:  # the next open (same_close) or close (next_open): a market
                row = event.open if order.order_type == "market_on_open" else event.close
                price = _at(row, i)
                out.extend(self._fill_limited(work, price, bar, time_ns) if self.volume_limit is not None
                           else self._fill_at(order, price, bar, time_ns, i))
                continue

            work.check = on_bar(order, _at(event.open, i), _at(event.high, i), _at(event.low, i), bar=bar, date=date)
            if work.check.price is not None:
                out.extend(self._fill_limited(work, work.check.price, bar, time_ns, cap=self._cap(order),
                                              waiting=True))
            if work.closed or work.remaining == 0:
                continue
            if work.last_bar is not None and bar >= work.last_bar:
                out.extend(self._expire(work, bar, time_ns))
            else:
                kept.append(work)
        self._waiting = kept + self._waiting
        return out

    def _expire(self, work: _Working, bar: int, time_ns: int) -> list[Event]:
        """A limit or stop order at the end of its time in force: its rest cancelled, its state ``expired``."""
        order = work.order
        why = work.check.why if work.check is not None else "not checked"
        if work.check is not None and work.check.price is not None:  # it filled this bar, but not all of it
            left = work.remaining
            why = f"{why}, but the volume limit left {left:,} share{'' if left == 1 else 's'} unfilled"
        if order.time_in_force == "day":
            reason = f"day order expired: {why}"
        else:
            bars = order.expire_after
            reason = f"gtc order expired after {bars} bar{'' if bars == 1 else 's'}: {why}"
        work.closed = True
        cancel = self._cancel(order, work.remaining, reason, bar, time_ns)
        return [cancel, self._state(work, OrderState.EXPIRED, cancel.id, bar, time_ns, reason)]

    def _end_waiting(self, work: _Working, reason: str, bar: int, time_ns: int) -> list[Event]:
        """Cancel a waiting order (superseded, or the data ended): with its ``cancelled`` state when it has
        states (a limit or stop order, or any order under a volume limit)."""
        if work.order.order_type in WAITING_TYPES or self.volume_limit is not None:
            return self._close(work, reason, bar, time_ns)
        return [self._cancel(work.order, work.remaining, reason, bar, time_ns)]

    def _last_bar(self, work: _Working) -> tuple[int, int]:
        """The bar and time a waiting order is cancelled at when the data ends: the last market event's."""
        market = self._market
        return (market.bar, market.time_ns) if market is not None else (work.order.bar, work.order.time_ns)

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

        # math.log (the C library), not numpy's log, whose SIMD loops differ in the last bit between CPUs;
        # the mean and deviation are exactly rounded sums (eventbt.exact), as is every money figure.
        closes = [float(event.close[i]) for event in self._history]
        logs = [math.log(c) if 0 < c < math.inf else math.nan for c in closes]
        returns = [b - a for a, b in itertools.pairwise(logs) if a == a and b == b]
        volatility = sample_std(returns) if len(returns) >= 2 else math.nan
        volumes = [_at(event.volume, i) for event in self._history[-self.estimate_window:]]
        known = [v for v in volumes if v == v]
        return BarContext(
            timing=self.timing, open=_at(last.open, i), high=_at(last.high, i), low=_at(last.low, i),
            close=_at(last.close, i), volume=_at(last.volume, i), fill_open=fill_open,
            previous_high=_at(previous.high, i) if previous is not None else math.nan,
            previous_low=_at(previous.low, i) if previous is not None else math.nan,
            average_volume=mean(known) if known else math.nan, volatility=volatility,
            window=self.estimate_window,
        )

    # -- partial fills (volume limit) -----------------------------------------------------------------
    def on_signal(self, event: SignalEvent) -> list[Event] | None:
        """A new rebalance supersedes every carried remainder and the earlier rebalance's orders still waiting
        (subscribed only with a volume limit or a rebalance of limit orders)."""
        reason = f"superseded by the rebalance signal of bar {event.bar}"
        out = self._cancel_carried(lambda work: True, reason, event.bar, event.time_ns)
        kept = []
        for work in self._waiting:
            if work.order.reason in (OrderReason.REBALANCE, OrderReason.EXIT) and work.order.time_ns < event.time_ns:
                out.extend(self._end_waiting(work, reason, event.bar, event.time_ns))
            else:
                kept.append(work)
        self._waiting = kept
        return out or None

    def _order_limited(self, event: OrderEvent) -> list[Event]:
        out = self._replace_carried(event)
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

    def _replace_carried(self, event: OrderEvent) -> list[Event]:
        """Close the carried remainder of ``event``'s symbol: a new order for the symbol replaces it."""
        return self._cancel_carried(lambda work: work.order.symbol == event.symbol,
                                    "replaced by a new order for the symbol", event.bar, event.time_ns)

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
        work.closed = True
        cancel = self._cancel(work.order, work.remaining, reason, bar, time_ns)
        return [cancel, self._state(work, OrderState.CANCELLED, cancel.id, bar, time_ns, reason)]

    def _rest(self, work: _Working, bar: int, time_ns: int, waiting: bool = False) -> list[Event]:
        """What the volume limit left of an order: carried to the next bar (a waiting order: left waiting), or
        cancelled."""
        if self.remainder == "carry":
            if not waiting:
                self._carried.append(work)
            return []
        return self._close(work, "volume limit reached", bar, time_ns)

    def _work(self, working: list[_Working], prices: np.ndarray, bar: int, time_ns: int) -> list[Event]:
        out: list[Event] = []
        index = self.context.symbol_index
        for work in working:
            out.extend(self._fill_limited(work, float(prices[index[work.order.symbol]]), bar, time_ns))
        return out

    def _fill_limited(self, work: _Working, price: float, bar: int, time_ns: int, *, cap: float | None = None,
                      waiting: bool = False) -> list[Event]:
        """Fill as much of ``work`` at ``price`` as the symbol's volume left this bar and the cash allow.

        Without a volume limit (a limit or stop order, ``waiting``) the whole order. ``cap`` is a limit
        order's limit; a ``waiting`` order's rest keeps waiting (``carry``) instead of being carried.
        """
        context, order = self.context, work.order
        i = context.symbol_index[order.symbol]
        if price != price:  # NaN: no price
            return self._close(work, "no price for the symbol at the fill", bar, time_ns)
        wanted = work.remaining
        used = self._used.get(i, 0)
        out: list[Event] = []
        if self.volume_limit is None:
            quantity = wanted
        else:
            volume = math.nan if self._volume is None else float(self._volume[i])
            # whole_shares has room for binary fractions: 0.29 * 100 is 28.999999999999996.
            allowed = max(whole_shares(self.volume_limit * volume), 0) if volume == volume else 0
            quantity = min(wanted, max(allowed - used, 0))
        if quantity < wanted:
            details = {"wanted": wanted, "quantity": quantity, "volume": volume if volume == volume else None,
                       "volume_limit": self.volume_limit, "allowed": allowed, "filled_before": used,
                       "remainder": self.remainder}
            out.append(NoticeEvent(id=context.next_id(), time_ns=time_ns, cause_id=order.id, bar=bar,
                                   handler=self.name, code=NoticeCode.VOLUME_LIMITED, symbol=order.symbol,
                                   details=details))
        if quantity == 0:
            return out + self._rest(work, bar, time_ns, waiting)

        if self.commission_per == "day" and work.since[0] != bar:
            work.since = (bar, work.filled, work.value, work.commission)  # a new day: a new order
        _, filled_before, value_before, paid_before = work.since

        def commission(n: int, fill: float, order_context: OrderContext | None, symbol: str) -> float:
            # The period's fills as one fill, less what they have paid: a minimum is paid once a period.
            total = commission_of(self.commission, work.filled - filled_before + n,
                                  work.value - value_before + n * fill, order_context, symbol=symbol)
            return max(total - (work.commission - paid_before), 0.0)

        def after_cut(_wanted: int, filled: int, reason: str) -> list[Event]:
            return self._close(work, reason, bar, time_ns) if filled == 0 else []

        events, fill_event, cut = self._trade(order, price, quantity, bar, time_ns, i, commission, after_cut, cap)
        out.extend(events)
        if fill_event is None:
            return out
        self._used[i] = used + fill_event.quantity
        work.filled += fill_event.quantity
        work.value += fill_event.quantity * fill_event.price
        work.commission += fill_event.commission
        if work.remaining == 0:
            why = work.check.why if waiting and work.check is not None else ""
            out.append(self._state(work, OrderState.FILLED, fill_event.id, bar, time_ns, why))
            return out
        if cut:
            reason = cut
        elif waiting:
            reason = "volume limit: rest waiting" if self.remainder == "carry" else "volume limit: rest cancelled"
        else:
            reason = "volume limit: rest carried" if self.remainder == "carry" else "volume limit: rest cancelled"
        out.append(self._state(work, OrderState.PARTIALLY_FILLED, fill_event.id, bar, time_ns, reason))
        out.extend(self._close(work, reason, bar, time_ns) if cut else self._rest(work, bar, time_ns, waiting))
        return out
