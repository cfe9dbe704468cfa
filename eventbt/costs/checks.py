"""One family of parameter checks for every built-in cost model and fee handler.

Each check raises :class:`TypeError` for a value that is not a number (``rate must be a number, got str
'5'``; a bool is not a number) and :class:`ValueError` for one outside its range (``bps must be >= 0 and <
10000 (1 bp = 0.01%), got -5``); every message starts with the parameter's name, which is how a scenario
error names the key at fault. :func:`number` and :func:`in_range` check a plain value and return it as a
float; the ``*_field`` functions are the same checks as attrs validators.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

__all__ = [
    "at_least_zero_field",
    "basis_points_field",
    "finite_at_least_zero_field",
    "fraction_below_one_field",
    "in_range",
    "number",
    "open_fraction_field",
    "positive_fraction_or_none_field",
]

Validator = Callable[[object, "attrs.Attribute[Any]", Any], None]


def number(name: str, value: object) -> float:
    """``value`` as a float: a finite int or float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def in_range(name: str, value: object, *, low: float | None = None, high: float | None = None,
             low_open: bool = False, high_open: bool = True, what: str = "", hint: str = "") -> float:
    """``value`` as a float, checked to lie in the range: ``low <= value < high`` by default.

    ``what`` and ``hint`` word the message: ``{name} must be {what} {range} {hint}, got {value!r}``.
    """
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high:g}")
    expected = " ".join(part for part in (what, " and ".join(bounds), hint) if part)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        if what.startswith("a finite"):
            raise ValueError(f"{name} must be {expected}, got {value!r}")
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)


def _field(**limits: Any) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        in_range(attribute.name, value, **limits)

    return check


at_least_zero_field: Validator = _field(low=0)
"""``>= 0`` (an amount, a minimum, a per-share rate)."""

finite_at_least_zero_field: Validator = _field(low=0, what="a finite number")
"""``>= 0``, worded as a finite number."""

fraction_below_one_field: Validator = _field(low=0, high=1, what="a fraction", hint="(0.01 = 1%)")
"""A fraction in ``[0, 1)`` (a commission rate)."""

def open_fraction_field(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A fraction in ``(0, 1)`` (a cap on a price move, a share of volume); a negative one is told so first."""
    in_range(attribute.name, value, low=0, what="a finite number")
    in_range(attribute.name, value, low=0, high=1, low_open=True, what="a fraction")

basis_points_field: Validator = _field(low=0, high=10_000, hint="(1 bp = 0.01%)")
"""Basis points in ``[0, 10000)``."""


def positive_fraction_or_none_field(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or a fraction in ``(0, 1)`` (an optional cap)."""
    if value is not None:
        in_range(attribute.name, value, low=0, high=1, low_open=True, what="a fraction", hint="(0.01 = 1%)")
