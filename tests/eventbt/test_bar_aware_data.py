"""A bar-aware slippage model on data without the columns it reads is refused by `eventbt run` and `validate`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from eventbt.cli import main
from eventbt.data.fit import check_bar_data
from eventbt.errors import ScenarioError
from eventbt.protocols import BarContext, bar_columns_needed
from eventbt.scenario.validate import validate

ROOT = Path(__file__).resolve().parents[2]

CLOSE_ONLY = "date,A,B\n2024-01-02,10.0,20.0\n2024-01-03,10.5,19.5\n2024-01-04,11.0,19.0\n"
SCENARIO = """\
[data]
path = "prices.csv"
format = "wide"

[strategy]
name = "static_weights"

[strategy.params]
weights = { A = 0.5, B = 0.5 }

[execution.slippage]
model = "{model}"
"""

MESSAGES = {
    "sqrt_impact": "model 'sqrt_impact' needs volumes, but prices.csv has none",
    "volume_share": "model 'volume_share' needs volumes, but prices.csv has none",
    "half_spread": "model 'half_spread' needs high and low prices, but prices.csv has none",
}


def _scenario(tmp_path: Path, model: str) -> Path:
    (tmp_path / "prices.csv").write_text(CLOSE_ONLY)
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.replace("{model}", model))
    return path


@pytest.mark.parametrize("model", sorted(MESSAGES))
def test_run_refuses_a_bar_aware_model_on_close_only_data(tmp_path: Path, model: str, capsys) -> None:  # type: ignore[no-untyped-def]
    """`eventbt run` exits 2 with one line naming the model, the missing column and the data file."""
    path = _scenario(tmp_path, model)
    assert main(["run", str(path), "--quiet"]) == 2
    error = [line for line in capsys.readouterr().err.splitlines() if line.startswith("eventbt: error:")]
    assert error == [f"eventbt: error: {path}: [execution.slippage] {MESSAGES[model]} (use a file with those "
                     "columns, or a model that needs no bar such as fixed_bps)"]


@pytest.mark.parametrize("model", sorted(MESSAGES))
def test_validate_reports_a_bar_aware_model_on_close_only_data(tmp_path: Path, model: str) -> None:
    """`eventbt validate` lists the same problem (it said "valid" before)."""
    path = _scenario(tmp_path, model)
    report = validate(path)
    assert not report.ok
    assert [problem for problem in report.problems if "[execution.slippage]" in problem] == [
        f"{path}: [execution.slippage] {MESSAGES[model]} (use a file with those columns, or a model that needs no "
        "bar such as fixed_bps)"]
    assert main(["validate", str(path)]) == 1


def test_the_same_models_are_valid_on_ohlcv_data() -> None:
    """On the zipline OHLCV files every bar-aware model has what it reads, and the bundled scenario validates."""
    for model in sorted(MESSAGES):
        report = validate(ROOT / "scenarios" / "ema_next_open.toml", [f"execution.slippage.model={model}"])
        assert report.ok, report.problems


class NeedsOpen:
    """A custom bar-aware model that declares the one field it reads."""

    bar_fields: ClassVar[tuple[str, ...]] = ("fill_open",)

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: BarContext | None = None) -> float:
        return reference_price


class Undeclared:
    """A bar-aware model that declares nothing: not checked."""

    def fill_price(self, side: int, reference_price: float, quantity: int, *, bar: BarContext | None = None) -> float:
        return reference_price


class Misspelt:
    """A model naming a field BarContext does not have."""

    bar_fields: ClassVar[tuple[str, ...]] = ("volumes",)


def test_detection_is_generic_from_the_declared_bar_fields() -> None:
    """Any model's bar_fields map to data columns; groups are alternatives; a bad field name is an error."""
    assert bar_columns_needed(NeedsOpen()) == (("open",),)
    assert bar_columns_needed(Undeclared()) == ()
    from eventbt.costs.impact import HalfSpreadSlippage, SqrtImpactSlippage

    assert bar_columns_needed(SqrtImpactSlippage()) == (("close", "volume"),)
    assert bar_columns_needed(HalfSpreadSlippage()) == (("spread",), ("high", "low"))
    check_bar_data(Undeclared(), ("close",), reference="m:Undeclared", data_path="p.csv", path=None)
    check_bar_data(NeedsOpen(), ("close", "open"), reference="m:NeedsOpen", data_path="p.csv", path=None)
    with pytest.raises(ScenarioError, match=r"^\[execution.slippage\] model 'm:NeedsOpen' needs open prices, but "
                                            r"p.csv has none") as info:
        check_bar_data(NeedsOpen(), ("close",), reference="m:NeedsOpen", data_path="p.csv", path=None)
    assert (info.value.table, info.value.key) == ("execution.slippage", "model")
    with pytest.raises(ScenarioError, match=r"model 'm:Misspelt' bar_fields names 'volumes', which is not a "
                                            r"BarContext field"):
        check_bar_data(Misspelt(), ("close",), reference="m:Misspelt", data_path="p.csv", path=None)
