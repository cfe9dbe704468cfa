"""Reading a run folder (written by ``eventbt run --out DIR``) into what the report and ``show`` need."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson
import pandas as pd

from eventbt.data.benchmark import load_benchmark, load_benchmark_for_run
from eventbt.errors import DataError
from eventbt.results import exposure_figures, fee_amounts, income_figures
from eventbt.results.costs import owed_figures
from eventbt.results.exposure import WEIGHT_EXPOSURE_COLUMNS
from eventbt.results.metrics import compute_metrics

__all__ = ["ACTION_COLUMNS", "FEE_COLUMNS", "RunData", "fees_by_date", "load_benchmark", "load_run", "read_actions",
           "read_fees", "read_footer", "read_rebalances"]

# One row per fee booked: its date, model, what was paid (credits negative), the symbol it names, and the
# side and date of the fill that caused it (a stamp duty's buy) or None and its own date (a management fee).
FEE_COLUMNS = ["date", "model", "amount", "symbol", "side", "rebalance_date"]

# One row per corporate action the book booked: its date, symbol and kind, the shares held before and after,
# the ratio of a split or the amount per share of a dividend, and the cash it moved (net dividend, tax
# withheld, cash in lieu).
ACTION_COLUMNS = ["date", "symbol", "action", "shares_before", "shares_after", "ratio", "amount_per_share", "gross",
                  "withholding_tax", "cash"]

# The event types each reader takes from the log (a fee's notice is a NoticeEvent with code fee_owed).
_REBALANCE_TYPES = (b"SignalEvent", b"OrderEvent", b"FillEvent", b"NoticeEvent", b"CancelEvent")
_FEE_TYPES = (b"FeeEvent", b"NoticeEvent")
_ACTION_TYPES = (b"SplitAdjustmentEvent", b"DividendPaymentEvent")

Records = Sequence[Mapping[str, Any]]
"""``publish`` records already read from an audit log, in its order: what :func:`load_run` hands its readers
(each passes over the records that are not its own)."""


@attrs.frozen(kw_only=True)
class RunData:
    """One run folder's tables, its metrics and, when the audit log is there, each rebalance's events."""

    folder: Path
    name: str
    equity: pd.DataFrame
    trades: pd.DataFrame
    weights: pd.DataFrame
    signals: pd.DataFrame
    summary: dict[str, Any]
    metrics: dict[str, Any]
    benchmark: pd.Series | None
    benchmark_name: str | None
    rebalances: list[dict[str, Any]]
    fees: pd.DataFrame = attrs.field(factory=lambda: pd.DataFrame(columns=FEE_COLUMNS))
    actions: pd.DataFrame = attrs.field(factory=lambda: pd.DataFrame(columns=ACTION_COLUMNS))
    stopped: tuple[str, str] | None = None
    """For a run that did not complete, the time its audit log's footer records and the footer's ``error``: why
    it stopped (``None`` for a completed run, or without a log)."""


def _read_table(folder: Path, name: str, **kwargs: Any) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise DataError(f"not a run folder: {name} is missing (write one with `eventbt run SCENARIO --out DIR`)",
                        path=str(folder))
    frame: pd.DataFrame = pd.read_csv(path, **kwargs)
    return frame


_TYPE_KEY = b'"type":"'


def _published(audit_path: Path, *types: bytes) -> Iterator[dict[str, Any]]:
    """The ``publish`` records of the audit log whose event type is one of ``types``, in the log's order.

    The type is read from the line without parsing it: a record's keys are sorted, so ``type`` is its last key,
    found from the end of the line (a ``type`` key inside its data comes earlier; one inside a string is
    escaped). Only the lines of those types are parsed."""
    wanted = frozenset(types)
    start = len(_TYPE_KEY)
    with audit_path.open("rb") as handle:
        for line in handle:
            at = line.rfind(_TYPE_KEY) + start
            if at < start or line[at:line.find(b'"', at)] not in wanted:
                continue
            record: dict[str, Any] = orjson.loads(line)
            if record.get("record") == "publish":
                yield record


def _records_of(audit: Path | Records, types: tuple[bytes, ...]) -> Iterable[Mapping[str, Any]]:
    """The ``publish`` records a reader looks at: the log's records of ``types``, or the records it was given
    (``[]`` for a path that is not a file)."""
    if isinstance(audit, Path):
        return _published(audit, *types) if audit.is_file() else []
    return audit


def read_footer(audit: Path) -> dict[str, Any] | None:
    """The footer record of the audit log ``audit`` (its last line), read from the file's end; ``None`` when
    there is no log or its last line is not a footer."""
    if not audit.is_file():
        return None
    with audit.open("rb") as handle:
        size = handle.seek(0, 2)
        chunk = 1 << 16
        while True:  # back from the end until the last line is whole
            start = max(0, size - chunk)
            handle.seek(start)
            tail = handle.read(size - start).rstrip(b"\n")
            if b"\n" in tail or start == 0:
                break
            chunk *= 8
    try:
        record = orjson.loads(tail.rsplit(b"\n", 1)[-1])
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and record.get("record") == "footer" else None


def read_rebalances(audit: Path | Records) -> list[dict[str, Any]]:
    """Each signal in the audit log with the notices, orders and fills it caused, in the order they happened.

    A rebalance is a ``SignalEvent``; its orders and notices name it as their cause, and each fill and
    cancel names its order. Under ``next_open`` the fills come a bar later; they still join their order.
    ``audit`` is the log's path (no log: no rebalances) or its :data:`Records`.
    """
    signals: dict[int, dict[str, Any]] = {}
    order_signal: dict[int, int] = {}
    for record in _records_of(audit, _REBALANCE_TYPES):
        kind, data, cause = record["type"], record["data"], record.get("cause")
        if kind == "SignalEvent":
            signals[record["id"]] = {"id": record["id"], "date": record["time"][:10], "targets": data["weights"],
                                     "orders": [], "notices": []}
        elif kind == "OrderEvent" and cause in signals:
            order_signal[record["id"]] = cause
            signals[cause]["orders"].append({"id": record["id"], **data, "fill": None, "cancel": None})
        elif kind == "NoticeEvent" and cause in signals:
            signals[cause]["notices"].append({"id": record["id"], **data})
        elif kind in ("FillEvent", "CancelEvent") and data.get("order_id") in order_signal:
            orders = signals[order_signal[data["order_id"]]]["orders"]
            order = next(o for o in orders if o["id"] == data["order_id"])
            order["fill" if kind == "FillEvent" else "cancel"] = {"time": record["time"], **data}
        elif kind == "NoticeEvent" and cause in order_signal:
            signals[order_signal[cause]]["notices"].append({"id": record["id"], **data})
    return [signals[key] for key in sorted(signals)]


def read_fees(audit: Path | Records, trades: pd.DataFrame) -> pd.DataFrame:
    """Every fee of the audit log as paid (:data:`FEE_COLUMNS`); an empty table without an audit log.

    The amount is the ``FeeEvent``'s, or what the book paid when the cash could not cover it (the ``paid``
    of the ``fee_owed`` notice the fee caused). A fee caused by a fill (the trades.csv row whose ``fill_id``
    is its cause) belongs to that fill's date: a stamp duty on a same-close buy is booked the next bar.
    ``audit`` is the log's path or its :data:`Records`.
    """
    fees: list[dict[str, Any]] = []
    paid: dict[int, float] = {}
    for record in _records_of(audit, _FEE_TYPES):
        data = record["data"]
        if record["type"] == "FeeEvent":
            fees.append({"id": record["id"], "cause": record.get("cause"), "date": record["time"][:10], **data})
        elif record["type"] == "NoticeEvent" and data.get("code") == "fee_owed":
            paid[int(record["cause"])] = float(data["details"]["paid"])
    # trades.csv's rows by fill id, only when there are fees to date (a table of thousands of fills costs
    # a tenth of a second to turn into rows).
    fills = {int(row["fill_id"]): row for row in trades.to_dict("records")} if fees and len(trades) else {}
    rows = []
    for fee in fees:
        fill = fills.get(int(fee["cause"])) if fee["cause"] is not None else None
        rows.append({"date": pd.Timestamp(fee["date"]), "model": fee["model"],
                     "amount": paid.get(fee["id"], float(fee["amount"])), "symbol": fee.get("symbol"),
                     "side": fill["side"] if fill else None,
                     "rebalance_date": pd.Timestamp(fill["date"]).normalize() if fill else pd.Timestamp(fee["date"])})
    return pd.DataFrame(rows, columns=FEE_COLUMNS)


def read_actions(audit: Path | Records) -> pd.DataFrame:
    """Every split adjustment and dividend payment of the audit log (:data:`ACTION_COLUMNS`), in booking order;
    an empty table without an audit log or without corporate actions. ``audit`` is the log's path or its
    :data:`Records`."""
    rows: list[dict[str, Any]] = []
    for record in _records_of(audit, _ACTION_TYPES):
        data = record["data"]
        if record["type"] == "SplitAdjustmentEvent":
            rows.append({"date": pd.Timestamp(record["time"][:10]), "symbol": data["symbol"], "action": "split",
                         "shares_before": data["shares_before"], "shares_after": data["shares_after"],
                         "ratio": data["ratio"], "amount_per_share": None, "gross": None,
                         "withholding_tax": None, "cash": data["cash_in_lieu"]})
        elif record["type"] == "DividendPaymentEvent":
            rows.append({"date": pd.Timestamp(record["time"][:10]), "symbol": data["symbol"],
                         "action": "dividend", "shares_before": data["shares"], "shares_after": data["shares"],
                         "ratio": None, "amount_per_share": data["amount_per_share"], "gross": data["gross"],
                         "withholding_tax": data["withholding_tax"], "cash": data["net"]})
    return pd.DataFrame(rows, columns=ACTION_COLUMNS)


def fees_by_date(fees: pd.DataFrame, dates: pd.Index) -> pd.DataFrame:
    """Fees per rebalance date (``dates``) and model (one column each, sorted): a fee belongs to a rebalance
    when its ``rebalance_date`` is that date; fees on other dates are left out."""
    if fees.empty:
        return pd.DataFrame(index=dates)
    table = fees.pivot_table(index="rebalance_date", columns="model", values="amount", aggfunc="sum")
    return table.reindex(index=dates, columns=sorted(table.columns)).fillna(0.0)


def scenario_benchmark(root: Path, base_dir: str | Path | None = None) -> tuple[str | None, Path | None]:
    """The ``[report] benchmark`` of a run folder's scenario.toml, and the folder it is relative to.

    That folder is found as the run's data is (:func:`eventbt.replays.data_folder.find_data_folder`):
    ``base_dir`` when given, else the scenario's own (``environment.base_dir`` in the audit header) when the
    file is there, else the run folder. When it is in none, the first of them (reading the benchmark then says
    where it looked).
    """
    import tomllib

    from eventbt.replays.data_folder import find_data_folder

    scenario = root / "scenario.toml"
    if not scenario.is_file():
        return None, None
    spec = tomllib.loads(scenario.read_text()).get("report", {}).get("benchmark") or None
    audit = root / "audit.jsonl"
    if not spec or not audit.is_file():
        return spec, Path(base_dir) if base_dir is not None else root
    with audit.open("rb") as handle:
        header = json.loads(handle.readline() or b"{}")
    header = header if isinstance(header, dict) else {}
    file = spec.rsplit(":", 1)[0] if ":" in spec else spec
    try:
        return spec, find_data_folder(header, audit, base_dir, paths=[file])
    except DataError:
        return spec, find_data_folder(header, audit, base_dir, paths=[])


def load_run(folder: str | Path, *, benchmark: str | pd.Series | None = None, risk_free: float = 0.0,
             base_dir: str | Path | None = None) -> RunData:
    """Read a run folder; ``benchmark`` is ``FILE[:COLUMN]`` or a level series (dates as index).

    Without ``benchmark``, the scenario's ``[report] benchmark`` is used when it names one, found as the run's
    data is (``base_dir``, the folder the scenario's paths are relative to; see :func:`scenario_benchmark`).
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError("run folder not found", path=str(root))
    equity = _read_table(root, "equity.csv", index_col="date", parse_dates=True)
    trades = _read_table(root, "trades.csv", parse_dates=["date"])
    weights = _read_table(root, "weights.csv", index_col="date", parse_dates=True)
    signals = _read_table(root, "signals.csv", index_col="date", parse_dates=True)
    summary_path = root / "summary.json"
    summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    series, bench_name = None, None
    # A benchmark file is checked against the run's dates here, so its errors name the file.
    if benchmark is None:
        benchmark, base = scenario_benchmark(root, base_dir)
        if benchmark is not None:
            series, bench_name = load_benchmark_for_run(benchmark, equity.index, base=base)
    elif isinstance(benchmark, str):
        series, bench_name = load_benchmark_for_run(benchmark, equity.index)
    elif benchmark is not None:
        from eventbt.results.inputs import benchmark_series

        series = benchmark_series(benchmark)  # checked as Result.metrics checks it: a DataError saying the fix
        bench_name = str(series.name or "benchmark")
    margin = "exposure" in summary  # a margin account's run: its weights.csv has the exposure sums after the symbols
    if margin:
        weights = weights.drop(columns=[c for c in WEIGHT_EXPOSURE_COLUMNS if c in weights.columns])
    metrics = compute_metrics(equity, trades, initial_cash=summary.get("initial_cash"), benchmark=series,
                              risk_free=risk_free, fees=fee_amounts(summary), margin=margin)
    metrics.update({key: summary[key] for key in ("scenario", "digest", "complete", "status", "events")
                    if key in summary})
    metrics.update(owed_figures(summary))
    metrics.update(income_figures(summary))
    metrics.update(exposure_figures(summary))
    # One scan of the log for the three readers (each passes over the others' records).
    # Corporate actions are looked for only in a run that had some ("dividends" in its summary).
    types = (*_REBALANCE_TYPES, *_FEE_TYPES, *(_ACTION_TYPES if "dividends" in summary else ()))
    records = list(_records_of(root / "audit.jsonl", types))
    footer = read_footer(root / "audit.jsonl") if summary.get("complete") is False else None
    stopped = (str(footer.get("time") or ""), str(footer["error"])) if footer and footer.get("error") else None
    return RunData(folder=root, name=str(summary.get("scenario") or root.name), equity=equity, trades=trades,
                   weights=weights, signals=signals, summary=summary, metrics=metrics, benchmark=series,
                   benchmark_name=bench_name, rebalances=read_rebalances(records), fees=read_fees(records, trades),
                   actions=read_actions(records), stopped=stopped)
