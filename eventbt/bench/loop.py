"""The rotation workload as one plain loop over numpy arrays: the yardstick ``eventbt bench`` times against.

Same rules as the engine runs for ``rotation`` (EMA allocation per ``docs/scenarios.md`` and the rebalance
arithmetic of ``docs/architecture.md``: sells first, whole shares, buys scaled then trimmed for cash,
same-close fills with fixed-bps slippage and a per-share commission with minimum and cap), but no events, no
handlers, no audit log: one pass over the bars, the book in local variables. It exists to measure what the
engine's events, audit and pluggability cost, as a ratio, on whatever machine runs the benchmark; its equity
curve must equal the engine's (the benchmark checks it, and ``tests/eventbt/test_bench.py`` on small sizes).

It handles only what the generated workload has: a close for every symbol at every bar (no gaps, no
delistings), no fee handlers, no volume limit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["rotation_loop"]

_SHARE_TOLERANCE = 1e-9  # the documented whole-share tolerance (eventbt.orders.SHARE_TOLERANCE), kept apart: the
# loop is written from the rules, independently of the engine's code


def _month_ends(dates: np.ndarray) -> np.ndarray:
    months = dates.astype("datetime64[M]")
    last = np.ones(len(dates), dtype=bool)
    last[:-1] = months[1:] != months[:-1]
    return last


def rotation_loop(close: np.ndarray, dates: np.ndarray, *, initial_cash: float, fast_span: int, slow_span: int,
                  top_n: int, bps: float, per_share: float, minimum: float, max_pct: float) -> np.ndarray:
    """Total value after each bar of the rotation workload on ``close`` (bars x symbols, no NaN), with the rules
    :func:`eventbt.bench.workloads.loop_rules` gives (no defaults here, so the two cannot drift apart)."""
    bars, n = close.shape
    fraction = bps / 10_000
    rebalance = _month_ends(dates)
    alpha = np.array([[2.0 / (fast_span + 1.0)], [2.0 / (slow_span + 1.0)]])
    decay = 1.0 - alpha
    divisor = decay + alpha
    ema = np.empty((2, n))
    positions = np.zeros(n, dtype=np.int64)
    cash = float(initial_cash)
    values = np.empty(bars)

    def commission(quantity: int, value: float) -> float:
        if quantity <= 0:
            return 0.0
        return min(max(minimum, per_share * quantity), max_pct * value)

    def buy_cost(price: float, shares: int) -> float:
        fill = price * (1 + fraction)
        value = shares * fill
        return value + commission(shares, value)

    for t in range(bars):
        x = close[t]
        # EMA(span, adjust=False): the first close, then (decay*ema + alpha*x) / (decay + alpha).
        if t == 0:
            ema[:] = x
        else:
            mixed = (decay * ema + alpha * x) / divisor
            np.copyto(ema, mixed, where=ema != x)
        if rebalance[t] and t + 1 >= slow_span:
            # Targets: the top_n positive scores, equal weight; no pick sells everything.
            score = ema[0] / ema[1] - 1.0
            candidates = np.flatnonzero(score > 0)
            picks = candidates[np.lexsort((candidates, -score[candidates]))[:top_n]]
            weights = np.zeros(n)
            weights[picks] = 1.0 / len(picks) if len(picks) else 0.0
            # Orders: dollar changes from the book's value; sells first, then buys scaled for cash.
            held = positions * x
            change = weights * (cash + math.fsum(held.tolist())) * 1.0 - held
            sells: list[tuple[int, int]] = []
            expected: list[float] = []
            buys: dict[int, int] = {}
            for i in np.flatnonzero(change).tolist():
                d, p, q = float(change[i]), float(x[i]), int(positions[i])
                if d < 0:
                    shares = q if weights[i] == 0 else min(q, math.floor(-d / p + _SHARE_TOLERANCE))
                    if shares > 0:
                        value = shares * (p * (1 - fraction))
                        proceeds = value - commission(shares, value)
                        if not (proceeds < 0 and cash + math.fsum(expected) + proceeds < 0):
                            sells.append((i, shares))
                            expected.append(proceeds)
                else:
                    shares = math.floor(d / (p * (1 + fraction)) + _SHARE_TOLERANCE)
                    if shares > 0:
                        buys[i] = shares
            available = cash + math.fsum(expected)
            costs = {i: buy_cost(float(x[i]), b) for i, b in buys.items()}
            total = math.fsum(costs.values())
            if buys and total > available:
                factor = max(available, 0.0) / total
                buys = {i: math.floor(b * factor) for i, b in buys.items()}
                costs = {i: buy_cost(float(x[i]), b) for i, b in buys.items()}
                total = math.fsum(costs.values())
                while total > available and any(buys.values()):
                    i = max((j for j in buys if buys[j] > 0), key=lambda j: (costs[j], j))
                    buys[i] -= 1
                    costs[i] = buy_cost(float(x[i]), buys[i])
                    total = math.fsum(costs.values())
            # Fills at this close, in order; cash checked at each fill as the execution does.
            check = cash
            orders = [(i, -1, q) for i, q in sells] + [(i, 1, buys[i]) for i in sorted(buys) if buys[i] > 0]
            for i, side, shares in orders:
                p = float(x[i])
                fill = p * (1 + fraction) if side > 0 else p * (1 - fraction)
                charge = commission(shares, shares * fill)
                if side < 0 and check + shares * fill - charge < 0:
                    continue
                if side > 0 and shares * fill + charge > check:
                    low, high = 0, max(0, min(shares, math.floor(check / fill)))
                    while low < high:
                        middle = (low + high + 1) // 2
                        if middle * fill + commission(middle, fill) <= check:
                            low = middle
                        else:
                            high = middle - 1
                    shares = low
                    if shares == 0:
                        continue
                    charge = commission(shares, fill * shares)
                check += -side * shares * fill - charge
                if side > 0:
                    cash = cash - shares * fill - charge
                    positions[i] += shares
                else:
                    cash = cash + shares * fill - charge
                    positions[i] -= shares
        invested = np.flatnonzero(positions)
        values[t] = cash + math.fsum((positions[invested] * x[invested]).tolist())
    return values
