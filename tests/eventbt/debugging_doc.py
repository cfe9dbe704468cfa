"""The console transcripts of docs/debugging.md (and docs/corporate-actions.md): read, re-run, rewrite them.

``python -m tests.eventbt.debugging_doc`` (run by ``make golden``) rewrites every transcript's output of
:data:`PAGES` from the current engine; review the diff before committing it. ``test_debugging_doc.py`` and
``test_corporate_actions_doc.py`` check them.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

from eventbt.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "debugging.md"
PAGES = (DOC, ROOT / "docs" / "corporate-actions.md")
"""The pages whose transcripts ``make golden`` rewrites."""
BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.DOTALL)


def console_blocks(text: str) -> list[tuple[str, str]]:
    """The (command, expected output) of every ```console block of the page."""
    return [(m["command"], m["output"]) for m in BLOCK.finditer(text)]


def run_command(command: str) -> str:
    """Run one `eventbt ...` command line in-process (output not a terminal) and return what it printed."""
    argv = shlex.split(command)
    if argv[0] != "eventbt":
        raise ValueError(f"a transcript command must start with 'eventbt', got {command!r}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv[1:])
    if code != 0:
        raise RuntimeError(f"{command!r} exited {code}")
    return out.getvalue()


def refresh_transcripts(page: Path = DOC) -> None:
    """Rewrite every ```console block's output of ``page`` with what its command prints now (from the repo
    root)."""
    text = page.read_text(encoding="utf-8")

    def rerun(match: re.Match[str]) -> str:
        out = "\n".join(line.rstrip() for line in run_command(match["command"]).splitlines())
        return f"```console\n$ {match['command']}\n{out}\n```"

    page.write_text(BLOCK.sub(rerun, text), encoding="utf-8")


if __name__ == "__main__":
    os.chdir(ROOT)
    for page in PAGES:
        refresh_transcripts(page)
