"""A run whose symbol, scenario name and extra handler's name are markup, for the report's escaping tests."""

from __future__ import annotations

from pathlib import Path

from eventbt.events import SnapshotEvent
from eventbt.handler import Handler
from tests.eventbt import debug_fixtures

HOSTILE_SYMBOL = "</script><img src=x onerror=alert(1)>"
HOSTILE_NAME = "x</title><script>alert(2)</script>"
HOSTILE_HANDLER = "<img src=y onerror=alert(3)>"

# tests/eventbt/debug_fixtures.py's three bars with the second symbol renamed: 50/50 rebalanced on the first
# and last bar, 1.00 per fill, no slippage, 1,000 cash.
PRICES = debug_fixtures.PRICES.replace("BBB", HOSTILE_SYMBOL)
SCENARIO = (debug_fixtures.SCENARIO.replace('name = "tiny"', f'name = "{HOSTILE_NAME}"')
            .replace("BBB = 0.5", f'"{HOSTILE_SYMBOL}" = 0.5')
            + '[[handlers]]\nname = "tests.eventbt.explorer_fixtures:MarkupNamedWatcher"\n')


class MarkupNamedWatcher(Handler):
    """A handler that takes every snapshot and publishes nothing, under a name that is markup."""

    name = HOSTILE_HANDLER
    subscribes = (SnapshotEvent,)

    def on_snapshot(self, event: SnapshotEvent) -> None:
        return None


def write_hostile(folder: Path) -> Path:
    """Write the scenario and its prices into ``folder``; returns the scenario file."""
    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    path = folder / "hostile.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path
