"""Handler faults: ``[run] on_error = "stop"`` ends the run with the error recorded and the results marked
incomplete; ``"skip"`` turns each failure into a dead-letter record and goes on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eventbt.audit import read_audit
from eventbt.cli import main
from eventbt.errors import HandlerError
from eventbt.events import Event, FillEvent, MarketEvent
from eventbt.handler import Handler
from eventbt.simulation import Simulation
from tests.properties.scripted import SCRIPTED, random_prices, scripted_config

TARGETS = {0: {"A": 0.5, "B": 0.5}, 4: {"A": 0.2, "B": 0.7}, 7: {"A": 1.0}}


class Faulty(Handler):
    """Raises on the market events of the bars in ``fail_at``; counts what it saw."""

    name = "faulty"
    subscribes = (MarketEvent,)

    def __init__(self, fail_at: set[int]) -> None:
        self.fail_at = fail_at
        self.seen: list[int] = []

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        self.seen.append(event.bar)
        if event.bar in self.fail_at:
            raise ZeroDivisionError(f"bad bar {event.bar}")
        return None


def _simulation(on_error: str, fail_at: set[int], **options: object) -> tuple[Simulation, Faulty]:
    prices = random_prices(np.random.default_rng(7), bars=10, symbols=2)
    config = scripted_config(TARGETS, run={"on_error": on_error})
    faulty = Faulty(fail_at)
    return Simulation(config, prices=prices, extra_handlers=[faulty], **options), faulty  # type: ignore[arg-type]


def test_stop_ends_the_run_with_the_error_the_handler_the_event_and_its_chain() -> None:
    """With on_error = "stop" the footer says failed and names the handler, the event and its chain."""
    simulation, _ = _simulation("stop", {3})
    with pytest.raises(HandlerError) as caught:
        simulation.run()
    footer = simulation.audit.records()[-1]
    event = caught.value.event
    assert isinstance(event, MarketEvent) and event.bar == 3
    assert footer["record"] == "footer" and footer["status"] == "failed"
    assert footer["handler"] == "faulty"
    assert footer["event"] == event.id and footer["event_type"] == "MarketEvent"
    assert footer["chain"] == [event.id]  # a market bar starts its own chain
    assert footer["error_type"] == "HandlerError"
    assert "ZeroDivisionError: bad bar 3" in footer["error"]


def test_stop_leaves_results_up_to_the_failure_marked_incomplete() -> None:
    """The partial result has the bars before the failing one (0, 1, 2) and complete = false."""
    simulation, _ = _simulation("stop", {3})
    with pytest.raises(HandlerError):
        simulation.run()
    result = simulation.result()
    assert result.complete is False
    assert result.summary["status"] == "failed" and result.summary["complete"] is False
    assert len(result.equity) == 3  # bar 3 failed before its end-of-bar snapshot


class FailsOnASecondFill(Handler):
    """Raises on the second fill it sees (after the portfolio has booked it: the portfolio comes first)."""

    name = "fails_on_fill"
    subscribes = (FillEvent,)

    def __init__(self) -> None:
        self.fills = 0

    def on_fill(self, event: FillEvent) -> None:
        self.fills += 1
        if self.fills == 2:
            raise ZeroDivisionError(f"bad fill #{event.id}")


def test_a_partial_result_has_the_trades_and_costs_of_its_equitys_bars() -> None:
    """A handler fails on bar 0's second fill, after the book took both: the equity has no bar (bar 0 never
    ended), and the trades, their count and the commission used to count bar 0's fills all the same (trades 2,
    commission of both against a final value of the initial cash). Now the partial result covers the bars its
    equity does: no trade and no commission; the fills are in the audit log."""
    prices = random_prices(np.random.default_rng(7), bars=10, symbols=2)
    simulation = Simulation(scripted_config(TARGETS), prices=prices, extra_handlers=[FailsOnASecondFill()])
    with pytest.raises(HandlerError):
        simulation.run()
    result = simulation.result()
    assert len(result.equity) == 0 and len(result.trades) == 0 and len(result.signals) == 0
    assert (result.summary["trades"], result.summary["total_commission"]) == (0, 0.0)
    assert len([r for r in simulation.audit.records() if r.get("type") == "FillEvent"]) == 2


def test_a_result_taken_mid_run_covers_the_bars_marked_so_far() -> None:
    """Stepped by the debugger to just after bar 4's first fill (bar 4 is a rebalance), the result's equity ends
    at bar 3 and its trades are bar 0's: the fills of bar 4 come in once bar 4 is marked. Its status is
    "running" (the run has not ended)."""
    prices = random_prices(np.random.default_rng(7), bars=10, symbols=2)
    simulation = Simulation(scripted_config(TARGETS), prices=prices)
    debugger = simulation.debugger
    debugger.add_breakpoint("FillEvent", date=str(prices.dates[4])[:10])
    debugger.continue_()
    debugger.step()  # bar 4's first fill, booked
    result = simulation.result()
    assert result.summary["status"] == "running" and result.complete is False
    assert len(result.equity) == 4
    full = Simulation(scripted_config(TARGETS), prices=prices).run()
    assert full is not None
    bar0 = full.trades[full.trades["date"] == full.equity.index[0]]
    assert len(bar0) > 0
    assert result.trades.reset_index(drop=True).equals(bar0.reset_index(drop=True))


def test_a_failed_run_is_not_run_again() -> None:
    """Running a failed simulation again (a notebook cell run twice) refuses with the way out, where it delivered
    the rest of the data after the failed footer (the faulty handler missing bar 3) and returned a full result.
    Stepping it gives nothing, as the debugger documents, and its log keeps the footer last; the log takes no
    record after its footer either (`audit.header()` reads like a getter but writes)."""
    from eventbt.errors import AuditError, BusError

    simulation, faulty = _simulation("stop", {3})
    with pytest.raises(HandlerError):
        simulation.run()
    with pytest.raises(BusError, match=r"this run has already ended \(failed\): its audit log is closed; "
                                       r"sim.result\(\) gives its partial results"):
        simulation.run()
    assert simulation.deliver() is None
    assert faulty.seen == [0, 1, 2, 3]
    assert len(simulation.result().equity) == 3
    with pytest.raises(AuditError, match="the log is closed"):
        simulation.audit.header(note="after the end")
    records = simulation.audit.records()
    assert records[-1]["record"] == "footer" and records[0]["record"] == "header"


def test_a_completed_run_gives_its_result_again() -> None:
    """run() on a completed simulation returns the same result (nothing is delivered twice)."""
    simulation, faulty = _simulation("stop", set())
    first = simulation.run()
    again = simulation.run()
    assert first is not None and again is not None
    assert again.summary["digest"] == first.summary["digest"] and faulty.seen == list(range(10))


def test_skip_records_dead_letters_counts_them_and_finishes() -> None:
    """With on_error = "skip" each failure is a dead_letter note, the run completes, the summary counts 2."""
    simulation, faulty = _simulation("skip", {3, 6})
    result = simulation.run()
    assert result is not None
    notes = [r for r in result.audit.records() if r["record"] == "note" and r["code"] == "dead_letter"]
    assert [(n["handler"], n["event_type"], n["time"]) for n in notes] == [
        ("faulty", "MarketEvent", "2020-01-06T16:00:00"), ("faulty", "MarketEvent", "2020-01-09T16:00:00")]
    assert notes[0]["error"] == "ZeroDivisionError: bad bar 3"
    assert result.summary["dead_letters"] == 2
    assert result.complete is True
    assert faulty.seen == list(range(10))  # the run went on after each failure
    assert len(result.equity) == 10


def test_skipping_a_failure_in_the_last_subscriber_changes_no_figure() -> None:
    """The faulty handler runs after the pipeline, so skipping its failures leaves trades and values as a clean run."""
    faulty_run, _ = _simulation("skip", {0, 4, 7})
    clean_run, _ = _simulation("skip", set())
    faulty_result, clean_result = faulty_run.run(), clean_run.run()
    assert faulty_result is not None and clean_result is not None
    assert faulty_result.trades.equals(clean_result.trades)
    assert faulty_result.equity.equals(clean_result.equity)
    assert clean_result.summary["dead_letters"] == 0


def test_skipped_strategy_failure_loses_that_rebalance_only() -> None:
    """A strategy that fails at bar 4 under "skip" makes no signal that bar; bars 0 and 7 still rebalance."""
    prices = random_prices(np.random.default_rng(7), bars=10, symbols=2)
    config = scripted_config(TARGETS, fail_at=[4], run={"on_error": "skip"})
    result = Simulation(config, prices=prices).run()
    assert result is not None
    # business days from Wed 2020-01-01: bar 0 = Jan 1, bar 7 = Jan 10 (Jan 4-5 is a weekend)
    assert sorted(set(result.trades["date"].dt.strftime("%Y-%m-%d"))) == ["2020-01-01", "2020-01-10"]
    assert result.summary["dead_letters"] == 1


def _scenario(tmp_path: Path, on_error: str) -> Path:
    data = tmp_path / "prices.csv"
    prices = random_prices(np.random.default_rng(3), bars=12, symbols=2)
    prices.to_frame("close").to_csv(data, index_label="date")
    scenario = tmp_path / "faulty.toml"
    scenario.write_text(
        f'[data]\npath = "prices.csv"\n[strategy]\nname = "{SCRIPTED}"\n'
        '[strategy.params]\nfail_at = [5]\n[strategy.params.targets]\n"0" = { A = 0.5, B = 0.5 }\n'
        f'[schedule]\nrebalance = "daily"\n[run]\non_error = "{on_error}"\nprogress = false\n'
    )
    return scenario


def test_cli_run_writes_incomplete_results_when_a_handler_fails(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt run` exits 2 on a handler error and still writes results with complete = false."""
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path, "stop")), "--out", str(out), "--quiet"]) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["complete"], summary["status"]) == (False, "failed")
    assert summary["bars"] == 5  # bars 0..4; bar 5 failed
    assert read_audit(out / "audit.jsonl")[-1]["handler"] == "strategy"
    err = capsys.readouterr().err
    assert ("handler 'strategy' raised SignalError: strategy 'tests.properties.scripted:ScriptedWeights' on "
            "2020-01-08: target_weights(view) raised ValueError: scripted failure at bar 5") in err
    assert f"partial results (complete = false) written to {out}" in err


def test_cli_run_with_skip_completes_and_shows_the_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt run` with on_error = "skip" exits 0, prints the dead-letter count, writes complete results."""
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path, "skip")), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["complete"], summary["dead_letters"], summary["bars"]) == (True, 1, 12)
    assert "Skipped (dead letters)  1" in capsys.readouterr().out


def test_a_handler_error_while_stepping_also_closes_the_log_as_failed() -> None:
    """Stepping into a failing handler raises the same error and writes the same failed footer as run()."""
    simulation, _ = _simulation("stop", {3})
    with pytest.raises(HandlerError):
        while simulation.deliver() is not None:
            pass
    footer = simulation.audit.records()[-1]
    assert footer["status"] == "failed" and footer["handler"] == "faulty"
    assert simulation.finished and not simulation.result().complete


def _policy_run(tmp_path: Path, prices: list[str], portfolio: dict[str, object], data: dict[str, object],
                events: list[dict[str, object]] | None = None) -> HandlerError:
    """Run a one-symbol scenario under on_error = "skip" that must stop; the error it stops with."""
    import eventbt
    from eventbt.scenario import ScenarioConfig

    (tmp_path / "prices.csv").write_text("\n".join(prices) + "\n")
    raw: dict[str, object] = {
        "scenario": {"name": "policy"}, "data": {"path": "prices.csv", **data},
        "portfolio": {"initial_cash": 10_000.0, **portfolio},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": 2.5 if portfolio else 0.5}}},
        "schedule": {"dates": ["2024-01-02"]},
        "execution": {"commission": {"model": "zero"}, "slippage": {"model": "zero"}},
        "run": {"on_error": "skip"},
    }
    if events:
        raw["events"] = events
    with pytest.raises(HandlerError) as caught:
        eventbt.run(ScenarioConfig.from_dict(raw, base_dir=tmp_path), out=tmp_path / "run")
    records = read_audit(tmp_path / "run" / "audit.jsonl")
    assert records[-1]["status"] == "failed"
    assert not [r for r in records if r.get("code") == "dead_letter"]
    return caught.value


@pytest.mark.parametrize("case", ["margin_call", "delisting", "withdrawal"])
def test_a_stop_the_scenario_chose_is_not_skipped(case: str, tmp_path: Path) -> None:
    """on_error = "skip" skips a handler's failures, not a stop the scenario asked for: a margin call answered with
    "stop" (equity 4,000 of 19,000 at 7.60, below 25%), prices ending while shares are held with delisting =
    "error", a withdrawal of 20,000 the 5,000 of cash does not cover with withdrawal = "error". Each ends the
    run as it does under "stop" (the run went on, its book far below the margin, before)."""
    if case == "margin_call":
        error = _policy_run(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,7.6", "2024-01-04,7.6"],
                            {"max_gross": 2.5, "maintenance_margin": 0.25, "margin_call": "stop"}, {})
        expected = ("[portfolio] margin_call", "margin call on 2024-01-03")
    elif case == "delisting":
        error = _policy_run(tmp_path, ["date,A,B", "2024-01-02,10,5", "2024-01-03,10,5", "2024-01-04,,5"],
                            {}, {"delisting": "error"})
        expected = ("[data] delisting", "prices for 'A' end on 2024-01-03 while 500 shares are held")
    else:
        error = _policy_run(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,10"], {}, {},
                            [{"date": "2024-01-03", "type": "withdrawal", "amount": 20_000.0}])
        expected = ("[portfolio] withdrawal", "withdrawal of 20,000.00 on 2024-01-03 exceeds the cash of 5,000.00")
    assert error.__cause__ is not None
    assert getattr(error.__cause__, "policy", None) == expected[0]
    assert expected[1] in str(error.__cause__)
