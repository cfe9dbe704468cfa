"""The Dask executor: a LocalCluster of two worker processes gives the local pool's rows, digest for digest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventbt.sweeps.grid import sweep

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

SCENARIO = Path(__file__).parents[2] / "scenarios" / "ema_next_open.toml"
# 2 x 2, tiny on purpose: top_n = 0 fails in the worker, the other two run (about 0.3 s each).
GRID = ["strategy.params.fast_span=5,10", "strategy.params.top_n=0,2"]
COLUMNS = ["combination", "strategy.params.fast_span", "strategy.params.top_n", "digest", "status", "error",
           "final_value", "sharpe", "trades"]
CALM_KEYS = ("distributed.worker.profile.enabled", "distributed.admin.tick.interval",
             "distributed.admin.system-monitor.interval")
SETTINGS_AT_IMPORT = [dask.config.get(key) for key in CALM_KEYS]  # before any cluster of this module


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """The two-worker LocalCluster a sweep starts (processes, one thread each, no dashboard), closed after the
    module."""
    from eventbt.sweeps.executors import local_cluster

    with local_cluster(2) as started:
        yield started


@pytest.fixture
def scheduler_address(cluster: Any) -> str:
    return str(cluster.scheduler_address)


def test_the_sweeps_own_cluster_runs_calm(cluster: Any) -> None:
    """Every server of :func:`local_cluster` started with CALM_CLUSTER's settings: the workers keep no profiler,
    and the scheduler, the nannies and the workers check their event loop every 1 s (Dask: 20 ms) and measure the
    machine every 5 s (Dask: 500 ms). This process's own Dask settings are as they were before the start."""
    from eventbt.sweeps.executors import CALM_CLUSTER

    def timers(dask_worker: Any) -> dict[str, float]:
        """A Dask server's periodic work: each timer's name and interval in ms. Self-contained: ``client.run``
        runs it on the workers, which cannot import this test module."""
        return {name: timer.callback_time for name, timer in dask_worker.periodic_callbacks.items()}

    with distributed.Client(cluster) as client:
        on_workers = client.run(timers)
    servers = [*on_workers.values(), timers(cluster.scheduler), *map(timers, cluster.workers.values())]
    assert len(servers) == 1 + 2 + 2
    assert all(found["tick"] == 1_000 and found["monitor"] == 5_000 for found in servers)
    assert all("profile" not in found and "profile-cycle" not in found for found in on_workers.values())
    assert list(CALM_CLUSTER) == list(CALM_KEYS)
    assert [dask.config.get(key) for key in CALM_KEYS] == SETTINGS_AT_IMPORT


def test_the_sweeps_own_workers_ignore_ctrl_c(cluster: Any) -> None:
    """A Ctrl-C reaches every process of the terminal's group: the workers of :func:`local_cluster` ignore it (the
    sweep's process stops the cluster), so an interrupted sweep prints no worker tracebacks. This process keeps
    its own handler."""
    import signal

    def sigint_handler() -> str:
        """Self-contained: run on each worker by ``client.run``."""
        import signal

        return str(signal.getsignal(signal.SIGINT))

    with distributed.Client(cluster) as client:
        found = client.run(sigint_handler)
    assert len(found) == 2 and set(found.values()) == {str(signal.SIG_IGN)}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_dask_and_local_executors_give_the_same_rows(scheduler_address: str, tmp_path: Path) -> None:
    """Every combination has the same status, error, figures and digest on Dask as on the process pool."""
    on_dask = sweep(SCENARIO, GRID, executor="dask", scheduler=scheduler_address, out=tmp_path / "dask").table
    local = sweep(SCENARIO, GRID, executor="local", workers=2, out=tmp_path / "local").table
    assert sorted(on_dask["combination"]) == [0, 1, 2, 3]
    assert list(on_dask["status"]) == ["ok", "ok", "failed", "failed"]
    dask_rows = on_dask[COLUMNS].sort_values("combination").to_dict("records")
    local_rows = local[COLUMNS].sort_values("combination").to_dict("records")
    assert repr(dask_rows) == repr(local_rows)  # repr: NaN in failed rows compares equal as text
    assert (tmp_path / "dask" / "results.parquet").exists()


def test_resume_on_dask_runs_nothing_twice(scheduler_address: str, tmp_path: Path) -> None:
    """A finished Dask sweep resumed finds every combination recorded and keeps the same table."""
    first = sweep(SCENARIO, GRID[:1], executor="dask", scheduler=scheduler_address, out=tmp_path)
    journal = (tmp_path / "results.jsonl").read_text()
    again = sweep(SCENARIO, GRID[:1], executor="dask", scheduler=scheduler_address, out=tmp_path, resume=True)
    assert (tmp_path / "results.jsonl").read_text() == journal
    assert list(again.table["digest"]) == list(first.table["digest"])


def test_the_price_panel_is_shipped_once_not_per_combination(monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor scatters the prices and the base scenario to every worker once, in one call, then submits
    the tasks in one call, each carrying only the scattered handles and a combination's overrides: 8
    combinations, 1 copy of the panel."""
    from eventbt.bench import workloads
    from eventbt.sweeps.executors import DaskExecutor, Task

    calls: dict[str, list[Any]] = {"scatter": [], "map": []}

    class Future:
        status = "finished"

        def __init__(self, value: object) -> None:
            self.value = value

        def result(self) -> object:
            return self.value

    class FakeClient:
        def __init__(self, address: str) -> None:
            assert address == "tcp://fake:1"

        def __enter__(self) -> FakeClient:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def scatter(self, values: list[object], broadcast: bool = False, hash: bool = True) -> list[object]:
            calls["scatter"].append(([type(value).__name__ for value in values], broadcast, hash))
            return [("handle", type(value).__name__) for value in values]

        def nthreads(self) -> dict[str, int]:
            return {"tcp://worker:1": 1, "tcp://worker:2": 1}

        def map(self, function: object, *columns: list[Any], pure: bool = True) -> list[Future]:
            calls["map"].append(columns)
            return [Future({"combination": task.index}) for task in columns[2]]

    monkeypatch.setattr(distributed, "Client", FakeClient)
    monkeypatch.setattr(distributed, "as_completed", lambda futures: list(futures))
    prices = workloads.gbm_prices(3, 30)
    tasks = [Task(index=k, overrides=(f"strategy.params.top_n={k}",)) for k in range(1, 9)]
    rows: list[Any] = []
    DaskExecutor("tcp://fake:1").run(workloads.rotation_config(), prices, tasks, rows.append)
    assert calls["scatter"] == [(["ScenarioConfig", "PriceData"], True, False)]
    [(bases, shared, submitted)] = calls["map"]
    # in the snake order for its two worker threads (tests/eventbt/test_sweep_order.py)
    assert [task.index for task in submitted] == [1, 2, 4, 3, 5, 6, 8, 7]
    assert sorted(row["combination"] for row in rows) == list(range(1, 9))
    assert bases == [("handle", "ScenarioConfig")] * 8
    assert shared == [("handle", "PriceData")] * 8  # the scattered handle, never the panel itself
