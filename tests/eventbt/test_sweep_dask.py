"""The Dask executor: a LocalCluster of two worker processes gives the local pool's rows, digest for digest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eventbt.sweeps.grid import sweep

distributed = pytest.importorskip("distributed")

SCENARIO = Path(__file__).parents[2] / "scenarios" / "ema_next_open.toml"
# 2 x 2, tiny on purpose: top_n = 0 fails in the worker, the other two run (about 0.3 s each).
GRID = ["strategy.params.fast_span=5,10", "strategy.params.top_n=0,2"]
COLUMNS = ["combination", "strategy.params.fast_span", "strategy.params.top_n", "digest", "status", "error",
           "final_value", "sharpe", "trades"]


@pytest.fixture(scope="module")
def scheduler_address() -> Iterator[str]:
    """A two-worker LocalCluster (processes, one thread each, no dashboard), closed after the module."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


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
    """The executor scatters the prices (and the base scenario) to every worker once, then submits tasks that
    carry only the scattered handle and a combination's overrides: 8 combinations, 1 copy of the panel."""
    from eventbt.bench import workloads
    from eventbt.sweeps.executors import DaskExecutor, Task

    calls: dict[str, list[object]] = {"scatter": [], "submit": []}

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

        def scatter(self, value: object, broadcast: bool = False) -> object:
            calls["scatter"].append((type(value).__name__, broadcast))
            return ("handle", type(value).__name__)

        def submit(self, function: object, *arguments: object, pure: bool = True) -> Future:
            calls["submit"].append(arguments)
            return Future({"combination": arguments[2].index})  # type: ignore[attr-defined]

    monkeypatch.setattr(distributed, "Client", FakeClient)
    monkeypatch.setattr(distributed, "as_completed", lambda futures: list(futures))
    prices = workloads.gbm_prices(3, 30)
    tasks = [Task(index=k, overrides=(f"strategy.params.top_n={k}",)) for k in range(1, 9)]
    rows: list[object] = []
    DaskExecutor("tcp://fake:1").run(workloads.rotation_config(), prices, tasks, rows.append)
    assert calls["scatter"] == [("PriceData", True), ("ScenarioConfig", True)]
    assert len(calls["submit"]) == 8 and len(rows) == 8
    for arguments in calls["submit"]:
        _, shared_prices, task = arguments
        assert shared_prices == ("handle", "PriceData")  # the scattered handle, never the panel itself
        assert not any(argument is prices for argument in arguments)
        assert isinstance(task, Task)
