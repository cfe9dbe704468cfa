"""Every cost model in every view: `eventbt run`, `show`, `compare`, the HTML report and sweep results show a
line per fee model and the total costs, with amounts recomputed here from trades.csv and the audit log."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.display.format import format_value
from eventbt.report import load_run, render_html
from eventbt.report.costs import rebalance_costs
from eventbt.sweeps.executors import SerialExecutor
from eventbt.sweeps.grid import sweep

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ROOT / "scenarios" / "extra_handler.toml"

# A user's own fee handler, as a module of their own: 25.00 of custody at the first bar of each new month.
USER_MODULE = '''
from eventbt.events import FeeEvent, MarketEvent
from eventbt.handler import Handler


class Custody(Handler):
    name = "custody"
    subscribes = (MarketEvent,)

    def __init__(self, *, monthly_amount: float) -> None:
        self.monthly_amount = monthly_amount
        self._month = None

    def on_market(self, event):
        month = str(event.date)[:7]
        new, self._month = self._month is not None and month != self._month, month
        if not new:
            return None
        return [FeeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                         model="custody", amount=self.monthly_amount, reason="custody")]
'''


def run_cli(*args: str) -> str:
    """``eventbt ARGS`` in this process; what it printed (it must exit 0)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def label_values(text: str) -> dict[str, list[str]]:
    """Each printed row's label -> its value cells (cells are separated by two or more spaces)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 2:
            rows[cells[0]] = cells[1:]
    return rows


def fee_payments(audit: Path, model: str) -> list[tuple[str, float]]:
    """(date, paid) of each fee of ``model``: the FeeEvent's amount, or the ``paid`` of the fee_owed notice
    it caused when the cash could not cover it (a plain loop over the audit log)."""
    fees: dict[int, tuple[str, float]] = {}
    paid: dict[int, float] = {}
    for line in audit.read_text().splitlines():
        record = json.loads(line)
        if record.get("record") != "publish":
            continue
        if record["type"] == "FeeEvent" and record["data"]["model"] == model:
            fees[record["id"]] = (record["time"][:10], record["data"]["amount"])
        elif record["type"] == "NoticeEvent" and record["data"]["code"] == "fee_owed":
            paid[record["cause"]] = record["data"]["details"]["paid"]
    return [(day, paid.get(fee_id, amount)) for fee_id, (day, amount) in fees.items()]


def paid_fees(audit: Path, model: str) -> float:
    """What the book paid for ``model`` over the run."""
    return math.fsum(amount for _, amount in fee_payments(audit, model))


@pytest.fixture(scope="module")
def extra(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """scenarios/extra_handler.toml run with `eventbt run --out`, and its costs worked out independently."""
    out = tmp_path_factory.mktemp("extra") / "run"
    printed = run_cli("run", str(EXTRA), "--out", str(out), "--quiet")
    trades = pd.read_csv(out / "trades.csv", parse_dates=["date"])
    buys = trades[trades["side"] == "BUY"]
    costs = {
        "commission": math.fsum(trades["commission"]),
        "slippage": math.fsum(trades["slippage"]),
        "management_fee": paid_fees(out / "audit.jsonl", "management_fee"),
        # the scenario's stamp duty: 0.5% of the value of every buy fill
        "stamp_duty": 0.005 * math.fsum(buys["quantity"] * buys["price"]),
    }
    costs["total"] = math.fsum(costs.values())
    return {"out": out, "printed": printed, "trades": trades, "costs": costs}


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario of the user's with their own fee handler (a module of theirs), run with `eventbt run --out`."""
    folder = tmp_path_factory.mktemp("user")
    (folder / "user_fees.py").write_text(textwrap.dedent(USER_MODULE))
    scenario = folder / "user.toml"
    scenario.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                        '[scenario]\nname = "user_fee"\n'
                        '[[handlers]]\nname = "user_fees:Custody"\nparams = { monthly_amount = 25.0 }\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        run_cli("run", str(scenario), "--out", str(folder / "run"), "--quiet")
    return folder / "run"


def money(value: float) -> str:
    return format_value(value, "money")


def test_independent_costs_are_the_reviewers_figures(extra: dict[str, Any]) -> None:
    """The costs worked out here round to the figures of the user-journey review (2026-11-30), plus the last
    part-month of the management fee, which the review's run never charged (the fee was settled only at the
    next month's first bar; it is now charged when the data ends): about a month of 1% a year on ~100,000."""
    costs = extra["costs"]
    import orjson

    final = [orjson.loads(line)["data"]["amount"] for line in (extra["out"] / "audit.jsonl").read_bytes().splitlines()
             if b'"type":"FeeEvent"' in line and b"accrued to the end of the data" in line]
    assert len(final) == 1 and 0.9 * 100_000 * 0.01 / 12 < final[0] < 1.1 * 100_000 * 0.01 / 12
    before_the_end = costs["management_fee"] - final[0]
    assert [round(costs[name], 2) for name in ("commission", "slippage", "stamp_duty")] == [481.92, 1886.42, 9627.59]
    assert round(before_the_end, 2) == 2862.21
    assert round(costs["total"] - final[0], 2) == 14858.13


def test_run_prints_every_cost_model_and_the_total(extra: dict[str, Any]) -> None:
    """`eventbt run` prints commission, slippage, a line per fee model and the total costs."""
    rows, costs = label_values(extra["printed"]), extra["costs"]
    assert rows["Total commission"] == [money(costs["commission"])]
    assert rows["Total slippage"] == [money(costs["slippage"])]
    assert rows["Fee: management_fee"] == [money(costs["management_fee"])]
    assert rows["Fee: stamp_duty"] == [money(costs["stamp_duty"])]
    assert rows["Total costs"] == [money(costs["total"])]


def test_show_has_every_cost_model_in_its_costs_block(extra: dict[str, Any]) -> None:
    """`eventbt show` lists the fee models and the total under Costs, and prints figures as `run` does."""
    printed = run_cli("show", str(extra["out"]))
    costs_block = printed[printed.index(" Costs"):]
    rows, costs = label_values(costs_block), extra["costs"]
    for label, name in (("Fee: management_fee", "management_fee"), ("Fee: stamp_duty", "stamp_duty"),
                        ("Total costs", "total"), ("Total commission", "commission")):
        assert rows[label] == [money(costs[name])], label
    # One number format across views: every figure `run` printed reads the same in `show`.
    run_rows, show_rows = label_values(extra["printed"]), label_values(printed)
    for label in ("Final value", "Total return", "CAGR", "Money-weighted return", "Max drawdown", "Total costs"):
        assert run_rows[label] == show_rows[label], label


def test_compare_has_a_row_per_fee_model_of_any_run(extra: dict[str, Any], user: Path) -> None:
    """`eventbt compare` has one row per fee model of either run (n/a where a run has none) and the totals."""
    rows, costs = label_values(run_cli("compare", str(extra["out"]), str(user))), extra["costs"]
    custody = paid_fees(user / "audit.jsonl", "custody")
    assert custody == 35 * 25.0  # 36 months of data: a new month starts 35 times
    assert rows["Fee: management_fee"] == [money(costs["management_fee"]), "n/a"]
    assert rows["Fee: stamp_duty"] == [money(costs["stamp_duty"]), "n/a"]
    assert rows["Fee: custody"] == ["n/a", money(custody)]
    user_trades = pd.read_csv(user / "trades.csv")
    user_total = math.fsum([*user_trades["commission"], *user_trades["slippage"], custody])
    assert rows["Total costs"] == [money(costs["total"]), money(user_total)]


def test_report_shows_every_cost_model(extra: dict[str, Any]) -> None:
    """The report's metrics table, cost-model table and by-year table hold every fee model, and its costs
    chart stacks one series per cost model."""
    page = render_html(load_run(extra["out"]))
    costs = extra["costs"]

    def table(kind: str) -> dict[str, list[str]]:
        found = re.search(rf'data-table="{kind}">(.*?)</table>', page, flags=re.S)
        assert found is not None, kind
        cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", found.group(1))]
        return {row[0]: row[1:] for row in cells if row}

    metrics = table("metrics-costs")
    assert metrics["Fee: management_fee"] == [money(costs["management_fee"])]
    assert metrics["Fee: stamp_duty"] == [money(costs["stamp_duty"])]
    assert metrics["Total costs"] == [money(costs["total"])]
    models = table("costs-models")
    assert [models[name][0] for name in ("Commission", "Slippage", "Fee: management_fee", "Fee: stamp_duty", "Total")] \
        == [money(costs[n]) for n in ("commission", "slippage", "management_fee", "stamp_duty", "total")]
    by_year = table("costs-year")
    header = by_year.pop("Year")
    column = header.index("Fee: stamp_duty")
    stamp = math.fsum(float(cells[column].replace(",", "")) for cells in by_year.values())
    assert stamp == pytest.approx(costs["stamp_duty"], abs=0.005 * len(by_year))
    chart = page[page.index('data-chart="costs"'):]
    chart = chart[:chart.index("</svg>")]
    assert re.findall(r'data-series="([^"]+)"', chart) == ["commission", "slippage", "management_fee", "stamp_duty"]
    assert f"Total costs {money(costs['total'])}" in page


def test_fees_on_a_rebalance_date_belong_to_that_rebalance(extra: dict[str, Any]) -> None:
    """Per rebalance, the fees are those booked on its date or caused by its fills: every stamp duty, and the
    management fees that fell on a date with fills; the rebalance rows of the report add up to them."""
    trades, costs = extra["trades"], extra["costs"]
    fill_days = set(trades["date"].dt.strftime("%Y-%m-%d"))
    management_on_fill_days = math.fsum(amount for day, amount in
                                        fee_payments(extra["out"] / "audit.jsonl", "management_fee")
                                        if day in fill_days)
    run = load_run(extra["out"])
    table = rebalance_costs(run)
    assert math.fsum(table["fee:stamp_duty"]) == pytest.approx(costs["stamp_duty"], rel=1e-9)
    assert math.fsum(table["fee:management_fee"]) == pytest.approx(management_on_fill_days, rel=1e-9)
    assert 0 < management_on_fill_days < costs["management_fee"]
    page = render_html(run)
    shown = [float(v.replace(",", "")) for v in
             re.findall(r'<span class="num">([-0-9,.]+)</span></summary>', page)]
    expected = costs["commission"] + costs["slippage"] + costs["stamp_duty"] + management_on_fill_days
    assert math.fsum(shown) == pytest.approx(expected, abs=0.005 * len(shown))


def test_sweep_results_have_a_column_per_fee_model(extra: dict[str, Any], tmp_path: Path) -> None:
    """A sweep's results have one column per fee model and total_costs, at full precision in results.csv."""
    result = sweep(EXTRA, ["strategy.params.top_n=2"], executor=SerialExecutor(), out=tmp_path, heatmap=False)
    csv = pd.read_csv(tmp_path / "results.csv")
    columns = list(csv.columns)
    assert columns.index("total_slippage") < columns.index("fee:management_fee") < columns.index("fee:stamp_duty") \
        < columns.index("total_costs")
    costs = extra["costs"]
    row = csv.iloc[0]
    assert row["fee:management_fee"] == pytest.approx(costs["management_fee"], rel=1e-12)
    assert row["fee:stamp_duty"] == pytest.approx(costs["stamp_duty"], rel=1e-12)
    assert row["total_costs"] == pytest.approx(costs["total"], rel=1e-12)
    summary = json.loads((extra["out"] / "summary.json").read_text())
    assert row["digest"] == summary["digest"] and row["total_return"] == summary["total_return"]
    assert list(result.table.columns) == columns


def test_sweep_ranks_by_total_costs_with_a_user_fee_handler(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's fee model gets its own column, and total_costs ranks low to high."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "user_fees.py").write_text(textwrap.dedent(USER_MODULE))
    scenario = tmp_path / "user.toml"
    scenario.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                        '[[handlers]]\nname = "user_fees:Custody"\nparams = { monthly_amount = 25.0 }\n')
    table = sweep(scenario, ["strategy.params.top_n=1,2"], executor=SerialExecutor(), rank_by="total_costs").table
    assert list(table["fee:custody"]) == [875.0, 875.0]
    assert table["total_costs"].iloc[0] <= table["total_costs"].iloc[1]
    for _, row in table.iterrows():
        assert row["total_costs"] == pytest.approx(row["total_commission"] + row["total_slippage"] + 875.0,
                                                   rel=1e-12)


def test_a_stamp_duty_booked_the_next_bar_belongs_to_the_rebalance_of_its_buy(tmp_path: Path) -> None:
    """Under same_close a buy's stamp duty is booked at the next bar; the report puts it on the buy's date."""
    import numpy as np

    from eventbt.prices import PriceData
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import Simulation
    from handlers.fees import StampDuty

    dates = np.array(["2024-01-05", "2024-01-08", "2024-01-09"], dtype="datetime64[ns]")
    close = np.full((3, 1), 10.0)
    raw = {"scenario": {"name": "duty"}, "data": {"path": "unused.csv"}, "portfolio": {"initial_cash": 10_000.0},
           "strategy": {"name": "static_weights", "params": {"weights": {"A": 0.5}}},
           "schedule": {"dates": ["2024-01-05"]}, "execution": {"commission": {"model": "zero"}}}
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=tmp_path),
                            prices=PriceData(dates=dates, symbols=("A",), close=close), extra_handlers=[StampDuty()])
    result = simulation.run()
    assert result is not None
    result.write(tmp_path / "run")
    run = load_run(tmp_path / "run")
    # 500 shares bought at 10.00 on 2024-01-05 pay 0.5% of 5,000.00 = 25.00, booked on 2024-01-08.
    assert list(run.fees["date"].dt.strftime("%Y-%m-%d")) == ["2024-01-08"]
    table = rebalance_costs(run)
    assert list(table.index.strftime("%Y-%m-%d")) == ["2024-01-05"]
    assert table["fee:stamp_duty"].tolist() == [pytest.approx(25.0)]
    assert table["total"].tolist() == [pytest.approx(25.0)]  # no commission, no slippage
