"""The rotation's time taken apart: the parts the design fixes, each timed beside the plain loop in one run.

``eventbt bench --workload parts`` answers "how close to the loop can the engine get without changing what it
is?". Each part is work every run of the rotation must do because of what eventbt promises, timed on its own:

- **the audit log**: the run with its log written to a file, less the same run with no log;
- **building the run**: ``Simulation(...)`` on the panel (the checks and warnings every run makes of its data,
  the handlers wired);
- **the result frames**: ``Simulation.result()`` of a finished run (results are pandas objects);
- **the events**: creating again, from their fields, every event the run created (each an immutable attrs
  object, the debugger's and ``trace``'s to hold; a quiet block's events are built only when looked at, so they
  are not among them);
- **the cost models**: one call of the slippage model and one of the commission model, through the checks of
  :mod:`eventbt.costs.contract`, for each fill's sizing and again for the fill itself (a lower bound: a buy cut
  for cash calls them more often).

The loop plus these parts is the floor: what the engine would take if every handler's own work (sizing,
dispatch, booking, recording) cost nothing. The rest is the run without its log, less the loop and the parts;
it is worked out from best times taken apart, so on a noisy machine it can come out a little off, even below
zero at the tiny size.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventbt.bench import workloads

__all__ = ["part_timings"]


def _fields(event: Any) -> tuple[type, dict[str, Any]]:
    import attrs

    return type(event), {field.name: getattr(event, field.name) for field in attrs.fields(type(event))}


def part_timings(size: str, repeat: int, folder: Path) -> dict[str, Any]:
    """Best seconds of the loop, the run (log to a file, and none) and each part, taken in turn ``repeat``
    times; and the counts the parts stand for (``events``, ``fills``)."""
    from eventbt.bench.loop import rotation_loop
    from eventbt.costs.contract import commission_of, fill_price_of
    from eventbt.events import FillEvent
    from eventbt.quiet import QuietBars
    from eventbt.simulation import Simulation

    symbols, bars = workloads.ROTATION_SIZES[size]
    config = workloads.rotation_config()
    prices = workloads.gbm_prices(symbols, bars)
    audit_path = folder / f"parts-{size}.jsonl"

    finished = Simulation(config, prices=prices, audit=False)
    finished.run()
    created = [_fields(entry) for entry in finished.bus._log if not isinstance(entry, QuietBars)]
    fills = [entry for entry in finished.bus._log if isinstance(entry, FillEvent)]
    execution = next(handler for handler in finished.bus.handlers if handler.name == "execution")
    commission, slippage = execution.commission, execution.slippage  # type: ignore[attr-defined]

    def loop() -> None:
        rotation_loop(prices.close, prices.dates, **workloads.loop_rules())

    # The same work on both sides, as for the rotation workload: the equity curves equal bit for bit.
    if not (finished.result().equity["total_value"].to_numpy() == rotation_loop(
            prices.close, prices.dates, **workloads.loop_rules())).all():
        raise AssertionError("the engine's equity differs from the plain loop's: the parts would time different work")

    def logged() -> None:
        Simulation(config, prices=prices, audit_path=audit_path).run()

    def unlogged() -> None:
        Simulation(config, prices=prices, audit=False).run()

    def build() -> None:
        Simulation(config, prices=prices, audit=False)

    def result() -> None:
        finished.result()

    def events() -> None:
        for kind, fields in created:
            kind(**fields)

    def costs() -> None:
        for fill in fills:
            side, quantity, symbol = int(fill.side), fill.quantity, fill.symbol
            for _ in range(2):  # its sizing, then the fill
                price = fill_price_of(slippage, side, fill.reference_price, quantity, symbol=symbol)
                commission_of(commission, quantity, quantity * price, symbol=symbol)

    runs: dict[str, Callable[[], None]] = {"loop": loop, "logged": logged, "unlogged": unlogged, "build": build,
                                           "result": result, "events": events, "costs": costs}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(max(1, repeat)):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {**best, "symbols": symbols, "bars": bars, "events_created": len(created), "fills": len(fills),
            "events_delivered": finished.bus.delivered}
