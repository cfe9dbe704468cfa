"""The metrics of eventbt.results.metrics: small cases worked by hand, and the bundled scenario cross-checked against
empyrical-reloaded (an independent library) or, where it has no such figure, a plain loop written here."""

from __future__ import annotations

import math
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from eventbt.results.metrics import compute_metrics, drawdown_episode, monthly_returns, rebalance_table
from eventbt.simulation import run

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_rotation.toml"
BENCHMARK = ROOT / "scenarios" / "data" / "skfolio" / "sp500_index.csv.gz"
RISK_FREE = 0.02


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The bundled EMA rotation scenario run once, with its files read back and the S&P 500 as benchmark."""
    out = tmp_path_factory.mktemp("ema_rotation")
    result = run(SCENARIO, out=out)
    equity = pd.read_csv(out / "equity.csv", index_col="date", parse_dates=True)
    trades = pd.read_csv(out / "trades.csv", parse_dates=["date"])
    benchmark = pd.read_csv(BENCHMARK, index_col=0, parse_dates=True)["SP500"]
    initial = float(result.summary["initial_cash"])
    metrics = compute_metrics(equity, trades, initial_cash=initial, benchmark=benchmark, risk_free=RISK_FREE)
    values = equity["total_value"]
    returns = pd.Series(values.to_numpy() / np.concatenate(([initial], values.to_numpy()[:-1])) - 1.0,
                        index=values.index)
    bench = benchmark.reindex(values.index).ffill().pct_change().iloc[1:]
    return {"equity": equity, "trades": trades, "metrics": metrics, "returns": returns, "bench": bench,
            "initial": initial, "out": out}


def test_drawdown_episode_by_hand() -> None:
    """Values 100, 120, 90, 60, 130 fall 50% from the 120 peak (day 1) to day 3 and recover on day 4."""
    dates = np.array(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05"], dtype="datetime64[ns]")
    episode = drawdown_episode(dates, np.array([100.0, 120.0, 90.0, 60.0, 130.0]))
    # 60 / 120 - 1 = -0.5; peak 01-02, trough 01-04, recovery 01-05 (130 >= 120): 3 days peak to recovery
    assert episode == {"max_drawdown": -0.5, "max_drawdown_peak": "2020-01-02", "max_drawdown_trough": "2020-01-04",
                       "max_drawdown_recovery": "2020-01-05", "max_drawdown_days": 3}


def test_unrecovered_drawdown_runs_to_the_last_bar() -> None:
    """A drawdown not made good by the end has no recovery date and lasts from the peak to the last bar."""
    dates = np.array(["2020-01-01", "2020-01-11", "2020-01-21"], dtype="datetime64[ns]")
    episode = drawdown_episode(dates, np.array([100.0, 80.0, 90.0]))
    assert episode["max_drawdown_recovery"] is None
    assert episode["max_drawdown_days"] == 20
    assert episode["max_drawdown"] == pytest.approx(-0.2)


def test_small_run_by_hand() -> None:
    """Turnover, exposure, hit rate and cost drag of a three-bar, two-fill run worked out by hand."""
    index = pd.DatetimeIndex(["2021-01-01", "2021-07-02", "2022-01-01"], name="date")  # 365 days = 0.99932 years
    equity = pd.DataFrame({"positions_value": [0.0, 500.0, 1000.0], "total_value": [1000.0, 1000.0, 1100.0]},
                          index=index)
    trades = pd.DataFrame({
        "date": pd.DatetimeIndex(["2021-07-02", "2022-01-01"]), "symbol": ["A", "A"], "side": ["BUY", "SELL"],
        "quantity": [10, 4], "price": [50.0, 25.0], "commission": [1.0, 2.0], "slippage": [0.5, 0.5],
        "realized_pnl": [0.0, -102.0],
    })
    m = compute_metrics(equity, trades)
    years = 365 / 365.25
    # turnover: 500 / 2 / 1000 = 0.25 on 07-02, 100 / 2 / 1100 on 01-01, summed and divided by the years
    assert m["annual_turnover"] == pytest.approx((0.25 + 100 / 2 / 1100) / years)
    assert m["exposure"] == pytest.approx((0 + 0.5 + 1000 / 1100) / 3)
    assert (m["closing_trades"], m["hit_rate"], m["average_loss"], m["average_win"]) == (1, 0.0, -102.0, None)
    # commission 3 over an average value of 3100 / 3, per year, in bps
    assert m["commission_drag_bps"] == pytest.approx(3.0 / (3100 / 3) / years * 1e4)
    assert m["total_return"] == pytest.approx(0.1)
    assert m["cagr"] == pytest.approx(1.1 ** (1 / years) - 1)


def test_rebalance_table_by_hand() -> None:
    """One date with a 600 sell and a 400 buy on a 2000 book is a one-sided turnover of 25%."""
    index = pd.DatetimeIndex(["2021-01-04"], name="date")
    equity = pd.DataFrame({"total_value": [2000.0]}, index=index)
    trades = pd.DataFrame({"date": pd.DatetimeIndex(["2021-01-04"] * 2), "side": ["SELL", "BUY"],
                           "quantity": [6, 4], "price": [100.0, 100.0], "commission": [1.0, 1.5],
                           "slippage": [0.3, 0.2]})
    table = rebalance_table(trades, equity)
    row = table.iloc[0]
    assert (row["traded_value"], row["turnover"], row["fills"], row["buys"], row["sells"]) == (1000, 0.25, 2, 1, 1)
    assert row["commission"] == pytest.approx(2.5)


def test_compute_metrics_keeps_the_summary_figures(real: dict[str, object]) -> None:
    """Every key of the end-of-run summary is in the full set, with the summary's value (same formulas)."""
    summary = pd.read_json(Path(str(real["out"])) / "summary.json", typ="series")
    metrics = real["metrics"]
    assert isinstance(metrics, dict)
    for key in ("final_value", "total_return", "cagr", "annual_volatility", "max_drawdown", "trades"):
        assert metrics[key] == pytest.approx(summary[key], rel=1e-9), key


def test_cost_drag_is_the_same_float_in_the_summary_and_the_metrics(real: dict[str, object]) -> None:
    """summary.json's ``bps_per_year`` and the metrics' ``*_drag_bps`` (what ``show --json`` prints) are one
    figure: equal to the last bit (they were computed in two orders and differed there), and equal, within
    rounding, to amount / average value / years x 10,000 worked out here with numpy's mean."""
    summary = pd.read_json(Path(str(real["out"])) / "summary.json", typ="series")
    metrics = real["metrics"]
    equity = real["equity"]
    assert isinstance(metrics, dict) and isinstance(equity, pd.DataFrame)
    years = (equity.index[-1] - equity.index[0]).days / 365.25
    average = float(np.mean(equity["total_value"].to_numpy()))
    for cost, key in (("commission", "commission_drag_bps"), ("slippage", "slippage_drag_bps"),
                      ("total", "total_cost_drag_bps")):
        entry = summary["costs"][cost]
        assert entry["bps_per_year"] == metrics[key], cost
        assert entry["bps_per_year"] == pytest.approx(entry["amount"] / average / years * 1e4, rel=1e-12), cost


@pytest.mark.parametrize("key, reference", [
    ("annual_volatility", lambda r, b, years: ep.annual_volatility(r)),
    ("sharpe", lambda r, b, years: ep.sharpe_ratio(r, risk_free=RISK_FREE / 252)),
    ("sortino", lambda r, b, years: ep.sortino_ratio(r, required_return=RISK_FREE / 252)),
    ("max_drawdown", lambda r, b, years: ep.max_drawdown(r)),
    ("total_return", lambda r, b, years: ep.cum_returns_final(r)),
    # calendar CAGR: empyrical counts years as len(returns) / annualization, so pass bars per calendar year
    ("cagr", lambda r, b, years: ep.annual_return(r, annualization=len(r) / years)),
    ("calmar", lambda r, b, years: ep.calmar_ratio(r, annualization=len(r) / years)),
    ("beta", lambda r, b, years: ep.beta(r.iloc[1:], b, risk_free=RISK_FREE / 252)),
    ("alpha", lambda r, b, years: ep.alpha(r.iloc[1:], b, risk_free=RISK_FREE / 252)),
    ("information_ratio", lambda r, b, years: ep.excess_sharpe(r.iloc[1:], b) * math.sqrt(252)),
])
def test_metric_matches_empyrical(real: dict[str, object], key: str, reference: object) -> None:
    """Each figure agrees with empyrical-reloaded on the real run (same returns, same conventions)."""
    metrics = real["metrics"]
    assert isinstance(metrics, dict) and callable(reference)
    expected = float(reference(real["returns"], real["bench"], metrics["years"]))
    assert metrics[key] == pytest.approx(expected, rel=1e-9)


def test_benchmark_figures_match_plain_loops(real: dict[str, object]) -> None:
    """Tracking error, correlation and the benchmark's own returns agree with loops written out here."""
    metrics, ours, bench = real["metrics"], real["returns"], real["bench"]
    assert isinstance(metrics, dict) and isinstance(ours, pd.Series) and isinstance(bench, pd.Series)
    a, b = list(ours.iloc[1:]), list(bench)
    n = len(a)
    mean_a, mean_b = sum(a) / n, sum(b) / n
    active = [x - y for x, y in zip(a, b, strict=True)]
    mean_active = sum(active) / n
    te = math.sqrt(sum((d - mean_active) ** 2 for d in active) / (n - 1)) * math.sqrt(252)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    corr = cov / math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    growth = 1.0
    for r in b:
        growth *= 1.0 + r
    assert metrics["tracking_error"] == pytest.approx(te, rel=1e-9)
    assert metrics["correlation"] == pytest.approx(corr, rel=1e-9)
    assert metrics["benchmark_total_return"] == pytest.approx(growth - 1.0, rel=1e-9)
    assert metrics["benchmark_cagr"] == pytest.approx(growth ** (1 / metrics["years"]) - 1.0, rel=1e-9)
    assert metrics["excess_return"] == pytest.approx(metrics["cagr"] - metrics["benchmark_cagr"], rel=1e-12)


def test_drawdown_dates_match_a_plain_loop(real: dict[str, object]) -> None:
    """The deepest drawdown's peak, trough, recovery and duration agree with a bar-by-bar scan."""
    metrics, equity = real["metrics"], real["equity"]
    assert isinstance(metrics, dict) and isinstance(equity, pd.DataFrame)
    dates = [str(d)[:10] for d in equity.index]
    values = list(equity["total_value"])
    peak_at, worst, worst_peak, worst_trough = 0, 0.0, 0, 0
    for i, v in enumerate(values):
        if v > values[peak_at]:
            peak_at = i
        if v / values[peak_at] - 1 < worst:
            worst, worst_peak, worst_trough = v / values[peak_at] - 1, peak_at, i
    recovery = next((i for i in range(worst_trough, len(values)) if values[i] >= values[worst_peak]), None)
    end = recovery if recovery is not None else len(values) - 1
    days = (pd.Timestamp(dates[end]) - pd.Timestamp(dates[worst_peak])).days
    assert (metrics["max_drawdown_peak"], metrics["max_drawdown_trough"]) == (dates[worst_peak], dates[worst_trough])
    assert metrics["max_drawdown_recovery"] == (dates[recovery] if recovery is not None else None)
    assert metrics["max_drawdown_days"] == days


def test_trading_figures_match_plain_loops(real: dict[str, object]) -> None:
    """Turnover, exposure, hit rate, average win and loss and cost drag agree with loops over the files."""
    metrics, equity, trades = real["metrics"], real["equity"], real["trades"]
    assert isinstance(metrics, dict) and isinstance(equity, pd.DataFrame) and isinstance(trades, pd.DataFrame)
    total = {str(d)[:10]: v for d, v in zip(equity.index, equity["total_value"], strict=True)}
    traded: dict[str, float] = {}
    wins, losses = [], []
    for row in trades.to_dict("records"):
        day = str(row["date"])[:10]
        traded[day] = traded.get(day, 0.0) + abs(row["quantity"] * row["price"])
        if row["side"] == "SELL":
            (wins if row["realized_pnl"] > 0 else losses if row["realized_pnl"] < 0 else []).append(row["realized_pnl"])
    years = metrics["years"]
    turnover = sum(value / 2 / total[day] for day, value in traded.items()) / years
    exposure = sum(p / t for p, t in zip(equity["positions_value"], equity["total_value"], strict=True)) / len(equity)
    average_value = sum(equity["total_value"]) / len(equity)
    closing = sum(1 for side in trades["side"] if side == "SELL")
    assert metrics["annual_turnover"] == pytest.approx(turnover, rel=1e-9)
    assert metrics["exposure"] == pytest.approx(exposure, rel=1e-9)
    assert metrics["hit_rate"] == pytest.approx(len(wins) / closing, rel=1e-12)
    assert metrics["average_win"] == pytest.approx(sum(wins) / len(wins), rel=1e-9)
    assert metrics["average_loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-9)
    assert metrics["commission_drag_bps"] == pytest.approx(
        sum(trades["commission"]) / average_value / years * 1e4, rel=1e-9)
    assert metrics["slippage_drag_bps"] == pytest.approx(
        sum(trades["slippage"]) / average_value / years * 1e4, rel=1e-9)


def test_monthly_returns_match_empyrical(real: dict[str, object]) -> None:
    """The year x month table holds the same compounded monthly returns as empyrical's aggregate_returns."""
    equity, returns = real["equity"], real["returns"]
    assert isinstance(equity, pd.DataFrame) and isinstance(returns, pd.Series)
    table = monthly_returns(equity, float(str(real["initial"])))
    expected = ep.aggregate_returns(returns, "monthly")
    ours = table.stack().dropna()
    assert len(ours) == len(expected)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("dates", "levels", "message"), [
    (["2010-01-04", "2010-01-05"], [100.0, 101.0],
     "benchmark column 'SPY': no date of the benchmark falls in the run's dates (2021-01-04 .. 2021-01-06); its "
     "dates run 2010-01-04 .. 2010-01-05"),
    (["2021-01-05", "2021-01-06"], [100.0, 101.0],
     "benchmark column 'SPY' starts on 2021-01-05, after the run's first date 2021-01-04"),
    (["2021-01-04", "2021-01-05", "2021-01-06"], [100.0, -5.0, 0.0],
     "benchmark column 'SPY' on 2021-01-05 is -5.0; expected a positive level"),
    (["2021-01-04", "2021-01-05", "2021-01-05"], [100.0, 101.0, 102.0],
     "benchmark column 'SPY': date 2021-01-05 appears twice; expected one level per date"),
])
def test_a_benchmark_series_that_cannot_be_measured_is_refused(dates: list[str], levels: list[float],
                                                               message: str) -> None:
    """A benchmark series with no date in the run (which carried forward would read as a flat 0%), one that
    starts after the run (its CAGR would span fewer years than the run's), one with a level <= 0 (a -100%
    return) or one with a date twice (which level holds? it crashed the alignment) is a DataError, not a
    figure."""
    import pandas as pd

    from eventbt.errors import DataError

    days = pd.to_datetime(["2021-01-04", "2021-01-05", "2021-01-06"])
    equity = pd.DataFrame({"total_value": [1000.0, 1010.0, 1020.0]}, index=days)
    series = pd.Series(levels, index=pd.to_datetime(dates), name="SPY")
    with pytest.raises(DataError) as caught:
        compute_metrics(equity, benchmark=series)
    assert str(caught.value).startswith(message)
