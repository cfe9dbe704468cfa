"""frame_csv writes the text DataFrame.to_csv writes: checked against pandas itself on random frames, a run's
frames and the frames it hands to pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventbt.prices import PriceData
from eventbt.results.csv_text import frame_csv
from eventbt.simulation import Simulation
from tests.properties.scripted import scripted_config


def test_repr_writes_the_digits_numpy_writes() -> None:
    """frame_csv writes floats with repr where pandas uses numpy's astype(str): the same text for every finite
    float, checked on random bit patterns (every exponent) and on the magnitudes prices and weights have."""
    rng = np.random.default_rng(11)
    values = rng.integers(0, 2**64, size=100_000, dtype=np.uint64).view(np.float64)
    values = values[np.isfinite(values)]
    scaled = np.concatenate([rng.random(10_000) * scale for scale in (1e-9, 1e-4, 1.0, 1e4, 1e9, 1e15, 1e17)])
    for sample in (values, scaled, -scaled, np.round(scaled, 2)):
        assert list(map(repr, sample.tolist())) == sample.astype(str).tolist()


def _random_frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    floats = rng.normal(0, 1e3, size=(rows, 3))
    floats[rng.random((rows, 3)) < 0.2] = np.nan
    if rows:
        floats[0, 0], floats[-1, 1] = -0.0, np.inf
        floats[rows // 2, 2] = 1e16
    words = np.array(["AAPL", "BRK,B", 'say "hi"', "two\nlines", " lead", ""], dtype=object)
    texts = pd.array(rng.choice(words, size=rows), dtype="str")
    if rows:
        texts[rows // 3] = None
    return pd.DataFrame({
        "price": floats[:, 0], "value": floats[:, 1], "weight": floats[:, 2],
        "quantity": rng.integers(-10**12, 10**12, size=rows), "symbol": texts,
        "day": pd.DatetimeIndex(np.datetime64("1999-12-30") + rng.integers(0, 9_000, size=rows)),
    }, index=pd.DatetimeIndex(np.datetime64("2001-01-01") + np.arange(rows), name="when"))


@pytest.mark.parametrize("rows", [0, 1, 7, 300])
def test_the_text_of_random_frames_is_pandas_text(rows: int) -> None:
    """Floats (NaN, -0.0, inf, 1e16), whole numbers, texts that need quoting (a comma, quotes, a newline) or a
    missing one, dates at midnight; with the index (a date index) and without."""
    frame = _random_frame(np.random.default_rng(rows), rows)
    assert frame_csv(frame, index_label="date") == frame.to_csv(index_label="date")
    assert frame_csv(frame) == frame.to_csv(index=False)
    numbers = frame[["price", "value", "weight", "quantity", "day"]]  # nothing that needs quoting: joined directly
    assert frame_csv(numbers, index_label="date") == numbers.to_csv(index_label="date")
    floats = frame[["price", "value", "weight"]]  # floats only on dates: made as one array
    assert frame_csv(floats, index_label="date") == floats.to_csv(index_label="date")
    one = frame[["price"]]  # a row of one field: an empty one is quoted
    assert frame_csv(one) == one.to_csv(index=False)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [1.5, 2.0]}, index=pd.DatetimeIndex(["2020-01-02 16:00", "2020-01-03"])),  # a time of day
    pd.DataFrame({"a": [1.5, 2.0]}, index=pd.DatetimeIndex(["2020-01-02", None])),  # a missing date
    pd.DataFrame({"a": [1.5, 2.0]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"], tz="UTC")),
    pd.DataFrame({"a": [1.5, 2.0]}, index=pd.Index([3, 4])),  # not dates
    pd.DataFrame({"a": [True, False]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"])),  # bools
    pd.DataFrame({"a": [1, "x"]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"]), dtype=object),
    pd.DataFrame({"a": np.array([1.5, 2.0], dtype=np.float32)}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"])),
    pd.DataFrame({np.nan: [1.5, 2.0]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"])),  # a NaN label
    pd.DataFrame({3: [1.5, 2.0]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"])),  # a number for a label
    pd.DataFrame(index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"])),  # no columns
    # dates that are not numpy's: with a time zone, and pyarrow's (both report kind "M")
    pd.DataFrame({"d": pd.DatetimeIndex(["2020-01-02", "2020-01-03"], tz="UTC"), "a": [1.5, 2.0]}),
    pd.DataFrame({"d": pd.array(pd.DatetimeIndex(["2020-01-02", "2020-01-03"]), dtype="timestamp[ns][pyarrow]"),
                  "a": [1.5, 2.0]}),
    pd.DataFrame({"d": pd.array(pd.DatetimeIndex(["2020-01-02", "2020-01-03"]), dtype="date32[pyarrow]"),
                  "a": [1.5, 2.0]}),
], ids=["time of day", "NaT", "zone", "integer index", "bool", "mixed objects", "float32", "NaN label",
        "number label", "no columns", "zone column", "pyarrow timestamps", "pyarrow dates"])
def test_frames_it_does_not_write_itself_are_written_by_pandas(frame: pd.DataFrame) -> None:
    assert frame_csv(frame, index_label="date") == frame.to_csv(index_label="date")
    assert frame_csv(frame) == frame.to_csv(index=False)


def test_a_runs_result_files_are_the_text_pandas_writes() -> None:
    """The four frames of a run (equity, trades, weights, signals), each as to_csv writes it."""
    config = scripted_config({0: {"A": 0.5, "B": 0.25}, 2: {"A": 0.1, "C": 0.6}, 4: {}},
                             portfolio={"initial_cash": 10_000.0})
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"], dtype="datetime64[ns]")
    close = np.array([[10.0, 20.0, 5.0], [10.5, 19.0, np.nan], [11.0, 18.5, 5.5], [10.0, 21.0, 6.0],
                      [9.5, 22.0, 6.5]])
    result = Simulation(config, prices=PriceData(dates=dates, symbols=("A", "B", "C"), close=close)).run()
    assert result is not None and len(result.trades) > 0
    for frame in (result.equity, result.weights, result.signals):
        assert frame_csv(frame, index_label="date") == frame.to_csv(index_label="date")
    assert frame_csv(result.trades) == result.trades.to_csv(index=False)


def test_a_run_without_trades_writes_the_header_of_trades_csv() -> None:
    """No signal trades anything: the trades frame has no rows but every column (the date typed as dates, the
    rest as pandas types an empty column), and its file is the header alone, as to_csv writes it."""
    from eventbt.results.result import TRADE_COLUMNS

    config = scripted_config({}, portfolio={"initial_cash": 10_000.0})
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    result = Simulation(config, prices=PriceData(dates=dates, symbols=("A",), close=np.array([[10.0], [11.0]]))).run()
    assert result is not None
    trades = result.trades
    assert trades.empty and list(trades.columns) == list(TRADE_COLUMNS)
    assert trades["date"].dtype == "datetime64[ns]" and isinstance(trades.index, pd.RangeIndex)
    assert all(trades[column].dtype == object for column in TRADE_COLUMNS[1:])
    # The header as docs/results.md lists trades.csv's columns, written out here rather than taken from the code.
    header = "date,symbol,side,quantity,price,reference_price,commission,slippage,realized_pnl,order_id,fill_id\n"
    assert frame_csv(trades) == trades.to_csv(index=False) == header
