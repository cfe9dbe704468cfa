"""A run's results as pandas objects, and the files it writes (a public, documented contract).

Files written by :meth:`Result.write` (see ``docs/results.md``), each atomically (temporary file, then
rename), so a reader never sees half a file:

- ``equity.csv``: ``date,cash,positions_value,total_value,flow``, one row per bar (``flow``: the deposits
  and withdrawals booked at that bar);
- ``trades.csv``: ``date,symbol,side,quantity,price,reference_price,commission,slippage,realized_pnl,
  order_id,fill_id``, one row per fill;
- ``weights.csv``: actual weights after each rebalance (date x symbol);
- ``signals.csv``: target weights of each rebalance (date x symbol);
- ``summary.json``: the summary figures, ``digest`` and ``complete`` (and ``dividends``, ``warmup_bars`` in runs
  with corporate actions, a warm-up);
- ``scenario.toml``: the resolved scenario; ``audit.jsonl``: the audit log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd

from eventbt.audit import AuditLog
from eventbt.exact import fsum
from eventbt.results.costs import cost_attribution, fee_amounts
from eventbt.results.files import atomic_write
from eventbt.results.income import dividend_summary
from eventbt.results.metrics import summary_figures

if TYPE_CHECKING:
    from eventbt.portfolio import BookHistory
    from eventbt.scenario import ScenarioConfig

__all__ = ["EQUITY_COLUMNS", "TRADE_COLUMNS", "Result", "build_result"]

EQUITY_COLUMNS = ["cash", "positions_value", "total_value", "flow"]

TRADE_COLUMNS = ["date", "symbol", "side", "quantity", "price", "reference_price", "commission", "slippage",
                 "realized_pnl", "order_id", "fill_id"]


@attrs.frozen(kw_only=True)
class Result:
    """What a run produced. ``complete`` is false for a run that failed or was interrupted."""

    equity: pd.DataFrame
    trades: pd.DataFrame
    weights: pd.DataFrame
    signals: pd.DataFrame
    summary: dict[str, Any]
    audit: AuditLog
    scenario_toml: str
    complete: bool
    events: int

    @property
    def digest(self) -> str:
        return str(self.summary["digest"])

    def metrics(self, benchmark: pd.Series | None = None, risk_free: float = 0.0) -> dict[str, Any]:
        """Every figure of ``docs/metrics.md``; ``benchmark`` is a level series with a date index."""
        from eventbt.results.metrics import compute_metrics

        return compute_metrics(self.equity, self.trades, initial_cash=self.summary.get("initial_cash"),
                               benchmark=benchmark, risk_free=risk_free, fees=fee_amounts(self.summary))

    def _repr_html_(self) -> str:
        """Jupyter's view of a result: the summary figures and an equity chart."""
        from eventbt.display.notebook import notebook_html

        return notebook_html({**self.summary, **self.metrics()}, self.equity)

    def write(self, out: str | os.PathLike[str]) -> Path:
        """Write the result files into ``out`` (created if needed); returns the folder."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "equity.csv", self.equity.to_csv(index_label="date"))
        atomic_write(folder / "trades.csv", self.trades.to_csv(index=False))
        atomic_write(folder / "weights.csv", self.weights.to_csv(index_label="date"))
        atomic_write(folder / "signals.csv", self.signals.to_csv(index_label="date"))
        atomic_write(folder / "summary.json", json.dumps(self.summary, indent=2, sort_keys=True) + "\n")
        atomic_write(folder / "scenario.toml", self.scenario_toml)
        audit_file = folder / "audit.jsonl"
        if self.audit.path is None or self.audit.path.resolve() != audit_file.resolve():
            atomic_write(audit_file, b"".join(line + b"\n" for line in self.audit.lines()))
        return folder


def build_result(history: BookHistory, *, dates: np.ndarray, initial_cash: float, audit: AuditLog,
                 scenario: ScenarioConfig, status: str, finished: bool, events: int,
                 dead_letters: int = 0, warmup_bars: int = 0) -> Result:
    """Turn a run's :class:`~eventbt.portfolio.BookHistory` into pandas objects and the summary.

    ``dates`` are the data's dates (the history's bars index them); ``status`` and ``finished`` say how
    the run ended (``complete`` only when it finished with ``"completed"``); ``events`` is the number of
    deliveries, ``dead_letters`` the handler errors skipped under ``[run] on_error = "skip"``,
    ``warmup_bars`` the bars of the warm-up before the first row (``[run] warmup``).

    The summary has ``dividends`` (see :func:`eventbt.results.income.dividend_summary`) only when the
    scenario reads corporate actions, and ``warmup_bars`` only when it has a warm-up, so the summary of a run
    with neither is as it was.
    """
    symbols = list(history.symbols)
    index = pd.DatetimeIndex(dates[history.bars], name="date")
    equity = pd.DataFrame({"cash": history.cash, "positions_value": history.positions_value,
                           "total_value": history.total_value, "flow": history.flow},
                          index=index, columns=EQUITY_COLUMNS, dtype=float)
    trades = pd.DataFrame([attrs.astuple(record) for record in history.trades],
                          columns=["bar", *TRADE_COLUMNS[1:]])
    trades.insert(0, "date", pd.DatetimeIndex(dates[trades.pop("bar").to_numpy(dtype=int)]))
    # Rebalances x symbols grids filled as numpy arrays (a frame built from nested lists costs a Python
    # object per cell).
    weight_grid = np.array([record.weights for record in history.weights], dtype=float)
    weights = pd.DataFrame(weight_grid.reshape(len(history.weights), len(symbols)), columns=symbols,
                           index=pd.DatetimeIndex(dates[[r.bar for r in history.weights]], name="date"))
    column = {symbol: i for i, symbol in enumerate(symbols)}
    signal_grid = np.zeros((len(history.signals), len(symbols)))
    for row, record in enumerate(history.signals):
        for symbol, weight in record.weights.items():
            signal_grid[row, column[symbol]] = weight
    signals = pd.DataFrame(signal_grid, columns=symbols,
                           index=pd.DatetimeIndex(dates[[r.bar for r in history.signals]], name="date"))
    # Exactly rounded over the fills (the running totals of the book may differ in the last bit), so that
    # summary.json and the views that read trades.csv (show, compare, the report) print the same cents.
    commission, slippage = fsum(trades["commission"].to_numpy()), fsum(trades["slippage"].to_numpy())
    summary = summary_figures(
        dates=index.to_numpy(), values=equity["total_value"].to_numpy(), initial_cash=initial_cash,
        trades=len(trades), total_commission=commission, total_slippage=slippage, flows=equity["flow"].to_numpy(),
    )
    complete = finished and status == "completed"
    summary.update(scenario=scenario.name, events=events, digest=audit.digest, complete=complete, status=status,
                   dead_letters=dead_letters)
    summary["costs"] = cost_attribution(
        commission=commission, slippage=slippage, fees=history.fees,
        values=equity["total_value"].to_numpy(), dates=index.to_numpy(),
    )
    if scenario.data.corporate_actions:
        summary["dividends"] = dividend_summary(history.dividends, history.splits)
    if scenario.run.warmup:
        summary["warmup_bars"] = warmup_bars
    return Result(equity=equity, trades=trades, weights=weights, signals=signals, summary=summary,
                  audit=audit, scenario_toml=scenario.to_toml(), complete=complete, events=events)
