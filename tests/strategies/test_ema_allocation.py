"""The EMA allocation generator: EMAs by hand, eligibility, picks, weighting and caps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventbt.errors import ScenarioError
from eventbt.scenario.plugins import build_strategy
from strategies.ema_allocation import EmaAllocation


class View:
    """A minimal PriceView over a closes matrix, one bar at a time."""

    def __init__(self, symbols: tuple[str, ...], closes: np.ndarray) -> None:
        self.symbols = symbols
        self._closes = closes
        self.bar = -1

    @property
    def close(self) -> np.ndarray:
        return self._closes[self.bar]

    @property
    def date(self) -> np.datetime64:
        return np.datetime64("2020-01-01") + self.bar

    def history(self, field: str = "close") -> np.ndarray:
        raise AssertionError("the EMA generator must not read history")


def feed(generator: EmaAllocation, symbols: tuple[str, ...], rows: list[list[float]]) -> View:
    view = View(symbols, np.array(rows, dtype=float))
    for bar in range(len(rows)):
        view.bar = bar
        generator.update(view)
    return view


def test_emas_match_a_hand_computation() -> None:
    """Closes 10, 11, 13, 12, 14 with span 3 (alpha 0.5) and span 4 (alpha 0.4), worked out by hand."""
    # span 3: 10 -> 10.5 -> 11.75 -> 11.875 -> 12.9375
    # span 4: 10 -> 10.4 -> 11.44 -> 11.664 -> 12.5984
    generator = EmaAllocation(fast_span=3, slow_span=4, top_n=1)
    view = feed(generator, ("A",), [[10.0], [11.0], [13.0], [12.0], [14.0]])
    assert generator._fast is not None and generator._slow is not None
    assert generator._fast.value[0] == pytest.approx(12.9375)
    assert generator._slow.value[0] == pytest.approx(12.5984)
    assert generator.scores(view)[0] == pytest.approx(12.9375 / 12.5984 - 1)


def test_emas_with_gaps_and_late_starts_match_pandas_exactly() -> None:
    """With interior NaNs and a late listing, each EMA equals pandas ewm(span, adjust=False) bit for bit."""
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(60, 3)), axis=0))
    closes[:12, 1] = np.nan  # B lists at bar 12
    closes[[20, 21, 35], 0] = np.nan  # A has gaps
    generator = EmaAllocation(fast_span=5, slow_span=20, top_n=2)
    feed(generator, ("A", "B", "C"), closes.tolist())
    expected_fast = pd.DataFrame(closes).ewm(span=5, adjust=False).mean().iloc[-1].to_numpy()
    expected_slow = pd.DataFrame(closes).ewm(span=20, adjust=False).mean().iloc[-1].to_numpy()
    assert generator._fast is not None and generator._slow is not None
    assert generator._fast.value.tolist() == expected_fast.tolist()
    assert generator._slow.value.tolist() == expected_slow.tolist()


def test_no_signal_until_a_symbol_is_eligible_then_all_cash_without_positive_scores() -> None:
    """Before slow_span closes: None; falling prices: every score < 0, so {} (all cash)."""
    generator = EmaAllocation(fast_span=2, slow_span=3, top_n=1)
    view = feed(generator, ("A",), [[10.0], [9.0]])
    assert generator.target_weights(view) is None
    view = feed(generator, ("A",), [[8.0]])
    assert generator.target_weights(view) == {}


def test_top_n_by_score_with_ties_in_symbol_order_and_equal_or_score_weights() -> None:
    """B and C rise equally, A less, D falls: top 2 are B, C; score weights are proportional."""
    rows = [[10.0, 10.0, 10.0, 10.0], [10.5, 12.0, 12.0, 9.0], [11.0, 14.0, 14.0, 8.0]]
    generator = EmaAllocation(fast_span=1, slow_span=2, top_n=2, weighting="equal")
    view = feed(generator, ("A", "B", "C", "D"), rows)
    assert generator.target_weights(view) == {"B": 0.5, "C": 0.5}
    generator = EmaAllocation(fast_span=1, slow_span=2, top_n=3, weighting="score")
    view = feed(generator, ("A", "B", "C", "D"), rows)
    # span 1 EMA = the close; span 2 (alpha 2/3): A 10 -> 10.3333 -> 10.7778; B, C 10 -> 11.3333 -> 13.1111
    score_a, score_b = 11.0 / (10 + 2 / 3 * 0.5 + 2 / 3 * (11 - (10 + 2 / 3 * 0.5))) - 1, 14.0 / 13.111111111 - 1
    weights = generator.target_weights(view)
    assert weights is not None and list(weights) == ["A", "B", "C"]
    total = score_a + 2 * score_b
    assert weights["A"] == pytest.approx(score_a / total, rel=1e-6)
    assert weights["B"] == pytest.approx(score_b / total, rel=1e-6)


def test_max_weight_caps_and_leaves_the_excess_in_cash() -> None:
    """One pick with max_weight 0.4 gets 0.4, not 1."""
    generator = EmaAllocation(fast_span=1, slow_span=2, top_n=3, max_weight=0.4)
    view = feed(generator, ("A", "B"), [[10.0, 10.0], [11.0, 9.0]])
    assert generator.target_weights(view) == {"A": 0.4}


@pytest.mark.parametrize(("params", "message"), [
    ({"fast_span": 20, "slow_span": 10}, "fast_span (20) must be less than slow_span (10)"),
    ({"weighting": "rank"}, "weighting"),
    ({"top_n": 0}, "top_n"),
    ({"fast_spam": 3}, "unknown key 'fast_spam' (did you mean 'fast_span'?)"),
    ({"top_n": "5"}, "key 'top_n' expects int, got str '5'"),
])
def test_bad_parameters_are_scenario_errors(params: dict[str, object], message: str) -> None:
    """Each bad parameter is reported as a ScenarioError naming the [strategy.params] key."""
    with pytest.raises(ScenarioError) as info:
        build_strategy("ema_allocation", params, path="s.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("s.toml: [strategy.params] ")
