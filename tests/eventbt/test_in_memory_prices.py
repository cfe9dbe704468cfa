"""Prices given in memory: wide and long DataFrames run like the same prices from a file, checked like a file,
and identified in the audit header by a digest of their numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.data.frames import IN_MEMORY_NAME, prices_from_frame
from eventbt.data.loaders import load_prices
from eventbt.errors import DataError
from eventbt.scenario import ScenarioConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()

SCENARIO = """\
[data]
path = "prices.csv"
format = "wide"

[portfolio]
initial_cash = 10_000.0

[strategy]
name = "equal_weight"

[schedule]
every_n_bars = 3

[execution.commission]
model = "fixed"
amount = 1.0
"""


def _wide() -> pd.DataFrame:
    dates = pd.date_range("2021-01-04", periods=12, freq="B")
    return pd.DataFrame({"BBB": np.linspace(20.0, 18.0, 12), "AAA": np.linspace(10.0, 13.0, 12)}, index=dates)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The scenario, with the same prices also written as its CSV file."""
    frame = _wide()
    frame.rename_axis("date").to_csv(tmp_path / "prices.csv")
    written = pd.read_csv(tmp_path / "prices.csv", index_col="date", parse_dates=["date"])
    assert written.equals(frame)  # pandas writes the shortest text that reads back as the same float
    (tmp_path / "s.toml").write_text(SCENARIO)
    return tmp_path / "s.toml"


def test_a_wide_frame_runs_as_the_same_prices_from_a_file(scenario: Path) -> None:
    """Equity and trades from the frame equal those from the file it was written to (the CSV keeps every float
    exactly); only the header's data_files differ (the file's hash, the frame's digest)."""
    from_file = eventbt.run(scenario)
    from_frame = eventbt.run(scenario, prices=_wide())
    pd.testing.assert_frame_equal(from_frame.equity, from_file.equity)
    pd.testing.assert_frame_equal(from_frame.trades, from_file.trades)
    header = from_frame.audit.records()[0]
    assert list(header["data_files"]) == [IN_MEMORY_NAME]


def test_a_wide_frame_read_without_parse_dates_gives_the_same_panel(scenario: Path) -> None:
    """`pd.read_csv(path, index_col=0)` leaves the dates as text: pandas 3 types such an index `str`, which was
    refused as "has no dates" while the same text typed `object` was read. Both give the dates' panel."""
    text = pd.read_csv(scenario.parent / "prices.csv", index_col=0)
    as_object = text.set_axis(text.index.astype(object))
    expected = prices_from_frame(_wide())
    for frame in (text, as_object):
        got = prices_from_frame(frame)
        assert (got.dates == expected.dates).all() and got.symbols == expected.symbols
        assert (got.close == expected.close).all()


def test_a_frame_lacking_a_column_the_scenario_needs_is_named_not_the_file(scenario: Path) -> None:
    """A closes-only frame on a next_open scenario: the message named the scenario's data file (which may well
    have opens) and told to use a file; it names the frame and says to pass a long one with an open column."""
    from eventbt.errors import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        eventbt.run(scenario, overrides=["execution.timing=next_open"], prices=_wide())
    assert str(caught.value) == (f"{scenario} (--set execution.timing=next_open): [execution] timing = 'next_open' "
                                 "needs open prices, but <prices DataFrame> has none (pass a long DataFrame with an "
                                 "open column)")


def test_a_long_frame_gives_the_same_panel_as_the_wide_one() -> None:
    """The same closes in long layout (rows shuffled) make the same PriceData, digest included."""
    wide = _wide()
    long = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="symbol", value_name="close")
    long = long.sample(frac=1.0, random_state=3)
    a, b = prices_from_frame(wide), prices_from_frame(long)
    assert a.symbols == b.symbols == ("AAA", "BBB")
    assert np.array_equal(a.dates, b.dates) and np.array_equal(a.close, b.close)
    assert a.sources == b.sources


def test_the_digest_follows_the_numbers() -> None:
    """Changing one close by one unit in the last place changes the digest; a copy keeps it."""
    frame = _wide()
    same = prices_from_frame(frame.copy()).sources[IN_MEMORY_NAME]
    assert prices_from_frame(frame).sources[IN_MEMORY_NAME] == same
    nudged = frame.copy()
    nudged.iloc[5, 0] = np.nextafter(nudged.iloc[5, 0], np.inf)
    assert prices_from_frame(nudged).sources[IN_MEMORY_NAME] != same


def test_the_scenario_picks_symbols_and_dates_from_the_frame(scenario: Path) -> None:
    """[data] symbols, start and end cut an in-memory frame as they cut a file."""
    config = ScenarioConfig.from_toml(scenario, ["data.symbols=['AAA']", "data.start=2021-01-06"])
    result = eventbt.run(config, prices=_wide())
    assert str(result.equity.index[0].date()) == "2021-01-06"
    assert set(result.trades["symbol"]) == {"AAA"}


def test_a_warm_up_reaches_back_into_the_frame_as_into_a_file(scenario: Path) -> None:
    """[run] warmup = 2 with start 2021-01-08 (the 5th bar): the frame's bars 3 and 4 warm the strategy, the
    equity starts at 2021-01-08, and the run equals the same scenario read from the CSV file."""
    config = ScenarioConfig.from_toml(scenario, ["data.start=2021-01-08", "run.warmup=2"])
    from_frame = eventbt.run(config, prices=_wide())
    from_file = eventbt.run(config)
    assert str(from_frame.equity.index[0].date()) == "2021-01-08"
    assert from_frame.summary["warmup_bars"] == 2
    pd.testing.assert_frame_equal(from_frame.equity, from_file.equity)


def test_corporate_actions_are_not_read_from_a_frame(scenario: Path) -> None:
    """Actions come with a file (its columns or an actions file): a frame has neither, which is said."""
    config = ScenarioConfig.from_toml(scenario, ["data.corporate_actions=columns"])
    with pytest.raises(eventbt.ScenarioError, match=r"\[data\] corporate_actions = 'columns' is read with the price "
                                                    r"file; prices given as a DataFrame take no corporate actions"):
        eventbt.run(config, prices=_wide())


def test_an_actions_file_with_a_frame_says_it_goes_with_the_scenarios_file(scenario: Path) -> None:
    """An actions file is a file of its own, so "is read with the price file" (what a frame lacks for 'columns')
    did not explain its refusal: it is applied only to prices read from the scenario's file, against whose symbols
    and dates it is checked."""
    config = ScenarioConfig.from_toml(scenario, ['data.corporate_actions="actions.csv"'])
    with pytest.raises(eventbt.ScenarioError, match=r"corporate_actions = 'actions.csv' is applied only to prices read "
                                                    r"from the scenario's file .*; prices given as a DataFrame take no "
                                                    r"corporate actions: run from the file, pass prices already "
                                                    r"adjusted and leave the key out"):
        eventbt.run(config, prices=_wide())


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.assign(AAA=f["AAA"].where(f.index != f.index[2], -1.0)),
     "close for 'AAA' on 2021-01-06 (row 3) is -1.0"),
    (lambda f: f.assign(AAA=f["AAA"].where(f.index != f.index[2], np.inf)),
     "close for 'AAA' on 2021-01-06 (row 3) is inf"),
    (lambda f: f.iloc[[0, 2, 1, 3]], "date 2021-01-05 (row 3) comes before the date above it"),
    (lambda f: f.iloc[[0, 1, 1, 2]], "date 2021-01-05 (row 3) repeats"),
    (lambda f: f.assign(AAA="x"), "close for 'AAA' on 2021-01-04 (row 1) is the text 'x'; expected a number or NaN"),
    (lambda f: f.tz_localize("UTC"), "dates carry a time zone (UTC)"),
    (lambda f: f.set_axis(range(len(f))), "has no dates: expected a DatetimeIndex or a 'date' column"),
    (lambda f: f.assign(AAA=np.nan), "no close prices for 'AAA': every row is empty"),
    (lambda f: f.iloc[:0], "has no rows"),
])
def test_bad_frames_are_named_like_bad_files(change, message: str) -> None:  # type: ignore[no-untyped-def]
    """Each broken frame is a one-line DataError naming the in-memory prices, the symbol, the date and the row."""
    with pytest.raises(DataError) as caught:
        prices_from_frame(change(_wide()))
    text = str(caught.value)
    assert text.startswith(f"{IN_MEMORY_NAME}: ") and message in text and "\n" not in text


def test_a_long_frame_with_two_rows_for_one_bar_is_refused() -> None:
    """Two rows for AAA on one date: the symbol and the date are named."""
    frame = pd.DataFrame({"date": ["2021-01-04", "2021-01-04", "2021-01-05"], "symbol": ["AAA", "AAA", "AAA"],
                          "close": [1.0, 1.1, 1.2]})
    with pytest.raises(DataError, match=r"'AAA' has two rows for 2021-01-04"):
        prices_from_frame(frame)


def test_something_else_is_not_prices() -> None:
    """A dict or an array is refused with what was expected."""
    with pytest.raises(DataError, match=r"prices must be a pandas DataFrame \(wide or long\), got dict"):
        prices_from_frame({"AAA": [1.0]})  # type: ignore[arg-type]


def test_columns_of_two_levels_are_refused_not_traded_as_symbols(tmp_path: Path) -> None:
    """A yfinance-shaped frame (a field level over the symbols): each (field, symbol) pair was taken for a symbol
    and traded. It is refused, in memory and from a parquet file (pandas keeps the levels there), saying how to
    pass the closes; frame['Close'] is then the same prices."""
    wide = _wide()
    fields = pd.concat({"Close": wide, "Open": wide * 0.99}, axis=1)
    message = ("has 2 levels of column labels (the first column is ('Close', 'BBB')); expected one level: a column "
               "per symbol (wide), or date, symbol and close columns (long). For a frame with a field level, pass its "
               "closes: frame['Close'], or frame.xs('Close', axis=1, level=0)")
    with pytest.raises(DataError) as caught:
        prices_from_frame(fields)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: {message}"
    for index_name in ("date", None):  # a named date index (the fast path reads it) and an unnamed one
        path = tmp_path / f"levels-{index_name}.parquet"
        fields.rename_axis(index_name).to_parquet(path)
        with pytest.raises(DataError) as caught:
            load_prices(path)
        assert str(caught.value) == f"{path}: {message}"
    assert prices_from_frame(fields["Close"]).sources == prices_from_frame(wide).sources


def test_a_date_and_symbol_index_is_read_as_the_long_layout() -> None:
    """A long frame indexed by (date, symbol), as `set_index(['date', 'symbol'])` leaves it, gives the wide frame's
    prices (the same digest); it failed with 'a date that cannot be read (tuple ...)'."""
    wide = _wide()
    long = wide.stack().rename("close").rename_axis(["date", "symbol"]).to_frame()
    assert prices_from_frame(long).sources == prices_from_frame(wide).sources


@pytest.mark.parametrize("whole_column", [False, True])
def test_true_or_false_among_prices_is_refused(whole_column: bool) -> None:
    """A Python True in an object column, or a column of booleans, became closes of 1.0 (float64 takes True as
    1) and was traded; it is refused, naming the column, as the text 'True' in a file is."""
    wide = _wide().astype(object)
    if whole_column:
        wide["AAA"] = [True, False] * 6  # a bool column
        assert wide["AAA"].dtype == bool
    else:
        wide.iloc[2, 1] = True
    with pytest.raises(DataError) as caught:
        prices_from_frame(wide)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: a symbol column 'AAA' holds True/False values; expected numbers " \
                                "or NaN"


def test_a_parquet_file_of_a_frame_with_an_unnamed_date_index_loads(tmp_path: Path) -> None:
    """pandas' to_parquet of a frame whose dates are an unnamed index (its default output) was refused as having
    no date column ('found index, ...'); it loads as the same prices as the named one."""
    wide = _wide()
    named, unnamed = tmp_path / "named.parquet", tmp_path / "unnamed.parquet"
    wide.rename_axis("date").to_parquet(named)
    wide.rename_axis(None).to_parquet(unnamed)
    a, b = load_prices(named), load_prices(unnamed)
    assert a.symbols == b.symbols == ("AAA", "BBB")
    assert np.array_equal(a.close, b.close) and np.array_equal(a.dates, b.dates)


def _in_the_docs(error: DataError) -> None:
    """docs/errors.md shows the message verbatim (its table of prices in memory)."""
    assert f"`{error}`" in DOC


def test_a_nullable_boolean_column_is_refused_as_a_bool_one() -> None:
    """A pandas `boolean` column (what convert_dtypes() or a database driver gives) has no numpy kind, so it went
    to float64 and its True became closes of 1.0, traded; it is refused as the numpy bool column is."""
    wide = _wide().assign(AAA=pd.array([True, False, None] * 4, dtype="boolean"))
    with pytest.raises(DataError) as caught:
        prices_from_frame(wide)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: a symbol column 'AAA' holds True/False values; expected numbers " \
                                "or NaN"
    _in_the_docs(caught.value)


@pytest.mark.parametrize(("dates", "message", "documented"), [
    (pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2620-01-06"]).as_unit("s"),
     "date '2620-01-06' (row 3) is outside the supported range 1678-01-01 .. 2261-12-31", True),
    ([dt.date(2020, 1, 2), dt.date(2020, 1, 3), dt.date(2300, 1, 3)],
     "date '2300-01-03' (row 3) is outside the supported range 1678-01-01 .. 2261-12-31", False),
    ([dt.date(1500, 1, 2), dt.date(2020, 1, 3), dt.date(2020, 1, 6)],
     "date '1500-01-02' (row 1) is outside the supported range 1678-01-01 .. 2261-12-31", False),
    ([20200102, 20200103, 20200106], "dates are integers (20200102); expected datetimes or ISO date text", True),
])
def test_dates_out_of_range_or_numbers_are_named_as_such(dates: object, message: str, documented: bool) -> None:
    """A year typed 2620 (which datetime64[ns] cannot hold: it wrapped round) and an int YYYYMMDD column (which
    pandas reads as nanoseconds after 1970) were both refused as "has a time of day". They are named for what they
    are, in the file's words for the range; the rows are the frame's, counted from 1."""
    frame = pd.DataFrame({"date": dates, "AAA": [10.0, 11.0, 12.0]})
    with pytest.raises(DataError) as caught:
        prices_from_frame(frame)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: {message}"
    if documented:
        _in_the_docs(caught.value)


def test_a_cell_that_is_not_a_number_is_named_with_its_symbol_date_and_row() -> None:
    """One text cell among the closes gave "a symbol column holds values that are not numbers", with nothing to
    find it by. The wide frame names the symbol, the date and the row (the third date, row 3); the long frame
    the row of the frame holding it (the 6th row: AAA and BBB alternate, so BBB's third date is row 6), also
    when a symbol choice drops the rows above it."""
    wide = _wide().astype(object)
    wide.iloc[2, 0] = "$21"  # BBB, 2021-01-06
    with pytest.raises(DataError) as caught:
        prices_from_frame(wide)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: close for 'BBB' on 2021-01-06 (row 3) is the text '$21'; " \
                                "expected a number or NaN (convert the column first, e.g. frame['BBB'] = " \
                                "pd.to_numeric(frame['BBB']))"
    _in_the_docs(caught.value)
    long = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="symbol", value_name="close")
    long = long.sort_values(["date", "symbol"], ignore_index=True)
    assert long.loc[5, "close"] == "$21"
    for symbols in (None, ["BBB"]):
        with pytest.raises(DataError) as caught:
            prices_from_frame(long, symbols=symbols)
        assert str(caught.value) == f"{IN_MEMORY_NAME}: close for 'BBB' on 2021-01-06 (row 6) is the text '$21'; " \
                                    "expected a number or NaN (convert the column first, e.g. frame['close'] = " \
                                    "pd.to_numeric(frame['close']))"


def test_pd_na_in_an_object_column_is_a_missing_price_like_none() -> None:
    """pd.NA is pandas' missing value: in an object column it was refused as "not numbers" while None in the same
    place was read as missing. Both give the same prices, NaN in that cell."""
    wide = _wide().astype(object)
    with_none, with_na = wide.copy(), wide.copy()
    with_none.iloc[4, 1], with_na.iloc[4, 1] = None, pd.NA
    a, b = prices_from_frame(with_none), prices_from_frame(with_na)
    assert np.isnan(b.close[4, 0]) and np.array_equal(a.close, b.close, equal_nan=True)
    assert a.sources == b.sources


def _long_frame() -> pd.DataFrame:
    return pd.DataFrame({"date": ["2020-01-02", "2020-01-02", "2020-01-03", "2020-01-03"],
                         "symbol": ["A", "B", "A", "B"], "close": [10.0, 20.0, 11.0, 21.0]})


@pytest.mark.parametrize("missing", [None, np.nan])
def test_a_long_frame_row_without_a_symbol_is_named(missing: object) -> None:
    """A None or NaN symbol on the 4th row raised a bare TypeError (sorting str with float); it is the file's
    error, naming the frame's row."""
    frame = _long_frame()
    frame.loc[3, "symbol"] = missing
    with pytest.raises(DataError) as caught:
        prices_from_frame(frame)
    assert str(caught.value) == f"{IN_MEMORY_NAME}: row 4 has no symbol; expected one in 'symbol'"
    _in_the_docs(caught.value)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.assign(Close=f["close"] / 2), "columns 'close' and 'Close' both give close; expected one"),
    (lambda f: pd.concat([f, f[["close"]]], axis=1), "column 'close' appears twice; expected each once"),
])
def test_a_long_frame_with_two_close_columns_is_refused(change, message: str) -> None:  # type: ignore[no-untyped-def]
    """close and Close (a second vendor's adjusted close merged in): the run used whichever came last, without a
    word; close twice (a concat) raised numpy's shape mismatch. Both are refused as the same file is."""
    with pytest.raises(DataError) as caught:
        prices_from_frame(change(_long_frame()))
    assert str(caught.value) == f"{IN_MEMORY_NAME}: {message}"
    _in_the_docs(caught.value)


def test_one_symbols_bars_as_a_wide_frame_are_refused() -> None:
    """Open, High, Low, Close and Volume over a DatetimeIndex (yfinance's history()) were traded as five symbols
    named like fields; refused as the same file is, with how to pass them, and that way gives the closes."""
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="Date")
    bars = pd.DataFrame({"Open": [10, 11, 12.0], "High": [10.5, 11.5, 12.5], "Low": [9.5, 10.5, 11.5],
                         "Close": [10.2, 11.2, 12.2], "Volume": [1e6, 1.1e6, 1.2e6]}, index=index)
    with pytest.raises(DataError) as caught:
        prices_from_frame(bars)
    assert str(caught.value) == (
        f"{IN_MEMORY_NAME}: has open, high, low and close columns, the bars of one symbol; expected one close column "
        "per symbol (for one symbol's bars pass a long frame with a symbol column, or frame[['Close']].rename("
        "columns={'Close': 'AAPL'}))")
    _in_the_docs(caught.value)
    closes = prices_from_frame(bars[["Close"]].rename(columns={"Close": "AAPL"}))
    assert closes.symbols == ("AAPL",) and closes.close[:, 0].tolist() == [10.2, 11.2, 12.2]


def test_a_symbol_written_with_other_characters_is_shown_as_ascii_in_a_frame_too() -> None:
    """A frame's column written with a decomposed accent (E + U+0301) and the NESTL\u00c9 (U+00C9) asked for print
    the same; the did-you-mean showed the one as the other. Both are shown with ascii() now, as for a file."""
    frame = pd.DataFrame({"NESTLE\u0301": [10.0, 11.0]}, index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"]))
    with pytest.raises(DataError) as caught:
        prices_from_frame(frame, symbols=["NESTL\u00c9"])
    assert ("symbol 'NESTL\u00c9' is not in the frame (did you mean 'NESTLE\\u0301'? it looks the same as "
            "'NESTL\\xc9' but is other characters: write both the same way, e.g. in Unicode NFC)") in str(caught.value)
