"""docs/corporate-actions.md runs as written: its transcripts, its summary example and its figures are checked."""

from __future__ import annotations

import json
import re

import pytest

from tests.eventbt.debugging_doc import ROOT, console_blocks, run_command

PAGE = (ROOT / "docs" / "corporate-actions.md").read_text(encoding="utf-8")
BLOCKS = console_blocks(PAGE)


def test_the_page_has_its_transcripts() -> None:
    """The split and the dividend sessions are there."""
    assert len(BLOCKS) == 2


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_console_transcript_matches(command: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each transcript's command, run from the repository root, prints exactly the lines on the page."""
    monkeypatch.chdir(ROOT)
    out = run_command(command)
    assert [line.rstrip() for line in out.splitlines()] == [line.rstrip() for line in expected.splitlines()]


def test_the_summary_example_is_the_worked_examples_summary() -> None:
    """The "dividends" JSON shown is what the buy-and-hold of the worked example writes to summary.json."""
    from tests.scenarios.test_corporate_actions import quandl_buy_and_hold

    shown = json.loads("{" + re.search(r"```json\n(.*?)\n```", PAGE, re.DOTALL)[1] + "}")  # type: ignore[index]
    assert quandl_buy_and_hold("columns").summary["dividends"] == shown["dividends"]


def test_the_bundled_scenarios_figures_are_their_golden_ones() -> None:
    """The final values quoted for quandl_actions and quandl_raw are those of their golden files."""
    for name in ("quandl_actions", "quandl_raw"):
        golden = json.loads((ROOT / "tests" / "golden" / f"{name}.json").read_text())
        assert f"{golden['final_value']:,.2f}" in PAGE
