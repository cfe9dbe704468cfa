"""Results as pandas objects, and the files a run writes (a public, documented contract).

Files written by :meth:`Result.write` (see ``docs/results.md``), each atomically (temporary file, then
rename), so a reader never sees half a file:

- ``equity.csv``: ``date,cash,positions_value,total_value,flow``, one row per bar (``flow``: the deposits
  and withdrawals booked at that bar);
- ``trades.csv``: ``date,symbol,side,quantity,price,reference_price,commission,slippage,realized_pnl,
  order_id,fill_id``, one row per fill;
- ``weights.csv``: actual weights after each rebalance (date x symbol);
- ``signals.csv``: target weights of each rebalance (date x symbol);
- ``summary.json``: the summary figures, ``digest`` and ``complete``;
- ``scenario.toml``: the resolved scenario; ``audit.jsonl``: the audit log.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd

from eventbt.audit import AuditLog
from eventbt.exact import fsum, mean
from eventbt.metrics import summary_figures

if TYPE_CHECKING:
    from eventbt.simulation import Simulation

__all__ = ["EQUITY_COLUMNS", "TRADE_COLUMNS", "Result", "atomic_write", "build_result", "cost_attribution",
           "fee_amounts"]

EQUITY_COLUMNS = ["cash", "positions_value", "total_value", "flow"]

TRADE_COLUMNS = ["date", "symbol", "side", "quantity", "price", "reference_price", "commission", "slippage",
                 "realized_pnl", "order_id", "fill_id"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
        from eventbt.metrics import compute_metrics

        return compute_metrics(self.equity, self.trades, initial_cash=self.summary.get("initial_cash"),
                               benchmark=benchmark, risk_free=risk_free, fees=fee_amounts(self.summary))

    def _repr_html_(self) -> str:
        """Jupyter's view of a result: the summary figures and an equity chart."""
        from eventbt.report.html import notebook_html

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


def cost_attribution(*, commission: float, slippage: float, fees: dict[str, float], values: Any,
                     dates: Any) -> dict[str, Any]:
    """Costs by model: ``{name: {"amount": money, "bps_per_year": annual drag}}``, plus ``"total"``.

    Names are ``commission``, ``slippage`` (price impact included) and ``fee:<model>`` for each fee model
    (credits, such as interest earned, are negative). The annual drag is ``amount / average total value /
    years * 10000``, with years the calendar span of the run over 365.25 days; ``None`` for a run shorter
    than a day.
    """
    import numpy as np

    amounts = {"commission": float(commission), "slippage": float(slippage)}
    amounts.update({f"fee:{model}": float(amount) for model, amount in sorted(fees.items())})
    amounts["total"] = fsum(amounts.values())
    years = float((dates[-1] - dates[0]) / np.timedelta64(1, "D")) / 365.25 if len(dates) >= 2 else 0.0
    average = mean(values) if len(values) else 0.0
    scale = 10_000 / (average * years) if years > 0 and average > 0 else None
    return {name: {"amount": amount, "bps_per_year": None if scale is None else amount * scale}
            for name, amount in amounts.items()}


def fee_amounts(summary: dict[str, Any]) -> dict[str, float]:
    """What each fee model charged, from ``summary["costs"]`` (``fee:<model>`` entries): ``{model: amount}``."""
    costs = summary.get("costs") or {}
    return {name.removeprefix("fee:"): float(entry["amount"]) for name, entry in costs.items()
            if name.startswith("fee:")}


def build_result(simulation: Simulation) -> Result:
    """Turn a simulation's histories into pandas objects and the summary."""
    book = simulation.portfolio_handler
    dates = simulation.prices.dates
    symbols = list(simulation.prices.symbols)
    bars = [row[0] for row in book.values]
    index = pd.DatetimeIndex(dates[bars], name="date")
    equity = pd.DataFrame([row[1:] for row in book.values], index=index,
                          columns=EQUITY_COLUMNS, dtype=float)
    trades = pd.DataFrame(book.trades, columns=TRADE_COLUMNS)
    trades["date"] = pd.DatetimeIndex(dates[trades["date"].to_numpy(dtype=int)])
    # Rebalances x symbols grids filled as numpy arrays (a frame built from nested lists costs a Python
    # object per cell).
    weight_grid = np.array([w for _, w in book.weights], dtype=float).reshape(len(book.weights), len(symbols))
    weights = pd.DataFrame(weight_grid, columns=symbols,
                           index=pd.DatetimeIndex(dates[[b for b, _ in book.weights]], name="date"))
    column = {symbol: i for i, symbol in enumerate(symbols)}
    signal_grid = np.zeros((len(book.signals), len(symbols)))
    for row, (_, targets) in enumerate(book.signals):
        for symbol, weight in targets.items():
            signal_grid[row, column[symbol]] = weight
    signals = pd.DataFrame(signal_grid, columns=symbols,
                           index=pd.DatetimeIndex(dates[[b for b, _ in book.signals]], name="date"))
    portfolio = simulation.portfolio
    # Exactly rounded over the fills (the running totals of the book may differ in the last bit), so that
    # summary.json and the views that read trades.csv (show, compare, the report) print the same cents.
    commission, slippage = fsum(trades["commission"].to_numpy()), fsum(trades["slippage"].to_numpy())
    summary = summary_figures(
        dates=index.to_numpy(), values=equity["total_value"].to_numpy(), initial_cash=portfolio.initial_cash,
        trades=len(trades), total_commission=commission, total_slippage=slippage, flows=equity["flow"].to_numpy(),
    )
    complete = simulation.finished and simulation.status == "completed"
    summary.update(
        scenario=simulation.config.name,
        events=simulation.bus.delivered,
        digest=simulation.audit.digest,
        complete=complete,
        status=simulation.status,
        dead_letters=len(getattr(simulation, "dead_letters", ())),
    )
    summary["costs"] = cost_attribution(
        commission=commission, slippage=slippage, fees=getattr(book, "fees", {}),
        values=equity["total_value"].to_numpy(), dates=index.to_numpy(),
    )
    return Result(equity=equity, trades=trades, weights=weights, signals=signals, summary=summary,
                  audit=simulation.audit, scenario_toml=simulation.config.to_toml(), complete=complete,
                  events=simulation.bus.delivered)
