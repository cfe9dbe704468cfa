"""Every shell block of the docs runs verbatim: each ```sh block's commands, and each ```console block's `$`
commands with the output the page shows, in a scratch copy of the scenarios folder.

Each command must exit 0 unless the page says otherwise: a trailing shell comment holding ``(exit N`` in a
```sh block, an ``<!-- exit N -->`` line after the output in a ```console block (``eventbt replay`` exits 1
when the runs diverge, as documented).

A block that cannot run here says why in a ``<!-- not-run: REASON -->`` line right above it (a placeholder
such as `mypkg`, a cluster of machines, an environment variable the tests must never set); the reasons are
listed in :data:`NOT_RUN` so a new one is a decision, not an accident. docs/debugging.md and
docs/corporate-actions.md have their own transcript tests (tests/eventbt/test_debugging_doc.py and
test_corporate_actions_doc.py), which ``make golden`` refreshes; their blocks are checked there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.eventbt.debugging_doc import PAGES

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "CONTRIBUTING.md"])
FENCE = re.compile(r"^(?:<!-- not-run: (?P<reason>[^\n]*?) -->\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$",
                   re.MULTILINE | re.DOTALL)
COMMAND_LINE = re.compile(r"^\$? ?(eventbt|make|python|PYTHONPATH=|EVENTBT_|OPENBLAS_|dask|pip) ", re.MULTILINE)
NOT_RUN = {
    "make demo and make test are what CI runs (running make test here would run this test again)",
    "OPENBLAS_CORETYPE is set by hand, never by tests",
    "mypkg stands for your own package",
    "received/audit.jsonl stands for a log someone sent you; the message is checked in "
    "tests/eventbt/test_untrusted.py",
    "a cluster of several machines",
    "minutes of timing on a quiet machine: see the figures below",
}


def _blocks() -> list[tuple[str, int, str | None, str, str]]:
    """(page, line, not-run reason, language, body) of every fenced block of the docs."""
    found = []
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[:match.start()].count("\n") + 1
            found.append((page.relative_to(ROOT).as_posix(), line, match["reason"], match["lang"], match["body"]))
    return found


BLOCKS = _blocks()
SHELL = [b for b in BLOCKS if b[3] in ("sh", "console") and b[2] is None
         and ROOT / b[0] not in PAGES]


def test_every_command_sits_in_a_shell_block_and_every_skip_says_why() -> None:
    """A command line outside a ```sh or ```console block would escape this test; a not-run block gives one
    of the known reasons."""
    hidden = [f"{page}:{line}" for page, line, _, lang, body in BLOCKS
              if lang not in ("sh", "console", "python", "toml") and COMMAND_LINE.search(body)]
    assert hidden == []
    reasons = {reason for _, _, reason, _, _ in BLOCKS if reason is not None}
    assert reasons <= NOT_RUN, reasons - NOT_RUN
    assert len(SHELL) >= 8  # the test has blocks to run: README's, report.md's, sweeps.md's, replay.md's ...


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch folder holding a copy of scenarios/, where the docs' relative paths resolve (one per block:
    each block runs as written on a fresh checkout)."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path


def _environment() -> dict[str, str]:
    """The test's environment, with this Python's scripts (the ``eventbt`` command) first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


EXIT = re.compile(r"\(exit (\d+)|<!-- exit (\d+) -->")


def _expected_exit(text: str) -> int:
    found = EXIT.search(text)
    return int(found[1] or found[2]) if found else 0


def _sh(body: str) -> list[tuple[str, int]]:
    """The commands of a sh block (continued lines joined), each with the exit status its comment gives."""
    commands: list[tuple[str, int]] = []
    pending = ""
    for line in body.splitlines():
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        command = pending + line
        pending = ""
        if command.strip() and not command.lstrip().startswith("#"):
            commands.append((command, _expected_exit(command.partition(" #")[2])))
    return commands


def _console(body: str) -> list[tuple[str, list[str], int]]:
    """The `$` commands of a console block, each with the output lines shown after it and its exit status."""
    steps: list[tuple[str, list[str], int]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], [], 0))
        elif steps and line.startswith("<!--") and line.endswith("-->"):
            command, shown, status = steps[-1]
            steps[-1] = (command, shown, _expected_exit(line) or status)
        elif steps:
            steps[-1][1].append(line.rstrip())
    return steps


def _run(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=folder, env=_environment(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


@pytest.mark.parametrize(("page", "line", "lang", "body"), [(b[0], b[1], b[3], b[4]) for b in SHELL],
                         ids=[f"{b[0]}:{b[1]}" for b in SHELL])
def test_shell_block_runs_verbatim(page: str, line: int, lang: str, body: str, workdir: Path) -> None:
    """The block's commands exit as the page says, in order, from the scratch folder; a console block prints
    what it shows."""
    steps = [(command, [], status) for command, status in _sh(body)] if lang == "sh" else _console(body)
    assert steps, f"{page}:{line} holds no command"
    for command, shown, status in steps:
        done = _run(command, workdir)
        assert done.returncode == status, f"{page}:{line}: {command}\n{done.stderr[-2000:]}"
        if shown:
            printed = [text.rstrip() for text in done.stdout.splitlines()]
            assert printed == shown, f"{page}:{line}: {command}"
