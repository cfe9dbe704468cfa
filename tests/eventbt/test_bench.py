"""`eventbt bench`: every workload runs at the tiny size and the JSON output parses (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventbt.bench.runner import format_table, run_benchmarks
from eventbt.bench.workloads import gbm_prices
from eventbt.cli import main


def test_bench_json_lists_every_workload_with_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt bench --size tiny --json` reports the loop and the engine for rotation, daily, the bus against its
    floor, start-up against `import pandas`, a Dask sweep against a serial one and bt against eventbt, parseable
    (the scale workload runs at the large size only)."""
    assert main(["bench", "--size", "tiny", "--repeat", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["results"]
    assert [(row["workload"], row["variant"]) for row in rows] == [
        ("rotation", "plain numpy loop"), ("rotation", "eventbt, audit to file"), *PARTS,
        ("daily", "eventbt, audit to file"),
        ("bus", "floor (deque + dict)"), ("bus", "audit off"), ("bus", "audit in memory"), ("bus", "audit to file"),
        ("startup", "python -c 'import pandas'"), ("startup", "eventbt run (small scenario)"),
        ("sweep", "8 combinations, serial"), ("sweep", "8 combinations, Dask 2 workers"),
        ("bt", "eventbt, audit to file"), ("bt", "bt (no audit, no slippage)")]
    for row in rows:  # (a part can round to 0 s at this size, and the rest fall below: see the parts' own test)
        assert (row["seconds"] > 0 or row["workload"] == "parts") and row["maxrss_mb"] > 0
    # The bus moves exactly the events its source yields (2,000 at the tiny size), floor included.
    assert {row["events"] for row in rows if row["workload"] == "bus"} == {2_000}
    assert all(row["ratio_to_floor"] is not None for row in rows if row["workload"] == "bus")
    row = {(row["workload"], row["variant"]): row for row in rows}
    loop, engine = row["rotation", "plain numpy loop"], row["rotation", "eventbt, audit to file"]
    assert (engine["symbols"], engine["bars"]) == (5, 150) and engine["equity_equal"] is True
    # Each ratio is its row's seconds over its yardstick's (worked out before the seconds were rounded: _ratio_of
    # allows for that rounding and the ratio's own).
    assert _ratio_of(engine["ratio_to_loop"], engine["seconds"], loop["seconds"])
    assert len(engine["digest"]) == 64 and engine["audit_bytes"] > 0
    startup, pandas = row["startup", "eventbt run (small scenario)"], row["startup", "python -c 'import pandas'"]
    assert _ratio_of(startup["ratio_to_pandas"], startup["seconds"], pandas["seconds"])
    serial, dask = row["sweep", "8 combinations, serial"], row["sweep", "8 combinations, Dask 2 workers"]
    assert [serial["events"], dask["events"]] == [8, 8]  # every combination ran on both
    assert _ratio_of(dask["speedup"], serial["seconds"], dask["seconds"])
    bt, ours = row["bt", "bt (no audit, no slippage)"], row["bt", "eventbt, audit to file"]
    assert _ratio_of(bt["ratio_to_eventbt"], bt["seconds"], ours["seconds"])


PARTS = [("parts", variant) for variant in (
    "plain numpy loop", "eventbt, audit to file", "eventbt, no audit log", "part: the audit log (to file less none)",
    "part: building the run (data checks)", "part: the result frames", "part: creating the run's events",
    "part: the cost models, 2 calls a fill", "floor: the loop and the parts", "rest: the handlers' own work")]


def test_bench_parts_add_up_to_the_floor_and_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt bench --workload parts`: the audit log's part is the run with it less the run without; the floor is
    the loop and the five parts; the rest is the run without a log less the floor's other parts. Checked on the
    JSON's rounded seconds (each within 5e-5 s of the unrounded one, so a sum of n within n * 5e-5 more); the
    fills it counts are the run's trades, counted from the result's trade table."""
    from eventbt.bench import workloads
    from eventbt.simulation import Simulation

    assert main(["bench", "--workload", "parts", "--size", "tiny", "--repeat", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [(row["workload"], row["variant"]) for row in rows] == PARTS
    part = {row["variant"]: row["seconds"] for row in rows}
    parts = [part[name] for name in PARTS_NAMES]
    assert abs(part["part: the audit log (to file less none)"]
               - (part["eventbt, audit to file"] - part["eventbt, no audit log"])) <= 3 * 5e-5
    assert abs(part["floor: the loop and the parts"] - (part["plain numpy loop"] + sum(parts))) <= 7 * 5e-5
    assert abs(part["rest: the handlers' own work"]
               - (part["eventbt, no audit log"] - part["plain numpy loop"] - sum(parts[1:]))) <= 7 * 5e-5
    assert part["plain numpy loop"] > 0 and all(row["ratio_to_loop"] is not None for row in rows)
    trades = Simulation(workloads.rotation_config(), prices=workloads.gbm_prices(*workloads.ROTATION_SIZES["tiny"]),
                        audit=False).run().trades
    assert {row["fills"] for row in rows} == {len(trades)} and len(trades) > 0
    events = {row["variant"]: row["events"] for row in rows}
    # The quiet bars' events are delivered, not created.
    assert 0 < events["part: creating the run's events"] < events["eventbt, no audit log"]


PARTS_NAMES = ("part: the audit log (to file less none)", "part: building the run (data checks)",
               "part: the result frames", "part: creating the run's events", "part: the cost models, 2 calls a fill")


def _ratio_of(ratio: float, numerator: float, denominator: float) -> bool:
    """Whether a row's ratio, rounded to 0.01, is ``numerator / denominator`` of the unrounded seconds, when the
    JSON gives the seconds rounded to 0.1 ms (each within 5e-5 s): the quotient of the rounded ones can be off by
    ``ratio * (5e-5 / numerator + 5e-5 / denominator)`` at most, to first order, and the ratio by 0.005 more."""
    bound = 0.005 + (numerator / denominator) * (5e-5 / numerator + 5e-5 / denominator) * 1.01 + 1e-9
    return abs(ratio - numerator / denominator) <= bound


def test_bench_table_has_a_line_per_figure(capsys: pytest.CaptureFixture[str]) -> None:
    """The text output is a header and one line per measured variant."""
    assert main(["bench", "--workload", "bus", "--size", "tiny", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["workload", "variant", "size"]
    assert len(lines) == 1 + 4


def test_bench_rejects_a_repeat_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    """--repeat 0 is a one-line usage error (exit 2)."""
    assert main(["bench", "--repeat", "0"]) == 2
    assert "--repeat" in capsys.readouterr().err


def test_rotation_digest_is_the_same_run_after_run() -> None:
    """The generated workload is deterministic: two runs give the same audit digest."""
    first = run_benchmarks("rotation", "tiny", repeat=1)[1]
    second = run_benchmarks("rotation", "tiny", repeat=1)[1]
    assert first["digest"] == second["digest"]
    assert first["events"] == second["events"]
    assert "rotation" in format_table([first])


def test_gbm_prices_are_seeded_positive_and_on_business_days() -> None:
    """Same seed, same closes; closes are positive; dates are weekdays, increasing."""
    a, b = gbm_prices(3, 40, seed=11), gbm_prices(3, 40, seed=11)
    assert (a.close == b.close).all()
    assert (a.close > 0).all()
    assert a.symbols == ("S0000", "S0001", "S0002")
    days = a.dates.astype("datetime64[D]")
    assert (days[1:] > days[:-1]).all()
    # 1970-01-01 was a Thursday: (days + 3) % 7 gives 0 for Monday ... 4 for Friday.
    assert ((days.astype("int64") + 3) % 7 < 5).all()


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_the_plain_loop_gives_the_engines_equity_bit_for_bit(size: str) -> None:
    """The benchmark's yardstick, a plain loop written from the documented rules, and the engine agree on
    every bar's total value exactly (so timing one against the other compares the same work)."""
    import numpy as np

    from eventbt.bench import workloads
    from eventbt.bench.loop import rotation_loop
    from eventbt.simulation import Simulation

    symbols, bars = workloads.ROTATION_SIZES[size]
    prices = workloads.gbm_prices(symbols, bars)
    result = Simulation(workloads.rotation_config(), prices=prices, audit=False).run()
    assert result is not None and result.summary["trades"] > 0
    loop = rotation_loop(prices.close, prices.dates, **workloads.loop_rules())
    assert np.array_equal(result.equity["total_value"].to_numpy(), loop)


def test_bt_picks_what_eventbt_picks_at_every_rebalance() -> None:
    """The bt version of the rotation (eventbt/bench/peer_bt.py) makes the same decisions as the engine: the same
    symbols at the same month-end bars, checked here independently of the benchmark's own check. bt's picks come
    from pandas' ewm, eventbt's from its own EMA update: two implementations of the docs' rule."""
    from eventbt.bench.peer_bt import bt_rotation
    from eventbt.bench.workloads import ROTATION_SIZES, bt_rules, rotation_config
    from eventbt.simulation import Simulation

    prices = gbm_prices(*ROTATION_SIZES["small"])  # at tiny the bench JSON test runs the bench's own check
    simulation = Simulation(rotation_config(), prices=prices)
    simulation.run()
    ours = {record.bar: sorted(record.weights) for record in simulation.history.signals}
    picks = bt_rotation(prices.close, prices.dates, **bt_rules()).picks
    assert ours and ours == {bar: sorted(chosen) for bar, chosen in picks.items()}


def test_bench_bt_without_bt_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Asked for by name, the bt workload without bt installed is a one-line error naming the package; among all
    the workloads it is left out."""
    import eventbt.bench.peer_bt as peer

    monkeypatch.setattr(peer, "bt_available", lambda: False)
    assert main(["bench", "--workload", "bt", "--size", "tiny", "--repeat", "1"]) != 0
    assert "pip install bt" in capsys.readouterr().err
    from eventbt.bench.runner import _bt_workload

    assert _bt_workload("tiny", 1, tmp_path, required=False) == []
