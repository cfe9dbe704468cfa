"""Where a run's files go, and how they are written: never half a file, never over a file eventbt did not write.

- :func:`atomic_write` writes a file through a temporary file beside it and a rename, with the permissions
  a plain ``open`` would give (``0o666`` less the umask), so a reader never sees half a file.
- :class:`RunFolder` is the folder of one run (``eventbt run --out DIR``, ``eventbt.run(..., out=DIR)``,
  ``Result.write(DIR)``). A run writes only into a new folder, an empty one, or the folder of an earlier run,
  which it then replaces whole. A run folder carries a marker, :data:`RUN_MARKER`, listing the files the run
  wrote; a folder holding anything else (a scenario, a price file, a note of the user's) is refused with an
  :class:`~eventbt.errors.OutputError` before anything is written. An earlier run is replaced by writing the
  new run into a folder beside it and swapping the two at the end, so the folder never mixes two runs (no
  stale ``report.html`` beside a new log).
- :func:`relative_inside` checks a relative path read from a scenario (``[audit] path``) stays inside the
  folder it is taken from.

See ``docs/results.md`` (the run folder) and ``docs/audit-log.md`` (where the audit log goes).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from eventbt.errors import OutputError
from eventbt.paths import is_audit_log, relative_inside

__all__ = ["LATER_FILES", "RUN_FILES", "RUN_MARKER", "RunFolder", "atomic_write", "is_audit_log",
           "is_run_folder", "relative_inside"]

RUN_MARKER = "eventbt-run.json"
"""The marker of a run folder: ``{"kind": "eventbt run", "files": [...], "complete": ...}``."""

RUN_FILES = ("audit.jsonl", "equity.csv", "trades.csv", "weights.csv", "signals.csv", "summary.json",
             "scenario.toml")
"""The files :meth:`eventbt.results.Result.write` writes into a run folder (and the marker)."""

LATER_FILES = ("report.html", "equity.png", "drawdown.png", "weights.png", "turnover_costs.png",
               "monthly_returns.png")
"""Files eventbt's tools add to a run folder after the run (``eventbt report``, ``--report``, ``--png``): they
belong to the run, so replacing the run replaces them too."""

_KIND = "eventbt run"
_ENTRIES_CHECKED = 1000
"""How many entries of an output folder are looked at: a run folder holds a few dozen at most, so a folder with
more is refused whatever the rest holds, without walking it all."""
_STAGING = ".eventbt-new-"
_RETIRED = ".eventbt-old-"


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The temporary file is created as ``open`` creates a file (mode ``0o666`` less the umask), so the result
    has the permissions any other file the user writes has. A symbolic link at ``path`` is replaced, never
    written through.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` carries an eventbt run's marker (:data:`RUN_MARKER`)."""
    return _marker(folder) is not None


def _marker(folder: Path) -> list[str] | None:
    """The files the run marker of ``folder`` lists, or ``None`` when it has none or it is not ours."""
    try:
        marker = json.loads((folder / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("kind") != _KIND or not isinstance(marker.get("files"), list):
        return None
    return [str(name) for name in marker["files"]]


def _entries(folder: Path, *, at_most: int | None = None) -> tuple[list[str], bool]:
    """Every file under ``folder`` (symbolic links included, not followed) and every empty folder (``name/``),
    as sorted relative POSIX paths, and whether that is all of them.

    With ``at_most`` the walk stops once it has found more than that many (the list then holds ``at_most + 1``
    and the flag is ``False``): deciding whether a folder may take a run never needs more, however big the
    tree under it (``--out /``). A folder on another file system (``/proc``, ``/sys``, a mount) is listed as
    ``name/`` and not entered.
    """
    found: list[str] = []
    device = folder.stat().st_dev
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        dirs.sort()
        links = [d for d in dirs if (Path(root) / d).is_symlink()]
        mounts = [d for d in dirs if d not in links and _elsewhere(Path(root) / d, device)]
        dirs[:] = [d for d in dirs if d not in links and d not in mounts]
        names = [*files, *links]
        found.extend((here / name).as_posix() for name in names)
        found.extend((here / name).as_posix() + "/" for name in mounts)
        if not dirs and not names and not mounts and here != Path("."):
            found.append(here.as_posix() + "/")
        if at_most is not None and len(found) > at_most:
            return sorted(found)[: at_most + 1], False
    return sorted(found), True


def _elsewhere(path: Path, device: int) -> bool:
    """Whether the folder ``path`` lies on another file system than ``device`` (one that cannot be read is
    taken as elsewhere: it is not entered)."""
    try:
        return path.stat().st_dev != device
    except OSError:
        return True


def _write_marker(folder: Path, files: Iterable[str], *, complete: bool) -> None:
    from eventbt import __version__

    marker = {"kind": _KIND, "eventbt_version": __version__, "files": sorted(set(files)), "complete": complete}
    atomic_write(folder / RUN_MARKER, json.dumps(marker, indent=2, sort_keys=True) + "\n")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class RunFolder:
    """The folder of one run: checked and claimed by :meth:`open`, filled, then :meth:`commit`-ted.

    ``target`` is the folder the files end up in; ``path`` is where to write them now: ``target`` itself
    when it was new or empty, else a staging folder beside it that :meth:`commit` swaps in for the earlier
    run. :meth:`abandon` undoes :meth:`open` (the earlier run, if any, stays as it was).
    """

    def __init__(self, target: Path, path: Path, *, created: bool) -> None:
        self.target = target
        self.path = path
        self._created = created
        self._done = False

    @property
    def replacing(self) -> bool:
        """Whether the folder holds an earlier run that :meth:`commit` replaces."""
        return self.path != self.target

    @classmethod
    def open(cls, out: str | os.PathLike[str], *, planned: Iterable[str] = RUN_FILES) -> RunFolder:
        """Check ``out`` can take a run and claim it; ``planned`` are the files the run will write there.

        Raises :class:`~eventbt.errors.OutputError` (nothing written) when ``out`` is a file, a folder holding
        files that are not an eventbt run's (or files an earlier run did not write), or a place that cannot
        be written.
        """
        display = os.fspath(out)
        target = Path(out).resolve()
        if target.exists() and not target.is_dir():
            raise OutputError("is a file; a run writes its files into a folder: a new one, an empty one, or "
                              "the folder of an earlier run", path=display)
        planned = sorted({*planned, RUN_MARKER})
        created = False
        if not target.exists():
            try:
                target.mkdir(parents=True)
            except OSError as exc:
                raise OutputError(f"cannot create the folder: {_reason(exc)}", path=display) from None
            created = True
        try:
            entries, complete = _entries(target, at_most=_ENTRIES_CHECKED)
        except OSError as exc:
            raise OutputError(f"cannot read the folder: {_reason(exc)}", path=display) from None
        if not entries:
            folder = cls(target, target, created=created)
            try:
                _write_marker(target, planned, complete=False)
            except OSError as exc:
                folder.abandon()
                raise OutputError(f"cannot write into the folder: {_reason(exc)}", path=display) from None
            return folder
        marker = _marker(target)
        if marker is None:
            raise OutputError(f"holds files that are not an eventbt run ({_some(entries, complete)}); a run writes "
                              f"only into a new folder, an empty one, or the folder of an earlier run (one with "
                              f"{RUN_MARKER}): pick another folder", path=display)
        ours = {RUN_MARKER, *LATER_FILES, *marker}
        foreign = [entry for entry in entries if entry not in ours]
        if foreign:
            raise OutputError(f"holds an earlier run and files it did not write ({_some(foreign, complete)}); a run "
                              "replaces an earlier run whole, so move those files out first", path=display)
        _sweep_leftovers(target)
        staging = target.parent / f".{target.name}{_STAGING}{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            with contextlib.suppress(OSError):
                os.chmod(staging, target.stat().st_mode & 0o7777)
            _write_marker(staging, planned, complete=False)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot write the new run beside the earlier one (in {target.parent}): "
                              f"{_reason(exc)}", path=display) from None
        return cls(target, staging, created=False)

    def commit(self, files: Iterable[str]) -> Path:
        """Mark the files written as the run's and, when replacing an earlier run, swap the new one in."""
        _write_marker(self.path, files, complete=True)
        if self.replacing:
            self._swap()
        self._done = True
        return self.target

    def _swap(self) -> None:
        target = self.target
        try:
            cwd: Path | None = Path.cwd()
        except OSError:
            cwd = None
        retired = target.parent / f".{target.name}{_RETIRED}{secrets.token_hex(4)}"
        os.rename(target, retired)
        try:
            os.rename(self.path, target)
        except BaseException:
            os.rename(retired, target)
            raise
        shutil.rmtree(retired, ignore_errors=True)
        self.path = target
        # A process working inside the folder would be left in the retired copy: follow the folder.
        if cwd is not None and (cwd == target or target in cwd.parents):
            with contextlib.suppress(OSError):
                os.chdir(cwd if cwd.is_dir() else target)

    def abandon(self) -> None:
        """Undo :meth:`open`: remove the staging folder, or what was written into a new or empty folder."""
        if self._done:
            return
        self._done = True
        if self.replacing:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for name in _entries(self.path)[0]:
            with contextlib.suppress(OSError):
                (self.path / name).unlink()
        for root, dirs, _files in os.walk(self.path, topdown=False):
            for name in dirs:
                with contextlib.suppress(OSError):
                    (Path(root) / name).rmdir()
        if self._created:
            with contextlib.suppress(OSError):
                self.path.rmdir()


def _some(entries: list[str], complete: bool = True) -> str:
    """The first three ``entries`` and how many more; ``complete`` is false when the list stopped short (a
    folder with more entries than :data:`_ENTRIES_CHECKED`), which then says only "and more"."""
    shown = ", ".join(entries[:3])
    if not complete:
        return shown + " and more"
    return shown + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")


def _sweep_leftovers(target: Path) -> None:
    """Remove retired copies of ``target`` that a run killed while swapping left beside it (ours: they carry a
    run marker). A staging folder is left alone: another run may be writing it."""
    with contextlib.suppress(OSError):
        for sibling in target.parent.iterdir():
            if (sibling.name.startswith(f".{target.name}{_RETIRED}") and sibling.is_dir()
                    and not sibling.is_symlink() and _marker(sibling) is not None):
                shutil.rmtree(sibling, ignore_errors=True)
