"""Performance figures computed from a run's value history, its external flows and its trade log.

Conventions (see ``docs/metrics.md``): daily bars, 252 bars a year for annualising volatility and Sharpe;
CAGR over calendar time, ``growth ** (365.25 / days) - 1``; returns are time-weighted bar returns of total
value (deposits and withdrawals taken out, fees left in; :mod:`eventbt.results.returns`), the first measured against
the initial cash; Sharpe uses a risk-free rate of 0 unless given; max drawdown is the largest fall of the
time-weighted level from its running peak, the initial cash the first peak, as a negative fraction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from eventbt import exact
from eventbt.results.costs import drag_bps
from eventbt.results.inputs import benchmark_series, check_equity, check_risk_free
from eventbt.results.returns import bar_returns, drawdown, money_weighted_return, time_weighted_values

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BARS_PER_YEAR", "TRADE_FIGURES", "bar_returns", "compute_metrics", "drawdown", "drawdown_episode",
           "monthly_returns", "rebalance_table", "summary_figures"]

BARS_PER_YEAR = 252

# The figures compute_metrics can only take from the trade log: None when it is not given. The fees (fee:<model>)
# come from ``fees``; total_costs and its drag add commission and slippage, so they are unknown too.
TRADE_FIGURES = ("trades", "total_commission", "total_slippage", "rebalances", "annual_turnover", "total_costs",
                 "commission_drag_bps", "slippage_drag_bps", "total_cost_drag_bps", "closing_trades", "hit_rate",
                 "average_win", "average_loss", "win_loss_ratio", "realized_pnl")


def summary_figures(*, dates: np.ndarray, values: np.ndarray, initial_cash: float, trades: int,
                    total_commission: float, total_slippage: float, risk_free: float = 0.0,
                    flows: np.ndarray | None = None) -> dict[str, Any]:
    """The end-of-run summary: final value, returns (time-weighted and money-weighted), volatility, Sharpe,
    max drawdown, net flows, costs. ``flows`` is the external flow booked at each bar (0 elsewhere)."""
    n = len(values)
    final = float(values[-1]) if n else initial_cash
    flows = np.zeros(n) if flows is None else np.asarray(flows, dtype=float)
    levels = time_weighted_values(values, flows, initial_cash)
    level = float(levels[-1]) if n else initial_cash
    figures: dict[str, Any] = {
        "start": str(dates[0])[:10] if n else None,
        "end": str(dates[-1])[:10] if n else None,
        "bars": n,
        "initial_cash": initial_cash,
        "final_value": final,
        "total_return": level / initial_cash - 1.0,
        "cagr": None,
        "money_weighted_return": money_weighted_return(dates, values, flows, initial_cash) if n >= 2 else None,
        "net_flows": exact.fsum(flows),
        "flow_bars": int(np.count_nonzero(flows)),
        "annual_volatility": None,
        "sharpe": None,
        "max_drawdown": float(drawdown(levels, initial_cash).min()) if n else 0.0,
        "trades": trades,
        "total_commission": total_commission,
        "total_slippage": total_slippage,
    }
    below = np.flatnonzero(values < 0)
    if len(below):  # money owed (a margin loss beyond the equity); only then, so other summaries keep their keys
        figures["under_water"] = {"date": _day(dates[below[0]]), "value": float(values[below[0]]),
                                  "lowest": float(values.min())}
    if n >= 2:
        days = (dates[-1] - dates[0]) / np.timedelta64(1, "D")
        if days > 0 and level > 0:
            figures["cagr"] = float((level / initial_cash) ** (365.25 / days) - 1.0)
        elif days > 0 and initial_cash > 0:  # ruined: the time-weighted level reached 0
            figures["cagr"] = -1.0
        previous = np.concatenate(([initial_cash], values[:-1]))
        # The difference form (V_t - F_t - V_(t-1)) / V_(t-1) of the bar return, as the summary has always
        # computed it, so that the figures of a run without flows are the same to the last bit. A bar that
        # starts from an empty account (everything withdrawn) or from money owed has no return: 0; no bar loses
        # more than everything (-100%, ruin; eventbt.results.returns.bar_returns).
        gain = values - flows - previous
        returns = np.maximum(np.divide(gain, previous, out=np.zeros_like(gain), where=previous > 0), -1.0)
        std = exact.sample_std(returns)
        figures["annual_volatility"] = std * math.sqrt(BARS_PER_YEAR)
        excess = returns - risk_free / BARS_PER_YEAR
        figures["sharpe"] = exact.mean(excess) / std * math.sqrt(BARS_PER_YEAR) if std > 0 else None
    return figures


# --- the full metrics set (docs/metrics.md) -------------------------------------------------------------------

_NO_DRAWDOWN = {"max_drawdown": 0.0, "max_drawdown_peak": None, "max_drawdown_trough": None,
                "max_drawdown_recovery": None, "max_drawdown_days": 0}
"""The drawdown figures of a run that never fell below a peak (or has no bar): no dates, no duration."""


def drawdown_episode(dates: np.ndarray, values: np.ndarray, initial: float | None = None) -> dict[str, Any]:
    """The deepest drawdown: depth, peak, trough and recovery dates, and its duration in calendar days.

    ``values`` are the levels to measure (the time-weighted level of a run); with ``initial`` the starting
    value is the first peak, dated at the first bar (the run starts there). The duration runs from the peak
    to the recovery (first bar back at or above the peak), or to the last bar when the value never
    recovered (``recovery`` is then ``None``). On a plateau the peak is the first bar at the peak's level.
    A run that never falls below a peak has no drawdown: depth 0, every date ``None``, duration 0.
    """
    if len(values) == 0:
        return dict(_NO_DRAWDOWN)
    falls = drawdown(values, initial)
    trough = int(np.argmin(falls))
    if falls[trough] >= 0:  # never below a peak: no drawdown, so no dates and no duration
        return dict(_NO_DRAWDOWN)
    peak = int(np.argmax(values[: trough + 1]))
    height = float(values[peak])
    if initial is not None and initial >= height:  # the initial cash came first, so it is the peak
        peak, height = 0, float(initial)
    later = np.nonzero(values[trough:] >= height)[0]
    recovery = trough + int(later[0]) if falls[trough] < 0 and len(later) else None
    end = recovery if recovery is not None else len(values) - 1
    return {
        "max_drawdown": float(falls[trough]),
        "max_drawdown_peak": _day(dates[peak]),
        "max_drawdown_trough": _day(dates[trough]),
        "max_drawdown_recovery": _day(dates[recovery]) if recovery is not None else None,
        "max_drawdown_days": int((dates[end] - dates[peak]) / np.timedelta64(1, "D")),
    }


def rebalance_table(trades: pd.DataFrame, equity: pd.DataFrame) -> pd.DataFrame:
    """One row per date with fills: traded value, one-sided turnover, commission, slippage, fills.

    ``turnover`` is ``sum(|quantity * price|) / 2 / total_value`` of that date (so moving the whole book
    from one set of holdings to another is 1.0, and the first investment from cash is 0.5).
    """
    import pandas as pd

    columns = ["traded_value", "turnover", "commission", "slippage", "fills", "buys", "sells"]
    if trades.empty:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="date"), dtype=float)
    frame = trades.assign(value=(trades["quantity"] * trades["price"]).abs(),
                          buy=(trades["side"] == "BUY").astype(int), sell=(trades["side"] == "SELL").astype(int))
    grouped = frame.groupby(pd.DatetimeIndex(frame["date"], name="date"))
    table = pd.DataFrame({
        "traded_value": grouped["value"].sum(),
        "commission": grouped["commission"].sum(),
        "slippage": grouped["slippage"].sum(),
        "fills": grouped["value"].size(),
        "buys": grouped["buy"].sum(),
        "sells": grouped["sell"].sum(),
    })
    total = equity["total_value"].reindex(table.index)
    # NaN on a date whose total value after the bar is not positive (a withdrawal that sold everything): a share
    # of nothing is undefined, and annual_turnover leaves the date out
    table["turnover"] = (table["traded_value"] / 2.0 / total.where(total > 0)).astype(float)
    return table[columns]


def monthly_returns(equity: pd.DataFrame, initial: float | None = None) -> pd.DataFrame:
    """Compounded time-weighted return of each calendar month, as a year x month (1..12) table (NaN where no
    data). The ``flow`` column of ``equity``, when there, holds the deposits and withdrawals taken out."""
    import pandas as pd

    start = float(initial) if initial is not None else float(equity["total_value"].iloc[0])
    levels = pd.Series(time_weighted_levels(equity, start), index=equity.index)
    index = pd.DatetimeIndex(levels.index)
    month_end = levels.groupby([index.year, index.month]).last()
    previous = np.concatenate(([start], month_end.to_numpy()[:-1]))
    returns = pd.Series(month_end.to_numpy() / previous - 1.0, index=month_end.index)
    table = returns.unstack()
    return table.reindex(columns=range(1, 13))


def time_weighted_levels(equity: pd.DataFrame, initial: float) -> np.ndarray:
    """The time-weighted level of each row of ``equity`` (:func:`eventbt.results.returns.time_weighted_values`), its
    ``flow`` column taken out when there (a run folder written before the column existed has none)."""
    return time_weighted_values(equity["total_value"].to_numpy(dtype=float), _flows(equity), initial)


def _flows(equity: pd.DataFrame) -> np.ndarray | None:
    return equity["flow"].to_numpy(dtype=float) if "flow" in equity else None


def compute_metrics(equity: pd.DataFrame, trades: pd.DataFrame | None = None, *,
                    initial_cash: float | None = None, benchmark: pd.Series | pd.DataFrame | None = None,
                    risk_free: float = 0.0, fees: Mapping[str, float] | None = None,
                    margin: bool = False) -> dict[str, Any]:
    """Every figure of ``docs/metrics.md`` for one run, as a flat dict (``None`` where undefined).

    ``equity`` has a date index and ``total_value`` (``positions_value`` too for exposure, ``flow`` for the
    deposits and withdrawals); ``trades`` has the columns of ``trades.csv`` (without it every figure of
    :data:`TRADE_FIGURES` is ``None``: unknown, not 0); ``initial_cash`` is the run's initial cash, the value
    the first bar's return is measured from (``None``: the first bar's total value, so the first bar's return is
    0 and what it cost, its commission say, is left out of every return); ``benchmark`` is a price (or index
    level) series with a tz-naive DatetimeIndex, aligned to the run's dates by carrying the last known level
    forward (a :class:`~eventbt.errors.DataError` when a level is not positive, or when it has no level on or
    before the run's first date or none inside the run); ``risk_free`` is an annual rate as a fraction, taken as
    ``risk_free / 252`` per bar; ``fees`` is what each fee model charged (``summary["costs"]``),
    reported as ``fee:<model>`` and counted in ``total_costs``. ``margin``: the run is a margin account's
    (``docs/long-short.md``), whose closing fills are those with a realized P&L (covers too), not the sells (a
    short sale opens a position).
    """
    import pandas as pd

    check_equity(equity)
    risk_free = check_risk_free(risk_free)
    if benchmark is not None:
        benchmark = benchmark_series(benchmark)
    values = equity["total_value"].to_numpy(dtype=float)
    dates = equity.index.to_numpy()
    initial = float(initial_cash) if initial_cash is not None else (float(values[0]) if len(values) else 0.0)
    known = trades is not None  # without the trade log the trade figures are unknown (None), not 0
    trades = trades if trades is not None else pd.DataFrame(columns=["date", "side", "quantity", "price",
                                                                     "commission", "slippage", "realized_pnl"])
    n = len(values)
    flows = _flows(equity)
    commission = exact.fsum(trades["commission"].to_numpy(dtype=float)) if len(trades) else 0.0
    slippage = exact.fsum(trades["slippage"].to_numpy(dtype=float)) if len(trades) else 0.0
    figures = summary_figures(dates=dates, values=values, initial_cash=initial, trades=len(trades),
                              total_commission=commission, total_slippage=slippage, risk_free=risk_free,
                              flows=flows)
    days = float((dates[-1] - dates[0]) / np.timedelta64(1, "D")) if n >= 2 else 0.0
    years = days / 365.25
    figures["years"] = years
    figures.update(drawdown_episode(dates, time_weighted_values(values, flows, initial), initial))
    returns = bar_returns(values, initial, flows) if n else np.zeros(0)
    per_bar_rf = risk_free / BARS_PER_YEAR
    figures["sortino"] = _sortino(returns, per_bar_rf)
    cagr, max_dd = figures["cagr"], figures["max_drawdown"]
    figures["calmar"] = cagr / -max_dd if cagr is not None and max_dd < 0 else None
    held = values > 0  # exposure and turnover are shares of a positive value (as the margin exposures)
    if "positions_value" in equity and held.any():
        figures["exposure"] = exact.mean(equity["positions_value"].to_numpy(dtype=float)[held] / values[held])
    else:
        figures["exposure"] = None
    table = rebalance_table(trades, equity)
    figures["rebalances"] = len(table)
    turnover = table["turnover"].to_numpy(dtype=float)
    figures["annual_turnover"] = exact.fsum(turnover[~np.isnan(turnover)]) / years if years > 0 else None
    mean_value = exact.mean(values) if n else 0.0
    fees = dict(sorted((fees or {}).items()))
    figures.update({f"fee:{model}": float(amount) for model, amount in fees.items()})
    figures["total_costs"] = exact.fsum([commission, slippage, *fees.values()])
    for name, total in (("commission", commission), ("slippage", slippage), ("total_cost", figures["total_costs"])):
        figures[f"{name}_drag_bps"] = drag_bps(total, mean_value, years)
    figures.update(_trade_figures(trades, margin=margin))
    if not known:
        figures.update(dict.fromkeys(TRADE_FIGURES))
    if benchmark is not None:
        from eventbt.data.benchmark import check_dates, check_levels

        name = str(benchmark.name or "benchmark")
        check_levels(benchmark.dropna(), path=None, column=name)
        check_dates(benchmark.dropna(), equity.index, path=None, column=name)
        figures.update(_benchmark_figures(returns, pd.DatetimeIndex(equity.index), benchmark, per_bar_rf,
                                          figures["cagr"], years))
    return figures


def _day(value: Any) -> str:
    return str(value)[:10]


def _sortino(returns: np.ndarray, per_bar_rf: float) -> float | None:
    """Mean excess return over downside deviation (root mean square of the negative excess), annualised."""
    if len(returns) < 2:
        return None
    excess = returns - per_bar_rf
    downside = math.sqrt(exact.mean(np.minimum(excess, 0.0) ** 2))
    return exact.mean(excess) / downside * math.sqrt(BARS_PER_YEAR) if downside > 0 else None


def _trade_figures(trades: pd.DataFrame, *, margin: bool = False) -> dict[str, Any]:
    """Hit rate and average win and loss over the fills that realized P&L: the sells, or in a margin account
    the fills with a realized P&L (sales of longs and covers of shorts)."""
    if not len(trades):
        pnl = np.zeros(0)
    else:
        realized = trades["realized_pnl"].to_numpy(dtype=float)
        pnl = realized[realized != 0] if margin else realized[(trades["side"] == "SELL").to_numpy()]
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "closing_trades": len(pnl),
        "hit_rate": len(wins) / len(pnl) if len(pnl) else None,
        "average_win": exact.mean(wins) if len(wins) else None,
        "average_loss": exact.mean(losses) if len(losses) else None,
        "win_loss_ratio": exact.mean(wins) / -exact.mean(losses) if len(wins) and len(losses) else None,
        "realized_pnl": exact.fsum(pnl),
    }


def _benchmark_figures(returns: np.ndarray, index: pd.DatetimeIndex, benchmark: pd.Series, per_bar_rf: float,
                       cagr: float | None, years: float) -> dict[str, Any]:
    """Excess return, beta, alpha, tracking error, information ratio and correlation against a benchmark."""
    levels = benchmark.sort_index().astype(float)
    aligned = levels.reindex(levels.index.union(index)).ffill().reindex(index).to_numpy(dtype=float)
    keep = ~np.isnan(aligned)
    if keep.sum() < 3:
        return {"benchmark_total_return": None}
    levels_kept = aligned[keep]
    bench = np.concatenate(([0.0], levels_kept[1:] / levels_kept[:-1] - 1.0))[1:]
    ours = returns[keep][1:]
    bench_total = float(levels_kept[-1] / levels_kept[0] - 1.0)
    bench_cagr = (1.0 + bench_total) ** (1.0 / years) - 1.0 if years > 0 and bench_total > -1 else None
    variance = exact.variance(bench, ddof=1)
    beta = exact.covariance(ours, bench, ddof=1) / variance if variance > 0 else None
    alpha = None
    if beta is not None:
        daily_alpha = exact.mean((ours - per_bar_rf) - beta * (bench - per_bar_rf))
        alpha = (1.0 + daily_alpha) ** BARS_PER_YEAR - 1.0
    active = ours - bench
    spread = exact.sample_std(active)
    ours_sd, bench_sd = exact.sample_std(ours, ddof=0), exact.sample_std(bench, ddof=0)
    return {
        "benchmark_total_return": bench_total,
        "benchmark_cagr": bench_cagr,
        "excess_return": cagr - bench_cagr if cagr is not None and bench_cagr is not None else None,
        "beta": beta,
        "alpha": alpha,
        "tracking_error": spread * math.sqrt(BARS_PER_YEAR),
        "information_ratio": exact.mean(active) / spread * math.sqrt(BARS_PER_YEAR) if spread > 0 else None,
        "correlation": (exact.covariance(ours, bench, ddof=0) / (ours_sd * bench_sd)
                        if ours_sd > 0 and bench_sd > 0 else None),
    }
