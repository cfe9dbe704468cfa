"""The price panel a run reads: dates x symbols arrays, loaded once at the edge of a run.

Everything downstream of loading (the data feed, the portfolio's marking) works on these numpy arrays,
never on pandas objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PriceData"]

FIELDS = ("open", "high", "low", "close", "volume")


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
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    close: np.ndarray = attrs.field(converter=_readonly)
    open: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    high: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    low: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    volume: np.ndarray | None = attrs.field(default=None, converter=_readonly)
    sources: dict[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if list(self.symbols) != sorted(self.symbols):
            raise ValueError("PriceData.symbols must be sorted")
        shape = (len(self.dates), len(self.symbols))
        for name in FIELDS:
            array = getattr(self, name)
            if array is not None and array.shape != shape:
                raise ValueError(f"PriceData.{name} has shape {array.shape}, expected {shape}")

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
            **arrays,
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

        return PriceData(
            dates=self.dates[rows],
            symbols=chosen,
            close=self.close[rows][:, cols].copy(),
            open=cut(self.open),
            high=cut(self.high),
            low=cut(self.low),
            volume=cut(self.volume),
            sources=dict(self.sources),
        )
