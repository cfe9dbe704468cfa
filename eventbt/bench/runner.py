"""Timing the workloads of :mod:`eventbt.bench.workloads`: seconds, events, events/s, peak memory.

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

WORKLOADS = ("rotation", "daily", "bus")


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


def _simulation_workload(workload: str, size: str, repeat: int, folder: Path) -> dict[str, Any]:
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

    def run() -> int:
        nonlocal digest
        simulation = Simulation(config, prices=prices, audit_path=audit_path)
        result = simulation.run()
        assert result is not None
        digest = str(result.summary["digest"])
        return simulation.bus.delivered

    seconds, events = _best(run, repeat)
    peak = _traced_peak_mb(run)
    return _row(workload, "audit to file", size, seconds, events, peak, symbols=symbols, bars=bars,
                per_symbol_day_us=round(seconds / (symbols * bars) * 1e6, 4),
                audit_bytes=audit_path.stat().st_size, digest=digest)


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
        for name in chosen:
            if name == "bus":
                rows.extend(_bus_workload(size, repeat, where))
            else:
                rows.append(_simulation_workload(name, size, repeat, where))
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table."""
    header = ("workload", "variant", "size", "seconds", "events", "events/s", "peak MB", "maxrss MB", "vs floor")
    lines = [header]
    for row in rows:
        shape = f" {row['symbols']}x{row['bars']}" if "symbols" in row else ""
        ratio = row.get("ratio_to_floor")
        peak = row["peak_traced_mb"]
        lines.append((
            row["workload"], row["variant"], row["size"] + shape, f"{row['seconds']:.3f}", f"{row['events']:,}",
            f"{row['events_per_s']:,}" if row["events_per_s"] else "n/a",
            "n/a" if peak is None else f"{peak:.1f}", f"{row['maxrss_mb']:.0f}",
            "" if ratio is None else f"{ratio:.2f}x",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
