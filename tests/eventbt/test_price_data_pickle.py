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
from eventbt.prices import CorporateAction, MissingText, PriceData


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
    """Every field set, none left at its default: the bars, a split and a dividend, a cell written as text, a
    symbol stored as float32 and one as float16, the sources and the warm-up."""
    close = workloads.gbm_prices(3, 10).close
    prices = PriceData(dates=workloads.gbm_prices(3, 10).dates, symbols=("A", "B", "C"), close=close,
                       open=close * 0.99, high=close * 1.02, low=close * 0.97, volume=np.full(close.shape, 5e5),
                       sources={"prices.csv": "abc"}, warmup_bars=2,
                       actions=(CorporateAction(date="2020-01-06", symbol="A", kind="dividend", value=0.25),
                                CorporateAction(date="2020-01-07", symbol="B", kind="split", value=2.0)),
                       missing_text=(MissingText(symbol="C", field="close", date="2020-01-08", text="#N/A"),),
                       float32_symbols=("B", "C"), float16_symbols=("C",))
    left_empty = [field.name for field in attrs.fields(PriceData)
                  if not isinstance(getattr(prices, field.name), np.ndarray) and not getattr(prices, field.name)]
    assert not left_empty  # no None, empty or 0: so each comparison below can fail
    loaded = pickle.loads(pickle.dumps(prices))
    for field in attrs.fields(PriceData):
        mine, theirs = getattr(loaded, field.name), getattr(prices, field.name)
        if isinstance(theirs, np.ndarray):
            np.testing.assert_array_equal(mine, theirs, err_msg=field.name)
        else:
            assert mine == theirs, field.name
