"""Partial fills under ``[execution] volume_limit``: fills, carried remainders and order states worked by hand.

Every scenario here holds one symbol ``A`` whose price does not move unless said, so each fill's size and
cost follow from ``floor(volume_limit * volume)`` and the cash alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.errors import ScenarioError
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.execution import ExecutionHandler

DATES = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05")


def _prices(close: list[float], volume: list[float] | None, open_: list[float] | None = None) -> PriceData:
    n = len(close)
    column = np.array(close, dtype=float).reshape(-1, 1)
    return PriceData(
        dates=np.array(DATES[:n], dtype="datetime64[ns]"), symbols=("A",), close=column,
        open=None if open_ is None else np.array(open_, dtype=float).reshape(-1, 1),
        volume=None if volume is None else np.array(volume, dtype=float).reshape(-1, 1),
    )


def _run(prices: PriceData, *, execution: dict[str, Any], cash: float = 10_000.0, weight: float = 1.0,
         rebalance_dates: tuple[str, ...] = (DATES[0],),
         events: list[dict[str, Any]] | None = None) -> tuple[Simulation, list[dict[str, Any]]]:
    raw: dict[str, Any] = {
        "scenario": {"name": "partial_fills"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": cash},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": weight}}},
        "schedule": {"dates": list(rebalance_dates)},
        "execution": execution,
    }
    if events:
        raw["events"] = events
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices)
    assert simulation.run() is not None
    published = [r for r in simulation.audit.records() if r.get("record") == "publish"]
    return simulation, published


def _of(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r["data"] | {"id": r["id"], "cause": r["cause"]} for r in records if r["type"] == kind]


def _fills(records: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """``(bar, quantity)`` of every fill, in order."""
    return [(f["bar"], f["quantity"]) for f in _of(records, "FillEvent")]


def _states(records: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``(state, filled_quantity, remaining_quantity)`` of every order state change, in order."""
    return [(s["state"], s["filled_quantity"], s["remaining_quantity"]) for s in _of(records, "OrderStateEvent")]


def test_carried_remainder_fills_over_the_next_bars() -> None:
    """An order four times a bar's allowed share fills over four bars, one state event per change."""
    # 10,000 cash, A at 10.00, weight 1 -> buy floor(10,000 / 10) = 1,000 shares at bar 0.
    # limit 0.5: bar 0 floor(0.5 * 300) = 150, bar 1 0.5 * 400 = 200, bar 2 0.5 * 500 = 250,
    # bar 3 0.5 * 1,000 = 500 > the 400 left -> 400. 150 + 200 + 250 + 400 = 1,000.
    simulation, records = _run(_prices([10.0] * 4, [300.0, 400.0, 500.0, 1_000.0]),
                               execution={"volume_limit": 0.5, "remainder": "carry"})
    assert _fills(records) == [(0, 150), (1, 200), (2, 250), (3, 400)]
    assert _states(records) == [("open", 0, 1_000), ("partially_filled", 150, 850), ("partially_filled", 350, 650),
                                ("partially_filled", 600, 400), ("filled", 1_000, 0)]
    assert not _of(records, "CancelEvent")
    assert simulation.portfolio.positions[0] == 1_000
    assert simulation.portfolio.cash == pytest.approx(0.0)


def test_each_state_is_caused_by_the_order_or_its_fill() -> None:
    """``open`` points at the order, ``partially_filled``/``filled`` at the fill that made the change."""
    _, records = _run(_prices([10.0] * 2, [300.0, 10_000.0]), execution={"volume_limit": 0.5, "remainder": "carry"})
    order = _of(records, "OrderEvent")[0]
    fills = _of(records, "FillEvent")
    states = _of(records, "OrderStateEvent")
    assert [s["cause"] for s in states] == [order["id"], fills[0]["id"], fills[1]["id"]]
    assert {s["order_id"] for s in states} == {order["id"]}
    # bar 0: 150 of 1,000; bar 1: 0.5 * 10,000 = 5,000 allowed, the 850 left fill.
    assert _fills(records) == [(0, 150), (1, 850)]


def test_remainder_cancel_cancels_the_rest_at_once() -> None:
    """With ``remainder = "cancel"`` (the default) the part above the limit is cancelled with a reason."""
    simulation, records = _run(_prices([10.0] * 4, [300.0, 400.0, 500.0, 1_000.0]),
                               execution={"volume_limit": 0.5})
    # bar 0: 150 of 1,000 fill; 850 cancelled; nothing after.
    assert _fills(records) == [(0, 150)]
    cancels = _of(records, "CancelEvent")
    assert [(c["quantity"], c["reason"]) for c in cancels] == [(850, "volume limit reached")]
    assert _states(records) == [("open", 0, 1_000), ("partially_filled", 150, 850), ("cancelled", 150, 0)]
    assert _of(records, "OrderStateEvent")[-1]["cause"] == cancels[0]["id"]
    notice = next(n for n in _of(records, "NoticeEvent") if n["code"] == "volume_limited")
    assert notice["details"] == {"wanted": 1_000, "quantity": 150, "volume": 300.0, "volume_limit": 0.5,
                                 "allowed": 150, "filled_before": 0, "remainder": "cancel"}
    assert simulation.portfolio.cash == pytest.approx(10_000.0 - 1_500.0)


def test_per_share_minimum_is_charged_once_per_order() -> None:
    """Each partial fill pays commission(cumulative) minus what the order paid: the 1.00 minimum once."""
    commission = {"model": "per_share", "per_share": 0.005, "minimum": 1.0}
    # 20,000 cash, weight 0.5 -> 10,000 / 10.00 = 1,000 shares (cost 10,000 + 5.00 fits: no scaling).
    simulation, records = _run(_prices([10.0] * 4, [300.0, 400.0, 500.0, 1_000.0]), cash=20_000.0, weight=0.5,
                               execution={"volume_limit": 0.5, "remainder": "carry", "commission": commission})
    assert _fills(records) == [(0, 150), (1, 200), (2, 250), (3, 400)]
    # cumulative 150: max(1.00, 0.75) = 1.00           -> 1.00
    # cumulative 350: max(1.00, 1.75) = 1.75 - 1.00    -> 0.75 (charged per fill it would be 1.00)
    # cumulative 600: 3.00 - 1.75                      -> 1.25
    # cumulative 1,000: 5.00 - 3.00                    -> 2.00; total 5.00 = one fill of 1,000 shares
    assert [f["commission"] for f in _of(records, "FillEvent")] == pytest.approx([1.00, 0.75, 1.25, 2.00])
    assert [s["commission"] for s in _of(records, "OrderStateEvent")] == pytest.approx(
        [0.0, 1.00, 1.75, 3.00, 5.00])
    assert simulation.portfolio.cash == pytest.approx(20_000.0 - 10_000.0 - 5.00)


@pytest.mark.parametrize(
    ("commission_per", "expected", "total"),
    [
        # "order" (the default, zipline's rule): cumulative max(1.00, 0.005 * q) less what was paid
        ("order", [1.00, 0.75, 1.25, 2.00], 5.00),
        # "day": each day's fill is a new order: max(1.00, 0.75) = 1.00, max(1.00, 1.00) = 1.00,
        # max(1.00, 1.25) = 1.25, max(1.00, 2.00) = 2.00 -> 5.25
        ("day", [1.00, 1.00, 1.25, 2.00], 5.25),
    ],
)
def test_commission_per_day_charges_a_carried_order_as_a_new_order_each_day(
        commission_per: str, expected: list[float], total: float) -> None:
    """As IB's notes (orders persisting overnight are new orders for minimums), "day" charges 5.25, not 5.00."""
    # Source: Interactive Brokers' fixed-pricing notes, "Orders that persist overnight will be considered a new
    # order for [commission minimums]", as reproduced on fxfinpro.com, "Stocks, ETFs and Warrants" (2016).
    commission = {"model": "per_share", "per_share": 0.005, "minimum": 1.0}
    execution = {"volume_limit": 0.5, "remainder": "carry", "commission": commission,
                 "commission_per": commission_per}
    simulation, records = _run(_prices([10.0] * 4, [300.0, 400.0, 500.0, 1_000.0]), cash=20_000.0, weight=0.5,
                               execution=execution)
    assert _fills(records) == [(0, 150), (1, 200), (2, 250), (3, 400)]
    assert [f["commission"] for f in _of(records, "FillEvent")] == pytest.approx(expected)
    assert _of(records, "OrderStateEvent")[-1]["commission"] == pytest.approx(total)
    assert simulation.portfolio.cash == pytest.approx(20_000.0 - 10_000.0 - total)


def test_commission_per_is_written_back_only_when_set() -> None:
    """The key round-trips and stays out of a resolved scenario that leaves it at "order"."""
    raw = {"data": {"path": "x.csv"}, "strategy": {"name": "static_weights"}}
    assert "commission_per" not in ScenarioConfig.from_dict(raw, base_dir=".").to_dict()["execution"]
    daily = ScenarioConfig.from_dict(raw | {"execution": {"volume_limit": 0.25, "remainder": "carry",
                                                          "commission_per": "day"}}, base_dir=".")
    assert daily.execution.commission_per == "day"
    assert ScenarioConfig.from_dict(daily.to_dict(), base_dir=".") == daily


def test_next_open_carry_uses_the_previous_bars_volume() -> None:
    """With next_open each open fills up to the limit of the bar before's volume; data end cancels the rest."""
    prices = _prices([10.0] * 4, [300.0, 400.0, 500.0, 10_000.0], open_=[9.0, 11.0, 12.0, 13.0])
    simulation, records = _run(prices, execution={"timing": "next_open", "volume_limit": 0.5, "remainder": "carry"})
    # Sized at bar 0's close: floor(10,000 / 10.00) = 1,000 shares.
    # bar 1 open 11: 0.5 * 300 (bar 0) = 150 -> 1,650;  bar 2 open 12: 0.5 * 400 (bar 1) = 200 -> 2,400
    # bar 3 open 13: 0.5 * 500 (bar 2) = 250 -> 3,250;  cumulative 600, the 400 left cancelled at the end.
    fills = _of(records, "FillEvent")
    assert [(f["bar"], f["quantity"], f["price"]) for f in fills] == [(1, 150, 11.0), (2, 200, 12.0), (3, 250, 13.0)]
    assert [(c["quantity"], c["reason"]) for c in _of(records, "CancelEvent")] == [
        (400, "data ended before the order could fill")]
    assert _states(records)[-1] == ("cancelled", 600, 0)
    # 10,000 - 1,650 - 2,400 - 3,250 = 2,700
    assert simulation.portfolio.cash == pytest.approx(2_700.0)


def test_a_new_rebalance_replaces_the_carried_remainder() -> None:
    """The carried rest fills first at the next bar; that bar's signal cancels what is left; the rebalance re-sizes."""
    simulation, records = _run(_prices([10.0] * 3, [300.0, 400.0, 2_000.0]),
                               execution={"volume_limit": 0.5, "remainder": "carry"},
                               rebalance_dates=(DATES[0], DATES[1]))
    # bar 0: order #1 for 1,000; 150 fill, 850 carried.
    # bar 1: the carried 850 fill first: 0.5 * 400 = 200 (cumulative 350), 650 left; the bar's signal then
    #   cancels those 650. The rebalance sees 350 shares and 10,000 - 3,500 = 6,500 cash: value 10,000,
    #   d = 10,000 - 3,500 = 6,500 -> order #2 for 650 (not 850: the 200 were booked before it was sized).
    #   Bar 1's 200 allowed shares are used up, so order #2 fills nothing and is carried.
    # bar 2: 0.5 * 2,000 = 1,000 allowed -> order #2 fills its 650. Position 150 + 200 + 650 = 1,000.
    orders = _of(records, "OrderEvent")
    assert [o["quantity"] for o in orders] == [1_000, 650]
    fills = _of(records, "FillEvent")
    assert [(f["bar"], f["order_id"], f["quantity"]) for f in fills] == [
        (0, orders[0]["id"], 150), (1, orders[0]["id"], 200), (2, orders[1]["id"], 650)]
    cancels = _of(records, "CancelEvent")
    assert [(c["order_id"], c["quantity"], c["reason"]) for c in cancels] == [
        (orders[0]["id"], 650, "superseded by the rebalance signal of bar 1")]
    signal = _of(records, "SignalEvent")[1]
    # Publication order at bar 1: the carried fill, then the signal, then the cancel, then the new order.
    ids = [fills[1]["id"], signal["id"], cancels[0]["id"], orders[1]["id"]]
    assert ids == sorted(ids)
    assert simulation.portfolio.positions[0] == 1_000


def test_a_manual_order_replaces_the_carried_remainder_of_its_symbol() -> None:
    """A new order for a symbol (here a scenario's manual order) cancels that symbol's carried rest."""
    simulation, records = _run(_prices([10.0] * 3, [300.0, 400.0, 2_000.0]),
                               execution={"volume_limit": 0.5, "remainder": "carry"},
                               events=[{"date": DATES[1], "type": "order", "symbol": "A", "side": "buy",
                                        "quantity": 100}])
    # bar 0: 150 of 1,000 fill; bar 1: the carried rest fills 200 first (350), then the manual order for
    # 100 cancels the 650 left and gets none of bar 1's used-up 200; bar 2 fills its 100. 150 + 200 + 100.
    orders = _of(records, "OrderEvent")
    assert [(f["bar"], f["order_id"], f["quantity"]) for f in _of(records, "FillEvent")] == [
        (0, orders[0]["id"], 150), (1, orders[0]["id"], 200), (2, orders[1]["id"], 100)]
    assert [(c["quantity"], c["reason"]) for c in _of(records, "CancelEvent")] == [
        (650, "replaced by a new order for the symbol")]
    assert simulation.portfolio.positions[0] == 450


def test_cash_is_rechecked_at_each_partial_fill() -> None:
    """A carried buy that the cash no longer covers is cut to what fits and the rest of the order cancelled."""
    simulation, records = _run(_prices([10.0, 50.0, 50.0], [300.0, 400.0, 10_000.0]),
                               execution={"volume_limit": 0.5, "remainder": "carry"})
    # bar 0: 150 at 10.00 -> cash 8,500. bar 1 at 50.00: 200 allowed would cost 10,000 > 8,500,
    # so floor(8,500 / 50) = 170 fill (cumulative 320) and the 1,000 - 320 = 680 left are cancelled.
    # Cash 8,500 - 170 * 50 = 0.
    assert _fills(records) == [(0, 150), (1, 170)]
    assert [(c["quantity"], c["reason"]) for c in _of(records, "CancelEvent")] == [
        (680, "not enough cash at the fill")]
    assert _states(records)[-2:] == [("partially_filled", 320, 680), ("cancelled", 320, 0)]
    reduced = next(n for n in _of(records, "NoticeEvent") if n["code"] == "reduced_at_fill")
    assert (reduced["details"]["wanted"], reduced["details"]["quantity"]) == (200, 170)
    assert simulation.portfolio.cash == pytest.approx(0.0)


def test_zero_and_nan_volume_fill_nothing_on_that_bar() -> None:
    """A volume of 0 or NaN allows no shares that bar; a carried order waits for a bar with volume."""
    simulation, records = _run(_prices([10.0] * 3, [0.0, math.nan, 5_000.0]),
                               execution={"volume_limit": 1.0, "remainder": "carry"})
    # bars 0 and 1: 0 allowed; bar 2: floor(1.0 * 5,000) = 5,000 >= 1,000 -> all 1,000.
    assert _fills(records) == [(2, 1_000)]
    notices = [n for n in _of(records, "NoticeEvent") if n["code"] == "volume_limited"]
    assert [(n["bar"], n["details"]["volume"], n["details"]["allowed"]) for n in notices] == [(0, 0.0, 0),
                                                                                             (1, None, 0)]
    assert simulation.portfolio.positions[0] == 1_000


def test_zero_volume_with_cancel_cancels_the_whole_order() -> None:
    """With ``remainder = "cancel"`` an order on a bar without volume is cancelled whole: open, then cancelled."""
    _, records = _run(_prices([10.0] * 2, [0.0, 5_000.0]), execution={"volume_limit": 0.5})
    assert _fills(records) == []
    assert _states(records) == [("open", 0, 1_000), ("cancelled", 0, 0)]


def test_the_limit_floors_binary_fractions_as_written() -> None:
    """0.29 x 100 is 28.999999999999996 in floating point; the limit still allows 29 shares."""
    _, records = _run(_prices([10.0] * 2, [100.0, 100_000.0]), execution={"volume_limit": 0.29, "remainder": "carry"})
    assert _fills(records) == [(0, 29), (1, 971)]


def test_a_limit_that_never_binds_trades_as_without_one() -> None:
    """Against ample volume the fills equal the run without a limit; that run publishes no state events."""
    prices = _prices([10.0, 11.0, 9.0, 12.0], [1e9] * 4)
    execution = {"commission": {"model": "per_share", "per_share": 0.005, "minimum": 1.0},
                 "slippage": {"model": "fixed_bps", "bps": 5.0}}
    dates = (DATES[0], DATES[2])
    plain, plain_records = _run(prices, execution=execution, weight=0.6, rebalance_dates=dates)
    limited, limited_records = _run(prices, execution=execution | {"volume_limit": 0.01}, weight=0.6,
                                    rebalance_dates=dates)
    keys = ("bar", "side", "quantity", "price", "commission")
    assert [{k: f[k] for k in keys} for f in _of(limited_records, "FillEvent")] == [
        {k: f[k] for k in keys} for f in _of(plain_records, "FillEvent")]
    assert len(_of(plain_records, "FillEvent")) == 2
    assert not _of(plain_records, "OrderStateEvent")
    assert len(_of(limited_records, "OrderStateEvent")) == 4  # open + filled, two orders
    assert limited.portfolio.cash == plain.portfolio.cash


def test_volume_limit_without_volume_data_is_a_scenario_error() -> None:
    """Data with no volume column at all cannot honour a volume limit: a ScenarioError names the key."""
    with pytest.raises(ScenarioError, match=r"\[execution\] volume_limit = 0.1 needs volumes") as info:
        _run(_prices([10.0] * 2, None), execution={"volume_limit": 0.1})
    assert info.value.key == "volume_limit"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("volume_limit", 0, "[execution] volume_limit must be a number > 0 and <= 1, got 0"),
    ("volume_limit", 1.5, "[execution] volume_limit must be a number > 0 and <= 1, got 1.5"),
    ("remainder", "keep", "[execution] remainder must be one of 'cancel', 'carry', got 'keep'"),
    ("commission_per", "fill", "[execution] commission_per must be one of 'order', 'day', got 'fill'"),
])
def test_scenario_checks_the_partial_fill_keys(key: str, value: object, message: str) -> None:
    """Out-of-range limits and unknown remainder modes are rejected when the scenario is read."""
    raw = {"data": {"path": "x.csv"}, "strategy": {"name": "static_weights"}, "execution": {key: value}}
    with pytest.raises(ScenarioError) as info:
        ScenarioConfig.from_dict(raw)
    assert message in str(info.value)


def test_partial_fill_keys_round_trip_and_stay_out_of_default_scenarios() -> None:
    """The keys are written back only when set, so scenarios without them resolve (and digest) as before."""
    raw = {"data": {"path": "x.csv"}, "strategy": {"name": "static_weights"}}
    plain = ScenarioConfig.from_dict(raw, base_dir=".")
    assert set(plain.to_dict()["execution"]) == {"timing", "commission", "slippage"}
    limited = ScenarioConfig.from_dict(raw | {"execution": {"volume_limit": 0.25, "remainder": "carry"}},
                                       base_dir=".")
    assert (limited.execution.volume_limit, limited.execution.remainder) == (0.25, "carry")
    assert ScenarioConfig.from_dict(limited.to_dict(), base_dir=".") == limited


def test_execution_handler_rejects_bad_settings() -> None:
    """The handler itself checks the limit's range and the remainder mode."""
    from eventbt.costs import FixedBpsSlippage, ZeroCommission

    with pytest.raises(ValueError, match="volume_limit"):
        ExecutionHandler(commission=ZeroCommission(), slippage=FixedBpsSlippage(bps=0.0), volume_limit=0.0)
    with pytest.raises(ValueError, match="remainder"):
        ExecutionHandler(commission=ZeroCommission(), slippage=FixedBpsSlippage(bps=0.0), remainder="keep")
    with pytest.raises(ValueError, match="commission_per must be one of order, day, got 'week'"):
        ExecutionHandler(commission=ZeroCommission(), slippage=FixedBpsSlippage(bps=0.0), commission_per="week")
