"""Reports of a finished run: reading a run folder, the self-contained HTML report and the PNG charts.

``write_report(run_dir, out)`` is the one call most users need; ``eventbt report RUN_DIR`` wraps it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from eventbt.report.compare import Comparison, compare_page, compare_runs
from eventbt.report.data import RunData, load_benchmark, load_run, read_rebalances
from eventbt.report.explorer import Explorer, collect_steps
from eventbt.report.html import render_html

__all__ = ["Comparison", "Explorer", "RunData", "build_report", "collect_steps", "compare_page", "compare_runs",
           "load_benchmark", "load_run", "read_rebalances", "render_html", "write_report"]


def build_report(run_dir: str | Path, *, benchmark: str | pd.Series | None = None, risk_free: float = 0.0,
                 explorer: bool = True, trust: bool = False, compare: str | Path | None = None,
                 run: RunData | None = None, base_dir: str | Path | None = None) -> tuple[str, str | None]:
    """The report of ``run_dir`` as HTML, and why it has no event explorer (``None`` when it has one or
    ``explorer`` is false).

    The explorer steps the run again (:func:`eventbt.report.explorer.collect_steps`); ``trust`` lets that
    import code the run's log names that is not eventbt's own; ``base_dir`` is the folder the scenario's data
    path is relative to (default: the recorded one when the data is there, else the run folder). ``compare``
    is another run (folder or audit log) to compare with (:func:`eventbt.report.compare.compare_runs`).
    ``run`` is ``run_dir`` already read by :func:`load_run` (with its benchmark and risk-free rate, so
    ``benchmark`` and ``risk_free`` are not used).
    """
    from eventbt.errors import EventbtError

    if run is None:
        run = load_run(run_dir, benchmark=benchmark, risk_free=risk_free, base_dir=base_dir)
    elif run.folder.resolve() != Path(run_dir).resolve() or benchmark is not None or risk_free != 0.0:
        raise ValueError(f"run= is {run.folder} read already, with its benchmark and risk-free rate: give it with "
                         f"the same run_dir (not {run_dir}) and without benchmark= or risk_free=")
    steps, unavailable = None, None
    if explorer and run.rebalances:
        try:
            steps = collect_steps(run_dir, trust=trust, base_dir=base_dir)
        except EventbtError as exc:
            unavailable = str(exc)
    comparison = compare_runs(run_dir, compare, labels=_labels(run_dir, compare)) if compare is not None else None
    return render_html(run, explorer=steps, unavailable=unavailable, comparison=comparison), unavailable


def _labels(run_a: str | Path, run_b: str | Path) -> tuple[str, str]:
    """The two runs' names, as ``eventbt compare`` names run folders (:func:`eventbt.paths.run_labels`): a
    folder's last path parts, as many as tell the two apart (an audit log's folder, for a log)."""
    from eventbt.paths import run_labels

    a, b = run_labels([path.parent if path.is_file() else path for path in (Path(run_a), Path(run_b))])
    return a, b


def write_report(run_dir: str | Path, out: str | Path | None = None, *, benchmark: str | pd.Series | None = None,
                 risk_free: float = 0.0, explorer: bool = True, trust: bool = False,
                 compare: str | Path | None = None, run: RunData | None = None,
                 on_unavailable: Callable[[str], None] | None = None, base_dir: str | Path | None = None) -> Path:
    """Write the HTML report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``); returns its path. An
    ``out`` that exists must be a page eventbt wrote (:func:`eventbt.report.target.check_page_target`).

    See :func:`build_report` for ``explorer``, ``trust``, ``compare``, ``run`` and ``base_dir``.
    ``on_unavailable`` is told why the report has no event explorer, when it has none though one was asked for.
    """
    from eventbt.report.target import check_page_target
    from eventbt.results import atomic_write

    target = check_page_target(out if out is not None else Path(run_dir) / "report.html", option="out")
    page, unavailable = build_report(run_dir, benchmark=benchmark, risk_free=risk_free, explorer=explorer,
                                     trust=trust, compare=compare, run=run, base_dir=base_dir)
    if unavailable and on_unavailable is not None:
        on_unavailable(unavailable)
    atomic_write(target, page)
    return target
