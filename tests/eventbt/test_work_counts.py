"""Regression guards on the amount of work, not on seconds: events per bar, history rows read, calls per bar.

The expected counts come from the pipeline's design (docs/architecture.md): each bar is one MarketEvent, one
BarEndEvent and the portfolio's SnapshotEvent; only a rebalance bar adds a signal and what it causes; the
audit log has one publish and one deliver record per event.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest

from eventbt.audit import AuditLog
from eventbt.bench.workloads import gbm_prices, rotation_config
from eventbt.events import format_time
from eventbt.protocols import PriceView
from eventbt.schedule import rebalance_mask
from eventbt.simulation import Simulation

BARS_EVENTS = ("MarketEvent", "BarEndEvent", "SnapshotEvent")


def _publishes(simulation: Simulation) -> list[dict[str, Any]]:
    return [r for r in simulation.audit.records() if r["record"] == "publish"]


@pytest.mark.parametrize("symbols", [4, 40])
def test_a_quiet_bar_moves_three_events_whatever_the_number_of_symbols(symbols: int) -> None:
    """Bars without a rebalance move exactly Market, BarEnd and Snapshot; a rebalance bar adds its own."""
    prices = gbm_prices(symbols, 260, seed=3)
    simulation = Simulation(rotation_config(), prices=prices)
    simulation.run()
    per_bar: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for record in _publishes(simulation):
        per_bar[record["data"]["bar"]][record["type"]] += 1
    rebalance_bars = set(np.flatnonzero(rebalance_mask(prices.dates, rebalance="monthly")).tolist())
    assert sorted(per_bar) == list(range(260))
    for bar, counts in per_bar.items():
        assert [counts[kind] for kind in BARS_EVENTS] == [1, 1, 1]
        if bar not in rebalance_bars:
            assert sum(counts.values()) == 3, (bar, counts)
        else:
            # At most one signal; each order gets exactly one fill or cancel at the same close; orders are
            # bounded by the picks leaving and entering (top 10 each way), never by the number of symbols.
            assert counts["SignalEvent"] <= 1
            assert counts["OrderEvent"] <= 2 * 10
            assert counts["FillEvent"] + counts["CancelEvent"] == counts["OrderEvent"]
    assert simulation.bus.delivered == sum(sum(c.values()) for c in per_bar.values())


def test_the_audit_log_has_one_line_per_event() -> None:
    """Lines = header + one publish line per delivered event (its handlers folded in) + footer (format 2)."""
    prices = gbm_prices(5, 150, seed=5)
    memory = Simulation(rotation_config(), prices=prices)
    memory.run()
    kinds = collections.Counter(r["record"] for r in memory.audit.records())
    events = memory.bus.delivered
    assert kinds == {"header": 1, "publish": events, "footer": 1}
    assert memory.audit.count == events + 2


def test_audit_file_and_memory_modes_write_the_same_lines(tmp_path: Any) -> None:
    """Rendering in groups and batches does not depend on where the lines go: same lines, same digest."""
    prices = gbm_prices(5, 150, seed=5)
    memory = Simulation(rotation_config(), prices=prices)
    memory.run()
    on_file = Simulation(rotation_config(), prices=prices, audit_path=tmp_path / "audit.jsonl")
    on_file.run()
    assert memory.audit.digest == on_file.audit.digest
    strip = [line for line in memory.audit.lines() if b'"wall_clock"' not in line]
    assert strip == [line for line in on_file.audit.lines() if b'"wall_clock"' not in line]


def test_audit_times_match_format_time() -> None:
    """The audit log's cached day + clock formatting gives the same text as format_time."""
    day = 86_400_000_000_000
    hour = 3_600_000_000_000
    times = [0, 16 * hour, 9 * hour + hour // 2, -day + 16 * hour, 18_000 * day + 59 * 60 * 1_000_000_000 + 7,
             18_000 * day + 23 * hour + 3_599_999_999_999]
    audit = AuditLog(enabled=False)
    assert [audit._time_text(t) for t in times] == [format_time(t) for t in times]


def test_the_ema_strategy_reads_no_history_and_is_called_once_per_bar() -> None:
    """EMA allocation updates incrementally: 0 history rows read, one update per bar, one ask per rebalance."""
    prices = gbm_prices(30, 400, seed=9)
    simulation = Simulation(rotation_config(), prices=prices)
    calls: collections.Counter[str] = collections.Counter()
    generator = simulation.strategy.generator

    class Counting:
        def update(self, view: PriceView) -> None:
            calls["update"] += 1
            generator.update(view)

        def target_weights(self, view: PriceView) -> Any:
            calls["target_weights"] += 1
            return generator.target_weights(view)

    simulation.strategy.generator = Counting()
    simulation.run()
    assert simulation.strategy.view.rows_read == 0
    assert calls["update"] == 400
    assert calls["target_weights"] == int(np.count_nonzero(rebalance_mask(prices.dates, rebalance="monthly")))


class HistoryReader:
    """A generator that reads the whole close history at every rebalance (the O(history) pattern)."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def update(self, view: PriceView) -> None:
        return None

    def target_weights(self, view: PriceView) -> dict[str, float] | None:
        self.seen.append(view.history("close").copy())
        return None


def test_the_history_counter_counts_rows_and_history_holds_exactly_the_rows_so_far() -> None:
    """A generator reading history at every rebalance bar b reads b + 1 rows there, equal to the data's."""
    prices = gbm_prices(6, 120, seed=2)
    simulation = Simulation(rotation_config(), prices=prices)
    reader = HistoryReader()
    simulation.strategy.generator = reader
    simulation.run()
    bars = np.flatnonzero(rebalance_mask(prices.dates, rebalance="monthly")).tolist()
    assert simulation.strategy.view.rows_read == sum(bar + 1 for bar in bars)
    assert len(reader.seen) == len(bars)
    for bar, rows in zip(bars, reader.seen, strict=True):
        assert np.array_equal(rows, prices.close[: bar + 1])
