"""Signal generators that kill their own worker process, for the sweep's worker-loss tests.

Both are :class:`strategies.ema_allocation.EmaAllocation` with two more parameters: ``crash_fast_span`` picks
the combination that crashes (the one whose ``fast_span`` equals it), and ``marker`` is a file path. At its
first ``update`` the crashing combination ends its process with ``os._exit(1)``, as a worker killed by the
operating system would end: no exception, no result. :class:`CrashOnce` does so only while ``marker`` does
not exist (it creates the file first), so the combination's retry runs normally; :class:`CrashAlways` does so
every time (it appends a line to ``marker`` per crash, so a test can count them).
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from eventbt.protocols import PriceView
from strategies.ema_allocation import EmaAllocation

__all__ = ["CrashAlways", "CrashOnce"]


@attrs.define(kw_only=True)
class CrashOnce(EmaAllocation):
    """EMA allocation whose ``fast_span == crash_fast_span`` combination kills its process once."""

    marker: str = ""
    crash_fast_span: int = 0
    _updated: bool = attrs.field(default=False, init=False, repr=False)

    def _crash_now(self) -> bool:
        path = Path(self.marker)
        if path.exists():
            return False
        path.write_text("crashed\n")
        return True

    def update(self, view: PriceView) -> None:
        if not self._updated:
            self._updated = True
            if self.fast_span == self.crash_fast_span and self._crash_now():
                os._exit(1)
        super().update(view)


@attrs.define(kw_only=True)
class CrashAlways(CrashOnce):
    """EMA allocation whose ``fast_span == crash_fast_span`` combination kills its process every time."""

    def _crash_now(self) -> bool:
        with Path(self.marker).open("a") as handle:
            handle.write("crashed\n")
        return True
