"""Interruptions: Ctrl-C and SIGTERM end a run with an ``interrupted`` footer and incomplete results, from the
command line and from ``eventbt.run(out=...)`` alike; SIGKILL leaves an audit log of complete JSON lines. Each
test runs eventbt in a subprocess that parks at a known bar, then sends it a real signal."""

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
# waits (at most two minutes) for the signal the test sends; then runs the CLI. (The handler is told that no bar
# is quiet, so that no bar goes by in a block of quiet bars, which marks and records without that hook.)
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
PortfolioHandler.quiet_until = lambda self, bar: bar  # every bar event by event, so each reaches on_bar_end
sys.exit(main(sys.argv[3:]))
"""

# The same parking, around eventbt.run(..., out=...) inside a loop that skips failing runs with
# `except Exception`: an interruption must get through it (exit 3), not be swallowed (exit 4).
API_DRIVER = DRIVER.replace("sys.exit(main(sys.argv[3:]))", """
import eventbt
try:
    for attempt in range(2):
        try:
            eventbt.run(sys.argv[3], out=sys.argv[4])
        except Exception as exc:
            print("swallowed", type(exc).__name__)
            sys.exit(4)
        sys.exit(0)
except KeyboardInterrupt as exc:
    print("interrupted", type(exc).__name__, getattr(exc, "signal", None))
    sys.exit(3)
""")


def _start(tmp_path: Path, *, api: bool = False) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / "out"
    marker = tmp_path / "parked"
    if api:
        command = [sys.executable, "-c", API_DRIVER, str(marker), str(PARK_AT_BAR), str(SCENARIO), str(out)]
    else:
        command = [sys.executable, "-c", DRIVER, str(marker), str(PARK_AT_BAR), "run", str(SCENARIO), "--out",
                   str(out), "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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


def _partial(out: Path, signal_name: str) -> None:
    """The run folder holds the results up to bar 2000, marked incomplete, that agree with the log."""
    from eventbt.replays.verify import verify_run

    footer = read_audit(out / "audit.jsonl")[-1]
    assert (footer["record"], footer["status"], footer["error"]) == ("footer", "interrupted",
                                                                     f"interrupted by {signal_name}")
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["complete"], summary["status"], summary["bars"]) == (False, "interrupted", PARK_AT_BAR)
    assert summary["digest"] == footer["digest"]
    assert sorted(p.name for p in out.iterdir()) == ["audit.jsonl", "equity.csv", "eventbt-run.json",
                                                     "scenario.toml", "signals.csv", "summary.json", "trades.csv",
                                                     "weights.csv"]
    assert verify_run(out).ok


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_sigterm_stops_the_command_line_as_sigint_does(tmp_path: Path) -> None:
    """SIGTERM at bar 2000: exit 143 (128 + 15), one line, footer and summary as for Ctrl-C."""
    process, out = _start(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert err.splitlines()[-1] == "eventbt: run terminated (SIGTERM); results up to the interruption are incomplete"
    _partial(out, "SIGTERM")


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_eventbt_run_gets_through_except_exception_and_writes_partial_results(
        tmp_path: Path, sent: signal.Signals) -> None:
    """From Python: the interruption is a KeyboardInterrupt (RunInterrupted) an `except Exception` loop cannot
    swallow, and `out=` holds the same partial, incomplete-marked files as the command line writes."""
    process, out = _start(tmp_path, api=True)
    process.send_signal(sent)
    printed, err = process.communicate(timeout=120)
    assert process.returncode == 3, (printed, err)
    assert printed.strip() == f"interrupted RunInterrupted {sent.name}"
    _partial(out, sent.name)


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_an_interrupted_rerun_replaces_the_earlier_run_with_its_partial_one(tmp_path: Path) -> None:
    """Re-running into a finished run's folder (with its report), then Ctrl-C: the folder holds the new partial
    run alone, no stale report.html or complete summary.json beside the new log."""
    import eventbt
    from eventbt.report import write_report

    out = tmp_path / "out"
    eventbt.run(ROOT / "scenarios" / "ema_next_open.toml", out=out)
    write_report(out)
    process, _ = _start(tmp_path)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    _partial(out, "SIGINT")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
