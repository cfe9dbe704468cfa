"""Where a page is written: a new file, or a page eventbt wrote before; never a user's own file.

Every HTML page eventbt writes (the report, the diff page) carries :data:`GENERATOR` in its head, so a later
``--out`` naming that file replaces it, while ``--out notes.html`` naming a file of the user's is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from eventbt.errors import OutputError

__all__ = ["GENERATOR", "check_page_target"]

#: The mark in the head of every page eventbt writes.
GENERATOR = '<meta name="generator" content="eventbt">'
_HEAD_BYTES = 4096


def check_page_target(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` as a :class:`~pathlib.Path` when a page may be written there: it does not exist, or it is a page
    eventbt wrote. A folder, or a file eventbt did not write, is an :class:`OutputError` naming it."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"is a folder; {option} names the HTML file to write", path=str(path))
    if target.exists() or target.is_symlink():
        try:
            with target.open("rb") as handle:
                head = handle.read(_HEAD_BYTES)
        except OSError as exc:
            raise OutputError(f"cannot be read to check it is an eventbt page: {exc.strerror}", path=str(path)) \
                from None
        if GENERATOR.encode() not in head:
            raise OutputError(f"exists and was not written by eventbt; {option} never overwrites another file "
                              "(remove it or name another)", path=str(path))
    return target
