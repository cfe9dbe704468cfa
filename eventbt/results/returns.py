"""Returns of an account that receives deposits and pays out withdrawals: time-weighted and money-weighted.

A deposit or withdrawal (a ``CashFlowEvent``, the run's *external flows*) changes the account's value without
being a gain or a loss, so returns leave it out. Fees stay in: they are costs of the strategy.

- **Time-weighted** (the sub-period method of the Global Investment Performance Standards, GIPS 2010
  provision 2.A.2: returns adjusted for external cash flows, sub-period returns geometrically linked): the bar
  return is ``r_t = (V_t - F_t) / V_(t-1) - 1``, with ``F_t`` the net flow booked on
  bar ``t`` (it earns nothing on that bar) and ``V_0`` the initial cash. The *time-weighted level*
  ``W_t = V_0 * prod(1 + r_s, s <= t)`` is the account's value had no money come in or gone out.
- **Money-weighted** (an internal rate of return on calendar time): the annual rate ``r`` that solves
  ``sum CF_i * (1 + r) ** (-days_i / 365.25) = 0``, where the investor pays the initial cash at the first
  bar's date and each deposit on its date, receives each withdrawal on its date, and the final value at the
  last bar's date.

See ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["bar_returns", "drawdown", "internal_rate", "money_weighted_return", "time_weighted_values"]

# The bracket of the money-weighted return is widened by doubling up to this annual rate; beyond it there is
# no root worth reporting (the equation's sign did not change).
_HIGHEST_RATE = 1e300


def bar_returns(values: np.ndarray, initial: float, flows: np.ndarray | None = None) -> np.ndarray:
    """Time-weighted bar returns ``(V_t - F_t) / V_(t-1) - 1``; the first bar is measured against ``initial``.

    Without ``flows`` (or with every flow 0) these are the simple returns ``V_t / V_(t-1) - 1``, bit for bit.
    A bar that starts from an empty account (``V_(t-1) = 0``, everything withdrawn) has no return: 0. No bar
    loses more than everything: a margin account that falls to zero or below is ruined (-100%, the
    time-weighted level reaches 0), and a bar that starts from a value below zero (money owed) has return 0,
    as an empty account's, until the value is positive again.
    """
    values = np.asarray(values, dtype=float)
    previous = np.concatenate(([float(initial)], values[:-1]))
    ending = values if flows is None else values - np.asarray(flows, dtype=float)
    ratio = np.divide(ending, previous, out=np.ones_like(values), where=previous > 0)
    return np.asarray(np.maximum(ratio, 0.0) - 1.0, dtype=float)


def time_weighted_values(values: np.ndarray, flows: np.ndarray | None, initial: float) -> np.ndarray:
    """The time-weighted level ``W_t`` of each bar: ``initial`` grown by the compounded time-weighted returns.

    Computed sub-period by sub-period (GIPS): within one, ``W_t = V_t * W_b / V_b``, with ``b`` the bar that
    started it (the initial cash, or the bar of the last flow, after the flow); at a flow bar the sub-period
    ends at ``V_t - F_t``. This is ``initial * prod(1 + r_s)`` in exact arithmetic, and without flows it is
    ``V_t`` itself, bit for bit, so a run without deposits or withdrawals keeps its figures exactly. A run
    whose value goes below zero (a margin account's, money owed) is measured as ``initial * prod(1 + r_s)``
    of :func:`bar_returns`: its level reaches 0 at the bar of ruin and stays there.
    """
    values = np.asarray(values, dtype=float)
    if not _never_below_zero(values, flows, initial):  # ruin, or money owed: the product of the bar returns
        returns = bar_returns(values, initial, flows)
        return np.asarray(float(initial) * np.cumprod(1.0 + returns), dtype=float)
    levels = values.copy()
    if flows is None:
        return levels
    flows = np.asarray(flows, dtype=float)
    n = len(values)
    base_value = base_level = float(initial)
    start = 0
    for end in [*np.flatnonzero(flows).tolist(), n]:
        stop = min(end + 1, n)
        if base_value == 0:  # an empty account earns nothing until money comes back
            levels[start:stop] = base_level
        else:
            scale = base_level / base_value  # exactly 1.0 for the first sub-period
            levels[start:stop] = values[start:stop] * scale
            if end < n:
                levels[end] = (values[end] - flows[end]) * scale
        if end < n:
            base_value, base_level = float(values[end]), float(levels[end])
        start = stop
    return levels


def _never_below_zero(values: np.ndarray, flows: np.ndarray | None, initial: float) -> bool:
    """No bar's value, before or after its flow, is below zero, and none falls to zero from above (ruin): the
    runs whose sub-period levels are the products of their bar returns."""
    ending = values if flows is None else values - np.asarray(flows, dtype=float)
    previous = np.concatenate(([float(initial)], values[:-1]))
    return bool((values >= 0).all() and (ending >= 0).all() and not ((previous > 0) & (ending <= 0)).any())


def drawdown(values: np.ndarray, initial: float | None = None) -> np.ndarray:
    """Fall from the running peak at each bar, as a fraction (0 or negative).

    With ``initial`` the starting value counts as the first peak (as empyrical and quantstats do): a run
    whose first bars are below its initial cash is in a drawdown from the start.
    """
    values = np.asarray(values, dtype=float)
    if initial is None:
        peaks = np.maximum.accumulate(values)
    else:
        peaks = np.maximum.accumulate(np.concatenate(([float(initial)], values)))[1:]
    return np.asarray(values / peaks - 1.0, dtype=float)


def money_weighted_return(dates: np.ndarray, values: np.ndarray, flows: np.ndarray | None,
                          initial: float) -> float | None:
    """The money-weighted return (annual, calendar days over 365.25) of a run, or ``None`` without a root.

    The investor's cash flows: ``-initial`` at the first bar's date, ``-F_t`` on the date of each bar with a
    net flow ``F_t`` (a deposit paid in is negative for the investor, a withdrawal positive), ``+V_n`` at the
    last bar's date. Without flows this is the CAGR over calendar days.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return None
    days = np.asarray(dates, dtype="datetime64[ns]")
    years = ((days - days[0]) / np.timedelta64(1, "D") / 365.25).tolist()
    cash_flows = [(0.0, -float(initial))]
    if flows is not None:
        flows = np.asarray(flows, dtype=float)
        cash_flows += [(years[t], -float(flows[t])) for t in np.flatnonzero(flows).tolist()]
    cash_flows.append((years[-1], float(values[-1])))
    return internal_rate(cash_flows)


def _present_value(rate: float, cash_flows: Sequence[tuple[float, float]], horizon: float) -> float:
    """``sum CF * (1 + rate) ** -t`` times a positive factor that keeps every power at most 1 (no overflow).

    Only the sign matters to the search. For ``rate < 0`` the sum is multiplied by ``(1 + rate) ** horizon``;
    at ``rate = -1`` only the flows at the horizon remain. The sum is exactly rounded (:func:`math.fsum`).
    """
    if rate <= -1.0:
        return math.fsum(amount for t, amount in cash_flows if t == horizon)
    growth = math.log1p(rate)
    shift = horizon if rate < 0 else 0.0
    return math.fsum(amount * math.exp((shift - t) * growth) for t, amount in cash_flows)


def internal_rate(cash_flows: Sequence[tuple[float, float]]) -> float | None:
    """The annual rate ``r > -1`` at which ``sum amount * (1 + r) ** -years`` is 0, or ``None`` without a root.

    ``cash_flows`` are ``(years from the start, amount)`` pairs. The rate is found by bisection, in plain
    Python and so the same on every machine, between -100% and a bound doubled from 100% until the sign of
    the sum changes, down to two adjacent floats (the one nearer to a zero sum is returned). When the flows
    change sign more than once the equation can have several roots (a withdrawal followed by a deposit); the
    bisection then returns one of them. ``None`` also when every flow is at the same date (no time passes).
    """
    horizon = max((t for t, _ in cash_flows), default=0.0)
    if horizon <= 0:
        return None

    def value(rate: float) -> float:
        return _present_value(rate, cash_flows, horizon)

    low, high = -1.0, 1.0
    at_low, at_high = value(low), value(high)
    if at_low == 0:
        return low
    while at_high != 0 and (at_high > 0) == (at_low > 0):
        if high >= _HIGHEST_RATE:
            return None
        high *= 2.0
        at_high = value(high)
    if at_high == 0:
        return high
    while True:
        middle = low + (high - low) / 2.0
        if middle <= low or middle >= high:
            break
        at_middle = value(middle)
        if at_middle == 0:
            return middle
        if (at_middle > 0) == (at_low > 0):
            low, at_low = middle, at_middle
        else:
            high, at_high = middle, at_middle
    return low if abs(at_low) <= abs(at_high) else high
