"""Determinism and no look-ahead, end to end on the bundled OHLCV scenario."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs
import numpy as np

import eventbt
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation, load_scenario_prices

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_next_open.toml"


def test_two_runs_give_the_same_digest_and_audit_bytes() -> None:
    """Running the same scenario twice gives identical audit lines (header aside) and digests."""
    first = eventbt.run(SCENARIO)
    second = eventbt.run(SCENARIO)
    assert first.digest == second.digest
    assert first.audit.lines()[1:-1] == second.audit.lines()[1:-1]


def test_digest_is_the_same_under_different_hash_seeds() -> None:
    """Subprocesses with PYTHONHASHSEED 0, 1 and 12345 print the same digest."""
    code = "import eventbt, sys; print(eventbt.run(sys.argv[1]).digest)"
    digests = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code, str(SCENARIO)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def _publish_records_until(records: list[dict], last_time: str) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in records if r["record"] == "publish" and r["time"] <= last_time]


def test_changing_prices_after_a_bar_changes_no_event_up_to_that_bar() -> None:
    """Perturbing every price after bar 300 leaves every event at or before bar 300 unchanged."""
    config = ScenarioConfig.from_toml(SCENARIO)
    prices = load_scenario_prices(config)
    cut = 300
    rng = np.random.default_rng(1)

    def perturbed(array: np.ndarray | None) -> np.ndarray | None:
        if array is None:
            return None
        changed = array.copy()
        changed[cut + 1:] *= rng.uniform(0.5, 1.5, size=changed[cut + 1:].shape)
        return changed

    other = attrs.evolve(prices, close=perturbed(prices.close), open=perturbed(prices.open),
                         high=None, low=None, volume=None)
    same = attrs.evolve(prices, high=None, low=None, volume=None)
    base = Simulation(config, prices=same).run()
    changed = Simulation(config, prices=other).run()
    assert base is not None and changed is not None
    last_time = str(prices.dates[cut])[:10] + "T23"
    before = _publish_records_until(base.audit.records(), last_time)
    after = _publish_records_until(changed.audit.records(), last_time)
    assert len(before) > 1000
    assert before == after
    assert base.digest != changed.digest  # the later bars did change


def test_the_wall_clock_appears_only_in_run_metadata() -> None:
    """Under a frozen clock the header's start time is the frozen one; the digest ignores it either way."""
    from freezegun import freeze_time

    with freeze_time("2030-01-02 03:04:05"):
        frozen = eventbt.run(SCENARIO)
    header, footer = frozen.audit.records()[0], frozen.audit.records()[-1]
    assert header["wall_clock"] == {"started": "2030-01-02T03:04:05+00:00"}
    assert footer["wall_clock"] == {"ended": "2030-01-02T03:04:05+00:00"}
    assert frozen.digest == eventbt.run(SCENARIO).digest
