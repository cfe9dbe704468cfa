"""Results as pandas objects, and the files a run writes (a public, documented contract).

Files written by :meth:`Result.write` (see ``docs/results.md``), each atomically (temporary file, then
rename), so a reader never sees half a file:

- ``equity.csv``: ``date,cash,positions_value,total_value``, one row per bar;
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
import pandas as pd

from eventbt.audit import AuditLog
from eventbt.metrics import summary_figures

if TYPE_CHECKING:
    from eventbt.simulation import Simulation

__all__ = ["TRADE_COLUMNS", "Result", "atomic_write", "build_result"]

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


def build_result(simulation: Simulation) -> Result:
    """Turn a simulation's histories into pandas objects and the summary."""
    book = simulation.portfolio_handler
    dates = simulation.prices.dates
    symbols = list(simulation.prices.symbols)
    bars = [row[0] for row in book.values]
    index = pd.DatetimeIndex(dates[bars], name="date")
    equity = pd.DataFrame([row[1:] for row in book.values], index=index,
                          columns=["cash", "positions_value", "total_value"], dtype=float)
    trades = pd.DataFrame(book.trades, columns=TRADE_COLUMNS)
    trades["date"] = pd.DatetimeIndex(dates[trades["date"].to_numpy(dtype=int)])
    weights = pd.DataFrame([w for _, w in book.weights], columns=symbols, dtype=float,
                           index=pd.DatetimeIndex(dates[[b for b, _ in book.weights]], name="date"))
    signals = pd.DataFrame([[s.get(symbol, 0.0) for symbol in symbols] for _, s in book.signals],
                           columns=symbols, dtype=float,
                           index=pd.DatetimeIndex(dates[[b for b, _ in book.signals]], name="date"))
    portfolio = simulation.portfolio
    summary = summary_figures(
        dates=index.to_numpy(), values=equity["total_value"].to_numpy(), initial_cash=portfolio.initial_cash,
        trades=len(trades), total_commission=portfolio.total_commission,
        total_slippage=portfolio.total_slippage,
    )
    complete = simulation.finished and simulation.status == "completed"
    summary.update(
        scenario=simulation.config.name,
        events=simulation.bus.delivered,
        digest=simulation.audit.digest,
        complete=complete,
        status=simulation.status,
    )
    return Result(equity=equity, trades=trades, weights=weights, signals=signals, summary=summary,
                  audit=simulation.audit, scenario_toml=simulation.config.to_toml(), complete=complete,
                  events=simulation.bus.delivered)
