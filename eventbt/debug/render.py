"""How the step debugger shows things: one line of key fields per event, aligned text tables, HTML tables.

Everything here is plain string formatting, with no terminal library: the same :class:`Table` renders as
aligned text (a terminal, a log, a test) or as an HTML table (Jupyter's ``_repr_html_``). Amounts of money
have two decimals and thousands separators, per-share prices four decimals, quantities are whole numbers,
weights percentages. ``color=True`` only makes the first line of a step bold (ANSI), for terminals.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from eventbt.events import (
    CancelEvent,
    CashFlowEvent,
    DividendEvent,
    DividendPaymentEvent,
    Event,
    FeeEvent,
    FillEvent,
    MarginCallEvent,
    NoticeCode,
    NoticeEvent,
    OrderEvent,
    OrderStateEvent,
    SignalEvent,
    SnapshotEvent,
    SplitAdjustmentEvent,
    SplitEvent,
)

__all__ = [
    "Table",
    "describe",
    "emitted_text",
    "explain",
    "money",
    "order_terms",
    "price",
    "quantity",
    "ratio_text",
    "weight",
]

BOLD, RESET = "\x1b[1m", "\x1b[0m"


def money(value: float) -> str:
    """``1234.5`` -> ``1,234.50``."""
    return f"{value:,.2f}"


def price(value: float) -> str:
    """A per-share price: ``17.0625`` -> ``17.0625``."""
    return f"{value:,.4f}"


def quantity(value: int) -> str:
    """Whole shares: ``9715`` -> ``9,715``."""
    return f"{int(value):,d}"


def weight(value: float) -> str:
    """``0.2`` -> ``20.0%``."""
    return f"{value * 100:.1f}%"


def describe(event: Event) -> str:
    """The key fields of an event on one line (what a step, a queue or a trace shows next to its type)."""
    if isinstance(event, SignalEvent):
        picks = [f"{symbol} {weight(w)}" for symbol, w in sorted(event.weights.items()) if w]
        return ", ".join(picks) if picks else "all cash"
    if isinstance(event, OrderEvent):
        target = "" if event.target_weight is None else f", target {weight(event.target_weight)}"
        terms = order_terms(event)
        return (f"{event.side.name} {quantity(event.quantity)} {event.symbol} @ {price(event.reference_price)}"
                f"{' ' + terms if terms else ''} ({event.reason}{target})")
    if isinstance(event, OrderStateEvent):
        why = f": {event.reason}" if event.reason else ""
        return (f"{event.state} {event.symbol} order #{event.order_id} ({quantity(event.filled_quantity)} of "
                f"{quantity(event.quantity)} filled){why}")
    if isinstance(event, FillEvent):
        return (f"{event.side.name} {quantity(event.quantity)} {event.symbol} @ {price(event.price)}"
                f"  commission {money(event.commission)}  slippage {money(event.slippage)}"
                f"  (order #{event.order_id})")
    if isinstance(event, CancelEvent):
        return f"{quantity(event.quantity)} {event.symbol} of order #{event.order_id}: {event.reason}"
    if isinstance(event, NoticeEvent):
        return f"{event.code} {event.symbol or ''}".rstrip() + _notice_numbers(event)
    if isinstance(event, FeeEvent):
        on = f" on {event.symbol}" if event.symbol else ""
        return f"{event.model} {money(event.amount)}{on}{': ' + event.reason if event.reason else ''}"
    if isinstance(event, CashFlowEvent):
        flow = "deposit" if event.amount >= 0 else "withdrawal"
        return f"{flow} {money(abs(event.amount))}{': ' + event.reason if event.reason else ''}"
    if isinstance(event, SnapshotEvent):
        return (f"cash {money(event.cash)}  positions {money(event.positions_value)}"
                f"  total {money(event.total_value)}")
    if isinstance(event, MarginCallEvent):
        what = "stop the run" if event.response == "stop" else f"liquidate {event.fraction:.2%}" + (
            " (" + ", ".join(f"{symbol} {n:+,d}" for symbol, n in sorted(event.quantities.items())) + ")"
            if event.quantities else "")
        return (f"equity {money(event.equity)} is {event.ratio:.2%} of gross {money(event.gross_exposure)} "
                f"(maintenance {event.maintenance_margin:.2%}): {what}")
    described = _describe_action(event)
    if described is not None:
        return described
    bar = getattr(event, "bar", None)
    return f"bar {bar}" if bar is not None else ""


def order_terms(order: OrderEvent) -> str:
    """An order's type in words, ``""`` for a market order: ``limit 37.2000 day``, ``stop 37.5000 gtc 3 bars``,
    ``market_on_open``."""
    if order.order_type == "market":
        return ""
    level = order.limit_price if order.order_type == "limit" else order.stop_price
    if level is None:
        return order.order_type
    bars = order.expire_after
    until = "" if bars is None else f" {bars} bar{'' if bars == 1 else 's'}"
    return f"{order.order_type} {price(level)} {order.time_in_force}{until}"


def ratio_text(ratio: float) -> str:
    """A split ratio as the market says it: ``7.0`` -> ``7-for-1``, ``0.1`` -> ``1-for-10``, ``1.5`` -> ``3-for-2``."""
    from fractions import Fraction

    exact = Fraction(repr(float(ratio))).limit_denominator(1000)
    return f"{exact.numerator}-for-{exact.denominator}"


def _describe_action(event: Event) -> str | None:
    """One line for a corporate action or what it booked, else ``None``."""
    if isinstance(event, SplitEvent):
        return f"{event.symbol} {ratio_text(event.ratio)} split (x{event.ratio:g} shares, prices / {event.ratio:g})"
    if isinstance(event, DividendEvent):
        paid = f", paid {event.pay_date}" if event.pay_date else ""
        return f"{event.symbol} dividend {price(event.amount_per_share)} a share{paid}"
    if isinstance(event, SplitAdjustmentEvent):
        lieu = (f"  cash in lieu {money(event.cash_in_lieu)} for {event.fractional_shares:.4g} share(s)"
                if event.fractional_shares else "")
        return (f"{event.symbol} {quantity(event.shares_before)} -> {quantity(event.shares_after)} shares "
                f"({ratio_text(event.ratio)}){lieu}")
    if isinstance(event, DividendPaymentEvent):
        tax = f"  tax {money(event.withholding_tax)}  net {money(event.net)}" if event.withholding_tax else ""
        return (f"{event.symbol} {quantity(event.shares)} x {price(event.amount_per_share)} = {money(event.gross)}"
                f"{tax}  (ex {event.ex_date})")
    return None


def _notice_numbers(event: NoticeEvent) -> str:
    d = event.details
    if "wanted" in d and "quantity" in d:
        return f" {quantity(d['wanted'])} -> {quantity(d['quantity'])}"
    if "removed" in d:  # trimmed: it had quantity + removed shares, it keeps quantity
        return f" {quantity(d['quantity'] + d['removed'])} -> {quantity(d['quantity'])}"
    return ""


def explain(event: NoticeEvent, fill: FillEvent | None = None) -> str:
    """A notice in words: why an order was skipped, scaled, trimmed or reduced. ``fill`` is the fill that followed
    a ``reduced_at_fill`` notice: the price it quotes is then the one the check used (with slippage), with the
    commission; without it, the notice's reference price, said to be before slippage and commission."""
    d: Mapping[str, Any] = event.details
    code = event.code
    if code == "scaled_for_cash":
        return (f"wanted {quantity(d['wanted'])}, ordered {quantity(d['quantity'])}: the buys would cost "
                f"{money(d['cost'])} but only {money(d['available'])} was available (cash plus expected sell "
                f"proceeds), so every buy was scaled by {d['factor']:.6f} and rounded down")
    if code == "trimmed_for_cash":
        # cost is what the buys cost after the trimming, which brought it within what is available.
        return (f"{quantity(d['removed'])} share(s) taken off after scaling, leaving {quantity(d['quantity'])}: "
                f"the buys then cost {money(d['cost'])}, within the {money(d['available'])} available")
    if code == "reduced_at_fill":
        reduced = f"wanted {quantity(d['wanted'])}, filled {quantity(d['quantity'])}: only {money(d['cash'])} cash"
        if fill is None:
            return f"{reduced} at the fill, at {price(d['price'])} a share before slippage and commission"
        return (f"{reduced} at the fill, at {price(fill.price)} a share with slippage plus commission: "
                f"{quantity(fill.quantity)} cost {money(fill.quantity * fill.price + fill.commission)} "
                f"({money(fill.commission)} commission)")
    if code == "skip_min_trade_value":
        return f"a change of {money(d['change'])} is below min_trade_value {money(d['min_trade_value'])}"
    if code == "skip_zero_shares" and "price" in d:
        return f"a change of {money(d['change'])} is less than one share at {price(d['price'])}"
    if code == "skip_not_tradable":
        return f"not traded: {d.get('reason', 'no price')} (wanted a change of {money(d['change'])})"
    if code == "scaled_to_limits":
        limits = f"max_gross {d['max_gross']:g}" + (f", max_net {d['max_net']:g}" if d.get("max_net") is not None
                                                     else "")
        return (f"the signal asked for gross {d['gross']:.6g}, net {d['net']:.6g}, beyond {limits}: every weight "
                f"scaled by {d['factor']:.6f}")
    if code == "split_adjusted":
        return (f"order #{d['order_id']} restated for a {ratio_text(d['ratio'])} split: {quantity(d['wanted'])} -> "
                f"{quantity(d['quantity'])} shares, reference price {price(d['reference_price_before'])} -> "
                f"{price(d['reference_price'])}")
    facts = ", ".join(f"{key} {value}" for key, value in sorted(d.items()))
    if code in NoticeCode.__members__.values():
        return f"{NoticeCode(code).meaning} ({facts})" if facts else NoticeCode(code).meaning
    return facts


def emitted_text(events: Sequence[Event]) -> str:
    """``SignalEvent #623``, or runs of one type grouped: ``4 NoticeEvent #624-#627, OrderEvent #628``."""
    if not events:
        return "-"
    groups: list[list[Event]] = []
    for event in events:
        if groups and groups[-1][-1].kind == event.kind and groups[-1][-1].id + 1 == event.id:
            groups[-1].append(event)
        else:
            groups.append([event])
    parts = []
    for group in groups:
        first, last = group[0], group[-1]
        if len(group) == 1:
            parts.append(f"{first.kind} #{first.id}")
        else:
            parts.append(f"{len(group)} {first.kind} #{first.id}-#{last.id}")
    return ", ".join(parts)


@attrs.frozen(kw_only=True)
class Table:
    """Rows under a header: aligned text (numbers right-aligned) or an HTML table.

    ``numeric`` names the columns to right-align; ``title`` is a line above, ``notes`` lines below.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[str] = frozenset()
    title: str = ""
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Iterable[str] = (),
           title: str = "", notes: Iterable[str] = ()) -> Table:
        return cls(headers=tuple(headers), rows=tuple(tuple(row) for row in rows), numeric=frozenset(numeric),
                   title=title, notes=tuple(notes))

    def text(self, *, color: bool = False, header: bool = True) -> str:
        """Aligned text: the title, the header (unless ``header=False``, or there are no rows: the title then says
        so), the rows, the notes."""
        header = header and bool(self.rows)
        widths = [len(h) if header else 0 for h in self.headers]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        lines = []
        if self.title:
            lines.append(f"{BOLD}{self.title}{RESET}" if color else self.title)
        shown = [self.headers, *self.rows] if header else list(self.rows)
        for row in shown:
            cells = [cell.rjust(w) if name in self.numeric else cell.ljust(w)
                     for name, cell, w in zip(self.headers, row, widths, strict=True)]
            lines.append(("  " + "  ".join(cells)).rstrip())
        lines.extend(self.notes)
        return "\n".join(lines)

    def html(self) -> str:
        def cell(tag: str, name: str, text: str) -> str:
            style = ' style="text-align:right"' if name in self.numeric else ' style="text-align:left"'
            return f"<{tag}{style}>{html.escape(text)}</{tag}>"

        parts = []
        if self.title:
            parts.append(f"<p><b>{html.escape(self.title)}</b></p>")
        if not self.rows:  # the title says why there is nothing
            parts.extend(f"<p>{html.escape(note)}</p>" for note in self.notes)
            return "".join(parts)
        parts.append("<table><thead><tr>")
        parts.extend(cell("th", name, name) for name in self.headers)
        parts.append("</tr></thead><tbody>")
        for row in self.rows:
            parts.append("<tr>" + "".join(cell("td", n, t) for n, t in zip(self.headers, row, strict=True))
                         + "</tr>")
        parts.append("</tbody></table>")
        parts.extend(f"<p>{html.escape(note)}</p>" for note in self.notes)
        return "".join(parts)

