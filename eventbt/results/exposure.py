"""Exposures of a margin account: long, short, gross and net, per bar, per rebalance and in the summary.

Only a run of a margin account (``[portfolio] allow_short`` or ``max_gross > 1``; ``docs/long-short.md``) has
them, so the files of a cash account are as they were:

- ``equity.csv`` gets :data:`EQUITY_EXPOSURE_COLUMNS`, the longs' and the shorts' market value at each bar's end
  (``short_value <= 0``; their sum is ``positions_value``);
- ``weights.csv`` gets :data:`WEIGHT_EXPOSURE_COLUMNS` after the symbols (:func:`weight_exposures`): the sums
  of the positive weights, of the negative ones, of their absolute values and of all of them;
- ``summary.json`` gets ``exposure`` (:func:`exposure_summary`), which :func:`exposure_figures` flattens into
  the "Exposure" rows of ``eventbt show``, ``compare`` and the report.

Every sum is exactly rounded (:mod:`eventbt.exact`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from eventbt.exact import fsum, mean

__all__ = ["EQUITY_EXPOSURE_COLUMNS", "EXPOSURES", "WEIGHT_EXPOSURE_COLUMNS", "exposure_figures", "exposure_ratios",
           "exposure_summary", "exposures_per_bar", "weight_exposures"]

EQUITY_EXPOSURE_COLUMNS = ["long_value", "short_value"]
WEIGHT_EXPOSURE_COLUMNS = ["long", "short", "gross", "net"]
EXPOSURES = ("gross", "net", "long", "short")
"""The exposures of the summary, each a fraction of total value."""


def weight_exposures(weights: np.ndarray) -> np.ndarray:
    """``(rows, 4)``: each row's :data:`WEIGHT_EXPOSURE_COLUMNS` (long, short, gross, net) from its weights."""
    if not len(weights):
        return np.zeros((0, 4))
    rows = [row.tolist() for row in np.asarray(weights, dtype=float).reshape(len(weights), -1)]
    return np.array([[fsum([w for w in row if w > 0]), fsum([w for w in row if w < 0]),
                      fsum([abs(w) for w in row]), fsum(row)] for row in rows], dtype=float).reshape(len(rows), 4)


def exposure_ratios(total_value: np.ndarray, long_value: np.ndarray,
                    short_value: np.ndarray) -> dict[str, np.ndarray]:
    """Each exposure of :data:`EXPOSURES` at every bar: ``gross = (long - short) / total``, ``net = (long + short) /
    total``, ``long / total``, ``short / total`` (infinite or NaN where ``total_value <= 0``: the report's chart
    shows a gap there)."""
    total = np.asarray(total_value, dtype=float)
    long = np.asarray(long_value, dtype=float)
    short = np.asarray(short_value, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"gross": (long - short) / total, "net": (long + short) / total, "long": long / total,
                "short": short / total}


def exposures_per_bar(total_value: np.ndarray, long_value: np.ndarray,
                      short_value: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`exposure_ratios` at the bars with ``total_value > 0`` (the others have none)."""
    keep = np.asarray(total_value, dtype=float) > 0
    return {name: values[keep] for name, values in exposure_ratios(total_value, long_value, short_value).items()}


def exposure_summary(*, total_value: np.ndarray, long_value: np.ndarray, short_value: np.ndarray,
                     margin_calls: int) -> dict[str, Any]:
    """``summary["exposure"]``: for each exposure its ``average`` (exactly rounded mean), ``min``, ``max`` and
    ``final`` over the bars with ``total_value > 0`` (``None`` when there is none), and ``margin_calls``."""
    summary: dict[str, Any] = {}
    for name, values in exposures_per_bar(total_value, long_value, short_value).items():
        summary[name] = {"average": mean(values) if len(values) else None,
                         "min": float(values.min()) if len(values) else None,
                         "max": float(values.max()) if len(values) else None,
                         "final": float(values[-1]) if len(values) else None}
    summary["margin_calls"] = int(margin_calls)
    return summary


def exposure_figures(summary: Mapping[str, Any]) -> dict[str, float]:
    """The exposure figures of a ``summary`` as flat metrics (empty for a cash account): ``gross_exposure``,
    ``max_gross_exposure``, ``net_exposure``, ``long_exposure``, ``short_exposure`` (averages) and
    ``margin_calls``."""
    exposure = summary.get("exposure")
    if not isinstance(exposure, Mapping):
        return {}
    figures = {"gross_exposure": exposure["gross"]["average"], "max_gross_exposure": exposure["gross"]["max"],
               "net_exposure": exposure["net"]["average"], "long_exposure": exposure["long"]["average"],
               "short_exposure": exposure["short"]["average"], "margin_calls": exposure.get("margin_calls", 0)}
    return {key: value for key, value in figures.items() if value is not None}
