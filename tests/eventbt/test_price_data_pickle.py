"""A price panel sent to another process (a sweep's workers) arrives with its arrays aligned.

Dask ships the panel's arrays as out-of-band pickle buffers and its network layer may hand them back at any byte
offset of a larger buffer; numpy then works on misaligned float64 rows through slower loops. Here the buffers are
given back three bytes in, as such a transport can, and the arrays must come out aligned and equal.
"""

from __future__ import annotations

import pickle

import numpy as np

from eventbt.bench import workloads
from eventbt.prices import PriceData


def _misaligned_round_trip(prices: PriceData) -> PriceData:
    """Pickle with protocol 5, each out-of-band buffer given back at byte offset 3 of a fresh bytearray."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(prices, protocol=5, buffer_callback=buffers.append)
    shifted = []
    for buffer in buffers:
        raw = buffer.raw()
        holder = bytearray(len(raw) + 3)
        holder[3:] = raw
        shifted.append(memoryview(holder)[3:])
    loaded: PriceData = pickle.loads(data, buffers=shifted)
    return loaded


def test_a_panel_given_back_at_an_odd_offset_is_aligned_and_equal() -> None:
    prices = workloads.gbm_prices(7, 40)
    prices = PriceData(dates=prices.dates, symbols=prices.symbols, close=prices.close,
                       volume=np.full(prices.close.shape, 1e6), sources={"in memory": "abc"}, warmup_bars=2)
    # The transport's view first: numpy on those buffers alone would be misaligned.
    probe: list[pickle.PickleBuffer] = []
    pickle.dumps(prices.close, protocol=5, buffer_callback=probe.append)
    holder = bytearray(prices.close.nbytes + 3)
    assert not np.frombuffer(memoryview(holder)[3:], dtype=np.float64).flags.aligned

    loaded = _misaligned_round_trip(prices)

    for name in ("dates", "close", "volume"):
        array = getattr(loaded, name)
        assert array.flags.aligned and array.flags.c_contiguous, name
        assert array.flags.writeable == getattr(prices, name).flags.writeable, name  # the prices stay read-only
        np.testing.assert_array_equal(array, getattr(prices, name))
    assert (loaded.symbols, loaded.sources, loaded.warmup_bars, loaded.open, loaded.actions) == (
        prices.symbols, prices.sources, prices.warmup_bars, None, ())


def test_a_plain_pickle_round_trip_keeps_every_field() -> None:
    prices = workloads.gbm_prices(3, 10)
    loaded = pickle.loads(pickle.dumps(prices))
    assert loaded.symbols == prices.symbols and loaded.actions == prices.actions
    np.testing.assert_array_equal(loaded.close, prices.close)
    np.testing.assert_array_equal(loaded.dates, prices.dates)
