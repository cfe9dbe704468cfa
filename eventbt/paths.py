"""Paths a scenario or a command names, checked before anything is written: inside their folder, and what a
file already there is.

Both the results wing (run folders, the audit log of a run without one) and ``eventbt validate`` (the scenario's
``[audit] path``, before the scenario is a config) check paths by these rules, so they live outside both.
:func:`run_labels` names run folders apart, the same way in ``eventbt compare`` and the report's comparison.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from eventbt.errors import ScenarioError

__all__ = ["audit_path_in", "is_audit_log", "relative_inside", "run_labels"]


def is_audit_log(path: Path) -> bool:
    """Whether ``path`` is a file whose first line is an eventbt audit log's header record."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(1 << 20)
        record = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("record") == "header"


def relative_inside(text: str, *, within: str) -> PurePosixPath:
    """``text`` as a normalised relative path that stays inside its folder; else ``ValueError`` saying why.

    ``within`` names the folder in the message ("the run folder runs/x"). Refused: an absolute path (or a
    Windows drive), a path that climbs out with ``..``, and one that names the folder itself (``.``).
    """
    if any(ord(character) < 32 for character in text):
        raise ValueError(f"{text!r} holds a control character; expected a plain file name inside {within}")
    if os.path.isabs(text) or PurePosixPath(text).is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise ValueError(f"{text!r} is an absolute path; expected a path inside {within}")
    parts: list[str] = []
    for part in text.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"{text!r} leaves {within}; expected a path inside it")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise ValueError(f"{text!r} names {within} itself; expected a file inside it")
    return PurePosixPath(*parts)


def audit_path_in(text: str, *, source: str | None, folder: Path) -> Path | None:
    """Where ``[audit] path`` (``text``, written in the scenario file ``source``, whose folder is ``folder``) puts
    the log of a run with no output folder: that path in ``folder``; ``None`` when it is empty.

    A :class:`~eventbt.errors.ScenarioError` (nothing written) when the path leaves the folder (``..``, an
    absolute path, a symbolic link pointing out), names a folder, or names an existing file that is not an
    eventbt audit log (a run never overwrites a file it did not write).
    """
    if not text:
        return None

    def refuse(message: str) -> ScenarioError:
        return ScenarioError(f"[audit] path {message}", path=source, table="audit", key="path")

    try:
        relative = relative_inside(text, within=f"the scenario's folder {folder}")
    except ValueError as exc:
        raise refuse(str(exc)) from None
    target = folder / relative
    try:
        real = target.resolve()
        if real != folder.resolve() / relative and folder.resolve() not in real.parents:
            raise refuse(f"{text!r} leads out of the scenario's folder {folder} (through a symbolic link to "
                         f"{real}); expected a path inside it")
        if real.is_dir():
            raise refuse(f"{text!r} is a folder; expected a file name for the audit log")
        if real.exists() and not is_audit_log(real):
            raise refuse(f"{text!r} is a file that is not an eventbt audit log; a run never overwrites a file it "
                         "did not write: pick another name")
    except OSError as exc:
        raise refuse(f"{text!r} cannot be used: {exc.strerror or exc}") from None
    return target


def run_labels(folders: Sequence[str | os.PathLike[str]]) -> list[str]:
    """A label per run folder, all different: the folder's name, or as many of its last path parts as tell it
    from the others (``x/run`` and ``y/run``; ``.`` is the current folder's name). A folder given twice gets
    `` (2)``, `` (3)``, ... after its label the second and later times."""
    parts = [Path(os.path.abspath(folder)).parts for folder in folders]
    depth = [1] * len(parts)
    while True:
        labels = [Path(*p[-d:]).as_posix() for p, d in zip(parts, depth, strict=True)]
        clashing = [i for i, label in enumerate(labels) if depth[i] < len(parts[i])
                    and any(other == label and parts[j] != parts[i] for j, other in enumerate(labels))]
        if not clashing:
            break
        for i in clashing:
            depth[i] += 1
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):  # the same folder given again: told apart by its place
        seen[label] = seen.get(label, 0) + 1
        labels[i] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return labels
