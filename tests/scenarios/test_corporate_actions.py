"""Corporate actions end to end: splits and dividends booked as the rules say, each case worked out by hand.

The first case is the issue's check on the shipped Quandl WIKI sample (raw prices); the others run small price
and actions files written here, each number in a comment. Money is compared to the cent (``abs=0.005``) or
tighter.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.results import Result
from eventbt.scenario import ScenarioConfig

ROOT = Path(__file__).resolve().parents[2]
QUANDL = ROOT / "scenarios" / "data" / "zipline" / "quandl_samples" / "QUANDL_ARCHIVE.zip"
CENT = 0.005
DAYS = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09")


def quandl_rows(ticker: str) -> dict[str, dict[str, str]]:
    """The sample's rows of ``ticker`` by date, read with the csv module (not eventbt's loader)."""
    with zipfile.ZipFile(QUANDL) as archive, archive.open("QUANDL_SAMPLE_TABLE.csv") as handle:
        rows = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))
        return {row["date"]: row for row in rows if row["ticker"] == ticker}


def quandl_buy_and_hold(actions: str) -> Result:
    raw = {"scenario": {"name": "aapl_buy_and_hold"},
           "data": {"path": str(QUANDL), "symbols": ["AAPL"], "corporate_actions": actions},
           "portfolio": {"initial_cash": 100_000.0},
           "strategy": {"name": "static_weights", "params": {"weights": {"AAPL": 1.0}}},
           "schedule": {"dates": ["2014-01-02"]}}
    return eventbt.run(ScenarioConfig.from_dict(raw))


def test_the_file_holds_the_numbers_the_hand_check_uses() -> None:
    """The closes, dividends and split the hand check below takes are the sample file's own."""
    rows = quandl_rows("AAPL")
    assert (rows["2014-01-02"]["close"], rows["2014-12-31"]["close"]) == ("553.13", "110.38")
    actions = {day: (row["ex-dividend"], row["split_ratio"]) for day, row in rows.items()
               if float(row["ex-dividend"]) != 0 or float(row["split_ratio"]) != 1}
    assert actions == {"2014-02-06": ("3.05", "1.0"), "2014-05-08": ("3.29", "1.0"), "2014-06-09": ("0.0", "7.0"),
                       "2014-08-07": ("0.47", "1.0"), "2014-11-06": ("0.47", "1.0")}
    assert (rows["2014-06-06"]["close"], rows["2014-06-09"]["close"]) == ("645.57", "93.7")


def test_aapl_buy_and_hold_on_raw_quandl_prices_matches_the_hand_computation() -> None:
    """Buy-and-hold AAPL from the 2014-01-02 close, no costs: the trade, the dividends, the split, the final value."""
    result = quandl_buy_and_hold("columns")
    # Bought at the 2014-01-02 close: shares = floor(100,000 / 553.13) = 180 (181 x 553.13 = 100,116.53 is too
    # much); 180 x 553.13 = 99,563.40, cash left 100,000 - 99,563.40 = 436.60.
    shares, price = 100_000 // 553.13, 553.13
    assert shares == 180
    cash = 100_000.0 - 180 * 553.13
    assert cash == pytest.approx(436.60, abs=1e-9)
    # Each dividend x the shares held at the previous close (the split on 2014-06-09: 180 x 7 = 1,260):
    #   2014-02-06  3.05 x   180 =   549.00
    #   2014-05-08  3.29 x   180 =   592.20
    #   2014-08-07  0.47 x 1,260 =   592.20
    #   2014-11-06  0.47 x 1,260 =   592.20      total 2,325.60
    dividends = 3.05 * 180 + 3.29 * 180 + 0.47 * 1260 + 0.47 * 1260
    assert dividends == pytest.approx(2325.60, abs=1e-9)
    # Final cash 436.60 + 2,325.60 = 2,762.20; final value 1,260 x 110.38 (the 2014-12-31 close) + 2,762.20
    # = 139,078.80 + 2,762.20 = 141,841.00.
    final_cash = cash + dividends
    final_value = 1260 * 110.38 + final_cash
    assert final_value == pytest.approx(141_841.00, abs=1e-6)
    assert result.equity["cash"].iloc[-1] == pytest.approx(final_cash, abs=CENT)
    assert result.summary["final_value"] == pytest.approx(final_value, abs=CENT)
    trades = result.trades
    assert len(trades) == 1
    trade = trades.iloc[0]
    assert (str(trade["date"].date()), trade["symbol"], trade["side"], int(trade["quantity"])) == (
        "2014-01-02", "AAPL", "BUY", shares)
    assert (trade["price"], trade["commission"], trade["realized_pnl"]) == (price, 0.0, 0.0)
    assert result.summary["dividends"]["by_symbol"]["AAPL"]["gross"] == pytest.approx(2325.60, abs=CENT)
    assert result.summary["dividends"]["payments"] == 4


def test_without_actions_the_split_reads_as_a_crash() -> None:
    """The same run on the raw prices without actions: 180 x 110.38 + 436.60 = 20,305.00, the issue's figure."""
    result = quandl_buy_and_hold("")
    assert result.summary["final_value"] == pytest.approx(180 * 110.38 + 436.60, abs=CENT)
    assert "dividends" not in result.summary


def test_equity_stays_continuous_across_the_split() -> None:
    """On 2014-06-09 cash is unchanged and the value moves by 1,260 x (93.70 - 645.57 / 7), AAPL's own move."""
    equity = quandl_buy_and_hold("columns").equity
    before, after = equity.loc["2014-06-06"], equity.loc["2014-06-09"]
    # 2014-06-06: 180 x 645.57 = 116,202.60 plus cash 436.60 + 549.00 + 592.20 = 1,577.80 -> 117,780.40.
    assert before["total_value"] == pytest.approx(117_780.40, abs=CENT)
    assert after["cash"] == before["cash"]
    # 2014-06-09: 1,260 x 93.70 = 118,062.00 plus 1,577.80 -> 119,639.80.
    assert after["total_value"] == pytest.approx(119_639.80, abs=CENT)
    assert after["total_value"] - before["total_value"] == pytest.approx(1260 * (93.70 - 645.57 / 7), abs=CENT)


# --- small files written here ------------------------------------------------------------------------------

def write_prices(folder: Path, series: dict[str, list[tuple[float, float, float]]]) -> None:
    """A long file: per symbol, one ``(open, close, volume)`` per day of :data:`DAYS`."""
    lines = ["date,symbol,open,close,volume"]
    for symbol, bars in series.items():
        lines += [f"{day},{symbol},{o},{c},{v}" for day, (o, c, v) in zip(DAYS, bars, strict=False)]
    (folder / "prices.csv").write_text("\n".join(lines) + "\n")


def run_files(folder: Path, actions: str, *, cash: float, weights: dict[str, float], days: list[str],
              **tables: Any) -> Result:
    """A run over ``prices.csv`` and the actions file ``actions`` (its text), static weights on ``days``."""
    (folder / "actions.csv").write_text(actions)
    raw: dict[str, Any] = {
        "scenario": {"name": "actions_case"},
        "data": {"path": "prices.csv", "corporate_actions": "actions.csv"},
        "portfolio": {"initial_cash": cash},
        "strategy": {"name": "static_weights", "params": {"weights": weights}},
        "schedule": {"dates": days},
    }
    for name, table in tables.items():
        raw[name] = {**raw.get(name, {}), **table}
    return eventbt.run(ScenarioConfig.from_dict(raw, base_dir=folder))


def published(result: Result, kind: str) -> list[dict[str, Any]]:
    return [{**r["data"], "time": r["time"], "cause": r["cause"], "id": r["id"]} for r in result.audit.records()
            if r.get("record") == "publish" and r["type"] == kind]


def test_a_split_with_a_fraction_pays_cash_in_lieu_and_a_dividend_pays_net_of_tax(tmp_path: Path) -> None:
    """A 3-for-2 split of 101 shares and a dividend with 30% withheld, from an actions file, by hand."""
    closes = [100, 102, 68, 70, 71, 72]
    write_prices(tmp_path, {"A": [(c, c, 1e6) for c in closes]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-04,A,split,1.5\n2024-01-08,A,dividend,0.5\n",
                       cash=10_150.0, weights={"A": 1.0}, days=[DAYS[0]], portfolio={"withholding_tax": 0.3})
    # 2024-01-02: floor(10,150 / 100) = 101 shares for 10,100.00; cash 50.00.
    # 2024-01-04 (ex-date of the split): 101 x 1.5 = 151.5 -> 151 shares and half a new share, paid at the
    # previous close per new share, 102 / 1.5 = 68.00: cash in lieu 0.5 x 68 = 34.00; cash 84.00.
    (split,) = published(result, "SplitAdjustmentEvent")
    assert (split["shares_before"], split["shares_after"], split["fractional_shares"]) == (101, 151, 0.5)
    assert (split["prior_close"], split["cash_in_lieu"]) == (102.0, pytest.approx(34.00, abs=1e-9))
    assert result.equity.loc["2024-01-04", "cash"] == pytest.approx(84.00, abs=1e-9)
    # 2024-01-08: 0.50 x 151 = 75.50 gross, 30% withheld = 22.65, net 52.85; cash 136.85.
    (dividend,) = published(result, "DividendPaymentEvent")
    assert (dividend["shares"], dividend["gross"], dividend["withholding_tax"], dividend["net"]) == (
        151, pytest.approx(75.50), pytest.approx(22.65), pytest.approx(52.85))
    # Final: 151 x 72 = 10,872.00 + 136.85 = 11,008.85. Value is continuous at the split: 101 x 102 + 50 on
    # the day before = 10,352.00 = 151 x 68 + 84 on the ex-date.
    assert result.summary["final_value"] == pytest.approx(11_008.85, abs=CENT)
    assert result.equity.loc["2024-01-03", "total_value"] == pytest.approx(10_352.00, abs=1e-9)
    assert result.equity.loc["2024-01-04", "total_value"] == pytest.approx(10_352.00, abs=1e-9)
    income = result.summary["dividends"]
    assert (income["gross"], income["withholding_tax"], income["net"], income["cash_in_lieu"]) == (
        pytest.approx(75.50), pytest.approx(22.65), pytest.approx(52.85), pytest.approx(34.00))
    assert len(result.trades) == 1  # the split and the dividend are not trades


def test_a_reverse_split_rounds_down_and_pays_the_fraction(tmp_path: Path) -> None:
    """A 1-for-10 reverse split (ratio 0.1) of 106 shares: 10 shares and 0.6 of a new share in cash, by hand."""
    closes = [10, 10.5, 104, 105, 106, 106]
    write_prices(tmp_path, {"B": [(c, c, 1e6) for c in closes]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-04,B,split,0.1\n", cash=1_060.0,
                       weights={"B": 1.0}, days=[DAYS[0]])
    # floor(1,060 / 10) = 106 shares, cash 0. Ex-date: 106 x 0.1 = 10.6 -> 10 shares and 0.6 of a new share at
    # 10.50 / 0.1 = 105.00 a new share: cash in lieu 0.6 x 105 = 63.00. Final 10 x 106 + 63 = 1,123.00.
    (split,) = published(result, "SplitAdjustmentEvent")
    assert (split["shares_after"], split["fractional_shares"]) == (10, pytest.approx(0.6, abs=1e-12))
    assert split["cash_in_lieu"] == pytest.approx(63.00, abs=1e-9)
    assert result.summary["final_value"] == pytest.approx(1_123.00, abs=CENT)


def test_a_dividend_is_paid_on_the_shares_a_partly_filled_order_holds(tmp_path: Path) -> None:
    """Under a volume limit the dividend goes to the shares filled by the previous close, not the order's rest."""
    write_prices(tmp_path, {"A": [(50, 50, 1000)] * 5})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-03,A,dividend,2\n2024-01-05,A,dividend,1\n",
                       cash=12_500.0, weights={"A": 1.0}, days=[DAYS[0]],
                       execution={"volume_limit": 0.1, "remainder": "carry"})
    # Target floor(12,500 / 50) = 250 shares; at most 0.1 x 1,000 = 100 a day: 100 on 01-02 (cash 7,500),
    # 100 on 01-03, 50 on 01-04. 01-03's dividend (09:00, before that day's fill) is on the 100 held at the
    # 01-02 close: 2 x 100 = 200; 01-05's on all 250: 1 x 250 = 250.
    assert [(f["bar"], f["quantity"]) for f in published(result, "FillEvent")] == [(0, 100), (1, 100), (2, 50)]
    assert [(d["ex_date"], d["shares"], d["net"]) for d in published(result, "DividendPaymentEvent")] == [
        ("2024-01-03", 100, 200.0), ("2024-01-05", 250, 250.0)]
    # Cash: 12,500 - 250 x 50 + 200 + 250 = 450; value 250 x 50 + 450 = 12,950.
    assert result.equity["cash"].iloc[-1] == pytest.approx(450.0, abs=1e-9)
    assert result.summary["final_value"] == pytest.approx(12_950.0, abs=1e-9)


def test_a_split_restates_a_next_open_order_waiting_for_its_fill(tmp_path: Path) -> None:
    """A buy sized at 100 waits for the open; a 2-for-1 split at 09:00 makes it 200 shares at a reference of 50."""
    write_prices(tmp_path, {"A": [(99, 100, 1e6), (49, 50, 1e6), (51, 52, 1e6)]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-03,A,split,2\n", cash=10_000.0,
                       weights={"A": 1.0}, days=[DAYS[0]], execution={"timing": "next_open"})
    # Sized at the 01-02 close: floor(10,000 / 100) = 100 shares. The split comes before the 01-03 open: 100 x 2
    # = 200 shares, reference 100 / 2 = 50. Filled at the open, 49: 200 x 49 = 9,800, cash 200. Nothing was
    # held at the split, so nothing to adjust in the book. Final: 200 x 52 + 200 = 10,600.
    (order,) = published(result, "OrderEvent")
    (notice,) = [n for n in published(result, "NoticeEvent") if n["code"] == "split_adjusted"]
    assert (notice["details"]["wanted"], notice["details"]["quantity"], notice["details"]["reference_price"]) == (
        100, 200, 50.0)
    (fill,) = published(result, "FillEvent")
    assert (fill["order_id"], fill["quantity"], fill["price"], fill["reference_price"]) == (order["id"], 200, 49.0,
                                                                                           49.0)
    assert published(result, "SplitAdjustmentEvent") == []
    assert result.summary["final_value"] == pytest.approx(10_600.0, abs=1e-9)


def test_a_split_restates_a_carried_remainder_and_the_position(tmp_path: Path) -> None:
    """A remainder carried under a volume limit is restated in new shares; the shares filled keep their count."""
    write_prices(tmp_path, {"A": [(50, 50, 1000), (25, 25, 2000), (25, 25, 2000)]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-03,A,split,2\n", cash=12_500.0,
                       weights={"A": 1.0}, days=[DAYS[0]], execution={"volume_limit": 0.1, "remainder": "carry"})
    # 01-02: order 250, 100 filled (0.1 x 1,000) at 50, cash 7,500, 150 carried. 01-03 09:00 split 2-for-1:
    # the book's 100 become 200; the remainder 150 becomes 300 (the order now 100 filled + 300 = 400), its
    # reference 50 / 2 = 25. 01-03: 0.1 x 2,000 = 200 filled at 25 (5,000); 01-04: the last 100 (2,500).
    # Cash 7,500 - 5,000 - 2,500 = 0; 500 shares x 25 = 12,500.
    notice = next(n for n in published(result, "NoticeEvent") if n["code"] == "split_adjusted")
    assert (notice["details"]["wanted"], notice["details"]["quantity"]) == (150, 300)
    assert [(f["bar"], f["quantity"], f["price"]) for f in published(result, "FillEvent")] == [
        (0, 100, 50.0), (1, 200, 25.0), (2, 100, 25.0)]
    states = [(s["state"], s["quantity"], s["filled_quantity"]) for s in published(result, "OrderStateEvent")]
    assert states[-1] == ("filled", 400, 400)
    assert result.summary["final_value"] == pytest.approx(12_500.0, abs=1e-9)


def test_a_dividend_can_be_paid_on_its_pay_date(tmp_path: Path) -> None:
    """With dividend_payment = "pay_date" the cash arrives at the first bar on or after the pay date."""
    write_prices(tmp_path, {"A": [(100, 100, 1e6)] * 6})
    actions = ("date,symbol,type,value,pay_date\n2024-01-03,A,dividend,1,2024-01-06\n"
               "2024-01-04,A,dividend,2,2024-03-01\n")
    result = run_files(tmp_path, actions, cash=10_000.0, weights={"A": 1.0}, days=[DAYS[0]],
                       data={"dividend_payment": "pay_date"})
    # 100 shares from 01-02. The 01-03 dividend (1 x 100 = 100) is paid on 2024-01-06, a Saturday: at the next
    # bar, 01-08 (09:00). The 01-04 one (2 x 100 = 200) is paid after the data ends: at the last bar, 01-09.
    payments = [(p["time"], p["ex_date"], p["net"]) for p in published(result, "DividendPaymentEvent")]
    assert payments == [("2024-01-08T09:00:00", "2024-01-03", 100.0), ("2024-01-09T09:00:00", "2024-01-04", 200.0)]
    assert list(result.equity["cash"]) == [0.0, 0.0, 0.0, 0.0, 100.0, 300.0]


def test_by_default_a_dividend_is_paid_on_its_ex_date(tmp_path: Path) -> None:
    """Without the option the pay date is recorded on the DividendEvent but the cash comes on the ex-date."""
    write_prices(tmp_path, {"A": [(100, 100, 1e6)] * 3})
    result = run_files(tmp_path, "date,symbol,type,value,pay_date\n2024-01-03,A,dividend,1,2024-01-04\n",
                       cash=10_000.0, weights={"A": 1.0}, days=[DAYS[0]])
    (dividend,) = published(result, "DividendEvent")
    assert (dividend["time"], dividend["pay_date"]) == ("2024-01-03T09:00:00", "2024-01-04")
    assert list(result.equity["cash"]) == [0.0, 100.0, 100.0]


def test_actions_come_before_the_bar_and_chain_to_the_previous_bar_end(tmp_path: Path) -> None:
    """The feed publishes a bar's actions at 09:00, dividend before split; each is caused by the bar end before."""
    write_prices(tmp_path, {"A": [(100, 100, 1e6), (50, 50, 1e6), (50, 50, 1e6)]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-03,A,split,2\n2024-01-03,A,dividend,1\n",
                       cash=10_000.0, weights={"A": 1.0}, days=[DAYS[0]])
    records = [r for r in result.audit.records() if r.get("record") == "publish"]
    day = [(r["type"], r["time"][11:]) for r in records if r["time"].startswith("2024-01-03")][:4]
    assert day == [("DividendEvent", "09:00:00"), ("DividendPaymentEvent", "09:00:00"),
                   ("SplitEvent", "09:00:00"), ("SplitAdjustmentEvent", "09:00:00")]
    bar_end = next(r["id"] for r in records if r["type"] == "BarEndEvent" and r["data"]["bar"] == 0)
    assert [r["cause"] for r in records if r["type"] in ("DividendEvent", "SplitEvent")] == [bar_end, bar_end]
    # The dividend of the same date is paid on the shares before the split: 1 x 100, not 1 x 200.
    assert published(result, "DividendPaymentEvent")[0]["shares"] == 100


def test_a_next_open_volume_limit_reads_the_previous_volume_in_new_shares(tmp_path: Path) -> None:
    """The limit at a post-split open is 0.1 x the previous bar's volume restated in new shares (1,000 x 2)."""
    write_prices(tmp_path, {"A": [(100, 100, 1000), (50, 50, 1000), (50, 50, 1000)]})
    result = run_files(tmp_path, "date,symbol,type,value\n2024-01-03,A,split,2\n", cash=10_000.0,
                       weights={"A": 1.0}, days=[DAYS[0]],
                       execution={"timing": "next_open", "volume_limit": 0.1, "remainder": "carry"})
    # Sized at 100: 100 shares, restated to 200 at 09:00. At the 01-03 open the limit is 0.1 x the 01-02
    # volume, 1,000 old shares = 2,000 new ones: 200 shares, all of it, at 50: cash 0.
    assert [(f["bar"], f["quantity"], f["price"]) for f in published(result, "FillEvent")] == [(1, 200, 50.0)]
    assert result.equity["cash"].iloc[-1] == 0.0


def test_a_bar_aware_model_sees_no_jump_in_volatility_at_a_split(tmp_path: Path) -> None:
    """The execution handler's bars behind a slippage model's estimates are restated at a split: the volatility
    is that of the split-adjusted closes 50, 51, 51.5, 52 (statistics.stdev of their log returns)."""
    import math
    import statistics

    write_prices(tmp_path, {"A": [(c, c, 1e6) for c in (100, 102, 51.5, 52)]})
    (tmp_path / "actions.csv").write_text("date,symbol,type,value\n2024-01-04,A,split,2\n")
    raw = {"data": {"path": "prices.csv", "corporate_actions": "actions.csv"},
           "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5}}},
           "schedule": {"dates": [DAYS[0]]}, "execution": {"slippage": {"model": "sqrt_impact"}}}
    simulation = eventbt.Simulation(ScenarioConfig.from_dict(raw, base_dir=tmp_path))
    simulation.run()
    expected = statistics.stdev([math.log(51 / 50), math.log(51.5 / 51), math.log(52 / 51.5)])
    assert simulation.execution.bar_context("A").volatility == pytest.approx(expected, rel=1e-12)
