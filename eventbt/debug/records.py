"""What a step of the debugger returns: the delivered event, what each handler emitted, what the book did.

A :class:`StepRecord` is a :class:`~eventbt.bus.Delivery` plus the cash before and after and one
:class:`PositionChange` per symbol whose shares or average cost moved; a :class:`StepList` holds several.
Both print as aligned text (:func:`step_table`) and show as HTML tables in Jupyter.
"""

from __future__ import annotations

from typing import Any

import attrs

from eventbt.bus import Delivery
from eventbt.debug.render import Table, describe, emitted_text, money, price, quantity

__all__ = ["PositionChange", "StepList", "StepRecord", "step_table"]


@attrs.frozen(kw_only=True)
class PositionChange:
    """How one symbol's position changed in a step."""

    symbol: str
    shares_before: int
    shares_after: int
    average_cost_before: float
    average_cost_after: float


@attrs.frozen(kw_only=True)
class StepRecord(Delivery):
    """One delivered event: the :class:`~eventbt.bus.Delivery` plus the portfolio change it caused, and who
    published the event (``publisher``: the handler's or the data feed's name, as ``by`` in the audit log; ``None``
    in a record made by hand)."""

    cash_before: float
    cash_after: float
    changes: tuple[PositionChange, ...] = ()
    publisher: str | None = None

    @property
    def cash_change(self) -> float:
        return self.cash_after - self.cash_before

    def to_dict(self, publisher: str | None = None) -> dict[str, Any]:
        """JSON-ready, as ``eventbt debug --dump --json`` prints each step: the audit log's ``publish`` fields of the
        event, where it went, what changed. ``by`` is :attr:`publisher` (the debugger's records know it), unless
        ``publisher`` is given."""
        event = self.event
        return {
            "seq": self.seq, "id": event.id, "type": event.kind, "time": event.date, "cause": event.cause_id,
            "by": self.publisher if publisher is None else publisher, "data": event.audit_fields(),
            "to": list(self.handlers),
            "emitted": {name: [e.id for e in out] for name, out in self.emitted},
            "cash_before": self.cash_before, "cash_after": self.cash_after,
            "changes": [attrs.asdict(change) for change in self.changes],
        }

    def table(self) -> Table:
        return step_table(self)

    def text(self, *, color: bool = False) -> str:
        return self.table().text(color=color, header=False)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.table().html()


class StepList(list[StepRecord]):
    """Step records in delivery order (what :meth:`Debugger.step_rebalance` and ``next N`` return)."""

    def text(self, *, color: bool = False) -> str:
        return "\n".join(record.text(color=color) for record in self)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return "".join(record._repr_html_() for record in self)



def step_table(record: StepRecord) -> Table:
    """A step: a title line with the event, one row per handler with what it emitted, then the changes."""
    event = record.event
    title = f"seq {record.seq}  {event.date}  {event.kind} #{event.id}  {describe(event)}".rstrip()
    rows = [(name, emitted_text(out)) for name, out in record.emitted] or [("(no handler)", "-")]
    if record.cash_after != record.cash_before:
        change = record.cash_after - record.cash_before
        rows.append(("cash", f"{money(record.cash_before)} -> {money(record.cash_after)}  ({change:+,.2f})"))
    for c in record.changes:
        rows.append((c.symbol, f"{quantity(c.shares_before)} -> {quantity(c.shares_after)} shares  average cost "
                               f"{price(c.average_cost_before)} -> {price(c.average_cost_after)}"))
    return Table.of(("handler", "emitted / change"), rows, title=title)
