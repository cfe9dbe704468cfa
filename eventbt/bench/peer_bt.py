"""The rotation workload written for bt (https://pmorissette.github.io/bt/), the peer ``eventbt bench`` times.

It is the same strategy in bt's own idiom, as a bt user would write it: the two EMAs computed up front with
pandas (``ewm(span, adjust=False)``, the formula of ``strategies/ema_allocation.py``), an algo that picks the
``top_n`` symbols whose fast/slow ratio is above 1 from the bar ``slow_span - 1`` on, ``RunMonthly`` at the
last bar of each month, ``WeighEqually`` and ``Rebalance`` with whole shares and the per-share commission
(0.005 a share, at least 1.00, at most 1% of the trade). What bt does not model is left out rather than
imitated: slippage (bt has none), eventbt's sell-first order and its cash scaling (bt's ``Rebalance`` closes
what is not wanted and sizes each target on the strategy's value). So the picks are the same at every
rebalance (``tests/eventbt/test_bench.py`` checks it) while the equity is not; the benchmark compares the time
the two take for the same decisions on the same data, and says so.

bt is imported only here (``pip install bt``; the ``test`` extra installs it).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["bt_available", "bt_rotation"]


def bt_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("bt") is not None


def bt_rotation(close: np.ndarray, dates: np.ndarray, *, initial_cash: float, fast_span: int, slow_span: int,
                top_n: int, per_share: float, minimum: float, max_pct: float) -> Any:
    """Run the rotation in bt on ``close`` (bars x symbols, no NaN) and return bt's result (``bt.backtest.Result``);
    its picks at each rebalance are in ``result.picks`` (``{bar: [symbols]}``, each bar an index of ``dates``). The
    rules are the benchmark's (:func:`eventbt.bench.workloads.bt_rules`)."""
    import bt
    import pandas as pd

    symbols = [f"S{j:04d}" for j in range(close.shape[1])]
    frame = pd.DataFrame(close, index=pd.DatetimeIndex(dates), columns=symbols)
    score = frame.ewm(span=fast_span, adjust=False).mean() / frame.ewm(span=slow_span, adjust=False).mean() - 1.0
    scores = score.to_numpy()
    position = {day: i for i, day in enumerate(frame.index)}
    picks: dict[int, list[str]] = {}

    class SelectTopPositive(bt.Algo):  # type: ignore[misc]  # bt is untyped
        """The ``top_n`` largest positive scores (ties to the earlier symbol), from the first warm bar."""

        def __call__(self, target: Any) -> bool:
            i = position[target.now]
            if i + 1 < slow_span:
                return False
            row = scores[i]
            candidates = np.flatnonzero(row > 0)
            chosen = [symbols[j] for j in candidates[np.lexsort((candidates, -row[candidates]))][:top_n].tolist()]
            picks[i] = chosen
            target.temp["selected"] = chosen
            return True

    def commission(quantity: float, price: float) -> float:
        shares = abs(quantity)
        return min(max(minimum, per_share * shares), max_pct * shares * price) if shares else 0.0

    strategy = bt.Strategy("rotation", [
        bt.algos.RunMonthly(run_on_first_date=False, run_on_end_of_period=True, run_on_last_date=True),
        SelectTopPositive(), bt.algos.WeighEqually(), bt.algos.Rebalance()])
    backtest = bt.Backtest(strategy, frame, initial_capital=initial_cash, integer_positions=True,
                           commissions=commission, progress_bar=False)
    with warnings.catch_warnings():
        # bt and ffn call pandas in ways newer pandas warns about (infer_freq, ...): their notices, not ours.
        warnings.simplefilter("ignore")
        result = bt.run(backtest)
    result.picks = picks
    return result
