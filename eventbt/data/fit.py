"""Checks of a loaded price panel against what a scenario asks of it, made before a run and by ``validate``.

A scenario can ask for more than closes: ``[portfolio] borrow_rates`` and a strategy's fixed weights name
symbols of the data, ``next_open`` fills need opens, a volume limit needs volumes, a bar-aware slippage model
needs the columns its ``bar_fields`` name, limit and stop orders need opens, highs and lows (``market_on_open``
orders opens; :func:`order_type_asks` lists where a scenario asks for them), and ``[data] missing = "error"``
refuses a gap inside a symbol's series.
:func:`check_fit` makes every one of these checks and raises the first failure as a one-line
:class:`~eventbt.errors.ScenarioError` (or :class:`~eventbt.errors.DataError` for a gap) naming the scenario
key and the data file; :func:`fit_problems` returns all of them, for ``eventbt validate``, which lists every
problem at once. Both take plain values, not a scenario, so the data wing depends on no other wing.

:func:`series_bounds` and :func:`interior_gaps` find each symbol's first and last close and the gaps inside
its series: calendar knowledge, like the rebalance schedule, not look-ahead into prices.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import attrs
import numpy as np

from eventbt.errors import DataError, EventbtError, ScenarioError, did_you_mean
from eventbt.prices import PriceData
from eventbt.protocols import bar_columns_needed

__all__ = ["Fit", "bounds_and_gaps", "check_bar_data", "check_fit", "fit_problems", "interior_gaps", "order_type_asks",
           "present_bounds", "present_gaps", "series_bounds"]


def _every_close(close: np.ndarray) -> bool:
    """Whether ``close`` (bars x symbols) has at least one bar and a close in every cell, from one sum: a NaN
    anywhere makes it NaN. A NaN sum without one (``inf - inf``) only sends the caller the long way.

    The common panel has no gap, and the sum reads it once where the long way makes and scans boolean copies of
    it: at 500 x 5,040 the bounds and gaps take 1.4 ms instead of 12."""
    if not len(close):
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        total = close.sum()
    return bool(total == total)


def _whole_series(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`series_bounds` of a panel with every close: each series spans every bar."""
    symbols = close.shape[1]
    return np.zeros(symbols, dtype=np.intp), np.full(symbols, len(close) - 1, dtype=np.intp)


def present_bounds(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row where ``present`` (bars x symbols, boolean) is true, per column (-1 for none): the
    bounds of the series whose closes are ``present``, for a caller that has that mask already."""
    any_price = present.any(axis=0)
    first = np.where(any_price, np.argmax(present, axis=0), -1)
    last = np.where(any_price, len(present) - 1 - np.argmax(present[::-1], axis=0), -1)
    return first, last


def series_bounds(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last bar with a close, per symbol (-1 for a symbol with none)."""
    return _whole_series(close) if _every_close(close) else present_bounds(~np.isnan(close))


def present_gaps(present: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int, int]]:
    """:func:`interior_gaps` of the series whose closes are ``present`` (bars x symbols, boolean) and whose bounds
    are ``bounds`` (:func:`present_bounds` of it), for a caller that has both already."""
    first, last = bounds
    listed = first >= 0
    # Bars between a symbol's first and last close, less the closes it has: its missing bars.
    missing = np.where(listed, last - first + 1, 0) - present.sum(axis=0)
    gaps = []
    for j in np.flatnonzero(missing > 0).tolist():
        inside = ~present[first[j]: last[j] + 1, j]
        gaps.append((j, int(first[j] + np.argmax(inside)), int(missing[j])))
    return gaps


def bounds_and_gaps(close: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], list[tuple[int, int, int]]]:
    """:func:`series_bounds` and :func:`interior_gaps` of ``close`` at once: for a panel with every close one sum
    answers both; otherwise one mask of the closes present serves both."""
    if _every_close(close):
        return _whole_series(close), []
    present = ~np.isnan(close)
    bounds = present_bounds(present)
    return bounds, present_gaps(present, bounds)


def interior_gaps(close: np.ndarray) -> list[tuple[int, int, int]]:
    """``(symbol index, first missing bar, number of missing bars)`` for each symbol with an interior gap."""
    return bounds_and_gaps(close)[1]


@attrs.frozen(kw_only=True)
class Fit:
    """What :func:`check_fit` found out about the panel on the way: each series' bounds and interior gaps."""

    bounds: tuple[np.ndarray, np.ndarray]
    gaps: tuple[tuple[int, int, int], ...]
    n_bars: int

    @property
    def series_end_early(self) -> bool:
        """Whether some symbol's prices end before the data does (a delisting)."""
        return bool((self.bounds[1] < self.n_bars - 1).any())


_COLUMN_WORDS = {"open": "open prices", "high": "high prices", "low": "low prices", "volume": "volumes",
                 "close": "closes", "spread": "a spread column"}
"""How an error names a missing data column."""


def check_bar_data(model: object, columns: Collection[str], *, reference: str, data_path: str, path: str | None,
                   table: str = "execution.slippage") -> None:
    """Refuse a bar-aware slippage ``model`` on data without the columns its ``bar_fields`` need.

    ``columns`` are the data's columns (``close`` and those of ``open``, ``high``, ``low``, ``volume`` it
    has). Without them such a model would price every fill with NaNs and charge nothing, silently. Raises a
    one-line :class:`ScenarioError` naming the model, what is missing and the data file, on ``table``'s
    ``model`` key, as ``[execution] volume_limit`` does for volumes.
    """
    def error(message: str) -> ScenarioError:
        return ScenarioError(f"[{table}] {message}", path=path, table=table, key="model")

    try:
        groups = bar_columns_needed(model)
    except ValueError as exc:
        raise error(f"model {reference!r} {exc}") from exc
    if not groups or any(all(column in columns for column in group) for group in groups):
        return
    # Name what the closest loadable group lacks (a spread column cannot be loaded, so it is named last).
    missing = min(([c for c in group if c not in columns] for group in groups),
                  key=lambda lacking: ("spread" in lacking, len(lacking)))
    if all(column in ("open", "high", "low") for column in missing):
        needs = " and ".join(missing) + " prices"  # "high and low prices"
    else:
        needs = " and ".join(_COLUMN_WORDS.get(column, f"a {column!r} column") for column in missing)
    raise error(f"model {reference!r} needs {needs}, but {data_path} has none (use a file with those columns, "
                "or a model that needs no bar such as fixed_bps)")


_ORDER_COLUMNS = {"limit": ("open", "high", "low"), "stop": ("open", "high", "low"), "market_on_open": ("open",)}
"""The price columns each order type needs (the others need closes only)."""


def _listed(words: Sequence[str]) -> str:
    """``open, high and low``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def order_type_asks(execution: Mapping[str, object], events: Sequence[Mapping[str, object]]) -> list[tuple[str, str]]:
    """``(table, order type)`` for each place a scenario asks for an order type that needs more than closes:
    ``[execution] order_type`` and each ``[[events]]`` order's, e.g. ``[("execution", "limit"), ("events[2]",
    "stop")]`` (plain values, as the scenario's tables hold them)."""
    asks = []
    kind = execution.get("order_type", "market")
    if kind in _ORDER_COLUMNS:
        asks.append(("execution", str(kind)))
    for index, event in enumerate(events):
        kind = event.get("order_type", "market")
        if event.get("type") == "order" and kind in _ORDER_COLUMNS:
            asks.append((f"events[{index}]", str(kind)))
    return asks


def _checks(prices: PriceData, *, source: str | None, data_path: str, timing: str, volume_limit: float | None,
            slippage: object | None, slippage_reference: str, missing: str,
            order_types: Sequence[tuple[str, str]] = (),
            borrow_rates: Collection[str] = (), from_frame: bool = False,
            strategy_symbols: Collection[str] = (), strategy: str = "",
            data_symbols: Collection[str] = ()) -> list[EventbtError | Fit]:
    """Each check's failure, in the order the scenario's tables come, then the :class:`Fit` (last)."""
    found: list[EventbtError | Fit] = []
    # where the missing columns would come from: a file the scenario names, or the frame passed from Python
    use = "pass a long DataFrame" if from_frame else "use a long or per-symbol file"
    for symbol in sorted(set(strategy_symbols) - set(prices.symbols)):
        if data_symbols and symbol not in data_symbols:  # the data may have it: [data] symbols chose without it
            found.append(ScenarioError(
                f"[strategy.params] strategy {strategy!r} names {symbol!r}, which [data] symbols leaves out: add "
                f"{symbol!r} to [data] symbols, or take it out of the strategy's weights", path=source,
                table="strategy.params", key="weights"))
            continue
        found.append(ScenarioError(
            f"[strategy.params] strategy {strategy!r} names {symbol!r}, which is not a symbol of the data "
            f"({data_path}){did_you_mean(symbol, prices.symbols)}", path=source, table="strategy.params",
            key="weights"))
    for symbol in sorted(set(borrow_rates) - set(prices.symbols)):
        found.append(ScenarioError(f"[portfolio.borrow_rates] {symbol!r} is not a symbol of the data ({data_path})"
                                   f"{did_you_mean(symbol, prices.symbols)}",
                                   path=source, table="portfolio.borrow_rates", key=symbol))
    if timing == "next_open" and prices.open is None:
        found.append(ScenarioError(
            f"[execution] timing = 'next_open' needs open prices, but {data_path} has none "
            f"({use} with an open column)",
            path=source, table="execution", key="timing",
        ))
    for table, kind in order_types:
        lacking = [column for column in _ORDER_COLUMNS[kind] if column not in prices.columns]
        if lacking:
            columns = _ORDER_COLUMNS[kind]
            wanted = f"{_listed(columns)} columns" if len(columns) > 1 else f"an {columns[0]} column"
            found.append(ScenarioError(
                f"[{table}] order_type = {kind!r} needs {_listed(lacking)} prices, but {data_path} has none "
                f"({use} with {wanted})", path=source, table=table, key="order_type"))
    if volume_limit is not None and prices.volume is None:
        found.append(ScenarioError(
            f"[execution] volume_limit = {volume_limit:g} needs volumes, but {data_path} "
            f"has none ({use} with a volume column)",
            path=source, table="execution", key="volume_limit",
        ))
    if slippage is not None:
        try:
            check_bar_data(slippage, prices.columns, reference=slippage_reference, data_path=data_path, path=source)
        except ScenarioError as exc:
            found.append(exc)
    bounds, gaps = bounds_and_gaps(prices.close)
    if gaps and missing == "error":
        j, bar, count = gaps[0]
        day = str(prices.dates[bar])[:10]
        found.append(DataError(f"close for {prices.symbols[j]!r} is missing on {day} ({count} bars missing "
                               "inside its series); expected no gap, or [data] missing = 'ffill'",
                               path=data_path, symbol=prices.symbols[j], date=day))
    found.append(Fit(bounds=bounds, gaps=tuple(gaps), n_bars=prices.n_bars))
    return found


def check_fit(prices: PriceData, *, source: str | None, data_path: str, timing: str = "same_close",
              volume_limit: float | None = None, slippage: object | None = None, slippage_reference: str = "",
              missing: str = "ffill", order_types: Sequence[tuple[str, str]] = (),
              borrow_rates: Collection[str] = (), from_frame: bool = False,
              strategy_symbols: Collection[str] = (), strategy: str = "", data_symbols: Collection[str] = ()) -> Fit:
    """Raise the first way ``prices`` do not fit the scenario's asks; else what was found out on the way.

    ``source`` is the scenario file and ``data_path`` the data as the scenario names it (both for messages);
    the other arguments are the scenario's ``[execution] timing`` and ``volume_limit``, its slippage model
    (and the name it was given), ``[data] missing``, the order types it asks for (:func:`order_type_asks`) and
    the symbols of ``[portfolio] borrow_rates``. ``from_frame``: the prices were passed as a DataFrame (a
    message then says to pass a long frame with the columns wanted, not to use a file). ``strategy_symbols``:
    the symbols the strategy (named ``strategy``) names before the run (:func:`eventbt.protocols.named_symbols`);
    ``data_symbols``: ``[data] symbols`` (empty: every symbol of the data), to say when it left a named one out.
    """
    *problems, fit = _checks(prices, source=source, data_path=data_path, timing=timing, volume_limit=volume_limit,
                             slippage=slippage, slippage_reference=slippage_reference, missing=missing,
                             order_types=order_types, borrow_rates=borrow_rates, from_frame=from_frame,
                             strategy_symbols=strategy_symbols, strategy=strategy, data_symbols=data_symbols)
    if problems:
        raise problems[0]  # type: ignore[misc]
    assert isinstance(fit, Fit)
    return fit


def fit_problems(prices: PriceData, **asks: object) -> list[str]:
    """Every way ``prices`` do not fit the scenario's asks, one line each (see :func:`check_fit`)."""
    *problems, _ = _checks(prices, **asks)  # type: ignore[arg-type]
    return [str(problem) for problem in problems]
