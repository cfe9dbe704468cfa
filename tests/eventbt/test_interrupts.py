"""Interruptions: Ctrl-C ends a run with an ``interrupted`` footer and incomplete results; SIGKILL leaves an
audit log of complete JSON lines. Each test runs ``eventbt run`` in a subprocess that parks at a known bar."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from eventbt.audit import read_audit

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_rotation.toml"
PARK_AT_BAR = 2000

# Wraps the portfolio handler's end-of-bar hook so that, at PARK_AT_BAR, it writes a marker file and
# waits (at most two minutes) for the signal the test sends; then runs the CLI.
DRIVER = """
import sys, time
from pathlib import Path
from handlers.portfolio import PortfolioHandler
from eventbt.cli import main

marker, bar = Path(sys.argv[1]), int(sys.argv[2])
original = PortfolioHandler.on_bar_end

def parked(self, event):
    if event.bar == bar:
        marker.write_text("parked")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.02)
    return original(self, event)

PortfolioHandler.on_bar_end = parked
sys.exit(main(sys.argv[3:]))
"""


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / "out"
    marker = tmp_path / "parked"
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(marker), str(PARK_AT_BAR), "run", str(SCENARIO), "--out", str(out),
         "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never reached bar {PARK_AT_BAR}: {process.communicate()[1]}")
        time.sleep(0.02)
    return process, out


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_sigint_ends_with_an_interrupted_footer_and_incomplete_results(tmp_path: Path) -> None:
    """SIGINT at bar 2000: exit 130, footer status interrupted, summary complete = false with 2000 bars."""
    process, out = _start(tmp_path)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "run interrupted" in err
    records = read_audit(out / "audit.jsonl")
    footer = records[-1]
    assert (footer["record"], footer["status"], footer["error"]) == ("footer", "interrupted", "interrupted by SIGINT")
    assert footer["bars"] == PARK_AT_BAR  # bars 0..1999 were marked; bar 2000 was cut before its snapshot
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["complete"], summary["status"], summary["bars"]) == (False, "interrupted", PARK_AT_BAR)
    equity = (out / "equity.csv").read_text().splitlines()
    assert len(equity) == 1 + PARK_AT_BAR
    assert not list(out.glob(".*"))  # no temporary file left behind


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_sigkill_leaves_an_audit_log_of_complete_json_lines(tmp_path: Path) -> None:
    """SIGKILL at bar 2000: every line of audit.jsonl parses, there is no footer, no result file exists."""
    process, out = _start(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    raw = (out / "audit.jsonl").read_bytes()
    assert raw.endswith(b"\n")  # whole lines only: each batch is one write of complete lines
    records = [orjson.loads(line) for line in raw.splitlines()]
    assert records[0]["record"] == "header"
    assert all(r["record"] != "footer" for r in records)
    # The log got at least through bar 1000: batches of 4096 records are written as they fill up.
    bars = [r["data"]["bar"] for r in records if r["record"] == "publish" and r["type"] == "MarketEvent"]
    assert bars == list(range(len(bars))) and len(bars) > 1000
    assert not (out / "summary.json").exists() and not (out / "equity.csv").exists()
