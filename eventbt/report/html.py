"""The self-contained HTML report: inline CSS, inline SVG charts and a small inline script, nothing fetched.

The script only adds conveniences (linear/log switch, sortable tables); the charts and tables are plain
HTML and SVG and read fine without it. When the script has run it sets ``data-report-ready="1"`` on the
``<html>`` element; any script error is recorded in ``data-report-errors`` (the browser test reads both).
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from eventbt.display.format import flows_note, format_value, metric_rows
from eventbt.display.svg import PALETTE, bar_chart, line_chart, stacked_area
from eventbt.report import notes
from eventbt.report.assets import CSS, GUARD_JS, REPORT_JS
from eventbt.report.compare import Comparison, compare_section
from eventbt.report.costs import cost_models_table, costs_by_group, fee_lines, rebalance_costs
from eventbt.report.data import RunData
from eventbt.report.explorer import Explorer
from eventbt.report.explorer_assets import EXPLORER_CSS, EXPLORER_JS
from eventbt.report.target import GENERATOR
from eventbt.report.timeline import explorer_section, rebalance_figures
from eventbt.results.exposure import EXPOSURES, exposure_ratios
from eventbt.results.metrics import monthly_returns, rebalance_table, time_weighted_levels
from eventbt.results.returns import drawdown

__all__ = ["render_html"]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _cell(value: object, style: str, *, sort: float | str | None = None) -> str:
    key = sort if sort is not None else (value if isinstance(value, int | float) else "")
    klass = ' class="num"' if style != "text" else ""
    return f'<td{klass} data-sort="{escape(str(key))}">{escape(format_value(value, style))}</td>'


def _table(header: list[tuple[str, str]], rows: list[str], *, kind: str, sortable: bool = False) -> str:
    heads = "".join(f'<th class="{"num" if style != "text" else ""}">{escape(name)}</th>' for name, style in header)
    klass = "data sortable" if sortable else "data"
    return (f'<table class="{klass}" data-table="{kind}"><thead><tr>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _cards(metrics: dict[str, Any]) -> str:
    picks = [("cagr", "CAGR", "pct"), ("sharpe", "Sharpe", "ratio"), ("max_drawdown", "Max drawdown", "pct"),
             ("annual_volatility", "Volatility", "pct"), ("final_value", "Final value", "compact"),
             ("annual_turnover", "Turnover / yr", "times")]
    if metrics.get("benchmark_cagr") is not None:
        picks.append(("excess_return", "Excess CAGR", "pct"))
    if flows_note(metrics):
        picks[1:1] = [("money_weighted_return", "Money-weighted", "pct"), ("net_flows", "Net flows", "compact")]
    def full(key: str, style: str) -> str:
        """The exact figure of an abbreviated card (375.4M), shown on hover, as the tables show it."""
        return f' title="{escape(format_value(metrics.get(key), "money"))}"' if style == "compact" else ""

    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="card-label">{label}</div>'
        f'<div class="card-value"{full(key, style)}>{escape(format_value(metrics.get(key), style))}</div></div>'
        for key, label, style in picks) + "</div>"


def _note(metrics: dict[str, Any]) -> str:
    note = flows_note(metrics)
    return f'<p class="note" data-note="flows">{escape(note)}</p>' if note else ""


def _metrics_table(metrics: dict[str, Any]) -> str:
    groups: dict[str, list[str]] = {}
    for key, label, style, group in metric_rows([metrics]):
        if key not in metrics:
            continue
        groups.setdefault(group, []).append(f"<tr><th>{escape(label.strip())}</th>{_cell(metrics[key], style)}</tr>")
    return '<div class="metric-groups">' + "".join(
        f'<table class="data metrics" data-table="metrics-{group.lower()}"><caption>{group}</caption>'
        f'<tbody>{"".join(rows)}</tbody></table>' for group, rows in groups.items()) + "</div>"


def _income(run: RunData) -> str:
    """The corporate actions section: dividends and tax by symbol, then every split and dividend booked."""
    dividends = run.summary.get("dividends")
    if not isinstance(dividends, dict):
        return ""
    money = [("gross", "Gross"), ("withholding_tax", "Withholding tax"), ("net", "Net")]
    header = [("Symbol", "text"), ("Payments", "int"), *((label, "money") for _, label in money)]
    rows = [f"<tr>{_cell(symbol, 'text')}{_cell(entry['payments'], 'int')}"
            + "".join(_cell(entry[key], "money") for key, _ in money) + "</tr>"
            for symbol, entry in dividends.get("by_symbol", {}).items()]
    rows.append(f"<tr>{_cell('Total', 'text')}{_cell(dividends['payments'], 'int')}"
                + "".join(_cell(dividends[key], "money") for key, _ in money) + "</tr>")
    booked = []
    for row in run.actions.to_dict("records"):
        what = (f"{row['ratio']:g} new shares per old share" if row["action"] == "split" else
                f"{format_value(row['amount_per_share'], 'money')} a share, tax "
                f"{format_value(row['withholding_tax'], 'money')}")
        booked.append(f"<tr>{_cell(str(row['date'])[:10], 'text')}{_cell(row['symbol'], 'text')}"
                      f"{_cell(row['action'], 'text')}{_cell(what, 'text')}{_cell(row['shares_before'], 'int')}"
                      f"{_cell(row['shares_after'], 'int')}{_cell(row['cash'], 'money')}</tr>")
    actions = _table([("Date", "text"), ("Symbol", "text"), ("Action", "text"), ("Terms", "text"),
                      ("Shares before", "int"), ("Shares after", "int"), ("Cash", "money")], booked,
                     kind="corporate-actions", sortable=True)
    return (f'<section id="income"><h2>Dividends and splits</h2><p>Dividends received '
            f'{format_value(dividends["gross"], "money")}, withholding tax '
            f'{format_value(dividends["withholding_tax"], "money")}, net {format_value(dividends["net"], "money")}; '
            f'cash in lieu of fractional shares {format_value(dividends.get("cash_in_lieu"), "money")}. Income, not '
            "trades: none of these is in the trades table, and the returns include them.</p>"
            f'{_table(header, rows, kind="dividends")}<h3>Actions booked</h3><div class="scroll">{actions}</div>'
            "</section>")


def _heatmap(run: RunData) -> str:
    if run.equity.empty:
        return f'<p data-empty="monthly">{escape(notes.NO_BARS)}</p>'
    table = monthly_returns(run.equity, run.metrics.get("initial_cash"))
    rows = []
    for year, values in table.iterrows():
        cells = []
        for value in values.to_numpy(dtype=float):
            if np.isnan(value):
                cells.append('<td class="empty"></td>')
                continue
            strength = min(abs(value) / 0.10, 1.0)
            colour = f"rgba(43,138,62,{0.12 + 0.78 * strength:.2f})" if value >= 0 else \
                f"rgba(201,42,42,{0.12 + 0.78 * strength:.2f})"
            text = f"{value * 100:.1f}".replace("-0.0", "0.0")
            cells.append(f'<td class="num" style="background:{colour}">{text}</td>')
        year_return = float(np.prod(1.0 + values.dropna().to_numpy(dtype=float)) - 1.0)
        rows.append(f"<tr><th>{year}</th>{''.join(cells)}<td class=\"num year\">{year_return * 100:.1f}</td></tr>")
    head = "".join(f"<th>{m}</th>" for m in _MONTHS)
    return (f'<table class="heatmap" data-table="monthly"><thead><tr><th></th>{head}<th>Year</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _cost_attribution(run: RunData) -> str:
    sections = [f'<div class="attribution"><h3>By cost model</h3>{cost_models_table(run, _cell)}</div>']
    if run.trades.empty:
        return '<div class="attribution-grid">' + "".join(sections) + "</div><p>No fills.</p>"
    for column, title in (("symbol", "By symbol"), ("side", "By side"), ("year", "By year")):
        header, cells = costs_by_group(run, column)
        rows = ["<tr>" + "".join(_cell(value, style) for value, style in row) + "</tr>" for row in cells]
        sections.append(f'<div class="attribution"><h3>{title}</h3>'
                        f'{_table(header, rows, kind=f"costs-{column}", sortable=True)}</div>')
    return '<div class="attribution-grid">' + "".join(sections) + "</div>"


def _deepest(metrics: dict[str, Any]) -> str:
    """The sentence under the drawdown chart: the deepest drawdown's size and dates, or that there was none."""
    if metrics.get("max_drawdown") == 0:
        return escape(notes.NO_DRAWDOWN)
    recovery = metrics.get("max_drawdown_recovery")
    recovered = f"recovered {recovery}" if recovery else "not recovered by the last bar"
    return (f'Deepest: {format_value(metrics.get("max_drawdown"), "pct")} from {metrics.get("max_drawdown_peak")} '
            f'to {metrics.get("max_drawdown_trough")}, {recovered} '
            f'({_count(metrics.get("max_drawdown_days"), "day")}).')


def _count(number: object, noun: str) -> str:
    """``number`` formatted as every view formats a count (``2,082``), then ``noun``, plural unless it is 1."""
    return f'{format_value(number, "int")} {noun}{"" if number == 1 else "s"}'



def _trades_table(trades: pd.DataFrame, *, links: bool = False) -> str:
    if trades.empty:
        return f'<p data-empty="trades">{escape(notes.NO_FILLS)}</p>'
    rows = []
    records: list[dict[Any, Any]] = trades.to_dict("records")
    for r in records:
        bps = (r["price"] / r["reference_price"] - 1.0) * 1e4 if r["reference_price"] else 0.0
        rows.append(f"<tr>{_cell(str(r['date'])[:10], 'text')}{_cell(r['symbol'], 'text')}{_cell(r['side'], 'text')}"
                    f"{_cell(int(r['quantity']), 'int')}{_cell(r['price'], 'price')}"
                    f"{_cell(r['reference_price'], 'price')}{_cell(abs(bps), 'bps')}{_cell(r['commission'], 'money')}"
                    f"{_cell(r['slippage'], 'money')}{_cell(r['realized_pnl'], 'money')}"
                    f"{_cell(int(r['order_id']), 'int')}{_fill_cell(int(r['fill_id'])) if links else ''}</tr>")
    header = [("Date", "text"), ("Symbol", "text"), ("Side", "text"), ("Quantity", "int"), ("Price", "price"),
              ("Reference", "price"), ("Slippage bps", "bps"), ("Commission", "money"), ("Slippage", "money"),
              ("Realized P&L", "money"), ("Order", "int")]
    if links:
        header.append(("Fill", "int"))
    return _table(header, rows, kind="trades", sortable=True)


def _fill_cell(fill_id: int) -> str:
    """A trade's fill number, linking to the fill in the explorer (its events and causal chain)."""
    return (f'<td class="num" data-sort="{fill_id}"><a href="#event-{fill_id}" title="explain: the fill and its '
            f'causal chain">#{fill_id}</a></td>')


def _no_rebalances(run: RunData) -> str:
    """Why the rebalance list is empty: the run folder has no audit log, or its log has no signal."""
    note = notes.NO_SIGNAL if (run.folder / "audit.jsonl").is_file() else notes.NO_AUDIT_LOG
    return f'<p data-empty="rebalances">{escape(note)}</p>'


def _rebalances(run: RunData, differing: Collection[str] = ()) -> str:
    """Each rebalance a row to click for its orders with their fills or cancels, its notices and its fees, all
    from the audit log (the report without an explorer); ``differing`` holds the dates of rebalances whose
    orders differ in a comparison, marked as the timeline marks them."""
    if not run.rebalances:
        return _no_rebalances(run)
    items = []
    for rebalance, figure in zip(run.rebalances, rebalance_figures(run), strict=True):
        orders, notices = rebalance["orders"], rebalance["notices"]
        targets = ", ".join(f"{s} {w * 100:.0f}%" for s, w in sorted(rebalance["targets"].items())) or "all cash"
        order_rows = []
        for order in orders:
            fill, cancel = order["fill"], order["cancel"]
            status = "filled" if fill else ("cancelled: " + cancel["reason"] if cancel else "open")
            order_rows.append(
                f"<tr>{_cell(order['id'], 'int')}{_cell(order['symbol'], 'text')}{_cell(order['side'], 'text')}"
                f"{_cell(order['quantity'], 'int')}{_cell(order.get('target_weight'), 'pct')}"
                f"{_cell(order['reference_price'], 'price')}{_cell(fill['price'] if fill else None, 'price')}"
                f"{_cell(fill['commission'] if fill else None, 'money')}"
                f"{_cell(fill['slippage'] if fill else None, 'money')}{_cell(status, 'text')}</tr>")
        header = [("Order", "int"), ("Symbol", "text"), ("Side", "text"), ("Quantity", "int"), ("Target", "pct"),
                  ("Reference", "price"), ("Fill price", "price"), ("Commission", "money"), ("Slippage", "money"),
                  ("Status", "text")]
        notice_items = "".join(
            f"<li><code>{escape(n['code'])}</code> {escape(n.get('symbol') or '')} "
            f"<span class=\"muted\">{escape(', '.join(f'{k}={v!r}' if isinstance(v, float) else f'{k}={v}' for k, v in sorted(n.get('details', {}).items())))}</span></li>"  # noqa: E501
            for n in notices)
        body = _table(header, order_rows, kind="orders") if orders else "<p>No orders: already at target.</p>"
        if notice_items:
            body += f'<ul class="notices">{notice_items}</ul>'
        body += fee_lines(figure["fees"])
        date = escape(str(rebalance["date"]))
        differs = ' data-differs="1"' if rebalance["date"] in differing else ""
        marker = '<span class="differs" title="orders differ from the compared run">differs</span>' if differs \
            else ""
        items.append(
            f'<details class="rebalance" id="rebalance-{date}" data-signal="{rebalance["id"]}"{differs}><summary>'
            f'<span class="r-date">{date}{marker}</span><span class="r-targets">{escape(targets)}</span>'
            f'<span class="num">{len(orders)}</span><span class="num">{figure["fills"]}</span>'
            f'<span class="num">{len(notices)}</span>'
            f'<span class="num">{format_value(figure["traded"], "money")}</span>'
            f'<span class="num"{_turnover_title(run, rebalance["date"], figure["turnover"])}>'
            f'{format_value(figure["turnover"], "pct")}</span>'
            f'<span class="num">{format_value(figure["costs"], "money")}</span>'
            f"</summary>{body}</details>")
    head = ('<div class="rebalance-head"><span>Date</span><span>Targets</span><span class="num">Orders</span>'
            '<span class="num">Fills</span><span class="num">Notices</span><span class="num">Traded</span>'
            '<span class="num">Turnover</span><span class="num">Costs</span></div>')
    return f'<div class="rebalances" data-table="rebalances">{head}{"".join(items)}</div>'


def _turnover_title(run: RunData, date: str, turnover: float | None) -> str:
    """Why a rebalance's turnover is n/a, on hover: its bar has no equity.csv row (the bar a run that did not
    complete stopped on), or its total value was not above zero; nothing for a figure."""
    if turnover is not None:
        return ""
    why = ("no total value for this bar in equity.csv: the run stopped during it"
           if pd.Timestamp(date) not in run.equity.index else "the total value was not above zero")
    return f' title="{why}"'


def _charts(run: RunData) -> dict[str, str]:
    equity = run.equity["total_value"].to_numpy(dtype=float)
    dates = run.equity.index.to_numpy()
    series: list[tuple[str, np.ndarray]] = [(run.name, equity)]
    if run.benchmark is not None:
        levels = run.benchmark.reindex(run.benchmark.index.union(run.equity.index)).ffill()
        aligned = levels.reindex(run.equity.index).to_numpy(dtype=float)
        first = aligned[~np.isnan(aligned)][0] if np.any(~np.isnan(aligned)) else np.nan
        start = float(run.metrics.get("initial_cash") or equity[0])
        series.append((f"{run.benchmark_name} (rebased)", aligned / first * start))
    start = float(run.metrics.get("initial_cash") or equity[0])
    falls = drawdown(time_weighted_levels(run.equity, start), start)
    table = rebalance_table(run.trades, run.equity)
    costs = rebalance_costs(run)
    values = costs["value"].to_numpy(dtype=float)
    worth = np.where(values > 0, values, np.nan)  # a rebalance at a value of 0 or less has no cost in bps (n/a)
    stacks = [(name.removeprefix("fee:"), costs[name].to_numpy(dtype=float) / worth * 1e4)
              for name in costs.columns if name not in ("total", "value")]
    weights = run.weights.fillna(0.0)
    held = [i for i, s in enumerate(weights.columns) if (weights[s] != 0).any()]
    margin = "exposure" in run.summary and "long_value" in run.equity
    if margin:  # weights of both signs: a line per symbol, and the exposures per bar
        weights_chart = line_chart(weights.index.to_numpy(), [(str(weights.columns[i]),
                                                               weights.iloc[:, i].to_numpy(dtype=float)) for i in held],
                                   title="Weights after each rebalance (negative: short)", kind="weights", style="pct",
                                   empty=notes.weights_note(len(weights)))
        ratios = exposure_ratios(*(run.equity[c].to_numpy(dtype=float)
                                   for c in ("total_value", "long_value", "short_value")))
        exposure_chart = line_chart(dates, list(ratios.items()), title="Exposure, fraction of total value",
                                    kind="exposure", style="pct", empty=notes.NO_BARS)
    else:
        weights_chart = stacked_area(weights.index.to_numpy(), list(weights.columns), weights.to_numpy(dtype=float),
                                     title="Weights after each rebalance", kind="weights",
                                     empty=notes.weights_note(len(weights)))
        exposure_chart = ""
    return {
        "equity_linear": line_chart(dates, series, title="Equity, linear scale", kind="equity-linear",
                                    empty=notes.NO_BARS),
        "equity_log": line_chart(dates, series, title="Equity, log scale", kind="equity-log", log=True,
                                 empty=notes.NOT_POSITIVE if len(dates) else notes.NO_BARS),
        "drawdown": line_chart(dates, [("drawdown", falls)], title="Drawdown", kind="drawdown", style="pct",
                               fill_to_zero=True, empty=notes.NO_BARS),
        "weights": weights_chart,
        "exposure": exposure_chart,
        "turnover": bar_chart(table.index.to_numpy(), [("turnover", table["turnover"].to_numpy(dtype=float))],
                              title="One-sided turnover per rebalance", kind="turnover", empty=notes.NO_FILLS),
        "costs": bar_chart(costs.index.to_numpy(), stacks, title="Costs per rebalance, bps of portfolio value",
                           kind="costs", style="bps", empty=notes.NO_FILLS),
        "costs_legend": "".join(f'<span class="swatch"><i style="background:{PALETTE[i % len(PALETTE)]}"></i>'
                                f"{escape(name)}</span>" for i, (name, _) in enumerate(stacks) if len(costs)),
        # the stacked chart colours a symbol by its column, the line chart by its place among the lines
        "legend": "".join(f'<span class="swatch"><i style="background:{PALETTE[(k if margin else i) % len(PALETTE)]}">'
                          f"</i>{escape(str(weights.columns[i]))}</span>" for k, i in enumerate(held)),
    }


def render_html(run: RunData, *, explorer: Explorer | None = None, unavailable: str | None = None,
                comparison: Comparison | None = None) -> str:
    """The whole report for one run as an HTML string.

    With ``explorer`` (:func:`eventbt.report.explorer.collect_steps`) the rebalances are a timeline whose rows
    open their events, and the trades table links each fill to its events; without it, ``unavailable`` says
    why (when the explorer was asked for but could not be built) and each rebalance is a row to click for its
    orders and fills. ``comparison``
    (:func:`eventbt.report.compare.compare_runs`) adds the first divergence from another run and marks the
    rebalances whose orders differ.
    """
    m = run.metrics
    charts = _charts(run)
    bench = f" vs {escape(run.benchmark_name)}" if run.benchmark_name else ""
    status = "" if m.get("complete", True) else \
        f'<span class="badge bad">INCOMPLETE: {escape(str(m.get("status")))}</span>'
    stopped = ""
    if run.stopped is not None:  # why the run stopped, under its badge: the audit log footer's error
        when, error = run.stopped
        on = f" on {escape(when[:10])}" if when else ""
        stopped = f'<p class="stopped" data-note="stopped">The run stopped{on}: {escape(error)}</p>'
    sections = [
        f'<header><h1>{escape(run.name)}{status}</h1>{stopped}<p class="muted">{format_value(m.get("start"), "text")} '
        f'to {format_value(m.get("end"), "text")}, '
        f'{_count(m.get("bars"), "bar")}, {_count(m.get("rebalances"), "rebalance")} with fills. Audit digest '
        f'<code>{escape(str(m.get("digest", "n/a")))[:16]}</code></p>{_note(m)}{_cards(m)}</header>',
        f'<section id="equity"><h2>Equity{bench}</h2><div class="scale-switch" role="group">'
        f'<button type="button" data-scale="linear">linear</button>'
        f'<button type="button" data-scale="log" class="active">log</button></div>'
        f'<figure class="scaled" data-scale="log"><div class="scale-linear">{charts["equity_linear"]}</div>'
        f'<div class="scale-log">{charts["equity_log"]}</div></figure>'
        f'<div class="legend"><span class="swatch"><i style="background:{PALETTE[0]}"></i>{escape(run.name)}</span>'
        + (f'<span class="swatch"><i style="background:{PALETTE[1]}"></i>{escape(run.benchmark_name)}</span>'
           if run.benchmark_name else "") + "</div></section>",
        f'<section id="drawdown"><h2>Drawdown</h2>{charts["drawdown"]}<p class="muted">{_deepest(m)}</p></section>',
        f'<section id="weights"><h2>Weights</h2>{charts["weights"]}<div class="legend">{charts["legend"]}</div>'
        + (f'<h3>Exposure: gross, net, long, short</h3>{charts["exposure"]}<div class="legend">'
           + "".join(f'<span class="swatch"><i style="background:{PALETTE[i]}"></i>{name}</span>'
                     for i, name in enumerate(EXPOSURES)) + "</div>"
           if charts["exposure"] else "") + "</section>",
        f'<section id="turnover"><h2>Turnover and costs per rebalance</h2><h3>One-sided turnover, % of value</h3>'
        f'{charts["turnover"]}<h3>Costs, bps of value</h3>{charts["costs"]}'
        f'<div class="legend">{charts["costs_legend"]}</div><p class="muted">A fee belongs to a rebalance when it '
        "is booked on the rebalance's date or caused by one of its fills (a stamp duty charged the next bar); "
        "fees booked on other days are in the totals below.</p></section>",
        f'<section id="monthly"><h2>Monthly returns (%)</h2>{_heatmap(run)}</section>',
        f'<section id="metrics"><h2>Metrics</h2>{_metrics_table(m)}<p class="muted">Formulas: docs/metrics.md. '
        "Returns are daily; 252 bars a year.</p></section>",
        f'<section id="costs"><h2>Cost attribution</h2><p>Total costs {format_value(m.get("total_costs"), "money")}'
        f' ({format_value(m.get("total_cost_drag_bps"), "bps")} bps a year of average value): commission, '
        f"slippage and every fee model.</p>{_cost_attribution(run)}</section>",
        _income(run),
        compare_section(comparison, explorer=explorer is not None) if comparison is not None else "",
        _rebalance_section(run, explorer, unavailable, comparison),
        f'<section id="trades"><h2>Trades ({_count(len(run.trades), "fill")})</h2><p class="muted">Click a column '
        f'header to sort{"; a fill number opens the fill and its causal chain in the explorer" if explorer else ""}.'
        "</p>"
        f'<div class="scroll">{_trades_table(run.trades, links=explorer is not None)}</div></section>',
    ]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{GENERATOR}'
            f'<title>{escape(run.name)} - eventbt report</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<script>{GUARD_JS}</script><style>{CSS}{EXPLORER_CSS}</style></head>"
            f'<body><main>{"".join(sections)}</main><script>{REPORT_JS}</script>'
            f'{f"<script>{EXPLORER_JS}</script>" if explorer is not None else ""}</body></html>')


def _rebalance_section(run: RunData, explorer: Explorer | None, unavailable: str | None,
                       comparison: Comparison | None) -> str:
    """The rebalance timeline and its explorer; without an explorer (left out, or ``unavailable`` says why it
    could not be built) the list of rebalances to click, each showing what the audit log has of it."""
    differing = comparison.differing if comparison is not None else ()
    if explorer is None:
        why = (f'<p class="muted" data-explorer="unavailable">No event explorer ({escape(unavailable)}); '
               "`eventbt debug SCENARIO --at DATE` steps a rebalance.</p>" if unavailable else "")
        return (f'<section id="rebalances"><h2>Rebalances</h2>{why}<p class="muted">Click a row for its orders, '
                f"fills and notices, as recorded in the audit log.</p>{_rebalances(run, differing)}</section>")
    if not run.rebalances:
        return f'<section id="rebalances"><h2>Rebalances</h2>{_no_rebalances(run)}</section>'
    return (f'<section id="rebalances" aria-labelledby="rebalances-title"><h2 id="rebalances-title">Rebalances'
            f"</h2>{explorer_section(run, explorer, differing=differing)}</section>")
