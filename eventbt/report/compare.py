"""Two runs in one report: the first divergence replay finds between them and the rebalances whose orders differ.

:func:`compare_runs` reads two audit logs (checked against their digests), takes the first divergence from
:func:`eventbt.replays.replayer.compare_logs` (the same comparison as ``eventbt diff`` and ``eventbt replay``),
and pairs the two runs' rebalances by date: a rebalance differs when its orders (symbol, side, quantity,
reason) or their fills (quantity, price) are not the same in both, or when only one run rebalanced that day.
:func:`compare_section` is the report's section; :func:`compare_page` a page of its own (``eventbt diff
--html``). Every value from the logs is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.display.format import format_value

if TYPE_CHECKING:
    from eventbt.replays.replayer import ReplayReport

__all__ = ["Comparison", "compare_page", "compare_runs", "compare_section"]


@attrs.frozen(kw_only=True)
class Comparison:
    """What the report shows about run A (the report's run) against run B."""

    labels: tuple[str, str]
    identical: bool
    text: str  # the comparison as `eventbt diff` prints it
    divergence: Any  # eventbt.replays.divergence.Divergence | None
    differing: tuple[str, ...]  # dates (YYYY-MM-DD) of the rebalances whose orders differ
    orders: Mapping[str, tuple[tuple[tuple[Any, ...], ...], tuple[tuple[Any, ...], ...]]]  # date -> (A's, B's)


def _orders_by_date(rebalances: Sequence[Mapping[str, Any]]) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Each date's orders (symbol, side, quantity, reason, filled quantity, fill price) from
    :func:`~eventbt.report.data.read_rebalances`' list."""
    out: dict[str, tuple[tuple[Any, ...], ...]] = {}
    for rebalance in rebalances:
        rows = []
        for order in rebalance["orders"]:
            fill = order["fill"] or {}
            rows.append((order["symbol"], order["side"], order["quantity"], order.get("reason"),
                         fill.get("quantity"), fill.get("price")))
        out[str(rebalance["date"])] = out.get(str(rebalance["date"]), ()) + tuple(rows)
    return out


def compare_runs(run_a: str | Path, run_b: str | Path, *, labels: tuple[str, str] = ("A", "B"),
                 logs: tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]] | None = None,
                 report: ReplayReport | None = None) -> Comparison:
    """Compare two runs (run folders or audit logs); see the module docstring. Each log is read once, digest
    checked (:func:`~eventbt.replays.replayer.load_log`), for both the event streams and the rebalances'
    orders; ``logs`` are the two read already and ``report`` their
    :func:`~eventbt.replays.replayer.compare_logs`, when the caller has them (``eventbt diff``)."""
    from eventbt.audit import event_records
    from eventbt.replays.replayer import compare_logs, load_log
    from eventbt.report.data import read_rebalances

    if logs is None:
        logs = (load_log(run_a), load_log(run_b))
    if report is None:
        report = compare_logs(logs[0], logs[1], labels=labels)
    left, right = (_orders_by_date(read_rebalances(event_records(log))) for log in logs)
    differing = tuple(day for day in sorted({*left, *right}) if left.get(day, ()) != right.get(day, ()))
    return Comparison(labels=labels, identical=report.identical, text=report.format(),
                      divergence=report.divergence, differing=differing,
                      orders={day: (left.get(day, ()), right.get(day, ())) for day in differing})


def _divergence_table(comparison: Comparison, *, explorer: bool) -> str:
    """The first divergence as a table, its cells the text ``eventbt diff`` prints; with ``explorer`` (a report
    that has one) its event links to the explorer's entry."""
    from eventbt.replays.divergence import describe_record, divergence_rows

    divergence = comparison.divergence
    if divergence is None:
        return "<p>The event streams agree record for record.</p>"
    rows = []
    for key, changed, text_a, text_b in divergence_rows(divergence):
        klass = ' class="changed"' if changed else ""
        marked = ' data-changed="1"' if changed else ""
        rows.append(f'<tr data-field="{escape(key)}"{marked}>'
                    f'<th scope="row"{klass}>{"* " if changed else ""}{escape(key)}</th>'
                    f"<td{klass}>{escape(text_a)}</td><td{klass}>{escape(text_b)}</td></tr>")
    record = divergence.record
    event_id = record.get("id")
    link = (f' (<a href="#event-{int(event_id)}">open it in the explorer</a>)'
            if explorer and isinstance(event_id, int) else "")
    chains = "".join(
        f"<p>causal chain ({escape(label)}): "
        + " &lt;- ".join(f'{escape(str(r.get("type")))} #{escape(str(r.get("id")))}' for r in chain) + "</p>"
        for label, chain in zip(comparison.labels, (divergence.recorded_chain, divergence.new_chain), strict=True)
        if chain)
    label_a, label_b = (escape(label) for label in comparison.labels)
    return (f'<p data-divergence="{escape(str(event_id))}">First divergence at event record {divergence.index + 1}: '
            f"{escape(describe_record(record))}{link}; the differing fields are marked *.</p>"
            f'<table class="data divergence"><thead><tr><th scope="col">field</th><th scope="col">{label_a}</th>'
            f'<th scope="col">{label_b}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{chains}')


def _orders_table(rows: Sequence[tuple[Any, ...]], other: Sequence[tuple[Any, ...]]) -> str:
    if not rows:
        return "<p>no orders</p>"
    changed = ' class="changed"'
    body = "".join(
        f'<tr{changed if row not in other else ""}><td>{escape(str(row[0]))}</td><td>{escape(str(row[1]))}'
        f'</td><td class="num">{format_value(row[2], "int")}</td><td>{escape(str(row[3]))}</td>'
        f'<td class="num">{format_value(row[4], "int") if row[4] is not None else "-"}</td>'
        f'<td class="num">{format_value(row[5], "price") if row[5] is not None else "-"}</td></tr>'
        for row in rows)
    return ('<table class="data"><thead><tr><th scope="col">symbol</th><th scope="col">side</th>'
            '<th scope="col" class="num">quantity</th><th scope="col">reason</th><th scope="col" class="num">filled'
            f'</th><th scope="col" class="num">price</th></tr></thead><tbody>{body}</tbody></table>')


def compare_section(comparison: Comparison, *, links: bool = True, explorer: bool = False) -> str:
    """The report's comparison section: the first divergence and every rebalance whose orders differ, with
    ``links`` to the report's timeline and, with ``explorer``, to the explorer's entry of the divergent event
    (``eventbt diff --html``'s page has neither, a report without the explorer no explorer)."""
    label_a, label_b = (escape(label) for label in comparison.labels)
    if comparison.identical:
        verdict = "The two runs are identical, event for event."
    else:
        verdict = (f"The runs differ: {len(comparison.differing)} rebalance(s) with different orders, marked "
                   "<em>differs</em> in the timeline.")
    items = []
    for day in comparison.differing:
        mine, theirs = comparison.orders[day]
        title = f'<a href="#rebalance-{escape(day)}">{escape(day)}</a>' if links else escape(day)
        items.append(f'<div class="pair" data-date="{escape(day)}"><h4>{title}</h4><div class="sides">'
                     f"<div><p>{label_a}</p>{_orders_table(mine, theirs)}</div>"
                     f"<div><p>{label_b}</p>{_orders_table(theirs, mine)}</div></div></div>")
    pairs = (f'<details class="pairs"><summary>Rebalances whose orders differ ({len(items)})</summary>'
             f'{"".join(items)}</details>') if items else ""
    table = _divergence_table(comparison, explorer=links and explorer)
    return (f'<section id="compare" class="compare" aria-labelledby="compare-title"><h2 id="compare-title">'
            f"Compared with {label_b}</h2><p>{verdict}</p>{table}{pairs}"
            f'<details><summary>As <code>eventbt diff</code> prints it</summary><pre>{escape(comparison.text)}</pre>'
            "</details></section>")


def compare_page(comparison: Comparison) -> str:
    """A page of its own holding :func:`compare_section` (``eventbt diff A B --html FILE``)."""
    from eventbt.report.assets import CSS
    from eventbt.report.explorer_assets import EXPLORER_CSS
    from eventbt.report.target import GENERATOR

    title = f"{comparison.labels[0]} vs {comparison.labels[1]} - eventbt diff"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{GENERATOR}<title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}{EXPLORER_CSS}'
            "</style></head><body><main>"
            f"{compare_section(comparison, links=False, explorer=False)}</main></body></html>")
