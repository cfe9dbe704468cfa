"""Bar-aware slippage models: the spread and the market impact of an order's size.

Each class fits :class:`~eventbt.protocols.SlippageModel` and takes the optional ``bar`` keyword
(a :class:`~eventbt.protocols.BarContext`), which the execution handler fills at each fill. Order sizing
calls ``fill_price`` without a bar; these models then charge what they can know without one (documented
per model), and the execution handler's cash check at the fill covers the difference.

Every model moves the price by a fraction ``f`` of the reference price ``p`` against the trader:
buy fill ``p * (1 + f)``, sell fill ``p * (1 - f)``, with ``f`` kept within ``[0, max_fraction]``
(``max_fraction < 1``, so a sell never fills at or below zero).

- ``half_spread``: ``f`` = half the proportional bid-ask spread.
- ``volume_share``: ``f = price_impact * min(quantity / volume, volume_limit) ** 2``.
- ``sqrt_impact``: ``f = coefficient * volatility * sqrt(quantity / average_volume)``.

What each model sees at which timing is the :class:`~eventbt.protocols.BarContext` contract: with
``same_close`` the fill bar's own high, low, close and volume; with ``next_open`` those of the bar before
(the fill bar's close and volume are not known at its open).
"""

from __future__ import annotations

import math
from typing import ClassVar

import attrs

from eventbt.costs.checks import finite_at_least_zero_field, open_fraction_field
from eventbt.costs.slippage import move
from eventbt.protocols import BarContext

__all__ = ["HalfSpreadSlippage", "SqrtImpactSlippage", "VolumeShareSlippage", "corwin_schultz_spread"]


def _clip(fraction: float, maximum: float) -> float:
    if fraction != fraction:  # NaN: nothing known, nothing charged
        return 0.0
    return min(max(fraction, 0.0), maximum)


def corwin_schultz_spread(high: float, low: float, previous_high: float, previous_low: float) -> float:
    """The proportional spread estimated from two consecutive bars' highs and lows (Corwin and Schultz, 2012).

    ``beta = ln(H1/L1)^2 + ln(H0/L0)^2``, ``gamma = ln(max(H1, H0) / min(L1, L0))^2``,
    ``alpha = (sqrt(2 beta) - sqrt(beta)) / (3 - 2 sqrt 2) - sqrt(gamma / (3 - 2 sqrt 2))`` and
    ``S = 2 (e^alpha - 1) / (1 + e^alpha)``, set to 0 when negative (Corwin, S. A. and Schultz, P., "A
    Simple Way to Estimate Bid-Ask Spreads from Daily High and Low Prices", Journal of Finance 67(2), 2012).
    NaN when either bar has no high/low or a non-positive low: the estimator needs two consecutive bars,
    and a bar paired with itself would read its whole day's range as the spread (H/L 101/99 alone gives
    about 2%). The paper's adjustment of a pair for an overnight gap is not applied.
    """
    if not (low > 0 and previous_low > 0 and high >= low and previous_high >= previous_low):
        return math.nan  # also NaN (no previous bar, no high/low): every comparison with NaN is false
    beta = math.log(high / low) ** 2 + math.log(previous_high / previous_low) ** 2
    gamma = math.log(max(high, previous_high) / min(low, previous_low)) ** 2
    k = 3 - 2 * math.sqrt(2)
    alpha = (math.sqrt(2 * beta) - math.sqrt(beta)) / k - math.sqrt(gamma / k)
    spread = 2 * (math.exp(alpha) - 1) / (1 + math.exp(alpha))
    return max(spread, 0.0)


@attrs.frozen(kw_only=True)
class HalfSpreadSlippage:
    """Crossing half the bid-ask spread: ``f = spread / 2``.

    The spread, as a fraction of the price, is taken in this order: the bar's ``spread`` (ask - bid, in
    price units) divided by its close, when a caller supplies one (eventbt's price files have no spread
    column); else the Corwin-Schultz high-low estimate from the last completed bar and the one before
    (:func:`corwin_schultz_spread`); else ``spread_bps`` (default 0). ``spread_bps`` is therefore what a
    symbol's first bar pays (the estimate needs two consecutive bars) and what order sizing assumes (no
    bar). ``f`` is capped at ``max_fraction`` (default 0.5). Example: a spread of 0.10 on a close of 50.00 is
    a 20 bps spread; a buy at 50.00 fills at ``50.00 * (1 + 0.001) = 50.05``. Constant in quantity. Needs
    high and low prices in the data (``bar_fields``).
    """

    name: ClassVar[str] = "half_spread"
    monotone_in_quantity: ClassVar[bool] = True
    bar_fields: ClassVar[tuple[tuple[str, ...], ...]] = (("spread",), ("high", "low", "previous_high", "previous_low"))

    spread_bps: float = attrs.field(default=0.0, validator=finite_at_least_zero_field)
    max_fraction: float = attrs.field(default=0.5, validator=open_fraction_field)

    def spread(self, bar: BarContext | None) -> float:
        """The proportional spread this model uses for ``bar``."""
        if bar is not None:
            if bar.spread == bar.spread and bar.close > 0:
                return bar.spread / bar.close
            estimate = corwin_schultz_spread(bar.high, bar.low, bar.previous_high, bar.previous_low)
            if estimate == estimate:
                return estimate
        return self.spread_bps / 10_000

    def fill_price(self, side: int, reference_price: float, quantity: int, *,
                   bar: BarContext | None = None) -> float:
        return move(side, reference_price, _clip(self.spread(bar) / 2, self.max_fraction))


@attrs.frozen(kw_only=True)
class VolumeShareSlippage:
    """Impact growing with the square of the order's share of the bar's volume.

    ``share = min(quantity / volume, volume_limit)`` and ``f = price_impact * share ** 2``, the model and
    the defaults (``volume_limit = 0.025``, ``price_impact = 0.1``) of zipline's ``VolumeShareSlippage``.
    ``volume`` is the last completed bar's (see :class:`~eventbt.protocols.BarContext`). A volume of 0 makes
    the share the limit (the dearest case); no bar or an unknown (NaN) volume charges nothing. The share
    is capped here for the price only: limiting the filled quantity to a share of the volume is the
    execution's ``volume_limit`` (partial fills). Example: 1,000 shares against a volume of 100,000 is a
    1% share; ``f = 0.1 * 0.01**2 = 1e-5``, so a buy at 40.00 fills at 40.0004.
    """

    name: ClassVar[str] = "volume_share"
    monotone_in_quantity: ClassVar[bool] = True
    bar_fields: ClassVar[tuple[str, ...]] = ("volume",)

    volume_limit: float = attrs.field(default=0.025, validator=open_fraction_field)
    price_impact: float = attrs.field(default=0.1, validator=finite_at_least_zero_field)
    max_fraction: float = attrs.field(default=0.5, validator=open_fraction_field)

    def fraction(self, quantity: int, bar: BarContext | None) -> float:
        """The price move, as a fraction, for ``quantity`` shares at ``bar``."""
        if bar is None or quantity <= 0 or bar.volume != bar.volume:
            return 0.0
        share = self.volume_limit if bar.volume <= 0 else min(quantity / bar.volume, self.volume_limit)
        return _clip(self.price_impact * share * share, self.max_fraction)

    def fill_price(self, side: int, reference_price: float, quantity: int, *,
                   bar: BarContext | None = None) -> float:
        return move(side, reference_price, self.fraction(quantity, bar))


@attrs.frozen(kw_only=True)
class SqrtImpactSlippage:
    """The square-root law: ``f = coefficient * volatility * sqrt(quantity / average_volume)``.

    ``volatility`` is the daily standard deviation of close-to-close log returns and ``average_volume`` the
    mean daily volume, both over the execution's trailing window of completed bars (see
    :class:`~eventbt.protocols.BarContext`). The average impact of a large order (a metaorder) of ``Q``
    shares is found to be ``Y * sigma_daily * sqrt(Q / V_daily)`` with ``Y`` of order one: Toth, B.,
    Lemperiere, Y., Deremble, C., de Lataillade, J., Kockelkoren, J. and Bouchaud, J.-P., "Anomalous price
    impact and the critical nature of liquidity in financial markets", Physical Review X 1, 021006 (2011),
    which explains the law and adds empirical support; Sato, Y. and Kanazawa, K., "Does the square-root
    price impact law belong to the strict universal scalings?: quantitative support by a complete survey of
    the Tokyo stock exchange market" (arXiv:2411.13965, 2024), which measures the exponent at 1/2 within
    errors for every liquid stock on the Tokyo Stock Exchange over eight years. (Almgren, Thum, Hauptmann
    and Li, "Direct Estimation of Equity Market Impact", Risk, 2005, fit a 3/5 power instead, so they are
    not a source for the square root.) Hence the default ``coefficient = 1.0``. ``f`` is capped at
    ``max_fraction`` (default 0.1): the law is an average for orders up to a fraction of a day's volume, not
    a price for buying the market. An average volume of 0 charges the cap; no bar, or an unknown volatility
    or average volume (a symbol's first bars) charges nothing. Data without volumes is refused when the run
    is built (``bar_fields``). Example: 2,500 shares, volatility 2%, average volume 1,000,000:
    ``f = 1.0 * 0.02 * sqrt(0.0025) = 0.001``; a buy at 100.00 fills at 100.10.
    """

    name: ClassVar[str] = "sqrt_impact"
    monotone_in_quantity: ClassVar[bool] = True
    bar_fields: ClassVar[tuple[str, ...]] = ("volatility", "average_volume")

    coefficient: float = attrs.field(default=1.0, validator=finite_at_least_zero_field)
    max_fraction: float = attrs.field(default=0.1, validator=open_fraction_field)

    def fraction(self, quantity: int, bar: BarContext | None) -> float:
        """The price move, as a fraction, for ``quantity`` shares at ``bar``."""
        if bar is None or quantity <= 0:
            return 0.0
        volatility, volume = bar.volatility, bar.average_volume
        if volatility != volatility or volume != volume:
            return 0.0
        if volume <= 0:
            return self.max_fraction
        return _clip(self.coefficient * volatility * math.sqrt(quantity / volume), self.max_fraction)

    def fill_price(self, side: int, reference_price: float, quantity: int, *,
                   bar: BarContext | None = None) -> float:
        return move(side, reference_price, self.fraction(quantity, bar))
