"""A withdrawal larger than the cash: stopped under ``[portfolio] withdrawal = "error"``, funded by selling
positions pro rata under ``"sell"`` (docs/scenarios.md), with every number worked out by hand below.

Two symbols, 10,000.00 of cash, half in each at the first bar. Each ``sell`` case sells the same fraction
``f`` of both positions, ``ceil(f * shares)`` each, with ``f`` the smallest fraction whose expected proceeds
cover the shortfall: the comments walk along the share counts as ``f`` grows to find the first pair that
covers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eventbt
from eventbt.errors import AccountingError, HandlerError
from eventbt.prices import PriceData
from eventbt.replays.verify import verify_run
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from tests.properties.scripted import scripted_config

DATES = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"], dtype="datetime64[ns]")
HALF_EACH = {"A": 0.5, "B": 0.5}


def _run(targets: dict[int, Any], close: list[list[float]], *, policy: str, amount: float, day: str,
         timing: str = "same_close", open_: list[list[float]] | None = None, bps: float = 0.0) -> Simulation:
    bars = len(close)
    prices = PriceData(dates=DATES[:bars], symbols=("A", "B"), close=np.array(close),
                       open=None if open_ is None else np.array(open_))
    config = scripted_config(
        targets, data={"path": "prices.csv"},
        portfolio={"initial_cash": 10_000.0, "withdrawal": policy},
        execution={"timing": timing, "commission": {"model": "zero"},
                   "slippage": {"model": "fixed_bps", "bps": bps} if bps else {"model": "zero"}},
        events=[{"date": day, "type": "withdrawal", "amount": amount, "reason": "school fees"}])
    simulation = Simulation(config, prices=prices)
    simulation.run()
    return simulation


def _records(simulation: Simulation, kind: str) -> list[dict[str, Any]]:
    return [r["data"] | {"id": r["id"], "time": r["time"]} for r in simulation.audit.records()
            if r["record"] == "publish" and r["type"] == kind]


# Bar 0: 500 A at 10.00 and 250 B at 20.00, cash 0. Bar 1 closes at A 12.00, B 20.00: 11,000.00 of positions.
SAME_CLOSE = [[10.0, 20.0], [12.0, 20.0], [12.0, 20.0]]


def test_under_error_the_run_stops_naming_the_date_the_amount_and_the_cash() -> None:
    """The withdrawal of 3,000.00 meets 0.00 of cash: an AccountingError not built from the event's reason."""
    with pytest.raises(HandlerError) as caught:
        _run({0: HALF_EACH}, SAME_CLOSE, policy="error", amount=3000.0, day="2020-01-03")
    cause = caught.value.__cause__
    assert isinstance(cause, AccountingError) and cause.date == "2020-01-03"
    assert str(cause) == ("withdrawal of 3,000.00 on 2020-01-03 exceeds the cash of 0.00 (short by 3,000.00); "
                          "expected a withdrawal the cash covers, or [portfolio] withdrawal = 'sell' to sell "
                          "positions for it")
    assert "school fees" not in str(caught.value)


def test_under_sell_same_close_sells_pro_rata_then_books_the_withdrawal_at_the_same_close() -> None:
    """Shortfall 3,000.00: 137 A and 69 B sold at the close, the withdrawal booked right after, cash 24.00."""
    # proceeds(f) = 12 * ceil(500 f) + 20 * ceil(250 f), no costs:
    #   f in (0.270, 0.272]: 136 A, 68 B -> 1,632 + 1,360 = 2,992 < 3,000
    #   f in (0.272, 0.274]: 137 A, 69 B -> 1,644 + 1,380 = 3,024 >= 3,000  (the first that covers)
    # cash 0 + 3,024 - 3,000 = 24; left 363 A and 181 B, worth 363 * 12 + 181 * 20 = 4,356 + 3,620 = 7,976.
    simulation = _run({0: HALF_EACH}, SAME_CLOSE, policy="sell", amount=3000.0, day="2020-01-03")
    result = simulation.result()
    sales = result.trades[result.trades["date"] == "2020-01-03"]
    assert sales[["symbol", "side", "quantity", "price"]].values.tolist() == [["A", "SELL", 137, 12.0],
                                                                            ["B", "SELL", 69, 20.0]]
    day = result.equity.loc["2020-01-03"]
    assert (day["cash"], day["flow"], day["total_value"]) == (24.0, -3000.0, 8000.0)
    assert [o["reason"] for o in _records(simulation, "OrderEvent") if o["bar"] == 1] == ["liquidate", "liquidate"]
    (notice,) = _records(simulation, "NoticeEvent")
    assert (notice["code"], notice["details"]["cash"], notice["details"]["shortfall"]) == ("withdrawal_short", 0.0,
                                                                                          3000.0)
    (flow,) = _records(simulation, "CashFlowEvent")
    assert (flow["amount"], flow["time"], flow["reason"]) == (-3000.0, "2020-01-03T16:00:00", "school fees")
    assert simulation.portfolio.held() == {"A": 363, "B": 181}


def test_under_sell_on_a_rebalance_bar_the_sales_come_after_the_rebalance_orders() -> None:
    """The bar's own orders are sent first; the sales do not sell their shares again and count their cash."""
    # Bar 1 rebalances to half each of 11,000: A sells floor(500 / 12) = 41 (+492), B would buy 500 / 20 = 25
    # but only 492 is available, so it is scaled to floor(25 * 492 / 500) = 24 (-480). Cash expected once
    # they fill: 0 + 492 - 480 = 12, so the shortfall is 2,988. Sellable: 500 - 41 = 459 A, 250 B.
    #   f in (0.27887, 0.28322]: 130 A, 71 B -> 1,560 + 1,420 = 2,980 < 2,988
    #   f in (0.28322, 0.28400]: 131 A, 71 B -> 1,572 + 1,420 = 2,992 >= 2,988
    # cash 12 + 2,992 - 3,000 = 4; left 500 - 41 - 131 = 328 A and 250 + 24 - 71 = 203 B.
    simulation = _run({0: HALF_EACH, 1: HALF_EACH}, SAME_CLOSE, policy="sell", amount=3000.0, day="2020-01-03")
    result = simulation.result()
    sales = result.trades[result.trades["date"] == "2020-01-03"]
    assert sales[["symbol", "side", "quantity"]].values.tolist() == [
        ["A", "SELL", 41], ["B", "BUY", 24], ["A", "SELL", 131], ["B", "SELL", 71]]
    assert result.equity.loc["2020-01-03", "cash"] == 4.0
    assert simulation.portfolio.held() == {"A": 328, "B": 203}
    # The notice is sent again once the rebalance's orders are out; the sales are sized at the second one.
    notices = _records(simulation, "NoticeEvent")
    short = [n for n in notices if n["code"] == "withdrawal_short"]
    assert [n["details"].get("after") for n in short] == [None, "this bar's rebalance orders"]
    assert {o["cause"] for o in simulation.audit.records() if o.get("type") == "OrderEvent"
            and o["data"]["reason"] == "liquidate"} == {short[1]["id"]}


# next_open, 10 bps of slippage. Bar 0 sizes at the closes A 10.00, B 20.00: floor(5,000 / 10.01) = 499 A and
# floor(5,000 / 20.02) = 249 B, filled at bar 1's open (the same prices): 4,994.99 + 4,984.98, cash 20.03.
NEXT_OPEN_CLOSE = [[10.0, 20.0], [10.0, 20.0], [12.0, 22.0], [12.0, 22.0], [12.0, 22.0]]


def test_under_sell_next_open_sells_at_the_next_open_and_books_the_withdrawal_there() -> None:
    """Sized at bar 2's close, sold at bar 3's open, booked at 09:30 of bar 3 right after the sales."""
    # Shortfall 3,000 - 20.03 = 2,979.97; expected sale prices 12 * 0.999 = 11.988 and 22 * 0.999 = 21.978.
    #   f in (0.257028, 0.258517]: 129 A, 65 B -> 1,546.452 + 1,428.57 = 2,975.022 < 2,979.97
    #   f in (0.258517, 0.260521]: 130 A, 65 B -> 1,558.44 + 1,428.57 = 2,987.01 >= 2,979.97
    # Bar 3 opens at the same prices: cash 20.03 + 2,987.01 - 3,000 = 7.04.
    simulation = _run({0: HALF_EACH}, NEXT_OPEN_CLOSE, policy="sell", amount=3000.0, day="2020-01-06",
                      timing="next_open", open_=NEXT_OPEN_CLOSE, bps=10.0)
    result = simulation.result()
    sales = result.trades[result.trades["side"] == "SELL"]
    assert sales[["date", "symbol", "quantity"]].astype(str).values.tolist() == [
        ["2020-01-07", "A", "130"], ["2020-01-07", "B", "65"]]
    assert sales["price"].tolist() == pytest.approx([11.988, 21.978], abs=1e-12)
    (flow,) = _records(simulation, "CashFlowEvent")
    assert flow["time"] == "2020-01-07T09:30:00"
    assert result.equity.loc["2020-01-06", "flow"] == 0.0 and result.equity.loc["2020-01-07", "flow"] == -3000.0
    assert result.equity.loc["2020-01-07", "cash"] == pytest.approx(7.04, abs=1e-9)


def test_under_sell_next_open_sells_again_when_the_open_brings_in_less() -> None:
    """Bar 3 opens lower than the close the sales were sized at: a second round, booked at bar 4's open."""
    # Round 1 as above (130 A, 65 B) fills at bar 3's opens A 11.50, B 22.50: 130 * 11.4885 + 65 * 22.4775
    # = 1,493.505 + 1,461.0375 = 2,954.5425; cash 2,974.5725 < 3,000. Round 2, sized at 09:30 of bar 3 on the
    # last closes (12, 22): shortfall 25.4275; any f > 0 sells at least 1 A and 1 B, 11.988 + 21.978 = 33.966
    # >= 25.4275. Filled at bar 4's opens A 11.00, B 22.00: 10.989 + 21.978 = 32.967; cash 3,007.5395 - 3,000.
    opens = [[10.0, 20.0], [10.0, 20.0], [12.0, 22.0], [11.5, 22.5], [11.0, 22.0]]
    simulation = _run({0: HALF_EACH}, NEXT_OPEN_CLOSE, policy="sell", amount=3000.0, day="2020-01-06",
                      timing="next_open", open_=opens, bps=10.0)
    result = simulation.result()
    sales = result.trades[result.trades["side"] == "SELL"]
    assert sales[["date", "symbol", "quantity"]].astype(str).values.tolist() == [
        ["2020-01-07", "A", "130"], ["2020-01-07", "B", "65"], ["2020-01-08", "A", "1"], ["2020-01-08", "B", "1"]]
    (flow,) = _records(simulation, "CashFlowEvent")
    assert flow["time"] == "2020-01-08T09:30:00"
    assert result.equity.loc["2020-01-08", "cash"] == pytest.approx(7.5395, abs=1e-9)
    assert [n["details"]["round"] for n in _records(simulation, "NoticeEvent")] == [1, 2]


def test_under_sell_a_withdrawal_beyond_everything_stops_the_run() -> None:
    """20,000.00 against 0.00 of cash and 11,000.00 of positions: an AccountingError before selling anything."""
    with pytest.raises(HandlerError) as caught:
        _run({0: HALF_EACH}, SAME_CLOSE, policy="sell", amount=20_000.0, day="2020-01-03")
    assert str(caught.value.__cause__) == (
        "withdrawal of 20,000.00 due on 2020-01-03 exceeds the cash of 0.00 (short by 20,000.00), and selling every "
        "position that can be sold would bring in only 11,000.00 after costs")


def test_under_sell_a_withdrawal_the_cash_covers_is_booked_at_its_bar_as_before() -> None:
    """Nothing to sell: 3,000.00 out of 10,000.00 of cash at bar 0, before the bar's buys (which are cut)."""
    simulation = _run({}, SAME_CLOSE, policy="sell", amount=3000.0, day="2020-01-02")
    assert _records(simulation, "NoticeEvent") == [] and simulation.result().trades.empty
    assert simulation.result().equity["cash"].tolist() == [7000.0, 7000.0, 7000.0]


def test_a_run_that_sold_for_a_withdrawal_verifies(tmp_path: Path) -> None:
    """eventbt verify rebuilds the cash of a run with liquidation sales and agrees (fills, flow and all)."""
    rows = "".join(f"{str(day)[:10]},{a},{b}\n" for day, (a, b) in zip(DATES, SAME_CLOSE, strict=False))
    (tmp_path / "prices.csv").write_text("date,A,B\n" + rows)
    config = scripted_config(
        {0: HALF_EACH, 1: HALF_EACH}, data={"path": "prices.csv"},
        portfolio={"initial_cash": 10_000.0, "withdrawal": "sell"},
        events=[{"date": "2020-01-03", "type": "withdrawal", "amount": 3000.0}])
    config = ScenarioConfig.from_dict(config.to_dict(), source=str(tmp_path / "scenario.toml"), base_dir=tmp_path)
    eventbt.run(config, out=tmp_path / "run")
    report = verify_run(tmp_path / "run")
    assert report.ok and report.fills == 6, report
