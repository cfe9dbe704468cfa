"""How the debugger shows things: a cancel's reason under its own header, ids written ``#N``, a fee's step title with
its model and amount, and empty results without a table header."""

from __future__ import annotations

from pathlib import Path

import pytest

import eventbt
from eventbt.cli import main
from eventbt.debug.render import describe
from eventbt.events import CancelEvent, CashFlowEvent, FeeEvent
from tests.eventbt.debug_fixtures import write_tiny

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def next_open_at_the_end() -> eventbt.Simulation:
    """ema_next_open run to its end: the last rebalance (2014-12-31) signals at the last close, so its orders are
    cancelled when the data ends, before the open they wait for."""
    sim = eventbt.Simulation.from_scenario(SCENARIOS / "ema_next_open.toml", audit=False)
    sim.debugger.run_until("2100-01-01")
    return sim


def _last_cancels(sim: eventbt.Simulation) -> list[CancelEvent]:
    return [e for e in sim.bus.events.values() if isinstance(e, CancelEvent) and e.date.startswith("2014-12-31")]


def test_a_cancel_reason_sits_under_its_own_header(next_open_at_the_end: eventbt.Simulation,
                                                   tmp_path: Path) -> None:
    """The reason of a cancel was printed in the slippage column, under no header of its own; now a `reason` column
    holds it, the money columns of a cancel stay blank, and a rebalance without a cancel has no such column."""
    cancels = _last_cancels(next_open_at_the_end)
    assert cancels  # the orders waiting for the open after the last close
    lines = next_open_at_the_end.debugger.fills().text().splitlines()
    header = lines[1]
    assert header.split()[-2:] == ["slippage", "reason"]
    for cancel in cancels:
        line = next(line for line in lines if line.split()[0] == f"#{cancel.id}")
        assert line.index(cancel.reason) == header.index("reason")
        assert line[header.index("quantity") + len("quantity"):header.index("reason")].strip() == ""
    tiny = eventbt.Simulation.from_scenario(write_tiny(tmp_path))
    tiny.debugger.run_until("2030-01-01")
    assert tiny.debugger.fills().text().splitlines()[1].split()[-1] == "slippage"


def test_ids_in_an_event_are_written_as_elsewhere(next_open_at_the_end: eventbt.Simulation) -> None:
    """`event` showed a cancel's order_id as 3,738 (a quantity's thousands separator); now as `#3738`, as the cause
    and the title write it."""
    cancel = max(_last_cancels(next_open_at_the_end), key=lambda e: e.order_id)
    assert cancel.order_id >= 1000  # where the separator showed
    rows = next_open_at_the_end.debugger.event_view(cancel.id).table().rows
    assert ("order_id", f"#{cancel.order_id}") in rows
    assert ("cause", f"#{cancel.order_id}") in rows  # a fill's or cancel's cause is its order


def test_a_fee_step_shows_its_model_and_amount() -> None:
    """extra_handler, 2014-12-31: the management fee's step title was `FeeEvent #N  bar 753`; now it names the model,
    the amount (the cash the step took, read from the step's own cash line) and the reason."""
    sim = eventbt.Simulation.from_scenario(SCENARIOS / "extra_handler.toml", audit=False)
    sim.debugger.run_until("2014-12-31")
    record = next(r for r in sim.debugger.next(40) if isinstance(r.event, FeeEvent))
    fee = record.event
    assert isinstance(fee, FeeEvent) and record.cash_after < record.cash_before
    taken = f"{record.cash_before - record.cash_after:,.2f}"
    assert record.text().splitlines()[0] == (f"seq {record.seq}  {fee.date}  FeeEvent #{fee.id}  {fee.model} {taken}: "
                                             f"{fee.reason}")


@pytest.mark.parametrize(("amount", "reason", "shown"), [
    (50_000.0, "quarterly contribution", "deposit 50,000.00: quarterly contribution"),
    (-20_000.0, "fees paid out", "withdrawal 20,000.00: fees paid out"),
    (1_000.0, "", "deposit 1,000.00"),
])
def test_a_cash_flow_shows_its_direction_and_amount(amount: float, reason: str, shown: str) -> None:
    """A deposit (amount > 0) or withdrawal (< 0), as the cash_flows scenario's two, with its reason."""
    flow = CashFlowEvent(id=1, time_ns=0, bar=0, amount=amount, reason=reason)
    assert describe(flow) == shown


def test_empty_results_print_their_message_without_a_header(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`why` with no notice, `fills` before any fill and `queue` at the end printed a table header under the message;
    now the message alone. In the tiny scenario, MarketEvent #1 has no notice, and after `next` bar 0's signal #2
    is still queued, so it has no fill yet."""
    code = main(["debug", str(write_tiny(tmp_path)), "--commands", "next; why 1; fills; until 2030-01-01; queue"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert _output_of(lines, "why 1") == ["why: MarketEvent #1: no notice (nothing skipped, scaled or trimmed)"]
    assert _output_of(lines, "fills") == ["fills of signal #2 on 2021-01-04T16:00:00: none"]
    assert _output_of(lines, "queue") == ["queue empty (the run is over)"]


def _output_of(lines: list[str], command: str) -> list[str]:
    """The lines a command printed in a transcript: from its prompt line to the next prompt or the end."""
    start = lines.index(f"(eventbt) {command}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("(eventbt) ")), len(lines))
    return lines[start:end]


# Cash 210 buys 10 A at 10 (+10 commission) on 2020-01-02: 100 left. On 2020-01-03 (A 10, B 1, C 2; 10 a fill,
# no slippage) the signal is B 50%, C 50% of 200: selling A brings 100 - 10, so 190 is available. B 100 (110) and
# C 50 (110) would cost 220: scaled by 190/220 -> B 86 (96), C 43 (96) = 192 > 190, so C is trimmed by one share
# to 42 (94): the buys then cost 96 + 94 = 190, exactly what is available.
TRIM_PRICES = "date,A,B,C\n2020-01-02,10,1,2\n2020-01-03,10,1,2\n2020-01-06,10,1,2\n"
TRIM_SCENARIO = """\
[scenario]
name = "trim"
[data]
path = "prices.csv"
format = "wide"
[portfolio]
initial_cash = 210.0
[strategy]
name = "static_weights"
[strategy.params]
weights = { B = 0.5, C = 0.5 }
[schedule]
dates = ["2020-01-03"]
[execution]
timing = "same_close"
[execution.commission]
model = "fixed"
amount = 10.0
[execution.slippage]
model = "zero"
[[events]]
date = "2020-01-02"
type = "order"
symbol = "A"
side = "buy"
quantity = 10
"""


def test_a_trimmed_buy_shows_shares_before_and_after_and_says_the_cost_fits(tmp_path: Path) -> None:
    """The trimmed_for_cash notice read `C -1 -> 42` and `why` said the buys "still cost 190.00 against 190.00
    available"; worked by hand above: C goes 43 -> 42 and the buys then cost 190.00, within the 190.00."""
    (tmp_path / "prices.csv").write_text(TRIM_PRICES, encoding="utf-8")
    (tmp_path / "trim.toml").write_text(TRIM_SCENARIO, encoding="utf-8")
    sim = eventbt.Simulation.from_scenario(tmp_path / "trim.toml", audit=False)
    sim.debugger.run_until("2020-01-03")
    steps = sim.debugger.step_rebalance()
    titles = [str(r).splitlines()[0].split("  ", 2)[2] for r in steps if r.event.kind == "NoticeEvent"]
    assert titles == ["NoticeEvent #8  scaled_for_cash B 100 -> 86", "NoticeEvent #9  scaled_for_cash C 50 -> 43",
                      "NoticeEvent #10  trimmed_for_cash C 43 -> 42"]
    assert str(sim.debugger.why()).splitlines()[-1] == (
        "  #10  trimmed_for_cash  C       1 share(s) taken off after scaling, leaving 42: the buys then cost 190.00, "
        "within the 190.00 available")
