"""Every bad price input gives a DataError with an exact message and attributes; suspicious jumps are found."""

from __future__ import annotations

import gzip
import io
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventbt.data.checks import StaleWarning, data_warnings, find_stale_prices, stale_messages
from eventbt.data.loaders import JumpWarning, find_suspicious_jumps, load_prices
from eventbt.errors import DataError, ScenarioError
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig

DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"
DATE_HINT = "expected a date like YYYY-MM-DD or M/D/YYYY"
TWO_DAYS = "date,AAPL\n2020-01-02,1\n2020-01-03,2\n"


def zipped(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# id, files written under tmp_path, what to load, load_prices options, message, (symbol, date, row)
CASES: list[tuple[str, dict[str, str | bytes], str, dict[str, Any], str, tuple[str | None, str | None, int | None]]] = [
    ("unsorted dates", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-06,2\n2020-01-03,3\n"}, "prices.csv", {},
     "prices.csv: dates are not sorted: 2020-01-03 (row 3) comes after 2020-01-06 (row 2)", (None, "2020-01-03", 3)),
    ("duplicate date", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-03,2\n2020-01-03,3\n"}, "prices.csv", {},
     "prices.csv: date 2020-01-03 appears twice (rows 2 and 3); expected one row per date", (None, "2020-01-03", 3)),
    ("duplicate date in long file",
     {"prices.csv": "date,symbol,close\n2020-01-02,AAPL,1\n2020-01-02,MSFT,2\n2020-01-02,AAPL,3\n"}, "prices.csv", {},
     "prices.csv: date 2020-01-02 appears twice for 'AAPL' (rows 1 and 3); expected one row per date",
     ("AAPL", "2020-01-02", 3)),
    ("unsorted long file",
     {"prices.csv": "symbol,date,close\nAAPL,2020-01-03,1\nMSFT,2020-01-02,2\nAAPL,2020-01-02,3\n"}, "prices.csv", {},
     "prices.csv: dates for 'AAPL' are not sorted: 2020-01-02 (row 3) comes after 2020-01-03 (row 1)",
     ("AAPL", "2020-01-02", 3)),
    ("unparseable date", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-13-45,2\n"}, "prices.csv", {},
     f"prices.csv: date '2020-13-45' (row 2) is not a date; {DATE_HINT}", (None, None, 2)),
    # pandas' ISO 8601 reader takes "2020-01" and "2020" for the 1st of January: a month labelled by its month-end
    # close landed a month early. The docs ask for YYYY-MM-DD or M/D/YYYY, so a year or a year and month alone is no
    # date, also among full dates (row 3 here) and in a per-symbol file.
    ("year and month only", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-31,2\n2020-02,3\n"}, "prices.csv", {},
     f"prices.csv: date '2020-02' (row 3) is not a date; {DATE_HINT}", (None, None, 3)),
    ("year only", {"prices.csv": "date,AAPL\n2019,1\n2020,2\n"}, "prices.csv", {},
     f"prices.csv: date '2019' (row 1) is not a date; {DATE_HINT}", (None, None, 1)),
    ("year and month only in a symbol file", {"panel/AAPL.csv": "date,close\n2020-01,1\n2020-02,2\n"}, "panel", {},
     f"panel/AAPL.csv: date '2020-01' (row 1) is not a date; {DATE_HINT}", (None, None, 1)),
    ("two date formats", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-03,2\n1/6/2020,3\n"}, "prices.csv", {},
     "prices.csv: date '1/6/2020' (row 3) is written in another format than the other dates; expected one format "
     "(YYYY-MM-DD or M/D/YYYY) for the whole column", (None, None, 3)),
    ("empty date", {"prices.csv": "date,AAPL\n2020-01-02,1\n,2\n"}, "prices.csv", {},
     f"prices.csv: date is empty (row 2); {DATE_HINT}", (None, None, 2)),
    ("date out of range", {"prices.csv": "date,AAPL\n1500-01-01,1\n"}, "prices.csv", {},
     "prices.csv: date '1500-01-01' (row 1) is outside the supported range 1678-01-01 .. 2261-12-31", (None, None, 1)),
    ("negative price", {"prices.csv": "date,AAPL\n2020-03-13,2\n2020-03-16,-1\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 2) is -1.0; expected a positive price or empty",
     ("AAPL", "2020-03-16", 2)),
    ("zero price", {"prices.csv": "date,AAPL\n2020-03-13,2\n2020-03-16,0\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 2) is 0.0; expected a positive price or empty",
     ("AAPL", "2020-03-16", 2)),
    ("infinite price", {"prices.csv": "date,AAPL\n2020-03-13,2\n2020-03-16,inf\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 2) is inf; expected a positive price or empty",
     ("AAPL", "2020-03-16", 2)),
    ("price too large", {"prices.csv": "date,AAPL\n2020-03-13,2\n2020-03-16,1e308\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 2) is 1e+308; expected a price of at most 1e15 (larger ones "
     "overflow a position's value)",
     ("AAPL", "2020-03-16", 2)),
    ("text price", {"prices.csv": "date,AAPL\n2020-03-13,2\n2020-03-16,1.5x\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 2) is '1.5x'; expected a number or empty",
     ("AAPL", "2020-03-16", 2)),
    ("blank lines count as rows", {"prices.csv": "date,AAPL\n2020-03-13,2\n\n2020-03-16,-1\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-03-16 (row 3) is -1.0; expected a positive price or empty",
     ("AAPL", "2020-03-16", 3)),
    ("a row of only commas counts as a row", {"prices.csv": "date,AAPL,MSFT\n2020-03-13,2,3\n,,\n2020-03-16,-1,3\n"},
     "prices.csv", {}, "prices.csv: close for 'AAPL' on 2020-03-16 (row 3) is -1.0; expected a positive price or empty",
     ("AAPL", "2020-03-16", 3)),
    ("high below low", {"prices.csv": "date,symbol,open,high,low,close\n2020-01-02,AAPL,10,9,10,9.5\n"}, "prices.csv",
     {}, "prices.csv: high for 'AAPL' on 2020-01-02 (row 1) is 9.0, below low 10.0; expected high >= low",
     ("AAPL", "2020-01-02", 1)),
    ("close above high", {"prices.csv": "date,symbol,high,low,close\n2020-01-02,AAPL,11,9,12\n"}, "prices.csv", {},
     "prices.csv: close for 'AAPL' on 2020-01-02 (row 1) is 12.0, outside low 9.0 .. high 11.0; "
     "expected low <= close <= high", ("AAPL", "2020-01-02", 1)),
    ("open below low", {"prices.csv": "date,symbol,open,high,low,close\n2020-01-02,AAPL,8.5,11,9,10\n"}, "prices.csv",
     {}, "prices.csv: open for 'AAPL' on 2020-01-02 (row 1) is 8.5, outside low 9.0 .. high 11.0; "
     "expected low <= open <= high", ("AAPL", "2020-01-02", 1)),
    ("negative volume", {"panel/AAPL.csv": "date,close,volume\n2020-01-02,10,5\n2020-01-03,10,-5\n"}, "panel", {},
     "panel/AAPL.csv: volume for 'AAPL' on 2020-01-03 (row 2) is -5.0; expected a volume of zero or more, or empty",
     ("AAPL", "2020-01-03", 2)),
    ("empty symbol column", {"prices.csv": "date,AAPL,MSFT\n2020-01-02,1,\n2020-01-03,2,\n"}, "prices.csv", {},
     "prices.csv: no close prices for 'MSFT': every row is empty; expected at least one price", ("MSFT", None, None)),
    ("long file without close", {"prices.csv": "date,symbol,open\n2020-01-02,AAPL,1\n"}, "prices.csv", {},
     "prices.csv: no 'close' column; expected columns date, symbol (or ticker), close and optionally open, high, "
     "low, volume; found date, symbol, open", (None, None, None)),
    ("symbol file without close", {"panel/AAPL.csv": "date,price\n2020-01-02,1\n"}, "panel", {},
     "panel/AAPL.csv: no 'close' column; expected columns date, close and optionally open, high, low, volume; "
     "found date, price", (None, None, None)),
    ("no date column", {"prices.csv": "time,AAPL\n2020-01-02,1\n"}, "prices.csv", {},
     "prices.csv: no date column; expected a column named date, Date, day or Datetime, or an unnamed first column; "
     "found time, AAPL", (None, None, None)),
    ("empty file", {"prices.csv": ""}, "prices.csv", {},
     "prices.csv: file is empty; expected a header line and rows of prices", (None, None, None)),
    ("header only", {"prices.csv": "date,AAPL\n"}, "prices.csv", {},
     "prices.csv: has a header but no rows; expected at least one row of prices", (None, None, None)),
    ("mixed time zones",
     {"prices.csv": "date,AAPL\n2020-01-02 00:00:00+00:00,1\n2020-01-03 00:00:00-05:00,2\n"}, "prices.csv", {},
     "prices.csv: dates mix time zones: '2020-01-02 00:00:00+00:00' (row 1) and '2020-01-03 00:00:00-05:00' (row 2); "
     "expected one time zone for the whole column", (None, "2020-01-03", 2)),
    ("zoned and naive dates", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-03T00:00:00+01:00,2\n"}, "prices.csv",
     {}, "prices.csv: dates mix time zones: '2020-01-02' (row 1) and '2020-01-03T00:00:00+01:00' (row 2); "
     "expected one time zone for the whole column", (None, "2020-01-03", 2)),
    ("requested symbol missing", {"prices.csv": "date,AAPL,MSFT\n2020-01-02,1,2\n"}, "prices.csv",
     {"symbols": ["TSLA"]}, "prices.csv: symbol 'TSLA' is not in the file; it has AAPL, MSFT", ("TSLA", None, None)),
    ("requested symbol in another case", {"prices.csv": "date,AAPL,MSFT\n2020-01-02,1,2\n"}, "prices.csv",
     {"symbols": ["aapl"]}, "prices.csv: symbol 'aapl' is not in the file (did you mean 'AAPL'?); it has AAPL, MSFT",
     ("aapl", None, None)),
    ("requested symbol missing from folder", {"panel/AAPL.csv": "date,close\n2020-01-02,1\n"}, "panel",
     {"symbols": ["AAPL", "TSLA"]}, "panel: symbol 'TSLA' is not in the folder; it has AAPL", ("TSLA", None, None)),
    ("no symbols requested", {"prices.csv": TWO_DAYS}, "prices.csv", {"symbols": []},
     "prices.csv: no symbols requested; expected at least one symbol, or None for all", (None, None, None)),
    ("start after the data", {"prices.csv": TWO_DAYS}, "prices.csv", {"start": "2021-01-01"},
     "prices.csv: start 2021-01-01 is after the last date (2020-01-03); expected a start between 2020-01-02 and "
     "2020-01-03", (None, "2021-01-01", None)),
    ("end before the data", {"prices.csv": TWO_DAYS}, "prices.csv", {"end": "2019-12-31"},
     "prices.csv: end 2019-12-31 is before the first date (2020-01-02); expected an end between 2020-01-02 and "
     "2020-01-03", (None, "2019-12-31", None)),
    ("start after end", {"prices.csv": TWO_DAYS}, "prices.csv", {"start": "2020-01-03", "end": "2020-01-02"},
     "prices.csv: start 2020-01-03 is after end 2020-01-02; expected start <= end, both between 2020-01-02 and "
     "2020-01-03", (None, "2020-01-03", None)),
    ("window between dates", {"prices.csv": "date,AAPL\n2020-01-03,1\n2020-01-06,2\n"}, "prices.csv",
     {"start": "2020-01-04", "end": "2020-01-05"},
     "prices.csv: no dates from 2020-01-04 to 2020-01-05; expected a range holding at least one date between "
     "2020-01-03 and 2020-01-06", (None, None, None)),
    ("start not a date", {"prices.csv": TWO_DAYS}, "prices.csv", {"start": "2020-02-30"},
     "prices.csv: start '2020-02-30' is not a date; expected YYYY-MM-DD", (None, None, None)),
    ("unknown format", {"prices.csv": TWO_DAYS}, "prices.csv", {"format": "excel"},
     "prices.csv: unknown format 'excel'; expected one of auto, long, parquet, per_symbol_dir, wide",
     (None, None, None)),
    ("wide format on a long file", {"prices.csv": "date,symbol,close\n2020-01-02,AAPL,1\n"}, "prices.csv",
     {"format": "wide"}, "prices.csv: has a 'symbol' column, so it is in long layout; expected format 'long' or 'auto'",
     (None, None, None)),
    ("folder format on a file", {"prices.csv": TWO_DAYS}, "prices.csv", {"format": "per_symbol_dir"},
     "prices.csv: is a file; format 'per_symbol_dir' reads a folder of CSV files", (None, None, None)),
    ("file format on a folder", {"panel/AAPL.csv": TWO_DAYS}, "panel", {"format": "long"},
     "panel: is a folder; format 'long' reads a file", (None, None, None)),
    ("no such file", {}, "missing.csv", {}, "missing.csv: no such file or folder", (None, None, None)),
    ("row with extra field", {"prices.csv": "date,AAPL\n2020-01-02,1\n2020-01-03,1,2\n"}, "prices.csv", {},
     "prices.csv: row 2 has 3 fields; expected 2 like the header", (None, None, 2)),
    # A title line above the header was taken for the header, and the message blamed row 1 (the real header):
    # the first line with fewer fields than the next one gets a hint (line 2 here: a blank line comes first).
    ("title line above the header", {"prices.csv": "\n# Source: vendor X, 2024-01-09\ndate,A,B\n2020-01-02,10,20\n"},
     "prices.csv", {}, "prices.csv: row 1 has 3 fields; expected 2 like the header (is line 2 a title or comment "
     "above the header?)", (None, None, 1)),
    ("row without symbol", {"prices.csv": "date,symbol,close\n2020-01-02,AAPL,1\n2020-01-03,,1\n"}, "prices.csv", {},
     "prices.csv: row 2 has no symbol; expected one in 'symbol'", (None, None, 2)),
    # A header cell deleted in a spreadsheet: pandas names the column 'Unnamed: 2' and the symbol was dropped without
    # a word. Only an unnamed first column (a row index) or an unnamed column without values is skipped.
    ("symbol column without a header", {"prices.csv": "date,A,,C\n2020-01-02,10,20,30\n2020-01-03,11,21,31\n"},
     "prices.csv", {}, "prices.csv: column 3 has no header; expected a symbol name", (None, None, None)),
    # '#N/A' in a symbol cell (a spreadsheet's failed ticker look-up) was traded as a symbol named '#N/A'.
    ("symbol written as #N/A", {"prices.csv": "date,symbol,close\n2020-01-02,A,10\n2020-01-02,#N/A,20\n"},
     "prices.csv", {}, "prices.csv: row 2 has no symbol; expected one in 'symbol'", (None, None, 2)),
    ("column twice", {"prices.csv": "date,AAPL,AAPL\n2020-01-02,1,2\n"}, "prices.csv", {},
     "prices.csv: column 'AAPL' appears twice in the header; expected each once", (None, None, None)),
    ("one symbol's bars as a wide file", {"prices.csv": "date,open,high,low,close\n2020-01-02,1,1,1,1\n"},
     "prices.csv", {}, "prices.csv: has open, high, low and close columns, the bars of one symbol; expected a date "
     "column and one close column per symbol (for one file per symbol use a folder and format 'per_symbol_dir')",
     (None, None, None)),
    ("folder files with different columns",
     {"panel/AAPL.csv": "date,close,volume\n2020-01-02,1,5\n", "panel/MSFT.csv": "date,close\n2020-01-02,2\n"},
     "panel", {}, "panel/MSFT.csv: has no 'volume' column but panel/AAPL.csv has; expected the same columns in every "
     "file", ("MSFT", None, None)),
    ("folder without price files", {"panel/README.txt": "prices go here\n"}, "panel", {},
     "panel: has no price files; expected one <SYMBOL>.csv or <SYMBOL>.csv.gz file per symbol", (None, None, None)),
    ("symbol with two files",
     {"panel/AAPL.csv": TWO_DAYS, "panel/AAPL.csv.gz": gzip.compress(TWO_DAYS.encode())}, "panel", {},
     "panel: symbol 'AAPL' has two files (AAPL.csv and AAPL.csv.gz); expected one file per symbol",
     ("AAPL", None, None)),
    ("zip with two files", {"prices.zip": zipped(**{"a.csv": TWO_DAYS, "b.csv": TWO_DAYS})}, "prices.zip", {},
     "prices.zip: holds 2 files (a.csv, b.csv); expected exactly one CSV file", (None, None, None)),
    ("not UTF-8", {"prices.csv": b"date,A\n2020-01-02,\xff\n"}, "prices.csv", {},
     "prices.csv: is not UTF-8 text (byte 18); expected a CSV file", (None, None, None)),
]


@pytest.mark.parametrize(("files", "target", "options", "message", "where"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_gives_an_exact_data_error(
    tmp_path: Path,
    files: dict[str, str | bytes],
    target: str,
    options: dict[str, Any],
    message: str,
    where: tuple[str | None, str | None, int | None],
) -> None:
    """Each bad input raises a DataError with the expected message and symbol/date/row attributes."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError) as caught:
        load_prices(tmp_path / target, display_path=target, **options)
    error = caught.value
    assert str(error) == message
    assert error.path == message.split(": ", 1)[0]
    assert (error.symbol, error.date, error.row) == where
    assert isinstance(error, ValueError)


def test_close_outside_the_range_by_float_noise_is_accepted(tmp_path: Path) -> None:
    """A close 1e-12 above the high (relative) passes; 1e-6 above it is an error (tolerance is 1e-9)."""
    path = tmp_path / "p.csv"
    path.write_text("date,symbol,high,low,close\n2020-01-02,A,100,90,100.0000000001\n")
    assert load_prices(path).close.tolist() == [[100.0000000001]]
    path.write_text("date,symbol,high,low,close\n2020-01-02,A,100,90,100.0001\n")
    with pytest.raises(DataError, match=r"is 100\.0001, outside low 90\.0 \.\. high 100\.0"):
        load_prices(path)


def test_missing_values_are_nan_not_errors(tmp_path: Path) -> None:
    """Empty cells and NaN/NA/null texts load as NaN (no bar), not as bad numbers."""
    path = tmp_path / "p.csv"
    path.write_text("date,A,B\n2020-01-02,1,\n2020-01-03,NaN,2\n2020-01-06,NA,null\n")
    prices = load_prices(path)
    np.testing.assert_array_equal(prices.close, [[1, np.nan], [np.nan, 2], [np.nan, np.nan]])


def test_bad_gzip_is_a_data_error(tmp_path: Path) -> None:
    """A .csv.gz that is not gzip data gives a DataError saying it cannot be decompressed."""
    (tmp_path / "p.csv.gz").write_bytes(b"date,A\n")
    with pytest.raises(DataError, match=r"^p\.csv\.gz: cannot be decompressed: "):
        load_prices(tmp_path / "p.csv.gz", display_path="p.csv.gz")


def test_symbols_given_as_one_string_are_refused(tmp_path: Path) -> None:
    """``symbols="AAPL"`` is a TypeError rather than the four one-letter symbols A, A, P, L."""
    (tmp_path / "p.csv").write_text(TWO_DAYS)
    with pytest.raises(TypeError, match="not a string"):
        load_prices(tmp_path / "p.csv", symbols="AAPL")


def test_unadjusted_split_in_pipeline_aapl_is_flagged() -> None:
    """The raw 7:1 AAPL split on 2014-06-09 is the only jump in pipeline_inputs/AAPL.csv."""
    prices = load_prices(DATA / "zipline/pipeline_inputs", symbols=["AAPL"])
    warnings = find_suspicious_jumps(prices)
    # raw closes: 645.570023 on 2014-06-06, 93.699997 on 2014-06-09; 93.699997 / 645.570023 = 0.14514... < 0.6
    assert warnings == [
        JumpWarning(symbol="AAPL", date="2014-06-09", ratio=93.699997 / 645.570023, previous_close=645.570023,
                    close=93.699997)
    ]
    assert 0.1451 < warnings[0].ratio < 0.1452


def test_clean_msft_has_no_jumps() -> None:
    """MSFT in pipeline_inputs moves less than the 0.6 .. 1/0.6 band every day, so nothing is flagged."""
    prices = load_prices(DATA / "zipline/pipeline_inputs", symbols=["MSFT"])
    assert find_suspicious_jumps(prices) == []


def test_jumps_are_measured_across_missing_bars_and_at_both_thresholds() -> None:
    """A halving after a gap and a doubling are flagged; ratios of exactly 0.6 and 1/0.6 are not."""
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"], dtype="datetime64[ns]")
    # A: 10 -> (gap) -> 5 is 0.5 < 0.6; 5 -> 10 is 2.0 > 1/0.6. B: 10 -> 6 is exactly 0.6, 6 -> 10 is exactly 1/0.6.
    close = np.array([[10, 10], [np.nan, 6], [5, 10], [10, 10], [10, 10]], dtype=float)
    prices = PriceData(dates=dates, symbols=("A", "B"), close=close)
    found = [(w.symbol, w.date, w.ratio) for w in find_suspicious_jumps(prices, threshold=0.6)]
    assert found == [("A", "2020-01-06", 0.5), ("A", "2020-01-07", 2.0)]


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2])
def test_threshold_must_be_between_zero_and_one(threshold: float) -> None:
    """A threshold outside (0, 1) cannot define a band around 1 and is refused."""
    prices = PriceData(dates=np.array(["2020-01-02"], dtype="datetime64[ns]"), symbols=("A",), close=np.ones((1, 1)))
    with pytest.raises(ValueError, match="threshold"):
        find_suspicious_jumps(prices, threshold=threshold)


STALE_HINT = "likely stale prices (set [data] stale_bars to change the length flagged, 0 to turn this off)"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _stale_prices() -> PriceData:
    """A: 10 four times with a gap inside, then 11; B: 7, 7, then 8 three times."""
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"],
                     dtype="datetime64[ns]")
    close = np.array([[10, 7], [10, 7], [np.nan, 8], [10, 8], [10, 8], [11, np.nan]], dtype=float)
    return PriceData(dates=dates, symbols=("A", "B"), close=close)


def test_stale_runs_are_followed_across_gaps_and_counted_in_closes() -> None:
    """A's four 10s (a gap inside not counted) form one run; B's three 8s another; B's two 7s are too short."""
    found = find_stale_prices(_stale_prices(), min_bars=3)
    assert found == [
        StaleWarning(symbol="A", first="2020-01-02", last="2020-01-08", bars=4, price=10.0),
        StaleWarning(symbol="B", first="2020-01-06", last="2020-01-08", bars=3, price=8.0),
    ]
    # min_bars = 4: only A's run is long enough; 5: none; 2: B's two 7s as well.
    assert [w.symbol for w in find_stale_prices(_stale_prices(), min_bars=4)] == ["A"]
    assert find_stale_prices(_stale_prices(), min_bars=5) == []
    assert [(w.symbol, w.bars) for w in find_stale_prices(_stale_prices(), min_bars=2)] == [
        ("A", 4), ("B", 2), ("B", 3)]


def test_moving_prices_are_not_stale() -> None:
    """Closes that change every bar give no run at the smallest min_bars."""
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A",), close=np.array([[1.0], [1.001], [1.0]]))
    assert find_stale_prices(prices, min_bars=2) == []


@pytest.mark.parametrize("min_bars", [1, 0, -3, 2.5, True])
def test_min_bars_must_be_an_integer_of_at_least_two(min_bars: Any) -> None:
    """One close is always a 'run'; min_bars below 2 (or not an integer) is refused."""
    with pytest.raises(ValueError, match=r"^min_bars must be an integer >= 2, got "):
        find_stale_prices(_stale_prices(), min_bars=min_bars)


def test_stale_messages_one_line_per_symbol() -> None:
    """One run gives its dates; several give their count and span and the longest (the first of a tie)."""
    one = stale_messages("prices.csv", find_stale_prices(_stale_prices(), min_bars=3)[:1], 3)
    assert one == [f"prices.csv: close for 'A' stays at 10 for 4 bars from 2020-01-02 to 2020-01-08; {STALE_HINT}"]
    runs = [StaleWarning(symbol="X", first="2020-01-02", last="2020-01-03", bars=2, price=5.0),
            StaleWarning(symbol="X", first="2020-02-03", last="2020-02-05", bars=3, price=6.5),
            StaleWarning(symbol="X", first="2020-03-02", last="2020-03-04", bars=3, price=7.0)]
    assert stale_messages("p.csv", runs, 2) == [
        "p.csv: close for 'X' stays unchanged for 2 or more bars 3 times from 2020-01-02 to 2020-03-04, the "
        f"longest at 6.5 for 3 bars from 2020-02-03 to 2020-02-05; {STALE_HINT}"]


def test_the_documented_single_run_warning_is_what_eventbt_says() -> None:
    """docs/errors.md's one-run example (A at 10 for three bars, stale_bars = 3) is the exact message."""
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A",), close=np.array([[10.0], [10.0], [10.0], [10.5]]))
    lines = data_warnings(prices, "prices.csv", stale_bars=3)
    assert lines == [f"prices.csv: close for 'A' stays at 10 for 3 bars from 2020-01-02 to 2020-01-06; {STALE_HINT}"]
    assert lines[0] in (DOCS / "errors.md").read_text()
    assert data_warnings(prices, "prices.csv", stale_bars=0) == []  # 0: the check is off


def test_symbols_that_differ_only_in_case_are_warned_about() -> None:
    """A long file writing KO's rows as `ko` too made two symbols, traded apart, without a word: a warning names
    them (symbols are taken as written, so it is not an error). Symbols that differ otherwise say nothing."""
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("AAPL", "KO", "ko"), close=np.full((2, 3), 10.0))
    assert data_warnings(prices, "p.csv") == [
        "p.csv: symbols 'KO' and 'ko' differ only in case; they are traded as different symbols (likely one written "
        "two ways)"]
    assert data_warnings(PriceData(dates=dates, symbols=("KO", "KOF"), close=np.full((2, 2), 10.0)), "p.csv") == []


def test_a_symbol_named_like_a_price_field_is_warned_about() -> None:
    """A wide file with a `volume` column beside AAPL: every column but the date is a symbol, so `volume` was
    traded (its counts read as closes) without a word."""
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("AAPL", "volume"), close=np.array([[10.0, 100.0], [11.0, 120.0]]))
    assert data_warnings(prices, "p.csv") == [
        "p.csv: symbol 'volume' is named like a price field, and is traded as a symbol (a wide file takes every "
        "column but the date as a symbol's closes: drop the column, or use a long file for several fields)"]


def test_data_warnings_use_the_jump_threshold() -> None:
    """10 -> 10.5 (x1.05) passes at jump_threshold 0.95 and is flagged at 0.96, the band the setting gives."""
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A",), close=np.array([[10.0], [10.5]]))
    assert data_warnings(prices, "p.csv", jump_threshold=0.95) == []  # 1 / 0.95 = 1.0526 > 1.05
    assert data_warnings(prices, "p.csv", jump_threshold=0.96) == [  # 1 / 0.96 = 1.0417 < 1.05
        "p.csv: close for 'A' moves 10 -> 10.5 (x1.050) on 2020-01-03; likely an unadjusted split or other "
        "corporate action (the loaders apply no adjustment)"]


def test_eventbt_run_logs_the_data_warnings_from_python(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """From Python a run printed nothing of its data warnings (a split the prices do not show passed unseen in a
    notebook); eventbt.run logs each, the line `eventbt run` prints, to the "eventbt" logger as a WARNING."""
    import logging

    import eventbt

    (tmp_path / "p.csv").write_text("date,A\n2020-01-02,10\n2020-01-03,5\n2020-01-06,5.1\n")
    config = ScenarioConfig.from_dict({"data": {"path": "p.csv"}, "strategy": {"name": "equal_weight"}},
                                      base_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="eventbt"):
        eventbt.run(config)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [(
        "eventbt", "WARNING", "p.csv: close for 'A' moves 10 -> 5 (x0.500) on 2020-01-03; likely an unadjusted "
        "split or other corporate action (the loaders apply no adjustment)")]


def _scenario(**data: Any) -> ScenarioConfig:
    return ScenarioConfig.from_dict({"data": {"path": "p.csv", **data}, "strategy": {"name": "equal_weight"}},
                                    source="scenarios/x.toml")


def test_scan_settings_default_and_stay_out_of_the_resolved_scenario() -> None:
    """Left alone they are 0.6 and 10 and not in to_dict (old digests hold); set, they are written and read back."""
    config = _scenario()
    assert (config.data.jump_threshold, config.data.stale_bars) == (0.6, 10)
    assert "jump_threshold" not in config.to_dict()["data"] and "stale_bars" not in config.to_dict()["data"]
    assert _scenario(jump_threshold=0.6, stale_bars=10).to_dict() == config.to_dict()
    changed = _scenario(jump_threshold=0.9, stale_bars=0)
    table = changed.to_dict()["data"]
    assert (table["jump_threshold"], table["stale_bars"]) == (0.9, 0)
    again = ScenarioConfig.from_dict(tomllib.loads(changed.to_toml()), source=changed.source,
                                     base_dir=changed.base_dir)
    assert again == changed
    assert config.with_overrides(["data.stale_bars=25"]).data.stale_bars == 25


@pytest.mark.parametrize(("data", "message"), [
    ({"jump_threshold": 1.5}, "[data] jump_threshold must be a number > 0 and < 1, got 1.5"),
    ({"jump_threshold": 0}, "[data] jump_threshold must be a number > 0 and < 1, got 0"),
    ({"jump_threshold": "tight"}, "[data] jump_threshold must be a number, got string 'tight'"),
    ({"stale_bars": 1}, "[data] stale_bars must be an integer >= 2, or 0 to turn the check off, got 1"),
    ({"stale_bars": -4}, "[data] stale_bars must be an integer >= 2, or 0 to turn the check off, got -4"),
    ({"stale_bars": 2.5}, "[data] stale_bars must be an integer, got float 2.5"),
    ({"stale_bars": True}, "[data] stale_bars must be an integer, got boolean true"),
])
def test_bad_scan_settings_are_scenario_errors(data: dict[str, Any], message: str) -> None:
    """Each bad jump_threshold or stale_bars gives a ScenarioError naming [data] and the key."""
    with pytest.raises(ScenarioError) as caught:
        _scenario(**data)
    assert str(caught.value) == f"scenarios/x.toml: {message}"
    assert (caught.value.table, caught.value.key) == ("data", next(iter(data)))


@pytest.mark.parametrize("message", [
    "scenarios/x.toml: [data] jump_threshold must be a number > 0 and < 1, got 1.5",
    "scenarios/x.toml: [data] stale_bars must be an integer >= 2, or 0 to turn the check off, got 1",
])
def test_scan_setting_errors_are_in_the_scenario_docs(message: str) -> None:
    """docs/scenarios.md lists the two range errors verbatim."""
    assert message in (DOCS / "scenarios.md").read_text()


def test_a_date_without_any_price_is_warned_about_and_kept(tmp_path: Path) -> None:
    """Good Friday written as a row of empty cells became a bar where nothing could trade, and the weekly rebalance
    falling on it bought nothing, without a word. The row is kept (still a bar: 4 dates in, 4 bars out) and named:
    1 such date here, the first 2020-04-10; with a second one (2020-04-14) the count is 2 and the first the same."""
    (tmp_path / "p.csv").write_text("date,A,B\n2020-04-09,10,20\n2020-04-10,,\n2020-04-13,11,21\n2020-04-14,,\n")
    prices = load_prices(tmp_path / "p.csv", end="2020-04-13")
    assert prices.n_bars == 3
    line = ("p.csv: 1 date has no price for any symbol (the first 2020-04-10); likely a holiday row: such a date is "
            "still a bar, where nothing can trade")
    assert data_warnings(prices, "p.csv") == [line]
    assert line in (DOCS / "errors.md").read_text()
    assert data_warnings(load_prices(tmp_path / "p.csv"), "p.csv") == [line.replace("1 date has", "2 dates have")]
    assert data_warnings(load_prices(tmp_path / "p.csv", end="2020-04-09"), "p.csv") == []
