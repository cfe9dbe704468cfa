"""The warm-up: bars before the first tradable bar that only the strategy sees (``[run] warmup``).

``[data] start`` .. ``end`` is the tradable period, the rows of the results. ``[run] warmup = N`` adds the N
bars of the data before ``start`` in front of it (fewer when the data has fewer before ``start``; with
``start`` empty, the data's first N bars are the warm-up and trading starts at the bar after them);
``warmup = "YYYY-MM-DD"`` adds the bars from that date up to ``start``. :func:`with_warmup` cuts a panel to
the warm-up and the tradable period and records the number of warm-up rows as ``PriceData.warmup_bars``.
:func:`warmup_warnings` and :func:`window_warnings` are the warnings about a warm-up shorter than asked and a
``start`` or ``end`` well outside the data; :func:`scenario_warnings` is every data warning a scenario's run
gives, in the order ``eventbt run`` and ``eventbt validate`` both print them.
"""

from __future__ import annotations

import attrs
import numpy as np

from eventbt.data.checks import Found, data_warnings, iso
from eventbt.errors import DataError
from eventbt.prices import PriceData

__all__ = ["WINDOW_SLACK_DAYS", "scenario_warnings", "warmup_shortened", "warmup_warnings", "window_warnings",
           "with_warmup"]


def with_warmup(prices: PriceData, *, start: str, end: str, warmup: int | str, path: str) -> PriceData:
    """The rows of ``prices`` from the warm-up's first bar to ``end``, the warm-up's length in ``warmup_bars``.

    ``prices`` must reach back far enough (loaded without ``start``); ``path`` names the data in messages.
    A ``start`` or ``end`` outside the data, or a warm-up that leaves no bar to trade, is a
    :class:`DataError`.
    """
    dates = prices.dates
    low, high = iso(dates[0]), iso(dates[-1])
    within = f"between {low} and {high}"
    if start and end and start <= end and start > high:  # the data was read up to end: none in the window
        raise DataError(f"no dates from {start} to {end}; expected a range holding at least one date (the last "
                        f"date before {start} is {high})", path=path, date=start)
    if start and start > high:
        raise DataError(f"start {start} is after the last date ({high}); expected a start {within}", path=path,
                        date=start)
    if end and end < low:
        raise DataError(f"end {end} is before the first date ({low}); expected an end {within}", path=path, date=end)
    stop = len(dates) if not end else int(np.searchsorted(dates, np.datetime64(end, "ns"), side="right"))
    if isinstance(warmup, str):
        begin = int(np.searchsorted(dates, np.datetime64(warmup, "ns")))
        first = int(np.searchsorted(dates, np.datetime64(start, "ns"))) if start else begin
    elif start:
        first = int(np.searchsorted(dates, np.datetime64(start, "ns")))
        begin = max(first - warmup, 0)
    else:
        begin, first = 0, warmup
    if first >= stop:
        last = iso(dates[stop - 1]) if stop else low
        raise DataError(f"[run] warmup = {warmup!r} leaves no bar to trade: the warm-up reaches to {last}, the last "
                        "bar of the run; expected a shorter warm-up or a later [data] end", path=path)
    cut = prices.select(start=dates[begin], end=dates[stop - 1])
    return attrs.evolve(cut, warmup_bars=first - begin)


def warmup_shortened(prices: PriceData, warmup: int | str) -> bool:
    """Whether the warm-up of ``prices`` (cut by :func:`with_warmup`) is shorter than ``warmup`` asks: fewer than
    N bars before ``start``, or a date before the data's first date (the warm-up then starts at that date)."""
    if isinstance(warmup, str):
        return bool(warmup) and warmup < iso(prices.dates[0])
    return bool(warmup) and prices.warmup_bars < warmup


def warmup_warnings(prices: PriceData, *, warmup: int | str, start: str, path: str) -> list[str]:
    """A warning line when the warm-up is shorter than asked (:func:`warmup_shortened`)."""
    if not warmup_shortened(prices, warmup):
        return []
    if isinstance(warmup, str):
        return [f"{path}: [run] warmup = {warmup}, but the data starts on {iso(prices.dates[0])}, "
                f"{prices.warmup_bars} bars before [data] start {start}; the strategy warms up on those"]
    return [f"{path}: [run] warmup = {warmup} bars, but the data has only {prices.warmup_bars} before [data] start "
            f"{start}; the strategy warms up on those"]


WINDOW_SLACK_DAYS = 7
"""How many days a ``[data] start`` may lie before the first date of the data from it on (or an ``end`` after the
last up to it) without a warning: a start on a weekend or holiday just before the data is no mistake; a year
written wrong is."""


def window_warnings(prices: PriceData, *, start: str, end: str, path: str) -> list[str]:
    """A warning line for a ``[data] start`` more than :data:`WINDOW_SLACK_DAYS` days before the first date of
    ``prices`` from it on, and one for an ``end`` as far after the last date up to it: the run silently starts (or
    ends) there, which a typo in the year would hide. Worked out from the run's prices alone, so a run given
    them (``eventbt run``, a sweep) warns as one that reads them (``eventbt.run``) does."""
    lines = []
    dates = prices.dates
    at = int(np.searchsorted(dates, np.datetime64(start, "ns"))) if start else len(dates)
    if at < len(dates):
        first = iso(dates[at])
        days = int((np.datetime64(first, "D") - np.datetime64(start, "D")) // np.timedelta64(1, "D"))
        if days > WINDOW_SLACK_DAYS:
            lines.append(f"{path}: [data] start {start} is {days:,} days before the data's first date from then on, "
                         f"{first}, where the run starts; check the date, or leave start empty to start with the data")
    if end and len(dates):
        last = iso(dates[-1])
        days = int((np.datetime64(end, "D") - np.datetime64(last, "D")) // np.timedelta64(1, "D"))
        if days > WINDOW_SLACK_DAYS:
            lines.append(f"{path}: [data] end {end} is {days:,} days after the data's last date up to then, {last}, "
                         "where the run ends; check the date, or leave end empty to run to the end of the data")
    return lines


def scenario_warnings(prices: PriceData, path: str, *, start: str, end: str, warmup: int | str,
                      jump_threshold: float, stale_bars: int, missing: str,
                      found: Found | None = None) -> list[str]:
    """Every warning about a scenario's data (``path`` names it): the data's own
    (:func:`eventbt.data.checks.data_warnings`; ``found`` the fit check's bounds and gaps, not worked out again),
    then a ``start`` or ``end`` far outside its dates (a year written wrong), then a warm-up shorter than asked
    (the audit log also has its ``warmup_shortened`` note). One list for ``eventbt run`` and ``eventbt validate``,
    so that a new warning reaches both."""
    lines = data_warnings(prices, path, jump_threshold=jump_threshold, stale_bars=stale_bars, missing=missing,
                          found=found)
    lines += window_warnings(prices, start=start, end=end, path=path)
    return lines + warmup_warnings(prices, warmup=warmup, start=start, path=path)
