"""The metrics at the edges of an account: a margin account that falls below zero (ruin), an empty account, a run
without any drawdown, a bar whose total value is 0. Each case is small and worked by hand in its docstring or a
comment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.errors import DataError
from eventbt.results.metrics import compute_metrics
from eventbt.results.returns import bar_returns

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

DAYS = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"],
                        name="date")
# A margin account (1000 of equity, 2000 of stock bought on credit) whose stock falls by more than half: its total
# value goes 1000, 1200, -200, -400, 0, 0 (money owed on 01-04 and 01-05).
UNDER_WATER = pd.DataFrame({"positions_value": [2000.0, 2200.0, 800.0, 600.0, 1000.0, 1000.0],
                            "total_value": [1000.0, 1200.0, -200.0, -400.0, 0.0, 0.0]}, index=DAYS)


def test_a_bar_loses_at_most_everything() -> None:
    """1200 -> -200 is -100% (ruin), not -116.7%; -200 -> -400 starts from money owed, so 0, not +100%; -400 -> 0
    and 0 -> 0 are 0 too (the empty account's rule)."""
    values = UNDER_WATER["total_value"].to_numpy()
    assert bar_returns(values, 1000.0).tolist() == [0.0, 1200 / 1000 - 1, -1.0, 0.0, 0.0, 0.0]


def test_an_account_under_water_is_ruined() -> None:
    """Returns 0, 0.2, -1, 0, 0, 0 (by hand): mean -0.8 / 6 = -2/15; squared deviations from it
    4/225 * 4 + (1/3)^2 + (13/15)^2 = 14/15, over 5: sample variance 14/75. The time-weighted level reaches 0 on
    01-04: total return and CAGR -100%, max drawdown -100% from the 1200 peak of 01-03."""
    m = compute_metrics(UNDER_WATER.drop(columns="positions_value"), initial_cash=1000.0, margin=True)
    std = math.sqrt(14 / 75)
    assert m["annual_volatility"] == pytest.approx(std * math.sqrt(252), rel=1e-12)
    assert m["sharpe"] == pytest.approx(-2 / 15 / std * math.sqrt(252), rel=1e-12)
    downside = math.sqrt(1 / 6)  # only the -1 is below 0: sqrt(mean(min(r, 0)^2)) = sqrt(1/6)
    assert m["sortino"] == pytest.approx(-2 / 15 / downside * math.sqrt(252), rel=1e-12)
    assert (m["total_return"], m["cagr"], m["max_drawdown"]) == (-1.0, -1.0, -1.0)
    assert (m["max_drawdown_peak"], m["max_drawdown_trough"], m["max_drawdown_recovery"]) == (
        "2024-01-03", "2024-01-04", None)
    assert m["under_water"] == {"date": "2024-01-04", "value": -200.0, "lowest": -400.0}
    assert m["final_value"] == 0.0


def test_ruin_with_money_still_owed_at_the_end() -> None:
    """A run that ends owing 400 (values 1000, 1200, -200, -400): total return -100% (it was -140% in the
    difference form), CAGR -100%, the final value -400 as it is."""
    equity = UNDER_WATER.iloc[:4]
    m = compute_metrics(equity, initial_cash=1000.0)
    assert (m["total_return"], m["cagr"], m["final_value"]) == (-1.0, -1.0, -400.0)


def test_an_emptied_account_keeps_the_empty_account_rule() -> None:
    """Everything withdrawn (V = 0 exactly, not owed) and money deposited again: returns 0, 0.1,
    (0 + 900) / 1100 - 1, 0 (from the empty account), 0, 336 / 500 - 1; total 1.1 * 9/11 * 0.672 - 1 = -39.52%,
    and no under_water figure."""
    equity = pd.DataFrame({"total_value": [1000.0, 1100.0, 0.0, 500.0, 500.0, 336.0],
                           "flow": [0.0, 0.0, -900.0, 500.0, 0.0, 0.0]}, index=DAYS)
    m = compute_metrics(equity, initial_cash=1000.0)
    assert m["total_return"] == pytest.approx(1.1 * 9 / 11 * 0.672 - 1, rel=1e-12)
    assert "under_water" not in m


def test_show_says_the_account_was_under_water() -> None:
    """`eventbt show` heads the figures of such a run with the first date and value below zero (the final value
    alone, 0 here, would not tell)."""
    from eventbt.cli.commands.show import format_metrics, metrics_spec

    m = compute_metrics(UNDER_WATER.drop(columns="positions_value"), initial_cash=1000.0)
    expected = "The account was under water from 2024-01-04 (total value -200.00, lowest -400.00): money owed."
    assert expected in format_metrics("lev", m).splitlines()[1]
    assert metrics_spec("lev", m).note.startswith(expected)


def test_a_run_without_a_drawdown_has_no_dates() -> None:
    """Values 1000, 1100, 1200, 1300 from 1000 never fall: depth 0, no peak, trough or recovery, duration 0
    (it reported the first date as peak and trough and 3 days)."""
    equity = pd.DataFrame({"total_value": [1000.0, 1100.0, 1200.0, 1300.0]}, index=DAYS[:4])
    m = compute_metrics(equity, initial_cash=1000.0)
    assert (m["max_drawdown"], m["max_drawdown_peak"], m["max_drawdown_trough"], m["max_drawdown_recovery"],
            m["max_drawdown_days"]) == (0.0, None, None, None, 0)


def test_exposure_and_turnover_leave_out_a_bar_worth_nothing() -> None:
    """A cash account bought 100 A at 10 on 01-02, sold them at 11 on 01-04 for a withdrawal of everything (total
    value 0 after it), and bought 41 at 12 on 01-08 after a deposit of 500. Over the bars worth more than 0:
    exposure (1 + 1 + 0 + 492/500 + 328/336) / 5; turnover 1000 / 2 / 1000 + 492 / 2 / 500 (the sale on 01-04,
    with nothing left, adds nothing) over 7 / 365.25 years. Both were null (a 0/0), with a RuntimeWarning."""
    equity = pd.DataFrame({"positions_value": [1000.0, 1100.0, 0.0, 0.0, 492.0, 328.0],
                           "total_value": [1000.0, 1100.0, 0.0, 500.0, 500.0, 336.0],
                           "flow": [0.0, 0.0, -900.0, 500.0, 0.0, 0.0]}, index=DAYS)
    trades = pd.DataFrame({"date": pd.DatetimeIndex(["2024-01-02", "2024-01-04", "2024-01-08"]),
                           "symbol": ["A"] * 3, "side": ["BUY", "SELL", "BUY"], "quantity": [100, 100, 41],
                           "price": [10.0, 11.0, 12.0], "commission": [0.0] * 3, "slippage": [0.0] * 3,
                           "realized_pnl": [0.0, 100.0, 0.0]})
    m = compute_metrics(equity, trades, initial_cash=1000.0)  # warnings are errors in the tests
    assert m["exposure"] == pytest.approx((1 + 1 + 0 + 492 / 500 + 328 / 336) / 5, rel=1e-12)
    assert m["annual_turnover"] == pytest.approx((0.5 + 0.492) / (7 / 365.25), rel=1e-12)
    assert m["rebalances"] == 3


def test_a_margin_account_under_water_has_an_exposure() -> None:
    """Over its bars worth more than 0 (2000/1000 and 2200/1200), the exposure of the account above is
    (2 + 11/6) / 2, as the margin exposure figures take it; it was -inf% and a RuntimeWarning."""
    m = compute_metrics(UNDER_WATER, initial_cash=1000.0)
    assert m["exposure"] == pytest.approx((2 + 11 / 6) / 2, rel=1e-12)


def test_without_the_trade_log_the_trade_figures_are_unknown() -> None:
    """compute_metrics without trades gave 0 trades and a turnover of 0.0, as if nothing had been traded; they are
    None (unknown), while the figures of the values stay (1000 -> 1300: +30%)."""
    equity = pd.DataFrame({"total_value": [1000.0, 1100.0, 1200.0, 1300.0]}, index=DAYS[:4])
    m = compute_metrics(equity, initial_cash=1000.0)
    keys = ("trades", "rebalances", "annual_turnover", "total_commission", "total_slippage", "total_costs",
            "commission_drag_bps", "closing_trades", "realized_pnl")
    assert {key: m[key] for key in keys} == dict.fromkeys(keys)
    assert m["total_return"] == pytest.approx(0.3, rel=1e-12)


def test_the_peak_of_a_plateau_is_its_first_bar() -> None:
    """Values 1000, 1100, 1100, 990 from 1000: the fall of 10% is from the plateau at 1100, dated at its first bar
    (01-03; empyrical's get_top_drawdowns would say 01-04), so the unrecovered drawdown lasts 01-03 .. 01-05, 2
    days."""
    equity = pd.DataFrame({"total_value": [1000.0, 1100.0, 1100.0, 990.0]}, index=DAYS[:4])
    m = compute_metrics(equity, initial_cash=1000.0)
    assert (m["max_drawdown_peak"], m["max_drawdown_trough"], m["max_drawdown_days"]) == (
        "2024-01-03", "2024-01-05", 2)
    assert m["max_drawdown"] == pytest.approx(-0.1, rel=1e-12)


def test_the_report_of_a_rebalance_at_a_value_of_nothing_has_no_cost_in_bps(tmp_path: Path) -> None:
    """A cash account withdraws everything on 01-04 (its 100 A sold at 11 for it; total value 0 after the
    bar's flow) and rebalances again on 01-08 after a deposit. The report's cost per rebalance in bps divided the
    01-04 sale's costs by a value of 0: a RuntimeWarning (an error in the tests) and an infinite bar. It is n/a."""
    from eventbt.report import build_report

    (tmp_path / "prices.csv").write_text("date,A,B\n2024-01-02,10,20\n2024-01-03,11,20\n2024-01-04,11,21\n"
                                         "2024-01-05,12,19\n2024-01-08,12,20\n2024-01-09,8,20\n")
    (tmp_path / "wd.toml").write_text(
        '[data]\npath = "prices.csv"\n[portfolio]\ninitial_cash = 1000.0\nwithdrawal = "sell"\n'
        '[strategy]\nname = "static_weights"\n[strategy.params]\nweights = { A = 1.0 }\n'
        '[schedule]\ndates = ["2024-01-02", "2024-01-08"]\n[execution.commission]\nmodel = "zero"\n'
        '[[events]]\ndate = "2024-01-04"\ntype = "withdrawal"\namount = 1100.0\n'
        '[[events]]\ndate = "2024-01-05"\ntype = "deposit"\namount = 500.0\n')
    result = eventbt.run(tmp_path / "wd.toml", out=tmp_path / "run")
    assert result.equity.loc["2024-01-04", "total_value"] == 0.0  # 100 x 11 sold, 1,100 withdrawn
    page, _ = build_report(tmp_path / "run")  # a RuntimeWarning would raise here (warnings are errors in the tests)
    assert "Infinity" not in page and "inf%" not in page


def test_the_report_refuses_a_benchmark_frame_of_several_columns(tmp_path: Path) -> None:
    """load_run took a DataFrame benchmark's .name (an AttributeError) before the check Result.metrics makes; a
    frame of two columns is now its DataError saying which column to pass."""
    from eventbt.report.data import load_run

    result = eventbt.run(SCENARIOS / "cash_flows.toml", out=tmp_path / "run")
    two = pd.DataFrame({"A": np.linspace(1.0, 2.0, len(result.equity)), "B": 1.0}, index=result.equity.index)
    with pytest.raises(DataError, match=r"benchmark is a DataFrame of 2 columns \(A, B\); expected one level "
                                        r"series: pass one column, frame\['NAME'\]"):
        load_run(tmp_path / "run", benchmark=two)


def test_run_says_the_account_was_under_water(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The margin account of 1,000 that buys 2,000 of A at 10 (weight 2) is worth 1000 + 200 * (4 - 10) = -200 on
    01-04 and -400 on 01-05 (A at 3): `eventbt run` heads its figures with that, as `eventbt show` does, and
    `eventbt.run` logs it (a final value of -400 alone would not say when, nor that returns stop at -100%)."""
    import logging

    from eventbt.cli.commands.run import format_summary

    (tmp_path / "p.csv").write_text("date,A\n2024-01-02,10\n2024-01-03,11\n2024-01-04,4\n2024-01-05,3\n")
    (tmp_path / "lev.toml").write_text(
        '[data]\npath = "p.csv"\n[portfolio]\ninitial_cash = 1000.0\nmax_gross = 2.0\n'
        '[strategy]\nname = "static_weights"\n[strategy.params]\nweights = { A = 2.0 }\n'
        '[schedule]\ndates = ["2024-01-02"]\n[execution.commission]\nmodel = "zero"\n')
    with caplog.at_level(logging.WARNING, logger="eventbt"):
        result = eventbt.run(tmp_path / "lev.toml")
    expected = "The account was under water from 2024-01-04 (total value -200.00, lowest -400.00): money owed."
    assert format_summary(result.summary).splitlines()[1].strip().startswith(expected)
    assert any(record.getMessage().startswith(expected) for record in caplog.records)
