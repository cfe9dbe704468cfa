"""Every link in the docs, and every ``docs/*.md`` named in the code, points at a file and section that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md"),
                *(ROOT / "scenarios").rglob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)
    return {_slug(heading) for heading in headings}


def _links() -> list[tuple[Path, str]]:
    found = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        found.extend((page, target) for target in LINK.findall(text)
                     if not re.match(r"[a-z]+:", target))
    return found


def test_the_link_pattern_finds_links() -> None:
    """The docs have relative links, so an empty scan would mean a broken pattern."""
    assert len(_links()) > 20


@pytest.mark.parametrize(("page", "target"), _links(), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_relative_link_resolves(page: Path, target: str) -> None:
    """A relative link names an existing file, and its #anchor (if any) a heading of that file."""
    path_part, _, anchor = target.partition("#")
    destination = (page.parent / path_part).resolve() if path_part else page
    assert destination.exists(), f"{page.relative_to(ROOT)} links to missing {path_part}"
    if anchor and destination.suffix == ".md":
        assert anchor in _anchors(destination), f"{page.relative_to(ROOT)}: no heading #{anchor} in {path_part}"


def test_docs_named_in_the_code_exist() -> None:
    """Docstrings and messages that send the reader to ``docs/<page>.md`` name a page that exists."""
    named = set()
    for package in ("eventbt", "handlers", "strategies"):
        for source in (ROOT / package).rglob("*.py"):
            named.update(re.findall(r"docs/([\w-]+\.md)", source.read_text()))
    assert named, "the code names no docs page: the pattern is wrong"
    missing = sorted(name for name in named if not (ROOT / "docs" / name).exists())
    assert missing == []


def test_the_tests_contributing_points_to_exist() -> None:
    """Each ``tests/...py::test_name`` CONTRIBUTING.md tells a newcomer to copy is a test that exists."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(named) >= 4
    missing = [(path, name) for path, name in named
               if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), flags=re.M)]
    assert missing == []


def _headless_rows(text: str) -> list[int]:
    """Line numbers of table rows that start a table without a header row (``| a | b |`` not followed by
    ``|---|``): in Markdown they are plain text with literal bars, e.g. a table cut in two by a blank line."""
    text = re.sub(r"```.*?```", lambda block: "\n" * block[0].count("\n"), text, flags=re.S)
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        starts = line.startswith("|") and (number == 1 or not lines[number - 2].startswith("|"))
        if starts and not (number < len(lines) and re.match(r"^\|\s*:?-{3,}", lines[number])):
            found.append(number)
    return found


def test_the_table_check_finds_a_table_cut_in_two() -> None:
    """The check below can fail: a blank line inside a table leaves its second half without a header."""
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n"
    assert _headless_rows(text) == [5]


@pytest.mark.parametrize("page", PAGES, ids=[page.relative_to(ROOT).as_posix() for page in PAGES])
def test_every_table_has_a_header_row(page: Path) -> None:
    """No table row shows as plain text: each table starts with its header and ``|---|`` line."""
    assert _headless_rows(page.read_text(encoding="utf-8")) == []
