"""The fee handlers on the bus: hand-worked charges, their causes, the cash limit, and cost attribution."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.handler import Handler
from eventbt.prices import PriceData
from eventbt.results import Result
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.fees import CashInterest, ManagementFee, StampDuty

# Friday, Monday, Tuesday: 3 calendar days, then 1. Close 10.00 throughout.
DATES = np.array(["2024-01-05", "2024-01-08", "2024-01-09"], dtype="datetime64[ns]")


def _run(weight: float, *handlers: Handler, commission: dict[str, Any] | None = None,
         extra: dict[str, Any] | None = None) -> tuple[Simulation, Result]:
    close = np.full((3, 1), 10.0)
    prices = PriceData(dates=DATES, symbols=("A",), close=close, high=close + 0.2, low=close - 0.2)
    raw: dict[str, Any] = {
        "scenario": {"name": "fees"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": 10_000.0},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": weight}}},
        "schedule": {"dates": ["2024-01-05"]},
        "execution": {"commission": commission or {"model": "zero"}},
        **(extra or {}),
    }
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices,
                            extra_handlers=list(handlers))
    result = simulation.run()
    assert result is not None
    return simulation, result


def test_stamp_duty_is_charged_on_the_buy_at_the_next_bar() -> None:
    """500 shares bought at 10.00 pay 0.5% of 5,000.00 = 25.00, booked at the next bar, caused by the fill."""
    simulation, result = _run(0.5, StampDuty())
    book = simulation.history
    assert book.fees == {"stamp_duty": pytest.approx(25.0)}
    fee = book.fee_log[0]
    bar, model, amount, symbol, cause_id = fee.bar, fee.model, fee.paid, fee.symbol, fee.cause_id
    fill_id = int(result.trades["fill_id"].iloc[0])
    assert (bar, model, amount, symbol, cause_id) == (1, "stamp_duty", pytest.approx(25.0), "A", fill_id)
    # equity: 10,000 at bar 0; 10,000 - 25 = 9,975 from bar 1 on
    assert result.equity["total_value"].tolist() == pytest.approx([10_000.0, 9_975.0, 9_975.0])


def test_cash_interest_accrues_per_calendar_day() -> None:
    """5,000 cash at 5%/360 earns 2.0833 over the weekend, then 0.6947 for Tuesday."""
    simulation, result = _run(0.5, CashInterest(annual_rate=0.05))
    # bar 1: -5,000 * 0.05 * 3 / 360 = -2.083333; bar 2: -(5,000 + 2.083333) * 0.05 / 360 = -0.694734
    amounts = [row.paid for row in simulation.history.fee_log]
    assert amounts == [pytest.approx(-2.083333, abs=1e-6), pytest.approx(-0.694734, abs=1e-6)]
    assert result.equity["cash"].iloc[-1] == pytest.approx(5_000 + 2.083333 + 0.694734, abs=1e-6)


def test_management_fee_daily_and_monthly() -> None:
    """1% a year on 10,000: 0.8219 over 3 days, then 0.2739 for one day; monthly charges the 4 days at the end."""
    simulation, _ = _run(0.5, ManagementFee(annual_rate=0.01))
    # bar 1: 10,000 * 0.01 * 3 / 365 = 0.821918; bar 2: (10,000 - 0.821918) * 0.01 / 365 = 0.273950
    amounts = [row.paid for row in simulation.history.fee_log]
    assert amounts == [pytest.approx(0.821918, abs=1e-6), pytest.approx(0.273950, abs=1e-6)]
    monthly, result = _run(0.5, ManagementFee(annual_rate=0.01, frequency="monthly"))
    # no month starts within Jan 5..9, so all 4 days are charged when the data ends, at bar 2, before its
    # snapshot: 10,000 * 0.01 * 4 / 365 = 0.109589 * 10 = 1.095890
    assert [(row.bar, row.paid) for row in monthly.history.fee_log] == [(2, pytest.approx(1.095890, abs=1e-6))]
    assert result.equity["total_value"].iloc[-1] == pytest.approx(10_000 - 1.095890, abs=1e-6)


def test_a_fee_never_makes_cash_negative_and_the_rest_is_owed() -> None:
    """With 10.00 of cash left, a 49.95 duty pays 10.00 and owes 39.95; the management fee then owes it all."""
    duty, management = StampDuty(), ManagementFee(annual_rate=0.01)
    # 0.999 * 10,000 = 9,990 -> 999 shares, cash 10.00; duty 0.005 * 9,990 = 49.95, charged at bar 1.
    # Management fee, daily: bar 1 accrues 10,000 * 0.01 * 3 / 365 (Fri -> Mon), bar 2 9,990 * 0.01 / 365;
    # the duty is booked first and takes the 10.00, so neither management charge can be paid.
    simulation, result = _run(0.999, duty, management)
    owed_management = 10_000 * 0.01 * 3 / 365 + 9_990 * 0.01 / 365
    assert simulation.portfolio.fees_owed == pytest.approx({"stamp_duty": 39.95, "management_fee": owed_management})
    assert simulation.history.fees == pytest.approx({"stamp_duty": 10.0, "management_fee": 0.0})
    assert result.equity["cash"].min() >= 0.0
    notices = [r["data"] for r in result.audit.records()
               if r.get("type") == "NoticeEvent" and r["data"]["code"] == "fee_owed"]
    assert [(n["details"]["model"], n["details"]["paid"]) for n in notices] == [
        ("stamp_duty", pytest.approx(10.0)), ("management_fee", 0.0), ("management_fee", 0.0)]


def test_an_owed_fee_is_paid_first_from_the_models_next_fee() -> None:
    """The book pays a model's owed amount with its next fee once cash is back."""
    from eventbt.portfolio import Portfolio

    book = Portfolio(("A",), 10.0)
    assert book.apply_fee("duty", 25.0) == 10.0  # pays the 10.00 there is, owes 15.00
    assert book.fees_owed == {"duty": 15.0} and book.cash == 0.0
    book.apply_cash_flow(100.0, reason="deposit")
    assert book.apply_fee("duty", 5.0) == 20.0  # 15.00 owed + 5.00 due
    assert book.fees_owed == {"duty": 0.0} and book.cash == pytest.approx(80.0)
    assert book.apply_fee("interest", -2.0) == -2.0  # a credit is booked in full
    assert book.cash == pytest.approx(82.0)


def test_summary_attributes_costs_by_model() -> None:
    """summary['costs'] holds commission, slippage and each fee as money and as annual drag in bps."""
    _, result = _run(0.5, StampDuty(), commission={"model": "fixed", "amount": 5.0})
    costs = result.summary["costs"]
    assert costs["commission"]["amount"] == pytest.approx(5.0)
    assert costs["fee:stamp_duty"]["amount"] == pytest.approx(25.0)  # 0.005 * 5,000
    assert costs["total"]["amount"] == pytest.approx(30.0)
    # values 9,995; 9,970; 9,970 -> average 9,978.333; years = 4 days / 365.25
    # drag = 25 / 9,978.333 / (4 / 365.25) * 10,000 = 0.00250543 / 0.01095140 * 10,000 = 2,287.77 bps a year
    assert costs["fee:stamp_duty"]["bps_per_year"] == pytest.approx(2287.77, rel=1e-5)


def test_a_fee_handler_is_declared_in_a_scenario_handlers_table() -> None:
    """[[handlers]] name = "stamp_duty" builds the built-in fee handler with its parameters."""
    simulation, _ = _run(0.5, extra={"handlers": [{"name": "stamp_duty", "params": {"rate": 0.01}}]})
    assert simulation.history.fees == {"stamp_duty": pytest.approx(50.0)}  # 0.01 * 5,000


def test_swapping_the_commission_model_changes_value_by_exactly_the_commission() -> None:
    """Positions are the same under per_share and ibkr_tiered, so final values differ by the commissions."""
    _, per_share = _run(0.5, commission={"model": "per_share"})
    _, tiered = _run(0.5, commission={"model": "ibkr_tiered"})
    assert per_share.trades["quantity"].tolist() == tiered.trades["quantity"].tolist() == [500]
    # per_share: max(1.00, 500 * 0.005 = 2.50) = 2.50
    # ibkr_tiered: 500 * 0.0035 = 1.75; + 1.75 * 0.000738 = 0.0012915; + 500 * 0.0002 = 0.10 -> 1.8512915
    difference = tiered.summary["final_value"] - per_share.summary["final_value"]
    assert difference == pytest.approx(2.50 - 1.8512915, abs=1e-9)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StampDuty(rate=1.5), "rate must be a finite number >= 0 and < 1"),
        (lambda: CashInterest(annual_rate=0.05, day_count=364), "day_count must be 360 or 365"),
        (lambda: ManagementFee(annual_rate=0.01, frequency="weekly"), "frequency must be 'daily' or 'monthly'"),
    ],
)
def test_fee_handlers_reject_bad_parameters(build: Any, message: str) -> None:
    """Bad parameters raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=message):
        build()


def test_fees_at_a_bar_with_carried_fills_never_overdraw_and_verify(tmp_path: Path) -> None:
    """Same-close carry fills and fees booked at one market event: cash stays >= 0 and the run verifies."""
    import eventbt
    from eventbt.replays.verify import verify_run

    root = Path(__file__).resolve().parents[2]
    overrides = ["execution.timing=same_close", "execution.volume_limit=0.00002", "execution.remainder=carry"]
    result = eventbt.run(root / "scenarios" / "extra_handler.toml", overrides=overrides, out=tmp_path / "run")
    assert result.complete and result.equity["cash"].min() >= -1e-6
    assert verify_run(tmp_path / "run").ok


def _dated_run(dates: list[str], *handlers: Handler, weight: float, rebalance: str, cash: float,
               timing: str = "same_close", events: list[dict[str, Any]] | None = None) -> tuple[Simulation, Result]:
    """One symbol at a flat 10.00 (opens too), zero costs, one rebalance to ``weight`` on ``rebalance``."""
    close = np.full((len(dates), 1), 10.0)
    prices = PriceData(dates=np.array(dates, dtype="datetime64[ns]"), symbols=("A",), close=close,
                       open=close.copy())
    raw: dict[str, Any] = {
        "scenario": {"name": "fees"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": cash},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": weight}}},
        "schedule": {"dates": [rebalance]},
        "execution": {"timing": timing},
    }
    if events:
        raw["events"] = events
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices,
                            extra_handlers=list(handlers))
    result = simulation.run()
    assert result is not None
    return simulation, result


def test_stamp_duty_on_a_buy_in_the_final_bar_is_charged_before_the_last_snapshot() -> None:
    """HMRC's 0.5% SDRT on 500 shares at 10.00 bought on the last bar, 25.00, is charged when the data ends."""
    # HMRC STSM031070: SDRT is 0.5% of the consideration: 0.005 * 500 * 10.00 = 25.00
    simulation, result = _dated_run(["2024-01-05", "2024-01-08", "2024-01-09"], StampDuty(), weight=0.5,
                                    rebalance="2024-01-09", cash=10_000.0)
    assert [(row.bar, row.model, row.paid) for row in simulation.history.fee_log] == [
        (2, "stamp_duty", pytest.approx(25.0))]
    assert result.equity["total_value"].tolist() == pytest.approx([10_000.0, 10_000.0, 9_975.0])
    records = [r for r in result.audit.records() if r.get("record") == "publish"]
    kinds = [r["type"] for r in records if r["data"].get("bar") == 2]
    # the end of the data comes after the bar's fill and before its snapshot, and the fee between them
    assert kinds.index("FillEvent") < kinds.index("DataEndEvent") < kinds.index("FeeEvent") < kinds.index(
        "SnapshotEvent")
    end = next(r for r in records if r["type"] == "DataEndEvent")
    assert (end["by"], end["cause"], end["time"]) == ("data_feed", None, "2024-01-09T16:00:00")


def test_monthly_management_fee_charges_the_last_part_month_at_the_end_of_the_data() -> None:
    """1,000,000 at 1% a year ACT/365, 2024-01-29..02-05: 82.19 on 1 February and 109.58 at the end."""
    dates = ["2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05"]
    simulation, result = _dated_run(dates, ManagementFee(annual_rate=0.01, frequency="monthly"), weight=0.5,
                                    rebalance="2024-01-29", cash=1_000_000.0)
    # ACT/365 on the value at each bar: Jan 29 -> Feb 1 is 3 days on 1,000,000: 1,000,000 * 0.01 * 3 / 365
    # = 82.191781, charged at Feb 1 (a new month). Feb 1 -> Feb 5 is 4 days on 999,917.808219:
    # 999,917.808219 * 0.01 * 4 / 365 = 109.580034, charged when the data ends. Total 191.771815
    # (7 days on a flat 1,000,000 would be 191.78; the book's value falls by the first charge).
    assert [(row.bar, row.paid) for row in simulation.history.fee_log] == [
        (3, pytest.approx(82.191781, abs=1e-6)), (5, pytest.approx(109.580034, abs=1e-6))]
    assert result.equity["total_value"].iloc[-1] == pytest.approx(1_000_000.0 - 191.771815, abs=1e-6)
    # Each charge's details give the period it sums: where it started, its calendar days and the day-weighted
    # average value, from which the amount follows: 1,000,000 * 0.01 * 3 / 365 = 82.191781 and, on the
    # 999,917.808219 held from 1 February (every bar's value the same), * 0.01 * 4 / 365 = 109.580034.
    fees = [r["data"] for r in result.audit.records() if r.get("type") == "FeeEvent"]
    assert [(fee["details"]["since"], fee["details"]["days"], fee["details"]["annual_rate"]) for fee in fees] == [
        ("2024-01-29", 3.0, 0.01), ("2024-02-01", 4.0, 0.01)]
    averages = [fee["details"]["average_value"] for fee in fees]
    assert averages == [pytest.approx(1_000_000.0, abs=1e-9), pytest.approx(999_917.808219, abs=1e-6)]
    for fee, days in zip(fees, (3, 4), strict=True):
        assert fee["amount"] == pytest.approx(fee["details"]["average_value"] * 0.01 * days / 365, rel=1e-12)


def test_cash_interest_under_next_open_is_paid_on_the_cash_held_over_the_gap() -> None:
    """100,000 from Thursday, 99% invested at Monday's open, 5% ACT/360: 13.89 + 41.67 + 0.15 = 55.71 due."""
    dates = ["2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]  # Thu, Fri, Mon, Tue
    simulation, result = _dated_run(dates, CashInterest(annual_rate=0.05), weight=0.99, rebalance="2024-01-05",
                                    cash=100_000.0, timing="next_open")
    # Thu -> Fri, 1 day on 100,000: 100,000 * 0.05 / 360 = 13.888889, booked after Friday's signal, so
    # Friday's close sizes floor(0.99 * 100,000 / 10) = 9,900 shares, bought at Monday's open for 99,000.00.
    # Fri -> Mon, 3 days on the 100,013.888889 held over the weekend: 100,013.888889 * 0.05 * 3 / 360
    # = 41.672454 (reading the book after Monday's open fills gave 3 days on 1,013.89 = 0.42).
    # Monday's cash: 100,013.888889 - 99,000 + 41.672454 = 1,055.561343; Mon -> Tue, 1 day:
    # 1,055.561343 * 0.05 / 360 = 0.146606. Total 13.888889 + 41.672454 + 0.146606 = 55.707949 (55.71).
    amounts = [-row.paid for row in simulation.history.fee_log]
    assert amounts == [pytest.approx(13.888889, abs=1e-6), pytest.approx(41.672454, abs=1e-6),
                       pytest.approx(0.146606, abs=1e-6)]
    assert sum(amounts) == pytest.approx(55.707949, abs=1e-6)
    assert result.trades["quantity"].tolist() == [9_900]


def test_cash_interest_under_same_close_uses_the_previous_close_cash_as_before() -> None:
    """With same_close each bar's interest is -cash at the previous close * rate * days / 360, fills, deposits
    and the interest itself included: the balance at the market event, as before the change to snapshots."""
    dates = ["2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"]
    events = [{"date": "2024-01-08", "type": "deposit", "amount": 50_000.0}]
    simulation, result = _dated_run(dates, CashInterest(annual_rate=0.05), weight=0.6, rebalance="2024-01-05",
                                    cash=100_000.0, events=events)
    cash = result.equity["cash"].tolist()
    days = [1, 3, 1, 1]  # Thu -> Fri, Fri -> Mon, Mon -> Tue, Tue -> Wed
    expected = [-cash[t] * 0.05 * days[t] / 360 for t in range(4)]  # the cash at the end of bar t
    assert [row.paid for row in simulation.history.fee_log] == pytest.approx(expected, abs=1e-9)
    # by hand for the first two: -100,000 * 0.05 / 360 = -13.888889; Friday buys floor(0.6 * 100,013.888889
    # / 10) = 6,000 shares for 60,000, cash 40,013.888889: -40,013.888889 * 0.05 * 3 / 360 = -16.672454
    assert expected[:2] == [pytest.approx(-13.888889, abs=1e-6), pytest.approx(-16.672454, abs=1e-6)]


def test_a_fee_reading_a_quiet_block_before_the_portfolio_took_it_is_told_so() -> None:
    """The monthly management fee accrues over a block of quiet bars from the book's values, which the portfolio
    sets when it takes the block. Given the block first (as a handler order that put it ahead would), it says
    which handler must take the block before it, instead of accruing nothing or failing inside zip()."""
    from eventbt.errors import ContractError
    from eventbt.quiet import QuietBars

    close = np.full((3, 1), 10.0)
    block = QuietBars(start=0, stop=3, first_id=1, time_ns=DATES.astype(np.int64).tolist(), close=close, fields={},
                      complete=[True] * 3, symbols=("A",), market=lambda bar, event_id: None)  # type: ignore[arg-type,return-value]
    block.snapshot_by = "portfolio"
    with pytest.raises(ContractError, match=re.escape("management_fee read the book's values of bars 0..2 before "
                                                      "portfolio took the block")) as caught:
        ManagementFee(annual_rate=0.01, frequency="monthly").on_quiet_bars(block)
    assert caught.value.plugin == "management_fee"
    block.set_snapshots(100.0, [0.0, 0.0, 0.0], [100.0, 100.0, 100.0])  # the portfolio took it: no longer refused
    assert block.book_values("management_fee") == [100.0, 100.0, 100.0]


def test_a_monthly_management_fee_accrues_nothing_over_quiet_bars_under_water() -> None:
    """A block of three quiet bars (Fri, Mon, Tue: 0 days for the first bar of the run, then 3 and 1) whose book is
    worth 100.00, -50.00 and 200.00: 1% a year accrues on 100 x 0 + 0 x 3 + 200 x 1 days, 200 x 0.01 / 365, and
    no credit for the bar under water (-50 x 0.01 x 3 / 365 before)."""
    from eventbt.handler import Context
    from eventbt.portfolio import Portfolio
    from eventbt.quiet import QuietBars

    close = np.full((3, 1), 10.0)
    block = QuietBars(start=0, stop=3, first_id=1, time_ns=DATES.astype(np.int64).tolist(), close=close, fields={},
                      complete=[True] * 3, symbols=("A",), market=lambda bar, event_id: None)  # type: ignore[arg-type,return-value]
    block.snapshot_by = "portfolio"
    block.set_snapshots(100.0, [0.0, 0.0, 0.0], [100.0, -50.0, 200.0])
    fee = ManagementFee(annual_rate=0.01, frequency="monthly")
    fee.bind(Context(symbols=("A",), dates=DATES, portfolio=Portfolio(symbols=("A",), initial_cash=100.0)))
    fee.on_quiet_bars(block)
    assert fee.accrued == pytest.approx(200 * 0.01 / 365, abs=1e-15)


def test_a_fee_still_owed_at_the_end_is_reported_not_lost(tmp_path: Path) -> None:
    """Everything in A (1,000 shares at 10.00, cash 0): the 0.5% duty on the buy, 50.00, is charged at the next bar
    and owed, as no cash comes to pay it. It was in no figure: summary.json now lists it by model, the metrics
    total it, `eventbt run` prints it, and `eventbt verify`'s recomputed summary agrees."""
    import eventbt
    from eventbt.cli.commands.run import format_summary

    (tmp_path / "prices.csv").write_text("date,A\n2024-01-05,10\n2024-01-08,10\n2024-01-09,10\n")
    raw: dict[str, Any] = {
        "scenario": {"name": "owed"}, "data": {"path": "prices.csv"}, "portfolio": {"initial_cash": 10_000.0},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": 1.0}}},
        "schedule": {"dates": ["2024-01-05"]},
        "execution": {"commission": {"model": "zero"}, "slippage": {"model": "zero"}},
        "handlers": [{"name": "stamp_duty"}],
    }
    result = eventbt.run(ScenarioConfig.from_dict(raw, base_dir=tmp_path), out=tmp_path / "run")
    assert result.trades["quantity"].tolist() == [1_000]
    assert result.summary["costs"]["fee:stamp_duty"]["amount"] == 0.0  # what was paid
    assert result.summary["fees_owed"] == {"stamp_duty": 50.0}  # 0.005 x 1,000 x 10.00
    assert result.metrics()["fees_owed"] == 50.0
    assert ["Fees", "owed", "at", "the", "end", "50.00"] in [line.split() for line in
                                                             format_summary(result.summary).splitlines()]
    report = eventbt.verify_run(tmp_path / "run")
    assert report.ok, str(report.disagreement)
    # a run that owes nothing has no such entry (its summary.json is as before)
    _, paid = _run(0.5, StampDuty())
    assert "fees_owed" not in paid.summary and "fees_owed" not in paid.metrics()
