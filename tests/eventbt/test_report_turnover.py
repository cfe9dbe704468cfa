"""The turnover of each rebalance in the report's timeline, by docs/metrics.md's formula
``sum_i |q_i * p_i| / 2 / V_d``: 0 for a rebalance that traded nothing, n/a only where ``V_d`` is not above zero."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from eventbt.report import load_run, render_html
from eventbt.report.data import RunData
from eventbt.report.timeline import rebalance_figures
from eventbt.simulation import run

ROOT = Path(__file__).resolve().parents[2]


def _idle_rebalance(signal: int, date: str) -> dict[str, object]:
    """A rebalance as read from an audit log: a signal that caused no order (already at its targets)."""
    return {"id": signal, "date": date, "targets": {"A": 0.5}, "orders": [], "notices": []}


def test_a_rebalance_without_fills_turned_over_nothing(tmp_path: Path) -> None:
    """Two rebalances without orders: on 2020-01-02 the book is worth 1,000, so 0 / 2 / 1,000 = 0; on 2020-01-03
    it is worth 0 and the formula divides by zero, so there is no figure (n/a)."""
    dates = pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="date")
    equity = pd.DataFrame({"cash": [1000.0, 0.0], "positions_value": [0.0, 0.0], "total_value": [1000.0, 0.0]},
                          index=dates)
    trades = pd.DataFrame(columns=["date", "symbol", "side", "quantity", "price", "reference_price", "commission",
                                   "slippage", "realized_pnl", "order_id", "fill_id"])
    data = RunData(folder=tmp_path, name="idle", equity=equity, trades=trades, weights=pd.DataFrame(),
                   signals=pd.DataFrame(), summary={}, metrics={}, benchmark=None, benchmark_name=None,
                   rebalances=[_idle_rebalance(1, "2020-01-02"), _idle_rebalance(5, "2020-01-03")])
    assert [figure["turnover"] for figure in rebalance_figures(data)] == [0.0, None]


def test_cash_flows_quiet_rebalances_show_zero_turnover(tmp_path: Path) -> None:
    """The bundled cash_flows run: its 2012-11-30 and 2012-12-31 rebalances placed no order (the audit log's
    signals caused none), so their rows read 0.00 traded, 0.00% turnover and 0.00 costs, not n/a (without the
    explorer, as here, a rebalance is a row to click: orders, fills, notices, traded, turnover, costs)."""
    out = tmp_path / "cash_flows"
    run(ROOT / "scenarios" / "cash_flows.toml", out=out)
    data = load_run(out)
    quiet = {r["date"] for r in data.rebalances if not r["orders"]}
    assert {"2012-11-30", "2012-12-31"} <= quiet
    page = render_html(data, unavailable="not built in this test")
    for date in ("2012-11-30", "2012-12-31"):
        row = re.search(rf'<details class="rebalance" id="rebalance-{date}".*?</summary>', page, flags=re.S)
        assert row is not None
        cells = re.findall(r'<span class="num">([^<]*)<', row.group(0))
        assert cells[3:] == ["0.00", "0.00%", "0.00"], date
