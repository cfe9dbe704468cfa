"""Where a recorded run's data is now: one rule for ``replay``, ``verify`` and ``report``.

An audit log's header keeps the scenario's data paths as the scenario wrote them (``[data] path`` and an
actions file, ``[data] corporate_actions``), relative to the scenario file's folder, and, outside the digest,
that folder as it was on the recording machine (``environment.base_dir``). :func:`find_data_folder` picks the
folder they are read from now, in this order:

1. the folder given (``--base-dir DIR``), and only that one when it is given;
2. the recorded folder, when the data is there (the same machine, or a checkout at the same place);
3. the audit log's own folder (a run folder handed over with the data copied into it).

When none holds the data, a :class:`~eventbt.errors.DataError` names the data path, every folder looked in
and why it was looked in, and what the command at hand accepts to point it at the data (``hint``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eventbt.errors import DataError

__all__ = ["BASE_DIR_HINT", "find_data_folder", "recorded_data_paths"]

# What replay and report accept: the folder the data paths are relative to.
BASE_DIR_HINT = "pass --base-dir DIR, the folder the scenario's data path is relative to"


def recorded_data_paths(header: Mapping[str, Any]) -> list[str]:
    """The data paths the header's scenario names, as written: the price data, then an actions file (not
    ``"columns"``, which reads the actions from the price file)."""
    data = (header.get("scenario") or {}).get("data") or {}
    paths = [str(data["path"])] if data.get("path") else []
    actions = data.get("corporate_actions")
    if actions and actions != "columns":
        paths.append(str(actions))
    return paths


def _candidates(header: Mapping[str, Any], log_path: Path,
                base_dir: str | os.PathLike[str] | None) -> list[tuple[Path, str]]:
    """The folders to look in, in order, each with why it is looked in."""
    if base_dir is not None:
        return [(Path(base_dir), "--base-dir")]
    candidates = []
    environment = header.get("environment")
    recorded = environment.get("base_dir") if isinstance(environment, Mapping) else None
    if isinstance(recorded, str) and recorded:
        candidates.append((Path(recorded), "the scenario's folder when the run was recorded"))
    log_folder = log_path.parent
    if not any(folder == log_folder for folder, _why in candidates):
        candidates.append((log_folder, "the audit log's folder"))
    return candidates


def find_data_folder(header: Mapping[str, Any], log_path: str | os.PathLike[str],
                     base_dir: str | os.PathLike[str] | None = None, *, hint: str = BASE_DIR_HINT,
                     paths: Sequence[str] | None = None) -> Path:
    """The folder the recorded data ``paths`` (default :func:`recorded_data_paths`) are read from: ``base_dir``
    when given, else the first of the recorded scenario's folder and the audit log's folder that holds them all
    (with no paths to find, the first of these). A :class:`DataError` otherwise, naming the missing path, each
    folder looked in, and ``hint`` (what the command takes to point it at the data)."""
    wanted = recorded_data_paths(header) if paths is None else list(paths)
    candidates = _candidates(header, Path(log_path), base_dir)
    missing_in = [[path for path in wanted if not (folder / path).exists()] for folder, _why in candidates]
    for (folder, _why), missing in zip(candidates, missing_in, strict=True):
        if not missing:
            return folder
    fewest = min(missing_in, key=len)  # the first folder missing the fewest: name what it lacks
    looked = " or ".join(f"{folder} ({why})" for folder, why in candidates)
    raise DataError(f"not found in {looked}; {hint}", path=fewest[0])
