"""EMA allocation: hold the top-N symbols whose fast EMA is above their slow EMA.

For each symbol, ``EMA_k`` is the exponentially weighted mean of its closes with span ``k``
(``alpha = 2 / (k + 1)``), started at its first close and updated once per bar, exactly as pandas'
``Series.ewm(span=k, adjust=False).mean()`` computes it (gaps included). A symbol is eligible at a bar when it
has a close at that bar and at least ``slow_span`` closes so far. Its score is ``EMA_fast / EMA_slow - 1``.

Picks are the eligible symbols with a score above 0, the ``top_n`` highest (ties: sorted symbol order).
``equal`` gives each pick ``1 / len(picks)``; ``score`` gives weights proportional to score. ``max_weight``
caps a weight; the excess stays in cash. No eligible symbol yet: no signal. No pick: all cash.

The EMAs are updated incrementally, so each bar costs O(symbols), never O(history).

Corporate actions: an EMA is a weighted sum of the closes seen, so scaling every past close by ``f`` (a split
of ratio ``r`` gives ``f = 1 / r``) scales the EMA by ``f``. :meth:`EmaAllocation.adjust` does that, so the
EMAs continue on the split-continuous series the strategy handler keeps (the score, a ratio of two EMAs, is
unchanged by it); the counts of closes seen are not prices and stay as they are.
"""

from __future__ import annotations

from typing import Literal

import attrs
import numpy as np

from eventbt.exact import fsum
from eventbt.protocols import PriceView

__all__ = ["EmaAllocation"]


class _Emas:
    """pandas-exact ``ewm(span, adjust=False)`` for several spans at once over a row of symbols.

    Row ``k`` of ``value`` is the EMA with ``spans[k]``; every update works on all rows with a few numpy
    calls into preallocated buffers, so a bar allocates nothing.
    """

    def __init__(self, spans: tuple[int, ...], n: int) -> None:
        alpha = [2.0 / (span + 1.0) for span in spans]
        decay = [1.0 - a for a in alpha]
        shape = (len(spans), n)
        # Each span's constants as a whole row, one value repeated for every symbol: numpy broadcasting a
        # (spans, 1) column costs more per call than the arithmetic on a few hundred symbols (the same numbers, so
        # the same bits).
        self.alpha = np.repeat(np.array(alpha).reshape(-1, 1), n, axis=1)
        self.decay = np.repeat(np.array(decay).reshape(-1, 1), n, axis=1)
        self.steady_divisor = self.decay + self.alpha
        self.value = np.full(shape, np.nan)
        self.old_weight = np.zeros(shape)
        self._mixed = np.empty(shape)
        self._term = np.empty(shape)
        self._changed = np.empty(shape, dtype=bool)
        # Plain attributes (not attrs fields, whose setattr hooks cost a call per bar): whether the next bar
        # may take the steady path, and how many steady bars are not yet added to the generator's counts.
        self.steady = False
        self.steady_bars = 0

    def update_steady(self, x: np.ndarray) -> None:
        """The common bar: every symbol started and observed now and at the previous bar."""
        # Then every past weight is 1 * decay, and pandas' update reduces to
        # (decay * value + alpha * x) / (decay + alpha): the same operations in the same order, so the same
        # bits; equal values are left alone as pandas does.
        value, mixed, term, changed = self.value, self._mixed, self._term, self._changed
        np.multiply(self.decay, value, out=mixed)
        np.multiply(self.alpha, x, out=term)
        np.add(mixed, term, out=mixed)
        np.divide(mixed, self.steady_divisor, out=mixed)
        np.not_equal(value, x, out=changed)
        np.copyto(value, mixed, where=changed)

    def update(self, x: np.ndarray, observed: np.ndarray, started: np.ndarray, first: np.ndarray) -> None:
        # A symbol's weight on its past decays every bar once it has started (gaps included), as pandas
        # does with ignore_na=False; an observation then mixes in with weight alpha.
        value, old = self.value, self.old_weight
        np.multiply(old, self.decay, out=old, where=started)
        with np.errstate(invalid="ignore"):
            mixed = (old * value + self.alpha * x) / (old + self.alpha)
        np.copyto(value, mixed, where=observed & started & (value != x))
        np.copyto(old, 1.0, where=observed & started)
        np.copyto(value, x, where=first)
        np.copyto(old, 1.0, where=first)


class _EmaRow:
    """One span's row of :class:`_Emas` (``value`` is a view)."""

    __slots__ = ("span", "value")

    def __init__(self, span: int, value: np.ndarray) -> None:
        self.span = span
        self.value = value


@attrs.define(kw_only=True)
class EmaAllocation:
    """The EMA allocation signal generator (see the module docstring)."""

    fast_span: int = attrs.field(default=20, validator=attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(1)))
    slow_span: int = attrs.field(default=100, validator=attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(1)))
    top_n: int = attrs.field(default=10, validator=attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(1)))
    weighting: Literal["equal", "score"] = attrs.field(
        default="equal", validator=attrs.validators.in_(("equal", "score")))
    max_weight: float | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.and_(attrs.validators.instance_of((int, float)), attrs.validators.gt(0))))

    _emas: _Emas | None = attrs.field(default=None, init=False, repr=False)
    _fast: _EmaRow | None = attrs.field(default=None, init=False, repr=False)
    _slow: _EmaRow | None = attrs.field(default=None, init=False, repr=False)
    _count: np.ndarray | None = attrs.field(default=None, init=False, repr=False)
    _started: np.ndarray | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.fast_span >= self.slow_span:
            raise ValueError(f"fast_span ({self.fast_span}) must be less than slow_span ({self.slow_span})")

    def update(self, view: PriceView) -> None:
        x = view.close
        emas = self._emas
        if emas is None:
            n = len(x)
            emas = self._emas = _Emas((self.fast_span, self.slow_span), n)
            self._fast = _EmaRow(self.fast_span, emas.value[0])
            self._slow = _EmaRow(self.slow_span, emas.value[1])
            self._count = np.zeros(n, dtype=np.int64)
            self._started = np.zeros(n, dtype=bool)
        # The steady path needs a close for every symbol: the view says so when it knows (the data feed works
        # it out for the whole panel once); otherwise a NaN anywhere makes the sum NaN, so a sum that is a
        # number means every symbol has a close (a NaN sum from inf - inf just takes the general path).
        if emas.steady:
            complete = getattr(view, "complete", None)
            if complete is None:
                total = x.sum()
                complete = total == total
            if complete:
                emas.update_steady(x)
                emas.steady_bars += 1
                return
        assert self._started is not None and self._count is not None
        observed = x == x
        self._flush_count()
        started = self._started
        first = observed & ~started
        emas.update(x, observed, started, first)
        started |= first
        self._count += observed
        # Steady from the next bar on when every symbol has started and was observed at this bar (so
        # every past weight is back to 1).
        emas.steady = bool(observed.all())

    def adjust(self, factors: np.ndarray) -> None:
        """Every past close of symbol ``i`` is now ``factors[i]`` times what it was: scale the EMAs alike."""
        emas = self._emas
        if emas is not None:
            np.multiply(emas.value, np.asarray(factors, dtype=float), out=emas.value)

    def _flush_count(self) -> None:
        """Add the bars counted in the steady path to every symbol's count."""
        emas = self._emas
        if emas is not None and emas.steady_bars:
            assert self._count is not None
            self._count += emas.steady_bars
            emas.steady_bars = 0

    def scores(self, view: PriceView) -> np.ndarray:
        """``EMA_fast / EMA_slow - 1`` per symbol; NaN where not eligible at this bar."""
        assert self._fast is not None and self._slow is not None and self._count is not None
        self._flush_count()
        eligible = (self._count >= self.slow_span) & (view.close == view.close)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = self._fast.value / self._slow.value - 1.0
        return np.where(eligible, score, np.nan)

    def target_weights(self, view: PriceView) -> dict[str, float] | None:
        score = self.scores(view)
        eligible = score == score
        if not eligible.any():
            return None
        candidates = np.flatnonzero(eligible & (score > 0))
        if len(candidates) == 0:
            return {}
        # Highest score first; equal scores in sorted symbol order (symbols are sorted, so by index).
        order = np.lexsort((candidates, -score[candidates]))
        picks = candidates[order[: self.top_n]]
        if self.weighting == "equal":
            raw = np.full(len(picks), 1.0 / len(picks))
        else:
            raw = score[picks] / fsum(score[picks])
        if self.max_weight is not None:
            raw = np.minimum(raw, self.max_weight)
        symbols = view.symbols
        return {symbols[i]: float(w) for i, w in sorted(zip(picks.tolist(), raw.tolist(), strict=True))}
