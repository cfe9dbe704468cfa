"""Labels and number formats of the metrics, shared by ``eventbt run``, ``show``, ``compare``, the HTML report
and the notebook view, so one figure reads the same in each (``37,442.69%`` everywhere)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["METRIC_ROWS", "dividend_symbols", "fee_models", "flows_note", "format_value", "group_lines", "income_rows",
           "metric_rows", "summary_note", "text_table", "under_water_text"]

# (key, label, style, group); see docs/metrics.md for each formula.
METRIC_ROWS: list[tuple[str, str, str, str]] = [
    ("start", "Start", "text", "Returns"),
    ("end", "End", "text", "Returns"),
    ("initial_cash", "Initial value", "money", "Returns"),
    ("final_value", "Final value", "money", "Returns"),
    ("total_return", "Total return", "pct", "Returns"),
    ("cagr", "CAGR", "pct", "Returns"),
    ("money_weighted_return", "Money-weighted return", "pct", "Returns"),
    ("net_flows", "Net flows", "money", "Returns"),
    ("annual_volatility", "Annual volatility", "pct", "Risk"),
    ("sharpe", "Sharpe", "ratio", "Risk"),
    ("sortino", "Sortino", "ratio", "Risk"),
    ("max_drawdown", "Max drawdown", "pct", "Risk"),
    ("max_drawdown_peak", "  peak", "text", "Risk"),
    ("max_drawdown_trough", "  trough", "text", "Risk"),
    ("max_drawdown_recovery", "  recovered", "text", "Risk"),
    ("max_drawdown_days", "  duration (days)", "int", "Risk"),
    ("calmar", "Calmar", "ratio", "Risk"),
    ("exposure", "Exposure", "pct", "Trading"),
    ("annual_turnover", "Annual turnover", "times", "Trading"),
    ("rebalances", "Rebalances with fills", "int", "Trading"),
    ("trades", "Fills", "int", "Trading"),
    ("closing_trades", "Closing fills", "int", "Trading"),
    ("hit_rate", "Hit rate", "pct", "Trading"),
    ("average_win", "Average win", "money", "Trading"),
    ("average_loss", "Average loss", "money", "Trading"),
    # a margin account's (summary["exposure"], eventbt.results.exposure; docs/long-short.md)
    ("gross_exposure", "Gross exposure (average)", "pct", "Exposure"),
    ("max_gross_exposure", "Gross exposure (max)", "pct", "Exposure"),
    ("net_exposure", "Net exposure (average)", "pct", "Exposure"),
    ("long_exposure", "Long (average)", "pct", "Exposure"),
    ("short_exposure", "Short (average)", "pct", "Exposure"),
    ("margin_calls", "Margin calls", "int", "Exposure"),
    ("total_commission", "Total commission", "money", "Costs"),
    ("total_slippage", "Total slippage", "money", "Costs"),
    # one ("fee:<model>", "Fee: <model>", "money", "Costs") row per fee model goes here (metric_rows)
    ("total_costs", "Total costs", "money", "Costs"),
    ("fees_owed", "Fees owed at the end", "money", "Costs"),  # charged, not paid (no cash): in no figure above
    ("commission_drag_bps", "Commission drag (bps/yr)", "bps", "Costs"),
    ("slippage_drag_bps", "Slippage drag (bps/yr)", "bps", "Costs"),
    ("total_cost_drag_bps", "Total cost drag (bps/yr)", "bps", "Costs"),
    ("dividends_gross", "Dividends (gross)", "money", "Income"),
    ("withholding_tax", "Withholding tax", "money", "Income"),
    ("dividends_net", "Dividends (net)", "money", "Income"),
    # a ("dividends:<SYMBOL>", "  <SYMBOL> gross", ...) and ("withholding_tax:<SYMBOL>", "  <SYMBOL> tax", ...)
    # row per symbol that received dividends go here (metric_rows)
    ("cash_in_lieu", "Cash in lieu (splits)", "money", "Income"),
    ("benchmark_total_return", "Benchmark total return", "pct", "Benchmark"),
    ("benchmark_cagr", "Benchmark CAGR", "pct", "Benchmark"),
    ("excess_return", "Excess CAGR", "pct", "Benchmark"),
    ("beta", "Beta", "ratio", "Benchmark"),
    ("alpha", "Alpha (annual)", "pct", "Benchmark"),
    ("tracking_error", "Tracking error", "pct", "Benchmark"),
    ("information_ratio", "Information ratio", "ratio", "Benchmark"),
    ("correlation", "Correlation", "ratio", "Benchmark"),
]


def fee_models(metrics: Sequence[Mapping[str, object]]) -> list[str]:
    """The ``fee:<model>`` keys any of ``metrics`` has, sorted (a ``costs`` table counts too)."""
    found: set[str] = set()
    for figures in metrics:
        found.update(key for key in figures if key.startswith("fee:"))
        costs = figures.get("costs")
        if isinstance(costs, Mapping):
            found.update(key for key in costs if key.startswith("fee:"))
    return sorted(found)


def dividend_symbols(metrics: Sequence[Mapping[str, object]]) -> list[str]:
    """The symbols any of ``metrics`` has a ``dividends:<SYMBOL>`` figure of, sorted."""
    return sorted({key.removeprefix("dividends:") for figures in metrics for key in figures
                   if key.startswith("dividends:")})


def income_rows(metrics: Sequence[Mapping[str, object]]) -> list[tuple[str, str, str, str]]:
    """The per-symbol dividend rows: ``  AAPL gross`` and ``  AAPL tax`` for each symbol that had dividends."""
    return [row for symbol in dividend_symbols(metrics)
            for row in ((f"dividends:{symbol}", f"  {symbol} gross", "money", "Income"),
                        (f"withholding_tax:{symbol}", f"  {symbol} tax", "money", "Income"))]


def metric_rows(metrics: Sequence[Mapping[str, object]]) -> list[tuple[str, str, str, str]]:
    """:data:`METRIC_ROWS` with a ``Fee: <model>`` row for each fee model of ``metrics``, after slippage, and the
    dividends of each symbol after the net dividends."""
    at = next(i for i, row in enumerate(METRIC_ROWS) if row[0] == "total_slippage") + 1
    fees = [(key, f"Fee: {key.removeprefix('fee:')}", "money", "Costs") for key in fee_models(metrics)]
    rows = [*METRIC_ROWS[:at], *fees, *METRIC_ROWS[at:]]
    at = next(i for i, row in enumerate(rows) if row[0] == "dividends_net") + 1
    return [*rows[:at], *income_rows(metrics), *rows[at:]]


def group_lines(figures: Mapping[str, object], group: str) -> list[tuple[str, str]]:
    """``(label, text)`` of each of ``figures`` in ``group`` of :func:`metric_rows`, in its order (the lines
    ``eventbt run`` lists under the costs: "Income", "Exposure")."""
    return [(label, format_value(figures[key], style)) for key, label, style, row_group in metric_rows([figures])
            if row_group == group and key in figures]


def flows_note(metrics: Mapping[str, object]) -> str | None:
    """A sentence saying the returns are time-weighted, for a run with deposits or withdrawals; else None."""
    bars = metrics.get("flow_bars")
    if not isinstance(bars, int) or bars == 0:
        return None
    net = metrics.get("net_flows")
    net_text = ("+" if isinstance(net, int | float) and net > 0 else "") + format_value(net, "money")
    return (f"Returns are time-weighted (deposits and withdrawals, net {net_text}, taken out); "
            "the money-weighted return counts them.")


def under_water_text(under_water: object) -> str | None:
    """The warning for a summary's ``under_water`` (the first bar whose total value was below zero), or None."""
    if not isinstance(under_water, Mapping):
        return None
    return (f"The account was under water from {under_water['date']} (total value {under_water['value']:,.2f}, "
            f"lowest {under_water['lowest']:,.2f}): money owed. Returns count the fall to zero as -100% (ruin) "
            "and 0 while the value is not positive.")


def summary_note(figures: Mapping[str, object]) -> str:
    """The sentences under a run's title (``run``, ``show``, ``compare``): the flows' (:func:`flows_note`) and an
    account under water's (:func:`under_water_text`), or ``""``."""
    return " ".join(filter(None, (flows_note(figures), under_water_text(figures.get("under_water")))))


def format_value(value: object, style: str) -> str:
    """``value`` as text: ``pct`` 12.34%, ``money`` 1,234.56, ``ratio`` 0.123, ``bps`` 12.3, ``times`` 4.29x,
    ``price`` 4 significant digits under 10, ``compact`` 375.4M."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if style == "text" or not isinstance(value, int | float):
        return str(value)
    number = float(value)
    if style == "pct":
        return f"{number * 100:,.2f}%"
    if style == "money":
        return f"{number:,.2f}"
    if style == "ratio":
        return f"{number:.3f}"
    if style == "price":
        return f"{number:,.2f}" if abs(number) >= 10 else f"{number:.4g}"
    if style == "compact":
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(number) >= limit:
                return f"{number / limit:,.1f}{suffix}"
        return f"{number:,.2f}"
    if style == "bps":
        return f"{number:.1f}"
    if style == "times":
        return f"{number:.2f}x"
    return f"{int(number):,}"


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """An aligned plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                             strict=True)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
