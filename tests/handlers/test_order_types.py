"""Order types in a run: limit, stop, market-on-open and -close orders on hand-made daily bars, worked by hand.

One symbol ``A``; each bar is written ``(open, high, low, close)``. Orders come from ``[[events]]`` (placed at
their bar's close, after the rebalance) or from the rebalance with ``[execution] order_type``. Unless a test
says otherwise there are no costs, so each fill's price is the reference price the rules of docs/orders.md give.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.errors import ContractError, ScenarioError
from eventbt.events import MarketEvent, OrderEvent, Side, SplitEvent
from eventbt.handler import Context
from eventbt.portfolio import Portfolio, PortfolioView
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from handlers.execution import ExecutionHandler
from tests.eventbt.doc_code import DOCS, python_blocks

DATES = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08")

Bar = tuple[float, float, float, float]


def _prices(bars: list[Bar], volume: list[float] | None = None) -> PriceData:
    rows = np.array(bars, dtype=float)
    return PriceData(dates=np.array(DATES[: len(bars)], dtype="datetime64[ns]"), symbols=("A",),
                     open=rows[:, [0]], high=rows[:, [1]], low=rows[:, [2]], close=rows[:, [3]],
                     volume=None if volume is None else np.array(volume, dtype=float).reshape(-1, 1))


def _order(date: str, side: str, quantity: int, **fields: Any) -> dict[str, Any]:
    return {"date": date, "type": "order", "symbol": "A", "side": side, "quantity": quantity, **fields}


def _run(bars: list[Bar], events: list[dict[str, Any]] | None = None, *, execution: dict[str, Any] | None = None,
         weight: float = 0.0, cash: float = 10_000.0, schedule: tuple[str, ...] = (DATES[0],),
         volume: list[float] | None = None,
         handlers: list[dict[str, Any]] | None = None) -> tuple[Simulation, list[dict[str, Any]]]:
    raw: dict[str, Any] = {
        "scenario": {"name": "order_types"},
        "data": {"path": "unused.csv"},
        "portfolio": {"initial_cash": cash},
        "strategy": {"name": "static_weights", "params": {"weights": {"A": weight}}},
        "schedule": {"dates": list(schedule)},
        "execution": execution or {},
    }
    if events:
        raw["events"] = events
    if handlers:
        raw["handlers"] = handlers
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent),
                            prices=_prices(bars, volume))
    assert simulation.run() is not None
    return simulation, [r for r in simulation.audit.records() if r.get("record") == "publish"]


def _of(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r["data"] | {"id": r["id"], "cause": r["cause"], "time": r["time"]} for r in records if r["type"] == kind]


def _fills(records: list[dict[str, Any]]) -> list[tuple[int, int, float, float]]:
    """``(bar, quantity, price, reference_price)`` of every fill."""
    return [(f["bar"], f["quantity"], f["price"], f["reference_price"]) for f in _of(records, "FillEvent")]


def _states(records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """``(bar, state, reason)`` of every order state change."""
    return [(s["bar"], s["state"], s["reason"]) for s in _of(records, "OrderStateEvent")]


FLAT: Bar = (10.0, 10.0, 10.0, 10.0)


def test_a_limit_buy_fills_on_the_next_bar_at_the_limit() -> None:
    """Placed at 10.00 with a limit of 9.50; the next bar (O 9.80 H 10.10 L 9.40) reaches it: min(9.80, 9.50)."""
    simulation, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9), FLAT],
                               [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.5)])
    assert _fills(records) == [(1, 100, 9.5, 9.5)]
    assert _of(records, "FillEvent")[0]["time"] == "2024-01-03T16:00:00"  # worked at the bar's close
    assert _states(records) == [
        (0, "open", "close 10.0 > limit 9.5 when placed on 2024-01-02: waiting"),
        (1, "filled", "low 9.4 <= limit 9.5 on 2024-01-03: filled at min(open 9.8, limit 9.5) = 9.5")]
    assert simulation.portfolio.cash == pytest.approx(10_000.0 - 100 * 9.5)  # 9,050.00


def test_a_bar_opening_below_the_limit_fills_at_the_open() -> None:
    """Limit 9.50, next bar opens at 9.20 (a gap down): min(9.20, 9.50) = 9.20, better than the limit."""
    _, records = _run([FLAT, (9.2, 9.6, 9.1, 9.5)], [_order(DATES[0], "buy", 100, order_type="limit",
                                                            limit_price=9.5)])
    assert _fills(records) == [(1, 100, 9.2, 9.2)]


@pytest.mark.parametrize(("side", "kind", "level", "bar", "expected"), [
    # stop buy 10.50: H 10.60 >= 10.50, O 10.20 -> max(10.20, 10.50) = 10.50
    ("buy", "stop", 10.5, (10.2, 10.6, 10.1, 10.4), 10.5),
    # stop buy 10.50 on a bar opening at 10.80 (a gap up): max(10.80, 10.50) = 10.80
    ("buy", "stop", 10.5, (10.8, 11.0, 10.7, 10.9), 10.8),
    # stop sell 9.50: L 9.40 <= 9.50, O 9.90 -> min(9.90, 9.50) = 9.50
    ("sell", "stop", 9.5, (9.9, 10.0, 9.4, 9.6), 9.5),
    # stop sell 9.50 on a bar opening at 9.00 (a gap down): min(9.00, 9.50) = 9.00
    ("sell", "stop", 9.5, (9.0, 9.2, 8.8, 9.1), 9.0),
    # limit sell 10.50: H 10.60 >= 10.50, O 10.20 -> max(10.20, 10.50) = 10.50
    ("sell", "limit", 10.5, (10.2, 10.6, 10.1, 10.4), 10.5),
])
def test_stop_and_limit_sells_fill_by_the_rules(side: str, kind: str, level: float, bar: Bar,
                                                expected: float) -> None:
    """Each fill at the reference price of the table in docs/orders.md (100 A held for the sales)."""
    price = "limit_price" if kind == "limit" else "stop_price"
    _, records = _run([FLAT, bar], [_order(DATES[0], side, 100, order_type=kind, **{price: level})],
                      weight=0.5 if side == "sell" else 0.0, cash=2_000.0)
    fills = [fill for fill in _fills(records) if fill[0] == 1]
    assert fills == [(1, 100, expected, expected)]


def test_same_close_fills_a_marketable_order_at_once_at_the_close() -> None:
    """A limit buy at 10.50 placed at a close of 10.00 (10.00 <= 10.50) fills on the same bar at 10.00."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9)], [_order(DATES[0], "buy", 100, order_type="limit",
                                                             limit_price=10.5)])
    assert _fills(records) == [(0, 100, 10.0, 10.0)]
    assert _states(records)[-1] == (0, "filled", "close 10.0 <= limit 10.5 when placed on 2024-01-02: filled at the "
                                                 "close")


def test_next_open_never_fills_a_waiting_order_on_the_bar_it_was_placed() -> None:
    """With next_open the same limit of 10.50 first meets bar 1: min(O 10.20, 10.50) = 10.20 (L 10.00 <= 10.50)."""
    _, records = _run([FLAT, (10.2, 10.4, 10.0, 10.3)], [_order(DATES[0], "buy", 100, order_type="limit",
                                                                limit_price=10.5)],
                      execution={"timing": "next_open"})
    assert _fills(records) == [(1, 100, 10.2, 10.2)]
    assert _states(records)[0] == (0, "open", "")


def test_a_day_order_expires_after_its_one_bar() -> None:
    """Limit 9.00: bar 1's low 9.40 > 9.00, so it expires there; bar 2's low 8.90 would have reached it, too late."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9), (9.1, 9.2, 8.9, 9.0)],
                      [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.0)])
    assert _fills(records) == []
    reason = "day order expired: low 9.4 > limit 9.0: not reached on 2024-01-03"
    assert _states(records)[-1] == (1, "expired", reason)
    [cancel] = _of(records, "CancelEvent")
    assert (cancel["bar"], cancel["quantity"], cancel["reason"]) == (1, 100, reason)
    assert _of(records, "OrderStateEvent")[-1]["cause"] == cancel["id"]


@pytest.mark.parametrize(("expire_after", "fills", "last"), [
    (1, [], (1, "expired", "gtc order expired after 1 bar: low 9.4 > limit 9.0: not reached on 2024-01-03")),
    (2, [(2, 100, 9.0, 9.0)], (2, "filled", "low 8.9 <= limit 9.0 on 2024-01-04: filled at min(open 9.1, limit 9.0) "
                                            "= 9.0")),
])
def test_a_gtc_order_waits_expire_after_bars(expire_after: int, fills: list[Any], last: tuple[int, str, str]) -> None:
    """The same order good for 1 bar expires at bar 1; good for 2 it fills at bar 2 at min(9.10, 9.00) = 9.00."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9), (9.1, 9.2, 8.9, 9.0)],
                      [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.0, time_in_force="gtc",
                              expire_after=expire_after)])
    assert _fills(records) == fills
    assert _states(records)[-1] == last


def test_a_gtc_order_without_expiry_is_cancelled_when_the_data_ends() -> None:
    """Never reached in three bars: cancelled at the last bar, as any order still waiting."""
    _, records = _run([FLAT, FLAT, FLAT], [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.0,
                                                  time_in_force="gtc")])
    assert _states(records)[-1] == (2, "cancelled", "data ended before the order could fill")


def test_a_bar_without_a_low_cannot_fill_and_counts_towards_expiry() -> None:
    """Bar 1 has no low (NaN): not filled, and the 2-bar order fills on bar 2 at min(9.10, 9.00) = 9.00."""
    _, records = _run([FLAT, (9.8, 10.1, math.nan, 9.9), (9.1, 9.2, 8.9, 9.0)],
                      [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.0, time_in_force="gtc",
                              expire_after=2)])
    assert _fills(records) == [(2, 100, 9.0, 9.0)]
    simulation, records = _run([FLAT, (9.8, 10.1, math.nan, 9.9), (9.1, 9.2, 8.9, 9.0)],
                               [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.0)])
    assert _states(records)[-1] == (1, "expired", "day order expired: no low for A on 2024-01-03")
    assert simulation.debugger.waiting().rows == ()


@pytest.mark.parametrize(("kind", "level", "bar", "price", "reference"), [
    # limit buy 9.50 reached at the limit: reference 9.50, slipped 9.50 x 1.01 = 9.595, held at the limit 9.50
    ("limit", 9.5, (9.8, 10.1, 9.4, 9.9), 9.5, 9.5),
    # opens at 9.00, below the limit: reference 9.00, slipped 9.00 x 1.01 = 9.09 < 9.50, kept
    ("limit", 9.5, (9.0, 9.6, 8.9, 9.3), 9.0 * 1.01, 9.0),
    # opens at 9.45: slipped 9.45 x 1.01 = 9.5445 > 9.50, held at 9.50
    ("limit", 9.5, (9.45, 9.6, 9.3, 9.5), 9.5, 9.45),
    # a stop is a market order once triggered: max(10.20, 10.50) = 10.50, slipped in full to 10.50 x 1.01 = 10.605
    ("stop", 10.5, (10.2, 10.6, 10.1, 10.4), 10.5 * 1.01, 10.5),
])
def test_slippage_applies_but_a_limit_fill_never_passes_its_limit(kind: str, level: float, bar: Bar, price: float,
                                                                  reference: float) -> None:
    """fixed_bps 100 on limit and stop buys: a limit buy's fill is min(slipped, limit); a stop's is not held."""
    field = "limit_price" if kind == "limit" else "stop_price"
    _, records = _run([FLAT, bar], [_order(DATES[0], "buy", 100, order_type=kind, **{field: level})],
                      execution={"slippage": {"model": "fixed_bps", "bps": 100.0}})
    [(bar_index, quantity, filled, found)] = _fills(records)
    assert (bar_index, quantity, found) == (1, 100, reference)
    assert filled == pytest.approx(price, abs=1e-12)
    assert _of(records, "FillEvent")[0]["slippage"] == pytest.approx(abs(price - reference) * 100, abs=1e-9)


def test_a_limit_buy_the_cash_does_not_cover_is_cut_at_the_fill() -> None:
    """1,000 cash, limit buy of 200 at 9.50 fills at 9.50: floor(1,000 / 9.50) = 105 shares, the 95 left cancelled."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9)], [_order(DATES[0], "buy", 200, order_type="limit",
                                                             limit_price=9.5)], cash=1_000.0)
    assert _fills(records) == [(1, 105, 9.5, 9.5)]
    [notice] = [n for n in _of(records, "NoticeEvent") if n["code"] == "reduced_at_fill"]
    assert (notice["details"]["wanted"], notice["details"]["quantity"]) == (200, 105)
    assert [(bar, state) for bar, state, _ in _states(records)] == [(0, "open"), (1, "partially_filled"),
                                                                   (1, "cancelled")]
    assert _of(records, "CancelEvent")[0]["quantity"] == 95


@pytest.mark.parametrize(("remainder", "fills", "last"), [
    # bar 1: floor(0.5 x 120) = 60 of 100 at min(9.80, 9.50) = 9.50; the rest waits and bar 2 (L 9.20) fills the 40
    # at min(9.60, 9.50) = 9.50
    ("carry", [(1, 60, 9.5, 9.5), (2, 40, 9.5, 9.5)], (2, "filled")),
    ("cancel", [(1, 60, 9.5, 9.5)], (1, "cancelled")),
])
def test_a_volume_limit_holds_a_limit_fill_to_the_bars_allowance(remainder: str, fills: list[Any],
                                                                  last: tuple[int, str]) -> None:
    """volume_limit 0.5: the part beyond the allowance keeps waiting under its limit (carry) or is cancelled."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9), (9.6, 9.7, 9.2, 9.5)],
                      [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.5, time_in_force="gtc")],
                      execution={"volume_limit": 0.5, "remainder": remainder}, volume=[1_000.0, 120.0, 1_000.0])
    assert _fills(records) == fills
    assert _states(records)[-1][:2] == last


def test_a_day_order_the_volume_limit_cut_expires_saying_so() -> None:
    """A day limit buy of 100 at 9.50 carried under volume_limit 0.5: bar 1 (volume 120) fills floor(60) at
    min(9.80, 9.50), and the day ends with 40 left. Its expiry said only that the low reached the limit and it
    filled, as if nothing was left; it adds that the volume limit left the 40."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9), (9.6, 9.7, 9.2, 9.5)],
                      [_order(DATES[0], "buy", 100, order_type="limit", limit_price=9.5)],
                      execution={"volume_limit": 0.5, "remainder": "carry"}, volume=[1_000.0, 120.0, 1_000.0])
    assert _fills(records) == [(1, 60, 9.5, 9.5)]
    bar, state, reason = _states(records)[-1]
    assert (bar, state) == (1, "expired")
    assert reason.startswith("day order expired: low 9.4 <= limit 9.5")
    assert reason.endswith(", but the volume limit left 40 shares unfilled")


def test_market_on_open_fills_at_the_next_open_with_same_close() -> None:
    """A market_on_open buy placed at bar 0 fills at bar 1's open, 9.80, at bar 1's close time."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9)], [_order(DATES[0], "buy", 100, order_type="market_on_open")])
    assert _fills(records) == [(1, 100, 9.8, 9.8)]
    assert _states(records) == []  # a market type: no state events without a volume limit


def test_market_on_close_fills_at_the_next_close_with_next_open() -> None:
    """With next_open a market_on_close buy placed at bar 0 fills at bar 1's close, 9.90, not its open."""
    _, records = _run([FLAT, (9.8, 10.1, 9.4, 9.9)], [_order(DATES[0], "buy", 100, order_type="market_on_close")],
                      execution={"timing": "next_open"})
    assert _fills(records) == [(1, 100, 9.9, 9.9)]


def test_rebalance_limit_orders_are_placed_from_the_offset_and_superseded_by_the_next_signal() -> None:
    """Weight 0.5 of 10,000 at 10.00: buy 500 A with a limit 2% below, 9.80; never reached, the next day's signal
    cancels it and places a new one at 10.00 x 0.98 = 9.80, which bar 2 (L 9.70) fills at min(9.90, 9.80)."""
    bars = [FLAT, (10.0, 10.2, 9.9, 10.0), (9.9, 10.0, 9.7, 9.8)]
    _, records = _run(bars, weight=0.5, schedule=DATES[:2],
                      execution={"order_type": "limit", "limit_offset_bps": 200.0, "time_in_force": "gtc"})
    orders = _of(records, "OrderEvent")
    assert [(o["bar"], o["quantity"], o["order_type"], o["limit_price"]) for o in orders] == [
        (0, 500, "limit", pytest.approx(9.8)), (1, 500, "limit", pytest.approx(9.8))]
    cancelled = [s for s in _of(records, "OrderStateEvent") if s["state"] == "cancelled"]
    assert [(s["order_id"], s["reason"]) for s in cancelled] == [
        (orders[0]["id"], "superseded by the rebalance signal of bar 1")]
    assert _fills(records) == [(2, 500, pytest.approx(9.8), pytest.approx(9.8))]


def test_a_manual_order_waiting_is_not_superseded_by_a_rebalance() -> None:
    """A gtc manual limit keeps waiting across the rebalance of bar 1 and fills on bar 2."""
    bars = [FLAT, (10.0, 10.2, 9.9, 10.0), (9.9, 10.0, 9.7, 9.8)]
    _, records = _run(bars, [_order(DATES[0], "buy", 10, order_type="limit", limit_price=9.75, time_in_force="gtc")],
                      weight=0.1, schedule=DATES[:2], execution={"order_type": "limit", "limit_offset_bps": 500.0,
                                                                 "time_in_force": "gtc"})
    manual = [o["id"] for o in _of(records, "OrderEvent") if o["reason"] == "manual"]
    assert [(f["order_id"], f["bar"], f["price"]) for f in _of(records, "FillEvent")] == [(manual[0], 2, 9.75)]


def test_the_weights_row_of_a_limit_rebalance_is_taken_at_the_next_bar() -> None:
    """Limit orders first fill on the bar after the signal, so the weights row is that bar's, after the fill."""
    simulation, _ = _run([FLAT, (9.8, 10.1, 9.4, 9.9)], weight=0.5,
                         execution={"order_type": "limit", "limit_offset_bps": 100.0})
    weights = simulation.result().weights
    assert list(weights.index.strftime("%Y-%m-%d")) == [DATES[1]]
    # 500 A with a limit of 10.00 x 0.99 = 9.90; bar 1 opens at 9.80, below it: bought at min(9.80, 9.90) = 9.80,
    # leaving 10,000 - 4,900 = 5,100 cash; marked at bar 1's close 9.90: 4,950 / (5,100 + 4,950)
    cash = 10_000.0 - 500 * 9.8
    assert weights.iloc[0]["A"] == pytest.approx(500 * 9.9 / (cash + 500 * 9.9))


def _handler(bars: list[Bar] | None, timing: str = "next_open") -> ExecutionHandler:
    """An execution handler bound to symbol A, 10,000 cash and 100 A, having seen bar 0."""
    from eventbt.costs import FixedBpsSlippage, ZeroCommission

    book = Portfolio(("A",), 10_000.0)
    book.positions[0] = 100
    handler = ExecutionHandler(commission=ZeroCommission(), slippage=FixedBpsSlippage(bps=0.0), timing=timing)
    handler.bind(Context(symbols=("A",), dates=np.array(DATES, dtype="datetime64[ns]"),
                         portfolio=PortfolioView(book)))
    row = np.array([10.0])
    range_ = None if bars is None else np.array([bars[0][1]])
    handler.on_market(MarketEvent(id=1, time_ns=0, bar=0, symbols=("A",), close=row, open=None if bars is None
                                  else row, high=range_, low=None if bars is None else np.array([bars[0][2]])))
    return handler


def test_a_split_restates_a_waiting_limit_order() -> None:
    """A 2-for-1 split: 100 shares become 200, the limit 9.50 becomes 4.75, the notice says so."""
    handler = _handler([FLAT])
    handler.on_order(OrderEvent(id=2, time_ns=0, bar=0, symbol="A", side=Side.BUY, quantity=100,
                                reference_price=10.0, reason="manual", order_type="limit", limit_price=9.5,
                                time_in_force="gtc"))
    [notice] = handler.on_split(SplitEvent(id=3, time_ns=1, bar=1, symbol="A", ratio=2.0)) or []
    assert notice.details["limit_price"] == 4.75 and notice.details["quantity"] == 200  # type: ignore[attr-defined]
    [waiting] = handler.waiting()
    assert (waiting.order.quantity, waiting.order.limit_price, waiting.order.reference_price) == (200, 4.75, 5.0)


@pytest.mark.parametrize(("ratio", "limit", "restated"), [
    (0.1, 10.02, 100.2),  # 1-for-10: 10.02 x 10 = 100.2 (10.02 / 0.1 in floats is 100.19999999999999)
    (3.0, 1.14, 0.38),  # 3-for-1: 1.14 / 3 = 0.38 (in floats 0.37999999999999995)
])
def test_a_split_restates_a_limit_as_the_decimal_it_is_written_as(ratio: float, limit: float,
                                                                  restated: float) -> None:
    """A limit or stop price is restated from its decimal, so a bar whose low is that decimal (as the data's
    text gives it) reaches it; a float division would leave it a hair below."""
    assert limit / ratio != restated  # the float division this replaces
    handler = _handler([FLAT])
    handler.on_order(OrderEvent(id=2, time_ns=0, bar=0, symbol="A", side=Side.BUY, quantity=100,
                                reference_price=10.0, reason="manual", order_type="limit", limit_price=limit,
                                time_in_force="gtc"))
    handler.on_order(OrderEvent(id=3, time_ns=0, bar=0, symbol="A", side=Side.SELL, quantity=100,
                                reference_price=10.0, reason="manual", order_type="stop", stop_price=limit,
                                time_in_force="gtc"))
    notices = handler.on_split(SplitEvent(id=4, time_ns=1, bar=1, symbol="A", ratio=ratio)) or []
    assert [n.details.get("limit_price", n.details.get("stop_price")) for n in notices] == [restated] * 2  # type: ignore[attr-defined]
    assert [(w.order.limit_price, w.order.stop_price) for w in handler.waiting()] == [(restated, None),
                                                                                     (None, restated)]


def _stop_loss_module(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/orders.md's ``my_stops.py``, written into ``folder`` and importable as ``my_stops``."""
    [code] = [block["code"] for block in python_blocks(DOCS / "orders.md") if block["file"] == "my_stops.py"]
    (folder / "my_stops.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "my_stops", raising=False)


@pytest.mark.parametrize(("timing", "bars", "fills"), [
    # same_close: 0.5 x 10,000 / 10.00 = 500 bought at bar 0's close; the stop, 10.00 x 0.95 = 9.50, is placed
    # there (close 10.00 > 9.50: it waits). Bar 1's low 9.60 stays above it; bar 2 (O 9.70, L 9.30) reaches it:
    # min(9.70, 9.50) = 9.50.
    ("same_close", [FLAT, (10.0, 10.2, 9.6, 9.8), (9.7, 9.8, 9.3, 9.4)],
     [(0, "BUY", 500, 10.0), (2, "SELL", 500, 9.5)]),
    # Bar 2 opens at 9.20, below the stop: min(9.20, 9.50) = 9.20, the open.
    ("same_close", [FLAT, (10.0, 10.2, 9.6, 9.8), (9.2, 9.3, 9.0, 9.1)],
     [(0, "BUY", 500, 10.0), (2, "SELL", 500, 9.2)]),
    # next_open: the 500 fill at bar 1's open, 10.00; the stop sent then has bar 1, so bar 1's low of 9.30 does
    # not fill it (placed at bar 1's close); bar 2 (O 9.70, L 9.30) fills it at 9.50.
    ("next_open", [FLAT, (10.0, 10.2, 9.3, 9.8), (9.7, 9.8, 9.3, 9.4)],
     [(1, "BUY", 500, 10.0), (2, "SELL", 500, 9.5)]),
])
def test_a_stop_loss_from_a_handler_of_your_own_fills_by_the_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timing: str, bars: list[Bar],
        fills: list[tuple[int, str, int, float]]) -> None:
    """docs/orders.md's StopLoss handler, named in [[handlers]]: its stop order fills where the rules say."""
    _stop_loss_module(tmp_path, monkeypatch)
    simulation, records = _run(bars, weight=0.5, execution={"timing": timing},
                               handlers=[{"name": "my_stops:StopLoss", "params": {"loss": 0.05}}])
    [stop] = [order for order in _of(records, "OrderEvent") if order["reason"] == "stop_loss"]
    assert (stop["order_type"], stop["stop_price"], stop["time_in_force"], stop["expire_after"]) == (
        "stop", 9.5, "gtc", 20)
    assert [(f["bar"], f["side"], f["quantity"], f["price"]) for f in _of(records, "FillEvent")] == fills
    assert _states(records)[-1][1] == "filled"
    # 10,000 - 500 x 10.00 + 500 x the stop's fill
    assert simulation.portfolio.cash == pytest.approx(10_000.0 - 5_000.0 + 500 * fills[-1][3])
    assert int(simulation.portfolio.positions[0]) == 0


ERRORS = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()


@pytest.mark.parametrize(("fields", "message"), [
    ({"order_type": "limit"}, "OrderEvent #2 (reason 'mine') is a limit order with limit_price None; expected a "
     "finite number > 0"),
    ({"order_type": "stop", "stop_price": 5.0, "limit_price": 4.0}, "OrderEvent #2 (reason 'mine') is a stop order "
     "with a limit_price (4.0); expected limit_price only on a limit order"),
    ({"order_type": "limit_on_close"}, "OrderEvent #2 (reason 'mine') has order_type 'limit_on_close'; expected one "
     "of 'market', 'market_on_open', 'market_on_close', 'limit', 'stop'"),
    ({"order_type": "stop", "stop_price": 9.0, "time_in_force": "gtc", "expire_after": 0},
     "OrderEvent #2 (reason 'mine') has expire_after 0; expected a whole number of bars >= 1 (an int)"),
    ({"order_type": "limit", "limit_price": 9.0, "expire_after": 3},
     "OrderEvent #2 (reason 'mine') has expire_after 3 with time_in_force 'day'; expected expire_after only with "
     "'gtc'"),
    ({"order_type": "stop", "stop_price": 9.0, "time_in_force": "ioc"},
     "OrderEvent #2 (reason 'mine') has time_in_force 'ioc'; expected one of 'day', 'gtc'"),
    ({"time_in_force": "gtc"}, "OrderEvent #2 (reason 'mine') is a market order with time_in_force 'gtc'; expected "
     "time_in_force only on a limit or stop order"),
])
def test_an_order_of_another_handler_with_bad_type_fields_is_refused(fields: dict[str, Any], message: str) -> None:
    """A ContractError naming the order and what is wrong, when the order arrives; docs/errors.md shows it."""
    handler = _handler([FLAT])
    with pytest.raises(ContractError) as caught:
        handler.on_order(OrderEvent(id=2, time_ns=0, bar=0, symbol="A", side=Side.BUY, quantity=10,
                                    reference_price=10.0, reason="mine", **fields))
    assert str(caught.value) == message
    assert f"`{message}`" in ERRORS


def test_a_limit_order_on_data_without_a_range_is_refused_when_it_arrives() -> None:
    """Closes only: a limit order from another handler cannot be filled by the rules, a one-line ContractError."""
    handler = _handler(None, timing="same_close")
    with pytest.raises(ContractError) as caught:
        handler.on_order(OrderEvent(id=2, time_ns=0, bar=0, symbol="A", side=Side.BUY, quantity=10,
                                    reference_price=10.0, reason="mine", order_type="limit", limit_price=9.0))
    assert str(caught.value) == ("OrderEvent #2 (reason 'mine') is a limit order, but the data has no open, high and "
                                 "low prices; expected data with open, high and low prices for limit and stop "
                                 "orders, opens for market_on_open (see docs/orders.md)")
    assert f"`{caught.value}`" in ERRORS


@pytest.mark.parametrize(("table", "key", "value", "message"), [
    ("execution", "order_type", "limit",
     "[execution] order_type = 'limit' needs open, high and low prices, but unused.csv has none (use a long or "
     "per-symbol file with open, high and low columns)"),
    ("execution", "order_type", "market_on_open",
     "[execution] order_type = 'market_on_open' needs open prices, but unused.csv has none (use a long or per-symbol "
     "file with an open column)"),
])
def test_an_order_type_the_data_cannot_fill_is_refused_before_the_run(table: str, key: str, value: str,
                                                                      message: str) -> None:
    """Close-only data: the scenario is refused when the run is built, naming the data file and the columns."""
    prices = PriceData(dates=np.array(DATES[:2], dtype="datetime64[ns]"), symbols=("A",),
                       close=np.array([[10.0], [10.0]]))
    raw = {"data": {"path": "unused.csv"}, "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5}}},
           table: {key: value}}
    with pytest.raises(ScenarioError) as caught:
        Simulation(ScenarioConfig.from_dict(raw, base_dir=Path(__file__).parent), prices=prices)
    assert str(caught.value) == message
    assert (caught.value.table, caught.value.key) == (table, key)
