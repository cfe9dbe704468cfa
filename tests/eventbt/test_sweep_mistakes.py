"""Sweeps under mistakes: an unseeded random sample resumed without losing rows, a sample larger than the
grid, every combination failing, and an [audit] path the runs would all write to."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.errors import SweepError
from eventbt.scenario.plugins import IMPORT_HINT
from eventbt.sweeps.executors import SerialExecutor
from eventbt.sweeps.grid import sweep
from tests.eventbt.debug_fixtures import write_tiny

GRID = ["portfolio.initial_cash=1000,2000,3000,4000,5000,6000", "execution.commission.amount=1,2"]  # 12 combinations


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "sc"
    folder.mkdir()
    return write_tiny(folder)


def test_an_unseeded_random_sweep_records_its_seed_and_resumes_without_losing_rows(tiny: Path, tmp_path: Path) -> None:
    """--random 5 without --seed: a seed is drawn and recorded; after losing 3 rows, --resume (still no seed)
    reruns exactly those 3 and the ranking holds the same 5 combinations, the rows kept unchanged."""
    out = tmp_path / "sweep"
    first = sweep(tiny, GRID, random=5, executor=SerialExecutor(), out=out, heatmap=False)
    manifest = json.loads((out / "sweep.json").read_text())
    assert isinstance(first.seed, int) and manifest["seed"] == first.seed
    journal = (out / "results.jsonl").read_text().splitlines()
    kept = {json.loads(line)["combination"]: json.loads(line) for line in journal[:2]}
    (out / "results.jsonl").write_text("\n".join(journal[:2]) + "\n")
    ran: list[int] = []

    class Counting(SerialExecutor):
        def run(self, base, prices, tasks, on_row):  # type: ignore[no-untyped-def]
            ran.extend(task.index for task in tasks)
            super().run(base, prices, tasks, on_row)

    resumed = sweep(tiny, GRID, random=5, executor=Counting(), out=out, resume=True, heatmap=False)
    assert sorted(resumed.table["combination"]) == sorted(first.table["combination"])
    assert sorted(ran) == sorted(set(first.table["combination"]) - set(kept))
    assert len(pd.read_csv(out / "results.csv")) == 5
    for index, row in kept.items():
        assert resumed.table.set_index("combination").loc[index, "digest"] == row["digest"]


def test_a_sweep_written_without_a_recorded_seed_is_not_resumed(tiny: Path, tmp_path: Path) -> None:
    """A folder from before seeds were recorded ("seed": null) cannot draw its sample again: refused."""
    out = tmp_path / "sweep"
    sweep(tiny, GRID, random=3, seed=1, executor=SerialExecutor(), out=out, heatmap=False)
    manifest = json.loads((out / "sweep.json").read_text())
    (out / "sweep.json").write_text(json.dumps({**manifest, "seed": None}))
    with pytest.raises(SweepError, match="drew its random sample without a recorded seed"):
        sweep(tiny, GRID, random=3, executor=SerialExecutor(), out=out, resume=True)


def test_random_larger_than_the_grid_says_so(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--random 20 on a 12-point grid runs the 12 and says so, from Python (notes) and on the command line."""
    result = sweep(tiny, GRID, random=20, seed=3, executor=SerialExecutor(), heatmap=False)
    assert len(result.table) == 12
    note = "--random 20 asks for more combinations than the grid has (12): running all 12"
    assert result.notes == (note,)
    argv = ["sweep", str(tiny), *[a for g in GRID for a in ("--grid", g)], "--random", "20", "--seed", "3",
            "--executor", "serial", "--out", str(tmp_path / "cli"), "--quiet"]
    assert main(argv) == 0
    assert f"eventbt: note: {note}\n" in capsys.readouterr().err


def test_a_sweep_whose_combinations_all_fail_prints_the_first_error_and_exits_2(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every combination names a cost model that cannot be imported: results still written, the first error
    printed, exit 2; with one failure among successes: exit 0 and a note with that error."""
    argv = ["sweep", str(tiny), "--grid", "execution.commission.model=nope:X,nope:Y", "--executor", "serial",
            "--out", str(tmp_path / "all"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"eventbt: error: every combination failed (2); the first: combination 0 "
                   f"(execution.commission.model=nope:X): ScenarioError: {tiny} (--set execution.commission.model="
                   "nope:X): [execution.commission] cannot "
                   "import 'nope:X': no module named 'nope'" + IMPORT_HINT + "\n")
    assert len(pd.read_csv(tmp_path / "all" / "results.csv")) == 2
    argv = ["sweep", str(tiny), "--grid", "execution.commission.model=fixed,nope:Y", "--set",
            "execution.commission.amount=1", "--executor", "serial", "--out", str(tmp_path / "some"), "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().err.startswith("eventbt: note: 1 of 2 combinations failed; the first: combination 1 ")


def test_an_audit_path_is_refused_by_sweeps(tiny: Path, tmp_path: Path) -> None:
    """Every combination would write its log to one [audit] path: a sweep refuses it, and an audit.* grid key."""
    with pytest.raises(SweepError, match=r"the scenario's \[audit\] path 'log.jsonl' would have every combination"):
        sweep(tiny, GRID, overrides=["audit.path=log.jsonl"], executor=SerialExecutor(), out=tmp_path / "a")
    with pytest.raises(SweepError, match=r"audit\.\* cannot be swept"):
        sweep(tiny, ["audit.path=a.jsonl,b.jsonl"], executor=SerialExecutor(), out=tmp_path / "b")
    assert not (tiny.parent / "log.jsonl").exists() and not (tmp_path / "a").exists()
