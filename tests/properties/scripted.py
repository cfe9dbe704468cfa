"""Test helpers: a scripted signal generator and small random price panels built directly with numpy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig

SCRIPTED = "tests.properties.scripted:ScriptedWeights"


class ScriptedWeights:
    """Targets read from a script: ``targets[str(bar)]`` on those bars, nothing on others.

    ``fail_at`` lists bars whose ``target_weights`` raises a ValueError (a faulty strategy).
    """

    def __init__(self, targets: Mapping[str, Mapping[str, float]] | None = None,
                 fail_at: Sequence[int] = ()) -> None:
        self.targets = {int(bar): dict(weights) if isinstance(weights, Mapping) else weights
                        for bar, weights in (targets or {}).items()}
        self.fail_at = set(fail_at)

    def update(self, view: Any) -> None:
        return None

    def target_weights(self, view: Any) -> Any:
        bar = int(view.bar)
        if bar in self.fail_at:
            raise ValueError(f"scripted failure at bar {bar}")
        return self.targets.get(bar)


def random_prices(rng: np.random.Generator, *, bars: int, symbols: int, with_open: bool = False,
                  gaps: bool = False) -> PriceData:
    """A random-walk panel of ``bars`` business days from 2020-01-01 and symbols A, B, C, ...

    With ``gaps``, each symbol may start late (leading NaNs); every close is positive and finite.
    """
    dates = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 3 * bars,
                      dtype="datetime64[D]")
    dates = dates[np.is_busday(dates)][:bars].astype("datetime64[ns]")
    steps = rng.normal(0.0, 0.03, size=(bars, symbols))
    close = rng.uniform(5, 200, size=symbols) * np.exp(np.cumsum(steps, axis=0))
    if gaps:
        for j in range(symbols):
            close[: int(rng.integers(0, max(1, bars // 3))), j] = np.nan
    opens = close * np.exp(rng.normal(0.0, 0.01, size=close.shape)) if with_open else None
    names = tuple(chr(ord("A") + j) for j in range(symbols))
    return PriceData(dates=dates, symbols=names, close=close, open=opens)


def scripted_config(targets: Mapping[int, Any], *, fail_at: Sequence[int] = (),
                    **tables: Any) -> ScenarioConfig:
    """A daily-rebalanced scenario around :class:`ScriptedWeights`; ``tables`` override whole tables."""
    raw: dict[str, Any] = {
        "scenario": {"name": "scripted"},
        "data": {"path": "generated.csv"},
        "portfolio": {"initial_cash": 100_000.0},
        "strategy": {"name": SCRIPTED, "params": {
            "targets": {str(bar): dict(weights) if isinstance(weights, Mapping) else weights
                        for bar, weights in targets.items()}, "fail_at": list(fail_at)}},
        "schedule": {"rebalance": "daily"},
        "execution": {"timing": "same_close", "commission": {"model": "zero"},
                      "slippage": {"model": "zero"}},
    }
    raw.update(tables)
    return ScenarioConfig.from_dict(raw)
