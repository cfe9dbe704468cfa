"""Timing the workloads of :mod:`eventbt.bench.workloads`, each against a yardstick timed in the same run.

Seconds differ from machine to machine and from minute to minute on a shared one, so every figure that
matters is a ratio to something timed beside it, in the same process and interleaved with it:

- ``rotation``: the engine (audit log to a file) against :func:`eventbt.bench.loop.rotation_loop`, the same
  rules as one plain numpy loop; their equity curves are checked equal, bit for bit, before anything is
  reported (``vs loop``).
- ``parts``: the rotation's time taken apart (:mod:`eventbt.bench.parts`): the audit log, building the run,
  the result frames, creating the events, the cost models' calls, each against the loop; the loop and those
  parts are the floor the design sets, and the rest is the handlers' own work.
- ``daily``: the engine on a workload where every bar trades.
- ``bus``: trivial events through the bus (audit off, in memory, to a file) against a deque and a dict of
  handler lists moving the same number of tuples (``vs floor``).
- ``scale``: 3,000 symbols x 5,040 bars in a child process (its own peak memory), with the loop beside it.
- ``startup``: a whole ``eventbt run`` of a small scenario against ``python -c "import pandas"``, as processes.
- ``sweep``: eight combinations on a two-worker Dask cluster against the same eight run serially.
- ``bt``: the rotation in bt, the peer (:mod:`eventbt.bench.peer_bt`), against the engine on the same panel,
  interleaved; the picks of every rebalance are checked equal after the timing and before a ratio is printed
  (``x eventbt``). bt's time includes the statistics its ``run`` computes, as eventbt's includes its summary.
  Needs bt installed.

Each figure is the best of ``repeat`` runs. *Backtest seconds* run from building the
:class:`~eventbt.simulation.Simulation` to its :class:`~eventbt.results.Result` (audit log closed, digest
computed); data generation and imports happen before the clock starts. *Peak memory* is the tracemalloc
peak of one extra, untimed run (what the backtest itself allocates on top of the generated data; numpy
reports its arrays to tracemalloc); the process's ``maxrss`` is reported beside it.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventbt.bench import workloads

__all__ = ["WORKLOADS", "format_table", "run_benchmarks"]

WORKLOADS = workloads.WORKLOADS
SCALE = (3_000, 5_040)  # symbols, bars of the scale workload


def _maxrss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _best(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` calls of ``run`` (which returns the number of events it moved)."""
    best, events = float("inf"), 0
    for _ in range(max(1, repeat)):
        gc.collect()
        start = time.perf_counter()
        events = run()
        best = min(best, time.perf_counter() - start)
    return best, events


def _traced_peak_mb(run: Callable[[], int]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def _row(workload: str, variant: str, size: str, seconds: float, events: int, peak_mb: float | None,
         **extra: Any) -> dict[str, Any]:
    return {
        "workload": workload,
        "variant": variant,
        "size": size,
        "seconds": round(seconds, 4),
        "events": events,
        "events_per_s": round(events / seconds) if seconds > 0 else None,
        "peak_traced_mb": None if peak_mb is None else round(peak_mb, 1),
        "maxrss_mb": round(_maxrss_mb(), 1),
        **extra,
    }


def _simulation_workload(workload: str, size: str, repeat: int, folder: Path) -> list[dict[str, Any]]:
    from eventbt.simulation import Simulation

    if workload == "rotation":
        symbols, bars = workloads.ROTATION_SIZES[size]
        config = workloads.rotation_config()
    else:
        symbols, bars = workloads.DAILY_SIZES[size]
        config = workloads.daily_config()
    prices = workloads.gbm_prices(symbols, bars)
    audit_path = folder / f"{workload}-{size}.jsonl"
    digest = ""
    equity: Any = None

    def run() -> int:
        nonlocal digest, equity
        simulation = Simulation(config, prices=prices, audit_path=audit_path)
        result = simulation.run()
        assert result is not None
        digest = str(result.summary["digest"])
        equity = result.equity["total_value"].to_numpy()
        return simulation.bus.delivered

    shape = {"symbols": symbols, "bars": bars}
    if workload != "rotation":
        seconds, events = _best(run, repeat)
        return [_row(workload, "eventbt, audit to file", size, seconds, events, _traced_peak_mb(run), **shape,
                     per_symbol_day_us=round(seconds / (symbols * bars) * 1e6, 4),
                     audit_bytes=audit_path.stat().st_size, digest=digest)]
    from eventbt.bench.loop import rotation_loop

    loop_values: Any = None

    def loop() -> int:
        nonlocal loop_values
        loop_values = rotation_loop(prices.close, prices.dates, **workloads.loop_rules())
        return 0

    (engine_seconds, events), (loop_seconds, _) = _interleaved((run, loop), repeat)
    if not (equity == loop_values).all():
        raise AssertionError("the engine's equity differs from the plain loop's: the ratio would compare "
                             "different work")
    peak = _traced_peak_mb(run)
    return [
        _row(workload, "plain numpy loop", size, loop_seconds, 0, None, **shape, ratio_to_loop=1.0,
             per_symbol_day_us=round(loop_seconds / (symbols * bars) * 1e6, 4)),
        _row(workload, "eventbt, audit to file", size, engine_seconds, events, peak, **shape,
             ratio_to_loop=round(engine_seconds / loop_seconds, 2),
             per_symbol_day_us=round(engine_seconds / (symbols * bars) * 1e6, 4),
             audit_bytes=audit_path.stat().st_size, digest=digest, equity_equal=True),
    ]


def _interleaved(runs: tuple[Callable[[], int], ...], repeat: int) -> list[tuple[float, int]]:
    """Best time of each of ``runs``, taken in turn (A B A B ...) so that a drift of the machine's speed
    touches them alike."""
    best = [float("inf")] * len(runs)
    counts = [0] * len(runs)
    for _ in range(max(1, repeat)):
        for k, run in enumerate(runs):
            gc.collect()
            start = time.perf_counter()
            counts[k] = run()
            best[k] = min(best[k], time.perf_counter() - start)
    return list(zip(best, counts, strict=True))


_SCALE_CHILD = """
import json, resource, sys, time, tempfile, os
from eventbt.bench import workloads
from eventbt.bench.loop import rotation_loop
from eventbt.simulation import Simulation
symbols, bars = int(sys.argv[1]), int(sys.argv[2])
prices = workloads.gbm_prices(symbols, bars)
start = time.perf_counter()
loop = rotation_loop(prices.close, prices.dates, **workloads.loop_rules())
loop_seconds = time.perf_counter() - start
with tempfile.TemporaryDirectory() as folder:
    start = time.perf_counter()
    simulation = Simulation(workloads.rotation_config(), prices=prices, audit_path=os.path.join(folder, "a.jsonl"))
    result = simulation.run()
    seconds = time.perf_counter() - start
equal = bool((result.equity["total_value"].to_numpy() == loop).all())
# This process's own peak: Linux's VmHWM (ru_maxrss would also count the parent's size at the fork that started
# this process, which the kernel carries over exec); ru_maxrss elsewhere.
try:
    status = open("/proc/self/status").read()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "loop_seconds": loop_seconds, "events": simulation.bus.delivered,
                  "maxrss_kb": peak, "equal": equal}))
"""


def _scale_workload(repeat: int) -> list[dict[str, Any]]:
    """The rotation at 3,000 x 5,040 in a child process: time, its own peak memory, the loop beside it."""
    import json
    import subprocess

    symbols, bars = SCALE
    figures = json.loads(subprocess.run([sys.executable, "-c", _SCALE_CHILD, str(symbols), str(bars)],
                                        capture_output=True, text=True, check=True).stdout)
    if not figures["equal"]:
        raise AssertionError("the engine's equity differs from the plain loop's at the scale workload")
    peak_mb = figures["maxrss_kb"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return [_row("scale", "eventbt, audit to file (child process)", "3000x5040", figures["seconds"],
                 figures["events"], None, symbols=symbols, bars=bars,
                 ratio_to_loop=round(figures["seconds"] / figures["loop_seconds"], 2),
                 per_symbol_day_us=round(figures["seconds"] / (symbols * bars) * 1e6, 4),
                 child_maxrss_mb=round(peak_mb, 1), equity_equal=True)]


def _startup_workload(repeat: int, folder: Path) -> list[dict[str, Any]]:
    """``eventbt run`` of a small scenario as a whole process against ``python -c "import pandas"``."""
    import subprocess

    from eventbt.bench.workloads import small_scenario

    scenario = small_scenario(folder)
    commands = ([sys.executable, "-m", "eventbt", "run", str(scenario), "--quiet"],
                [sys.executable, "-c", "import pandas"])

    # As a user's machine runs them: with compiled bytecode cached (an environment that turns caching off, as
    # some containers do, would time the compiling of eventbt's sources instead); one untimed run writes it.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(commands[0], check=True, capture_output=True, env=environment)

    def timed(command: list[str]) -> Callable[[], int]:
        def run() -> int:
            subprocess.run(command, check=True, capture_output=True, env=environment)
            return 0
        return run

    (run_seconds, _), (pandas_seconds, _) = _interleaved((timed(commands[0]), timed(commands[1])),
                                                         max(repeat, 1))
    return [_row("startup", "python -c 'import pandas'", "process", pandas_seconds, 0, None, ratio_to_pandas=1.0),
            _row("startup", "eventbt run (small scenario)", "process", run_seconds, 0, None,
                 ratio_to_pandas=round(run_seconds / pandas_seconds, 2))]


_SWEEP_CHILD = """
import gc, json, sys, time
from eventbt.bench import workloads
from eventbt.sweeps.executors import DaskExecutor, SerialExecutor, Task, local_cluster
size, repeat = sys.argv[1], int(sys.argv[2])
symbols, bars = workloads.ROTATION_SIZES[size]
prices = workloads.gbm_prices(symbols, bars)
base = workloads.rotation_config()
tasks = [Task(index=k, overrides=(f"strategy.params.top_n={k}",)) for k in range(1, 9)]
best = {"serial": float("inf"), "dask": float("inf")}
done = {}
with local_cluster(2) as cluster:
    executors = {"serial": SerialExecutor(), "dask": DaskExecutor(cluster.scheduler_address)}
    for _ in range(repeat):
        for name, executor in executors.items():
            rows = []
            gc.collect()
            start = time.perf_counter()
            executor.run(base, prices, tasks, rows.append)
            best[name] = min(best[name], time.perf_counter() - start)
            done[name] = sum(1 for row in rows if row.get("status") == "ok")
print(json.dumps({"serial": best["serial"], "dask": best["dask"], "done": done}))
"""


def _sweep_workload(size: str, repeat: int) -> list[dict[str, Any]]:
    """Eight rotation combinations (top_n 1..8) serially and on a two-worker Dask LocalCluster started before the
    clock, in a child process (the cluster's servers stay out of this one); the best of ``repeat`` passes, so
    workers that have imported eventbt once are timed as a long-lived cluster's would be."""
    import importlib.util
    import json
    import subprocess

    if importlib.util.find_spec("distributed") is None:
        return []
    symbols, bars = workloads.ROTATION_SIZES[size]
    figures = json.loads(subprocess.run([sys.executable, "-c", _SWEEP_CHILD, size, str(max(2, repeat))],
                                        capture_output=True, text=True, check=True).stdout)
    return [_row("sweep", "8 combinations, serial", size, figures["serial"], figures["done"]["serial"], None,
                 symbols=symbols, bars=bars, speedup=1.0),
            _row("sweep", "8 combinations, Dask 2 workers", size, figures["dask"], figures["done"]["dask"], None,
                 symbols=symbols, bars=bars, speedup=round(figures["serial"] / figures["dask"], 2))]


def _bus_engine(n: int, audit_mode: str, folder: Path) -> Callable[[], int]:
    from eventbt.audit import AuditLog
    from eventbt.bus import Bus
    from eventbt.events import BarEndEvent, Event
    from eventbt.handler import Handler

    class Counter(Handler):
        name = "counter"
        subscribes = (BarEndEvent,)

        def __init__(self) -> None:
            self.seen = 0

        def on_bar_end(self, event: BarEndEvent) -> None:
            self.seen += 1

    class Ticks:
        """A source of ``n`` trivial events, one per simulated microsecond."""

        name = "ticks"

        def __init__(self) -> None:
            self.i = 0

        def peek_time(self) -> int | None:
            return self.i * 1_000 if self.i < n else None

        def pop(self) -> Event:
            i = self.i
            self.i = i + 1
            return BarEndEvent(id=i + 1, time_ns=i * 1_000, bar=i)

    def run() -> int:
        if audit_mode == "off":
            audit = AuditLog(enabled=False)
        elif audit_mode == "memory":
            audit = AuditLog()
        else:
            audit = AuditLog(folder / "bus.jsonl")
        bus = Bus(audit)
        counter = Counter()
        bus.add(counter)
        bus.attach_source(Ticks())
        bus.run()
        audit.close("completed")
        assert counter.seen == n
        return bus.delivered

    return run


def _bus_floor(n: int) -> Callable[[], int]:
    """The floor: a deque and a dict of handler lists moving ``n`` plain tuples, one handler each."""

    def run() -> int:
        seen = [0]

        def handler(item: tuple[int, int]) -> None:
            seen[0] += 1

        routes: dict[type, list[Callable[[tuple[int, int]], None]]] = {tuple: [handler]}
        queue: deque[tuple[int, int]] = deque()
        moved = 0
        for i in range(n):
            queue.append((i * 1_000, i))
            while queue:
                item = queue.popleft()
                for hook in routes[item.__class__]:
                    hook(item)
                moved += 1
        assert seen[0] == n
        return moved

    return run


def _bt_workload(size: str, repeat: int, folder: Path, *, required: bool) -> list[dict[str, Any]]:
    """The rotation in bt against the engine (audit log to a file), interleaved, once both are seen to pick
    the same symbols at every rebalance. Without bt: nothing when running every workload, an error when asked
    for this one."""
    from eventbt.bench.peer_bt import bt_available, bt_rotation
    from eventbt.errors import PluginError
    from eventbt.simulation import Simulation

    if not bt_available():
        if required:
            raise PluginError("--workload bt times the rotation in bt, which is not installed here (pip install bt; "
                              "the test extra has it)", reference="bt")
        return []
    import bt  # noqa: F401  # imported before the clock starts, as everything else is

    symbols, bars = workloads.ROTATION_SIZES[size]
    prices = workloads.gbm_prices(symbols, bars)
    rules = workloads.bt_rules()
    audit_path = folder / f"bt-{size}.jsonl"
    outcome: dict[str, Any] = {}

    def engine() -> int:  # only the run is timed: the picks are compared after
        simulation = Simulation(workloads.rotation_config(), prices=prices, audit_path=audit_path)
        assert simulation.run() is not None
        outcome["eventbt"] = simulation.history.signals
        return simulation.bus.delivered

    def peer() -> int:
        outcome["bt"] = bt_rotation(prices.close, prices.dates, **rules).picks
        return 0

    (engine_seconds, events), (bt_seconds, _) = _interleaved((engine, peer), repeat)
    ours = {int(record.bar): sorted(record.weights) for record in outcome["eventbt"]}
    if ours != {bar: sorted(chosen) for bar, chosen in outcome["bt"].items()}:
        raise AssertionError("bt and eventbt pick different symbols: the ratio would compare different work")
    shape = {"symbols": symbols, "bars": bars}
    return [_row("bt", "eventbt, audit to file", size, engine_seconds, events, None, **shape, ratio_to_eventbt=1.0),
            _row("bt", "bt (no audit, no slippage)", size, bt_seconds, 0, None, **shape,
                 ratio_to_eventbt=round(bt_seconds / engine_seconds, 2))]


def _bus_workload(size: str, repeat: int, folder: Path) -> list[dict[str, Any]]:
    n = workloads.BUS_SIZES[size]
    floor_seconds, floor_events = _best(_bus_floor(n), repeat)
    rows = [_row("bus", "floor (deque + dict)", size, floor_seconds, floor_events, None, ratio_to_floor=1.0)]
    for mode, label in (("off", "audit off"), ("memory", "audit in memory"), ("file", "audit to file")):
        run = _bus_engine(n, mode, folder)
        seconds, events = _best(run, repeat)
        peak = _traced_peak_mb(run) if n <= 100_000 or mode != "memory" else None
        rows.append(_row("bus", label, size, seconds, events, peak,
                         ratio_to_floor=round(seconds / floor_seconds, 2) if floor_seconds > 0 else None))
    return rows


def _parts_workload(size: str, repeat: int, folder: Path) -> list[dict[str, Any]]:
    """The rotation's time taken apart (:mod:`eventbt.bench.parts`): every row as a ratio to the loop."""
    from eventbt.bench.parts import part_timings

    t = part_timings(size, repeat, folder)
    loop = t["loop"]
    audit = t["logged"] - t["unlogged"]
    floor = loop + audit + t["build"] + t["result"] + t["events"] + t["costs"]
    rest = t["unlogged"] - (floor - audit)
    shape = {"symbols": t["symbols"], "bars": t["bars"]}
    figures = [
        ("plain numpy loop", loop, 0),
        ("eventbt, audit to file", t["logged"], t["events_delivered"]),
        ("eventbt, no audit log", t["unlogged"], t["events_delivered"]),
        ("part: the audit log (to file less none)", audit, t["events_delivered"]),
        ("part: building the run (data checks)", t["build"], 0),
        ("part: the result frames", t["result"], 0),
        ("part: creating the run's events", t["events"], t["events_created"]),
        ("part: the cost models, 2 calls a fill", t["costs"], 0),
        ("floor: the loop and the parts", floor, 0),
        ("rest: the handlers' own work", rest, 0),
    ]
    return [_row("parts", variant, size, seconds, events, None, **shape, fills=t["fills"],
                 ratio_to_loop=round(seconds / loop, 2)) for variant, seconds, events in figures]


def _warm_up() -> None:
    """One untimed tiny run of the rotation's and the daily workload's scenarios, in this process: what a run
    imports on first use (the strategies, the data checks, pyarrow's pandas glue) is then imported before any clock
    starts, as in a user's second run. It matters at ``--repeat 1``; with more repeats the best run leaves the
    first use out anyway. The workloads in child processes (scale, start-up, sweep) are not warmed."""
    from eventbt.simulation import Simulation

    prices = workloads.gbm_prices(*workloads.ROTATION_SIZES["tiny"])
    for config in (workloads.rotation_config(), workloads.daily_config()):
        Simulation(config, prices=prices, audit=True).run()


def run_benchmarks(workload: str = "all", size: str = "large", repeat: int = 3,
                   folder: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Run ``workload`` (one of :data:`WORKLOADS` or ``"all"``) at ``size``; one dict per measured variant.

    Audit logs go to ``folder`` (a temporary folder, removed afterwards, when ``None``).
    """
    chosen = WORKLOADS if workload == "all" else (workload,)
    with tempfile.TemporaryDirectory(prefix="eventbt-bench-") as tmp:
        where = Path(folder) if folder is not None else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, Any]] = []
        if {"rotation", "parts", "daily", "bt"} & set(chosen):  # the others run in child processes, or run no strategy
            _warm_up()
        for name in chosen:
            if name == "bus":
                rows.extend(_bus_workload(size, repeat, where))
            elif name == "scale":
                rows.extend(_scale_workload(repeat) if size == "large" else [])
            elif name == "startup":
                rows.extend(_startup_workload(repeat, where))
            elif name == "sweep":
                rows.extend(_sweep_workload("medium" if size == "large" else size, repeat))
            elif name == "bt":
                rows.extend(_bt_workload(size, repeat, where, required=workload == "bt"))
            elif name == "parts":
                rows.extend(_parts_workload(size, repeat, where))
            else:
                rows.extend(_simulation_workload(name, size, repeat, where))
    return rows


_RATIO_TEXT = {"ratio_to_loop": "vs loop", "ratio_to_floor": "vs floor", "ratio_to_pandas": "vs import pandas",
               "speedup": "speed-up", "ratio_to_eventbt": "eventbt's time"}
"""Each row's ratio (the first of these it has) and the words after it in the table."""


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table; ``ratio`` is each row's against its workload's yardstick."""
    header = ("workload", "variant", "size", "seconds", "events", "events/s", "peak MB", "maxrss MB", "ratio")
    lines = [header]
    for row in rows:
        shape = f" {row['symbols']}x{row['bars']}" if "symbols" in row and row["size"] != "3000x5040" else ""
        peak = row["peak_traced_mb"]
        ratio_text = next((f"{row[key]:.2f}x {text}" for key, text in _RATIO_TEXT.items()
                           if row.get(key) is not None), "")
        maxrss = row.get("child_maxrss_mb", row["maxrss_mb"])
        lines.append((
            row["workload"], row["variant"], row["size"] + shape, f"{row['seconds']:.3f}", f"{row['events']:,}",
            f"{row['events_per_s']:,}" if row["events_per_s"] else "n/a",
            "n/a" if peak is None else f"{peak:.1f}", f"{maxrss:.0f}", ratio_text,
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
