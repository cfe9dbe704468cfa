"""The local executor when a worker process dies mid-sweep: only its in-flight tasks are lost, and retried."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from eventbt.sweeps.grid import sweep

ROOT = Path(__file__).parents[2]
SCENARIO = ROOT / "scenarios" / "ema_next_open.toml"
FIXTURES = "tests.eventbt.sweep_fixtures"
# Three combinations on two workers: fast_span = 5 (combination 0, the first one handed out) crashes while
# combination 1 is running on the other worker, and combination 2 is still queued.
GRID = ["strategy.params.fast_span=5,10,20"]


def base_overrides(generator: str, marker: Path) -> list[str]:
    """Overrides that swap in a crashing fixture class for the scenario's strategy (crashing at fast_span 5)."""
    return [f'strategy.name="{FIXTURES}:{generator}"', f"strategy.params.marker={json.dumps(str(marker))}",
            "strategy.params.crash_fast_span=5"]


def single_run(overrides: Sequence[str]) -> dict[str, Any]:
    """The summary of one scenario run in this process, outside any sweep."""
    result = Simulation(ScenarioConfig.from_toml(SCENARIO, overrides), audit=True).run()
    assert result is not None
    return result.summary


@pytest.fixture
def pool_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the process pools the local executor starts (one entry, its worker count, per pool)."""
    starts: list[int] = []
    original = concurrent.futures.ProcessPoolExecutor

    class CountingPool(original):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
            starts.append(max_workers or 0)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    # Spawned workers start from this process's sys.path: make sure the repository root (home of `tests.`) is on it.
    monkeypatch.syspath_prepend(str(ROOT))
    return starts


def test_a_worker_lost_once_costs_one_retry_and_every_combination_ends_ok(
        tmp_path: Path, pool_starts: list[int]) -> None:
    """A worker killed once: the pool is rebuilt, every combination ends ok with its single-run digest."""
    marker = tmp_path / "crashed"
    overrides = base_overrides("CrashOnce", marker)
    result = sweep(SCENARIO, GRID, overrides=overrides, workers=2, out=tmp_path / "sweep", heatmap=False)
    assert marker.read_text() == "crashed\n"  # the crash really happened, once
    assert len(pool_starts) >= 2  # the first pool broke and another one finished the sweep
    table = result.table.sort_values("combination")
    assert list(table["combination"]) == [0, 1, 2]
    assert list(table["status"]) == ["ok", "ok", "ok"], list(table["error"])
    # Every row, the crashed one included, equals the same combination run on its own (the marker now
    # exists, so the fixture runs normally), and the fixture otherwise behaves as the plain strategy.
    for _, row in table.iterrows():
        alone = single_run([*overrides, *row["overrides"].split(" ")])
        assert row["digest"] == alone["digest"]
        plain = single_run(row["overrides"].split(" "))
        assert row["final_value"] == plain["final_value"]
        assert row["trades"] == plain["trades"]
    # One journal line per combination: nothing lost, nothing recorded twice.
    journal = [json.loads(line) for line in (tmp_path / "sweep" / "results.jsonl").read_text().splitlines()]
    assert sorted(row["combination"] for row in journal) == [0, 1, 2]


def test_a_combination_that_always_kills_its_worker_fails_and_the_others_finish(
        tmp_path: Path, pool_starts: list[int]) -> None:
    """A combination killing its worker every time is recorded failed after the retries; the rest end ok."""
    marker = tmp_path / "crashes"
    result = sweep(SCENARIO, GRID, overrides=base_overrides("CrashAlways", marker), workers=2, heatmap=False)
    table = result.table.set_index("combination")
    assert table.loc[0, "status"] == "failed"
    assert table.loc[0, "error"] == "BrokenProcessPool: the worker process running this combination died 4 times"
    # The shared two-worker pool broke once; the retries ran alone, in one-worker pools, then the rest went on.
    assert pool_starts[0] == 2 and 1 in pool_starts[1:]
    # The first run plus three retries (the executor's default max_restarts), each a crash.
    assert marker.read_text() == "crashed\n" * 4
    assert list(table.loc[[1, 2], "status"]) == ["ok", "ok"], list(table["error"])
    for index in (1, 2):
        assert table.loc[index, "digest"] == single_run(
            [*base_overrides("CrashAlways", marker), table.loc[index, "overrides"]])["digest"]

