"""Loading the shipped price files and the loader's layouts, date columns, options and sources."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventbt.data import loaders
from eventbt.data.loaders import load_prices
from eventbt.errors import DataError
from eventbt.prices import PriceData

DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"
OHLCV = ("open", "high", "low", "close", "volume")


def raw_text(path: Path) -> str:
    """A shipped file's CSV text, decompressed with the standard library only."""
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return archive.read(archive.namelist()[0]).decode()
    return path.read_bytes().decode()


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The data rows of a shipped file as text, read with the csv module."""
    return list(csv.DictReader(io.StringIO(raw_text(path), newline="")))


def raw_day(text: str) -> np.datetime64:
    """A date cell as written in the shipped files (ISO, or M/D/YYYY in the ffn file)."""
    if "/" in text:
        return np.datetime64(dt.datetime.strptime(text, "%m/%d/%Y").date(), "ns")
    return np.datetime64(text[:10], "ns")


def value_at(prices: PriceData, field: str, day: np.datetime64, symbol: str) -> float:
    array = getattr(prices, field)
    return float(array[np.searchsorted(prices.dates, day), prices.symbols.index(symbol)])


WIDE_FILES = [
    # file, date column, rows, symbols, first date, last date
    ("skfolio/sp500_dataset.csv.gz", "Date", 8313,
     "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC UNH WMT XOM", "1990-01-02", "2022-12-28"),
    ("skfolio/sp500_index.csv.gz", "Date", 8313, "SP500", "1990-01-02", "2022-12-28"),
    ("ffn/test_data.csv", "Date", 2517, "AAPL C MSFT", "2004-03-10", "2014-03-10"),
    ("pypfopt/stock_prices.csv", "date", 7126,
     "AAPL AMD AMZN BABA BAC BBY FB GE GM GOOG JPM MA PFE RRC SBUX SHLD T UAA WMT XOM", "1989-12-29", "2018-04-11"),
]


@pytest.mark.parametrize(("name", "date_column", "rows", "symbols", "first", "last"), WIDE_FILES)
def test_wide_files_load_with_their_shape_dates_and_raw_values(
    name: str, date_column: str, rows: int, symbols: str, first: str, last: str
) -> None:
    """Each shipped wide file gives its documented shape and dates, and closes equal to the raw text."""
    prices = load_prices(DATA / name)
    assert prices.dates.dtype == np.dtype("datetime64[ns]")
    assert prices.close.shape == (rows, len(symbols.split()))
    assert prices.symbols == tuple(symbols.split())
    assert (str(prices.dates[0])[:10], str(prices.dates[-1])[:10]) == (first, last)
    assert prices.open is prices.high is prices.low is prices.volume is None
    records = raw_rows(DATA / name)
    for record in (records[0], records[len(records) // 2], records[-1]):
        for symbol in prices.symbols:
            got = value_at(prices, "close", raw_day(record[date_column]), symbol)
            if record[symbol] == "":
                assert np.isnan(got)
            else:
                assert got == float(record[symbol])


DIRECTORIES = [
    # folder, date column, rows, symbols, first date, last date
    ("zipline/csvdir_daily", "date", 754, ("AAPL", "IBM", "KO", "MSFT"), "2012-01-03", "2014-12-31"),
    ("zipline/pipeline_inputs", "day", 127, ("AAPL", "BRK-A", "MSFT"), "2014-03-03", "2014-08-29"),
    ("pandas_ta", "date", 5241, ("SPY_D",), "1999-11-01", "2020-08-28"),
]


@pytest.mark.parametrize(("folder", "date_column", "rows", "symbols", "first", "last"), DIRECTORIES)
def test_per_symbol_folders_load_all_five_fields(
    folder: str, date_column: str, rows: int, symbols: tuple[str, ...], first: str, last: str
) -> None:
    """Each shipped folder gives open/high/low/close/volume for every symbol, equal to the raw text."""
    prices = load_prices(DATA / folder)
    assert prices.symbols == symbols
    assert (str(prices.dates[0])[:10], str(prices.dates[-1])[:10]) == (first, last)
    for field in OHLCV:
        assert getattr(prices, field).shape == (rows, len(symbols))
        assert not np.isnan(getattr(prices, field)).any()
    for symbol in symbols:
        path = next(DATA.joinpath(folder).glob(f"{symbol}.csv*"))
        records = raw_rows(path)
        for record in (records[0], records[rows // 3], records[-1]):
            for field in OHLCV:
                assert value_at(prices, field, raw_day(record[date_column]), symbol) == float(record[field])


def test_split_column_is_not_applied() -> None:
    """AAPL in the csvdir files keeps its written (already adjusted) closes around the flagged 7:1 split."""
    prices = load_prices(DATA / "zipline/csvdir_daily", symbols=["AAPL"])
    # raw rows: 2014-06-06 close 92.224289 (split 1.0), 2014-06-09 close 93.699997 (split 7.0)
    assert value_at(prices, "close", np.datetime64("2014-06-06", "ns"), "AAPL") == 92.224289
    assert value_at(prices, "close", np.datetime64("2014-06-09", "ns"), "AAPL") == 93.699997


def test_quandl_zip_loads_as_a_ragged_long_panel() -> None:
    """The zipped long file gives 4 symbols on 252 dates, with ZEN empty before its 2014-05-15 listing."""
    path = DATA / "zipline/quandl_samples/QUANDL_ARCHIVE.zip"
    prices = load_prices(path)
    assert prices.symbols == ("AAPL", "BRK_A", "MSFT", "ZEN")
    assert prices.close.shape == (252, 4)
    zen = prices.close[:, 3]
    assert int((~np.isnan(zen)).sum()) == 160
    assert str(prices.dates[int(np.argmax(~np.isnan(zen)))])[:10] == "2014-05-15"
    for record in raw_rows(path)[::97]:
        for field in OHLCV:
            assert value_at(prices, field, raw_day(record["date"]), record["ticker"]) == float(record[field])


def test_pypfopt_leading_gaps_stay_nan() -> None:
    """GOOG has no price in the 3691 rows before 2004-08-19, as the raw file's empty cells say."""
    prices = load_prices(DATA / "pypfopt/stock_prices.csv", symbols=["GOOG"])
    empty = [record["date"] for record in raw_rows(DATA / "pypfopt/stock_prices.csv") if record["GOOG"] == ""]
    assert len(empty) == 3691
    assert np.isnan(prices.close[:3691, 0]).all()
    assert str(prices.dates[3691])[:10] == "2004-08-19"
    assert not np.isnan(prices.close[3691:, 0]).any()


def shipped_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


def test_provenance_lists_every_shipped_file_with_its_sha256() -> None:
    """The SHA-256 block of PROVENANCE.md matches the bytes of exactly the files shipped."""
    text = (DATA / "PROVENANCE.md").read_text()
    listed = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M))
    actual = {p.relative_to(DATA).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in shipped_files()}
    assert listed == actual


@pytest.mark.parametrize(
    "name",
    ["skfolio/sp500_dataset.csv.gz", "ffn/test_data.csv", "zipline/quandl_samples/QUANDL_ARCHIVE.zip",
     "zipline/csvdir_daily", "zipline/pipeline_inputs"],
)
def test_sources_hold_the_sha256_of_every_file_read(name: str) -> None:
    """``sources`` maps display_path (or display_path/filename in a folder) to hashlib's digest of the bytes."""
    path = DATA / name
    prices = load_prices(path, display_path=f"scenarios/data/{name}")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    expected = {
        f"scenarios/data/{name}" + (f"/{f.name}" if path.is_dir() else ""): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
    }
    assert prices.sources == expected


def test_sources_of_a_folder_hold_only_the_files_read() -> None:
    """Selecting symbols from a folder reads, and hashes, only their files."""
    prices = load_prices(DATA / "zipline/csvdir_daily", symbols=["KO"], display_path="daily")
    assert list(prices.sources) == ["daily/KO.csv.gz"]


def test_symbols_and_window_select_a_sub_panel() -> None:
    """``symbols`` keeps those columns, sorted; ``start``/``end`` keep the dates between them inclusively."""
    prices = load_prices(DATA / "skfolio/sp500_dataset.csv.gz", symbols=["MSFT", "AAPL"],
                         start="2020-03-02", end="2020-03-31")
    records = [r for r in raw_rows(DATA / "skfolio/sp500_dataset.csv.gz") if "2020-03-02" <= r["Date"] <= "2020-03-31"]
    assert prices.symbols == ("AAPL", "MSFT")
    assert [str(d)[:10] for d in prices.dates] == [r["Date"] for r in records]
    assert prices.close[:, 1].tolist() == [float(r["MSFT"]) for r in records]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_files_with_different_dates_are_aligned_on_the_union(tmp_path: Path) -> None:
    """Per-symbol files are aligned on the union of their dates, with NaN where a symbol has no row."""
    write(tmp_path / "p/AAA.csv", "date,close\n2020-01-02,10\n2020-01-03,11\n")
    write(tmp_path / "p/BBB.csv", "date,close\n2020-01-03,20\n2020-01-06,21\n")
    prices = load_prices(tmp_path / "p")
    assert [str(d)[:10] for d in prices.dates] == ["2020-01-02", "2020-01-03", "2020-01-06"]
    np.testing.assert_array_equal(prices.close, [[10, np.nan], [11, 20], [np.nan, 21]])
    assert prices.open is None


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("Date,A\n2020-01-02,1\n2020-01-03,2\n", [1, 2]),
        ("day,A\n2020-01-02,1\n2020-01-03,2\n", [1, 2]),
        ("Datetime,A\n2020-01-02 00:00:00,1\n2020-01-03 16:00:00,2\n", [1, 2]),
        (",A\n2020-01-02,1\n2020-01-03,2\n", [1, 2]),
        (",date,A\n0,2020-01-02,1\n1,2020-01-03,2\n", [1, 2]),
        ("Date,A\n1/2/2020,1\n1/3/2020,2\n", [1, 2]),
        ("date,A\n2020-01-02T00:00:00Z,1\n2020-01-03T00:00:00Z,2\n", [1, 2]),
        ("Date,A\r\n2020-01-02,1\r\n\r\n2020-01-03,2", [1, 2]),
    ],
    ids=["Date", "day", "Datetime with times", "unnamed first", "index then date", "M/D/YYYY", "UTC", "CRLF"],
)
def test_date_columns_in_every_accepted_form(tmp_path: Path, text: str, closes: list[float]) -> None:
    """Every accepted date column name and format gives the same midnight dates 2020-01-02 and 2020-01-03."""
    prices = load_prices(write(tmp_path / "w.csv", text))
    assert prices.dates.dtype == np.dtype("datetime64[ns]")
    assert list(prices.dates) == [np.datetime64("2020-01-02", "ns"), np.datetime64("2020-01-03", "ns")]
    assert prices.symbols == ("A",)
    assert prices.close[:, 0].tolist() == closes


def test_offsets_across_a_daylight_saving_change_give_local_dates(tmp_path: Path) -> None:
    """New York midnights written with -05:00 then -04:00 are one zone; each keeps its written date."""
    text = "Date,A\n2020-03-06 00:00:00-05:00,1\n2020-03-09 00:00:00-04:00,2\n"
    prices = load_prices(write(tmp_path / "w.csv", text))
    assert [str(d)[:10] for d in prices.dates] == ["2020-03-06", "2020-03-09"]


def test_long_file_ignores_extra_columns_and_reads_symbol_or_ticker(tmp_path: Path) -> None:
    """A long file's symbol column may be ``symbol`` or ``Ticker``; unknown columns are dropped."""
    text = "Ticker,date,Close,Volume,adj_close\nB,2020-01-02,5,100,4\nA,2020-01-02,3,7,2\nA,2020-01-03,4,8,3\n"
    prices = load_prices(write(tmp_path / "l.csv", text))
    assert prices.symbols == ("A", "B")
    np.testing.assert_array_equal(prices.close, [[3, 5], [4, np.nan]])
    np.testing.assert_array_equal(prices.volume, [[7, 100], [8, np.nan]])
    assert prices.open is None


def test_explicit_formats_match_auto(tmp_path: Path) -> None:
    """Naming the format gives what ``auto`` detects, for a wide, a long and a folder source."""
    wide = DATA / "ffn/test_data.csv"
    long = DATA / "zipline/quandl_samples/QUANDL_ARCHIVE.zip"
    folder = DATA / "zipline/pipeline_inputs"
    for path, format in ((wide, "wide"), (long, "long"), (folder, "per_symbol_dir")):
        a, b = load_prices(path), load_prices(path, format=format)
        assert a.symbols == b.symbols
        np.testing.assert_array_equal(a.close, b.close)


def test_gzip_file_written_here_reads_like_its_text(tmp_path: Path) -> None:
    """A .csv.gz wide file loads the same closes as the plain text it compresses."""
    (tmp_path / "w.csv.gz").write_bytes(gzip.compress(b"date,A\n2020-01-02,1.5\n"))
    assert load_prices(tmp_path / "w.csv.gz").close.tolist() == [[1.5]]


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With pyarrow not importable, a parquet file gives a DataError naming ``pip install pyarrow``."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError) as caught:
        load_prices(path, display_path="p.parquet")
    assert str(caught.value) == "p.parquet: reading parquet needs pyarrow; install it with `pip install pyarrow`"


@pytest.mark.parametrize(
    ("frame", "symbols", "closes"),
    [
        (pd.DataFrame({"B": [2.0, 3.0], "A": [1.0, np.nan]},
                      index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="date")), ("A", "B"),
         [[1.0, 2.0], [np.nan, 3.0]]),
        (pd.DataFrame({"date": pd.to_datetime(["2020-01-02", "2020-01-02"]).tz_localize("America/New_York"),
                       "symbol": ["B", "A"], "close": [2.0, 1.0]}), ("A", "B"), [[1.0, 2.0]]),
    ],
    ids=["wide with date index", "long with zoned dates"],
)
def test_parquet_layout_is_detected_by_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame, symbols: tuple[str, ...],
    closes: list[list[float]],
) -> None:
    """A parquet table (here a stand-in frame) is read as wide or long by whether it has a symbol column."""
    # pyarrow is optional and absent in the test environment: stand in for the check and for the reader.
    monkeypatch.setattr(loaders, "_require_pyarrow", lambda name: None)
    monkeypatch.setattr(pd, "read_parquet", lambda source: frame.copy())
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1")
    prices = load_prices(path)
    assert prices.symbols == symbols
    assert str(prices.dates[0])[:10] == "2020-01-02"
    np.testing.assert_array_equal(prices.close, closes)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_real_parquet_files_round_trip(tmp_path: Path, layout: str) -> None:
    """The 4-symbol OHLCV folder written to parquet (by pyarrow) loads back to the same arrays."""
    pytest.importorskip("pyarrow")
    source = load_prices(DATA / "zipline" / "csvdir_daily", format="per_symbol_dir")
    if layout == "wide":
        frame = source.to_frame("close").reset_index()
    else:
        frame = pd.concat(
            [source.to_frame(field).stack().rename(field) for field in ("open", "high", "low", "close", "volume")],
            axis=1).reset_index().rename(columns={"level_1": "symbol"})
    path = tmp_path / f"{layout}.parquet"
    frame.to_parquet(path)
    loaded = load_prices(path)
    assert loaded.symbols == source.symbols
    assert (loaded.dates == source.dates).all()
    np.testing.assert_array_equal(loaded.close, source.close)
    if layout == "long":
        assert loaded.volume is not None and source.volume is not None
        np.testing.assert_array_equal(loaded.volume, source.volume)
    else:
        assert loaded.open is None


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_a_parquet_year_and_month_date_is_refused(tmp_path: Path, layout: str) -> None:
    """A parquet file with text dates "2020-01" (a month's close, labelled by its month) was read as the 1st of the
    month, as pandas' ISO 8601 reader takes it; it is refused like the same CSV, naming the value and the row."""
    pytest.importorskip("pyarrow")
    if layout == "wide":
        frame = pd.DataFrame({"date": ["2020-01", "2020-02"], "A": [10.0, 11.0]})
    else:
        frame = pd.DataFrame({"date": ["2020-01", "2020-02"], "symbol": ["A", "A"], "close": [10.0, 11.0]})
    frame.to_parquet(tmp_path / "p.parquet")
    with pytest.raises(DataError) as caught:
        load_prices(tmp_path / "p.parquet", display_path="p.parquet")
    assert str(caught.value) == ("p.parquet: date '2020-01' (row 1) is not a date; expected a date like YYYY-MM-DD "
                                 "or M/D/YYYY")


def test_unnamed_columns_skipped_are_a_row_index_first_and_empty_ones(tmp_path: Path) -> None:
    """A wide file skips an unnamed first column (the row index pandas' to_csv writes, 0 and 1 here) and an unnamed
    column with no value (a comma ending every line); the symbols are A and C, with the closes as written."""
    path = write(tmp_path / "p.csv", ",date,A,C,\n0,2020-01-02,10,30,\n1,2020-01-03,11,31,\n")
    prices = load_prices(path)
    assert prices.symbols == ("A", "C")
    np.testing.assert_array_equal(prices.close, [[10.0, 30.0], [11.0, 31.0]])


def test_a_parquet_symbol_column_without_a_name_is_refused(tmp_path: Path) -> None:
    """A frame read from a CSV with a blank header cell, then saved as parquet, has a column 'Unnamed: 2': it holds
    a symbol's closes, so it is refused naming its position (3), as in the CSV."""
    pytest.importorskip("pyarrow")
    pd.DataFrame({"date": ["2020-01-02"], "A": [10.0], "Unnamed: 2": [20.0]}).to_parquet(tmp_path / "p.parquet")
    with pytest.raises(DataError, match=r"^p\.parquet: column 3 has no header; expected a symbol name$"):
        load_prices(tmp_path / "p.parquet", display_path="p.parquet")


@pytest.mark.parametrize("text", ["#N/A", "N/A", "null", "NULL", "None", "NaN", "nan", "n/a", " #N/A "])
def test_a_symbol_cell_written_as_no_value_is_a_missing_symbol(tmp_path: Path, text: str) -> None:
    """The texts a price cell reads as no value (docs/scenarios.md) mean no symbol in a long file's symbol column,
    as an empty cell does: row 3 (the third line after the header) is named, not traded as a symbol."""
    path = write(tmp_path / "p.csv", f"date,ticker,close\n2020-01-02,A,10\n2020-01-03,A,11\n2020-01-03,{text},20\n")
    with pytest.raises(DataError) as caught:
        load_prices(path, display_path="p.csv")
    assert str(caught.value) == "p.csv: row 3 has no symbol; expected one in 'ticker'"


def test_a_symbol_named_na_is_a_ticker(tmp_path: Path) -> None:
    """``NA`` is read as no price in a price cell, but in a symbol cell it is a ticker (National Bank of Canada on
    the TSX): its rows are read as that symbol's closes."""
    path = write(tmp_path / "p.csv", "date,ticker,close\n2020-01-02,NA,60\n2020-01-03,NA,61\n")
    prices = load_prices(path, display_path="p.csv")
    assert prices.symbols == ("NA",) and prices.close[:, 0].tolist() == [60.0, 61.0]


DOCS_ERRORS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


@pytest.mark.parametrize(("written", "shown"), [("NESTLE\u0301", "'NESTLE\\u0301'"),
                                                ("NESTL\u00c9\u200b", "'NESTL\\xc9\\u200b'")],
                         ids=["decomposed accent", "zero-width space"])
def test_a_symbol_written_with_other_characters_is_shown_as_ascii(tmp_path: Path, written: str, shown: str) -> None:
    """A header written with a decomposed accent (E + U+0301, as macOS writes names) or a zero-width space did not
    match the scenario's NESTL\u00c9 (U+00C9), and the message suggested a name that prints the same. Both names are
    now shown with ascii(), so the difference can be seen; names are still compared as written."""
    path = tmp_path / "p.csv"
    path.write_text(f"date,{written},B\n2020-01-02,10,20\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_prices(path, display_path="p.csv", symbols=["NESTL\u00c9", "B"])
    message = (f"p.csv: symbol 'NESTL\u00c9' is not in the file: the file's {written!r} looks the same but is other "
               f"characters ({shown} in the file, 'NESTL\\xc9' asked for: write both the same way, e.g. in "
               f"Unicode NFC); it has B, {written}")
    assert str(caught.value) == message
    if written == "NESTLE\u0301":
        assert message in DOCS_ERRORS.read_text(encoding="utf-8")
