"""The rebalance arithmetic of a margin account (generate_margin_orders, docs/long-short.md), case by case by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eventbt.costs.commission import ZeroCommission
from eventbt.costs.slippage import FixedBpsSlippage as FixedBps
from eventbt.protocols import OrderContext
from handlers.rebalance import generate_margin_orders

SYMBOLS = ("A", "B")

# (positions, prices, cash, weights) -> the orders (symbol, side, quantity) in publication order, by hand:
CASES = [
    # flat, V = 10,000: A T = 13,000 -> buy 1,300; B T = -3,000 -> short floor(3,000 / 20) = 150; the short sale
    # (group 3) goes before the buy (group 4)
    ("130/30 from flat", [0, 0], [10.0, 20.0], 10_000.0, [1.3, -0.3], [("B", "SELL", 150), ("A", "BUY", 1_300)]),
    # trades round toward zero: A T = 0.5 x 10,000 = 5,000 at 30 -> floor(166.7) = 166; B T = -3,333.3 at 30
    # -> floor(111.1) = 111
    ("rounded toward zero", [0, 0], [30.0, 30.0], 10_000.0, [0.5, -1 / 3], [("B", "SELL", 111), ("A", "BUY", 166)]),
    # reducing first: 1,000 A long (10,000) and -500 B short (-5,000), cash 5,000: V = 10,000. A to 0.5 -> sell
    # floor(5,000 / 10) = 500; B to -0.2 -> T = -2,000, d = 3,000 -> cover min(500, 300) = 300
    ("reduce both", [1_000, -500], [10.0, 10.0], 5_000.0, [0.5, -0.2], [("A", "SELL", 500), ("B", "BUY", 300)]),
    # a long to close (w = 0, reason exit) and a short to close: every share, sells before covers
    ("close both", [1_000, -500], [10.0, 10.0], 5_000.0, [0.0, 0.0], [("A", "SELL", 1_000), ("B", "BUY", 500)]),
    # flips: A long 1,000 -> -0.3 (close 1,000, then short floor(3,000 / 10) = 300); B short 500 -> 0.4 (cover 500,
    # then buy floor(4,000 / 10) = 400). Groups: sell A, cover B, short A, buy B
    ("flips", [1_000, -500], [10.0, 10.0], 5_000.0, [-0.3, 0.4],
     [("A", "SELL", 1_000), ("B", "BUY", 500), ("A", "SELL", 300), ("B", "BUY", 400)]),
    # adding: 100 A long, -100 B short at 10, cash 10,000: V = 10,000. A to 0.5 -> buy floor(4,000 / 10) = 400;
    # B to -0.5 -> T = -5,000, d = -4,000 -> short 400 more
    ("add to both", [100, -100], [10.0, 10.0], 10_000.0, [0.5, -0.5], [("B", "SELL", 400), ("A", "BUY", 400)]),
    # leverage, no cash constraint: 2.0 of 10,000 at 10 -> buy 2,000 (20,000 of cash it does not have)
    ("leveraged buy", [0, 0], [10.0, 10.0], 10_000.0, [2.0, 0.0], [("A", "BUY", 2_000)]),
    # V <= 0: 1,000 A at 10 with cash -12,000 (V = -2,000): every target is 0, the position is closed
    ("negative equity closes", [1_000, 0], [10.0, 10.0], -12_000.0, [1.0, 0.0], [("A", "SELL", 1_000)]),
]


@pytest.mark.parametrize(("positions", "prices", "cash", "weights", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_margin_orders(positions: list[int], prices: list[float], cash: float, weights: list[float],
                       expected: list[tuple[str, str, int]]) -> None:
    """Reducing trades first (sells, covers), then increasing ones (short sales, buys), each in symbol order."""
    orders, _ = generate_margin_orders(symbols=SYMBOLS, weights=np.array(weights), positions=np.array(positions),
                                       prices=np.array(prices), cash=cash, commission=ZeroCommission(),
                                       slippage=FixedBps(bps=0.0))
    assert [(o.symbol, o.side.name, o.quantity) for o in orders] == expected


def test_slippage_sizes_buys_at_the_fill_and_short_sales_at_the_close() -> None:
    """With 100 bps: a buy of 5,000 at 10 is floor(5,000 / 10.10) = 495; a short of 5,000 is floor(5,000 / 10) = 500,
    and its expected proceeds are 500 x 9.90 = 4,950."""
    orders, _ = generate_margin_orders(symbols=SYMBOLS, weights=np.array([0.5, -0.5]), positions=np.array([0, 0]),
                                       prices=np.array([10.0, 10.0]), cash=10_000.0, commission=ZeroCommission(),
                                       slippage=FixedBps(bps=100.0))
    assert [(o.symbol, o.side.name, o.quantity, o.expected) for o in orders] == [
        ("B", "SELL", 500, pytest.approx(4_950.0)), ("A", "BUY", 495, pytest.approx(-495 * 10.1))]


def test_a_change_below_one_share_is_a_notice() -> None:
    """A short of 5.00 at 10.00 is half a share: no order, a skip_zero_shares notice with the change and price."""
    orders, notes = generate_margin_orders(symbols=SYMBOLS, weights=np.array([0.0, -0.0005]),
                                           positions=np.array([0, 0]), prices=np.array([10.0, 10.0]),
                                           cash=10_000.0, commission=ZeroCommission(), slippage=FixedBps(bps=0.0))
    assert orders == []
    assert [(n.code, n.symbol, n.details) for n in notes] == [("skip_zero_shares", "B",
                                                              {"change": pytest.approx(-5.0), "price": 10.0})]


class _ReasonPriced:
    """An order-aware commission: 1.00 a share for an exit, nothing for a rebalance, each order it is shown kept."""

    def __init__(self) -> None:
        self.seen: list[OrderContext] = []

    def commission(self, quantity: int, value: float, order: OrderContext) -> float:
        self.seen.append(order)
        return float(quantity) if order.reason == "exit" else 0.0


def test_a_trade_to_weight_0_is_priced_as_the_exit_it_is_sent_as() -> None:
    """1,000 A long and -500 B short closed (weights 0): the orders go out as exits (RebalanceHandler sends a
    target weight of 0 with reason exit), so the model sizing them is told exit too, and the expected cash is
    the fill's: A 1,000 x 10 - 1,000 x 1.00 = 9,000; B -(500 x 10 + 500 x 1.00) = -5,500. C, opened to 0.5 of
    V = 5,000 + 10,000 - 5,000 = 10,000 at 10, is a rebalance: 500 shares, no commission."""
    model = _ReasonPriced()
    orders, _ = generate_margin_orders(symbols=("A", "B", "C"), weights=np.array([0.0, 0.0, 0.5]),
                                       positions=np.array([1_000, -500, 0]), prices=np.array([10.0, 10.0, 10.0]),
                                       cash=5_000.0, commission=model, slippage=FixedBps(bps=0.0))
    assert [(o.symbol, o.side.name, o.quantity, o.expected) for o in orders] == [
        ("A", "SELL", 1_000, 9_000.0), ("B", "BUY", 500, -5_500.0), ("C", "BUY", 500, -5_000.0)]
    assert {(o.symbol, o.reason) for o in model.seen} == {("A", "exit"), ("B", "exit"), ("C", "rebalance")}
