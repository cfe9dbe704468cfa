"""Orders waiting on a symbol whose series ends (a delisting): cancelled at the first bar after its last close,
with a reason naming the symbol and its last date, not left waiting until the data ends (docs/orders.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.events import MarketEvent
from eventbt.prices import PriceData
from eventbt.simulation import Simulation
from handlers.execution import ExecutionHandler
from tests.properties.scripted import scripted_config

NAN = np.nan
DATES = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"],
                 dtype="datetime64[ns]")
# A trades every day at 10; B and C end after 2020-01-07 (bar 3), B at 25, C at 30. Each bar opens at its close
# and trades 1 either side of it (high = close + 1, low = close - 1).
CLOSE = np.array([[10, 20, 30], [10, 20, 30], [10, 20, 30], [10, 25, 30], [10, NAN, NAN], [10, NAN, NAN]],
                 dtype=float)
B_ENDS = "prices for 'B' end on 2020-01-07 (the series ended): the order cannot fill"
C_ENDS = "prices for 'C' end on 2020-01-07 (the series ended): the order cannot fill"


def _prices(volume: float | None = None) -> PriceData:
    volumes = None if volume is None else np.where(np.isnan(CLOSE), NAN, [[1e9, volume, 1e9]])
    return PriceData(dates=DATES, symbols=("A", "B", "C"), close=CLOSE, open=CLOSE.copy(), high=CLOSE + 1,
                     low=CLOSE - 1, volume=volumes)


def _order(date: str, symbol: str, side: str, quantity: int, **typed: Any) -> dict[str, Any]:
    return {"date": date, "type": "order", "symbol": symbol, "side": side, "quantity": quantity, **typed}


def _run(targets: dict[int, Any], events: list[dict[str, Any]], *, timing: str = "same_close",
         volume: float | None = None, **execution: Any) -> Simulation:
    config = scripted_config(targets, portfolio={"initial_cash": 10_000.0}, events=events,
                             execution={"timing": timing, "commission": {"model": "zero"},
                                        "slippage": {"model": "zero"}, **execution})
    simulation = Simulation(config, prices=_prices(volume))
    assert simulation.run() is not None
    return simulation


def _published(simulation: Simulation, *types: str) -> list[dict[str, Any]]:
    return [r for r in simulation.audit.records() if r["record"] == "publish" and r["type"] in types]


def _cancels(simulation: Simulation) -> list[tuple[int, str, int, str]]:
    """(order id, date, shares, reason) of each cancel, in the order published."""
    return [(r["data"]["order_id"], r["time"][:10], r["data"]["quantity"], r["data"]["reason"])
            for r in _published(simulation, "CancelEvent")]


def _manual_ids(simulation: Simulation) -> list[int]:
    return [r["id"] for r in _published(simulation, "OrderEvent") if r["by"] == "injected"]


@pytest.mark.parametrize("timing", ["same_close", "next_open"])
def test_a_stop_waiting_on_a_delisted_symbol_is_cancelled_before_its_sale(timing: str) -> None:
    """500 A at 10 and 250 B at 20 from 10,000 (half each); a gtc stop selling 100 B at 5.00, placed on 2020-01-03,
    is never reached (B's lows are 19, 19 and 24). It was left waiting until the data ended (2020-01-09); now it is
    cancelled on 2020-01-08, B's first bar without a price, just before the delisting sells the 250 B at 25.00:
    the book ends as without the stop, cash 250 x 25 = 6,250 and A 500 x 10 = 5,000."""
    stop = _order("2020-01-03", "B", "sell", 100, order_type="stop", stop_price=5.0, time_in_force="gtc")
    simulation = _run({0: {"A": 0.5, "B": 0.5}}, [stop], timing=timing)
    [order_id] = _manual_ids(simulation)
    assert _cancels(simulation) == [(order_id, "2020-01-08", 100, B_ENDS)]
    states = [(r["data"]["state"], r["data"]["reason"]) for r in _published(simulation, "OrderStateEvent")]
    assert states[-1] == ("cancelled", B_ENDS)
    # At 2020-01-08: the cancel and its state, then the delisted notice and its sale, in id order.
    day = [(r["type"], r["by"]) for r in simulation.audit.records() if r["record"] == "publish"
           and r["time"].startswith("2020-01-08") and r["type"] in ("CancelEvent", "OrderStateEvent",
                                                                      "NoticeEvent", "FillEvent")]
    assert day == [("CancelEvent", "execution"), ("OrderStateEvent", "execution"), ("NoticeEvent", "delisting"),
                   ("FillEvent", "delisting")]
    result = simulation.result()
    assert result.equity.loc["2020-01-08"].tolist() == [6_250.0, 5_000.0, 11_250.0, 0.0]
    without = _run({0: {"A": 0.5, "B": 0.5}}, [], timing=timing).result()
    assert result.equity.equals(without.equity)


@pytest.mark.parametrize(("timing", "typed", "before"), [
    ("next_open", {}, "no price for the symbol at the fill"),
    ("same_close", {"order_type": "market_on_open"}, "no price for the symbol at the fill"),
    ("next_open", {"order_type": "market_on_close"}, "no price for the symbol at the fill"),
    ("same_close", {"order_type": "limit", "limit_price": 1.0},
     "day order expired: no open and low for B on 2020-01-08"),
])
def test_an_order_for_the_bar_after_the_last_close_names_the_end(timing: str, typed: dict[str, Any],
                                                                  before: str) -> None:
    """A buy of 10 B placed at B's last close (2020-01-07) for the next bar (a market order under next_open, for
    the next open or close, a day limit at 1.00 that the close of 25 does not reach) meets 2020-01-08, where B has
    no price. Its cancel said only that (``before``); it names the end of B's series now. Nothing is bought: the
    cash stays 10,000."""
    simulation = _run({}, [_order("2020-01-07", "B", "buy", 10, **typed)], timing=timing)
    [order_id] = _manual_ids(simulation)
    assert _cancels(simulation) == [(order_id, "2020-01-08", 10, B_ENDS)]
    assert before not in str(simulation.audit.records())
    assert simulation.result().equity["cash"].tolist() == [10_000.0] * 6


@pytest.mark.parametrize(("typed", "states"), [
    ({"order_type": "limit", "limit_price": 30.0, "time_in_force": "gtc"}, ["open", "cancelled"]),
    ({}, []),
])
def test_an_order_placed_after_the_series_ended_is_cancelled_as_it_arrives(typed: dict[str, Any],
                                                                           states: list[str]) -> None:
    """A buy of 10 B placed on 2020-01-08, after B's last close: a gtc limit waited until the data ended
    (2020-01-09, "data ended before the order could fill"); a market order was cancelled for "no price". Both are
    cancelled on 2020-01-08 as they arrive, naming the end of B's series (the limit with its open and cancelled
    states)."""
    simulation = _run({}, [_order("2020-01-08", "B", "buy", 10, **typed)])
    [order_id] = _manual_ids(simulation)
    assert _cancels(simulation) == [(order_id, "2020-01-08", 10, B_ENDS)]
    assert [r["data"]["state"] for r in _published(simulation, "OrderStateEvent")] == states


def test_a_carried_remainder_and_a_stop_are_cancelled_in_id_order() -> None:
    """volume_limit 0.5 of B's 100 shares a bar: the rebalance of 2020-01-07 (half of 10,000 in B at 25: 200 B)
    fills 50 and carries 150, which met 2020-01-08 without a price ("no price for the symbol at the fill"). A gtc
    stop selling 10 C at 1.00, placed on 2020-01-03 (C never trades below 29), waited until the data ended. At
    2020-01-08 both are cancelled naming their series, the stop first (placed first, the lower id), though the
    remainder is the one worked first on a bar. The delisting then sells the 50 B at 25: cash 10,000 again."""
    stop = _order("2020-01-03", "C", "sell", 10, order_type="stop", stop_price=1.0, time_in_force="gtc")
    simulation = _run({3: {"B": 0.5}}, [stop], volume=100.0, volume_limit=0.5, remainder="carry")
    [stop_id] = _manual_ids(simulation)
    [rebalance_id] = [r["id"] for r in _published(simulation, "OrderEvent") if r["by"] == "rebalance"]
    assert stop_id < rebalance_id
    assert _cancels(simulation) == [(stop_id, "2020-01-08", 10, C_ENDS), (rebalance_id, "2020-01-08", 150, B_ENDS)]
    trades = simulation.result().trades
    assert trades[["symbol", "side", "quantity", "price"]].values.tolist() == [["B", "BUY", 50, 25.0],
                                                                             ["B", "SELL", 50, 25.0]]
    assert simulation.result().equity["cash"].iloc[-1] == 10_000.0


def test_the_bar_of_the_cancel_is_never_quiet() -> None:
    """A guard for the quiet-bar blocks: stopped before 2020-01-08's market event (bar 4), with the stop on B still
    waiting, the execution handler tells the bus bar 4 is not quiet, so the cancel there is never inside a block."""
    stop = _order("2020-01-03", "B", "sell", 100, order_type="stop", stop_price=5.0, time_in_force="gtc")
    config = scripted_config({0: {"A": 0.5, "B": 0.5}}, portfolio={"initial_cash": 10_000.0}, events=[stop],
                             execution={"commission": {"model": "zero"}, "slippage": {"model": "zero"}})
    simulation = Simulation(config, prices=_prices())
    assert simulation.run(stop=lambda event: isinstance(event, MarketEvent) and event.bar == 4) is None
    [execution] = [handler for handler in simulation.bus.handlers if isinstance(handler, ExecutionHandler)]
    assert [row.order.symbol for row in execution.waiting()] == ["B"]
    assert execution.quiet_until(4) == 4


def test_eventbt_run_warns_of_the_end_of_the_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The [[events]] warning of `eventbt run` names the end of B's series, not "data ended before the order
    could fill" on 2020-01-09: the stop of the first test, from a CSV file."""
    rows = [{"date": str(date)[:10], "symbol": symbol, "open": close, "high": close + 1, "low": close - 1,
             "close": close, "volume": 1e6}
            for date, closes in zip(DATES, CLOSE, strict=True) for symbol, close in zip("ABC", closes, strict=True)
            if close == close]
    pd.DataFrame(rows).to_csv(tmp_path / "prices.csv", index=False)
    (tmp_path / "s.toml").write_text(
        '[data]\npath = "prices.csv"\nformat = "long"\n[portfolio]\ninitial_cash = 10000.0\n'
        '[strategy]\nname = "static_weights"\n[strategy.params]\nweights = { A = 0.5, B = 0.5 }\n'
        '[schedule]\ndates = ["2020-01-02"]\n[run]\nprogress = false\n'
        '[[events]]\ndate = "2020-01-03"\ntype = "order"\nsymbol = "B"\nside = "sell"\nquantity = 100\n'
        'order_type = "stop"\nstop_price = 5.0\ntime_in_force = "gtc"\n')
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"), "--quiet", "--plain"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "[[events]] order" in line]
    assert len(warnings) == 1
    assert warnings[0].endswith(f"(sell 100 B, 2020-01-03): 100 shares cancelled on 2020-01-08: {B_ENDS}")
