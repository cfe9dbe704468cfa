"""compare_positions and generate_orders against hand-worked cases (arithmetic in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from eventbt.costs import FixedBpsSlippage, FixedCommission, PerShareCommission, ZeroCommission, ZeroSlippage
from eventbt.events import Side
from handlers.rebalance import _changed, compare_positions, generate_orders


def plan(symbols, weights, positions, prices, cash, commission=None, slippage=None, **kw):  # type: ignore[no-untyped-def]
    return generate_orders(
        symbols=tuple(symbols), weights=np.array(weights, dtype=float),
        positions=np.array(positions, dtype=np.int64), prices=np.array(prices, dtype=float), cash=cash,
        commission=commission or ZeroCommission(), slippage=slippage or ZeroSlippage(), **kw)


def summary(orders):  # type: ignore[no-untyped-def]
    return [(o.side, o.symbol, o.quantity) for o in orders]


def test_compare_positions_is_target_value_minus_held_value() -> None:
    """V = 100 + 2*50 = 200; targets 0.25*200*(1-0.1) = 45 and 0.5*200*0.9 = 90; d = 45-100, 90-0."""
    changes, value = compare_positions(np.array([0.25, 0.5]), np.array([2, 0]), np.array([50.0, 10.0]),
                                       100.0, cash_buffer=0.1)
    assert value == 200.0
    assert changes.tolist() == pytest.approx([-55.0, 90.0])


def test_sells_come_first_and_a_zero_target_exits_fully() -> None:
    """A (w=0) sells all 10; B buys 625/25 = 25; C buys floor((625-250)/50) = 7; sells precede buys."""
    # V = 0 + 10*100 + 5*50 = 1250; T_B = T_C = 625.
    orders, notes = plan("ABC", [0.0, 0.5, 0.5], [10, 0, 5], [100.0, 25.0, 50.0], 0.0)
    assert summary(orders) == [(Side.SELL, "A", 10), (Side.BUY, "B", 25), (Side.BUY, "C", 7)]
    assert notes == []


def test_partial_sell_rounds_shares_down() -> None:
    """V = 10*100 = 1000, T = 500, d = -500: sell min(10, floor(500/100)) = 5."""
    orders, _ = plan("A", [0.5], [10], [100.0], 0.0)
    assert summary(orders) == [(Side.SELL, "A", 5)]


def test_buy_sizing_uses_the_slipped_price_and_pays_the_per_share_minimum() -> None:
    """5000 / (100 * 1.001) = 49.95 -> 49 shares; commission max(1.00, 49*0.005 = 0.245) = 1.00."""
    orders, _ = plan("A", [1.0], [0], [100.0], 5000.0, commission=PerShareCommission(
        per_share=0.005, minimum=1.0, max_pct=0.01), slippage=FixedBpsSlippage(bps=10))
    assert summary(orders) == [(Side.BUY, "A", 49)]
    # expected cost 49 * 100.1 + 1.00 = 4905.9
    assert orders[0].expected == pytest.approx(-4905.9)


def test_cash_constraint_scales_then_trims_one_share_at_a_time() -> None:
    """Scale 71/38 by 1000/1191 to 59/31, then trim A, A, B to 57/30 (total cost 989 <= 1000)."""
    # n_A = floor(500/7) = 71 (cost 71*7+100 = 597), n_B = floor(500/13) = 38 (cost 38*13+100 = 594).
    # K = 1191 > A = 1000: f = 0.8396 -> 59 and 31, costs 513 + 503 = 1016 > 1000.
    # Trim the largest cost: A 513 -> 58 (506), K = 1009; A 506 -> 57 (499), K = 1002; B 503 -> 30 (490),
    # K = 989.
    orders, notes = plan("AB", [0.5, 0.5], [0, 0], [7.0, 13.0], 1000.0, commission=FixedCommission(amount=100))
    assert summary(orders) == [(Side.BUY, "A", 57), (Side.BUY, "B", 30)]
    codes = [(n.code, n.symbol) for n in notes]
    assert codes == [("scaled_for_cash", "A"), ("scaled_for_cash", "B"), ("trimmed_for_cash", "A"),
                     ("trimmed_for_cash", "B")]
    assert notes[2].details["removed"] == 2 and notes[3].details["removed"] == 1


def test_trim_ties_take_the_share_from_the_later_symbol() -> None:
    """Equal costs: B (later) loses the share first; 42/42 -> 41/41 -> 41/40 fits 1015."""
    # n = floor(507.5/10) = 50 each, cost 600 each, K = 1200 > 1015; f = 0.8458 -> 42 each (cost 520 each).
    # K = 1040: tie -> B 41 (510); K = 1030: A 520 largest -> A 41 (510); K = 1020: tie -> B 40 (500);
    # K = 1010 <= 1015.
    orders, _ = plan("AB", [0.5, 0.5], [0, 0], [10.0, 10.0], 1015.0, commission=FixedCommission(amount=100))
    assert summary(orders) == [(Side.BUY, "A", 41), (Side.BUY, "B", 40)]


def test_sell_proceeds_fund_buys_in_the_cash_check() -> None:
    """Selling 10 A at 100 (proceeds 1000) funds the buy of 20 B at 50 with no cash on hand."""
    orders, notes = plan("AB", [0.0, 1.0], [10, 0], [100.0, 50.0], 0.0)
    assert summary(orders) == [(Side.SELL, "A", 10), (Side.BUY, "B", 20)]
    assert notes == []


def test_min_trade_value_and_zero_share_skips_are_explained() -> None:
    """|d_A| = 40 < 50 is skipped; B's d = 60 buys floor(60/100) = 0 shares and is skipped too."""
    # V = 1000 (cash) + 0; A target 0.04*1000 = 40; B target 0.06*1000 = 60.
    orders, notes = plan("AB", [0.04, 0.06], [0, 0], [10.0, 100.0], 1000.0, min_trade_value=50.0)
    assert orders == []
    assert [(n.code, n.symbol) for n in notes] == [("skip_min_trade_value", "A"), ("skip_zero_shares", "B")]


def test_untradable_symbols_are_skipped_with_a_reason() -> None:
    """A target on a symbol without a price this bar produces a note, not an order."""
    orders, notes = plan("AB", [0.5, 0.5], [0, 0], [10.0, 10.0], 1000.0, tradable=np.array([True, False]))
    assert summary(orders) == [(Side.BUY, "A", 50)]
    assert [(n.code, n.symbol) for n in notes] == [("skip_not_tradable", "B")]


def test_reapplying_the_same_targets_at_the_same_prices_trades_nothing() -> None:
    """After buying 50 A at 10 with zero costs, the same 50% target needs no order."""
    orders, notes = plan("A", [0.5], [50], [10.0], 500.0)
    assert orders == [] and notes == []


@pytest.mark.parametrize("position_dtype", [np.int64, float])
@pytest.mark.parametrize("with_tradable", [False, True])
def test_the_sizing_reads_the_changed_symbols_as_element_by_element_reads_give_them(position_dtype: type,
                                                                                    with_tradable: bool) -> None:
    """The sizing's loop reads the arrays once at the symbols whose change is not 0 (``_changed``); each value is
    the one ``float(a[i])``, ``int(positions[i])`` and ``bool(tradable[i])`` read alone give, types included
    (the reference below reads them that way), a NaN change and a fractional position among them."""
    changes = np.array([0.0, -1500.1, np.nan, 0.0, 2.5e6, -0.0, 7.0])  # -1500.1: no float32 holds it
    prices = np.array([10.0, 20.25, 30.0, 40.0, 1e-3, 60.0, 70.5])
    positions = np.array([0, 75, -3, 0, 0, 2, 9.75 if position_dtype is float else 9], dtype=position_dtype)
    weights = np.array([0.1, 0.0, 0.2, 0.0, 0.3, 0.0, 0.4])
    tradable = np.array([True, False, True, True, True, False, True]) if with_tradable else None
    expected = [(i, float(changes[i]), float(prices[i]), int(positions[i]), float(weights[i]),
                 True if tradable is None else bool(tradable[i]))
                for i in range(len(changes)) if changes[i] != 0]
    got = list(_changed(changes, prices, positions, weights, tradable))
    assert [i for i, *_ in got] == [1, 2, 4, 6]
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert [type(value) for value in row] == [type(value) for value in want]
        assert all(a == b or (a != a and b != b) for a, b in zip(row, want, strict=True))
