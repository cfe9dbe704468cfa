"""Tests of the reference (oracle) backtest itself, on small cases worked out by hand.

Each expected number below is derived in the comments next to it from the specification's rules,
not from running any implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.scenarios.reference_backtest import (
    commission_for,
    ema_allocation_targets,
    ema_last,
    plan_rebalance,
    rebalance_bar_positions,
    reference_backtest,
)

ZERO = {"model": "zero"}


def frame(dates: list[str], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.DatetimeIndex(dates))


def trade_rows(result) -> list[tuple]:
    rows = []
    for row in result.trades.itertuples(index=False):
        rows.append((row.date.strftime("%Y-%m-%d"), row.symbol, row.side, row.quantity))
    return rows


# --- costs -------------------------------------------------------------------------------------


def test_commission_models():
    ib = {"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01}
    # 50 shares: 0.005 * 50 = 0.25 -> the minimum 1.00 applies; cap 1% of 5000 = 50 does not bind.
    assert commission_for(ib, 50, 5000.0) == pytest.approx(1.0)
    # 1000 shares worth 300: 0.005 * 1000 = 5.00 > minimum, but the cap 1% of 300 = 3.00 binds.
    assert commission_for(ib, 1000, 300.0) == pytest.approx(3.0)
    # 2000 shares worth 100000: 0.005 * 2000 = 10.00, above the minimum, below the cap (1000).
    assert commission_for(ib, 2000, 100000.0) == pytest.approx(10.0)
    # A zero-quantity fill costs nothing, whatever the model.
    assert commission_for(ib, 0, 0.0) == 0.0
    assert commission_for({"model": "fixed", "amount": 7.5}, 0, 0.0) == 0.0
    assert commission_for({"model": "fixed", "amount": 7.5}, 3, 30.0) == 7.5
    assert commission_for({"model": "percentage", "rate": 0.001}, 3, 300.0) == pytest.approx(0.3)
    assert commission_for(ZERO, 3, 300.0) == 0.0


def test_buy_pays_per_share_commission_minimum_and_slippage():
    close = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[100.0, 110.0, 105.0])
    result = reference_backtest(
        close,
        initial_cash=10000.0,
        strategy={"name": "static_weights", "weights": {"A": 0.5}},
        schedule={"dates": ["2024-01-02"]},
        commission={"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": None},
        slippage={"model": "fixed_bps", "bps": 10},
    )
    # Day 1: V = 10000, T_A = 0.5 * 10000 = 5000, d_A = 5000.
    # s = 10 bps = 0.001, buy fill = 100 * 1.001 = 100.1, n = floor(5000 / 100.1) = floor(49.95) = 49.
    # Value 49 * 100.1 = 4904.9; commission max(1.00, 0.005 * 49 = 0.245) = 1.00.
    # Cash = 10000 - 4904.9 - 1.0 = 5094.1; slippage = (100.1 - 100) * 49 = 4.9.
    assert trade_rows(result) == [("2024-01-02", "A", "BUY", 49)]
    trade = result.trades.iloc[0]
    assert trade["price"] == pytest.approx(100.1)
    assert trade["reference_price"] == pytest.approx(100.0)
    assert trade["commission"] == pytest.approx(1.0)
    assert trade["slippage"] == pytest.approx(4.9)
    assert trade["realized_pnl"] == 0.0
    # Values: day 1 5094.1 + 49 * 100 = 9994.1; day 2 5094.1 + 49 * 110 = 10484.1;
    # day 3 5094.1 + 49 * 105 = 10239.1.
    assert list(result.cash) == pytest.approx([5094.1] * 3)
    assert list(result.values) == pytest.approx([9994.1, 10484.1, 10239.1])
    assert result.signals == {pd.Timestamp("2024-01-02"): {"A": 0.5}}
    # Actual weight after the fill: 4900 / 9994.1.
    assert result.weights[pd.Timestamp("2024-01-02")]["A"] == pytest.approx(4900 / 9994.1)
    assert result.positions == {"A": 49}


# --- full exit with realized P&L (EMA strategy, fast 1 / slow 2) -------------------------------------


def test_full_exit_sale_books_realized_pnl():
    # EMA_1 is the close itself; EMA_2 has alpha = 2/3 and starts at the first close.
    # Day 1: one close per symbol < slow_span 2 -> nobody eligible -> no opinion, nothing happens.
    # Day 2: A: EMA_2 = 2/3 * 110 + 1/3 * 100 = 106.667, score = 110 / 106.667 - 1 = 0.03125 > 0.
    #        B: flat 50 -> score 0, which is not > 0 -> not picked. Targets {A: 1.0}.
    #        V = 10000, d_A = 10000, n = floor(10000 / 110) = 90, value 9900,
    #        commission 0.1% = 9.90; expected cost 9909.9 <= 10000. Cash = 90.1.
    # Day 3: A: EMA_2 = 2/3 * 99 + 1/3 * 106.667 = 101.556, score = 99 / 101.556 - 1 < 0.
    #        Eligible symbols exist but none has score > 0 -> targets {} -> all cash.
    #        Sell all 90 A at 99: value 8910, commission 8.91.
    #        Cash = 90.1 + 8910 - 8.91 = 8991.19.
    #        Realized P&L = (99 - 110) * 90 - 8.91 = -998.91.
    close = frame(["2024-01-02", "2024-01-03", "2024-01-04"], B=[50.0, 50.0, 50.0], A=[100.0, 110.0, 99.0])
    result = reference_backtest(
        close,
        initial_cash=10000.0,
        strategy={"name": "ema_allocation", "fast_span": 1, "slow_span": 2, "top_n": 1, "weighting": "equal"},
        schedule={"rebalance": "daily"},
        commission={"model": "percentage", "rate": 0.001},
        slippage=ZERO,
    )
    assert trade_rows(result) == [("2024-01-03", "A", "BUY", 90), ("2024-01-04", "A", "SELL", 90)]
    sale = result.trades.iloc[1]
    assert sale["commission"] == pytest.approx(8.91)
    assert sale["realized_pnl"] == pytest.approx(-998.91)
    assert result.realized_pnl == pytest.approx(-998.91)
    assert list(result.cash) == pytest.approx([10000.0, 90.1, 8991.19])
    assert list(result.values) == pytest.approx([10000.0, 90.1 + 9900.0, 8991.19])
    assert list(result.signals) == [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04")]
    assert result.signals[pd.Timestamp("2024-01-03")] == {"A": 1.0}
    assert result.signals[pd.Timestamp("2024-01-04")] == {}
    assert result.weights[pd.Timestamp("2024-01-04")] == {}
    assert result.positions == {}


def test_partial_sell_first_then_buy_scaled_to_proceeds():
    # Day 1: V = 1000, T = 500 each, buy 50 A and 50 B at 10; cash 0.
    # Day 2: A = 12, B = 10: V = 600 + 500 = 1100, T = 550 each.
    #   A: d = 550 - 600 = -50, w != 0 -> sell min(50, floor(50 / 12) = 4) = 4; proceeds 48.
    #   B: d = 550 - 500 = +50 -> buy floor(50 / 10) = 5; cost 50.
    #   A_avail = 0 + 48 = 48 < K = 50 -> f = 0.96, n_B = floor(5 * 0.96) = 4; cost 40 <= 48.
    #   Realized on the partial sale: (12 - 10) * 4 = 8. Cash = 48 - 40 = 8.
    #   Value = 8 + 46 * 12 + 54 * 10 = 1100.
    close = frame(["2024-01-02", "2024-01-03"], A=[10.0, 12.0], B=[10.0, 10.0])
    result = reference_backtest(
        close,
        initial_cash=1000.0,
        strategy={"name": "static_weights", "weights": {"A": 0.5, "B": 0.5}},
        schedule={"rebalance": "daily"},
        commission=ZERO,
        slippage=ZERO,
    )
    assert trade_rows(result) == [
        ("2024-01-02", "A", "BUY", 50),
        ("2024-01-02", "B", "BUY", 50),
        ("2024-01-03", "A", "SELL", 4),
        ("2024-01-03", "B", "BUY", 4),
    ]
    assert result.trades.iloc[2]["realized_pnl"] == pytest.approx(8.0)
    assert list(result.cash) == pytest.approx([0.0, 8.0])
    assert list(result.values) == pytest.approx([1000.0, 1100.0])
    assert result.positions == {"A": 46, "B": 54}


# --- cash constraint: scaling, then one-share trimming ------------------------------------------------


def test_cash_constraint_scales_then_trims_largest_cost():
    # Fixed commission 100 per order does not shrink when the buys are scaled, so scaling alone
    # leaves the buys over budget and shares must be trimmed one at a time.
    # V = 1000, T = 500 each.
    #   A at 7:  n = floor(500 / 7) = 71, cost 497 + 100 = 597
    #   B at 13: n = floor(500 / 13) = 38, cost 494 + 100 = 594      K = 1191 > A = 1000
    # Scale f = 1000 / 1191 = 0.83963:
    #   A: floor(71 * 0.83963 = 59.61) = 59, cost 413 + 100 = 513
    #   B: floor(38 * 0.83963 = 31.91) = 31, cost 403 + 100 = 503      K = 1016 > 1000
    # Trim the largest expected cost:
    #   A (513) -> 58, cost 506                                         K = 1009 > 1000
    #   A (506 > 503) -> 57, cost 499                                   K = 1002 > 1000
    #   B (503 > 499) -> 30, cost 390 + 100 = 490                       K = 989 <= 1000, stop.
    # Cash = 1000 - 499 - 490 = 11; value = 11 + 57 * 7 + 30 * 13 = 800.
    close = frame(["2024-01-02"], A=[7.0], B=[13.0])
    result = reference_backtest(
        close,
        initial_cash=1000.0,
        strategy={"name": "static_weights", "weights": {"A": 0.5, "B": 0.5}},
        schedule={"rebalance": "daily"},
        commission={"model": "fixed", "amount": 100.0},
        slippage=ZERO,
    )
    assert trade_rows(result) == [("2024-01-02", "A", "BUY", 57), ("2024-01-02", "B", "BUY", 30)]
    assert list(result.cash) == pytest.approx([11.0])
    assert list(result.values) == pytest.approx([800.0])


def test_cash_constraint_trim_tie_goes_to_later_symbol():
    # Both at 10, fixed commission 100, cash 1015: T = 507.5 each, n = 50 each, cost 600 each,
    # K = 1200 > 1015. f = 1015 / 1200 = 0.84583, n = floor(42.29) = 42 each, cost 520 each,
    # K = 1040 > 1015. Trims (equal costs: the later symbol gives up the share):
    #   B (520 = 520, later) -> 41 (510), K = 1030
    #   A (520 > 510)        -> 41 (510), K = 1020
    #   B (510 = 510, later) -> 40 (500), K = 1010 <= 1015, stop.
    # A keeps 41, B 40 (with ties going to the earlier symbol it would be the other way round).
    orders = plan_rebalance(
        {"A": 0.5, "B": 0.5},
        {"A": 10.0, "B": 10.0},
        {},
        1015.0,
        {"A": 10.0, "B": 10.0},
        cash_buffer=0.0,
        min_trade_value=0.0,
        s=0.0,
        commission={"model": "fixed", "amount": 100.0},
    )
    assert [(o["side"], o["symbol"], o["quantity"]) for o in orders] == [("BUY", "A", 41), ("BUY", "B", 40)]


def test_min_trade_value_and_cash_buffer():
    # Cash buffer 10%: T = w * V * 0.9. V = 1000 -> T_A = 0.6 * 900 = 540 -> 54 shares at 10;
    # T_B = 0.4 * 900 = 360 but min_trade_value 400 > |d_B| = 360 -> B skipped.
    orders = plan_rebalance(
        {"A": 0.6, "B": 0.4},
        {"A": 10.0, "B": 10.0},
        {},
        1000.0,
        {},
        cash_buffer=0.1,
        min_trade_value=400.0,
        s=0.0,
        commission=ZERO,
    )
    assert [(o["side"], o["symbol"], o["quantity"]) for o in orders] == [("BUY", "A", 54)]


# --- next_open timing ---------------------------------------------------------------------------


def test_next_open_buy_reduced_when_open_gaps_up():
    # Day 1 (signal, sized at the close 10): V = 1000, d = 1000, n = floor(1000 / 10) = 100,
    #   expected cost 1000 + fixed 1 = 1001 > 1000 -> f = 1000 / 1001, n = floor(99.9) = 99
    #   (cost 991). Nothing fills on day 1: its snapshot is cash 1000, value 1000.
    # Day 2 open gaps up to 12: 99 * 12 + 1 = 1189 > cash 1000 -> reduced to the largest n with
    #   12 n + 1 <= 1000: n = 83 (996 + 1 = 997). Cash = 3. Value at the close 12.5:
    #   3 + 83 * 12.5 = 1040.5.
    dates = ["2024-01-02", "2024-01-03", "2024-01-04"]
    close = frame(dates, A=[10.0, 12.5, 13.0])
    open_ = frame(dates, A=[9.5, 12.0, 12.8])
    result = reference_backtest(
        close,
        open_=open_,
        initial_cash=1000.0,
        strategy={"name": "static_weights", "weights": {"A": 1.0}},
        schedule={"dates": ["2024-01-02"]},
        timing="next_open",
        commission={"model": "fixed", "amount": 1.0},
        slippage=ZERO,
    )
    assert trade_rows(result) == [("2024-01-03", "A", "BUY", 83)]
    assert result.trades.iloc[0]["price"] == pytest.approx(12.0)
    assert result.trades.iloc[0]["reference_price"] == pytest.approx(12.0)
    assert list(result.cash) == pytest.approx([1000.0, 3.0, 3.0])
    assert list(result.values) == pytest.approx([1000.0, 1040.5, 3.0 + 83 * 13.0])
    assert len(result.notes) == 1
    assert result.notes[0]["requested"] == 99
    assert result.notes[0]["filled"] == 83
    # The weights after the rebalance's fills are taken on the fill bar.
    assert list(result.weights) == [pd.Timestamp("2024-01-03")]
    assert result.weights[pd.Timestamp("2024-01-03")]["A"] == pytest.approx(1037.5 / 1040.5)


def test_next_open_orders_pending_at_end_are_cancelled():
    dates = ["2024-01-02", "2024-01-03"]
    close = frame(dates, A=[10.0, 10.0])
    result = reference_backtest(
        close,
        open_=close.copy(),
        initial_cash=1000.0,
        strategy={"name": "static_weights", "weights": {"A": 1.0}},
        schedule={"dates": ["2024-01-03"]},
        timing="next_open",
        commission=ZERO,
        slippage=ZERO,
    )
    assert result.trades.empty
    assert list(result.trades.columns)[:4] == ["date", "symbol", "side", "quantity"]
    assert list(result.values) == pytest.approx([1000.0, 1000.0])
    assert [(n["symbol"], n["requested"], n["filled"]) for n in result.notes] == [("A", 100, 0)]
    assert result.weights == {}


# --- listing and valuation ----------------------------------------------------------------------


def test_late_listing_and_forward_filled_valuation():
    # C is listed on day 2. Equal weight over the symbols with a close that day.
    # Day 1: A, B at 10, V = 900, T = 450 each -> 45 each; cash 0.
    # Day 2: A, B, C at 10, V = 900, T = 300 each: sell 15 A, sell 15 B (proceeds 300),
    #   buy 30 C (cost 300). Cash 0.
    # Day 3: B has no close (not tradable, valued at its last close 10); A = 20, C = 10.
    #   Targets 1/2 each over A and C. V = 30 * 20 + 30 * 10 + 30 * 10 = 1200, T = 600:
    #   A: d = 0, nothing. C: d = 300 -> buy 30 but cash is 0 and nothing is sold -> f = 0.
    #   B is held, not traded.
    dates = ["2024-01-02", "2024-01-03", "2024-01-04"]
    close = frame(dates, C=[math.nan, 10.0, 10.0], A=[10.0, 10.0, 20.0], B=[10.0, 10.0, math.nan])
    result = reference_backtest(
        close,
        initial_cash=900.0,
        strategy={"name": "equal_weight"},
        schedule={"rebalance": "daily"},
        commission=ZERO,
        slippage=ZERO,
    )
    assert trade_rows(result) == [
        ("2024-01-02", "A", "BUY", 45),
        ("2024-01-02", "B", "BUY", 45),
        ("2024-01-03", "A", "SELL", 15),
        ("2024-01-03", "B", "SELL", 15),
        ("2024-01-03", "C", "BUY", 30),
    ]
    assert result.signals[pd.Timestamp("2024-01-02")] == {"A": 0.5, "B": 0.5}
    assert result.signals[pd.Timestamp("2024-01-04")] == {"A": 0.5, "C": 0.5}
    assert list(result.values) == pytest.approx([900.0, 900.0, 1200.0])
    assert result.positions == {"A": 30, "B": 30, "C": 30}


# --- schedule -------------------------------------------------------------------------------------


def test_monthly_schedule_picks_last_bar_of_each_month_in_the_data():
    index = pd.DatetimeIndex(
        ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-29", "2024-03-01", "2024-03-04"]
    )
    # Last bars: Jan 31 (pos 1), Feb 29 (pos 3), and Mar 4 (pos 5, the last bar of the data,
    # which counts as the last bar of March although March continues beyond the data).
    assert rebalance_bar_positions(index, {"rebalance": "monthly"}) == {1, 3, 5}
    # Quarterly: Q1 only, ending with the data.
    assert rebalance_bar_positions(index, {"rebalance": "quarterly"}) == {5}
    # ISO weeks: Tue Jan 30 - Thu Feb 1 (week 5), Thu Feb 29 - Fri Mar 1 (week 9), Mon Mar 4 (week 10).
    assert rebalance_bar_positions(index, {"rebalance": "weekly"}) == {2, 4, 5}
    assert rebalance_bar_positions(index, {"every_n_bars": 2}) == {0, 2, 4}
    assert rebalance_bar_positions(index, {"rebalance": "daily"}) == {0, 1, 2, 3, 4, 5}
    assert rebalance_bar_positions(index, {"dates": ["2024-02-01", "2024-02-02"]}) == {2}

    close = pd.DataFrame({"A": [10.0] * 6}, index=index)
    result = reference_backtest(
        close,
        initial_cash=100.0,
        strategy={"name": "equal_weight"},
        schedule={"rebalance": "monthly"},
        commission=ZERO,
        slippage=ZERO,
    )
    assert list(result.signals) == [
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-02-29"),
        pd.Timestamp("2024-03-04"),
    ]
    # Only the first rebalance trades: 100 / 10 = 10 shares, then the position is on target.
    assert trade_rows(result) == [("2024-01-31", "A", "BUY", 10)]


def test_weekly_schedule_across_iso_year_boundary():
    # Mon 2024-12-30 and Tue 2024-12-31 belong to ISO week 1 of 2025, together with Fri 2025-01-03.
    index = pd.DatetimeIndex(["2024-12-27", "2024-12-30", "2024-12-31", "2025-01-03", "2025-01-06"])
    assert rebalance_bar_positions(index, {"rebalance": "weekly"}) == {0, 3, 4}
    # Calendar months differ: Dec 31 and the last bar.
    assert rebalance_bar_positions(index, {"rebalance": "monthly"}) == {2, 4}


# --- EMA ------------------------------------------------------------------------------------------


def test_ema_matches_hand_computation():
    # span 3 -> alpha = 2 / (3 + 1) = 0.5; EMA starts at the first value:
    #   e0 = 10
    #   e1 = 0.5 * 11 + 0.5 * 10     = 10.5
    #   e2 = 0.5 * 12 + 0.5 * 10.5   = 11.25
    #   e3 = 0.5 * 11 + 0.5 * 11.25  = 11.125
    #   e4 = 0.5 * 13 + 0.5 * 11.125 = 12.0625
    values = [10.0, 11.0, 12.0, 11.0, 13.0]
    expected = [10.0, 10.5, 11.25, 11.125, 12.0625]
    for k in range(5):
        assert ema_last(pd.Series(values[: k + 1]), 3) == pytest.approx(expected[k])
    # span 4 -> alpha = 0.4: e = 10, 10.4, 11.04, 11.024, 11.8144
    assert ema_last(pd.Series(values), 4) == pytest.approx(11.8144)


def test_ema_strategy_eligibility_scores_and_weights():
    # A is listed two days late: its EMA starts at its first close and it becomes eligible only
    # with slow_span = 3 closes.
    dates = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
    close = frame(
        dates,
        A=[math.nan, math.nan, 10.0, 11.0, 12.0],
        B=[10.0, 11.0, 12.0, 11.0, 13.0],
        C=[10.0, 10.0, 10.0, 10.0, 10.0],
    )
    params = {"fast_span": 1, "slow_span": 3, "top_n": 2, "weighting": "score", "max_weight": 0.6}
    # Days 1-2: nobody has 3 closes -> no opinion.
    assert ema_allocation_targets(close, 0, params) is None
    assert ema_allocation_targets(close, 1, params) is None
    # Day 3: B has 3 closes: EMA_3 = 11.25 (see above), EMA_1 = 12, score = 12 / 11.25 - 1 = 0.0667.
    # C: score 0 (not picked). A: 1 close, not eligible. Score weighting -> B 1.0, capped at 0.6.
    assert ema_allocation_targets(close, 2, params) == pytest.approx({"B": 0.6})
    # Day 4: B: EMA_3 = 11.125, score = 11 / 11.125 - 1 < 0; A: 2 closes, not eligible -> all cash.
    assert ema_allocation_targets(close, 3, params) == {}
    # Day 5: A closes 10, 11, 12: EMA_3 = 10, 10.5, 11.25 -> score = 12 / 11.25 - 1 = 1/15.
    #   B: EMA_3 = 12.0625, score = 13 / 12.0625 - 1 = 0.07772. C: 0.
    #   Score weights: A (1/15) / (1/15 + 0.07772) = 0.4617, B 0.5383 (both under the 0.6 cap).
    score_a = 12 / 11.25 - 1
    score_b = 13 / 12.0625 - 1
    targets = ema_allocation_targets(close, 4, params)
    assert targets == pytest.approx({"A": score_a / (score_a + score_b), "B": score_b / (score_a + score_b)})
    # Equal weighting, top 1, no cap: the higher score (B) only, with all the weight.
    equal_top1 = {**params, "weighting": "equal", "top_n": 1, "max_weight": None}
    assert ema_allocation_targets(close, 4, equal_top1) == {"B": 1.0}
    # Equal weighting, top 2, cap 0.4: 0.5 each capped to 0.4, the excess 0.2 stays in cash.
    equal_capped = {**params, "weighting": "equal", "top_n": 2, "max_weight": 0.4}
    assert ema_allocation_targets(close, 4, equal_capped) == {"A": 0.4, "B": 0.4}


# --- accounting invariants on a random run ------------------------------------------------------------


@pytest.mark.parametrize("timing", ["same_close", "next_open"])
def test_accounting_invariants_on_random_walk(timing):
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2023-01-02", periods=120)
    closes = {}
    opens = {}
    for symbol in ["D", "A", "C", "B"]:
        steps = rng.normal(0.0005, 0.02, size=len(dates))
        path = 50 * np.exp(np.cumsum(steps))
        closes[symbol] = path
        opens[symbol] = path * np.exp(rng.normal(0, 0.01, size=len(dates)))
    close = pd.DataFrame(closes, index=dates)
    open_ = pd.DataFrame(opens, index=dates)
    close.iloc[:30, 3] = math.nan  # B listed late
    open_.iloc[:30, 3] = math.nan
    commission = {"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01}
    result = reference_backtest(
        close,
        open_=open_,
        initial_cash=20000.0,
        strategy={
            "name": "ema_allocation",
            "fast_span": 5,
            "slow_span": 20,
            "top_n": 2,
            "weighting": "equal",
        },
        schedule={"rebalance": "weekly"},
        timing=timing,
        commission=commission,
        slippage={"model": "fixed_bps", "bps": 5},
    )
    assert len(result.trades) > 0
    assert (result.cash >= 0).all()
    assert not result.values.isna().any()
    # Replaying the trade log: cash moves by -n f - c on buys, +n f - c on sells; shares whole.
    cash = 20000.0
    shares: dict[str, int] = {}
    for row in result.trades.itertuples(index=False):
        assert row.quantity > 0
        if row.side == "BUY":
            cash -= row.quantity * row.price + row.commission
            shares[row.symbol] = shares.get(row.symbol, 0) + row.quantity
        else:
            cash += row.quantity * row.price - row.commission
            shares[row.symbol] -= row.quantity
            if shares[row.symbol] == 0:
                del shares[row.symbol]
        assert cash >= 0
    assert cash == pytest.approx(result.cash.iloc[-1])
    assert shares == result.positions
    last = close.ffill().iloc[-1]
    expected_value = cash + sum(q * last[symbol] for symbol, q in shares.items())
    assert result.values.iloc[-1] == pytest.approx(expected_value)
