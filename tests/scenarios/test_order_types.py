"""scenarios/order_types.toml on the shipped daily bars (zipline csvdir, 2013): every fill worked out by hand.

The prices below are the file's own values (``scenarios/data/zipline/csvdir_daily/<SYMBOL>.csv.gz``, columns
open, high, low, close), copied by hand; the expected numbers follow from the rules of docs/orders.md, the
per_share commission (0.005 a share, at least 1.00) and fixed_bps slippage of 5 bps, computed in the
comments and in plain arithmetic here, never read from the engine.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.replays.books import BooksError, rebuild_books
from eventbt.replays.verify import verify_run
from eventbt.simulation import load_scenario_prices

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "order_types.toml"
SLIP = 5 / 10_000


@pytest.fixture(scope="module")
def result() -> eventbt.Result:
    return eventbt.run(SCENARIO)


def _published(result: eventbt.Result, kind: str) -> list[dict[str, Any]]:
    return [r["data"] for r in result.audit.records() if r.get("record") == "publish" and r.get("type") == kind]


# The rebalance of 2013-01-02 (closes AAPL 78.432854, IBM 196.350006, KO 37.599998, MSFT 27.620001) sizes each
# buy at the close with 5 bps: floor(w x 100,000 / (p x 1.0005)), e.g. AAPL 25,000 / 78.4720704 = 318.58 -> 318,
# IBM 25,000 / 196.4481810 = 127.26 -> 127, KO 15,000 / 37.6187980 = 398.74 -> 398, MSFT 15,000 / 27.6338110 =
# 542.81 -> 542. Each is a limit order 1% below its close: limit = p x 0.99.
LIMITS = {"AAPL": 78.432854 * 0.99, "IBM": 196.350006 * 0.99, "KO": 37.599998 * 0.99, "MSFT": 27.620001 * 0.99}

# (date, symbol, side, quantity, reference price, fill price, commission), in the order they fill.
EXPECTED = [
    # 2013-01-03: AAPL O 78.26857 L 77.285713 <= 77.648525: min(78.26857, 77.648525) = the limit; slipped
    # 77.648525 x 1.0005 is above the limit, so held at it. Commission 318 x 0.005 = 1.59.
    ("2013-01-03", "AAPL", "BUY", 318, LIMITS["AAPL"], LIMITS["AAPL"], 1.59),
    # KO O 37.450001 L 37.110001 <= 37.223998: the limit; 398 x 0.005 = 1.99.
    ("2013-01-03", "KO", "BUY", 398, LIMITS["KO"], LIMITS["KO"], 1.99),
    # MSFT O 27.629999 L 27.16 <= 27.343801: the limit; 542 x 0.005 = 2.71.
    ("2013-01-03", "MSFT", "BUY", 542, LIMITS["MSFT"], LIMITS["MSFT"], 2.71),
    # IBM: 2013-01-03 L 194.440002 > 194.386506, not reached; 2013-01-04 O 194.190002 L 192.779999: the open,
    # below the limit; slipped 194.190002 x 1.0005 = 194.287097 < 194.386506, kept. 127 x 0.005 = 0.635 -> 1.00.
    ("2013-01-04", "IBM", "BUY", 127, 194.190002, 194.190002 * (1 + SLIP), 1.0),
    # The stop-loss placed 2013-01-18 (close 37.700001 > 37.20: waits): 2013-01-22 O 37.740002 L 37.049999 <=
    # 37.20, min(37.740002, 37.20) = 37.20, sold at 37.20 x 0.9995 = 37.1814; 200 x 0.005 = 1.00.
    ("2013-01-22", "KO", "SELL", 200, 37.2, 37.2 * (1 - SLIP), 1.0),
    # The stop buy placed 2013-01-22 (close 27.15 < 27.50: waits): 2013-01-23 O 27.200001 H 27.639999 >= 27.50,
    # max(27.200001, 27.50) = 27.50, bought at 27.50 x 1.0005 = 27.51375; 300 x 0.005 = 1.50.
    ("2013-01-23", "MSFT", "BUY", 300, 27.5, 27.5 * (1 + SLIP), 1.5),
    # The stop buy placed 2013-02-04 (close 37.349998 < 37.50): 2013-02-05 opens at 37.560001, above the stop:
    # max(37.560001, 37.50) = 37.560001, worse than the stop; x 1.0005 = 37.578781. 100 x 0.005 = 0.50 -> 1.00.
    ("2013-02-05", "KO", "BUY", 100, 37.560001, 37.560001 * (1 + SLIP), 1.0),
    # market_on_open placed 2013-02-06: 2013-02-07's open 66.178574 x 1.0005; 10 x 0.005 -> the 1.00 minimum.
    ("2013-02-07", "AAPL", "BUY", 10, 66.178574, 66.178574 * (1 + SLIP), 1.0),
]


def test_every_fill_is_the_one_worked_by_hand(result: eventbt.Result) -> None:
    """Dates, quantities, reference and fill prices and commissions of all eight fills."""
    trades = result.trades
    found = [(row.date.strftime("%Y-%m-%d"), row.symbol, row.side, row.quantity, row.reference_price, row.price,
              row.commission) for row in trades.itertuples()]
    assert len(found) == len(EXPECTED)
    for got, want in zip(found, EXPECTED, strict=True):
        assert got[:4] == want[:4]
        assert got[4:] == pytest.approx(want[4:], abs=1e-9)


def test_the_orders_that_never_filled_expired_with_their_reasons(result: eventbt.Result) -> None:
    """The one-day MSFT limit at 26.90 (2013-01-22 low 27.00) and the two-bar IBM limit sell at 205.00 (highs
    200.910004 on 2013-02-07 and 202.089996 on 2013-02-08) expire, saying why."""
    expired = [(s["symbol"], s["remaining_quantity"], s["reason"]) for s in _published(result, "OrderStateEvent")
               if s["state"] == "expired"]
    assert expired == [
        ("MSFT", 0, "day order expired: low 27.0 > limit 26.9: not reached on 2013-01-22"),
        ("IBM", 0, "gtc order expired after 2 bars: high 202.089996 < limit 205.0: not reached on 2013-02-08"),
    ]
    cancels = [(c["symbol"], c["quantity"]) for c in _published(result, "CancelEvent")]
    assert cancels == [("MSFT", 300), ("IBM", 50)]


def test_the_final_value_adds_up_by_hand(result: eventbt.Result) -> None:
    """Cash: 100,000 less every buy and commission plus the sale; positions at the 2013-02-28 closes."""
    flows = [-quantity * price - fee if side == "BUY" else quantity * price - fee
             for _, _, side, quantity, _, price, fee in EXPECTED]
    cash = math.fsum([100_000.0, *flows])
    # held: AAPL 318 + 10, IBM 127, KO 398 - 200 + 100, MSFT 542 + 300; closes of 2013-02-28
    positions = 328 * 63.057144 + 127 * 200.830002 + 298 * 38.720001 + 842 * 27.799999
    assert result.summary["final_value"] == pytest.approx(cash + positions, abs=1e-6)
    assert result.equity["cash"].iloc[-1] == pytest.approx(cash, abs=1e-6)


def test_the_run_verifies(tmp_path: Path) -> None:
    """eventbt verify recomputes every limit, stop and market-on-open fill's reference price from the data."""
    eventbt.run(SCENARIO, out=tmp_path / "run")
    report = verify_run(tmp_path / "run")
    assert report.ok, report


def _books(records: list[dict[str, Any]], result: eventbt.Result) -> Any:
    config = eventbt.ScenarioConfig.from_toml(SCENARIO)
    return rebuild_books(records, prices=load_scenario_prices(config), initial_cash=100_000.0, next_open=False,
                         weights_lag=1)


def _doctored(result: eventbt.Result, symbol: str, change: dict[str, float]) -> list[dict[str, Any]]:
    """The log's records with the first fill of ``symbol`` changed (the digest is not checked here)."""
    records = copy.deepcopy(list(result.audit.records()))
    fill = next(r for r in records if r.get("type") == "FillEvent" and r["data"]["symbol"] == symbol)
    fill["data"].update(change)
    return records


def test_books_refuse_a_limit_fill_beyond_its_limit(result: eventbt.Result) -> None:
    """AAPL's limit buy filled 0.01 above its limit 77.64852546, the slippage kept consistent: refused."""
    assert len(_books(list(result.audit.records()), result).trades) == len(EXPECTED)  # the log as written adds up
    limit = LIMITS["AAPL"]
    records = _doctored(result, "AAPL", {"price": limit + 0.01, "slippage": 0.01 * 318})
    with pytest.raises(BooksError) as caught:
        _books(records, result)
    assert "a limit order's fill, never beyond its limit" in caught.value.where


def test_books_refuse_a_reference_price_the_bar_did_not_give(result: eventbt.Result) -> None:
    """IBM's fill with the reference price of its limit, 194.386506, where the bar opened below it at 194.190002."""
    records = _doctored(result, "IBM", {"reference_price": LIMITS["IBM"], "price": LIMITS["IBM"], "slippage": 0.0})
    with pytest.raises(BooksError) as caught:
        _books(records, result)
    assert caught.value.expected == pytest.approx(194.190002)
