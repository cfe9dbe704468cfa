"""Fee handlers: costs not tied to one fill's price, booked through :class:`~eventbt.events.FeeEvent`.

A fee handler is an ordinary :class:`~eventbt.handler.Handler` with keyword parameters. It subscribes to
the events it needs and publishes ``FeeEvent``\\ s, which the portfolio handler books as cash flows and
attributes to the fee's ``model`` in the results. The audit log shows each fee with the event that
caused it (``cause_id``).

When fees are charged: every fee handler charges at a bar's :class:`~eventbt.events.MarketEvent`, the
moment of a bar when the cash is settled (the previous bar's fills are booked, this bar's same-close fills
are not yet made; next-open fills, at 09:30, are already booked). Fees are booked before this bar's
orders fill; order sizing at this bar does not see them, and the execution handler's cash check at the
fill cuts a buy they no longer leave room for. What is still due when the data ends (a duty on the last
bar's buys, a monthly fee's last part-month) is charged at the :class:`~eventbt.events.DataEndEvent`,
after everything the last bar caused and before its snapshot, so the final value includes it. A fee
never makes cash negative: the portfolio pays what the cash covers and keeps the rest as owed (a
``fee_owed`` notice in the audit log says how much), paid first from that model's next fee; amounts still
owed when the data ends are not booked. The book decides what is paid, because only it sees every fill and
fee of the bar in the order they are booked.

Built-in handlers (registered by name in :data:`FEE_HANDLERS`):

- ``stamp_duty`` (:class:`StampDuty`): ``rate`` x the value of each buy fill.
- ``cash_interest`` (:class:`CashInterest`): interest on the cash balance per calendar day.
- ``management_fee`` (:class:`ManagementFee`): an annual rate on total value, charged daily or monthly.
- ``us_regulatory_fees`` (:class:`UsRegulatoryFees`): the SEC's Section 31 fee and FINRA's trading
  activity fee on sales, optionally FINRA's CAT fee on both sides. A commission model sees only
  ``(quantity, value)``, not the side, so these fees are a fee handler watching the fills.

The fees of a margin account (``docs/long-short.md``), which the pipeline adds from ``[portfolio]
financing_rate`` and ``borrow_rate`` / ``borrow_rates`` (they are not ``[[handlers]]`` names):

- ``financing`` (:class:`Financing`): interest on a negative cash balance, actual/360 by default.
- ``borrow`` (:class:`Borrow`): the fee for borrowing the shares of each short position, on its market value.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from eventbt.costs.checks import in_range
from eventbt.errors import ContractError
from eventbt.events import DataEndEvent, Event, FeeEvent, FillEvent, MarketEvent, SnapshotEvent
from eventbt.exact import fsum
from eventbt.handler import Context, Handler
from eventbt.protocols import DAY_COUNTS
from eventbt.quiet import NEVER, QuietBars

__all__ = ["FEE_HANDLERS", "Borrow", "CashInterest", "FeeHandler", "Financing", "ManagementFee", "StampDuty",
           "UsRegulatoryFees"]

_NS_PER_DAY = 86_400_000_000_000

def _rate(name: str, value: object, *, low: float, high: float) -> float:
    return in_range(name, value, low=low, high=high, what="a finite number")


def _at_least_zero(name: str, value: object) -> float:
    return in_range(name, value, low=0, what="a finite number")


class FeeHandler(Handler):
    """Base of the fee handlers: publishes the fees due at market events (the portfolio books them)."""

    subscribes: tuple[type[Event], ...] = (MarketEvent,)

    def __init__(self) -> None:
        self.charged = 0.0

    def _charge(self, market: MarketEvent | DataEndEvent, due: float, *, reason: str, cause_id: int | None,
                symbol: str | None = None, details: dict[str, Any] | None = None) -> FeeEvent | None:
        """A fee of ``due`` at ``market``'s bar and time (none when it is 0); ``due`` must be finite."""
        if due == 0:
            return None
        if not (-math.inf < due < math.inf):
            cls = type(self)
            raise ContractError(f"fee handler {self.name!r} ({cls.__module__}:{cls.__qualname__}) computed a fee of "
                                f"{due!r} for {reason!r}; expected a finite number", plugin=self.name)
        self.charged += due
        facts = dict(details or {})
        facts.update(due=due)
        return FeeEvent(id=self.context.next_id(), time_ns=market.time_ns, cause_id=cause_id, bar=market.bar,
                        model=self.name, amount=due, reason=reason, symbol=symbol, details=facts)

    def bind(self, context: Context) -> None:
        """Work out the calendar once: days since the previous bar, and each bar's month."""
        super().bind(context)
        dates = np.asarray(context.dates).astype("datetime64[ns]")
        gaps = np.diff(dates, prepend=dates[:1]) / np.timedelta64(1, "D") if len(dates) else np.array([])
        self._day_gaps: list[float] = gaps.tolist()
        first = getattr(context, "first_bar", 0)
        if 0 < first < len(self._day_gaps):
            self._day_gaps[first] = 0.0  # the run starts there: the days of the warm-up before it accrue nothing
        self._months: list[int] = dates.astype("datetime64[M]").astype(np.int64).tolist()

    def _days_since_previous_bar(self, bar: int) -> float:
        return self._day_gaps[bar]


class _FeeOnFills(FeeHandler):
    """A fee on each fill, charged at the next market event (or at the data end): the fills wait until then. A
    subclass says which fills pay (:meth:`charges`; by default those of ``symbols``, every symbol when empty)
    and what each pays (:meth:`fee_on`: the amount, the reason and the details)."""

    subscribes = (MarketEvent, FillEvent, DataEndEvent)

    def __init__(self, *, symbols: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.symbols = tuple(symbols)
        self._fills: list[FillEvent] = []

    def charges(self, fill: FillEvent) -> bool:
        return not self.symbols or fill.symbol in self.symbols

    def fee_on(self, fill: FillEvent) -> tuple[float, str, dict[str, Any]]:
        raise NotImplementedError

    def on_fill(self, event: FillEvent) -> None:
        if self.charges(event):
            self._fills.append(event)

    def on_market(self, event: MarketEvent | DataEndEvent) -> list[Event]:
        fills, self._fills = self._fills, []
        out: list[Event] = []
        for fill in fills:
            amount, reason, details = self.fee_on(fill)
            fee = self._charge(event, amount, reason=reason, cause_id=fill.id, symbol=fill.symbol, details=details)
            if fee is not None:
                out.append(fee)
        return out

    on_data_end = on_market

    def quiet_until(self, bar: int) -> int:
        """Quiet while no fill waits for its fee."""
        return bar if self._fills else NEVER

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """Nothing to charge, nothing to keep."""


class StampDuty(_FeeOnFills):
    """A duty of ``rate`` x value on every buy fill, charged at the next market event (UK-style).

    ``amount = rate * quantity * fill price``. The default ``rate = 0.005`` is the UK's Stamp Duty Reserve
    Tax on agreements to transfer shares in UK companies: "0.5 per cent of the amount or value of the
    consideration" (HM Revenue & Customs, Stamp Taxes on Shares Manual, STSM031070 "Scope of Stamp Duty
    Reserve Tax (SDRT): calculation of the tax", as published in 2024). SDRT is rounded to the nearest
    penny and paper transfers pay Stamp Duty at the same rate rounded up to the next GBP 5; neither
    rounding is modelled. Sales pay nothing (the buyer pays). ``symbols`` limits the
    duty to those symbols (UK listings in a mixed universe); empty means every symbol. A buy filled at the
    close is charged at the next bar's market event, or at the :class:`~eventbt.events.DataEndEvent` when
    it was the last bar; one filled at the open, at the same bar's market event. Each fee's ``cause_id`` is
    the fill. Example: 100 shares bought at 25.00 pay ``0.005 * 2500.00 = 12.50``.
    """

    name = "stamp_duty"

    def __init__(self, *, rate: float = 0.005, symbols: list[str] | tuple[str, ...] = ()) -> None:
        self.rate = _rate("rate", rate, low=0.0, high=1.0)
        super().__init__(symbols=symbols)

    def charges(self, fill: FillEvent) -> bool:
        return fill.side > 0 and super().charges(fill)

    def fee_on(self, fill: FillEvent) -> tuple[float, str, dict[str, Any]]:
        value = fill.quantity * fill.price
        return self.rate * value, "stamp duty on a buy", {"rate": self.rate, "value": value}


class CashInterest(FeeHandler):
    """Interest on a credit balance: ``amount = -cash * annual_rate * days / day_count`` at each bar where the
    cash held is above zero.

    ``days`` are the calendar days since the previous bar (3 over a weekend), ``cash`` the balance held
    over them: the cash of the previous bar's :class:`~eventbt.events.SnapshotEvent`, at its end. Cash below
    zero (a margin account's loan) is :class:`Financing`'s to charge, at the loan's rate, as a broker pays
    one rate on credit balances and charges another on debit ones. With
    ``next_open`` that is the cash before this bar's open fills, which are made after the gap (reading the
    book at this bar's market event would apply the gap's days to the cash left after them). A positive
    ``annual_rate`` credits interest (a negative amount); a negative one, as on some EUR and CHF balances,
    charges it. ``day_count`` is the money-market convention: 360 for USD and EUR, 365 for GBP (ACT/360 and
    ACT/365 simple interest). No default rate: the scenario gives it. Example: 100,000 cash at 5% over a
    weekend (3 days, /360): ``-100000 * 0.05 * 3 / 360 = -41.67``.
    """

    name = "cash_interest"
    subscribes = (MarketEvent, SnapshotEvent)
    reason = "interest on cash"
    lowest_rate = -1.0  # some EUR and CHF balances pay a negative rate

    def __init__(self, *, annual_rate: float, day_count: int = 360) -> None:
        super().__init__()
        self.annual_rate = _rate("annual_rate", annual_rate, low=self.lowest_rate, high=1.0)
        _day_count(day_count)  # checked only: the cash interest records the value as it was given
        self.day_count = day_count
        self._held = 0.0  # the cash at the end of the previous bar

    def on_snapshot(self, event: SnapshotEvent) -> None:
        self._held = event.cash

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        return self._interest(event) if self._held > 0 else None

    def _interest(self, event: MarketEvent) -> list[Event] | None:
        """The interest on the cash held since the previous bar, whatever its sign."""
        days = self._days_since_previous_bar(event.bar)
        if days == 0:
            return None
        cash = self._held
        due = -cash * self.annual_rate * days / self.day_count
        fee = self._charge(event, due, reason=self.reason, cause_id=event.id,
                           details={"cash": cash, "annual_rate": self.annual_rate, "days": days,
                                    "day_count": self.day_count})
        return [fee] if fee is not None else None


class ManagementFee(FeeHandler):
    """An annual fee on total value, accrued per calendar day: ``value * annual_rate * days / 365``.

    ``value`` is the total value at the bar's closes before its same-close fills (0 when it is not above zero,
    a margin account's book under water: no fee, and no credit); ``days`` the calendar days since the previous
    bar (ACT/365). ``frequency = "daily"`` charges each bar's accrual at once;
    ``"monthly"`` sums the accruals and charges them at the first bar of each new month, and what has
    accrued since then when the data ends (the :class:`~eventbt.events.DataEndEvent`), so the last
    part-month is paid. No default rate (funds charge from about 0.03% for index ETFs to 2% for hedge
    funds). Example: 1,000,000 at 1% a year over one day: ``1000000 * 0.01 / 365 = 27.40``.
    """

    name = "management_fee"

    def __init__(self, *, annual_rate: float, frequency: str = "daily") -> None:
        super().__init__()
        self.annual_rate = _rate("annual_rate", annual_rate, low=0.0, high=1.0)
        if frequency not in ("daily", "monthly"):
            raise ValueError(f"frequency must be 'daily' or 'monthly', got {frequency!r}")
        self.frequency = frequency
        # Daily charges leave nothing due at the end; only the monthly fee settles there.
        self.subscribes = (MarketEvent, DataEndEvent) if frequency == "monthly" else (MarketEvent,)
        self.accrued = 0.0
        self._month = -1
        # The period a monthly charge sums: the bar it starts at (the run's first bar, then each charge's bar),
        # its calendar days and the sum of each bar's value times its days.
        self._since = -1
        self._days = 0.0
        self._value_days = 0.0

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        days = self._days_since_previous_bar(event.bar)
        value = max(self.context.portfolio.total_value(), 0.0)  # a book under water pays nothing (no credit)
        self.accrued += value * self.annual_rate * days / 365
        month = self._months[event.bar]
        new_month, self._month = month != self._month and self._month != -1, month
        if self.frequency == "daily":
            details = {"value": value, "annual_rate": self.annual_rate, "days": days}
        else:
            if self._since == -1:
                self._since = event.bar
            self._days += days
            self._value_days += value * days
            if not new_month:
                return None
            details = self._period(event.bar)
        due, self.accrued = self.accrued, 0.0
        if due == 0:
            return None
        fee = self._charge(event, due, reason="management fee", cause_id=event.id, details=details)
        return [fee] if fee is not None else None

    def _period(self, bar: int) -> dict[str, Any]:
        """The details of a monthly charge at ``bar``, and a new period from it: the date the period started,
        its calendar days and the day-weighted average total value, so ``average_value * annual_rate * days /
        365`` is the amount (to the last digits: the amount sums each bar's fee)."""
        days, value_days = self._days, self._value_days
        details = {"since": str(np.datetime64(self.context.dates[self._since], "D")), "days": days,
                   "average_value": value_days / days if days else 0.0, "annual_rate": self.annual_rate}
        self._since, self._days, self._value_days = bar, 0.0, 0.0
        return details

    def quiet_until(self, bar: int) -> int:
        """Monthly: quiet until the first bar of the next month (a bar of the month the last one was in charges
        nothing). Daily: not quiet (each bar charges its accrual)."""
        if self.frequency != "monthly" or self._month == -1:
            return bar
        months, month = self._months, self._month
        k = bisect.bisect_right(months, month, lo=bar)  # months only grow: the first bar of a later month
        return k if k < len(months) else NEVER

    def on_quiet_bars(self, bars: QuietBars) -> None:
        """Accrue each bar's fee on its total value, as :meth:`on_market` does in a month's later bars: the book
        at the bar's closes before its fills is, on a bar without fills, the snapshot's total value."""
        rate = self.annual_rate
        accrued, total_days, value_days = self.accrued, self._days, self._value_days
        for bar, value in zip(range(bars.start, bars.stop), bars.book_values(self.name), strict=True):
            days = self._days_since_previous_bar(bar)
            value = max(value, 0.0)  # as on_market
            accrued += value * rate * days / 365
            total_days += days
            value_days += value * days
        self.accrued, self._days, self._value_days = accrued, total_days, value_days
        self._month = self._months[bars.stop - 1]

    def on_data_end(self, event: DataEndEvent) -> list[Event] | None:
        """Charge what has accrued since the last charge: the last part-month."""
        due, self.accrued = self.accrued, 0.0
        fee = self._charge(event, due, reason="management fee accrued to the end of the data",
                           cause_id=event.id, details=self._period(event.bar))
        return [fee] if fee is not None else None


class UsRegulatoryFees(_FeeOnFills):
    """The US regulatory fees on each fill: SEC and FINRA TAF on sales, optionally FINRA CAT on both sides.

    For a fill of ``quantity`` shares at ``price`` (``value = quantity * price``)::

        sec = sec_rate * value                               (sales only)
        taf = min(taf_per_share * quantity, taf_max)         (sales only, per trade: per fill)
        cat = cat_per_share * quantity                       (buys and sales)

    Defaults, the rates published for 2026 (the broker passes them through; pass the rates of your
    period):

    - ``sec_rate = 0.0000206``: USD 20.60 per million of covered sales, in force from 4 April 2026 (U.S.
      Securities and Exchange Commission, "Order Making Fiscal Year 2026 Annual Adjustments to Transaction
      Fee Rates", Release No. 34-104909, 27 February 2026, and its Fee Rate Advisory; FINRA Information
      Notice of 17 March 2026). Earlier: 27.80 from 22 May 2024, 0.00 from 14 May 2025 to 3 April 2026.
    - ``taf_per_share = 0.000195``, ``taf_max = 9.79``: FINRA's trading activity fee for covered equity
      securities, USD 0.000195 per share sold, at most USD 9.79 a trade, in force from 1 January 2026 (FINRA,
      By-Laws Schedule A section 1, fee adjustment schedule of rule filing SR-FINRA-2024-019). Earlier:
      0.000166 and 8.30 in 2024-25; the schedule steps up again in 2027. A temporary fee holiday (rule
      filing SR-FINRA-2026-021) sets it to 0 for trades from 1 October to 31 December 2026; set
      ``taf_per_share = 0`` to model that.
    - ``cat_per_share = 0``: off. FINRA's Consolidated Audit Trail fees (FINRA Rule 6897) are charged per
      executed equivalent share on both sides, and brokers pass them through at different rates (Interactive
      Brokers listed USD 0.000048 to 0.000072 a share in 2024-25); give your broker's.

    Charged like :class:`StampDuty`: at the next bar's market event, or when the data ends for the last
    bar's fills, one fee per fill (its ``cause_id``). Rounding (brokers round each fee, or a day's total, up
    to the cent) is not modelled. ``symbols`` limits the fees to those symbols (US listings in a mixed
    universe); empty means every symbol. Example (the 2024-25 rates on Interactive Brokers' page,
    ``sec_rate=0.0000278, taf_per_share=0.000166, taf_max=8.30, cat_per_share=0.000048``): selling 1,000
    shares at 20.00 pays ``0.556 + 0.166 + 0.048 = 0.770``, buying them ``0.048``.
    """

    name = "us_regulatory_fees"

    def __init__(self, *, sec_rate: float = 0.0000206, taf_per_share: float = 0.000195, taf_max: float = 9.79,
                 cat_per_share: float = 0.0, symbols: list[str] | tuple[str, ...] = ()) -> None:
        self.sec_rate = _at_least_zero("sec_rate", sec_rate)
        if self.sec_rate >= 0.01:
            raise ValueError(f"sec_rate must be a fraction of the sale value below 0.01 (USD 20.60 per million "
                             f"= 0.0000206), got {sec_rate!r}")
        self.taf_per_share = _at_least_zero("taf_per_share", taf_per_share)
        self.taf_max = _at_least_zero("taf_max", taf_max)
        self.cat_per_share = _at_least_zero("cat_per_share", cat_per_share)
        super().__init__(symbols=symbols)

    def fees(self, side: int, quantity: int, price: float) -> dict[str, float]:
        """The ``sec``, ``taf`` and ``cat`` parts for one fill (``side`` +1 buy, -1 sell)."""
        value = quantity * price
        selling = side < 0
        return {
            "sec": self.sec_rate * value if selling else 0.0,
            "taf": min(self.taf_per_share * quantity, self.taf_max) if selling else 0.0,
            "cat": self.cat_per_share * quantity,
        }

    def fee_on(self, fill: FillEvent) -> tuple[float, str, dict[str, Any]]:
        parts = self.fees(int(fill.side), fill.quantity, fill.price)
        details: dict[str, Any] = {"side": fill.side.name, "quantity": fill.quantity,
                                   "value": fill.quantity * fill.price, **parts}
        return fsum(parts.values()), f"US regulatory fees on a {fill.side.name.lower()}", details


def _day_count(day_count: object) -> int:
    """``day_count`` checked (360 or 365), as an int (recorded so in the fees' details)."""
    if day_count not in DAY_COUNTS:
        raise ValueError(f"day_count must be 360 or 365, got {day_count!r}")
    return int(cast(int, day_count))


class Financing(CashInterest):
    """Interest on the margin loan: ``amount = -min(cash, 0) * annual_rate * days / day_count`` at each bar.

    ``cash`` is the balance held over the ``days`` since the previous bar: the cash of the previous bar's
    :class:`~eventbt.events.SnapshotEvent` (as :class:`CashInterest`, before this bar's open fills). Positive
    cash earns nothing here. ``day_count = 360`` is actual/360, the convention Interactive Brokers states for
    USD margin loans ("100,000 x (5.32% + 1.50%)/360" a day in its *Interest Charged Examples*, 2024; GBP /365).
    Example: cash of -30,000 over a weekend (3 days) at 6%: ``30000 * 0.06 * 3 / 360 = 15.00``.
    """

    name = "financing"
    reason = "interest on the margin loan"
    lowest_rate = 0.0

    def __init__(self, *, annual_rate: float, day_count: int = 360) -> None:
        super().__init__(annual_rate=annual_rate, day_count=_day_count(day_count))

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        return self._interest(event) if self._held < 0 else None


class Borrow(FeeHandler):
    """The fee for borrowing the shares of a short position: ``-q * close * rate * days / day_count`` a symbol.

    ``q < 0`` and ``close`` are the position and its mark at the end of the previous bar (read from the book
    when that bar's :class:`~eventbt.events.SnapshotEvent` comes), ``days`` the calendar days since; ``rate``
    is the symbol's entry of ``rates`` or ``annual_rate``. One fee per short symbol, with its ``symbol``.
    ``day_count = 360``: Interactive Brokers gives the daily borrow fee as "(Value x Fee Rate)/360" (*Reporting
    Reference: Borrow Fee Details*); its value is 102% of the previous close rounded up to a whole dollar, per
    share, which is not modelled (the market value is used). Example: 1,120 shares short at 26.77 for one day
    at 0.5%: ``29982.40 * 0.005 / 360 = 0.4164``.
    """

    name = "borrow"
    subscribes = (MarketEvent, SnapshotEvent)

    def __init__(self, *, annual_rate: float = 0.0, rates: Mapping[str, float] | None = None,
                 day_count: int = 360) -> None:
        super().__init__()
        self.annual_rate = _rate("annual_rate", annual_rate, low=0.0, high=10.0)
        self.rates = {str(symbol): _rate(f"rates[{symbol!r}]", rate, low=0.0, high=10.0)
                      for symbol, rate in sorted((rates or {}).items())}
        self.day_count = _day_count(day_count)
        self._shorts: list[tuple[int, int, float]] = []  # (symbol index, shares, close) at the previous bar's end

    def on_snapshot(self, event: SnapshotEvent) -> None:
        book = self.context.portfolio
        positions, marks = book.positions, book.marks
        self._shorts = [(i, q, float(marks[i])) for i in book.held_index().tolist()
                        if (q := int(positions[i])) < 0]

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        days = self._days_since_previous_bar(event.bar)
        if days == 0 or not self._shorts:
            return None
        out: list[Event] = []
        symbols = self.context.symbols
        for i, shares, price in self._shorts:
            symbol = symbols[i]
            rate = self.rates.get(symbol, self.annual_rate)
            value = -shares * price
            fee = self._charge(event, value * rate * days / self.day_count, reason="borrow fee on a short position",
                               cause_id=event.id, symbol=symbol,
                               details={"shares": shares, "price": price, "value": value, "annual_rate": rate,
                                        "days": days, "day_count": self.day_count})
            if fee is not None:
                out.append(fee)
        return out or None


FEE_HANDLERS: dict[str, type[FeeHandler]] = {cls.name: cls for cls in (StampDuty, CashInterest, ManagementFee,
                                                                      UsRegulatoryFees)}
"""The built-in fee handlers by the name a scenario's ``[[handlers]]`` uses."""
