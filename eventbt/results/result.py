"""A run's results as pandas objects, and the files it writes (a public, documented contract).

Files written by :meth:`Result.write` into a run folder of their own (see ``docs/results.md``), each
atomically (temporary file, then rename), so a reader never sees half a file:

- ``equity.csv``: ``date,cash,positions_value,total_value,flow``, one row per bar (``flow``: the deposits
  and withdrawals booked at that bar);
- ``trades.csv``: ``date,symbol,side,quantity,price,reference_price,commission,slippage,realized_pnl,
  order_id,fill_id``, one row per fill;
- ``weights.csv``: actual weights after each rebalance (date x symbol);
- ``signals.csv``: target weights of each rebalance (date x symbol);
- ``summary.json``: the summary figures, ``digest`` and ``complete`` (and ``dividends``, ``warmup_bars`` in runs
  with corporate actions, a warm-up; ``exposure`` in a margin account, whose ``equity.csv`` and ``weights.csv``
  also have the exposure columns of :mod:`eventbt.results.exposure`);
- ``scenario.toml``: the resolved scenario; ``audit.jsonl``: the audit log;
- ``eventbt-run.json``: the run folder's marker, listing the files above (see :mod:`eventbt.results.files`).

Every JSON file eventbt writes is strict JSON (RFC 8259), which has no NaN or Infinity: :func:`strict_json`
writes a non-finite number as ``null``. (A run whose money goes non-finite is stopped before it gets here; a
figure such as a Sharpe ratio of a run that never moved can still be undefined.)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd

from eventbt.audit import AuditLog
from eventbt.exact import fsum
from eventbt.portfolio import TRADE_FIELDS
from eventbt.results.costs import cost_attribution, fee_amounts, owed_figures
from eventbt.results.csv_text import frame_csv
from eventbt.results.exposure import (
    EQUITY_EXPOSURE_COLUMNS,
    WEIGHT_EXPOSURE_COLUMNS,
    exposure_summary,
    weight_exposures,
)
from eventbt.results.files import RUN_FILES, RunFolder, atomic_write
from eventbt.results.income import dividend_summary
from eventbt.results.metrics import summary_figures

if TYPE_CHECKING:
    from eventbt.portfolio import BookHistory
    from eventbt.scenario import ScenarioConfig

__all__ = ["EQUITY_COLUMNS", "TRADE_COLUMNS", "Result", "build_result", "finite_or_null", "strict_json"]

EQUITY_COLUMNS = ["cash", "positions_value", "total_value", "flow"]

TRADE_COLUMNS = ["date", "symbol", "side", "quantity", "price", "reference_price", "commission", "slippage",
                 "realized_pnl", "order_id", "fill_id"]


def finite_or_null(value: Any) -> Any:
    """``value`` with every NaN or infinite float (in dicts, lists and tuples, at any depth) replaced by ``None``.

    Finite floats are kept as they are (so the text written for them does not change); numpy scalars become
    the Python number they hold.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    if isinstance(value, np.generic):
        return finite_or_null(value.item())
    return value


def strict_json(value: Any, **options: Any) -> str:
    """``json.dumps(value, **options)`` as strict JSON: non-finite numbers written as ``null`` (see the module
    docs); anything else that is not JSON still raises, as it would have."""
    return json.dumps(finite_or_null(value), allow_nan=False, **options)


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

    def metrics(self, benchmark: pd.Series | pd.DataFrame | None = None, risk_free: float = 0.0) -> dict[str, Any]:
        """Every figure of ``docs/metrics.md``; ``benchmark`` is a level series with a tz-naive DatetimeIndex (or a
        one-column frame of one), ``risk_free`` an annual rate as a fraction (0.05 for 5%): anything else is a
        :class:`~eventbt.errors.DataError` (:mod:`eventbt.results.inputs`)."""
        from eventbt.results.metrics import compute_metrics

        figures = compute_metrics(self.equity, self.trades, initial_cash=self.summary.get("initial_cash"),
                                  benchmark=benchmark, risk_free=risk_free, fees=fee_amounts(self.summary),
                                  margin="exposure" in self.summary)
        figures.update(owed_figures(self.summary))
        return figures

    def _repr_html_(self) -> str:
        """Jupyter's view of a result: the summary figures and an equity chart."""
        from eventbt.display.notebook import notebook_html

        return notebook_html({**self.summary, **self.metrics()}, self.equity)

    def write(self, out: str | os.PathLike[str] | RunFolder) -> Path:
        """Write the result files into the run folder ``out``; returns the folder.

        ``out`` is a new folder (created), an empty one, or the folder of an earlier run, which is replaced
        whole: the files are written beside it and swapped in at the end, so the folder never mixes two runs.
        A folder holding anything else is an :class:`~eventbt.errors.OutputError`, and nothing is written
        (see :class:`~eventbt.results.files.RunFolder`). A :class:`RunFolder` already opened (the audit log
        being written inside it) is filled and committed.
        """
        folder = out if isinstance(out, RunFolder) else RunFolder.open(out)
        base = folder.path
        names = list(RUN_FILES)
        live = self.audit.path
        inside = None
        if live is not None:
            with contextlib.suppress(ValueError):
                inside = live.resolve().relative_to(base.resolve())
        try:
            # DataFrame.to_csv's text, written without pandas' formatter (eventbt/results/csv_text.py)
            atomic_write(base / "equity.csv", frame_csv(self.equity, index_label="date"))
            atomic_write(base / "trades.csv", frame_csv(self.trades))
            atomic_write(base / "weights.csv", frame_csv(self.weights, index_label="date"))
            atomic_write(base / "signals.csv", frame_csv(self.signals, index_label="date"))
            atomic_write(base / "summary.json", strict_json(self.summary, indent=2, sort_keys=True) + "\n")
            atomic_write(base / "scenario.toml", self.scenario_toml)
            if inside is None or inside.as_posix() != "audit.jsonl":
                atomic_write(base / "audit.jsonl", b"".join(line + b"\n" for line in self.audit.lines()))
            if inside is not None:
                names.append(inside.as_posix())
            target = folder.commit(names)
        except BaseException:
            folder.abandon()
            raise
        if inside is not None:
            self.audit.path = target / inside  # the log moved with the folder it was written in
        return target


assert list(TRADE_FIELDS) == ["bar", *TRADE_COLUMNS[1:]]  # a trade row: the bar, then trades.csv's other columns


def _trades_frame(rows: list[tuple[Any, ...]], dates: np.ndarray) -> pd.DataFrame:
    """``trades.csv``'s frame from the book's trade rows (:attr:`BookHistory.trade_rows`): a column per field (each
    typed by pandas from its values, as the rows would be), the bar turned into its date."""
    if not rows:  # the columns pandas would make of no rows: the date as dates, the others as objects
        return pd.DataFrame({"date": pd.DatetimeIndex(dates[:0]),
                             **{name: pd.Series([], dtype=object) for name in TRADE_COLUMNS[1:]}})
    bars, *others = zip(*rows, strict=True)
    data: dict[str, object] = {"date": pd.DatetimeIndex(dates[np.array(bars, dtype=int)])}
    data.update(zip(TRADE_COLUMNS[1:], map(list, others), strict=True))
    return pd.DataFrame(data)


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
    with neither is as it was; likewise the exposures of a margin account (:mod:`eventbt.results.exposure`).
    """
    symbols = list(history.symbols)
    index = pd.DatetimeIndex(dates[history.bars], name="date")
    # One float block, (bars x 4) as the transpose of the four columns (pandas copies it once; no dict of lists to
    # consolidate). The summary reads the arrays themselves.
    columns = np.array([history.cash, history.positions_value, history.total_value, history.flow], dtype=float)
    equity = pd.DataFrame(columns.T, index=index, columns=EQUITY_COLUMNS)
    total_value, flows = columns[EQUITY_COLUMNS.index("total_value")], columns[EQUITY_COLUMNS.index("flow")]
    trades = _trades_frame(history.trade_rows, dates)
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
    margin = scenario.portfolio.margin
    if margin:
        equity[EQUITY_EXPOSURE_COLUMNS[0]] = np.asarray(history.long_value, dtype=float)
        equity[EQUITY_EXPOSURE_COLUMNS[1]] = np.asarray(history.short_value, dtype=float)
        weights[WEIGHT_EXPOSURE_COLUMNS] = weight_exposures(weights[symbols].to_numpy(dtype=float))
    # Exactly rounded over the fills (the running totals of the book may differ in the last bit), so that
    # summary.json and the views that read trades.csv (show, compare, the report) print the same cents.
    commission, slippage = fsum(trades["commission"].to_numpy()), fsum(trades["slippage"].to_numpy())
    summary = summary_figures(
        dates=index.to_numpy(), values=total_value, initial_cash=initial_cash,
        trades=len(trades), total_commission=commission, total_slippage=slippage, flows=flows,
    )
    complete = finished and status == "completed"
    summary.update(scenario=scenario.name, events=events, digest=audit.digest, complete=complete, status=status,
                   dead_letters=dead_letters)
    summary["costs"] = cost_attribution(
        commission=commission, slippage=slippage, fees=history.fees,
        values=total_value, dates=index.to_numpy(),
    )
    if history.fees_owed:
        summary["fees_owed"] = dict(sorted(history.fees_owed.items()))
    if scenario.data.corporate_actions:
        summary["dividends"] = dividend_summary(history.dividends, history.splits)
    if scenario.run.warmup:
        summary["warmup_bars"] = warmup_bars
    if margin:
        summary["exposure"] = exposure_summary(total_value=total_value,
                                               long_value=equity["long_value"].to_numpy(),
                                               short_value=equity["short_value"].to_numpy(),
                                               margin_calls=len(history.margin_calls))
    return Result(equity=equity, trades=trades, weights=weights, signals=signals, summary=summary,
                  audit=audit, scenario_toml=scenario.to_toml(), complete=complete, events=events)
