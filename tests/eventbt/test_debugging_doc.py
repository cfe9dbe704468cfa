"""docs/debugging.md runs as written: its console transcripts and its Python session are checked here."""

from __future__ import annotations

import doctest

import pytest

from tests.eventbt.debugging_doc import DOC, ROOT, console_blocks, run_command

BLOCKS = console_blocks(DOC.read_text(encoding="utf-8"))


def test_the_page_has_transcripts() -> None:
    """The tutorial shows at least the five sessions it walks through."""
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_console_transcript_matches(command: str, expected: str, monkeypatch) -> None:
    """Each transcript's command, run from the repository root, prints exactly the lines on the page."""
    monkeypatch.chdir(ROOT)
    out = run_command(command)
    assert [line.rstrip() for line in out.splitlines()] == [line.rstrip() for line in expected.splitlines()]


def test_python_session_runs(monkeypatch) -> None:
    """The >>> examples give the outputs shown (doctest), including the digest of a plain run."""
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(DOC.read_text(encoding="utf-8"), {}, "debugging.md", str(DOC), 0)
    assert len(test.examples) >= 10
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


def test_the_tutorial_rebalance_really_scaled_the_xom_buy(monkeypatch) -> None:
    """Independently of the debugger: the audit log of a plain run has the scaled_for_cash notice the page explains."""
    import eventbt

    monkeypatch.chdir(ROOT)
    sim = eventbt.Simulation.from_scenario("scenarios/ema_rotation.toml")
    sim.run()
    notices = [r for r in sim.audit.records() if r.get("type") == "NoticeEvent"
               and r["time"].startswith("1990-09-28") and r["data"]["symbol"] == "XOM"]
    assert [(n["data"]["code"], n["data"]["details"]["wanted"], n["data"]["details"]["quantity"])
            for n in notices] == [("scaled_for_cash", 9776, 9715)]
    # 9,776 x (165,644.70 / 166,674.87) = 9,715.58, rounded down to 9,715
    details = notices[0]["data"]["details"]
    assert int(9776 * details["available"] / details["cost"]) == 9715
    assert sim.audit.digest in DOC.read_text(encoding="utf-8")
