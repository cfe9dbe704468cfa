"""Sums whose last bit does not depend on the machine: every money figure that reaches the log or results.

A float sum's last bit depends on the order its terms are added in. ``positions @ marks`` and ``np.dot`` go
through BLAS, whose kernel (and so the order) is chosen per CPU when the process starts: the same run gave
different audit digests on AVX2 and AVX-512 machines. ``numpy.sum`` has a fixed order for a given numpy
build, but not a documented one, and pandas may hand reductions to bottleneck where it is installed.

So every sum on the money path is **exactly rounded**: :func:`math.fsum` returns the float nearest to the
exact sum of its terms, which is one number whatever the order, CPU, thread count or library. Each term is
an IEEE product or difference, itself correctly rounded on any hardware (numpy's elementwise ``*`` and
``-`` use no fused multiply-add). That is the determinism contract of ``docs/determinism.md``.

The functions take numpy arrays or any iterable of floats. They are plain Python over the terms, so the
hot path calls them on the few non-zero terms only (a portfolio's held positions, a rebalance's picks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["dot", "fsum", "mean", "sample_std", "variance", "covariance"]


def _terms(values: Iterable[float] | np.ndarray) -> list[float]:
    if isinstance(values, np.ndarray):
        return values.tolist()  # type: ignore[no-any-return]
    return [float(value) for value in values]


def fsum(values: Iterable[float] | np.ndarray) -> float:
    """The exactly rounded sum of ``values`` (``0.0`` for none)."""
    return math.fsum(_terms(values))


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(a[i] * b[i])``, each product rounded once, the sum exactly rounded (no BLAS)."""
    return math.fsum((np.asarray(a, dtype=float) * np.asarray(b, dtype=float)).tolist())


def mean(values: Iterable[float] | np.ndarray) -> float:
    """The exactly rounded sum over the count; NaN for no values."""
    terms = _terms(values)
    return math.fsum(terms) / len(terms) if terms else math.nan


def variance(values: Iterable[float] | np.ndarray, ddof: int = 0) -> float:
    """``sum((x - mean)**2) / (n - ddof)``, both sums exactly rounded; NaN when ``n <= ddof``."""
    terms = _terms(values)
    if len(terms) <= ddof:
        return math.nan
    centre = math.fsum(terms) / len(terms)
    return math.fsum((x - centre) * (x - centre) for x in terms) / (len(terms) - ddof)


def sample_std(values: Iterable[float] | np.ndarray, ddof: int = 1) -> float:
    """The square root of :func:`variance` (sample standard deviation by default)."""
    return math.sqrt(variance(values, ddof))


def covariance(a: Iterable[float] | np.ndarray, b: Iterable[float] | np.ndarray, ddof: int = 1) -> float:
    """``sum((a - mean a) * (b - mean b)) / (n - ddof)``, sums exactly rounded; NaN when ``n <= ddof``."""
    x, y = _terms(a), _terms(b)
    if len(x) != len(y):
        raise ValueError(f"covariance of {len(x)} and {len(y)} values")
    if len(x) <= ddof:
        return math.nan
    mx, my = math.fsum(x) / len(x), math.fsum(y) / len(y)
    return math.fsum((p - mx) * (q - my) for p, q in zip(x, y, strict=True)) / (len(x) - ddof)
