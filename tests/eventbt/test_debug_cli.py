"""`eventbt debug`: the prompt driven through standard input and a pseudo-terminal, scripts, and --dump."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import eventbt
from eventbt.cli import main
from tests.eventbt.debug_fixtures import write_buggy_fill, write_tiny

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(write_tiny(tmp_path))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_prompt_reads_commands_from_standard_input(tiny: str, capsys, monkeypatch) -> None:
    """A session piped to stdin: each command is echoed after the prompt and followed by its output."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("next 2\nbreak fill BBB\ncontinue\nwhy\nportfolio\nquit\n"))
    code, out, _ = _run(["debug", tiny, "--at", "2021-01-06"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "stopped before MarketEvent #14  2021-01-06T16:00:00  bar 2"
    prompts = [line for line in lines if line.startswith("(eventbt) ")]
    assert prompts == ["(eventbt) next 2", "(eventbt) break fill BBB", "(eventbt) continue", "(eventbt) why",
                       "(eventbt) portfolio", "(eventbt) quit"]
    assert "  rebalance  NoticeEvent #16, 2 OrderEvent #17-#18" in lines
    assert "breakpoint 1: FillEvent BBB" in lines
    assert "stopped before FillEvent #20  2021-01-06T16:00:00  BUY 7 BBB @ 25.0000  commission 1.00  " \
           "slippage 0.00  (order #18)" in lines
    # why: BBB wanted 8 and got 7, since 8 would cost 201 and only 28 + 159 = 187 was available
    assert any("scaled_for_cash  BBB" in line and "wanted 8, ordered 7" in line and "187.00 was available" in line
               for line in lines)
    # portfolio before the BBB fill: cash 187, AAA 41, BBB still 24
    assert any(line.split()[:2] == ["AAA", "41"] for line in lines)
    assert any(line.split()[:2] == ["BBB", "24"] for line in lines)


def test_commands_option_runs_a_session_and_until_past_the_end_finishes(tiny: str, capsys) -> None:
    """--commands runs ;-separated commands; until past the data ends the run with the plain run's digest."""
    plain = eventbt.Simulation.from_scenario(tiny).run()
    assert plain is not None
    code, out, _ = _run(["debug", tiny, "--commands", "next; until 2031-01-01; next; queue"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "stopped before MarketEvent #1  2021-01-04T16:00:00  bar 0"
    over = f"the run is over: final value 1,606.00, audit digest {plain.digest}"
    assert lines.count(over) == 2
    assert "queue empty (the run is over)" in lines


def test_script_option_reads_one_command_a_line_and_skips_comments(tiny: str, tmp_path: Path, capsys) -> None:
    """--script FILE: blank lines and # comments are skipped; errors are reported, the script goes on, exit 2."""
    script = tmp_path / "session.txt"
    script.write_text("# look at the first rebalance\nstep-rebalance\n\nevent 99\nfills\nbogus\n", encoding="utf-8")
    code, out, err = _run(["debug", tiny, "--script", str(script)], capsys)
    assert code == 2
    assert err == ("eventbt: error: 2 debugger commands failed; the first: event 99: no event #99 has been "
                   "published yet\n")
    assert "(eventbt) # look" not in out
    assert "error: no event #99 has been published yet" in out
    assert "error: unknown command 'bogus' (type help)" in out
    assert "fills of signal #2 on 2021-01-04T16:00:00" in out


def test_dump_text_prints_the_rebalance_event_by_event(tiny: str, capsys) -> None:
    """--dump prints one titled step per event of the rebalance, Market first and Snapshot last."""
    code, out, _ = _run(["debug", tiny, "--at", "2021-01-06", "--dump"], capsys)
    assert code == 0
    titles = [line.split("  ")[2] for line in out.splitlines() if line.startswith("seq ")]
    assert [title.split(" #")[0] for title in titles] == [
        "MarketEvent", "SignalEvent", "NoticeEvent", "OrderEvent", "OrderEvent", "FillEvent", "FillEvent",
        "BarEndEvent", "SnapshotEvent"]


def test_dump_json_matches_the_audit_log_of_that_date(tiny: str, capsys) -> None:
    """--dump --json parses, and each step agrees with the plain run's publish records (in delivery order)."""
    code, out, _ = _run(["debug", tiny, "--at", "2021-01-06", "--dump", "--json"], capsys)
    assert code == 0
    dump = json.loads(out)
    plain = eventbt.Simulation.from_scenario(tiny)
    plain.run()
    records = plain.audit.records()
    published = {r["id"]: r for r in records if r["record"] == "publish"}
    delivered = {r["id"]: r["to"] for r in records if r["record"] == "publish"}
    # delivery order is (time, seq): the bus contract
    in_order = sorted(published.values(), key=lambda r: (r["time"], r["seq"]))
    on_date = [r["id"] for r in in_order if r["time"].startswith("2021-01-06")]
    steps = dump["steps"]
    assert [s["id"] for s in steps] == on_date
    for step in steps:
        audit = published[step["id"]]
        for key in ("seq", "type", "time", "cause", "by", "data"):
            assert step[key] == audit[key], key
        assert step["to"] == delivered[step["id"]]
    buy = next(s for s in steps if s["type"] == "FillEvent" and s["data"]["symbol"] == "BBB")
    assert (buy["cash_before"], buy["cash_after"]) == pytest.approx((187.0, 11.0))
    assert buy["changes"] == [{"symbol": "BBB", "shares_before": 24, "shares_after": 31,
                               "average_cost_before": 20.0, "average_cost_after": pytest.approx(655 / 31)}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "2021-02-30"], "eventbt: error: --at: not a date: '2021-02-30' (expected YYYY-MM-DD)"),
        (["--json"], "eventbt: error: --json goes with --dump"),
        (["--script", "missing.txt"], "eventbt: error: cannot read missing.txt: No such file or directory"),
    ],
)
def test_bad_options_exit_2_with_one_line(tiny: str, capsys, argv: list[str], message: str) -> None:
    """A bad date, --json without --dump or a missing script: exit 2 and one line on stderr."""
    code, _, err = _run(["debug", tiny, *argv], capsys)
    assert code == 2
    assert err.strip() == message


def _read_until(fd: int, marker: bytes, buffer: bytearray, deadline: float) -> bool:
    while marker not in buffer:
        if time.monotonic() > deadline:
            return False
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return marker in buffer
            if not chunk:
                return marker in buffer
            buffer.extend(chunk)
    return True


def test_prompt_works_interactively_in_a_pseudo_terminal(tiny: str, tmp_path: Path) -> None:
    """On a terminal: prompts, bold step titles, quit ends the process and the history file keeps commands."""
    history = tmp_path / "history"
    env = {**os.environ, "EVENTBT_HISTORY": str(history), "TERM": "dumb", "COLUMNS": "200"}
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "eventbt.cli", "debug", tiny, "--at", "2021-01-06"],
                               stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=ROOT)
    os.close(secondary)
    buffer = bytearray()
    deadline = time.monotonic() + 60  # a safety net against a hang, not a timing check
    try:
        assert _read_until(primary, b"(eventbt) ", buffer, deadline), buffer.decode(errors="replace")
        os.write(primary, b"next\n")
        assert _read_until(primary, b"SignalEvent #15", buffer, deadline), buffer.decode(errors="replace")
        os.write(primary, b"orders\n")
        assert _read_until(primary, b"orders of signal #15", buffer, deadline), buffer.decode(errors="replace")
        os.write(primary, b"quit\n")
        _read_until(primary, b"\x00", buffer, deadline)  # to the end of the output
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    text = buffer.decode(errors="replace")
    assert "\x1b[1mseq 13  2021-01-06T16:00:00  MarketEvent #14  bar 2\x1b[0m" in text  # bold on a terminal
    assert "stopped before MarketEvent #14" in text
    assert history.read_text(encoding="utf-8").split()[-3:] == ["next", "orders", "quit"]


def _on_its_own_terminal() -> None:
    """In the child, before the program starts: a new session whose controlling terminal is the pseudo-terminal on
    its standard input, so that Ctrl-C typed there is a SIGINT to it, as in a shell."""
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_ctrl_c_typed_at_the_prompt_leaves_the_session_open(tiny: str, tmp_path: Path) -> None:
    """Ctrl-C typed at the idle prompt ended the session ("eventbt: error: interrupted", exit 130); now it prints a
    reminder, the next command steps from where the session was (bar 2's MarketEvent #14 publishes SignalEvent
    #15, as in the test above) and quit exits 0."""
    from eventbt.debug.prompt import CTRL_C_AT_PROMPT

    env = {**os.environ, "EVENTBT_HISTORY": str(tmp_path / "history"), "TERM": "dumb", "COLUMNS": "200"}
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "eventbt.cli", "debug", tiny, "--at", "2021-01-06"],
                               stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=ROOT,
                               start_new_session=True, preexec_fn=_on_its_own_terminal)
    os.close(secondary)
    buffer = bytearray()
    deadline = time.monotonic() + 60  # a safety net against a hang, not a timing check
    try:
        assert _read_until(primary, b"(eventbt) ", buffer, deadline), buffer.decode(errors="replace")
        # Typed again while nothing comes: a Ctrl-C landing just as readline starts to wait for a key is only seen
        # with the next key (Python's readline), and each one at the prompt is harmless.
        reminded = CTRL_C_AT_PROMPT.encode() + b"\r\n(eventbt) "
        while True:
            os.write(primary, b"\x03")
            if _read_until(primary, reminded, buffer, min(deadline, time.monotonic() + 1)):
                break
            assert time.monotonic() < deadline, buffer.decode(errors="replace")
        os.write(primary, b"next\n")
        assert _read_until(primary, b"SignalEvent #15", buffer, deadline), buffer.decode(errors="replace")
        os.write(primary, b"quit\n")
        _read_until(primary, b"\x00", buffer, deadline)  # to the end of the output
        assert process.wait(timeout=60) == 0, buffer.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    assert b"interrupted" not in buffer


def test_a_debug_session_leaves_the_scenario_audit_log_as_it_was(tiny: str, capsys) -> None:
    """`eventbt debug` keeps its log in memory (docs/debugging.md): the earlier run's log at the scenario's
    ``[audit] path`` is neither emptied nor cut short by a session stopped part-way, and a later run takes it."""
    scenario = Path(tiny)
    scenario.write_text(scenario.read_text(encoding="utf-8") + '[audit]\npath = "log.jsonl"\n', encoding="utf-8")
    log = scenario.parent / "log.jsonl"
    assert _run(["run", tiny], capsys)[0] == 0
    written = log.read_bytes()
    code, out, _ = _run(["debug", tiny, "--at", "2021-01-05", "--commands", "next 3"], capsys)
    assert code == 0 and "\nstopped before MarketEvent #11  2021-01-05T16:00:00" in out
    assert log.read_bytes() == written
    assert _run(["run", tiny], capsys)[0] == 0  # not refused as "not an eventbt audit log"
    assert eventbt.audit.read_audit(log)[-1]["digest"] == json.loads(written.splitlines()[-1])["digest"]


def test_why_and_orders_before_the_signal_reaches_the_rebalance_handler_say_so(tiny: str, capsys) -> None:
    """`next` delivers bar 2's MarketEvent #14, whose strategy publishes SignalEvent #15, still queued: `why` said
    "no notice (nothing skipped, scaled or trimmed)", yet one step later BBB's buy is scaled for cash (notice #16).
    Now `why` and `orders` say the signal has not reached the rebalance handler yet; after it has, the notice."""
    code, out, _ = _run(["debug", tiny, "--at", "2021-01-06", "--commands", "next; why; orders; why 15; next; why"],
                        capsys)
    lines = out.splitlines()
    not_yet = "it has not reached the rebalance handler yet (it is queued: step on, then ask again)"
    assert code == 0
    assert lines[lines.index("(eventbt) why") + 1] == f"why: rebalance signal #15: {not_yet}"
    assert lines[lines.index("(eventbt) orders") + 1] == f"orders of signal #15 on 2021-01-06T16:00:00: none yet, " \
                                                         f"{not_yet}"
    assert lines[lines.index("(eventbt) why 15") + 1] == f"why: SignalEvent #15: {not_yet}"
    after = lines[len(lines) - 1 - lines[::-1].index("(eventbt) why") + 1:]
    assert after[0] == "why: rebalance signal #15" and "scaled_for_cash  BBB" in after[2]


def test_dump_of_a_rebalance_that_fails_prints_its_steps_then_the_error(tmp_path: Path, capsys) -> None:
    """A handler raising on bar 0's BBB fill (FillEvent #8, after the AAA fill #7): --dump printed the error alone;
    now the steps up to the failure first (the market event to the AAA fill, as step-rebalance prints them), then
    the error, exit 2. The steps are those the same dump prints on the tiny scenario without the buggy handler."""
    from tests.eventbt.debug_fixtures import write_buggy_fill

    (tmp_path / "plain").mkdir()
    code, plain, _ = _run(["debug", str(write_tiny(tmp_path / "plain")), "--dump"], capsys)
    assert code == 0
    code, out, err = _run(["debug", str(write_buggy_fill(tmp_path)), "--dump"], capsys)
    assert code == 2
    assert err.startswith("eventbt: error: handler 'buggy_fill' raised ZeroDivisionError: buggy fee on BBB; while "
                          "handling FillEvent #8 at 2021-01-04T16:00:00")
    steps = out.split("\nseq ")
    assert steps[0].startswith("seq 0  2021-01-04T16:00:00  MarketEvent #1")
    assert steps[-1].startswith("6  2021-01-04T16:00:00  FillEvent #7  BUY 49 AAA")
    shown = plain.split("\nseq ")
    assert [step.split("\n")[0] for step in steps] == [step.split("\n")[0] for step in shown[:len(steps)]]


def test_a_missing_script_is_an_error_before_the_run_is_built(tiny: str, tmp_path: Path, capsys,
                                                              monkeypatch) -> None:
    """--script naming no file: exit 2 before the scenario is run to --at (it printed the stop line first)."""
    def not_built(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run was built")

    monkeypatch.setattr(eventbt.Simulation, "from_scenario", not_built)
    code, out, err = _run(["debug", tiny, "--at", "2021-01-06", "--script", str(tmp_path / "none.txt")], capsys)
    assert (code, out) == (2, "")
    assert err == f"eventbt: error: cannot read {tmp_path / 'none.txt'}: No such file or directory\n"


def test_next_and_until_say_which_breakpoint_stopped_them(tiny: str, capsys) -> None:
    """`next 20` and `until` ran past a breakpoint; now they stop before BBB's fill (#8, bar 0's second fill in the
    hand-worked listing: BUY 24 BBB @ 20, commission 1) and name the breakpoint above the stop line."""
    stop = ("stopped before FillEvent #8  2021-01-04T16:00:00  BUY 24 BBB @ 20.0000  commission 1.00  slippage 0.00  "
            "(order #6)")
    code, out, _ = _run(["debug", tiny, "--commands", "break fill BBB; next 20"], capsys)
    assert code == 0 and out.splitlines()[-2:] == ["breakpoint 1: FillEvent BBB", stop]
    code, out, _ = _run(["debug", tiny, "--commands", "break fill BBB; until 2021-01-06"], capsys)
    assert code == 0 and out.splitlines()[-3:] == ["(eventbt) until 2021-01-06", "breakpoint 1: FillEvent BBB", stop]


def test_dump_json_after_a_handler_error_holds_the_error(tmp_path: Path, capsys) -> None:
    """--dump --json after a handler error printed the steps only (the error on stderr alone); now its "error" names
    the message, the handler and the failing event: BBB's fill #8 (bar 0's second fill in the hand-worked
    listing), which is not a step, its delivery cut short, after steps #1 to #7. Exit 2, as for the text dump."""
    code, out, err = _run(["debug", str(write_buggy_fill(tmp_path)), "--at", "2021-01-04", "--dump", "--json"], capsys)
    payload = json.loads(out)
    assert code == 2 and [step["id"] for step in payload["steps"]] == [1, 2, 3, 4, 5, 6, 7]
    message = ("handler 'buggy_fill' raised ZeroDivisionError: buggy fee on BBB; while handling FillEvent #8 at "
               "2021-01-04T16:00:00; causal chain: FillEvent#8 <- OrderEvent#6 <- SignalEvent#2 <- MarketEvent#1")
    assert payload["error"] == {"message": message, "handler": "buggy_fill", "event": 8, "type": "FillEvent",
                                "time": "2021-01-04T16:00:00"}
    assert err == f"eventbt: error: {message}\n"


def test_step_rebalance_shows_its_steps_before_a_breakpoint_predicate_error(tiny: str, capsys) -> None:
    """A breakpoint predicate that raises inside step-rebalance stops it before that event; the steps made before
    it are shown, then the error. The predicate reads `symbol`, which bar 0's SignalEvent #2 lacks: the first step
    (#1, unchecked as a move's first event) is shown, then the error naming #2."""
    from eventbt.debug.prompt import DebugShell

    out = io.StringIO()
    shell = DebugShell(eventbt.Simulation.from_scenario(tiny).debugger, stdout=out)
    shell.debugger.add_breakpoint(predicate=lambda e: e.symbol == "BBB")  # type: ignore[attr-defined]
    shell.run_lines(["step-rebalance"])
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("seq 0  2021-01-04T16:00:00  MarketEvent #1")
    assert lines[-1].startswith("error: breakpoint 1 (any event if <lambda>) raised AttributeError on SignalEvent #2 ")
    assert sum(line.startswith("seq ") for line in lines) == 1
