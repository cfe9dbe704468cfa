"""Walk-forward: pick the best combination on each training window, run it on the test window that follows.

Windows are laid on the calendar from the first date of the data: training ``[start, start + train)``, test
``[start + train, start + train + test)``; then ``start`` moves on by ``test``, so the test windows follow
each other without gaps or overlap. Windows stop when a training window would reach past the last date; the
last test window may be shorter than ``test`` (it ends with the data).

Every window run is an ordinary scenario: the base, the combination's overrides and ``data.start`` /
``data.end`` set to the window's first and last dates, so ``eventbt run SCENARIO --set ...`` reproduces any
of them, digest included; of the base's ``[[events]]``, a window run has those that fall in its bars
(:func:`window_events`). The prices are loaded once and cut per window (see
:func:`eventbt.sweeps.executors.cut_prices`). Each test run starts afresh from the initial cash. With the
base scenario's ``[run] warmup`` (N bars), every window run, training and test, has the N bars before its
first date as its warm-up, so a test window starts with indicators warmed on the bars before it (the end
of its training window) rather than from nothing; the first training window has the bars the data has
before it, possibly none. The windows are laid on the tradable dates (those after the base's own warm-up).

A test run that raises is recorded in its window's row (``test_status = "failed"`` and ``test_error``), and
so is a window where every combination failed on training (no combination, no test run); the walk goes on.
Such a window is missing from the out-of-sample curve, and the out-of-sample total return is undefined (NaN).

The out-of-sample curve chains the test runs: each run's time-weighted level divided by the initial cash is
its growth (its value over the initial cash when the window has no deposit or withdrawal), and the stitched
value is the previous window's last stitched value times that growth.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from eventbt.errors import SweepError
from eventbt.results.metrics import time_weighted_levels
from eventbt.scenario import ScenarioConfig
from eventbt.sweeps.executors import Row, Task
from eventbt.sweeps.grid import (
    Executor,
    check_not_a_run_folder,
    check_sweep_scenario,
    combinations,
    make_executor,
    parse_grid,
    rank_table,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Window", "WalkForwardResult", "parse_walk_forward", "stitch", "walk_forward", "window_events", "windows"]

_PERIOD = re.compile(r"([1-9][0-9]*)([ymwd])")


@attrs.frozen(kw_only=True)
class Window:
    """One window: bar ranges ``[train_start, test_start)`` and ``[test_start, test_stop)`` of the data."""

    number: int
    train_start: int
    test_start: int
    test_stop: int


@attrs.frozen(kw_only=True)
class WalkForwardResult:
    """``windows``: one row per window (dates, chosen combination, train and test figures, test digest, test
    status and error); ``equity``: the stitched out-of-sample curve (``date``, ``total_value``, ``window``);
    ``train``: every training row, with its ``window``. ``total_return`` is NaN when a test run failed."""

    windows: pd.DataFrame
    equity: pd.DataFrame
    train: pd.DataFrame
    total_return: float

    @property
    def failed(self) -> int:
        """How many windows failed: their test run raised, or every combination failed on their training window."""
        return int((self.windows["test_status"] != "ok").sum())

    def first_error(self) -> str | None:
        """The first failed window: its dates, the overrides of its test run (none when every combination failed
        on its training window) and the error (its first line); ``None`` if no window failed."""
        failed = self.windows[self.windows["test_status"] != "ok"]
        if failed.empty:
            return None
        row = failed.iloc[0]
        text = str(row["test_error"]).strip().splitlines()
        run = f"the test run of {row['overrides']}" if row["overrides"] else "no test run"
        return (f"window {int(row['window'])} (train {row['train_start']} to {row['train_end']}, test "
                f"{row['test_start']} to {row['test_end']}), {run}: {text[0] if text else 'failed'}")


def _offset(count: int, unit: str) -> pd.DateOffset:
    import pandas as pd

    if unit == "y":
        return pd.DateOffset(years=count)
    if unit == "m":
        return pd.DateOffset(months=count)
    return pd.DateOffset(weeks=count) if unit == "w" else pd.DateOffset(days=count)


def parse_walk_forward(spec: str) -> tuple[pd.DateOffset, pd.DateOffset]:
    """``"train=3y,test=1y"`` -> ``(DateOffset(years=3), DateOffset(years=1))`` (units: y, m, w, d)."""
    found: dict[str, pd.DateOffset] = {}
    for part in spec.split(","):
        name, _, length = part.strip().partition("=")
        match = _PERIOD.fullmatch(length.strip())
        if name.strip() not in ("train", "test") or match is None or name.strip() in found:
            break
        found[name.strip()] = _offset(int(match[1]), match[2])
    if set(found) != {"train", "test"} or len(spec.split(",")) != 2:
        raise SweepError("must look like 'train=3y,test=1y' (lengths in y, m, w or d)",
                         option=f"--walk-forward {spec}")
    return found["train"], found["test"]


def windows(dates: np.ndarray, train: pd.DateOffset, test: pd.DateOffset) -> list[Window]:
    """The walk-forward windows over ``dates`` (sorted ``datetime64``), as bar ranges (see the module doc)."""
    import pandas as pd

    found: list[Window] = []
    start, last = pd.Timestamp(dates[0]), pd.Timestamp(dates[-1])
    while (train_end := start + train) <= last:
        test_end = train_end + test
        bounds = np.searchsorted(dates, np.array([start, train_end, test_end], dtype="datetime64[ns]"))
        if bounds[1] > bounds[0] and bounds[2] > bounds[1]:
            found.append(Window(number=len(found) + 1, train_start=int(bounds[0]), test_start=int(bounds[1]),
                                test_stop=int(bounds[2])))
        start += test
    return found


def stitch(curves: Sequence[np.ndarray], initial_cash: float) -> np.ndarray:
    """Chain value curves that each start from ``initial_cash`` into one curve (see the module doc)."""
    pieces, level = [], initial_cash
    for curve in curves:
        piece = level * np.asarray(curve, dtype=float) / initial_cash
        pieces.append(piece)
        if len(piece):
            level = float(piece[-1])
    return np.concatenate(pieces) if pieces else np.array([], dtype=float)


def _day(dates: np.ndarray, bar: int) -> str:
    return str(dates[bar])[:10]


def _window_overrides(dates: np.ndarray, first: int, stop: int) -> tuple[str, str]:
    return f'data.start="{_day(dates, first)}"', f'data.end="{_day(dates, stop - 1)}"'


def window_events(base: ScenarioConfig, dates: np.ndarray, first: int, stop: int) -> ScenarioConfig:
    """``base`` with only the ``[[events]]`` that fall in bars ``[first, stop)`` of ``dates``: an event falls on
    the first bar on or after its date, as in a run. An event before the window would otherwise be booked at
    its first bar, and one after it is an error (after the window's last bar). An event kept that is dated on a
    day between the bar before the window and its first bar (a weekend, a holiday) is dated that first bar: the
    window's run starts there, and refuses an event dated before its start; it is booked on the same bar."""
    if not base.events:
        return base
    days = dates.astype("datetime64[D]")
    window_start = _day(dates, first) if first < len(dates) else ""
    kept = []
    for event in base.events:
        if first <= int(np.searchsorted(days, np.datetime64(event.date, "D"))) < stop:
            kept.append(attrs.evolve(event, date=window_start) if event.date < window_start else event)
    return attrs.evolve(base, events=tuple(kept))


#: The test run's figures in a window's row (``test_`` + the name), undefined (NaN) when it failed.
TEST_FIGURES = ("test_total_return", "test_sharpe", "test_max_drawdown", "test_trades", "test_total_costs")


def _failed_test(error: str) -> dict[str, Any]:
    """A window's test columns when it has no test run (every combination failed training, or the run failed):
    no figures (NaN), no digest, ``failed`` and why."""
    return {**dict.fromkeys(TEST_FIGURES, float("nan")), "test_digest": None, "test_status": "failed",
            "test_error": error}


def _figure(value: Any) -> float:
    """A test run's figure for the windows table: NaN when undefined (``None``), as in the training figures."""
    return float("nan") if value is None else float(value)


#: The files a walk-forward writes into its ``out`` folder.
WALK_FORWARD_FILES = ("walk_forward.csv", "walk_forward_equity.csv", "walk_forward_train.csv")


def _check_out(out: str | os.PathLike[str]) -> None:
    """Before any window runs: ``out`` is a folder (or does not exist yet) holding none of the files a
    walk-forward writes; a walk-forward never overwrites a file it did not write in this run."""
    folder = os.fspath(out)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise SweepError(f"{folder} is a file; a walk-forward writes its files into a folder", option="--out")
    check_not_a_run_folder(Path(folder), "walk-forward")
    taken = [name for name in WALK_FORWARD_FILES if os.path.lexists(os.path.join(folder, name))]
    if taken:
        raise SweepError(f"{folder} holds {', '.join(taken)}, which this walk-forward would overwrite; pick another "
                         "--out", option="--out")


def walk_forward(scenario: str | os.PathLike[str] | ScenarioConfig, grid: Sequence[str] | Mapping[str, Sequence[Any]],
                 spec: str, *, overrides: Sequence[str] = (), executor: str | Executor = "local",
                 scheduler: str | None = None, workers: int | None = None, out: str | os.PathLike[str] | None = None,
                 rank_by: str = "sharpe", progress: bool | None = False) -> WalkForwardResult:
    """Walk ``grid`` forward over the base scenario's data with windows ``spec`` (``train=3y,test=1y``)."""
    import pandas as pd

    from eventbt.display.progress import ProgressBar
    from eventbt.results import atomic_write
    from eventbt.simulation import Simulation, load_scenario_prices
    from eventbt.sweeps.executors import cut_prices

    if isinstance(scenario, ScenarioConfig):
        base = scenario.with_overrides(overrides) if overrides else scenario
    else:
        base = ScenarioConfig.from_toml(scenario, overrides)
    rank_table([], [], rank_by)
    keys = parse_grid(grid)
    check_sweep_scenario(base, list(keys))
    if any(key.startswith("data.") for key in keys):
        raise SweepError("walk-forward sets data.start and data.end itself; grid keys cannot be data.*",
                         option="--walk-forward")
    train, test = parse_walk_forward(spec)
    if out is not None:
        _check_out(out)
    runner = make_executor(executor, scheduler=scheduler, workers=workers) if isinstance(executor, str) else executor
    if isinstance(base.run.warmup, str):
        raise SweepError("walk-forward lays its windows itself: give [run] warmup as a number of bars, not a date",
                         option="--walk-forward")
    if base.run.warmup:
        # The whole data, so each window's warm-up reaches back before it; windows start where the base trades.
        prices = load_scenario_prices(base.with_overrides(['data.start=""']))
        first = (int(np.searchsorted(prices.dates, np.datetime64(base.data.start, "ns"))) if base.data.start
                 else prices.warmup_bars)
        dates = prices.dates[first:]
    else:
        prices = load_scenario_prices(base)
        dates = prices.dates
    laid = windows(dates, train, test)
    if not laid:
        raise SweepError(f"no window fits in the data ({_day(dates, 0)} to {_day(dates, -1)})",
                         option=f"--walk-forward {spec}")
    combos = combinations(keys)
    tasks = [Task(index=w.number * len(combos) + c.index,
                  overrides=(*c.overrides, *_window_overrides(dates, w.train_start, w.test_start)))
             for w in laid for c in combos]
    rows: list[Row] = []
    bar = ProgressBar(len(tasks), label="training runs", enabled=progress)

    def on_row(row: Row) -> None:
        rows.append(row)
        bar.update(len(rows))

    if base.events:  # each window's runs have its own events: one batch of tasks per window
        for window in laid:
            runner.run(window_events(base, dates, window.train_start, window.test_start), prices,
                       tasks[(window.number - 1) * len(combos):window.number * len(combos)], on_row)
    else:
        runner.run(base, prices, tasks, on_row)
    bar.close()
    for row in rows:
        window_number, index = divmod(row["combination"], len(combos))
        row.update(combos[index].params, combination=index, window=window_number)
    records, curves, curve_dates, curve_windows = [], [], [], []
    train_tables = []
    for window in laid:
        table = rank_table([r for r in rows if r["window"] == window.number], list(keys), rank_by)
        train_tables.append(table.assign(window=window.number))
        record: dict[str, Any] = {
            "window": window.number,
            "train_start": _day(dates, window.train_start), "train_end": _day(dates, window.test_start - 1),
            "test_start": _day(dates, window.test_start), "test_end": _day(dates, window.test_stop - 1),
        }
        succeeded = table[table["status"] == "ok"]  # ranked: the successful rows with the metric come first
        if succeeded.empty:  # failed rows keep combination order: the first is the lowest number
            lowest = table.iloc[0]
            record.update(combination=None, overrides="", **{f"train_{rank_by}": float("nan")},
                          **_failed_test(f"every combination failed on the training window; the first: combination "
                                         f"{int(lowest['combination'])} ({lowest['overrides']}): {lowest['error']}"))
            records.append(record)
            continue
        chosen = combos[int(succeeded.iloc[0]["combination"])]
        record.update(combination=chosen.index, overrides=" ".join(chosen.overrides),
                      **{f"train_{rank_by}": succeeded.iloc[0][rank_by]})
        try:  # a failing test run is recorded in its window's row, and the walk goes on
            config = window_events(base, dates, window.test_start, window.test_stop).with_overrides(
                [*chosen.overrides,
                 *_window_overrides(dates, window.test_start, window.test_stop)])
            window_prices = cut_prices(prices, config.data.start, config.data.end, warmup=config.run.warmup,
                                       path=config.data.path)
            result = Simulation(config, prices=window_prices, audit=True).run()
            assert result is not None
        except Exception as exc:
            record.update(_failed_test(f"{type(exc).__name__}: {exc}"))
            records.append(record)
            continue
        record.update({f"test_{name}": _figure(result.summary.get(name)) for name in ("total_return", "sharpe",
                                                                                     "max_drawdown")})
        record["test_trades"] = result.summary.get("trades")
        record["test_total_costs"] = result.summary["costs"]["total"]["amount"]
        record.update(test_digest=result.digest, test_status="ok", test_error=None)
        records.append(record)
        curves.append(time_weighted_levels(result.equity, config.portfolio.initial_cash))
        curve_dates.append(result.equity.index.to_numpy())
        curve_windows.append(np.full(len(result.equity), window.number))
    initial = base.portfolio.initial_cash
    stitched = stitch(curves, initial)
    equity = pd.DataFrame({"date": np.concatenate(curve_dates) if curve_dates else np.array([], "datetime64[ns]"),
                           "total_value": stitched,
                           "window": np.concatenate(curve_windows) if curve_windows else np.array([], int)})
    # Counts stay whole where a window has none (no combination when every one failed, no trades when its test failed).
    window_table = pd.DataFrame(records).astype({"combination": "Int64", "test_trades": "Int64"})
    train_table = pd.concat(train_tables, ignore_index=True)
    if out is not None:
        folder = os.fspath(out)
        try:  # atomic_write makes the folder
            for name, table in zip(WALK_FORWARD_FILES, (window_table, equity, train_table), strict=True):
                atomic_write(os.path.join(folder, name), table.to_csv(index=False))
        except OSError as exc:
            raise SweepError(f"{folder} cannot be written: {exc.strerror or exc}", option="--out") from None
    whole = len(curves) == len(laid)  # a failed test window leaves a gap: no out-of-sample total return
    return WalkForwardResult(windows=window_table, equity=equity, train=train_table,
                             total_return=float(stitched[-1] / initial - 1.0) if whole else float("nan"))
