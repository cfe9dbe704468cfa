"""The data wing: price files in, a checked :class:`~eventbt.prices.PriceData` panel out.

- :mod:`eventbt.data.loaders`: wide, long, per-symbol-folder, zipped and parquet price files, read and
  validated into one panel (every problem a :class:`~eventbt.errors.DataError` naming the file, symbol, date
  and row);
- :mod:`eventbt.data.checks`: the checks applied while loading, and the warning scans for one-day jumps and
  stale prices;
- :mod:`eventbt.data.fit`: the prices against what a scenario asks of them;
- :mod:`eventbt.data.benchmark`: the ``[report] benchmark`` series, read before a run's first bar.

This module itself stays light (no pandas), so the scenario schema can take the warning defaults from it.
"""

__all__ = ["DEFAULT_JUMP_THRESHOLD", "DEFAULT_STALE_BARS"]

#: ``[data] jump_threshold``: a one-day close ratio below it, or above its inverse, is warned about.
DEFAULT_JUMP_THRESHOLD = 0.6
#: ``[data] stale_bars``: this many identical closes in a row are warned about (0: no check).
DEFAULT_STALE_BARS = 10
