"""eventbt verify of a margin account: a doctored fee, margin call, order or exposure cell is found and named."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.replays.books import BooksError, rebuild_books
from eventbt.replays.margin_books import MarginChecks, built_in_models
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import load_scenario_prices

# A 2.5x long of A with a short of B; A falls to 7.60 on Wednesday: a margin call. Borrow and financing accrue.
PRICES = ["date,A,B", "2024-01-05,10,10", "2024-01-08,10,10", "2024-01-10,7.6,10", "2024-01-11,7.6,10"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScenarioConfig]:
    folder = tmp_path_factory.mktemp("margin")
    (folder / "prices.csv").write_text("\n".join(PRICES) + "\n")
    raw = {"scenario": {"name": "margin"}, "data": {"path": "prices.csv"},
           "portfolio": {"initial_cash": 10_000.0, "allow_short": True, "max_gross": 2.8, "financing_rate": 0.05,
                         "borrow_rate": 0.01, "maintenance_margin": 0.25},
           "strategy": {"name": "static_weights", "params": {"weights": {"A": 2.5, "B": -0.3}}},
           "schedule": {"dates": ["2024-01-05"]},
           "execution": {"commission": {"model": "fixed", "amount": 1.0}, "slippage": {"model": "fixed_bps",
                                                                                       "bps": 10.0}}}
    config = ScenarioConfig.from_dict(raw, base_dir=folder)
    eventbt.run(config, out=folder / "run")
    return folder / "run", config


def _records(folder: Path) -> list[dict[str, Any]]:
    from eventbt.audit import read_audit

    return [dict(r) for r in read_audit(folder / "audit.jsonl")]


def _rebuild(records: list[dict[str, Any]], config: ScenarioConfig) -> None:
    prices = load_scenario_prices(config, base_dir=config.base_dir)
    margin = MarginChecks(config.portfolio, prices, built_in_models(config.execution))
    rebuild_books(records, prices=prices, initial_cash=config.portfolio.initial_cash, next_open=False,
                  margin=margin)


def test_the_run_has_every_kind_of_record_and_verifies(run: tuple[Path, ScenarioConfig]) -> None:
    """The run has financing and borrow fees, a margin call with its orders, and verify agrees with all of it."""
    folder, config = run
    kinds = {(r.get("type"), r.get("by")) for r in _records(folder)}
    assert {("FeeEvent", "financing"), ("FeeEvent", "borrow"), ("MarginCallEvent", "margin"),
            ("OrderEvent", "margin")} <= kinds
    report = eventbt.verify_run(folder)
    assert report.ok, str(report.disagreement)
    assert report.checked[-1] == "margin"
    _rebuild(_records(folder), config)  # and the untouched log rebuilds without a complaint


def _first(records: list[dict[str, Any]], kind: str, by: str) -> dict[str, Any]:
    return next(r for r in records if r.get("type") == kind and r.get("by") == by)


def _set(kind: str, by: str, key: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(records: list[dict[str, Any]]) -> None:
        _first(records, kind, by)["data"][key] = value
    return change


def _drop(kind: str, by: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(records: list[dict[str, Any]]) -> None:
        records.remove(_first(records, kind, by))
    return change


DOCTORED = [
    ("a borrow fee too small", _set("FeeEvent", "borrow", "amount", 0.01), "fees", "FeeEvent #"),
    ("a financing fee missing", _drop("FeeEvent", "financing"), "fees", "the financing fee"),
    ("a margin call missing", _drop("MarginCallEvent", "margin"), "margin", "a MarginCallEvent"),
    ("a margin call's quantities", _set("MarginCallEvent", "margin", "quantities", {"A": -1}), "margin",
     "quantities"),
    ("a margin call's fraction", _set("MarginCallEvent", "margin", "fraction", 0.5), "margin", "fraction"),
    ("a margin call's costs", _set("MarginCallEvent", "margin", "expected_costs", 0.0), "margin", "expected_costs"),
    ("a liquidation order's size", _set("OrderEvent", "margin", "quantity", 1), "margin", "OrderEvent #"),
]


@pytest.mark.parametrize(("change", "check", "where"), [c[1:] for c in DOCTORED], ids=[c[0] for c in DOCTORED])
def test_a_doctored_log_is_found(run: tuple[Path, ScenarioConfig], change: Callable[[list[dict[str, Any]]], None],
                                 check: str, where: str) -> None:
    """The books rebuilt from a log with one margin record changed disagree, naming the check and the record."""
    folder, config = run
    records = copy.deepcopy(_records(folder))
    change(records)
    with pytest.raises(BooksError) as caught:
        _rebuild(records, config)
    assert caught.value.check == check
    assert where in str(caught.value)


@pytest.mark.parametrize(("file", "column"), [("equity.csv", "short_value"), ("weights.csv", "gross")])
def test_a_doctored_exposure_cell_is_found(run: tuple[Path, ScenarioConfig], tmp_path: Path, file: str,
                                           column: str) -> None:
    """An exposure column changed in a copy of the folder: verify names the file, row 1 and the column."""
    import shutil

    folder, _ = run
    copied = tmp_path / "copy"
    shutil.copytree(folder, copied)
    lines = (copied / file).read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index(column)] = "123.0"
    (copied / file).write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    report = eventbt.verify_run(copied)
    assert report.disagreement is not None
    assert (report.disagreement.file, report.disagreement.row, report.disagreement.column) == (file, 1, column)


def test_a_margin_call_sizes_its_costs_with_a_model_that_takes_the_order(tmp_path: Path) -> None:
    """With sec_fee (sales only, it reads the order's side) the call's expected costs are its sales' fee plus
    slippage, worked by hand from its quantities and the bar's closes, and verify recomputes the same."""
    (tmp_path / "prices.csv").write_text("\n".join(PRICES) + "\n")
    raw = {"scenario": {"name": "margin_sec"}, "data": {"path": "prices.csv"},
           "portfolio": {"initial_cash": 10_000.0, "allow_short": True, "max_gross": 2.8,
                         "maintenance_margin": 0.25},
           "strategy": {"name": "static_weights", "params": {"weights": {"A": 2.5, "B": -0.3}}},
           "schedule": {"dates": ["2024-01-05"]},
           "execution": {"commission": {"model": "sec_fee", "rate": 0.001},
                         "slippage": {"model": "fixed_bps", "bps": 10.0}}}
    config = ScenarioConfig.from_dict(raw, base_dir=tmp_path)
    eventbt.run(config, out=tmp_path / "run")
    calls = [r["data"] for r in _records(tmp_path / "run") if r.get("type") == "MarginCallEvent"]
    # 5 January: B short 300 (trunc(3,000 / 10)) sold at 9.99, fee 0.001 x 2,997 = 2.997; A bought
    # floor(25,000 / 10.01) = 2,497 at 10.01 = 24,994.97; cash 10,000 + 2,997 - 2.997 - 24,994.97 = -12,000.967.
    # 10 January, A at 7.60: E = -12,000.967 + 2,497 x 7.6 - 300 x 10 = 3,976.233, G = 18,977.2 + 3,000 =
    # 21,977.2, m x G = 5,494.3 > E: a call. f = 1 - E / (m G) = 0.276298 asks ceil(f x 2,497) = 690 and
    # ceil(f x 300) = 83, costing 690 x 0.0076 + 0.001 x 690 x 7.5924 + 83 x 0.01 = 11.3128; f = 1 - (E - C) /
    # (m G) = 0.278357 asks 696 and 84, costing C = 696 x 0.0076 + 0.001 x 696 x 7.5924 + 84 x 0.01 = 11.41391;
    # f = 0.278376 asks 696 and 84 again: the fixed point.
    assert len(calls) == 1
    call = calls[0]
    assert call["quantities"] == {"A": -696, "B": 84}
    expected = 696 * (7.6 - 7.5924) + 0.001 * 696 * 7.5924 + 84 * (10.01 - 10.0)
    assert call["expected_costs"] == pytest.approx(expected, rel=1e-9)
    assert call["fraction"] == pytest.approx(1 - (3_976.233 - expected) / (0.25 * 21_977.2), rel=1e-9)
    report = eventbt.verify_run(tmp_path / "run")
    assert report.ok, str(report.disagreement)
