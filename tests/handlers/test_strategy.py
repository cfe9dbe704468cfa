"""The strategy handler's checks of a generator's targets, and what it says when a generator fails."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eventbt.errors import HandlerError
from eventbt.prices import PriceData
from eventbt.simulation import Simulation
from tests.handlers.strategy_fixtures import RETURNS
from tests.properties.scripted import scripted_config

DATES = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
CLOSE = np.array([[10.0, 20.0], [10.0, 20.0]])


def _run(case: str, **params: Any) -> Simulation:
    """A daily run on A (10.00) and B (20.00), zero costs, of the fixture strategy returning ``case``'s targets."""
    prices = PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE)
    config = scripted_config({}, data={"path": "prices.csv"},
                             strategy={"name": RETURNS, "params": {"case": case, **params}})
    simulation = Simulation(config, prices=prices)
    simulation.run()
    return simulation


def _cause(case: str, **params: Any) -> BaseException:
    """The error a run of ``case`` stops with, as the strategy handler raised it."""
    with pytest.raises(HandlerError) as caught:
        _run(case, **params)
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
