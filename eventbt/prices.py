"""The price panel a run reads: dates x symbols arrays, loaded once at the edge of a run, and the corporate
actions that go with them.

Everything downstream of loading (the data feed, the portfolio's marking) works on these numpy arrays,
never on pandas objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ACTIONS_OFFSET_NS", "CorporateAction", "MissingText", "PriceData"]

FIELDS = ("open", "high", "low", "close", "volume")

ACTIONS_OFFSET_NS = 9 * 3_600_000_000_000
"""09:00 of a bar's day, in nanoseconds after midnight: when the data feed publishes the bar's corporate actions
(and the corporate-actions handler a dividend paid on that bar)."""


@attrs.frozen(kw_only=True, slots=True)
class CorporateAction:
    """One corporate action of ``symbol`` taking effect on ``date`` (ISO ``YYYY-MM-DD``, the ex-date).

    ``kind`` is ``"split"`` or ``"dividend"`` (:data:`eventbt.protocols.ACTION_TYPES`). For a split, ``value`` is
    the ratio: new shares per old share (7.0 for a 7-for-1 split, 0.1 for a 1-for-10 reverse split); for a
    dividend, the cash paid per share held at the previous close, in account currency. ``pay_date`` is a
    dividend's pay date when the source gives one (else ``""``). ``source`` and ``row`` name the file and
    its 1-based data row, for messages.
    """

    date: str
    symbol: str
    kind: str
    value: float
    pay_date: str = ""
    source: str = ""
    row: int = 0

    @property
    def order(self) -> tuple[str, str, int]:
        """The order actions are published in: by date, then symbol, a dividend before a split."""
        return self.date, self.symbol, 0 if self.kind == "dividend" else 1


@attrs.frozen(slots=True)
class MissingText:
    """A price cell written as text that means "no price" (``#N/A``, ``null``, ``NaN``...), read as missing:
    the ``field`` of ``symbol`` on ``date`` (ISO). An empty cell is not one: it is the usual way to say so."""

    symbol: str
    field: str
    date: str
    text: str


def _actions(actions: Iterable[CorporateAction]) -> tuple[CorporateAction, ...]:
    return tuple(actions)


def _readonly(array: np.ndarray | None) -> np.ndarray | None:
    if array is not None:
        array.setflags(write=False)
    return array


@attrs.frozen(kw_only=True)
class PriceData:
    """Daily bars for a sorted set of symbols.

    ``dates`` is ``datetime64[ns]`` (midnight, tz-naive), strictly increasing. Each field is a float64 array
    of shape ``(len(dates), len(symbols))``; NaN means "no bar" (the symbol is not listed yet, or has ended).
    ``close`` is always present; ``open``, ``high``, ``low`` and ``volume`` are ``None`` when the source has
    none. ``sources`` maps each file read to its SHA-256, for the audit header and replay.

    ``actions`` are the corporate actions of these symbols and dates, in :attr:`CorporateAction.order` (empty
    unless the scenario reads them: ``[data] corporate_actions``). The first ``warmup_bars`` rows are the
    warm-up (``[run] warmup``): the strategy sees them, nothing trades on them and no result records them.
    ``missing_text`` lists the cells the source wrote as text meaning "no price" (a warning, not an error);
    ``float32_symbols`` the symbols whose prices the source stored as 32-bit (or 16-bit) floats, widened exactly
    to float64 (a warning when that changes the decimals they print as: see
    :func:`eventbt.data.checks.float32_message`), and ``float16_symbols`` those of them stored as 16-bit floats.
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    close: np.ndarray = attrs.field(converter=_readonly)
    open: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    high: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    low: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    volume: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    sources: dict[str, str] = attrs.field(factory=dict)
    actions: tuple[CorporateAction, ...] = attrs.field(default=(), converter=_actions)
    warmup_bars: int = 0
    missing_text: tuple[MissingText, ...] = ()
    float32_symbols: tuple[str, ...] = ()
    float16_symbols: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if list(self.symbols) != sorted(self.symbols):
            raise ValueError("PriceData.symbols must be sorted")
        shape = (len(self.dates), len(self.symbols))
        for name in FIELDS:
            array = getattr(self, name)
            if array is not None and array.shape != shape:
                raise ValueError(f"PriceData.{name} has shape {array.shape}, expected {shape}")
        if not 0 <= self.warmup_bars < max(len(self.dates), 1):
            raise ValueError(f"PriceData.warmup_bars is {self.warmup_bars}, expected 0 <= it < {len(self.dates)}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled field by field, unpickled by :func:`_unpickled`, which aligns the arrays (a sweep's workers get
        the panel this way)."""
        return _unpickled, (attrs.asdict(self, recurse=False),)

    @property
    def n_bars(self) -> int:
        return len(self.dates)

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    @property
    def columns(self) -> tuple[str, ...]:
        """The fields this data has, in :data:`FIELDS` order (``close`` always)."""
        return tuple(name for name in FIELDS if getattr(self, name) is not None)

    @classmethod
    def from_frames(
        cls, close: pd.DataFrame, *, sources: dict[str, str] | None = None, **others: pd.DataFrame | None
    ) -> PriceData:
        """Build from a close DataFrame (DatetimeIndex x symbols) and optional open/high/low/volume frames.

        Columns are sorted; the other frames are aligned to ``close``'s index and columns.
        """
        close = close.sort_index(axis=1)
        symbols = tuple(str(s) for s in close.columns)
        arrays: dict[str, np.ndarray | None] = {}
        for name in ("open", "high", "low", "volume"):
            frame = others.get(name)
            arrays[name] = (
                None
                if frame is None
                else np.ascontiguousarray(frame.reindex(index=close.index, columns=close.columns), dtype=float)
            )
        dates = close.index.to_numpy(dtype="datetime64[ns]")
        return cls(
            dates=dates,
            symbols=symbols,
            close=np.ascontiguousarray(close.to_numpy(dtype=float)),
            sources=dict(sources or {}),
            open=arrays["open"],
            high=arrays["high"],
            low=arrays["low"],
            volume=arrays["volume"],
        )

    def to_frame(self, field: str = "close") -> pd.DataFrame:
        """One field as a DataFrame (dates x symbols); for tests and reports, never the hot path."""
        import pandas as pd

        array = getattr(self, field)
        if array is None:
            raise KeyError(f"no {field!r} prices in this data")
        return pd.DataFrame(array, index=pd.DatetimeIndex(self.dates, name="date"), columns=list(self.symbols))

    def select(self, symbols: tuple[str, ...] | None = None, start: np.datetime64 | None = None,
               end: np.datetime64 | None = None) -> PriceData:
        """A sub-panel: some symbols (sorted) and dates between start and end inclusive."""
        rows = np.ones(len(self.dates), dtype=bool)
        if start is not None:
            rows &= self.dates >= start
        if end is not None:
            rows &= self.dates <= end
        if symbols is None:
            cols = np.arange(len(self.symbols))
            chosen = self.symbols
        else:
            chosen = tuple(sorted(symbols))
            index = {s: i for i, s in enumerate(self.symbols)}
            cols = np.array([index[s] for s in chosen], dtype=int)

        def cut(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else np.ascontiguousarray(array[rows][:, cols])

        dates = self.dates[rows]
        days = {str(day)[:10] for day in dates}
        kept = set(chosen)
        warmup = int(np.count_nonzero(rows[: self.warmup_bars]))  # the warm-up rows kept
        return PriceData(
            dates=dates,
            symbols=chosen,
            close=self.close[rows][:, cols].copy(),
            open=cut(self.open),
            high=cut(self.high),
            low=cut(self.low),
            volume=cut(self.volume),
            sources=dict(self.sources),
            actions=tuple(a for a in self.actions if a.symbol in kept and a.date in days),
            warmup_bars=warmup if warmup < len(dates) else 0,
            missing_text=tuple(m for m in self.missing_text if m.symbol in kept and m.date in days),
            float32_symbols=tuple(symbol for symbol in self.float32_symbols if symbol in kept),
            float16_symbols=tuple(symbol for symbol in self.float16_symbols if symbol in kept),
        )


def _unpickled(fields: dict[str, Any]) -> PriceData:
    """A :class:`PriceData` from its pickled fields, each array aligned and C-ordered.

    Dask sends a sweep's panel to its workers as out-of-band pickle buffers, and its network layer may give them
    back at any byte offset of a larger buffer; numpy then reads every row of a misaligned float64 array through
    slower loops (3% of a rotation combination's time, measured). An array that arrives misaligned is copied once
    here; one that arrives aligned is kept as it is.
    """
    for name in ("dates", *FIELDS):
        array = fields[name]
        if array is not None and not (array.flags.aligned and array.flags.c_contiguous):
            fields[name] = np.array(array, order="C")
    return PriceData(**fields)
