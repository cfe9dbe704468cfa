"""Labels and number formats of the metrics, shared by the HTML report, ``eventbt show`` and ``compare``."""

from __future__ import annotations

import math

__all__ = ["METRIC_ROWS", "format_value", "text_table"]

# (key, label, style, group); see docs/metrics.md for each formula.
METRIC_ROWS: list[tuple[str, str, str, str]] = [
    ("start", "Start", "text", "Returns"),
    ("end", "End", "text", "Returns"),
    ("initial_cash", "Initial value", "money", "Returns"),
    ("final_value", "Final value", "money", "Returns"),
    ("total_return", "Total return", "pct", "Returns"),
    ("cagr", "CAGR", "pct", "Returns"),
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
    ("total_commission", "Total commission", "money", "Costs"),
    ("total_slippage", "Total slippage", "money", "Costs"),
    ("commission_drag_bps", "Commission drag (bps/yr)", "bps", "Costs"),
    ("slippage_drag_bps", "Slippage drag (bps/yr)", "bps", "Costs"),
    ("benchmark_total_return", "Benchmark total return", "pct", "Benchmark"),
    ("benchmark_cagr", "Benchmark CAGR", "pct", "Benchmark"),
    ("excess_return", "Excess CAGR", "pct", "Benchmark"),
    ("beta", "Beta", "ratio", "Benchmark"),
    ("alpha", "Alpha (annual)", "pct", "Benchmark"),
    ("tracking_error", "Tracking error", "pct", "Benchmark"),
    ("information_ratio", "Information ratio", "ratio", "Benchmark"),
    ("correlation", "Correlation", "ratio", "Benchmark"),
]


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
