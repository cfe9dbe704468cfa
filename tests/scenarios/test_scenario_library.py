"""The scenario library in scenarios/: each file documented in its first line, each runs, each shows its feature."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import eventbt
from eventbt.scenario import ScenarioConfig

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _publishes(result: eventbt.Result, event_type: str) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in result.audit.records() if r.get("record") == "publish" and r.get("type") == event_type]


def test_library_has_the_featured_scenarios() -> None:
    """The two core scenarios plus at least the five feature scenarios are bundled."""
    names = {path.stem for path in SCENARIOS}
    assert {"ema_rotation", "ema_next_open", "drift_threshold", "ema_monthly_percentage", "cash_flows",
            "extra_handler", "ragged_weekly"} <= names


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_each_scenario_is_documented_in_one_line_and_runs(scenario: Path) -> None:
    """The first line is a '# ' comment saying what the scenario shows, and the scenario runs to completion."""
    first = scenario.read_text().splitlines()[0]
    assert first.startswith("# ") and len(first) > 20
    result = eventbt.run(scenario)
    assert result.complete and len(result.trades) > 0


def test_drift_threshold_skips_small_trades() -> None:
    """With min_trade_value = 2,500 small drifts are skipped (with a notice) and far fewer trades are made."""
    scenario = ROOT / "scenarios" / "drift_threshold.toml"
    banded = eventbt.run(scenario)
    unbanded = eventbt.run(scenario, overrides=["rebalance.min_trade_value=0"])
    skips = [n for n in _publishes(banded, "NoticeEvent") if n["data"]["code"] == "skip_min_trade_value"]
    assert skips and all(abs(n["data"]["details"]["change"]) < 2_500 for n in skips)
    assert len(banded.signals) == len(banded.equity)  # a decision every day...
    assert len(banded.trades) * 5 < len(unbanded.trades)  # ...but a fraction of the trades


def test_extends_variation_changes_only_its_keys() -> None:
    """ema_monthly_percentage equals ema_next_open apart from schedule, commission, slippage and name."""
    base = ScenarioConfig.from_toml(ROOT / "scenarios" / "ema_next_open.toml").to_dict()
    child = ScenarioConfig.from_toml(ROOT / "scenarios" / "ema_monthly_percentage.toml").to_dict()
    assert child["execution"]["commission"] == {"model": "percentage", "rate": 0.001}
    assert child["execution"]["slippage"] == {"model": "fixed_bps", "bps": 10.0}
    assert child["schedule"] == {"rebalance": "monthly"}
    for table in ("data", "portfolio", "strategy", "rebalance"):
        assert child[table] == base[table]


def test_cash_flows_are_injected_and_booked_exactly() -> None:
    """The deposit, withdrawal and manual order are published by 'injected' and move cash by their amounts."""
    result = eventbt.run(ROOT / "scenarios" / "cash_flows.toml")
    flows = _publishes(result, "CashFlowEvent")
    assert [(f["time"][:10], f["data"]["amount"], f["by"], f["cause"]) for f in flows] == [
        ("2012-06-01", 50_000.0, "injected", None), ("2013-06-03", -20_000.0, "injected", None)]
    cash = result.equity["cash"]
    # Neither date is a month-end rebalance, so no fill moves cash there: the change is the flow itself.
    assert cash["2012-06-01"] - cash["2012-05-31"] == pytest.approx(50_000.0, abs=1e-6)
    assert cash["2013-06-03"] - cash["2013-05-31"] == pytest.approx(-20_000.0, abs=1e-6)
    manual = [o for o in _publishes(result, "OrderEvent") if o["data"]["reason"] == "manual"]
    assert [(o["time"][:10], o["data"]["symbol"], o["data"]["quantity"], o["by"]) for o in manual] == [
        ("2013-01-02", "KO", 100, "injected")]
    fills = result.trades[result.trades["order_id"] == manual[0]["id"]]
    assert fills["quantity"].tolist() == [100]


def test_extra_handler_is_built_from_the_scenario() -> None:
    """Both [[handlers]] entries are built with their params, charge what their formulas say, and run last."""
    result = eventbt.run(ROOT / "scenarios" / "extra_handler.toml")
    fees = _publishes(result, "FeeEvent")
    duty = [f for f in fees if f["by"] == "stamp_duty"]
    buys = result.trades[result.trades["side"] == "BUY"]
    value = dict(zip(buys["fill_id"], buys["quantity"] * buys["price"], strict=True))
    # Stamp duty: 0.5% of each buy fill's value is due, caused by that fill; what cash cannot cover at once
    # is owed and paid with later fees, so the amounts charged add up to 0.5% of all buys.
    for fee in duty:
        assert fee["data"]["details"]["due"] == pytest.approx(0.005 * value[fee["cause"]], rel=1e-12)
    total_due = 0.005 * float((buys["quantity"] * buys["price"]).sum())
    assert sum(f["data"]["amount"] for f in duty) == pytest.approx(total_due, rel=1e-12)
    # Management fee, monthly: at most one charge per calendar month, the first in the data's second month,
    # and the last part-month charged once more when the data ends (at the last bar, before its snapshot).
    charges = [f for f in fees if f["by"] == "management_fee"]
    monthly, end = charges[:-1], charges[-1]
    assert end["data"]["reason"] == "management fee accrued to the end of the data"
    last_close = str(result.equity.index[-1])[:10] + "T16:00:00"
    assert end["time"] == _publishes(result, "DataEndEvent")[0]["time"] == last_close
    months = [f["time"][:7] for f in monthly]
    assert len(set(months)) == len(months) > 24 and months[0] == "2012-02"
    assert all(f["data"]["details"]["annual_rate"] == 0.01 for f in monthly)
    published = [r for r in result.audit.records() if r.get("record") == "publish"]
    market = next(r for r in published if r["to"] and "management_fee" in r["to"])
    assert market["to"][-2:] == ["management_fee", "stamp_duty"]  # after the pipeline's own handlers


def test_ragged_weekly_never_trades_a_symbol_before_it_lists() -> None:
    """On the ragged-start data no symbol is traded before its first price in the file."""
    result = eventbt.run(ROOT / "scenarios" / "ragged_weekly.toml")
    prices = pd.read_csv(ROOT / "scenarios" / "data" / "pypfopt" / "stock_prices.csv", index_col=0, parse_dates=True)
    first = prices.apply(lambda column: column.first_valid_index())
    trades = result.trades
    assert (trades["date"].to_numpy() >= first[trades["symbol"]].to_numpy()).all()
    late = {symbol for symbol, day in first.items() if day > pd.Timestamp("2005-01-03")}
    assert late and late & set(trades["symbol"])  # some late listers are traded once listed


def test_long_short_holds_a_130_30_book_and_verifies(tmp_path: Path) -> None:
    """long_short: IBM and KO are held short from the first rebalance, KO's borrow fee is at its own rate, the
    gross exposure stays near 1.6, and eventbt verify agrees with every file."""
    result = eventbt.run(ROOT / "scenarios" / "long_short.toml", out=tmp_path / "run")
    assert eventbt.verify_run(tmp_path / "run").ok
    assert set(result.trades.loc[result.trades["side"] == "SELL", "symbol"]) >= {"IBM", "KO"}
    assert (result.weights[["IBM", "KO"]] < 0).all().all()  # short (negative weights) after every rebalance
    fees = [f["data"] for f in _publishes(result, "FeeEvent") if f["by"] == "borrow"]
    assert {f["symbol"] for f in fees} == {"IBM", "KO"}
    assert {f["details"]["annual_rate"] for f in fees if f["symbol"] == "KO"} == {0.004}
    assert {f["details"]["annual_rate"] for f in fees if f["symbol"] == "IBM"} == {0.003}
    exposure = result.summary["exposure"]
    # rebalanced monthly to 1.6 of equity; prices drift in between, by at most about a tenth here
    assert 1.5 < exposure["gross"]["average"] < 1.7 and exposure["margin_calls"] == 0
