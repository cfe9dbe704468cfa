"""The report's line charts thin long series: each slice's first, lowest and highest point, worked out at once."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from eventbt.display.svg import thin


def _thin_slice_by_slice(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference: each slice on its own, with numpy's argmin and argmax (the first of equal values)."""
    n = len(x)
    if n <= 2 * columns:
        return x, y
    edges = np.linspace(0, n, columns + 1).astype(int)
    keep: list[int] = []
    for start, stop in itertools.pairwise(edges.tolist()):
        if stop > start:
            part = y[start:stop]
            keep.extend({start, start + int(np.argmin(part)), start + int(np.argmax(part))})
    keep.append(n - 1)
    index = np.unique(np.asarray(keep))
    return x[index], y[index]


@pytest.mark.parametrize("n", [10, 2_400, 2_401, 3_001, 7_777, 31_590])
def test_thinning_keeps_the_points_slice_by_slice_thinning_keeps(n: int) -> None:
    """Random walks (and a series with long flat runs, so that ties are common) of several lengths: the same
    points as thinning each slice on its own; short series are kept whole."""
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float)
    for y in (np.cumsum(rng.normal(size=n)), np.round(np.cumsum(rng.normal(size=n)) / 5.0)):
        got, expected = thin(x, y), _thin_slice_by_slice(x, y, 1200)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
        assert len(got[0]) == n if n <= 2_400 else len(got[0]) <= 3 * 1200 + 1
