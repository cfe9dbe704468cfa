"""Every Python block of the docs runs as written: a page's blocks, in order, as one script (a reader keeps one
session open down a page), in a scratch folder holding a copy of scenarios/, as the shell blocks of
tests/test_doc_commands.py run. A block after ``<!-- file: NAME -->`` is a file the page asks the reader to
save: it is written to the folder, not run.

A block that cannot run says why in a ``<!-- not-run: REASON -->`` line right above it (the reasons of
tests/test_doc_commands.py). Pages whose blocks have a test of their own are listed in :data:`OWN_TEST`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.eventbt.debugging_doc import PAGES
from tests.test_doc_commands import BLOCKS, ROOT, _environment

OWN_TEST = {
    # the commission tutorial runs block by block, with its figures checked
    "docs/cost-models.md": "tests/eventbt/test_cost_tutorial.py",
    "README.md": "tests/test_readme.py",
    # doctest transcripts, refreshed by make golden
    **{page.relative_to(ROOT).as_posix(): "tests/eventbt/test_debugging_doc.py" for page in PAGES},
}
FILE_MARK = "<!-- file: "


def _pages() -> dict[str, list[tuple[int, str | None, str]]]:
    """page -> its Python blocks to run: (line, file name or None, code)."""
    pages: dict[str, list[tuple[int, str | None, str]]] = {}
    for page, line, reason, lang, body in BLOCKS:
        if lang != "python" or reason is not None or page in OWN_TEST:
            continue
        text = (ROOT / page).read_text(encoding="utf-8").splitlines()
        above = text[line - 2] if line >= 2 else ""
        name = above[len(FILE_MARK):-len(" -->")] if above.startswith(FILE_MARK) else None
        pages.setdefault(page, []).append((line, name, body))
    return pages


PAGES_TO_RUN = _pages()


def test_the_pages_with_python_are_run_here_or_by_their_own_test() -> None:
    """Every page holding a Python block is run below or names its own test, which exists (so a new page with
    code cannot escape both)."""
    with_python = {page for page, _, _, lang, _ in BLOCKS if lang == "python"}
    assert with_python <= set(PAGES_TO_RUN) | set(OWN_TEST)
    assert all((ROOT / test).is_file() for test in OWN_TEST.values())
    assert len(PAGES_TO_RUN) >= 5  # scenarios, sweeps, replay, report, testing, orders ... (the test has work)


@pytest.mark.parametrize("page", sorted(PAGES_TO_RUN))
def test_the_python_blocks_of_a_page_run_in_order(page: str, tmp_path: Path) -> None:
    """The page's blocks, as one script from a scratch folder with the scenarios, exit 0."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    script = []
    for line, name, body in PAGES_TO_RUN[page]:
        if name is not None:
            (tmp_path / name).write_text(body, encoding="utf-8")
        else:
            script.append(f"# {page}:{line}\n{body}")
    (tmp_path / "page.py").write_text("\n".join(script), encoding="utf-8")
    env = _environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(tmp_path), env.get("PYTHONPATH"))))
    done = subprocess.run([sys.executable, "page.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)
    assert done.returncode == 0, f"{page}\n{done.stderr[-3000:]}"
