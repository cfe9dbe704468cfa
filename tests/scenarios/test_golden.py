"""Golden results: each bundled scenario's summary figures, trade count and digest against tests/golden/.

The golden files are refreshed only by ``make golden`` (which sets ``EVENTBT_UPDATE_GOLDEN=1``); review
their diff before committing it. A mismatch fails with a unified diff of the expected and actual files.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import eventbt

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
GOLDEN = ROOT / "tests" / "golden"
_FIGURES = ("final_value", "total_return", "trades", "total_commission", "total_slippage", "events", "digest")


def golden_figures(scenario: Path) -> dict[str, Any]:
    """The figures a golden file keeps for ``scenario`` (floats rounded to 6 decimals)."""
    summary = eventbt.run(scenario).summary
    return {key: round(summary[key], 6) if isinstance(summary[key], float) else summary[key] for key in _FIGURES}


def _text(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, sort_keys=True) + "\n"


def golden_diff(expected: str, actual: str, name: str) -> str:
    """A unified diff of two golden texts, empty when equal."""
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                        fromfile=f"tests/golden/{name}.json", tofile=f"{name} (this run)"))


def test_golden_diff_is_readable() -> None:
    """A changed figure shows up as one -/+ line pair naming the figure."""
    diff = golden_diff(_text({"trades": 3}), _text({"trades": 4}), "x")
    assert '-  "trades": 3' in diff and '+  "trades": 4' in diff


def test_every_bundled_scenario_has_a_golden_file() -> None:
    """tests/golden/ holds one file per scenario in scenarios/, and no stale ones."""
    if os.environ.get("EVENTBT_UPDATE_GOLDEN") == "1":
        pytest.skip("refreshing the golden files")
    assert {path.stem for path in GOLDEN.glob("*.json")} == {path.stem for path in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_scenario_matches_its_golden_file(scenario: Path) -> None:
    """The scenario's figures and digest equal its golden file (refresh with `make golden`)."""
    actual = _text(golden_figures(scenario))
    target = GOLDEN / f"{scenario.stem}.json"
    if os.environ.get("EVENTBT_UPDATE_GOLDEN") == "1":
        target.write_text(actual)
        return
    expected = target.read_text() if target.exists() else ""
    diff = golden_diff(expected, actual, scenario.stem)
    if diff:
        pytest.fail(f"{scenario.name} differs from its golden file (run `make golden` if intended):\n{diff}")


def test_every_digest_quoted_in_the_docs_is_a_golden_digest() -> None:
    """A digest printed in README.md or docs/ (8 to 64 hex digits after "digest") is one of the golden digests,
    so refreshing the goldens without the docs fails here."""
    import re

    goldens = {json.loads(path.read_text())["digest"] for path in GOLDEN.glob("*.json")}
    quoted = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in re.finditer(r"digest\W{1,4}([0-9a-f]{8,64})\b", page.read_text()):
            quoted.append((page.name, match.group(1)))
    assert quoted, "no digest is quoted in the docs: the pattern is wrong"
    stale = [(page, digest) for page, digest in quoted if not any(g.startswith(digest) for g in goldens)]
    assert stale == []
