"""The money-path sums are exactly rounded: equal, bit for bit, to ``math.fsum`` of the same terms.

Expected values come from ``math.fsum`` (exact rounding by Shewchuk's algorithm, in the standard library),
applied to the terms written out in Python, never from the function under test. The arrays are chosen to
break any ordinary float sum: magnitudes from 1e-8 to 1e12 mixed, cancelling signs, lengths around the
blocking sizes of pairwise summation (8, 128) and BLAS kernels (4, 16, 32).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from eventbt import exact
from eventbt.portfolio import Portfolio

LENGTHS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 127, 128, 129, 500, 1031]


def _awkward(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values spanning 20 orders of magnitude with both signs (so rounding order matters)."""
    magnitudes = 10.0 ** rng.uniform(-8, 12, size=n)
    signs = rng.choice([-1.0, 1.0], size=n)
    return magnitudes * signs * rng.uniform(0.5, 1.5, size=n)


@pytest.mark.parametrize("n", LENGTHS)
def test_fsum_and_dot_are_exactly_rounded(n: int) -> None:
    """fsum equals math.fsum of the list; dot equals math.fsum of the rounded products a[i]*b[i]."""
    rng = np.random.default_rng(1000 + n)
    a, b = _awkward(rng, n), _awkward(rng, n)
    assert exact.fsum(a) == math.fsum(a.tolist())
    products = [x * y for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    assert exact.dot(a, b) == math.fsum(products)


def test_the_sum_does_not_depend_on_the_order_of_its_terms() -> None:
    """Any permutation of the terms gives the same bits (a plain left-to-right sum does not)."""
    rng = np.random.default_rng(7)
    values = _awkward(rng, 257)
    results = {exact.fsum(values[rng.permutation(len(values))]) for _ in range(20)}
    plain = {sum(values[rng.permutation(len(values))].tolist()) for _ in range(20)}
    assert len(results) == 1
    assert len(plain) > 1  # the data really is order-sensitive, so the check above can fail


def test_mean_variance_and_covariance_use_exact_sums() -> None:
    """Each statistic equals the textbook formula with every sum done by math.fsum."""
    rng = np.random.default_rng(3)
    x, y = _awkward(rng, 129) / 1e6, _awkward(rng, 129) / 1e6
    xs, ys = x.tolist(), y.tolist()
    mx, my = math.fsum(xs) / 129, math.fsum(ys) / 129
    assert exact.mean(x) == mx
    assert exact.variance(x, ddof=1) == math.fsum((v - mx) * (v - mx) for v in xs) / 128
    assert exact.sample_std(x) == math.sqrt(math.fsum((v - mx) * (v - mx) for v in xs) / 128)
    expected = math.fsum((p - mx) * (q - my) for p, q in zip(xs, ys, strict=True)) / 128
    assert exact.covariance(x, y) == expected
    assert math.isnan(exact.mean([]))
    assert math.isnan(exact.variance([1.0], ddof=1))


@pytest.mark.parametrize("n", [1, 9, 33, 500])
def test_portfolio_values_are_exact_sums_of_held_positions(n: int) -> None:
    """positions_value and unrealized P&L equal math.fsum of q*mark (q*(mark-avg)) over the held symbols."""
    rng = np.random.default_rng(n)
    symbols = tuple(f"S{i:04d}" for i in range(n))
    book = Portfolio(symbols, 1e12)
    quantities = rng.integers(0, 3, size=n) * rng.integers(1, 10**7, size=n)
    book.positions[:] = quantities
    book.marks[:] = 10.0 ** rng.uniform(-3, 5, size=n)
    book.average_cost[:] = book.marks * rng.uniform(0.5, 1.5, size=n)
    q, m, c = quantities.tolist(), book.marks.tolist(), book.average_cost.tolist()
    assert book.positions_value() == math.fsum(qi * mi for qi, mi in zip(q, m, strict=True) if qi)
    assert book.total_value() == 1e12 + math.fsum(qi * mi for qi, mi in zip(q, m, strict=True) if qi)
    expected_unrealized = math.fsum(qi * (mi - ci) for qi, mi, ci in zip(q, m, c, strict=True) if qi)
    assert book.unrealized_pnl() == expected_unrealized
