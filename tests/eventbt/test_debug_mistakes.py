"""The step debugger under mistakes: breakpoints that could never fire, bad arguments, unknown commands, dates
off the data or the schedule, going back in time, and a handler error (a post-mortem, not the end)."""

from __future__ import annotations

from pathlib import Path

import pytest

import eventbt
from eventbt.cli import main
from eventbt.errors import DebuggerError, HandlerError
from eventbt.events import MarketEvent
from tests.eventbt.debug_fixtures import write_buggy, write_tiny

# The tiny scenario: symbols AAA and BBB, bars 2021-01-04, 01-05 and 01-06, rebalanced on 01-04 and 01-06.


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(write_tiny(tmp_path))


def _session(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# Every event class of eventbt.events, sorted (written out: the message must list them all).
EVENT_TYPES = ("BarEndEvent, BarOpenEvent, CancelEvent, CashFlowEvent, DataEndEvent, DividendEvent, "
               "DividendPaymentEvent, FeeEvent, FillEvent, MarginCallEvent, MarketEvent, NoticeEvent, OrderEvent, "
               "OrderStateEvent, SignalEvent, SnapshotEvent, SplitAdjustmentEvent, SplitEvent, WarmupBarEvent")
NEVER = "so a breakpoint on it would never fire"
NEITHER = "is neither an event type nor a symbol of the run's data"
REFUSED = [
    ("break fil", f"error: 'fil' {NEITHER} (did you mean 'fill'?), {NEVER}"),
    ("break aaa", f"error: 'aaa' {NEITHER} (did you mean 'AAA'?), {NEVER}"),
    ("break order aaa", f"error: symbol 'aaa' is not in the run's data (did you mean 'AAA'?), {NEVER}"),
    ("break AAA AAA", f"error: unknown event type 'AAA' (expected one of {EVENT_TYPES})"),
    ("break ordr AAA", f"error: unknown event type 'ordr' (did you mean 'order'?) (expected one of {EVENT_TYPES})"),
    ("break market AAA", "error: MarketEvent has no symbol, so a breakpoint on MarketEvent AAA would never fire"),
    ("break 2030-01-01", f"error: 2030-01-01 is after the data, which ends on 2021-01-06, {NEVER}"),
    ("break fill 2021-01-02", "error: 2021-01-02 is not a date of the data, so no event falls on it and the "
                              "breakpoint would never fire"),
    ("break 2021-01-04", "error: the run has already reached 2021-01-04 (next: MarketEvent #1 at "
                         f"2021-01-04T16:00:00), {NEVER}"),
]


def test_breakpoints_that_could_never_fire_are_refused_and_take_no_number(tiny: str, capsys) -> None:
    """Each refused breakpoint prints its reason (with a did-you-mean); the next good one is number 1."""
    commands = "; ".join([c for c, _ in REFUSED] + ["break fill AAA", "break"])
    code, lines, err = _session(["debug", tiny, "--commands", commands], capsys)
    for command, message in REFUSED:
        assert lines[lines.index(f"(eventbt) {command}") + 1] == message
    assert lines[-3:] == ["breakpoint 1: FillEvent AAA", "(eventbt) break", "1: FillEvent AAA"]
    assert code == 2
    assert err.startswith(f"eventbt: error: {len(REFUSED)} debugger commands failed; the first: break fil: ")


def test_the_python_api_refuses_the_same_breakpoints(tiny: str) -> None:
    """add_breakpoint refuses a type that is not one, a symbol not in the data and a date past the data."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    with pytest.raises(DebuggerError, match=r"unknown event type 'fil' \(did you mean 'fill'\?\)"):
        debugger.add_breakpoint("fil")
    with pytest.raises(DebuggerError, match=r"symbol 'aaa' is not in the run's data \(did you mean 'AAA'\?\)"):
        debugger.add_breakpoint(symbol="aaa")
    with pytest.raises(DebuggerError, match="is after the data"):
        debugger.add_breakpoint(date="2022-01-01")
    # a class that is not an event (it was accepted and never fired)
    with pytest.raises(DebuggerError, match=r"^str is not an event class \(a subclass of eventbt.events.Event\), so "
                                            r"a breakpoint on it would never fire$"):
        debugger.add_breakpoint(str)  # type: ignore[arg-type]
    assert debugger.add_breakpoint("fill", "BBB").number == 1


@pytest.mark.parametrize(("command", "message"), [
    ("next -2", "error: next takes a positive whole number of events (default 1), got '-2'"),
    ("next abc", "error: next takes a positive whole number of events (default 1), got 'abc'"),
    ("next 0", "error: next takes a positive whole number of events (default 1), got '0'"),
    ("delete x", "error: delete takes a breakpoint number, got 'x'"),
    ("nxt", "error: unknown command 'nxt' (did you mean 'next'?) (type help)"),
    ("contnue", "error: unknown command 'contnue' (did you mean 'continue'?) (type help)"),
    ("step_rebalnce", "error: unknown command 'step_rebalnce' (did you mean 'step-rebalance'?) (type help)"),
    # Named as typed: the dashes the shell turns into underscores to find a method stay dashes.
    ("step-rebalanse", "error: unknown command 'step-rebalanse' (did you mean 'step-rebalance'?) (type help)"),
    ("bogus", "error: unknown command 'bogus' (type help)"),
    ("until 2020-01-01", "error: the run is already past 2020-01-01: MarketEvent #1 at 2021-01-04T16:00:00 has "
                         "been delivered (a run only goes forward)"),
])
def test_wrong_arguments_and_commands_say_what_is_expected(tiny: str, capsys, command: str, message: str) -> None:
    """A bad count, an unknown command (did you mean) or a date in the past: one error line, exit 2."""
    code, lines, err = _session(["debug", tiny, "--commands", f"next; {command}"], capsys)
    assert lines[lines.index(f"(eventbt) {command}") + 1] == message
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize("alias", ["step", "s", "n"])
def test_step_and_s_are_next_as_in_pdb(tiny: str, capsys, alias: str) -> None:
    """`step 2`, `s 2` and `n 2` print what `next 2` prints."""
    _, expected, _ = _session(["debug", tiny, "--commands", "next 2"], capsys)
    code, lines, _ = _session(["debug", tiny, "--commands", f"{alias} 2"], capsys)
    assert code == 0 and lines[2:] == expected[2:] and len(lines) > 4


def test_run_until_into_the_past_is_an_error(tiny: str) -> None:
    """sim.debugger.run_until a date before the current event raises, and the run has not moved."""
    sim = eventbt.Simulation.from_scenario(tiny)
    stopped = sim.debugger.run_until("2021-01-05")
    assert stopped is not None and stopped.date.startswith("2021-01-05")
    with pytest.raises(DebuggerError, match="the run is already past 1980-01-01"):
        sim.debugger.run_until("1980-01-01")
    assert sim.debugger.event() is stopped


@pytest.mark.parametrize(("at", "note", "stop"), [
    ("1980-01-01", "note: --at 1980-01-01 is before the data, which starts on 2021-01-04: stopped at the first event",
     "stopped before MarketEvent #1  2021-01-04T16:00:00  bar 0"),
    ("2030-01-01", "note: --at 2030-01-01 is after the data, which ends on 2021-01-06: the run went to its end",
     "the run is over: final value 1,606.00"),
    ("2021-01-05", "note: 2021-01-05 is not a rebalance date; the next is on 2021-01-06",
     "stopped before MarketEvent #11  2021-01-05T16:00:00  bar 1"),
    ("2021-01-02", "note: --at 2021-01-02 is before the data, which starts on 2021-01-04: stopped at the first event",
     "stopped before MarketEvent #1  2021-01-04T16:00:00  bar 0"),
])
def test_at_off_the_data_or_the_schedule_says_what_it_did(tiny: str, capsys, at: str, note: str, stop: str) -> None:
    """--at before or after the data, or on a day without a rebalance: a note, then where the run stopped."""
    code, lines, _ = _session(["debug", tiny, "--at", at, "--commands", "queue"], capsys)
    assert code == 0
    assert lines[0] == note and lines[1].startswith(stop)


def test_dump_at_a_day_without_a_rebalance_shows_the_next_and_says_so(tiny: str, capsys) -> None:
    """--dump --at 2021-01-05 prints the 2021-01-06 rebalance, with a note on stderr; past the data: exit 2."""
    code, lines, err = _session(["debug", tiny, "--at", "2021-01-05", "--dump"], capsys)
    assert code == 0
    assert err == "eventbt: note: no rebalance on 2021-01-05; this is the next one, on 2021-01-06\n"
    assert lines[0].startswith("seq 13  2021-01-06T16:00:00  MarketEvent #14")
    code, lines, err = _session(["debug", tiny, "--at", "2030-01-01", "--dump"], capsys)
    assert (code, lines) == (2, [])
    assert err == "eventbt: error: --dump --at 2030-01-01: no rebalance on or after it, the data ends on 2021-01-06\n"


def test_a_handler_error_is_a_post_mortem_and_the_prompt_stays(tmp_path: Path, capsys) -> None:
    """The buggy handler fails at bar 1: the session shows the error and the chain, stays at the failing event
    (event and trace default to it, portfolio shows the book as it stopped), moving says the run failed; exit 2."""
    scenario = str(write_buggy(tmp_path))
    code, lines, err = _session(["debug", scenario, "--commands", "continue; event; portfolio; next; queue"], capsys)
    failed = ("the run failed at MarketEvent #11  2021-01-05T16:00:00 (handler 'buggy'); post-mortem: event, trace, "
              "why, portfolio and queue show it as it stopped")
    assert lines[2:5] == [
        "error: handler 'buggy' raised ZeroDivisionError: division by zero; while handling MarketEvent #11 at "
        "2021-01-05T16:00:00; causal chain: MarketEvent#11", failed, "MarketEvent #11"]
    assert lines[lines.index("(eventbt) event") + 1] == "MarketEvent #11  bar 1"
    assert any(line.split()[:2] == ["AAA", "49"] for line in lines)  # the book after bar 0's fills
    assert lines[lines.index("(eventbt) next") + 1] == failed
    assert "(eventbt) queue" in lines  # the session went on to the last command
    assert code == 2 and "1 debugger command failed; the first: continue: handler 'buggy'" in err


def test_a_handler_error_before_at_is_a_post_mortem_too(tmp_path: Path, capsys) -> None:
    """--at past the failing bar: the error and the post-mortem first, then the commands."""
    scenario = str(write_buggy(tmp_path))
    code, lines, _ = _session(["debug", scenario, "--at", "2021-01-06", "--commands", "event"], capsys)
    assert lines[0].startswith("error: handler 'buggy' raised ZeroDivisionError")
    assert lines[lines.index("(eventbt) event") + 1] == "MarketEvent #11  bar 1"
    assert code == 2


def test_the_python_api_keeps_the_error_and_stays_at_the_failing_event(tmp_path: Path) -> None:
    """continue_() raises the HandlerError; debugger.error keeps it, event() is the failing event, step() is None."""
    sim = eventbt.Simulation.from_scenario(write_buggy(tmp_path))
    with pytest.raises(HandlerError) as caught:
        sim.debugger.continue_()
    assert sim.debugger.error is caught.value
    failing = sim.debugger.event()
    assert isinstance(failing, MarketEvent) and failing.bar == 1
    assert sim.debugger.step() is None and sim.debugger.continue_() is None
    assert sim.status == "failed"


@pytest.mark.parametrize("count", [0, -2, "3", 1.5, True])
def test_next_from_python_takes_a_positive_whole_number(tiny: str, count: object) -> None:
    """sim.debugger.next(count) refuses what is not a positive whole number, as the prompt does."""
    sim = eventbt.Simulation.from_scenario(tiny)
    with pytest.raises(DebuggerError, match="next takes a positive whole number of events"):
        sim.debugger.next(count)  # type: ignore[arg-type]
    assert sim.debugger.last is None


def test_the_rebalance_dates_leave_out_the_warm_up() -> None:
    """quandl_actions warms up on the data's first 40 bars and trades from 2014-03-03: its weekly rebalance dates
    start at that week's end, Friday 2014-03-07 (they listed the weeks of January and February, where nothing
    rebalances, and `debug --at 2014-01-10` was taken)."""
    from pathlib import Path

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "quandl_actions.toml"
    simulation = eventbt.Simulation.from_scenario(str(scenario))
    first = str(simulation.prices.dates[simulation.prices.warmup_bars])[:10]
    dates = simulation.debugger.rebalance_dates()
    assert first == "2014-03-03" and dates and min(dates) >= first
    assert dates[0] == "2014-03-07"


def test_a_breakpoint_predicate_that_raises_stops_before_its_event_and_names_both(tiny: str) -> None:
    """``lambda e: e.symbol == "BBB"`` raises on the first event without a symbol: bar 0's SignalEvent #2, after
    continue_() delivered MarketEvent #1. That is a DebuggerError naming the breakpoint and the event; the run
    stays at that event (queued, not lost, the run not failed), and once the breakpoint is deleted it runs on to
    the plain run's digest."""
    plain = eventbt.Simulation.from_scenario(tiny).run()
    assert plain is not None
    sim = eventbt.Simulation.from_scenario(tiny)
    debugger = sim.debugger

    def bbb(event: object) -> bool:
        return event.symbol == "BBB"  # type: ignore[attr-defined]

    debugger.add_breakpoint(predicate=bbb)
    with pytest.raises(DebuggerError) as caught:
        debugger.continue_()
    assert str(caught.value) == (
        "breakpoint 1 (any event if bbb) raised AttributeError on SignalEvent #2 at 2021-01-04T16:00:00: "
        "'SignalEvent' object has no attribute 'symbol'; stopped before that event: mend or delete the breakpoint, "
        "then continue")
    assert sim.status == "running" and debugger.error is None and debugger.hit is None
    assert [event.id for event in debugger.queue.events] == [2] and debugger.event().id == 2
    debugger.delete_breakpoint(1)
    assert debugger.continue_() is None and sim.result().digest == plain.digest


@pytest.mark.parametrize(("arguments", "message"), [
    ({"event_type": 42}, "an event type is a name ('fill', 'FillEvent') or an event class, got 42"),
    ({"predicate": 5}, "predicate= takes a function of the event (Callable[[Event], bool]), got 5"),
])
def test_add_breakpoint_refuses_arguments_of_the_wrong_kind(tiny: str, arguments: dict[str, object],
                                                            message: str) -> None:
    """A number for the event type (it raised AttributeError: 'int' object has no attribute 'strip') or a predicate
    that is not callable (it was taken, then failed the run at its first event): a DebuggerError, no number."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    with pytest.raises(DebuggerError) as caught:
        debugger.add_breakpoint(**arguments)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert debugger.breakpoints == {} and debugger.add_breakpoint("fill").number == 1


def test_looking_at_the_queue_after_a_handler_error_writes_nothing_to_the_log(tmp_path: Path) -> None:
    """The buggy handler fails at bar 1's MarketEvent #11, which was the last event published. Looking at the queue
    afterwards pulled bar 1's BarEndEvent #12 from the feed and published it after the footer, and a folder written
    from the result then failed `audit verify`; now the log still ends with its footer and verifies."""
    from eventbt.cli import main as cli

    sim = eventbt.Simulation.from_scenario(write_buggy(tmp_path))
    with pytest.raises(HandlerError):
        sim.debugger.continue_()
    before = sim.audit.lines()
    assert before[-1].startswith(b'{"') and b'"footer"' in before[-1]
    assert all(event.id != 12 for event in sim.debugger.queue.events)
    assert sim.debugger.event().id == 11 and sim.audit.lines() == before
    sim.result().write(tmp_path / "out")
    assert cli(["audit", "verify", str(tmp_path / "out" / "audit.jsonl")]) == 0


def test_breakpoints_on_events_the_run_never_publishes_are_refused(tiny: str) -> None:
    """The tiny scenario reads no corporate actions, so no split or dividend event is ever published; quandl_actions
    warms up on its first 40 bars (trading starts on 2014-03-03, as test_the_rebalance_dates_leave_out_the_warm_up
    works out), where a bar publishes only its WarmupBarEvent and its actions, and its data holds dividends of AAPL
    and MSFT and one split, of AAPL (2014-06-09): so no split of MSFT. These were taken and never fired."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    with pytest.raises(DebuggerError, match=r"^the run's data has no split \(it reads no \[data\] corporate_actions\), "
                                            r"so a breakpoint on SplitEvent would never fire$"):
        debugger.add_breakpoint("split")
    with pytest.raises(DebuggerError, match=r"^the run's data has no dividend of AAA \(it reads no"):
        debugger.add_breakpoint("dividend", "AAA")
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "quandl_actions.toml"
    debugger = eventbt.Simulation.from_scenario(scenario, audit=False).debugger
    debugger.run_until("2014-01-10")
    for event_type in ("market", "fill"):
        with pytest.raises(DebuggerError, match=r"^2014-01-15 is in the warm-up \(trading starts on 2014-03-03\), "):
            debugger.add_breakpoint(event_type, date="2014-01-15")
    with pytest.raises(DebuggerError, match=r"^the run's data has no split of MSFT, so a breakpoint on SplitEvent"):
        debugger.add_breakpoint("split", "MSFT")
    assert [debugger.add_breakpoint(*arguments).number for arguments in (("split", "AAPL"), ("warmupbar",),
                                                                          ("dividend", "MSFT"))] == [1, 2, 3]
    assert debugger.add_breakpoint("market", date="2014-03-03").number == 4


def test_next_into_a_handler_error_shows_each_step_once(tmp_path: Path, capsys) -> None:
    """`next 50` shows its steps as it makes them; when the buggy handler fails at bar 1's MarketEvent (#11),
    the steps before it are on screen once each (the post-mortem does not show them again), then the error. Each
    step's first line (``seq N  date  Kind #id ...``) names its event: the ids 1 to 10 precede #11, each once."""
    scenario = str(write_buggy(tmp_path))
    code, lines, _ = _session(["debug", scenario, "--commands", "next 50"], capsys)
    error = next(k for k, line in enumerate(lines) if line.startswith("error: handler 'buggy'"))
    before = lines[lines.index("(eventbt) next 50") + 1:error]
    heads = [line.split()[4] for line in before if line.startswith("seq ")]
    assert heads == [f"#{k}" for k in range(1, 11)]
    assert code == 2


def test_next_calls_on_step_with_each_step_as_it_is_made(tiny: str) -> None:
    """sim.debugger.next(5, on_step=f) calls f with each step right after it is made (the run has moved just
    that far when f sees it), and returns the same steps."""
    sim = eventbt.Simulation.from_scenario(tiny)
    seen: list[tuple[int, int]] = []
    steps = sim.debugger.next(5, on_step=lambda record: seen.append((record.event.id, sim.debugger.last.id)))
    assert [record.event.id for record in steps] == [event_id for event_id, _ in seen] == [1, 2, 3, 4, 5]
    assert all(event_id == last for event_id, last in seen)


COMPACT = "not a date: '20210105' (expected YYYY-MM-DD)"


def test_a_compact_date_is_refused_by_every_debugger_date_without_moving(tiny: str, capsys) -> None:
    """'20210105' is not read as the year 20,210,105 (which ran the whole run to its end): run_until, a
    breakpoint's date, `until`, `break` and `--at` all refuse it, and the run stays where it was (MarketEvent #1,
    the first event)."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    with pytest.raises(DebuggerError, match=f"^{COMPACT}$".replace("(", r"\(").replace(")", r"\)")):
        debugger.run_until("20210105")
    with pytest.raises(DebuggerError, match="expected YYYY-MM-DD"):
        debugger.add_breakpoint(date="20210106")
    assert debugger.last is None and debugger.upcoming is not None and debugger.upcoming.id == 1
    assert not debugger.breakpoints
    code, lines, _ = _session(["debug", tiny, "--commands", "until 20210105; break 20210106; break fill 20210106"],
                              capsys)
    assert lines[2] == f"error: {COMPACT}" and lines[4] == lines[6] == f"error: {COMPACT.replace('05', '06')}"
    assert code == 2
    code, _, err = _session(["debug", tiny, "--at", "20210105"], capsys)
    assert code == 2 and err == f"eventbt: error: --at: {COMPACT}\n"


def test_until_the_day_in_progress_stops_at_its_next_event_without_moving(tiny: str) -> None:
    """After `next` delivered 2021-01-04's MarketEvent #1, its signal #2 and the rest of the day are still queued:
    run_until('2021-01-04') was "already past"; now it returns #2 and delivers nothing. Once 2021-01-04's last
    event is delivered (stopped before 2021-01-05's MarketEvent #11) the date is truly past: an error."""
    debugger = eventbt.Simulation.from_scenario(tiny).debugger
    debugger.step()
    stopped = debugger.run_until("2021-01-04")
    assert stopped is not None and stopped.id == 2 and debugger.last is not None and debugger.last.id == 1
    assert debugger.upcoming is stopped
    following = debugger.run_until("2021-01-05")
    assert following is not None and following.id == 11
    with pytest.raises(DebuggerError, match="the run is already past 2021-01-04"):
        debugger.run_until("2021-01-04")
    assert debugger.upcoming is following


def test_break_takes_its_type_symbol_and_date_in_any_order(tiny: str, capsys) -> None:
    """`break AAA fill` was refused as "unknown event type 'AAA'" though `break fill AAA` worked; each word is
    recognisable (a date, an event type, a symbol of the data), so any order gives the same breakpoint."""
    commands = "break AAA fill; break 2021-01-06 BBB order; break fill 2021-01-06 AAA"
    code, lines, _ = _session(["debug", tiny, "--commands", commands], capsys)
    assert code == 0
    assert lines[1:] == ["(eventbt) break AAA fill", "breakpoint 1: FillEvent AAA",
                         "(eventbt) break 2021-01-06 BBB order", "breakpoint 2: OrderEvent BBB on 2021-01-06",
                         "(eventbt) break fill 2021-01-06 AAA", "breakpoint 3: FillEvent AAA on 2021-01-06"]
