"""Long/short and leverage end to end (docs/long-short.md): every number worked out by hand or from the data files.

The first case is the issue's check on zipline's 4-stock csvdir sample, its expected shares and value computed
here from the CSV files with the csv module and plain Python arithmetic (not eventbt's loader or book). The
others run small price files written here, each number in a comment. Every run is also verified
(``eventbt verify`` rebuilds its books, fees and margin calls from the audit log).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.errors import AccountingError, HandlerError
from eventbt.results import Result
from eventbt.scenario import ScenarioConfig

ROOT = Path(__file__).resolve().parents[2]
CSVDIR = ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily"
CENT = 0.005


def csvdir_closes(symbol: str) -> dict[str, float]:
    """The sample's closes of ``symbol`` by date, read with gzip and csv (not eventbt's loader)."""
    with gzip.open(CSVDIR / f"{symbol}.csv.gz", "rt", newline="") as handle:
        return {row["date"]: float(row["close"]) for row in csv.DictReader(handle)}


def run_verified(raw: dict[str, Any], tmp_path: Path, name: str = "run") -> Result:
    """Run ``raw`` into ``tmp_path / name`` and check that ``eventbt verify`` agrees with every file."""
    result = eventbt.run(ScenarioConfig.from_dict(raw, base_dir=tmp_path), out=tmp_path / name)
    report = eventbt.verify_run(tmp_path / name)
    assert report.ok, str(report.disagreement)
    return result


def test_130_30_on_the_shipped_data_holds_the_issue_numbers(tmp_path: Path) -> None:
    """100,000 as { AAPL = 1.3, MSFT = -0.3 } at the first close, no costs: floor(130,000 / p) AAPL, -floor(30,000
    / p) MSFT, and the final value is cash + sum(q * p) to the cent."""
    aapl, msft = csvdir_closes("AAPL"), csvdir_closes("MSFT")
    first, last = min(aapl), max(aapl)
    long_shares = math.floor(130_000 / aapl[first])  # 130,000 / 58.747143 = 2,212.88 -> 2,212
    short_shares = math.floor(30_000 / msft[first])  # 30,000 / 26.77 = 1,120.66 -> 1,120
    cash = 100_000 - long_shares * aapl[first] + short_shares * msft[first]  # short-sale proceeds are cash
    final = cash + long_shares * aapl[last] - short_shares * msft[last]
    assert (long_shares, short_shares) == (2_212, 1_120)
    raw = {"scenario": {"name": "issue_130_30"},
           "data": {"path": str(CSVDIR), "format": "per_symbol_dir"},
           "portfolio": {"initial_cash": 100_000.0, "allow_short": True, "max_gross": 1.6},
           "strategy": {"name": "static_weights", "params": {"weights": {"AAPL": 1.3, "MSFT": -0.3}}},
           "schedule": {"dates": [first]}}
    result = run_verified(raw, tmp_path)
    held = result.trades.assign(signed=result.trades["quantity"].where(result.trades["side"] == "BUY",
                                                                       -result.trades["quantity"]))
    assert held.groupby("symbol")["signed"].sum().to_dict() == {"AAPL": 2_212, "MSFT": -1_120}
    # the short sale first (it opens a position), then the buy, both at the first close
    assert result.trades[["symbol", "side", "quantity", "price"]].values.tolist() == [
        ["MSFT", "SELL", 1_120, msft[first]], ["AAPL", "BUY", 2_212, aapl[first]]]
    assert result.equity["cash"].iloc[0] == pytest.approx(cash, abs=CENT)  # 33.72
    # 33.719684 + 2,212 x 110.379997 - 1,120 x 46.450001 = 33.719684 + 244,160.553364 - 52,024.00112 = 192,170.27
    assert result.summary["final_value"] == pytest.approx(final, abs=CENT)
    last_row = result.equity.iloc[-1]
    assert (last_row["long_value"], last_row["short_value"]) == (
        pytest.approx(2_212 * aapl[last], abs=CENT), pytest.approx(-1_120 * msft[last], abs=CENT))


def _prices(folder: Path, rows: list[str], name: str = "prices.csv") -> str:
    (folder / name).write_text("\n".join(rows) + "\n")
    return name


def _raw(path: str, weights: dict[str, float], dates: list[str], **portfolio: Any) -> dict[str, Any]:
    return {"scenario": {"name": "long_short"}, "data": {"path": path},
            "portfolio": {"initial_cash": 10_000.0, **portfolio},
            "strategy": {"name": "static_weights", "params": {"weights": weights}},
            "schedule": {"dates": dates},
            "execution": {"commission": {"model": "zero"}, "slippage": {"model": "zero"}}}


def published(result: Result, kind: str) -> list[dict[str, Any]]:
    return [r["data"] for r in result.audit.records() if r.get("type") == kind]


def test_a_margin_call_liquidates_pro_rata_and_restores_the_margin(tmp_path: Path) -> None:
    """2,500 A bought with 10,000 (cash -15,000); at 7.60 the ratio is 21.05% < 25%: 395 A are sold."""
    path = _prices(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,7.6", "2024-01-04,7.6"])
    raw = _raw(path, {"A": 2.5}, ["2024-01-02"], max_gross=2.5, maintenance_margin=0.25)
    result = run_verified(raw, tmp_path)
    (call,) = published(result, "MarginCallEvent")
    # equity = -15,000 + 2,500 x 7.60 = 4,000; gross = 19,000; f = 1 - 4,000 / (0.25 x 19,000) = 0.157895
    assert (call["equity"], call["gross_exposure"], call["response"]) == (4_000.0, 19_000.0, "liquidate")
    assert call["fraction"] == pytest.approx(1 - 4_000 / 4_750, abs=1e-12)
    # ceil(0.157895 x 2,500) = ceil(394.74) = 395 shares, 395 x 7.60 = 3,002.00 of cash
    assert call["quantities"] == {"A": -395}
    assert call["expected_cash"] == pytest.approx(3_002.0, abs=1e-9)
    orders = [o for o in published(result, "OrderEvent") if o["reason"] == "liquidate"]
    assert [(o["side"], o["quantity"], o["reference_price"]) for o in orders] == [("SELL", 395, 7.6)]
    # after it: 2,105 A, cash -15,000 + 3,002 = -11,998; equity 4,000, gross 15,998: 25.003% >= 25%
    row = result.equity.iloc[1]
    assert (row["cash"], row["long_value"]) == (pytest.approx(-11_998.0), pytest.approx(15_998.0))
    assert row["total_value"] / row["long_value"] >= 0.25
    assert result.summary["exposure"]["margin_calls"] == 1
    # the sale realized (7.60 - 10.00) x 395 = -948.00
    assert result.trades["realized_pnl"].tolist() == [0.0, pytest.approx(-948.0)]


def test_a_rebalance_on_the_call_bar_is_sized_on_the_book_the_liquidation_leaves(tmp_path: Path) -> None:
    """The same fall on a rebalance bar: the liquidation sells 395 A, then the rebalance buys back to 2.5 x equity."""
    path = _prices(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,7.6"])
    raw = _raw(path, {"A": 2.5}, ["2024-01-02", "2024-01-03"], max_gross=2.5, maintenance_margin=0.25)
    result = run_verified(raw, tmp_path)
    # after the liquidation: 2,105 A, cash -11,998, V = 4,000; T = 2.5 x 4,000 = 10,000 -> d = 10,000 - 15,998
    # = -5,998 -> sell floor(5,998 / 7.60) = floor(789.2) = 789 more: the targets are below the book's exposure
    sides = result.trades[["side", "quantity"]].values.tolist()
    assert sides == [["BUY", 2_500], ["SELL", 395], ["SELL", 789]]
    assert result.trades["symbol"].tolist() == ["A", "A", "A"]
    # 1,316 A at 7.60 = 10,001.60; cash -11,998 + 789 x 7.60 = -6,001.60; value 4,000
    assert result.equity["total_value"].iloc[-1] == pytest.approx(4_000.0, abs=1e-9)
    assert result.equity["long_value"].iloc[-1] == pytest.approx(1_316 * 7.6, abs=1e-9)


def test_a_margin_call_can_stop_the_run_with_one_line(tmp_path: Path) -> None:
    """margin_call = 'stop': the call is in the audit log, then the run ends with the documented line."""
    path = _prices(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,7.6", "2024-01-04,7.6"])
    raw = _raw(path, {"A": 2.5}, ["2024-01-02"], max_gross=2.5, maintenance_margin=0.25, margin_call="stop")
    with pytest.raises(HandlerError) as caught:
        eventbt.run(ScenarioConfig.from_dict(raw, base_dir=tmp_path), out=tmp_path / "run")
    cause = caught.value.__cause__
    assert isinstance(cause, AccountingError)
    assert str(cause) == ("margin call on 2024-01-03: equity 4,000.00 is 21.05% of the gross exposure 19,000.00, "
                          "below [portfolio] maintenance_margin 0.25; [portfolio] margin_call = 'stop' ends the run")
    records = [json.loads(line) for line in (tmp_path / "run" / "audit.jsonl").read_text().splitlines()]
    assert [r["data"]["response"] for r in records if r.get("type") == "MarginCallEvent"] == ["stop"]
    assert records[-1]["status"] == "failed" and records[-1]["handler"] == "margin"


def test_financing_and_borrow_accrue_per_calendar_day_at_actual_360(tmp_path: Path) -> None:
    """130/30 of 10,000 on Friday: cash 0 and 300 B short at 10.00; fees for the weekend, then Tuesday."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-05,10,10", "2024-01-08,10,10", "2024-01-09,10,10"])
    raw = _raw(path, {"A": 1.3, "B": -0.3}, ["2024-01-05"], allow_short=True, max_gross=1.6, financing_rate=0.06,
               borrow_rate=0.02)
    # Friday: 1,300 A bought (13,000), 300 B short (3,000): cash 10,000 - 13,000 + 3,000 = 0. Weights 1.3 and
    # -0.3 of 10,000 at 10.00 exactly, so no financing yet: cash is 0.
    result = run_verified(raw, tmp_path)
    fees = [(f["model"], f["bar"], f["amount"]) for f in published(result, "FeeEvent")]
    # Monday: borrow 3,000 x 0.02 x 3 / 360 = 0.50 (cash was 0: no financing); cash -0.50
    # Tuesday: financing 0.50 x 0.06 x 1 / 360 = 0.0000833; borrow 3,000 x 0.02 / 360 = 0.1666667
    assert fees == [("borrow", 1, pytest.approx(0.5, abs=1e-12)),
                    ("financing", 2, pytest.approx(0.5 * 0.06 / 360, abs=1e-15)),
                    ("borrow", 2, pytest.approx(3_000 * 0.02 / 360, abs=1e-12))]
    assert result.summary["costs"]["fee:borrow"]["amount"] == pytest.approx(0.5 + 60 / 360, abs=1e-12)
    assert result.equity["cash"].iloc[-1] == pytest.approx(-(0.5 + 0.5 * 0.06 / 360 + 60 / 360), abs=1e-12)


def test_cash_interest_credits_a_credit_balance_and_leaves_the_loan_to_financing(tmp_path: Path) -> None:
    """A margin account with `cash_interest` at 5% (what long-short.md suggests for interest on positive cash) and
    financing at 6%: the loan pays the financing rate alone, and cash_interest credits the cash only once it is
    positive again."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-05,100,50", "2024-01-08,100,50", "2024-01-09,100,50"])
    raw = _raw(path, {"A": 1.4, "B": -0.1}, ["2024-01-05"], allow_short=True, max_gross=1.5, financing_rate=0.06)
    raw["handlers"] = [{"name": "cash_interest", "params": {"annual_rate": 0.05}}]
    raw["events"] = [{"date": "2024-01-08", "type": "order", "symbol": "A", "side": "sell", "quantity": 100}]
    # Friday: 140 A bought (14,000), 20 B short (1,000): cash 10,000 - 14,000 + 1,000 = -3,000.
    result = run_verified(raw, tmp_path)
    fees = [(f["model"], f["bar"], f["amount"]) for f in published(result, "FeeEvent")]
    cash = result.equity["cash"].tolist()
    assert cash[0] == -3_000.0
    # Monday, over 3 days: financing 3,000 x 0.06 x 3 / 360 = 1.50 and no interest on cash (it was a loan; it
    # paid 5% more, 3,000 x 0.05 x 3 / 360 = 1.25, before). The sale of 100 A brings 10,000: cash 6,998.50.
    # Tuesday, 1 day: 6,998.50 x 0.05 / 360 = 0.97201 credited, no financing.
    assert cash[1] == pytest.approx(-3_000 - 1.5 + 10_000, abs=1e-9)
    assert fees == [("financing", 1, pytest.approx(1.5, abs=1e-12)),
                    ("cash_interest", 2, pytest.approx(-6_998.5 * 0.05 / 360, abs=1e-12))]


def test_a_management_fee_on_a_book_under_water_is_nothing_not_a_credit(tmp_path: Path) -> None:
    """150 A long and 200 B short on 10,000 (cash 5,000); when B jumps to 150 the book is worth less than nothing.
    A daily 1% management fee is charged on the value while it is above zero and not at all after: it paid the
    client before (-0.60 on -22,000)."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-02,100,50", "2024-01-03,90,55", "2024-01-04,80,60",
                              "2024-01-05,85,58", "2024-01-08,84,58", "2024-01-09,20,150", "2024-01-10,21,140",
                              "2024-01-11,22,130"])
    raw = _raw(path, {"A": 1.5, "B": -1.0}, ["2024-01-02"], allow_short=True, max_gross=2.5)
    raw["handlers"] = [{"name": "management_fee", "params": {"annual_rate": 0.01}}]
    result = run_verified(raw, tmp_path)
    fees = [(f["bar"], f["amount"]) for f in published(result, "FeeEvent")]
    # V = 5,000 + 150 A - 200 B at each close (the fees' own few cents left out: abs 1e-4 below): 7,500, 5,000,
    # 6,150, 6,000 (Monday: 3 days), then -22,000, -19,850 and -17,700.
    expected = [(1, 7_500 * 0.01 / 365), (2, 5_000 * 0.01 / 365), (3, 6_150 * 0.01 / 365),
                (4, 6_000 * 0.01 * 3 / 365)]
    assert [bar for bar, _ in fees] == [bar for bar, _ in expected]
    assert [amount for _, amount in fees] == pytest.approx([amount for _, amount in expected], abs=1e-4)
    assert result.equity["total_value"].iloc[5:].lt(0).all()
    # Monthly, the same accruals are summed and charged when the data ends (no month starts in the run). (This run
    # takes no quiet block; tests/handlers/test_fees.py clips a block's values.)
    raw["handlers"] = [{"name": "management_fee", "params": {"annual_rate": 0.01, "frequency": "monthly"}}]
    monthly = run_verified(raw, tmp_path, "monthly")
    assert [(f["bar"], f["amount"]) for f in published(monthly, "FeeEvent")] == [
        (7, pytest.approx(sum(amount for _, amount in expected), abs=1e-4))]


def test_borrow_rates_per_symbol_and_actual_365(tmp_path: Path) -> None:
    """A hard-to-borrow B at 36.5% a year over 365 days: 3,000 x 0.365 x 3 / 365 = 9.00 for the weekend."""
    path = _prices(tmp_path, ["date,A,B,C", "2024-01-05,10,10,10", "2024-01-08,10,10,10"])
    raw = _raw(path, {"A": 1.3, "B": -0.3, "C": -0.1}, ["2024-01-05"], allow_short=True, max_gross=1.7,
               borrow_rate=0.01, borrow_rates={"B": 0.365}, day_count=365)
    result = run_verified(raw, tmp_path)
    fees = {f["symbol"]: f["amount"] for f in published(result, "FeeEvent")}
    # B: 3,000 x 0.365 x 3 / 365 = 9.00; C (the default rate): 1,000 x 0.01 x 3 / 365 = 0.082192
    assert fees == {"B": pytest.approx(9.0, abs=1e-12), "C": pytest.approx(30 / 365, abs=1e-12)}


def test_a_signal_beyond_the_limits_is_scaled_with_a_notice(tmp_path: Path) -> None:
    """130/30 under max_gross = 1.0 becomes 81.25/18.75 (factor 1 / 1.6), said by a scaled_to_limits notice."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-02,10,10", "2024-01-03,10,10"])
    result = run_verified(_raw(path, {"A": 1.3, "B": -0.3}, ["2024-01-02"], allow_short=True), tmp_path)
    (notice,) = [n for n in published(result, "NoticeEvent") if n["code"] == "scaled_to_limits"]
    assert notice["handler"] == "strategy"
    details = notice["details"]
    assert (details["gross"], details["net"], details["max_gross"], details["max_net"]) == (1.6, 1.0, 1.0, None)
    assert details["factor"] == pytest.approx(0.625, abs=1e-15)
    (signal,) = published(result, "SignalEvent")
    assert signal["weights"] == {"A": pytest.approx(0.8125), "B": pytest.approx(-0.1875)}
    # 0.8125 x 10,000 / 10 = 812.5 -> 812 A; 0.1875 x 10,000 / 10 = 187.5 -> 187 B short
    assert result.trades[["symbol", "side", "quantity"]].values.tolist() == [["B", "SELL", 187], ["A", "BUY", 812]]


def test_max_net_scales_a_net_long_signal(tmp_path: Path) -> None:
    """{A: 1.0, B: 0.2} under max_gross 1.6, max_net 1.0: net 1.2 is scaled by 1 / 1.2 (A 0.8333, B 0.1667)."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-02,10,10"])
    result = run_verified(_raw(path, {"A": 1.0, "B": 0.2}, ["2024-01-02"], max_gross=1.6, max_net=1.0), tmp_path)
    (signal,) = published(result, "SignalEvent")
    assert signal["weights"] == {"A": pytest.approx(1 / 1.2), "B": pytest.approx(0.2 / 1.2)}
    # 8,333.33 / 10 -> 833 A, 1,666.67 / 10 -> 166 B: the net is 99.9% of 10,000
    assert result.trades["quantity"].tolist() == [833, 166]


def test_a_position_that_changes_side_is_closed_then_opened(tmp_path: Path) -> None:
    """500 A long at 10.00, then A = -0.5 at 12.00: sell 500 (realizing 1,000), then sell short 458."""
    path = _prices(tmp_path, ["date,A", "2024-01-02,10", "2024-01-03,12", "2024-01-04,11"])
    raw = _raw(path, {"A": 0.5}, ["2024-01-02"], allow_short=True)
    raw["strategy"] = {"name": "tests.properties.scripted:ScriptedWeights",
                       "params": {"targets": {"0": {"A": 0.5}, "1": {"A": -0.5}}}}
    raw["schedule"] = {"rebalance": "daily"}
    result = run_verified(raw, tmp_path)
    # bar 1: V = 5,000 + 500 x 12 = 11,000; T = -5,500: close 500, then floor(5,500 / 12) = floor(458.3) = 458
    assert result.trades[["side", "quantity", "price", "realized_pnl"]].values.tolist() == [
        ["BUY", 500, 10.0, 0.0], ["SELL", 500, 12.0, 1_000.0], ["SELL", 458, 12.0, 0.0]]
    # cash 5,000 + 6,000 + 5,496 = 16,496; at 11.00 the short is worth -5,038: value 11,458
    assert result.summary["final_value"] == pytest.approx(16_496 - 458 * 11, abs=1e-9)


def test_shorts_pay_dividends_and_split_toward_zero(tmp_path: Path) -> None:
    """101 A short at 49.50 pays a 0.50 dividend (50.50), then a 3-for-2 split: -151 shares and half a share in cash."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-02,49.5,10", "2024-01-03,49,10", "2024-01-04,32,10"])
    (tmp_path / "actions.csv").write_text("date,symbol,type,value\n2024-01-03,A,dividend,0.5\n"
                                          "2024-01-04,A,split,1.5\n")
    raw = _raw(path, {"A": -0.5, "B": 0.5}, ["2024-01-02"], allow_short=True)
    raw["data"]["corporate_actions"] = "actions.csv"
    result = run_verified(raw, tmp_path)
    # bar 0: floor(5,000 / 49.50) = 101 A short (4,999.50 in), 500 B (5,000 out): cash 9,999.50
    (dividend,) = published(result, "DividendPaymentEvent")
    # bar 1: -101 x 0.50 = -50.50 paid, no tax on a payment: cash 9,949.00
    assert (dividend["shares"], dividend["gross"], dividend["withholding_tax"], dividend["net"]) == (
        -101, -50.5, 0.0, -50.5)
    (split,) = published(result, "SplitAdjustmentEvent")
    # bar 2: -101 x 1.5 = -151.5 -> -151 shares and -0.5 of a share, settled at 49.00 / 1.5 = 32.6667 a share:
    # cash in lieu -16.3333; cash 9,932.6667
    assert (split["shares_before"], split["shares_after"], split["fractional_shares"]) == (-101, -151, -0.5)
    assert split["cash_in_lieu"] == pytest.approx(-0.5 * 49 / 1.5, abs=1e-12)
    cash = 10_000 + 101 * 49.5 - 5_000 - 50.5 - 0.5 * 49 / 1.5
    assert result.equity["cash"].iloc[-1] == pytest.approx(cash, abs=1e-9)
    # value: 9,932.6667 - 151 x 32 + 500 x 10 = 10,100.6667
    assert result.summary["final_value"] == pytest.approx(cash - 151 * 32 + 5_000, abs=1e-9)
    assert result.summary["dividends"]["net"] == pytest.approx(-50.5)


def test_costs_and_next_open_verify(tmp_path: Path) -> None:
    """A 130/30 book on the shipped data with commission, slippage, financing, borrow and a margin rule, at the next
    open: eventbt verify rebuilds every fill, fee and exposure."""
    raw = {"scenario": {"name": "costs"},
           "data": {"path": str(CSVDIR), "format": "per_symbol_dir", "end": "2012-12-31"},
           "portfolio": {"initial_cash": 100_000.0, "allow_short": True, "max_gross": 1.6,
                         "financing_rate": 0.05, "borrow_rate": 0.003, "maintenance_margin": 0.3},
           "strategy": {"name": "static_weights",
                        "params": {"weights": {"AAPL": 0.7, "MSFT": 0.6, "IBM": -0.2, "KO": -0.1}}},
           "schedule": {"rebalance": "monthly"},
           "execution": {"timing": "next_open",
                         "commission": {"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01},
                         "slippage": {"model": "fixed_bps", "bps": 5.0}}}
    result = run_verified(raw, tmp_path)
    # Independently of the fee handlers, from equity.csv's snapshots: each bar charges, for the calendar days
    # since the previous bar, 5% / 360 a day on the previous close's negative cash and 0.3% / 360 on its
    # short value.
    equity = result.equity
    days = equity.index.to_series().diff().dt.days.fillna(0).to_numpy()
    cash, short = equity["cash"].to_numpy(), equity["short_value"].to_numpy()
    financing = math.fsum(max(-c, 0.0) * 0.05 * d / 360 for c, d in zip(cash[:-1], days[1:], strict=True))
    borrow = math.fsum(-v * 0.003 * d / 360 for v, d in zip(short[:-1], days[1:], strict=True))
    assert borrow > 0 and financing > 0
    assert result.summary["costs"]["fee:borrow"]["amount"] == pytest.approx(borrow, rel=1e-9)
    assert result.summary["costs"]["fee:financing"]["amount"] == pytest.approx(financing, rel=1e-9)
    assert set(result.weights.columns) == {"AAPL", "IBM", "KO", "MSFT", "long", "short", "gross", "net"}
    assert (result.equity["short_value"].iloc[-200:] < 0).all()  # short from the first month end on


def test_a_cash_account_is_unchanged() -> None:
    """Without the keys of a margin account, a negative weight stays the error naming the strategy and symbol."""
    config = ScenarioConfig.from_dict(_raw(str(CSVDIR), {"AAPL": 1.3, "MSFT": -0.3}, ["2012-01-03"]))
    config = config.with_overrides(["data.format=per_symbol_dir"])
    with pytest.raises(HandlerError) as caught:
        eventbt.run(config)
    assert str(caught.value.__cause__) == ("strategy 'static_weights' on 2012-01-03: weight for 'MSFT' is -0.3; "
                                           "expected a finite number >= 0")
    assert "allow_short" not in config.to_toml()


def test_the_report_show_and_debugger_describe_a_margin_account(tmp_path: Path) -> None:
    """The margin call run: the report charts the signed weights and the exposures and lists the Exposure figures,
    and the debugger describes the call and the scaled signal in one line each."""
    from eventbt.debug.render import describe, explain
    from eventbt.events import MarginCallEvent, NoticeEvent
    from eventbt.report import write_report

    path = _prices(tmp_path, ["date,A,B", "2024-01-02,10,10", "2024-01-03,7.6,10", "2024-01-04,7.6,10"])
    raw = _raw(path, {"A": 3.0, "B": -0.5}, ["2024-01-02"], allow_short=True, max_gross=3.5,
               maintenance_margin=0.25)
    result = run_verified(raw, tmp_path)
    html = write_report(tmp_path / "run").read_text()
    assert 'data-chart="exposure"' in html and "Weights after each rebalance (negative: short)" in html
    assert 'data-table="metrics-exposure"' in html and "Margin calls" in html
    # 3.0 x 10,000 of A (3,000 shares) and -0.5 (500 B short): cash 10,000 - 30,000 + 5,000 = -15,000. At 7.60:
    # equity -15,000 + 22,800 - 5,000 = 2,800, gross 27,800, 10.07% < 25%: f = 1 - 2,800 / 6,950 = 0.597122,
    # ceil(1,791.37) = 1,792 A sold, ceil(298.56) = 299 B covered
    (record,) = [r["data"] for r in result.audit.records() if r.get("type") == "MarginCallEvent"]
    call = MarginCallEvent(id=1, time_ns=0, bar=1, equity=record["equity"], gross_exposure=record["gross_exposure"],
                           maintenance_margin=0.25, response="liquidate", fraction=record["fraction"],
                           quantities=record["quantities"])
    assert describe(call) == ("equity 2,800.00 is 10.07% of gross 27,800.00 (maintenance 25.00%): liquidate 59.71% "
                              "(A -1,792, B +299)")
    notice = NoticeEvent(id=2, time_ns=0, bar=0, handler="strategy", code="scaled_to_limits",
                         details={"gross": 1.6, "net": 1.0, "max_gross": 1.0, "max_net": None, "factor": 0.625})
    assert explain(notice) == ("the signal asked for gross 1.6, net 1, beyond max_gross 1: every weight scaled by "
                               "0.625000")


def test_a_short_whose_prices_end_is_bought_back_at_its_last_close(tmp_path: Path) -> None:
    """B's prices end on 2024-01-03 with 250 B short (-0.25 of 10,000 at 10.00): at the next bar it is bought
    back at its last close, 8.00, with no costs: a gain of (10 - 8) x 250 = 500."""
    path = _prices(tmp_path, ["date,A,B", "2024-01-02,10,10", "2024-01-03,10,8", "2024-01-04,10,"])
    result = run_verified(_raw(path, {"A": 0.5, "B": -0.25}, ["2024-01-02"], allow_short=True), tmp_path)
    (notice,) = [n for n in published(result, "NoticeEvent") if n["code"] == "delisted"]
    assert (notice["symbol"], notice["details"]["quantity"], notice["details"]["last_price"]) == ("B", -250, 8.0)
    last = result.trades.iloc[-1]
    assert (last["symbol"], last["side"], last["quantity"], last["price"], last["realized_pnl"]) == (
        "B", "BUY", 250, 8.0, 500.0)
    # cash 10,000 - 5,000 + 2,500 - 2,000 = 5,500; 500 A at 10.00: value 10,500
    assert result.summary["final_value"] == pytest.approx(10_500.0)


def test_limit_orders_open_a_short_and_a_long_by_the_fill_rules(tmp_path: Path) -> None:
    """Limit orders in a margin account: a buy limit and a short-sale limit placed at the 2 January close fill
    the next day by docs/orders.md's rules, and verify agrees; every number worked by hand below."""
    rows = ["date,symbol,open,high,low,close",
            "2024-01-02,A,10,10,10,10", "2024-01-02,B,20,20,20,20",
            "2024-01-03,A,10,10.5,9.5,10", "2024-01-03,B,20,20.5,19.5,20",
            "2024-01-04,A,11,11,11,11", "2024-01-04,B,19,19,19,19"]
    (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
    raw = {"scenario": {"name": "limits"}, "data": {"path": "prices.csv"},
           "portfolio": {"initial_cash": 10_000.0, "allow_short": True},
           "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5, "B": -0.5}}},
           "schedule": {"dates": ["2024-01-02"]},
           "execution": {"order_type": "limit", "limit_offset_bps": 10.0}}
    result = run_verified(raw, tmp_path)
    # V = 10,000: A 0.5 x 10,000 / 10 = 500 shares, limit 10 x (1 - 0.001) = 9.99; B -0.5 x 10,000 / 20 = -250
    # shares, limit 20 x 1.001 = 20.02. On 2 January the closes (10, 20) do not reach the limits; on 3 January
    # A's low 9.5 <= 9.99 fills at min(open 10, 9.99) = 9.99 and B's high 20.5 >= 20.02 at max(open 20, 20.02).
    trades = result.trades
    assert [(t.symbol, t.side, t.quantity, t.price) for t in trades.itertuples()] == [
        ("B", "SELL", 250, pytest.approx(20.02)), ("A", "BUY", 500, pytest.approx(9.99))]
    assert [str(day.date()) for day in trades["date"]] == ["2024-01-03", "2024-01-03"]
    # Cash 10,000 - 500 x 9.99 + 250 x 20.02 = 10,010; on 4 January 10,010 + 500 x 11 - 250 x 19 = 10,760.
    assert result.equity["cash"].iloc[-1] == pytest.approx(10_010.0, abs=CENT)
    assert result.equity["total_value"].iloc[-1] == pytest.approx(10_760.0, abs=CENT)
