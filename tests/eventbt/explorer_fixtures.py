"""A run whose symbol, scenario name and extra handler's name are markup, for the report's escaping tests."""

from __future__ import annotations

from pathlib import Path

from eventbt.events import SnapshotEvent
from eventbt.handler import Handler

HOSTILE_SYMBOL = "</script><img src=x onerror=alert(1)>"
HOSTILE_NAME = "x</title><script>alert(2)</script>"
HOSTILE_HANDLER = "<img src=y onerror=alert(3)>"

# tests/eventbt/debug_fixtures.py's three bars with the second symbol renamed: 50/50 rebalanced on the first
# and last bar, 1.00 per fill, no slippage, 1,000 cash.
PRICES = f"date,AAA,{HOSTILE_SYMBOL}\n2021-01-04,10,20\n2021-01-05,10,25\n2021-01-06,20,25\n"
SCENARIO = f"""\
[scenario]
name = "{HOSTILE_NAME}"
[data]
path = "prices.csv"
format = "wide"
[portfolio]
initial_cash = 1000.0
[strategy]
name = "static_weights"
[strategy.params]
weights = {{ AAA = 0.5, "{HOSTILE_SYMBOL}" = 0.5 }}
[schedule]
dates = ["2021-01-04", "2021-01-06"]
[execution]
timing = "same_close"
[execution.commission]
model = "fixed"
amount = 1.0
[execution.slippage]
model = "zero"
[run]
progress = false
[[handlers]]
name = "tests.eventbt.explorer_fixtures:MarkupNamedWatcher"
"""


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
