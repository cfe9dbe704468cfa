"""The hand-worked three-bar scenario the debugger tests step through (shared by the API and CLI tests)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from eventbt.events import FillEvent, MarketEvent
from eventbt.handler import Handler

# Three bars, two symbols, 50/50 static weights rebalanced on the first and last bar, 1.00 per fill, no
# slippage, 1,000 cash. Worked by hand (see the tests below for each step):
# 2021-01-04: V = 1000, targets 500 each; AAA 50 @ 10 and BBB 25 @ 20 would cost 501 + 501 = 1002 > 1000,
#   so both are scaled by 1000/1002 -> AAA 49 (491), BBB 24 (481); cash 1000 - 972 = 28.
# 2021-01-05: cash 28 + 49*10 + 24*25 = 1118.
# 2021-01-06: V = 28 + 49*20 + 24*25 = 1608, targets 804. AAA -176 -> sell floor(176/20) = 8, proceeds 159;
#   BBB +204 -> buy floor(204/25) = 8 costing 201 > 28 + 159 = 187 -> scaled to floor(8*187/201) = 7 (176).
#   Sell: cash 28 + 160 - 1 = 187; buy: 187 - 175 - 1 = 11. BBB average cost (24*20 + 7*25)/31 = 655/31.
PRICES = "date,AAA,BBB\n2021-01-04,10,20\n2021-01-05,10,25\n2021-01-06,20,25\n"
SCENARIO = """\
[scenario]
name = "tiny"
[data]
path = "prices.csv"
format = "wide"
[portfolio]
initial_cash = 1000.0
[strategy]
name = "static_weights"
[strategy.params]
weights = { AAA = 0.5, BBB = 0.5 }
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
"""


def write_tiny(folder: Path) -> Path:
    """Write the scenario and its prices into ``folder``; returns the scenario file."""
    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    path = folder / "tiny.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


class FailsOnTheSecondBar(Handler):
    """A user's handler with a bug: it raises at bar 1's MarketEvent (for the post-mortem tests)."""

    name = "buggy"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> None:
        if event.bar == 1:
            raise ZeroDivisionError("division by zero")


def write_buggy(folder: Path) -> Path:
    """The tiny scenario with :class:`FailsOnTheSecondBar` as an extra handler; returns the scenario file."""
    path = write_tiny(folder)
    path.write_text(SCENARIO + '[[handlers]]\nname = "tests.eventbt.debug_fixtures:FailsOnTheSecondBar"\n',
                    encoding="utf-8")
    return path


class FailsOnAFill(Handler):
    """A user's handler with a bug: it raises on the first fill of BBB (bar 0's second fill, mid-rebalance)."""

    name = "buggy_fill"
    subscribes = (FillEvent,)

    def on_fill(self, event: FillEvent) -> None:
        if event.symbol == "BBB":
            raise ZeroDivisionError("buggy fee on BBB")


def write_buggy_fill(folder: Path) -> Path:
    """The tiny scenario with :class:`FailsOnAFill` as an extra handler; returns the scenario file."""
    path = write_tiny(folder)
    path.write_text(SCENARIO + '[[handlers]]\nname = "tests.eventbt.debug_fixtures:FailsOnAFill"\n', encoding="utf-8")
    return path


class PressesCtrlC(Handler):
    """Presses Ctrl-C (sends SIGINT to this process) ``presses`` times while it handles bar 0's AAA fill (FillEvent
    #7, in the middle of the rebalance); ``presses`` is 0 unless a test sets it, and the handler publishes nothing."""

    name = "ctrl_c"
    subscribes = (FillEvent,)
    presses = 0

    def on_fill(self, event: FillEvent) -> None:
        if event.bar == 0 and event.symbol == "AAA":
            for _ in range(self.presses):
                os.kill(os.getpid(), signal.SIGINT)


def write_ctrl_c(folder: Path) -> Path:
    """The tiny scenario with :class:`PressesCtrlC` as an extra handler; returns the scenario file."""
    path = write_tiny(folder)
    path.write_text(SCENARIO + '[[handlers]]\nname = "tests.eventbt.debug_fixtures:PressesCtrlC"\n', encoding="utf-8")
    return path


def record_blocks(simulation: Any) -> list[Any]:
    """The blocks of quiet bars (:class:`~eventbt.quiet.QuietBars`) ``simulation``'s data feed gives from now on,
    in order: its ``pop_block`` wrapped to keep each block it returns."""
    feed = simulation.pipeline.feed
    taken: list[Any] = []
    pop_block = feed.pop_block

    def recording(handlers: Any) -> Any:
        block = pop_block(handlers)
        if block is not None:
            taken.append(block)
        return block

    feed.pop_block = recording
    return taken


class FailingGenerator:
    """A signal generator with a user's bug: ``inner``'s, raising in ``update`` at bar ``bar``."""

    def __init__(self, inner: Any, bar: int) -> None:
        self.inner = inner
        self.bar = bar

    def update(self, view: Any) -> None:
        if view.bar == self.bar:
            raise ZeroDivisionError("the user's bug")
        self.inner.update(view)

    def target_weights(self, view: Any) -> Any:
        return self.inner.target_weights(view)
