"""The report's cost views: every cost model (commission, slippage and each fee model) per rebalance, per
model, and by symbol, side and year.

Fees come from the audit log (:func:`eventbt.report.data.read_fees`): a fee caused by a fill (a stamp duty on
a buy) belongs to that fill's date, any other fee (a management fee, interest) to the date it was booked.
Per rebalance, a rebalance is a date with fills and its fees are the fees that belong to that date; fees
booked on days without fills are in the totals and the by-year table, not in a rebalance.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventbt import exact
from eventbt.display.format import fee_models, format_value
from eventbt.report.data import fees_by_date
from eventbt.results.metrics import rebalance_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventbt.report.data import RunData

__all__ = ["cost_models_table", "costs_by_group", "fee_lines", "rebalance_costs"]


def _models(run: RunData) -> list[str]:
    """The run's fee models (from its metrics and its audit log's fees), sorted."""
    found = {key.removeprefix("fee:") for key in fee_models([run.metrics])}
    found.update(str(model) for model in run.fees["model"].unique())
    return sorted(found)


def rebalance_costs(run: RunData) -> pd.DataFrame:
    """One row per date with fills: ``commission``, ``slippage``, ``fee:<model>`` per fee model, ``total``
    (money), and ``value`` (total value that day), for the per-rebalance chart and rows."""
    table = rebalance_table(run.trades, run.equity)
    frame = table[["commission", "slippage"]].astype(float)
    fees = fees_by_date(run.fees, table.index)
    for model in _models(run):
        frame[f"fee:{model}"] = fees[model].to_numpy(dtype=float) if model in fees else 0.0
    frame["total"] = [exact.fsum(row) for row in frame.to_numpy(dtype=float)]
    frame["value"] = run.equity["total_value"].reindex(table.index).to_numpy(dtype=float)
    return frame


def cost_models_table(run: RunData, cell: Callable[..., str]) -> str:
    """A table of each cost model's amount and annual drag (bps of the average value a year), and the total."""
    m = run.metrics
    values = run.equity["total_value"].to_numpy(dtype=float)
    years = float(m.get("years") or 0.0)
    average = exact.mean(values) if len(values) else 0.0
    scale = 1e4 / average / years if years > 0 and average > 0 else None
    entries = [("Commission", m.get("total_commission")), ("Slippage", m.get("total_slippage"))]
    entries += [(f"Fee: {model}", m.get(f"fee:{model}")) for model in _models(run)]
    entries.append(("Total", m.get("total_costs")))
    rows = [f"<tr>{cell(name, 'text')}{cell(amount, 'money')}"
            f"{cell(None if scale is None or amount is None else float(amount) * scale, 'bps')}</tr>"
            for name, amount in entries]
    return ('<table class="data" data-table="costs-models"><thead><tr><th>Cost model</th><th class="num">Amount</th>'
            f'<th class="num">bps of value a year</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def costs_by_group(run: RunData, column: str) -> tuple[list[tuple[str, str]], list[list[tuple[Any, str]]]]:
    """Costs by ``symbol``, ``side`` or ``year``: fills, traded value, commission, slippage, each fee model,
    total and total in bps of traded value, as (header, rows of (value, style) cells)."""
    trades = run.trades
    frame = trades.assign(value=(trades["quantity"] * trades["price"]).abs(), year=trades["date"].dt.year)
    grouped = frame.groupby(column).agg(fills=("value", "size"), traded=("value", "sum"),
                                        commission=("commission", "sum"), slippage=("slippage", "sum"))
    models = _models(run)
    if not run.fees.empty:
        fees = run.fees.assign(year=pd.DatetimeIndex(run.fees["date"]).year,
                               symbol=run.fees["symbol"].fillna("(none)"), side=run.fees["side"].fillna("(none)"))
        by_model = fees.pivot_table(index=column, columns="model", values="amount", aggfunc="sum")
        grouped = grouped.join(by_model, how="outer")
    for model in models:
        if model not in grouped:
            grouped[model] = 0.0
    grouped = grouped.fillna({name: 0.0 for name in ["fills", "traded", "commission", "slippage", *models]})
    money = grouped[["commission", "slippage", *models]].to_numpy(dtype=float)
    grouped["total"] = [exact.fsum(row) for row in money]
    traded = grouped["traded"].to_numpy(dtype=float)
    grouped["cost_bps"] = np.divide(grouped["total"].to_numpy(dtype=float), traded, out=np.full(len(traded), np.nan),
                                    where=traded > 0) * 1e4
    if column == "symbol":
        grouped = grouped.sort_values("traded", ascending=False, kind="mergesort")
    header = [(column.title(), "text"), ("Fills", "int"), ("Traded value", "money"), ("Commission", "money"),
              ("Slippage", "money"), *((f"Fee: {model}", "money") for model in models), ("Total", "money"),
              ("Cost (bps of traded)", "bps")]
    rows = [[(str(key), "text"), (int(r["fills"]), "int"), (r["traded"], "money"), (r["commission"], "money"),
             (r["slippage"], "money"), *((r[model], "money") for model in models), (r["total"], "money"),
             (r["cost_bps"], "bps")] for key, r in grouped.iterrows()]
    return header, rows


def fee_lines(fees: dict[str, float]) -> str:
    """``Fees: stamp_duty 12.34, management_fee 5.67`` for a rebalance's details, or nothing."""
    shown = {model: amount for model, amount in fees.items() if amount}
    if not shown:
        return ""
    text = ", ".join(f"{model} {format_value(amount, 'money')}" for model, amount in shown.items())
    return f'<p class="muted">Fees that belong to this rebalance: {escape(text)}</p>'
