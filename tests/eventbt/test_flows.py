"""Deposits and withdrawals: time-weighted returns, the money-weighted return and net flows, worked by hand,
recomputed from a run's files with plain loops and with empyrical-reloaded (an independent library)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt import exact
from eventbt.replays.verify import verify_run
from eventbt.results.metrics import compute_metrics, drawdown_episode, monthly_returns, summary_figures
from eventbt.results.returns import internal_rate, time_weighted_values

ROOT = Path(__file__).resolve().parents[2]
CASH_FLOWS = ROOT / "scenarios" / "cash_flows.toml"
NO_FLOWS = ROOT / "scenarios" / "ema_next_open.toml"


@pytest.fixture(scope="module")
def cash_flows_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """scenarios/cash_flows.toml run once; its equity.csv, summary.json and the audit log's CashFlowEvents."""
    out = tmp_path_factory.mktemp("cash_flows") / "run"
    eventbt.run(CASH_FLOWS, out=out)
    equity = pd.read_csv(out / "equity.csv", index_col="date", parse_dates=True)
    flows: dict[int, float] = {}
    for line in (out / "audit.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("record") == "publish" and record.get("type") == "CashFlowEvent":
            bar = record["data"]["bar"]
            flows[bar] = flows.get(bar, 0.0) + record["data"]["amount"]
    summary = json.loads((out / "summary.json").read_text())
    return {"out": out, "equity": equity, "flows": flows, "summary": summary}


def plain_returns(values: list[float], flows: dict[int, float], initial: float) -> list[float]:
    """Time-weighted bar returns by a plain loop: (V_t - F_t) / V_(t-1) - 1, the first against the cash."""
    returns, previous = [], initial
    for bar, value in enumerate(values):
        returns.append((value - flows.get(bar, 0.0)) / previous - 1.0)
        previous = value
    return returns


def test_a_deposit_and_a_withdrawal_worked_by_hand() -> None:
    """Four bars four calendar years apart with a 500 deposit and a 300 withdrawal, every figure by hand."""
    # 1000 cash. Bar 1: 1100 (+10%). Bar 2: 500 deposited, 1700 at the close: (1700 - 500) / 1100 - 1 = +1/11.
    # Bar 3: 1530: 1530 / 1700 - 1 = -10%. Bar 4: 300 withdrawn, 1334 left: (1334 + 300) / 1530 - 1 = 104/1530.
    # Time-weighted level from 1000: 1100, 1200, 1080, 1080 * 1634 / 1530 = 1153.4117647...; total 15.34%.
    # Deepest fall: 1200 -> 1080 = -10%. Net flows 500 - 300 = 200. 2020-01-01 .. 2032-01-01 is 4383 days,
    # 12 years of 365.25 days, so CAGR = 1.1534117647 ** (1/12) - 1.
    index = pd.DatetimeIndex(["2020-01-01", "2024-01-01", "2028-01-01", "2032-01-01"], name="date")
    equity = pd.DataFrame({"total_value": [1100.0, 1700.0, 1530.0, 1334.0], "flow": [0.0, 500.0, 0.0, -300.0]},
                          index=index)
    m = compute_metrics(equity, initial_cash=1000.0)
    returns = [0.1, 1 / 11, -0.1, 104 / 1530]
    growth = 1.08 * 1634 / 1530
    assert m["total_return"] == pytest.approx(growth - 1, rel=1e-12)
    assert m["cagr"] == pytest.approx(growth ** (1 / 12) - 1, rel=1e-12)
    assert m["max_drawdown"] == pytest.approx(-0.1, rel=1e-12)
    # Not recovered (1153.41 < 1200): the episode runs from the peak to the last bar, 2922 days.
    assert (m["max_drawdown_peak"], m["max_drawdown_trough"], m["max_drawdown_recovery"]) == (
        "2024-01-01", "2028-01-01", None)
    assert m["max_drawdown_days"] == 2922
    assert (m["net_flows"], m["flow_bars"]) == (200.0, 2)
    mean = sum(returns) / 4
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 3)
    assert m["annual_volatility"] == pytest.approx(std * math.sqrt(252), rel=1e-12)
    assert m["sharpe"] == pytest.approx(mean / std * math.sqrt(252), rel=1e-12)
    # The investor pays 1000 at year 0 and 500 at year 4, gets 300 + 1334 = 1634 at year 12. With
    # x = (1 + r) ** -4: 1634 x^3 - 500 x - 1000 = 0.
    x = (1 + m["money_weighted_return"]) ** -4
    assert 1634 * x**3 - 500 * x - 1000 == pytest.approx(0.0, abs=1e-9)


def test_cash_flows_scenario_matches_a_plain_loop(cash_flows_run: dict[str, Any]) -> None:
    """summary.json of scenarios/cash_flows.toml equals a loop over equity.csv and the audit log's flows."""
    equity, flows, summary = cash_flows_run["equity"], cash_flows_run["flows"], cash_flows_run["summary"]
    initial = summary["initial_cash"]
    values = list(equity["total_value"])
    returns = plain_returns(values, flows, initial)
    growth, level, peak, worst = 1.0, initial, initial, 0.0
    for r in returns:
        growth *= 1.0 + r
        level *= 1.0 + r
        peak = max(peak, level)
        worst = min(worst, level / peak - 1.0)
    years = (equity.index[-1] - equity.index[0]).days / 365.25
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    assert summary["total_return"] == pytest.approx(growth - 1.0, rel=1e-9)
    assert summary["cagr"] == pytest.approx(growth ** (1 / years) - 1.0, rel=1e-9)
    assert summary["annual_volatility"] == pytest.approx(std * math.sqrt(252), rel=1e-9)
    assert summary["sharpe"] == pytest.approx(mean / std * math.sqrt(252), rel=1e-9)
    assert summary["max_drawdown"] == pytest.approx(worst, rel=1e-9)
    assert summary["net_flows"] == 50_000.0 - 20_000.0 == sum(flows.values())
    # The figures of the correctness review (2026-11-30), computed there with empyrical and quantstats.
    assert (round(summary["total_return"], 4), round(summary["cagr"], 4), round(summary["max_drawdown"], 4)) == (
        0.2241, 0.0699, -0.1431)


@pytest.mark.parametrize("key, reference", [
    ("total_return", lambda r, years: ep.cum_returns_final(r)),
    ("cagr", lambda r, years: ep.annual_return(r, annualization=len(r) / years)),
    ("annual_volatility", lambda r, years: ep.annual_volatility(r)),
    ("sharpe", lambda r, years: ep.sharpe_ratio(r)),
    ("sortino", lambda r, years: ep.sortino_ratio(r)),
    ("max_drawdown", lambda r, years: ep.max_drawdown(r)),
    ("calmar", lambda r, years: ep.calmar_ratio(r, annualization=len(r) / years)),
])
def test_cash_flows_scenario_matches_empyrical(cash_flows_run: dict[str, Any], key: str, reference: Any) -> None:
    """Each return figure of the run's files equals empyrical-reloaded fed the flow-adjusted returns."""
    equity, flows = cash_flows_run["equity"], cash_flows_run["flows"]
    initial = cash_flows_run["summary"]["initial_cash"]
    returns = pd.Series(plain_returns(list(equity["total_value"]), flows, initial), index=equity.index)
    metrics = compute_metrics(equity, initial_cash=initial)
    expected = float(reference(returns, metrics["years"]))
    assert metrics[key] == pytest.approx(expected, rel=1e-9)


def test_cash_flows_monthly_returns_match_empyrical(cash_flows_run: dict[str, Any]) -> None:
    """The monthly table compounds the flow-adjusted returns, as empyrical's aggregate_returns does."""
    equity, flows = cash_flows_run["equity"], cash_flows_run["flows"]
    initial = cash_flows_run["summary"]["initial_cash"]
    returns = pd.Series(plain_returns(list(equity["total_value"]), flows, initial), index=equity.index)
    ours = monthly_returns(equity, initial).stack().dropna()
    np.testing.assert_allclose(ours.to_numpy(), ep.aggregate_returns(returns, "monthly").to_numpy(),
                               rtol=1e-9, atol=1e-12)


def test_flow_column_holds_the_audit_logs_cash_flows(cash_flows_run: dict[str, Any]) -> None:
    """equity.csv's flow is the CashFlowEvent amount on its bar and 0 on every other; verify checks it."""
    equity, flows = cash_flows_run["equity"], cash_flows_run["flows"]
    assert flows == {104: 50_000.0, 354: -20_000.0}  # the scenario's deposit and withdrawal
    assert list(equity["flow"]) == [flows.get(bar, 0.0) for bar in range(len(equity))]
    report = verify_run(cash_flows_run["out"])
    assert report.ok and "equity" in report.checked  # the flow column is one of equity.csv's


def test_tampered_flow_column_is_the_first_disagreement(cash_flows_run: dict[str, Any], tmp_path: Path) -> None:
    """A deposit moved by one bar in equity.csv's flow column is reported at its row and column."""
    run = tmp_path / "run"
    run.mkdir()
    for path in Path(cash_flows_run["out"]).iterdir():
        (run / path.name).write_bytes(path.read_bytes())
    equity = pd.read_csv(run / "equity.csv")
    equity.loc[104, "flow"], equity.loc[105, "flow"] = 0.0, 50_000.0
    equity.to_csv(run / "equity.csv", index=False)
    report = verify_run(run)
    assert report.disagreement is not None
    found = report.disagreement
    assert (found.check, found.file, found.row, found.column) == ("equity", "equity.csv", 105, "flow")
    assert found.where == f"equity.csv row 105 column flow ({equity.loc[104, 'date']})"
    assert (found.expected, found.found) == (50_000.0, "0.0")


def present_value(rate: float, cash_flows: list[tuple[float, float]]) -> float:
    """``sum amount * (1 + rate) ** -years``, written out plainly."""
    return sum(amount * (1.0 + rate) ** -years for years, amount in cash_flows)


def test_money_weighted_return_solves_its_equation(cash_flows_run: dict[str, Any]) -> None:
    """The scenario's money-weighted return, put back into its equation, gives a present value of 0."""
    equity, flows, summary = cash_flows_run["equity"], cash_flows_run["flows"], cash_flows_run["summary"]
    start = equity.index[0]
    cash_flows = [(0.0, -summary["initial_cash"])]
    cash_flows += [((equity.index[bar] - start).days / 365.25, -amount) for bar, amount in sorted(flows.items())]
    cash_flows.append(((equity.index[-1] - start).days / 365.25, summary["final_value"]))
    rate = summary["money_weighted_return"]
    scale = sum(abs(amount) for _, amount in cash_flows)
    assert abs(present_value(rate, cash_flows)) <= 1e-12 * scale
    # Full precision: a millionth of a percentage point either side, the present value has opposite signs.
    assert present_value(rate - 1e-8, cash_flows) > 0 > present_value(rate + 1e-8, cash_flows)
    # Money came in before the good years, so money-weighted (7.4%) beats time-weighted (7.0%) here.
    assert summary["money_weighted_return"] > summary["cagr"]


def test_without_flows_the_money_weighted_return_is_the_calendar_cagr() -> None:
    """With no deposit or withdrawal the equation has the closed form (V_n / V_0) ** (365.25 / days) - 1."""
    summary = eventbt.run(NO_FLOWS).summary
    assert summary["net_flows"] == 0.0 and summary["flow_bars"] == 0
    assert summary["money_weighted_return"] == pytest.approx(summary["cagr"], rel=1e-12)


@pytest.mark.parametrize("cash_flows, expected", [
    ([(0.0, -100.0), (2.0, 121.0)], 0.1),  # 100 * 1.1 ** 2 = 121
    ([(0.0, -100.0), (1.0, 0.0)], -1.0),  # everything lost: -100%
    ([(0.0, -100.0), (0.5, -100.0), (1.0, 200.0)], 0.0),  # 200 in, 200 out: 0%
    ([(0.0, -100.0), (0.0, 110.0)], None),  # no time passes
    ([(0.0, -100.0), (1.0, -5.0)], None),  # money only goes in: no rate makes the sum 0
])
def test_internal_rate_closed_forms(cash_flows: list[tuple[float, float]], expected: float | None) -> None:
    """internal_rate finds the rate of flows with a closed-form answer, and None where there is none."""
    found = internal_rate(cash_flows)
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected, abs=1e-15)


def test_initial_cash_is_the_first_peak_of_the_drawdown() -> None:
    """Values 95, 90, 96, 97 from 100 fall 10% from the initial cash (review finding F7), as in empyrical."""
    index = pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07"], name="date")
    equity = pd.DataFrame({"total_value": [95.0, 90.0, 96.0, 97.0]}, index=index)
    m = compute_metrics(equity, initial_cash=100.0)
    # 90 / 100 - 1 = -10%, not 90 / 95 - 1 = -5.26%; the peak is the start, never regained by 97.
    assert m["max_drawdown"] == pytest.approx(-0.10, rel=1e-12)
    assert m["max_drawdown"] == pytest.approx(ep.max_drawdown(pd.Series([-0.05, 90 / 95 - 1, 96 / 90 - 1,
                                                                         97 / 96 - 1])), rel=1e-12)
    episode = drawdown_episode(index.to_numpy(), equity["total_value"].to_numpy(), 100.0)
    assert (episode["max_drawdown_peak"], episode["max_drawdown_trough"], episode["max_drawdown_recovery"],
            episode["max_drawdown_days"]) == ("2021-01-04", "2021-01-05", None, 3)


def test_a_run_without_flows_keeps_its_figures_to_the_bit() -> None:
    """Without deposits or withdrawals, total return, CAGR, volatility and Sharpe are the simple-return
    formulas of before flows were taken out, compared with == (the same bits)."""
    result = eventbt.run(NO_FLOWS)
    summary, values = result.summary, result.equity["total_value"].to_numpy()
    initial, dates = summary["initial_cash"], result.equity.index.to_numpy()
    assert not result.equity["flow"].any()
    days = (dates[-1] - dates[0]) / np.timedelta64(1, "D")
    returns = np.diff(np.concatenate(([initial], values))) / np.concatenate(([initial], values[:-1]))
    assert summary["total_return"] == values[-1] / initial - 1.0
    assert summary["cagr"] == (values[-1] / initial) ** (365.25 / days) - 1.0
    assert summary["annual_volatility"] == exact.sample_std(returns) * math.sqrt(252)
    assert summary["sharpe"] == exact.mean(returns) / exact.sample_std(returns) * math.sqrt(252)
    # The first bars hold only the initial cash (the strategy warms up), so the initial cash as first peak
    # changes nothing here either.
    assert values[0] == initial
    assert summary["max_drawdown"] == float((values / np.maximum.accumulate(values) - 1.0).min())
    assert (time_weighted_values(values, result.equity["flow"].to_numpy(), initial) == values).all()


def test_summary_figures_of_an_empty_account_after_a_full_withdrawal() -> None:
    """Everything withdrawn, then 500 deposited: the empty bar earns nothing and the figures stay finite."""
    dates = np.array(["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07"], dtype="datetime64[ns]")
    # 1000 -> 1100 (+10%); withdraw all 1100 (0 left, (0 + 1100) / 1100 - 1 = 0%); empty bar (0%);
    # 500 deposited, 550 at the close: (550 - 500) / 0 has no base, so 0%. Time-weighted total: +10%.
    figures = summary_figures(dates=dates, values=np.array([1100.0, 0.0, 0.0, 550.0]), initial_cash=1000.0,
                              trades=0, total_commission=0.0, total_slippage=0.0,
                              flows=np.array([0.0, -1100.0, 0.0, 500.0]))
    assert figures["total_return"] == pytest.approx(0.1, rel=1e-12)
    assert figures["net_flows"] == -600.0 and figures["max_drawdown"] == 0.0
