"""Where a run's files go: the run folder and the audit log, checked before anything is written.

The precedence (``docs/audit-log.md``), the same for ``eventbt run``, ``eventbt.run`` and ``Simulation``:

1. an output folder (``--out``, ``out=``): the log goes into it, at ``[audit] path`` taken in that folder
   (default ``audit.jsonl``), with the other result files (:func:`open_output`, :func:`run_folder_audit_name`);
2. no output folder: to ``[audit] path`` taken in the scenario's folder (:func:`scenario_audit_path`);
3. neither: memory.

A path that leaves its folder, names the folder or one of the run's other files, or (without an output
folder) an existing file that is not an audit log, is a :class:`~eventbt.errors.ScenarioError` naming the
scenario file and ``[audit] path``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from eventbt.results.files import RunFolder

if TYPE_CHECKING:
    from eventbt.scenario import ScenarioConfig

__all__ = ["open_output", "run_folder_audit_name", "scenario_audit_path"]


def scenario_audit_path(config: ScenarioConfig) -> Path | None:
    """Where the scenario's ``[audit] path`` puts the log of a run with no output folder: that path in the
    scenario's folder (``None`` when it is empty).

    A :class:`~eventbt.errors.ScenarioError` (nothing written) when the path leaves the scenario's folder
    (``..``, an absolute path, a symbolic link pointing out), names a folder, or names an existing file that
    is not an eventbt audit log (a run never overwrites a file it did not write).
    """
    from eventbt.paths import audit_path_in

    return audit_path_in(config.audit.path, source=config.source, folder=config.base_dir)


def run_folder_audit_name(config: ScenarioConfig, out: str | os.PathLike[str]) -> str:
    """The audit log's name inside the run folder ``out``: the scenario's ``[audit] path`` taken in that
    folder, else ``audit.jsonl``; a :class:`~eventbt.errors.ScenarioError` when it leaves the folder or names
    one of the run's other files."""
    from eventbt.errors import ScenarioError
    from eventbt.results.files import LATER_FILES, RUN_FILES, RUN_MARKER, relative_inside

    text = config.audit.path
    if not text:
        return "audit.jsonl"
    try:
        name = relative_inside(text, within=f"the run folder {os.fspath(out)}").as_posix()
    except ValueError as exc:
        raise ScenarioError(f"[audit] path {exc}", path=config.source, table="audit", key="path") from None
    if name in {*RUN_FILES, *LATER_FILES, RUN_MARKER} - {"audit.jsonl"}:
        raise ScenarioError(f"[audit] path {text!r} is one of the run's other files; expected another name",
                            path=config.source, table="audit", key="path")
    return name


def open_output(config: ScenarioConfig,
                out: str | os.PathLike[str] | None) -> tuple[RunFolder | None, Path | Literal[False]]:
    """The run folder (``None`` without ``out``) and the audit log's path (``False``: memory) of a run.

    The precedence of ``docs/audit-log.md``: with ``out``, the log goes into that folder (at ``[audit] path``
    taken in it, default ``audit.jsonl``) with the other result files; without it, to the scenario's
    ``[audit] path`` in the scenario's folder, or memory. Every path is checked before anything is written;
    the folder is claimed (:meth:`eventbt.results.files.RunFolder.open`).
    """
    from eventbt.results.files import RUN_FILES

    if out is None:
        return None, scenario_audit_path(config) or False
    name = run_folder_audit_name(config, out)
    folder = RunFolder.open(out, planned=[*RUN_FILES, name])
    return folder, folder.path / name
