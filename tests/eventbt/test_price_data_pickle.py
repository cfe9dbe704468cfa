"""A price panel sent to another process (a sweep's workers) arrives with its arrays aligned.

Dask ships the panel's arrays as out-of-band pickle buffers and its network layer may hand them back at any byte
offset of a larger buffer; numpy then works on misaligned float64 rows through slower loops. Here the buffers are
given back three bytes in, as such a transport can, and the arrays must come out aligned and equal.
"""

from __future__ import annotations

import pickle

import attrs
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
        # numpy on the transport's view alone would be misaligned: what the unpickling has to mend
        assert not np.frombuffer(shifted[-1], dtype=np.float64).flags.aligned
    assert len(buffers) >= 2  # the arrays went out of band (dates and closes at least)
    loaded: PriceData = pickle.loads(data, buffers=shifted)
    return loaded


def test_a_panel_given_back_at_an_odd_offset_is_aligned_and_equal() -> None:
    prices = workloads.gbm_prices(7, 40)
    prices = PriceData(dates=prices.dates, symbols=prices.symbols, close=prices.close,
                       volume=np.full(prices.close.shape, 1e6), sources={"in memory": "abc"}, warmup_bars=2)
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
    for field in attrs.fields(PriceData):
        mine, theirs = getattr(loaded, field.name), getattr(prices, field.name)
        if isinstance(theirs, np.ndarray):
            np.testing.assert_array_equal(mine, theirs, err_msg=field.name)
        else:
            assert mine == theirs, field.name
