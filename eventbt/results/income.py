"""Income from corporate actions: the dividends received, the tax withheld and the cash in lieu, per symbol.

:func:`dividend_summary` is ``summary["dividends"]`` (only in runs that read corporate actions; see
``docs/results.md``), built from the portfolio handler's history with exactly rounded sums;
:func:`income_figures` flattens it into the figures ``eventbt show``, ``compare`` and the report list
(``dividends_gross``, ``withholding_tax``, ``dividends_net``, ``cash_in_lieu`` and ``dividends:<SYMBOL>``,
``withholding_tax:<SYMBOL>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventbt.exact import fsum
from eventbt.portfolio import DividendRecord, SplitRecord

__all__ = ["dividend_summary", "income_figures", "income_lines"]


def dividend_summary(dividends: Sequence[DividendRecord], splits: Sequence[SplitRecord]) -> dict[str, Any]:
    """``{"gross", "withholding_tax", "net", "payments", "cash_in_lieu", "splits", "by_symbol"}``.

    ``by_symbol`` maps each symbol that received (or, short, paid) a dividend, in sorted order, to its
    ``gross``, ``withholding_tax``, ``net`` and number of ``payments``. Money in account currency.
    """
    by_symbol: dict[str, dict[str, Any]] = {}
    for symbol in sorted({record.symbol for record in dividends}):
        mine = [record for record in dividends if record.symbol == symbol]
        by_symbol[symbol] = {"gross": fsum([r.gross for r in mine]),
                             "withholding_tax": fsum([r.withholding_tax for r in mine]),
                             "net": fsum([r.net for r in mine]), "payments": len(mine)}
    return {
        "gross": fsum([r.gross for r in dividends]),
        "withholding_tax": fsum([r.withholding_tax for r in dividends]),
        "net": fsum([r.net for r in dividends]),
        "payments": len(dividends),
        "cash_in_lieu": fsum([r.cash_in_lieu for r in splits]),
        "splits": len(splits),
        "by_symbol": by_symbol,
    }


def income_figures(summary: Mapping[str, Any]) -> dict[str, float]:
    """The dividend figures of a ``summary`` as flat metrics (empty for a run without corporate actions)."""
    dividends = summary.get("dividends")
    if not isinstance(dividends, Mapping):
        return {}
    figures = {"dividends_gross": float(dividends["gross"]), "withholding_tax": float(dividends["withholding_tax"]),
               "dividends_net": float(dividends["net"]), "cash_in_lieu": float(dividends.get("cash_in_lieu", 0.0))}
    for symbol, entry in dividends.get("by_symbol", {}).items():
        figures[f"dividends:{symbol}"] = float(entry["gross"])
        figures[f"withholding_tax:{symbol}"] = float(entry["withholding_tax"])
    return figures


def income_lines(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` of each income figure of a ``summary``, as ``eventbt run`` lists them under the costs:
    the rows of the "Income" group of :data:`eventbt.display.format.METRIC_ROWS`, each symbol's after the net."""
    from eventbt.display.format import group_lines

    return group_lines(income_figures(summary), "Income")
