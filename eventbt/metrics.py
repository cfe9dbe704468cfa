"""Performance figures computed from a run's value history and trade log.

Conventions (see ``docs/metrics.md``): daily bars, 252 bars a year for annualising volatility and Sharpe;
CAGR over calendar time, ``(final / initial) ** (365.25 / days) - 1``; returns are simple bar-to-bar
returns of total value, the first measured against the initial cash; Sharpe uses a risk-free rate of 0
unless given; max drawdown is the largest fall of total value from its running peak, as a negative fraction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["BARS_PER_YEAR", "drawdown", "summary_figures"]

BARS_PER_YEAR = 252


def drawdown(values: np.ndarray) -> np.ndarray:
    """Fall from the running peak at each bar, as a fraction (0 or negative)."""
    peaks = np.maximum.accumulate(values)
    return values / peaks - 1.0


def summary_figures(*, dates: np.ndarray, values: np.ndarray, initial_cash: float, trades: int,
                    total_commission: float, total_slippage: float, risk_free: float = 0.0) -> dict[str, Any]:
    """The end-of-run summary: final value, total return, CAGR, volatility, Sharpe, max drawdown, costs."""
    n = len(values)
    final = float(values[-1]) if n else initial_cash
    figures: dict[str, Any] = {
        "start": str(dates[0])[:10] if n else None,
        "end": str(dates[-1])[:10] if n else None,
        "bars": n,
        "initial_cash": initial_cash,
        "final_value": final,
        "total_return": final / initial_cash - 1.0,
        "cagr": None,
        "annual_volatility": None,
        "sharpe": None,
        "max_drawdown": float(drawdown(values).min()) if n else 0.0,
        "trades": trades,
        "total_commission": total_commission,
        "total_slippage": total_slippage,
    }
    if n >= 2:
        days = (dates[-1] - dates[0]) / np.timedelta64(1, "D")
        if days > 0 and final > 0:
            figures["cagr"] = (final / initial_cash) ** (365.25 / days) - 1.0
        returns = np.diff(np.concatenate(([initial_cash], values))) / np.concatenate(([initial_cash], values[:-1]))
        std = float(returns.std(ddof=1))
        figures["annual_volatility"] = std * math.sqrt(BARS_PER_YEAR)
        excess = returns - risk_free / BARS_PER_YEAR
        figures["sharpe"] = float(excess.mean() / std * math.sqrt(BARS_PER_YEAR)) if std > 0 else None
    return figures
