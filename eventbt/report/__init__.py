"""Reports of a finished run: reading a run folder, the self-contained HTML report and the PNG charts.

``write_report(run_dir, out)`` is the one call most users need; ``eventbt report RUN_DIR`` wraps it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eventbt.report.data import RunData, load_benchmark, load_run, read_rebalances
from eventbt.report.html import render_html

__all__ = ["RunData", "load_benchmark", "load_run", "read_rebalances", "render_html", "write_report"]


def write_report(run_dir: str | Path, out: str | Path | None = None, *, benchmark: str | pd.Series | None = None,
                 risk_free: float = 0.0) -> Path:
    """Write the HTML report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``); returns its path."""
    from eventbt.results import atomic_write

    run = load_run(run_dir, benchmark=benchmark, risk_free=risk_free)
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    atomic_write(target, render_html(run))
    return target
