"""The corporate-actions handler: works out what a split or a dividend does to the book.

It takes the data feed's :class:`~eventbt.events.SplitEvent` and :class:`~eventbt.events.DividendEvent`
(published at 09:00 of the ex-date, before the bar's open and close) and reads the book through the context's
read-only view, which at that moment holds the positions and marks of the previous close. It publishes what
the portfolio handler books (the portfolio handler is the only writer of the book), one event per position:

- a split of ``ratio`` (new shares per old share) on ``q`` shares held: a
  :class:`~eventbt.events.SplitAdjustmentEvent` with ``q * ratio`` split into whole shares and a fraction
  (:func:`split_shares`); the fraction is paid as cash in lieu at the previous close per old share turned
  into a price per new share: ``fraction * prior_close / ratio``;
- a dividend of ``amount_per_share`` on ``q`` shares held at the previous close: a
  :class:`~eventbt.events.DividendPaymentEvent` with ``gross = q * amount_per_share``, ``withholding_tax =
  gross * withholding_tax`` (the ``[portfolio] withholding_tax`` rate; only on dividends received) and
  ``net = gross - withholding_tax``, booked at the ex-date, or with ``dividend_payment = "pay_date"`` at the
  first bar on or after the dividend's pay date (at its 09:00; the last bar when the pay date comes after the
  data ends, so the final value includes every dividend the run went ex on). A short position (``q < 0``)
  pays the dividend.

Nothing is published for a symbol not held. Orders waiting for a fill are the execution handler's to adjust,
the strategy's history the strategy handler's; both take the same events.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from eventbt.errors import AccountingError
from eventbt.events import DividendEvent, DividendPaymentEvent, Event, SplitAdjustmentEvent, SplitEvent
from eventbt.handler import Context, Handler
from eventbt.orders import MAX_SHARES
from eventbt.prices import ACTIONS_OFFSET_NS
from eventbt.protocols import DIVIDEND_PAYMENTS, DividendPayment

__all__ = ["CorporateActionsHandler", "check_split_shares", "dividend_amounts", "split_shares"]

def split_shares(shares: int, ratio: float) -> tuple[int, float]:
    """``shares * ratio`` as whole shares and the fraction left over (same sign as ``shares``, ``|fraction| < 1``).

    The ratio is taken as the decimal number it is written as (``0.1`` is exactly one tenth, not the binary
    float nearest to it), so ``30 * 0.1`` is 3 shares and no fraction. Whole shares round towards zero: 101
    shares at 3-for-2 are 151 shares and half a share; a short of -101 is -151 and -0.5.
    """
    exact = shares * Fraction(repr(float(ratio)))
    whole = math.trunc(exact)
    return whole, float(exact - whole)


def check_split_shares(symbol: str, date: str, ratio: float, shares_before: int, shares_after: int) -> None:
    """Stop the run when a split would take a position beyond :data:`~eventbt.orders.MAX_SHARES` shares (a
    ratio far too large): the books would not hold it exactly, nor the audit log record it; an
    :class:`AccountingError` naming the symbol and the date."""
    if abs(shares_after) > MAX_SHARES:
        raise AccountingError(f"a split of {ratio:g} for {symbol!r} on {date[:10]} takes {shares_before:,} shares to "
                              f"{abs(shares_before * ratio):.6g}: more than the {MAX_SHARES:,} shares a position "
                              "holds exactly; check the split's ratio", symbol=symbol, date=date[:10])


def dividend_amounts(shares: int, amount_per_share: float, withholding_tax: float) -> tuple[float, float, float]:
    """``(gross, withholding_tax, net)`` of a dividend on ``shares``: ``gross = shares * amount_per_share``, the tax
    ``gross * withholding_tax`` on a dividend received (none on one a short position pays), ``net = gross - tax``."""
    gross = shares * amount_per_share
    tax = gross * withholding_tax if gross > 0 else 0.0
    return gross, tax, gross - tax


class CorporateActionsHandler(Handler):
    """Turns the data's splits and dividends into the book's split adjustments and dividend payments."""

    name = "corporate_actions"
    subscribes = (SplitEvent, DividendEvent)

    def __init__(self, *, withholding_tax: float = 0.0, dividend_payment: DividendPayment = "ex_date") -> None:
        if not (isinstance(withholding_tax, int | float) and 0 <= withholding_tax < 1):
            raise ValueError(f"withholding_tax must be a number >= 0 and < 1, got {withholding_tax!r}")
        if dividend_payment not in DIVIDEND_PAYMENTS:
            raise ValueError(f"dividend_payment must be one of {', '.join(DIVIDEND_PAYMENTS)}, "
                             f"got {dividend_payment!r}")
        self.withholding_tax = float(withholding_tax)
        self.dividend_payment = dividend_payment
        self._days = np.array([], dtype="datetime64[D]")

    def bind(self, context: Context) -> None:
        super().bind(context)
        self._days = np.asarray(context.dates).astype("datetime64[D]")

    def on_split(self, event: SplitEvent) -> list[Event] | None:
        view = self.context.portfolio
        i = self.context.symbol_index[event.symbol]
        held = int(view.positions[i])
        if held == 0:
            return None
        whole, fraction = split_shares(held, event.ratio)
        check_split_shares(event.symbol, event.date, event.ratio, held, whole)
        prior_close = float(view.marks[i])
        return [SplitAdjustmentEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id,
                                     bar=event.bar, symbol=event.symbol, ratio=event.ratio, shares_before=held,
                                     shares_after=whole, fractional_shares=fraction, prior_close=prior_close,
                                     cash_in_lieu=fraction * prior_close / event.ratio)]

    def on_dividend(self, event: DividendEvent) -> list[Event] | None:
        view = self.context.portfolio
        held = int(view.positions[self.context.symbol_index[event.symbol]])
        if held == 0:
            return None
        gross, tax, net = dividend_amounts(held, event.amount_per_share, self.withholding_tax)
        bar, time_ns = event.bar, event.time_ns
        if self.dividend_payment == "pay_date" and event.pay_date:
            days = self._days
            bar = max(min(int(np.searchsorted(days, np.datetime64(event.pay_date, "D"))), len(days) - 1), event.bar)
            if bar != event.bar:
                time_ns = int(days[bar].astype("datetime64[ns]").astype(np.int64)) + ACTIONS_OFFSET_NS
        return [DividendPaymentEvent(id=self.context.next_id(), time_ns=time_ns, cause_id=event.id, bar=bar,
                                     symbol=event.symbol, shares=held, amount_per_share=event.amount_per_share,
                                     gross=gross, withholding_tax=tax, net=net, ex_date=event.date[:10])]
