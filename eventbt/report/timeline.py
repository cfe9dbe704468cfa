"""The report's rebalance timeline: one row per rebalance (date, turnover, costs, cash before and after, orders,
fills, notices), each selectable to show its events in the explorer below it (:mod:`eventbt.report.explorer`).

The rows are plain HTML, readable without the script; selecting one (a click, or the arrow keys then Enter)
has the page's script unpack the run's step records and draw that rebalance's events. Every text that comes
from the run (symbols, notice codes, handler names) is escaped here, and the script only ever sets text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from eventbt.display.format import format_value
from eventbt.report.costs import rebalance_costs
from eventbt.report.explorer import encode, pack
from eventbt.results.metrics import rebalance_table

if TYPE_CHECKING:
    from eventbt.report.data import RunData
    from eventbt.report.explorer import Explorer

__all__ = ["explorer_section", "rebalance_figures"]


def rebalance_figures(run: RunData) -> list[dict[str, Any]]:
    """Per rebalance of ``run.rebalances``: ``traded`` value, ``turnover``, ``commission``, ``slippage``, the
    ``fees`` that belong to it (``{model: amount}``) and ``costs`` (their sum), as the report's charts count them
    (by the date of its fills; fees as :func:`eventbt.report.costs.rebalance_costs` assigns them). A rebalance
    without fills turned over 0 of its day's total value (see :func:`_idle_turnover`)."""
    by_date = rebalance_table(run.trades, run.equity)
    costs = rebalance_costs(run)
    fee_columns = [name for name in costs.columns if name.startswith("fee:")]
    # Looked up by date as plain dicts: a pandas look-up per rebalance cost more than the rest of the page's rows.
    turnovers = dict(zip(by_date.index, by_date["turnover"].to_numpy(dtype=float).tolist(), strict=True))
    fee_rows = dict(zip(costs.index, costs[fee_columns].to_numpy(dtype=float).tolist(), strict=True))
    no_fees = [0.0] * len(fee_columns)
    figures = []
    for rebalance in run.rebalances:
        fills = [o["fill"] for o in rebalance["orders"] if o["fill"]]
        day = pd.Timestamp(fills[0]["time"][:10]) if fills else None
        turnover = turnovers.get(day) if fills else _idle_turnover(run, rebalance["date"])
        amounts = fee_rows.get(day, no_fees)
        fees = {name.removeprefix("fee:"): amount for name, amount in zip(fee_columns, amounts, strict=True)}
        commission = math.fsum(f["commission"] for f in fills)
        slippage = math.fsum(f["slippage"] for f in fills)
        figures.append({"traded": math.fsum(f["quantity"] * f["price"] for f in fills), "turnover": turnover,
                        "commission": commission, "slippage": slippage, "fees": fees,
                        "costs": math.fsum([commission, slippage, *fees.values()]), "fills": len(fills)})
    return figures


def _idle_turnover(run: RunData, date: str) -> float | None:
    """The turnover of a rebalance that traded nothing: 0 (no traded value over the day's total value), or
    None (shown n/a) when that value is not above zero or not in equity.csv, where the formula is undefined."""
    value = run.equity["total_value"].get(pd.Timestamp(date))
    return 0.0 if value is not None and value > 0 else None


def _notice_text(notices: list[Mapping[str, Any]]) -> str:
    counts = Counter(str(n.get("code")) for n in notices)
    return ", ".join(f"{code} x{count}" if count > 1 else code for code, count in sorted(counts.items()))


def explorer_section(run: RunData, explorer: Explorer, *, differing: Collection[str] = ()) -> str:
    """The timeline and the packed step records of ``explorer`` its rows open; ``differing`` holds the dates of
    rebalances whose orders differ in a comparison."""
    figures = rebalance_figures(run)
    group_of_signal: dict[int, int] = {}
    for index, steps in enumerate(explorer.groups):
        for step in steps:
            if step["type"] == "SignalEvent":
                group_of_signal[int(step["id"])] = index
    rows = []
    for number, (rebalance, figure) in enumerate(zip(run.rebalances, figures, strict=True)):
        group = group_of_signal.get(int(rebalance["id"]))
        first = explorer.groups[group][0] if group is not None else None
        last = explorer.groups[group][-1] if group is not None else None
        date = str(rebalance["date"])
        differs = date in differing
        attributes = f' data-group="{group}"' if group is not None else ""
        attributes += ' data-differs="1"' if differs else ""
        marker = '<span class="differs" title="orders differ from the compared run">differs</span>' if differs \
            else ""
        picker = (f'<button type="button" class="pick" tabindex="{0 if number == 0 else -1}" aria-pressed="false" '
                  f'aria-controls="explorer-tree">{escape(date)}</button>' if group is not None else escape(date))
        costs = format_value(figure["costs"], "money")
        cost_cell = (f'<a href="#costs-{rebalance["id"]}" title="explain: the fills and fees behind it">{costs}</a>'
                     if group is not None and figure["fills"] else costs)
        rows.append(
            f'<tr id="rebalance-{escape(date)}" data-row="{number}" data-signal="{rebalance["id"]}"{attributes}>'
            f'<th scope="row">{picker}{marker}</th>'
            f'<td class="num">{format_value(figure["turnover"], "pct")}</td>'
            f'<td class="num">{format_value(figure["traded"], "money")}</td>'
            f'<td class="num" data-figure="costs">{cost_cell}</td>'
            f'<td class="num" data-figure="cash-before">'
            f'{format_value(first["cash_before"], "money") if first else ""}</td>'
            f'<td class="num" data-figure="cash-after">{format_value(last["cash_after"], "money") if last else ""}'
            f'</td><td class="num">{len(rebalance["orders"])}</td><td class="num">{figure["fills"]}</td>'
            f'<td class="notes">{escape(_notice_text(rebalance["notices"]))}</td></tr>')
    header = ("<thead><tr><th scope=\"col\">Date</th><th scope=\"col\" class=\"num\">Turnover</th>"
              "<th scope=\"col\" class=\"num\">Traded</th><th scope=\"col\" class=\"num\">Costs</th>"
              "<th scope=\"col\" class=\"num\">Cash before</th><th scope=\"col\" class=\"num\">Cash after</th>"
              "<th scope=\"col\" class=\"num\">Orders</th><th scope=\"col\" class=\"num\">Fills</th>"
              "<th scope=\"col\">Notices</th></tr></thead>")
    table = (f'<div class="timeline-wrap"><table class="data timeline" data-table="timeline" '
             f'aria-label="Rebalance timeline: select a rebalance to see its events">{header}<tbody>{"".join(rows)}'
             "</tbody></table></div>")
    help_text = ("Select a rebalance (click its date, or move with the arrow keys, Home and End, then press Enter) "
                 "to see its events in the order the bus delivered them: each event's fields, the handlers that "
                 "took it and what each emitted, the cash and positions it changed, and its causal chain. "
                 "The same records as <code>eventbt debug SCENARIO --at DATE --dump --json</code>.")
    panel = ('<div id="explorer-tree" class="tree-panel" role="region" aria-live="polite" tabindex="-1" '
             'aria-label="Events of the selected rebalance"><p class="muted">No rebalance selected.</p></div>')
    data = f'<script type="application/octet-stream" id="explorer-data">{pack(encode(explorer))}</script>'
    return f'<p class="muted">{help_text}</p>{table}{panel}{data}'
