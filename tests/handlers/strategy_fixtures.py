"""Strategies that return what a user's strategy might, for tests/handlers/test_strategy.py.

Each is named in a scenario as ``tests.handlers.strategy_fixtures:Returns`` with ``case`` choosing the targets,
so the scenario (and the audit log's header) holds only the plain text of the case.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

RETURNS = "tests.handlers.strategy_fixtures:Returns"

CASES: dict[str, Any] = {
    "numpy_str": {np.str_("A"): 0.5},
    "text": {"A": "0.5"},
    "bool": {"A": True},
    "numpy_bool": {"A": np.True_},
    "numpy_str_weight": {"A": np.str_("0.5")},
    "bytes": {"A": b"0.5"},
    "numpy_float": {"A": np.float64(0.25), "B": np.float32(0.25)},
    "numpy_int": {"A": np.int64(0)},
    "decimal": {"A": Decimal("0.25")},
    "fraction": {"A": Fraction(1, 4)},
    "int": {"A": 0, "B": 1},
    "huge": {"A": 1e308, "B": 1e308},
    "symbol_c": {"C": 0.5},
    "series": pd.Series({"A": 0.5}),
    "array": np.array([0.5, 0.0]),
}


class Returns:
    """Returns ``CASES[case]`` on every rebalance; with ``fail_in``, raises a KeyError in that method instead."""

    def __init__(self, case: str = "numpy_str", fail_in: str = "") -> None:
        self.case = case
        self.fail_in = fail_in

    def update(self, view: Any) -> None:
        if self.fail_in == "update" and view.bar == 1:
            raise KeyError("missing state")

    def target_weights(self, view: Any) -> Any:
        if self.fail_in == "target_weights":
            raise KeyError("missing state")
        return CASES[self.case]
