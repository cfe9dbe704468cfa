"""Every JSON file eventbt writes is strict JSON: no NaN or Infinity, a non-finite number is written as null.

Each file is read back with a parser that refuses the non-standard constants (``parse_constant`` raises), as a
browser's ``JSON.parse`` or a strict reader in another language would.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.prices import PriceData
from eventbt.results.result import finite_or_null, strict_json
from eventbt.simulation import Simulation
from eventbt.sweeps.executors import OnRow, SerialExecutor, Task
from eventbt.sweeps.grid import sweep
from tests.properties.scripted import scripted_config

SCENARIO = Path(__file__).parents[2] / "scenarios" / "ema_next_open.toml"


def _strict(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_the_strict_reader_refuses_what_plain_json_dumps_writes() -> None:
    """The reader used below does refuse ``NaN`` (so the tests can fail)."""
    with pytest.raises(ValueError, match="not strict JSON: NaN"):
        _strict(json.dumps({"x": math.nan}))


def test_summary_json_writes_non_finite_figures_as_null(tmp_path: Path) -> None:
    """A summary holding NaN and infinities is written with null in their place, the rest unchanged."""
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    simulation = Simulation(scripted_config({}, data={"path": "prices.csv"}),
                            prices=PriceData(dates=dates, symbols=("A",), close=np.array([[10.0], [11.0]])))
    result = simulation.run()
    assert result is not None
    result.summary.update(sharpe=math.nan, cagr=math.inf, money_weighted_return=-math.inf)
    result.write(tmp_path)
    written = _strict((tmp_path / "summary.json").read_text())
    assert (written["sharpe"], written["cagr"], written["money_weighted_return"]) == (None, None, None)
    assert written["final_value"] == result.summary["final_value"] == 100_000.0


class NanSharpe(SerialExecutor):
    """A serial executor whose rows have a Sharpe ratio of NaN (a figure a run could leave undefined)."""

    def run(self, base: Any, prices: Any, tasks: Sequence[Task], on_row: OnRow) -> None:
        super().run(base, prices, tasks, lambda row: on_row({**row, "sharpe": math.nan}))


def test_the_sweep_journal_and_manifest_are_strict_json(tmp_path: Path) -> None:
    """results.jsonl (one row per line) and sweep.json read back strictly; the NaN Sharpe is null, and resume
    reads the null back as a missing value."""
    grid = ["strategy.params.fast_span=5,10"]
    sweep(SCENARIO, grid, executor=NanSharpe(), out=tmp_path, heatmap=False)
    rows = [_strict(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [row["sharpe"] for row in rows] == [None, None]
    _strict((tmp_path / "sweep.json").read_text())
    resumed = sweep(SCENARIO, grid, executor=SerialExecutor(), out=tmp_path, resume=True, heatmap=False)
    assert resumed.table["sharpe"].isna().all()


@pytest.mark.parametrize(("value", "text"), [
    ({"a": 0.1, "b": [1e-300, -2.5], "c": "x"}, '{"a": 0.1, "b": [1e-300, -2.5], "c": "x"}'),
    ({"a": math.nan, "b": (math.inf, 1.0)}, '{"a": null, "b": [null, 1.0]}'),
    ({"a": np.float64(0.30000000000000004), "b": np.int64(3)}, '{"a": 0.30000000000000004, "b": 3}'),
])
def test_strict_json_writes_finite_numbers_as_json_dumps_does(value: Any, text: str) -> None:
    """Finite floats keep their exact text (so files of ordinary runs do not change); non-finite become null."""
    assert strict_json(value) == text
    assert finite_or_null(value) == _strict(text)
