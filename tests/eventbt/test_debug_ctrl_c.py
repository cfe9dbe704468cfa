"""Ctrl-C in the debugger: at the prompt it only reminds how to leave; during a move it stops the run between two
events, and the session goes on. The moves are stopped by a real SIGINT the scenario's extra handler sends to this
process while it handles bar 0's AAA fill (FillEvent #7); the tiny scenario is worked by hand in debug_fixtures."""

from __future__ import annotations

import io
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.cli import main
from eventbt.debug.debugger import Debugger
from eventbt.debug.prompt import CTRL_C_AT_PROMPT, INTERRUPTED, DebugShell, ctrl_c_stops_the_run
from eventbt.errors import RunInterrupted
from tests.eventbt.debug_fixtures import PressesCtrlC, write_ctrl_c, write_tiny

# Bar 0's BBB fill, the event after the AAA fill #7 in the hand-worked listing (debug_fixtures).
BBB_FILL = "FillEvent #8  2021-01-04T16:00:00  BUY 24 BBB @ 20.0000  commission 1.00  slippage 0.00  (order #6)"


def _reader(answers: Iterable[str | BaseException], seen: list[Any]) -> Callable[[str], str]:
    """A stand-in for input(): each answer in turn (an exception is raised), then the end of input (Ctrl-D). It keeps
    the SIGINT handler in place at each prompt in ``seen``."""
    pending = iter(answers)

    def read(prompt: str) -> str:
        seen.append(signal.getsignal(signal.SIGINT))
        answer = next(pending, EOFError())
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return read


def _session(scenario: Path, answers: Iterable[str | BaseException]) -> tuple[str, list[Any]]:
    """Run ``answers`` at an interactive prompt on ``scenario``: what it printed, and the SIGINT handler at each
    prompt."""
    out = io.StringIO()
    shell = DebugShell(eventbt.Simulation.from_scenario(scenario).debugger, stdout=out)
    seen: list[Any] = []
    shell.read_loop(_reader(answers, seen))
    return out.getvalue(), seen


def test_ctrl_c_at_the_prompt_prints_a_reminder_and_the_session_keeps_its_breakpoints(tmp_path: Path) -> None:
    """Ctrl-C at the prompt ended the session ("eventbt: error: interrupted"); now it prints a reminder and asks
    again, and the breakpoint set before it still stops the run before bar 0's BBB fill (#8, debug_fixtures)."""
    out, seen = _session(write_tiny(tmp_path), ["break FillEvent BBB", KeyboardInterrupt(), "continue"])
    assert out.splitlines() == ["breakpoint 1: FillEvent BBB", "", CTRL_C_AT_PROMPT, "breakpoint 1: FillEvent BBB",
                                f"stopped before {BBB_FILL}", ""]
    assert seen == [signal.default_int_handler] * 4  # the prompt itself leaves Ctrl-C alone


def test_ctrl_c_during_until_stops_between_events_and_continue_ends_as_an_uninterrupted_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C while `until` runs, sent while a handler takes the AAA fill #7, ended the session (exit 130). Now the
    run stops before the next event, the BBB fill #8, with the AAA fill booked whole: 49 AAA, cash 1,000 - 49 x 10
    - 1 = 509. `continue` then ends with the digest of the same scenario run without a Ctrl-C (eventbt.run), and
    the handler Ctrl-C had before the command is back at each prompt."""
    scenario = write_ctrl_c(tmp_path)
    digest = eventbt.run(scenario).summary["digest"]  # presses = 0: no Ctrl-C
    monkeypatch.setattr(PressesCtrlC, "presses", 1)
    out, seen = _session(scenario, ["until 2030-01-01", "portfolio", "continue"])
    lines = out.splitlines()
    assert lines[:2] == [INTERRUPTED, f"stopped before {BBB_FILL}"]
    assert [line.split()[:2] for line in lines[3:6]] == [["symbol", "shares"], ["AAA", "49"], ["cash", "509.00"]]
    assert lines[-2] == f"the run is over: final value 1,606.00, audit digest {digest}"
    assert seen == [signal.default_int_handler] * 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("move", ["next", "run_until", "continue_", "step_rebalance"])
def test_an_interrupt_stops_every_move_before_the_next_event(move: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Each move, interrupted while FillEvent #7 is handled, stops before #8 and says so (Debugger.interrupted); the
    next move is not interrupted again and ends with the digest of the run without a Ctrl-C."""
    scenario = write_ctrl_c(tmp_path)
    digest = eventbt.run(scenario).summary["digest"]
    monkeypatch.setattr(PressesCtrlC, "presses", 1)
    debugger: Debugger = eventbt.Simulation.from_scenario(scenario).debugger
    moves: dict[str, Callable[[], Any]] = {"next": lambda: debugger.next(50),
                                           "run_until": lambda: debugger.run_until("2030-01-01"),
                                           "continue_": debugger.continue_, "step_rebalance": debugger.step_rebalance}
    with ctrl_c_stops_the_run(debugger):
        moved = moves[move]()
    assert debugger.interrupted
    assert debugger.last is not None and debugger.last.id == 7
    assert debugger.upcoming is not None and debugger.upcoming.id == 8
    if move in ("next", "step_rebalance"):  # the steps made before the stop: bar 0's events #1 to #7
        assert [record.event.id for record in moved] == [1, 2, 3, 4, 5, 6, 7]
    monkeypatch.setattr(PressesCtrlC, "presses", 0)
    assert debugger.continue_() is None and not debugger.interrupted
    assert debugger.result.digest == digest


def test_a_second_ctrl_c_before_the_run_stops_interrupts_the_run_as_before(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two Ctrl-C while the AAA fill #7 is handled (a handler that never returns): the second raises as Ctrl-C does
    outside the debugger, the run ends "interrupted", and the handler Ctrl-C had before the command is back."""
    scenario = write_ctrl_c(tmp_path)
    monkeypatch.setattr(PressesCtrlC, "presses", 2)
    shell = DebugShell(eventbt.Simulation.from_scenario(scenario).debugger, stdout=io.StringIO())
    with pytest.raises(RunInterrupted):
        shell.read_loop(_reader(["until 2030-01-01"], []))
    assert shell.debugger.simulation.status == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_scripted_session_keeps_ctrl_c_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """--commands has no prompt to come back to: a Ctrl-C there still ends the session, exit 130."""
    scenario = write_ctrl_c(tmp_path)
    monkeypatch.setattr(PressesCtrlC, "presses", 1)
    assert main(["debug", str(scenario), "--commands", "until 2030-01-01"]) == 130
    assert capsys.readouterr().err == "eventbt: run interrupted; results up to the interruption are incomplete\n"


@pytest.mark.parametrize("move", ["next", "run_until", "continue_", "step_rebalance"])
def test_an_interrupt_asked_while_nothing_moves_does_not_stop_the_next_move(move: str, tmp_path: Path) -> None:
    """interrupt() between moves was kept and stopped the next move before its first event (continue_() delivered
    nothing); now each move starts with none pending. From 2021-01-05's MarketEvent #11 (the hand-worked listing):
    next(2) delivers #11 and #12, the others run on and are not marked interrupted."""
    debugger: Debugger = eventbt.Simulation.from_scenario(write_tiny(tmp_path)).debugger
    stopped = debugger.run_until("2021-01-05")
    assert stopped is not None and stopped.id == 11
    debugger.interrupt()
    moves: dict[str, Callable[[], Any]] = {"next": lambda: debugger.next(2),
                                           "run_until": lambda: debugger.run_until("2021-01-06"),
                                           "continue_": debugger.continue_, "step_rebalance": debugger.step_rebalance}
    moves[move]()
    assert not debugger.interrupted and not debugger.interrupt_requested
    assert debugger.last is not None and debugger.last.id >= 12
