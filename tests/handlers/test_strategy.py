"""The strategy handler's checks of a generator's targets, and what it says when a generator fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.errors import HandlerError, SignalError
from eventbt.prices import PriceData
from eventbt.simulation import Simulation
from tests.handlers.strategy_fixtures import RETURNS
from tests.properties.scripted import scripted_config

DATES = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
CLOSE = np.array([[10.0, 20.0], [10.0, 20.0]])


def _run(case: str, *, fail_in: str = "", **tables: Any) -> Simulation:
    """A daily run on A (10.00) and B (20.00), zero costs, of the fixture strategy returning ``case``'s targets
    (``fail_in``: raising in that method); ``tables`` replace the scenario's tables."""
    prices = PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE)
    config = scripted_config({}, data={"path": "prices.csv"},
                             strategy={"name": RETURNS, "params": {"case": case, "fail_in": fail_in}}, **tables)
    simulation = Simulation(config, prices=prices)
    simulation.run()
    return simulation


def _cause(case: str, *, fail_in: str = "", **tables: Any) -> BaseException:
    """The error a run of ``case`` stops with, as the strategy handler raised it."""
    with pytest.raises(HandlerError) as caught:
        _run(case, fail_in=fail_in, **tables)
    assert caught.value.__cause__ is not None
    return caught.value.__cause__


def test_numpy_str_keys_become_the_data_symbols() -> None:
    """Weights keyed by numpy.str_ are published under the data's plain str names, and the audit log renders.

    0.5 of 100,000 in A at 10.00 buys 5,000 shares, as with a plain 'A' key.
    """
    simulation = _run("numpy_str")
    signals = [event for event in simulation.bus.events.values() if event.kind == "SignalEvent"]
    assert [[type(key) for key in signal.weights] for signal in signals] == [[str], [str]]
    assert simulation.result().complete
    assert simulation.audit.records()[-1]["status"] == "completed"
    assert simulation.result().trades["quantity"].tolist() == [5_000]  # the second day: holds 0.5 already


@pytest.mark.parametrize(("case", "shown"), [
    ("text", "'0.5'"), ("numpy_str_weight", "np.str_('0.5')"), ("bytes", "b'0.5'"),
    ("bool", "True"), ("numpy_bool", "np.True_"),
])
def test_text_and_bools_are_not_numbers(case: str, shown: str) -> None:
    """Text and bools are refused as weights with the documented message, though float() would take them."""
    cause = _cause(case)
    assert str(cause) == f"strategy '{RETURNS}' on 2020-01-02: weight for 'A' is {shown}, not a number"


@pytest.mark.parametrize(("case", "quantities"), [
    ("numpy_float", [2_500, 1_250]),  # 0.25 of 100,000: 2,500 A at 10.00 and 1,250 B at 20.00
    ("decimal", [2_500]), ("fraction", [2_500]),  # 0.25 of 100,000 in A at 10.00
    ("int", [5_000]),  # all of 100,000 in B at 20.00; A's 0 is no position
    ("numpy_int", []),  # a weight of 0: nothing bought
])
def test_numbers_of_other_types_are_taken_as_the_float_they_equal(case: str, quantities: list[int]) -> None:
    """numpy floats and ints, Decimal, Fraction and int weights trade as the float weights they equal."""
    trades = _run(case).result().trades
    assert trades["quantity"].tolist() == quantities


def test_weights_too_large_to_add_up_are_a_sum_of_inf() -> None:
    """1e308 + 1e308 is beyond the largest float (about 1.8e308): the sum is refused as inf, not an OverflowError."""
    cause = _cause("huge")
    assert str(cause) == (f"strategy '{RETURNS}' on 2020-01-02: weights sum to inf; expected at most 1 "
                          "(the rest is cash)")


def test_weights_too_large_to_add_up_are_refused_under_limits_too() -> None:
    """With [portfolio] limits the gross 1e308 + 1e308 cannot be scaled down (it is inf): refused, not sold off."""
    cause = _cause("huge", portfolio={"initial_cash": 100_000.0, "allow_short": True, "max_gross": 2.0})
    assert str(cause) == (f"strategy '{RETURNS}' on 2020-01-02: weights sum to inf in absolute value; expected a "
                          "finite sum (which [portfolio] max_gross and max_net then limit)")


@pytest.mark.parametrize(("fail_in", "schedule", "date"), [
    ("target_weights", {"rebalance": "daily"}, "2020-01-02"),
    ("update", {"rebalance": "daily"}, "2020-01-03"),  # bar 1, a rebalance bar
    ("update", {"dates": ["2020-01-02"]}, "2020-01-03"),  # bar 1, a quiet bar (no rebalance)
])
def test_a_strategy_that_raises_is_named_with_its_method_and_date(fail_in: str, schedule: dict[str, Any],
                                                                  date: str) -> None:
    """A KeyError inside the strategy is a SignalError naming the strategy, the method and the date, with the
    KeyError's type and message, and the KeyError as its cause; the caller still gets a HandlerError."""
    cause = _cause("int", fail_in=fail_in, schedule=schedule)
    assert str(cause) == (f"strategy '{RETURNS}' on {date}: {fail_in}(view) raised KeyError: 'missing state' "
                          "(eventbt run --debug shows where)")
    assert isinstance(cause, SignalError) and (cause.strategy, cause.date) == (RETURNS, date)
    assert isinstance(cause.__cause__, KeyError)


def test_debug_prints_the_strategy_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt run --debug` prints the traceback down to the strategy's own line that raised."""
    pd.DataFrame({"A": [10.0, 10.0]}, index=pd.Index(["2020-01-02", "2020-01-03"], name="date")).to_csv(
        tmp_path / "prices.csv")
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[data]\npath = "prices.csv"\n[strategy]\nname = "{RETURNS}"\n[strategy.params]\n'
                        'case = "int"\nfail_in = "target_weights"\n[schedule]\nrebalance = "daily"\n')
    assert main(["run", str(scenario), "--quiet", "--debug"]) == 2
    err = capsys.readouterr().err
    assert 'raise KeyError("missing state")' in err and "strategy_fixtures.py" in err
    assert err.splitlines()[-1].startswith(f"eventbt: error: handler 'strategy' raised SignalError: strategy "
                                           f"'{RETURNS}' on 2020-01-02: target_weights(view) raised KeyError")


@pytest.mark.parametrize(("case", "got"), [("series", "Series (return series.to_dict())"), ("array", "ndarray")])
def test_targets_that_are_no_mapping_are_refused_with_a_hint_for_a_series(case: str, got: str) -> None:
    """A pandas Series is refused (it is no Mapping) with the hint to convert it; an array gets no such hint."""
    assert str(_cause(case)) == (f"strategy '{RETURNS}' on 2020-01-02: target weights must be a mapping of symbol "
                                 f"to weight, got {got}")


def _left_out(tmp_path: Path, *, from_file: bool) -> str:
    """The message for a target on C, in prices.csv (A, B, C) but left out by [data] symbols = ["A", "B"]; the
    prices read from the file, or passed as the file's DataFrame."""
    frame = pd.DataFrame({"A": [10.0, 10.0], "B": [20.0, 20.0], "C": [30.0, 30.0]},
                         index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="date"))
    frame.to_csv(tmp_path / "prices.csv")
    config = scripted_config({}, data={"path": "prices.csv", "symbols": ["A", "B"]},
                             strategy={"name": RETURNS, "params": {"case": "symbol_c"}})
    config = attrs.evolve(config, base_dir=tmp_path)
    with pytest.raises(HandlerError) as caught:
        Simulation(config, prices=None if from_file else frame).run()
    return str(caught.value.__cause__)


@pytest.mark.parametrize("from_file", [True, False])
def test_a_symbol_left_out_by_data_symbols_is_named_as_such(tmp_path: Path, from_file: bool) -> None:
    """C is in the data: [data] symbols leaves it out, whether the prices come from the file or from the file's
    frame (which [data] symbols cuts alike), and the message says so and to add it there."""
    assert _left_out(tmp_path, from_file=from_file) == (
        f"strategy '{RETURNS}' on 2020-01-02: target weight for 'C', which [data] symbols leaves out: add 'C' to "
        "[data] symbols")
