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
