"""The portfolio handler: books fills, flows and fees, marks to market at the end of every bar, keeps the history.

It is the only writer of the run's :class:`~eventbt.portfolio.Portfolio` (the ``book`` it is given); every
other handler sees the book through the context's read-only :class:`~eventbt.portfolio.PortfolioView`. At each
:class:`~eventbt.events.BarEndEvent` (after all of the bar's fills) it marks the book at the last known
closes, records the bar in the :class:`~eventbt.portfolio.BookHistory` and publishes a
:class:`~eventbt.events.SnapshotEvent`.

The history holds the value of every bar (cash, positions value, total value and the deposits and
withdrawals booked), the trade log (every fill with its costs and realized P&L), the fees paid, the signal
history (targets at each rebalance) and the weights history (actual weights at the end of each rebalance
bar); the results are built from it. The portfolio handler is the one place that books deposits and
withdrawals, so the ``flow`` of the results comes from its history.

It also books what the corporate-actions handler works out (``handlers/corporate_actions.py``): a
:class:`~eventbt.events.SplitAdjustmentEvent` (shares, average cost and mark per new share, cash in lieu) and
a :class:`~eventbt.events.DividendPaymentEvent` (the net dividend to cash), and keeps them in the history
(the dividends and withholding tax of the results). Neither is a trade or a flow: the results' trades and
``flow`` do not show them, and the returns count dividends as income.

In a margin account (``docs/long-short.md``) the book holds short positions and negative cash; the handler then
also records each bar's long and short market value and each :class:`~eventbt.events.MarginCallEvent`, and
checks a signal from another handler against the ``[portfolio]`` limits (``allow_short``, ``max_gross``,
``max_net``) rather than the cash account's ``>= 0``, at most 1.
"""

from __future__ import annotations

import math
import numbers

from eventbt.errors import AccountingError, ContractError, did_you_mean
from eventbt.events import (
    BarEndEvent,
    CashFlowEvent,
    DividendPaymentEvent,
    Event,
    FeeEvent,
    FillEvent,
    MarginCallEvent,
    MarketEvent,
    NoticeCode,
    NoticeEvent,
    Side,
    SignalEvent,
    SnapshotEvent,
    SplitAdjustmentEvent,
)
from eventbt.handler import Handler
from eventbt.portfolio import (
    BookHistory,
    DividendRecord,
    FeeRecord,
    MarginCallRecord,
    Portfolio,
    SignalRecord,
    SplitRecord,
    WeightsRecord,
)
from eventbt.quiet import NEVER, QuietBars

__all__ = ["PortfolioHandler"]

_INF = math.inf
_WEIGHT_SUM_TOLERANCE = 1e-9  # as the strategy handler's
# As the book's: cash may dip this far below zero from floating-point rounding alone.
_CASH_TOLERANCE = 1e-6


def _number(value: object) -> bool:
    """Whether ``value`` is a real number (a float, an int, a numpy scalar), not a bool."""
    return value.__class__ is float or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _bad_fill(event: FillEvent, symbols: object) -> ContractError:
    """What is wrong with a fill another handler published (checked on entry, before it is booked)."""
    what = f"FillEvent #{event.id} ({event.symbol!r})"
    checks = (
        (event.quantity.__class__ is int and event.quantity > 0, f"quantity {event.quantity!r}",
         "a whole number > 0 (an int)"),
        (event.side.__class__ is Side, f"side {event.side!r}", "eventbt.events.Side.BUY or Side.SELL"),
        (isinstance(symbols, dict) and event.symbol in symbols, f"symbol {event.symbol!r}", "a symbol of the data"),
        (_number(event.price) and 0.0 < event.price < _INF, f"price {event.price!r}", "a finite number > 0"),
        (_number(event.commission) and 0.0 <= event.commission < _INF, f"commission {event.commission!r}",
         "a finite number >= 0"),
        (_number(event.slippage) and 0.0 <= event.slippage < _INF, f"slippage {event.slippage!r}",
         "a finite number >= 0"),
    )
    field, expected = next((field, expected) for ok, field, expected in checks if not ok)
    return ContractError(f"{what} has {field}; expected {expected}")


class PortfolioHandler(Handler):
    """Keeps the book and the history of the run."""

    name = "portfolio"
    subscribes: tuple[type[Event], ...] = (MarketEvent, SignalEvent, FillEvent, BarEndEvent, CashFlowEvent, FeeEvent,
                                           SplitAdjustmentEvent,
                  DividendPaymentEvent)

    def __init__(self, *, book: Portfolio, history: BookHistory, weights_lag: int = 0, max_gross: float | None = None,
                 max_net: float | None = None) -> None:
        self.book = book
        self.history = history
        # The limits a signal is checked against: a cash account's (>= 0, at most 1) unless any is set.
        self.limits = book.allow_short or max_gross is not None or max_net is not None
        self.max_gross = 1.0 if max_gross is None else float(max_gross)
        self.max_net = max_net
        if book.margin:
            self.subscribes = (*type(self).subscribes, MarginCallEvent)
        # Weights are recorded at the end of the bar whose fills carried out a rebalance: the signal bar
        # itself with same-close execution, the next bar with next-open execution (weights_lag = 1).
        self.weights_lag = weights_lag
        self._flows: list[float] = []  # this bar's deposits and withdrawals so far
        self._signal_bar = -1

    def on_market(self, event: MarketEvent) -> None:
        self.book.update_marks(event.close, event.complete)

    # A block of quiet bars (eventbt.quiet): this handler publishes their snapshots.
    quiet_snapshots = True

    def quiet_until(self, bar: int) -> int:
        """Quiet until the bar whose end records the weights of a rebalance; a margin account's bars are not
        taken as blocks (their exposures and the margin rule are worked out bar by bar)."""
        if self.book.margin:
            return bar
        return self._signal_bar if self._signal_bar >= bar else NEVER

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """Mark the book at each bar's closes and record it, as :meth:`on_market` and :meth:`on_bar_end` do."""
        book = self.book
        cash = book.cash
        values = book.mark_bars(bars.close, bars.complete)
        totals = [cash + value for value in values]
        self.history.record_bars(range(bars.start, bars.stop), cash, values, totals)
        bars.set_snapshots(cash, values, totals)

    def on_signal(self, event: SignalEvent) -> None:
        # The strategy handler checks its own targets; a signal from another handler is checked here, where
        # it enters the history (this handler is the first to receive it).
        weights = event.weights
        known = self.context.symbol_index
        short = self.book.allow_short
        for symbol, weight in weights.items():
            if not (symbol in known and (weight.__class__ is float or _number(weight))
                    and (-_INF < weight < _INF if short else 0.0 <= weight < _INF)):
                expected = "a finite number" if short else "a finite number >= 0"
                raise ContractError(
                    f"SignalEvent #{event.id} (strategy {event.strategy!r}) has weight {weight!r} for {symbol!r}; "
                    f"expected {expected} for a symbol of the data", plugin=str(event.strategy))
        if self.limits:
            self._check_limits(event)
        else:
            total = math.fsum(weights.values())
            if total > 1 + _WEIGHT_SUM_TOLERANCE:
                raise ContractError(f"SignalEvent #{event.id} (strategy {event.strategy!r}) has weights summing to "
                                    f"{total:.12g}; expected at most 1 (the rest is cash)", plugin=str(event.strategy))
        self.history.signals.append(SignalRecord(bar=event.bar, weights=dict(weights)))
        self._signal_bar = event.bar + self.weights_lag

    def _check_limits(self, event: SignalEvent) -> None:
        """A signal within ``max_gross`` and ``max_net`` (only the strategy handler scales its own)."""
        gross = math.fsum(abs(weight) for weight in event.weights.values())
        net = math.fsum(event.weights.values())
        what = f"SignalEvent #{event.id} (strategy {event.strategy!r})"
        if gross > self.max_gross + _WEIGHT_SUM_TOLERANCE:
            raise ContractError(f"{what} has a gross exposure of {gross:.12g}; expected at most [portfolio] max_gross "
                                f"{self.max_gross:.12g}", plugin=str(event.strategy))
        if self.max_net is not None and abs(net) > self.max_net + _WEIGHT_SUM_TOLERANCE:
            raise ContractError(f"{what} has a net exposure of {net:.12g}; expected at most [portfolio] max_net "
                                f"{self.max_net:.12g} either way", plugin=str(event.strategy))

    def on_margin_call(self, event: MarginCallEvent) -> None:
        """Keep a margin call in the history (the liquidation's orders are booked as they fill)."""
        self.history.margin_calls.append(MarginCallRecord(bar=event.bar, equity=event.equity,
                                                          gross_exposure=event.gross_exposure,
                                                          response=event.response, fraction=event.fraction))

    def on_fill(self, event: FillEvent) -> None:
        # The amounts are checked where they enter the book (plain comparisons; NaN fails every one).
        quantity, price, commission = event.quantity, event.price, event.commission
        slippage = event.slippage
        if not (quantity.__class__ is int and quantity > 0 and event.side.__class__ is Side
                and (price.__class__ is float or _number(price)) and 0.0 < price < _INF
                and (commission.__class__ is float or _number(commission)) and 0.0 <= commission < _INF
                and (slippage.__class__ is float or _number(slippage)) and 0.0 <= slippage < _INF
                and event.symbol in self.context.symbol_index):
            raise _bad_fill(event, self.context.symbol_index)
        i = self.context.symbol_index[event.symbol]
        # The fill's time, not its date: the book turns it into a date only for an AccountingError's message.
        side = int(event.side)
        realized = self.book.apply_fill(i, side, quantity, price, commission, slippage, date=event.time_ns,
                                        fill_id=event.id)
        # A TradeRecord's values (TRADE_FIELDS), the side by its name (Side.BUY is 1, Side.SELL -1).
        self.history.trade_rows.append((event.bar, event.symbol, "BUY" if side > 0 else "SELL", quantity, price,
                                        event.reference_price, commission, slippage, realized, event.order_id,
                                        event.id))

    def on_cash_flow(self, event: CashFlowEvent) -> None:
        """Book a deposit or withdrawal (a withdrawal larger than the cash is an AccountingError)."""
        amount = event.amount
        if not (_number(amount) and amount != 0 and -_INF < amount < _INF):
            raise ContractError(f"CashFlowEvent #{event.id} (reason {event.reason!r}) has amount {amount!r}; "
                                f"expected a finite number other than 0 (> 0 a deposit, < 0 a withdrawal)")
        amount = float(amount)  # a numpy scalar of a handler's as the plain float the cash is kept in
        book = self.book
        if amount < 0 and book.cash + amount < -_CASH_TOLERANCE:
            # Said here rather than by the book, whose message would take the event's reason for its subject.
            # (A margin account lends for trades and fees, not for a withdrawal: the cash must cover it too.)
            day = event.date[:10]
            raise AccountingError(
                f"withdrawal of {-amount:,.2f} on {day} exceeds the cash of {book.cash:,.2f} (short by "
                f"{-(book.cash + amount):,.2f}); expected a withdrawal the cash covers, or [portfolio] withdrawal "
                f"= 'sell' to sell positions for it", date=day, policy="[portfolio] withdrawal")
        reason = event.reason or ("deposit" if amount > 0 else "withdrawal")
        book.apply_cash_flow(amount, reason=reason, date=event.date)
        self._flows.append(amount)

    def on_fee(self, event: FeeEvent) -> list[Event] | None:
        """Book a fee (amount > 0 charged, < 0 credited) and attribute what was paid to its model.

        The book pays what the cash covers; a shortfall (or paying an earlier one) is published as a
        ``fee_owed`` notice with the amount paid, so the audit log holds every cash movement.
        """
        amount = event.amount
        if not (_number(amount) and -_INF < amount < _INF):
            raise ContractError(f"fee {event.model!r} (FeeEvent #{event.id}, reason {event.reason!r}) has amount "
                                f"{amount!r}; expected a finite number (> 0 charged, < 0 credited)",
                                plugin=str(event.model))
        symbol = event.symbol
        if symbol is not None and symbol not in self.context.symbol_index:
            raise ContractError(f"fee {event.model!r} (FeeEvent #{event.id}, reason {event.reason!r}) has symbol "
                                f"{symbol!r}{did_you_mean(str(symbol), self.context.symbols)}; expected a symbol "
                                "of the data, or None for a fee on the whole account", plugin=str(event.model))
        amount = float(amount)  # a numpy scalar of a fee handler's as the plain float the cash is kept in
        book = self.book
        paid = book.apply_fee(event.model, amount, date=event.date)
        self.history.record_fee(FeeRecord(bar=event.bar, model=event.model, paid=paid, reason=event.reason,
                                          symbol=event.symbol, cause_id=event.cause_id, fee_id=event.id),
                                owed=book.fees_owed.get(event.model, 0.0))
        if paid == event.amount:
            return None
        details = {"model": event.model, "due": event.amount, "paid": paid,
                   "owed": book.fees_owed.get(event.model, 0.0)}
        return [NoticeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                            handler=self.name, code=NoticeCode.FEE_OWED, symbol=event.symbol, details=details)]

    def on_split_adjustment(self, event: SplitAdjustmentEvent) -> None:
        """Book a split: shares, average cost and mark per new share, the fraction's cash in lieu."""
        i = self.context.symbol_index[event.symbol]
        realized = self.book.apply_split(i, event.ratio, event.shares_before, event.shares_after,
                                         event.fractional_shares, event.cash_in_lieu, date=event.date)
        self.history.splits.append(SplitRecord(bar=event.bar, symbol=event.symbol, ratio=event.ratio,
                                               shares_before=event.shares_before, shares_after=event.shares_after,
                                               cash_in_lieu=event.cash_in_lieu, realized_pnl=realized))

    def on_dividend_payment(self, event: DividendPaymentEvent) -> None:
        """Book a dividend's net amount to cash (a short position's payment takes it from cash)."""
        self.book.apply_dividend(self.context.symbol_index[event.symbol], event.net, date=event.date)
        self.history.dividends.append(DividendRecord(
            bar=event.bar, symbol=event.symbol, ex_date=event.ex_date, shares=event.shares,
            amount_per_share=event.amount_per_share, gross=event.gross, withholding_tax=event.withholding_tax,
            net=event.net, payment_id=event.id))

    def on_bar_end(self, event: BarEndEvent) -> list[Event]:
        book = self.book
        positions_value = book.positions_value()
        cash = book.cash
        total = cash + positions_value
        flow = math.fsum(self._flows) if self._flows else 0.0
        self._flows.clear()
        self.history.record_bar(event.bar, cash, positions_value, total, flow)
        if book.margin:
            long, short = book.exposures()
            self.history.long_value.append(long)
            self.history.short_value.append(short)
        if self._signal_bar == event.bar:
            self.history.weights.append(WeightsRecord(bar=event.bar, weights=book.weights()))
        return [SnapshotEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                              bar=event.bar, cash=cash, positions_value=positions_value, total_value=total)]
