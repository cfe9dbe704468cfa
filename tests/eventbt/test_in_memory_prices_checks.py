"""Prices given in memory are read by a file's rules where a frame could be read more than one way: date text,
dates in two places, column names, text cells and narrow floats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventbt.data.frames import IN_MEMORY_NAME, prices_from_frame
from eventbt.errors import DataError

DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()


def _documented(message: str) -> None:
    """docs/errors.md shows the message verbatim (its table of prices in memory)."""
    assert f"`{IN_MEMORY_NAME}: {message}`" in DOC


def _closes(index: object) -> pd.DataFrame:
    return pd.DataFrame({"AAA": [10.0, 11.0, 12.0]}, index=index)


def _refused(frame: pd.DataFrame) -> str:
    with pytest.raises(DataError) as caught:
        prices_from_frame(frame)
    return str(caught.value).removeprefix(f"{IN_MEMORY_NAME}: ")


EXPECTED_DATE = "expected a date like YYYY-MM-DD or M/D/YYYY"


@pytest.mark.parametrize(("texts", "message"), [
    (["01.02.2021", "02.02.2021", "03.02.2021"], f"date '01.02.2021' (row 1) is not a date; {EXPECTED_DATE}"),
    (["29.01.2021", "30.01.2021", "31.01.2021"], f"date '29.01.2021' (row 1) is not a date; {EXPECTED_DATE}"),
    (["2021-01", "2021-02", "2021-03"], f"date '2021-01' (row 1) is not a date; {EXPECTED_DATE}"),
    (["2021", "2022", "2023"], f"date '2021' (row 1) is not a date; {EXPECTED_DATE}"),
    (["2021-01-04", "2021-02", "2021-01-06"], f"date '2021-02' (row 2) is not a date; {EXPECTED_DATE}"),
    (["2021-01-04", "1/5/2021", "1/6/2021"], "date '2021-01-04' (row 1) is written in another format than the "
                                             "other dates; expected one format (YYYY-MM-DD or M/D/YYYY) for the "
                                             "whole column"),
    (["2021-01-04T00:00:00+01:00", "2021-01-05T00:00:00+01:00", "2021-01-06T00:00:00+01:00"],
     "date '2021-01-04T00:00:00+01:00' (row 1) carries a time zone (+01:00); expected tz-naive dates (market time): "
     "write them without it"),
])
@pytest.mark.parametrize("where", ["index", "column", "long"])
def test_date_text_follows_a_files_rule(texts: list[str], message: str, where: str) -> None:
    """Day-first text ('01.02.2021', the 1st of February) was read month-first as January 2nd, or raised pandas'
    own error when a day was over 12; a year and month ('2021-01') or a year ('2021') alone was read as the 1st.
    Each is refused as a file refuses it, naming the first cell and its row (the rows counted from 1 by hand:
    the bad cell is the first, or the second in the mixed columns), in a wide frame's index or date column and
    in a long frame's date column."""
    if where == "index":
        frame = _closes(pd.Index(texts))
    elif where == "column":
        frame = _closes(None).assign(date=texts)
    else:
        frame = pd.DataFrame({"date": texts, "symbol": "AAA", "close": [10.0, 11.0, 12.0]})
    assert _refused(frame) == message
    if texts[0] == "01.02.2021":
        _documented(message)


@pytest.mark.parametrize("texts", [
    ["2021-01-04", "2021-01-05", "2021-01-06"],
    ["1/4/2021", "1/5/2021", "1/6/2021"],
    ["2021-01-04 00:00:00", "2021-01-05 00:00:00", "2021-01-06 00:00:00"],
    ["20210104", "20210105", "20210106"],
])
def test_date_text_a_file_reads_is_read_the_same(texts: list[str]) -> None:
    """ISO text (with a midnight time, or in ISO's basic form YYYYMMDD, as a file reads it) and M/D/YYYY give
    the 4th to the 6th of January 2021, as datetime values do."""
    expected = pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"]).to_numpy()
    assert (prices_from_frame(_closes(pd.Index(texts))).dates == expected).all()
    dates = [dt.date(2021, 1, 4), dt.date(2021, 1, 5), dt.date(2021, 1, 6)]
    assert (prices_from_frame(_closes(pd.Index(dates, dtype=object))).dates == expected).all()


def test_a_long_frame_names_the_frames_row_of_a_bad_date_when_symbols_are_chosen() -> None:
    """The bad date is on the frame's 4th row (B's second); with only B chosen it was named as row 2 of the rows
    kept."""
    frame = pd.DataFrame({"date": ["2020-01-02", "2020-01-02", "2020-01-03", "2020-01"],
                          "symbol": ["A", "B", "A", "B"], "close": [10.0, 20.0, 11.0, 21.0]})
    with pytest.raises(DataError) as caught:
        prices_from_frame(frame, symbols=["B"])
    assert str(caught.value) == f"{IN_MEMORY_NAME}: date '2020-01' (row 4) is not a date; {EXPECTED_DATE}"


def _long() -> pd.DataFrame:
    dates = pd.DatetimeIndex(["2021-01-04", "2021-01-04", "2021-01-05", "2021-01-05"])
    return pd.DataFrame({"date": dates, "symbol": ["A", "B", "A", "B"], "close": [10.0, 20.0, 11.0, 21.0]})


def test_dates_in_the_index_and_in_a_date_column_are_refused() -> None:
    """A wide frame with a DatetimeIndex and a 'date' column a day later ran on the column's dates without a
    word; a long frame set_index('date', drop=False) raised pandas' 'cannot insert date, already exists'. Both are
    refused, naming both places and how to keep one."""
    wide = _closes(pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"]))
    wide.insert(0, "date", wide.index + pd.Timedelta(days=1))
    assert _refused(wide) == ("has dates in its index (a DatetimeIndex) and in column 'date'; expected them in one "
                              "place: drop one (frame.drop(columns='date'), or frame.reset_index(drop=True))")
    _documented(_refused(wide))
    assert _refused(_long().set_index("date", drop=False)) == (
        "has dates in its index ('date') and in column 'date'; expected them in one place: drop one "
        "(frame.drop(columns='date'), or frame.reset_index(drop=True))")
    assert _refused(_long().set_index("symbol", drop=False)) == (
        "has 'symbol' as an index level and as a column; expected it once: drop one (frame.drop(columns='symbol'), "
        "or frame.reset_index(drop=True))")


def test_a_long_frame_with_an_unnamed_date_index_is_read_as_a_wide_one_is() -> None:
    """set_index('date').rename_axis(None) was refused as having no 'date' column, while a wide frame takes an
    unnamed DatetimeIndex as its dates; it gives the same prices as the date column does."""
    long = _long()
    assert prices_from_frame(long.set_index("date").rename_axis(None)).sources == prices_from_frame(long).sources


def test_a_time_zone_is_refused_saying_how_to_drop_it() -> None:
    """A tz-aware index (yfinance's history()) or date column was refused with no fix; the message now gives the
    call that drops the zone for each, and that call gives the prices."""
    index = pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"]).tz_localize("America/New_York")
    wide = _closes(index)
    assert _refused(wide) == ("dates carry a time zone (America/New_York); expected tz-naive dates (market time): "
                              "drop the zone, keeping each date as written, with frame.tz_localize(None)")
    _documented(_refused(wide))
    assert prices_from_frame(wide.tz_localize(None)).dates[0] == np.datetime64("2021-01-04")
    long = _long().assign(date=lambda f: f["date"].dt.tz_localize("UTC"))
    assert _refused(long) == ("dates carry a time zone (UTC); expected tz-naive dates (market time): drop the zone, "
                              "keeping each date as written, with frame['date'] = frame['date'].dt.tz_localize(None)")
    assert _refused(long.set_index("date")).endswith("with frame.tz_localize(None)")


def test_one_symbols_bars_with_a_time_zone_are_shown_the_whole_fix() -> None:
    """yfinance's history() is tz-aware: the hint frame[['Close']].rename(...) then met the time zone error; for
    a tz-aware index the hint ends with .tz_localize(None), and following it gives the closes."""
    index = pd.DatetimeIndex(["2021-01-04", "2021-01-05"], name="Date").tz_localize("America/New_York")
    bars = pd.DataFrame({"Open": [10.0, 11.0], "High": [10.5, 11.5], "Low": [9.5, 10.5], "Close": [10.2, 11.2]},
                        index=index)
    assert _refused(bars).endswith("or frame[['Close']].rename(columns={'Close': 'AAPL'}).tz_localize(None))")
    closes = prices_from_frame(bars[["Close"]].rename(columns={"Close": "AAPL"}).tz_localize(None))
    assert closes.close[:, 0].tolist() == [10.2, 11.2]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("close", -5.0, "close for 'B' on 2021-01-05 (row 4) is -5.0; expected a positive price or empty"),
    ("low", 25.0, "high for 'B' on 2021-01-05 (row 4) is 21.5, below low 25.0; expected high >= low"),
    ("volume", -1.0, "volume for 'B' on 2021-01-05 (row 4) is -1.0; expected a volume of zero or more, or empty"),
])
def test_a_long_frames_bar_error_names_the_frames_row(field: str, value: float, message: str) -> None:
    """B's bar on 2021-01-05 is the frame's 4th row (A and B alternate: rows 1-2 on the 4th, 3-4 on the 5th); the
    bar rules named row 2, the date's place among the dates. They name the frame's row, as a file's rows are."""
    long = _long().assign(open=[10.0, 20.0, 11.0, 21.0], high=[10.5, 20.5, 11.5, 21.5],
                          low=[9.5, 19.5, 10.5, 20.5], volume=[1e3, 1e3, 1e3, 1e3])
    long.loc[3, field] = value
    assert _refused(long) == message


def test_the_field_level_is_found_where_it_is() -> None:
    """Ticker first, field second (yfinance's download(group_by='ticker')): the hint frame['Close'] and
    xs(level=0) raised KeyError. The hint names level 1, and following it gives the closes."""
    wide = _closes(pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"]))
    by_ticker = pd.concat({"Close": wide, "Open": wide}, axis=1).swaplevel(axis=1).sort_index(axis=1)
    assert _refused(by_ticker).endswith("pass its closes: frame.xs('Close', axis=1, level=1)")
    _documented(_refused(by_ticker))
    assert prices_from_frame(by_ticker.xs("Close", axis=1, level=1)).sources == prices_from_frame(wide).sources


def test_column_names_are_stripped_as_a_files_are() -> None:
    """'AAA ' ran as a symbol 'AAA ' (a file strips it to AAA), so the scenario's AAA was not found; the frame's
    names are stripped too, and 'AAA' beside 'AAA ' is refused as the same symbol twice."""
    dates = pd.DatetimeIndex(["2021-01-04", "2021-01-05"])
    padded = pd.DataFrame({"AAA ": [10.0, 11.0], " BBB": [20.0, 21.0]}, index=dates)
    assert prices_from_frame(padded).symbols == ("AAA", "BBB")
    assert _refused(padded.assign(AAA=[1.0, 2.0])) == "symbol 'AAA' appears twice; expected each symbol once"
    _documented(_refused(padded.assign(AAA=[1.0, 2.0])))
    long = _long().rename(columns={"close": " close ", "symbol": "symbol "})
    assert prices_from_frame(long).sources == prices_from_frame(_long()).sources


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame(index=pd.DatetimeIndex(["2021-01-04", "2021-01-05"])), "has 2 rows but no price columns"),
    (pd.DataFrame({"date": ["2021-01-04"]}), "has 1 row but no price columns"),
    (pd.DataFrame(), "has no price columns"),
])
def test_a_frame_without_price_columns_says_so(frame: pd.DataFrame, message: str) -> None:
    """Dates alone were called a frame with no rows (and a date column alone gave prices of no symbol); the
    rows are counted by hand (2, 1 and none)."""
    assert _refused(frame) == (f"{message}; expected a column of closes per symbol (wide), or date, symbol and "
                               "close columns (long)")
    if frame.shape == (2, 0):
        _documented(_refused(frame))


@pytest.mark.parametrize("text", ["100.5", "nan", "NA", "#N/A"])
def test_text_among_prices_is_refused_whatever_it_says(text: str) -> None:
    """'100.5' was read as a number and 'nan' as missing while 'NA' and '#N/A' were refused: one rule now, every
    text cell refused, naming AAA's third date (2021-01-06, row 3) and how to convert the column. In a pandas
    string column every cell is text, so its first (10.0 written as '10.0', row 1) is named."""
    frame = _closes(pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"])).astype(object)
    frame.iloc[2, 0] = text
    hint = "expected a number or NaN (convert the column first, e.g. frame['AAA'] = pd.to_numeric(frame['AAA']))"
    assert _refused(frame) == f"close for 'AAA' on 2021-01-06 (row 3) is the text {text!r}; {hint}"
    as_string = frame.astype(str).astype("string")
    assert _refused(as_string) == f"close for 'AAA' on 2021-01-04 (row 1) is the text '10.0'; {hint}"
