"""A small progress bar for long runs: shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Redraws at most ten times a second: ``[#####.....]  52%  2610/5040 bars  1.2s``."""

    def __init__(self, total: int, *, label: str = "bars", stream: TextIO | None = None,
                 enabled: bool | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 1)
        self.label = label
        self.width = width
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn < 0.1 and done < self.total:
            return
        self._drawn = now
        fraction = min(done / self.total, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%}  {done}/{self.total} {self.label}  "
                          f"{now - self._started:.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
