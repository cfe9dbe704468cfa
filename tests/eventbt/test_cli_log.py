"""The command line's messages: text lines by default, JSON lines (structlog) with --log json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "ema_rotation.toml"  # its data has three warnings: AAPL and RRC jumps, RRC stale


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventbt", *args], capture_output=True, text=True, cwd=ROOT)


def test_warnings_are_text_lines_by_default_and_json_objects_with_log_json(tmp_path: Path) -> None:
    """The same three data warnings: `eventbt: warning: ...` lines, or one JSON object each with the message as
    `event`, level `warning`, the command, the data path and a code; and no structlog without --log json."""
    text = _run("run", str(DEMO), "--quiet", "--set", "data.end=2001-01-01")
    as_json = _run("--log", "json", "run", str(DEMO), "--quiet", "--set", "data.end=2001-01-01")
    assert text.returncode == as_json.returncode == 0
    warnings = [line.removeprefix("eventbt: warning: ") for line in text.stderr.splitlines()
                if line.startswith("eventbt: warning: ")]
    records = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert len(warnings) == 3 and [r["event"] for r in records] == warnings
    assert {(r["level"], r["command"], r["code"]) for r in records} == {("warning", "run", "data_warning")}
    assert all(r["path"] == "data/skfolio/sp500_dataset.csv.gz" and "timestamp" in r for r in records)


def test_an_error_is_a_json_object_too() -> None:
    """A bad scenario: exit 2 and one JSON object on stderr naming the error's type; nothing else."""
    done = _run("--log", "json", "run", "no/such.toml")
    assert done.returncode == 2
    [record] = [json.loads(line) for line in done.stderr.splitlines()]
    assert record["level"] == "error" and record["error_type"] == "ScenarioError"
    assert record["event"] == "no/such.toml: file not found"


def test_a_plain_run_does_not_import_structlog() -> None:
    """Text mode keeps structlog (and its imports) out of the process."""
    code = ("import sys; from eventbt.cli.main import main; "
            f"main(['run', {str(DEMO)!r}, '--quiet', '--set', 'data.end=1991-01-01']); "
            "print('structlog' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
