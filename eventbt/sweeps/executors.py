"""Where a sweep's combinations run: a local process pool, or a Dask cluster.

Both executors get the base scenario and the price data once (the pool's initializer; ``client.scatter`` with
``broadcast=True``) and then only small tasks: a combination's number and overrides. Both call the same
:func:`run_task`, which runs one combination to one result row, so a combination gives the same row and
digest whichever executor ran it.

:func:`run_task` never raises for a failing combination: the row says ``status = "failed"`` and carries
the error. A worker process that dies costs only the tasks in flight on it and its fellow workers, which are
run again: the local pool is rebuilt, and those tasks rerun one at a time so that a task that kills its worker
every time is found and recorded as failed after ``max_restarts`` retries; the Dask scheduler
reschedules the tasks of a lost worker itself (``distributed.scheduler.allowed-failures``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from eventbt.prices import PriceData
    from eventbt.scenario import ScenarioConfig

__all__ = ["CALM_CLUSTER", "METRICS", "DaskExecutor", "LocalExecutor", "SerialExecutor", "Task", "cut_prices",
           "local_cluster", "run_task", "snake_order"]

# The figures of a sweep's row (from the run's summary), in column order; a ``fee:<model>`` column per fee
# model the run charged goes before ``total_costs`` (eventbt.sweeps.rank_table).
METRICS = ("final_value", "total_return", "cagr", "money_weighted_return", "net_flows", "annual_volatility", "sharpe",
           "max_drawdown", "trades", "total_commission", "total_slippage", "total_costs")

Row = dict[str, Any]
OnRow = Callable[[Row], None]


@attrs.frozen(kw_only=True)
class Task:
    """One unit of work: combination ``index`` with its ``overrides`` (``key=value`` text)."""

    index: int
    overrides: tuple[str, ...]


def cut_prices(prices: PriceData, start: str, end: str, *, warmup: int | str = 0, path: str = "") -> PriceData:
    """The dates from ``start`` to ``end`` inclusive (ISO dates; empty: no bound), as views of ``prices``.

    Gives the same panel as loading the file with ``data.start`` and ``data.end`` (same symbols, same sources,
    the corporate actions of those dates). With ``warmup`` (``[run] warmup``) the warm-up bars before ``start``
    are kept in front, as far as ``prices`` reaches back (see :mod:`eventbt.data.warmup`; ``path`` names the
    data in its messages).
    """
    import numpy as np

    if warmup:
        from eventbt.data.warmup import with_warmup

        return with_warmup(prices, start=start, end=end, warmup=warmup, path=path)

    first = 0 if not start else int(np.searchsorted(prices.dates, np.datetime64(start, "ns"), side="left"))
    stop = len(prices.dates) if not end else int(np.searchsorted(prices.dates, np.datetime64(end, "ns"), side="right"))
    if first >= stop:  # the loader's own message (the data named, the dates it has), as loading with these bounds
        from eventbt.data.loaders import window_error

        problem = window_error(prices.dates, np.datetime64(start, "ns") if start else None,
                               np.datetime64(end, "ns") if end else None, path)
        assert problem is not None  # no date kept: the window is outside the data, or holds none of its dates
        raise problem

    def cut(array: np.ndarray | None) -> np.ndarray | None:
        return None if array is None else array[first:stop]

    days = {str(day)[:10] for day in prices.dates[first:stop]}
    return attrs.evolve(prices, dates=prices.dates[first:stop], close=prices.close[first:stop], open=cut(prices.open),
                        high=cut(prices.high), low=cut(prices.low), volume=cut(prices.volume),
                        actions=tuple(action for action in prices.actions if action.date in days), warmup_bars=0)


def _prices_for(config: ScenarioConfig, base: ScenarioConfig, prices: PriceData) -> PriceData:
    """The shared prices cut to the combination's ``data.start``/``data.end``; loaded anew if other keys differ."""
    from eventbt.simulation import load_scenario_prices

    if config.data == base.data and config.run.warmup == base.run.warmup:
        return prices
    same_file = attrs.evolve(config.data, start=base.data.start, end=base.data.end) == base.data
    if same_file and config.data_path == base.data_path and config.run.warmup == base.run.warmup:
        from eventbt.errors import DataError

        try:
            return cut_prices(prices, config.data.start, config.data.end, warmup=config.run.warmup,
                              path=config.data.path)
        except DataError:
            # The shared prices hold the base's dates only: when the base narrowed them, the file may hold the
            # dates asked for, and the loader's message names the whole file's range. Load them, where the
            # file can be read (else the cut's error stands).
            if not (base.data.start or base.data.end) or not config.data_path.exists():
                raise
    return load_scenario_prices(config)


def run_task(base: ScenarioConfig, prices: PriceData, task: Task) -> Row:
    """Run one combination to a row: ``combination``, ``overrides``, the metrics (one ``fee:<model>`` per fee
    model), ``digest``, ``status``, ``error``.

    A combination that changes only ``data.start``/``data.end`` cuts the shared prices (walk-forward windows
    do), or loads its own when the base's bounds leave it no date; one that changes other ``data.*`` keys loads
    its own prices.
    """
    from eventbt.simulation import Simulation

    row: Row = {"combination": task.index, "overrides": " ".join(task.overrides)}
    try:
        config = base.with_overrides(task.overrides)
        result = Simulation(config, prices=_prices_for(config, base, prices), audit=True).run()
        assert result is not None
    except Exception as exc:  # a failing combination is recorded, and the sweep goes on
        row.update(dict.fromkeys(METRICS), digest=None, status="failed", error=f"{type(exc).__name__}: {exc}")
        return row
    summary = result.summary
    costs = summary.get("costs", {})
    for name in METRICS:
        value = costs.get("total", {}).get("amount") if name == "total_costs" else summary.get(name)
        row[name] = None if value is None else (int(value) if name == "trades" else float(value))
    row.update({name: float(entry["amount"]) for name, entry in costs.items() if name.startswith("fee:")})
    row.update(digest=result.digest, status="ok", error=None)
    return row


def _failed_row(task: Task, error: str) -> Row:
    return {"combination": task.index, "overrides": " ".join(task.overrides), **dict.fromkeys(METRICS),
            "digest": None, "status": "failed", "error": error}


class SerialExecutor:
    """Every task in this process, one after another: for small grids, debugging and tests."""

    name = "serial"

    def run(self, base: ScenarioConfig, prices: PriceData, tasks: Sequence[Task], on_row: OnRow) -> None:
        for task in tasks:
            on_row(run_task(base, prices, task))


# -- local process pool ---------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(base: ScenarioConfig, prices: PriceData) -> None:
    _WORKER["base"] = base
    _WORKER["prices"] = prices


def _pool_task(task: Task) -> Row:
    return run_task(_WORKER["base"], _WORKER["prices"], task)


def _worker_count(workers: int | None) -> int:
    """``workers``, or one per CPU of this machine when it is ``None`` or 0."""
    return workers or os.cpu_count() or 1


def snake_order(tasks: Sequence[Task], workers: int) -> list[Task]:
    """``tasks`` in blocks of ``workers``, every other block reversed: 1, 2, 4, 3, 5, 6, 8, 7 on two workers.

    Both executors hand the tasks out in turn, one per free worker. A combination's cost often grows (or shrinks)
    along the grid, as with ``top_n`` or a lookback: in grid order the worker that takes the later task of each
    block gets the longer one every time, and the sweep ends waiting for it alone. Taken in this order each worker
    gets an even share of the trend; costs without one are no worse off. Rows still carry their combination's
    number, so the results do not depend on the order.
    """
    size = max(workers, 1)
    blocks = [list(tasks[k:k + size]) for k in range(0, len(tasks), size)]
    return [task for n, block in enumerate(blocks) for task in (reversed(block) if n % 2 else block)]


def _ready() -> None:
    """A task that does nothing: submitting one per worker starts the pool's processes."""


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (default: one per CPU); started with ``spawn``."""

    name = "local"

    def __init__(self, workers: int | None = None, *, max_restarts: int = 3) -> None:
        self.workers = _worker_count(workers)
        self.max_restarts = max_restarts

    def run(self, base: ScenarioConfig, prices: PriceData, tasks: Sequence[Task], on_row: OnRow) -> None:
        """Run every task, calling ``on_row`` in this process as each row arrives (in completion order).

        When a worker dies, the tasks in flight are charged one loss each and then run again one at a time in
        a one-worker pool, so a later loss is charged to the task that caused it alone; a task lost more than
        ``max_restarts`` times is recorded as failed. The other tasks go on in a new pool.
        """
        pending = {task.index: task for task in tasks}
        suspects: list[Task] = []
        losses: dict[int, int] = {}

        def finished(row: Row) -> None:
            del pending[row["combination"]]
            on_row(row)

        while pending:
            batch = suspects[:1] if suspects else list(pending.values())
            lost = self._run_pool(base, prices, batch, 1 if suspects else self.workers, finished)
            if suspects and not lost:
                suspects.pop(0)
            for task in lost:
                losses[task.index] = losses.get(task.index, 0) + 1
                if losses[task.index] > self.max_restarts:
                    if task in suspects:
                        suspects.remove(task)
                    finished(_failed_row(task, f"BrokenProcessPool: the worker process running this combination "
                                               f"died {losses[task.index]} times"))
                elif task not in suspects:
                    suspects.append(task)

    def _run_pool(self, base: ScenarioConfig, prices: PriceData, tasks: Sequence[Task], workers: int,
                  on_row: OnRow) -> list[Task]:
        """Run ``tasks`` on a new pool, at most ``workers`` at a time; the tasks in flight if a worker died."""
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        workers = min(workers, len(tasks))
        queued = list(reversed(snake_order(tasks, workers)))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(base, prices)) as pool:
            # Start every worker before the first task: a worker dying while the pool still starts another
            # one leaves the pool waiting for that one forever (Python 3.11).
            for _ in range(workers):
                pool.submit(_ready)
            running: dict[Future[Row], Task] = {}
            try:
                while queued or running:
                    while queued and len(running) < workers:
                        task = queued.pop()
                        running[pool.submit(_pool_task, task)] = task
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            return list(running.values())
                        del running[future]
                        on_row(row)
            except BaseException:  # Ctrl-C: drop the queued tasks instead of waiting for them
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return []


# -- Dask -------------------------------------------------------------------------------------------------

# Dask's background work, turned down in a cluster eventbt starts itself. A sweep's tasks are single-threaded
# Python that holds the GIL, and with one worker per core every wake-up of a cluster's own threads is taken from
# a combination. Measured on a two-core machine (docs/performance.md): at Dask's defaults an idle two-worker
# cluster takes 15% of a core (the scheduler's process 6%, each worker 4%), 3-4% with these three; with two
# workers busy, the profiler alone costs 7% of the sweep. What each one does, at Dask's default:
CALM_CLUSTER: dict[str, object] = {
    # the statistical profiler behind the dashboard's profile page: samples the running task's stack every 10 ms
    "distributed.worker.profile.enabled": False,
    # the check that a process's event loop is not blocked, every 20 ms (its 3 s warning still works)
    "distributed.admin.tick.interval": "1s",
    # the dashboard's CPU, memory and network figures of each process, every 500 ms
    "distributed.admin.system-monitor.interval": "5s",
}


def local_cluster(workers: int | None = None) -> Any:
    """A Dask ``LocalCluster`` for a sweep: ``workers`` processes (default: one per CPU) of one thread each,
    no dashboard, and :data:`CALM_CLUSTER`'s settings. The caller closes it (it is a context manager)."""
    import signal
    import threading

    import dask
    from distributed import LocalCluster

    # The workers start with Ctrl-C ignored (a process started with SIGINT ignored keeps it so): a Ctrl-C at the
    # terminal reaches every process of its group, and a worker interrupted mid-combination printed its
    # traceback; the sweep's own process stops the cluster instead. (Only the main thread may set a handler.)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        # A worker takes its settings when it starts (its nanny passes them on), so they need only hold here.
        with dask.config.set(CALM_CLUSTER):
            return LocalCluster(n_workers=_worker_count(workers), threads_per_worker=1,  # type: ignore[no-untyped-call]
                                processes=True, dashboard_address=None)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class DaskExecutor:
    """A Dask cluster: the scheduler at ``scheduler`` (``tcp://host:8786``), or a new :func:`local_cluster` of
    ``workers`` processes, closed after the sweep."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self.scheduler = scheduler
        self.workers = workers

    def run(self, base: ScenarioConfig, prices: PriceData, tasks: Sequence[Task], on_row: OnRow) -> None:
        """Scatter the prices to every worker once, submit the tasks, call ``on_row`` as rows arrive."""
        from eventbt.errors import PluginError

        try:
            from distributed import Client, as_completed
        except ImportError:
            raise PluginError("the dask executor needs dask.distributed: pip install 'eventbt[dask]'",
                              reference="distributed") from None
        cluster = None if self.scheduler is not None else local_cluster(self.workers)
        try:
            # distributed ships no type hints for these calls
            with Client(self.scheduler if cluster is None else cluster) as client:  # type: ignore[no-untyped-call]
                # Both scattered at once and every task submitted at once: one message each. hash=False: a key
                # from the data's hash would pickle the panel once more only to hash it (3 ms at 100 x 2,520).
                shared_base, shared_prices = client.scatter([base, prices], broadcast=True, hash=False)
                count = len(tasks)
                ordered = snake_order(tasks, sum(client.nthreads().values()))
                futures = dict(zip(client.map(run_task, [shared_base] * count, [shared_prices] * count, ordered,
                                              pure=False), ordered, strict=True))
                for future in as_completed(futures):  # type: ignore[no-untyped-call]
                    if future.status == "finished":
                        on_row(future.result())
                    else:  # lost too many times (KilledWorker) or cancelled
                        on_row(_failed_row(futures[future], f"{type(future.exception()).__name__}: "
                                                            f"{future.exception()}"))
        finally:
            if cluster is not None:
                cluster.close()
