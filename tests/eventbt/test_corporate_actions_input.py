"""Corporate actions in: a price file's own columns, an actions file, their checks, the data warnings, the keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.data.checks import data_warnings, find_suspicious_jumps
from eventbt.data.loaders import load_prices
from eventbt.errors import DataError, ScenarioError
from eventbt.scenario import ScenarioConfig

DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"
QUANDL = DATA / "zipline" / "quandl_samples" / "QUANDL_ARCHIVE.zip"
DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
PRICES = ("date,symbol,close\n2024-01-02,A,10\n2024-01-03,A,11\n2024-01-05,A,12\n2024-01-08,A,12.5\n"
          "2024-01-02,B,20\n2024-01-03,B,21\n2024-01-05,B,22\n2024-01-08,B,23\n")


def test_columns_read_the_quandl_samples_splits_and_dividends() -> None:
    """The zip's split_ratio and ex-dividend columns give AAPL's 7:1 split and the dividends of AAPL and MSFT."""
    prices = load_prices(QUANDL, corporate_actions="columns", display_path="quandl.zip")
    found = [(a.date, a.symbol, a.kind, a.value, a.row) for a in prices.actions]
    assert found == [
        ("2014-02-06", "AAPL", "dividend", 3.05, 25), ("2014-02-18", "MSFT", "dividend", 0.28, 536),
        ("2014-05-08", "AAPL", "dividend", 3.29, 88), ("2014-05-13", "MSFT", "dividend", 0.28, 595),
        ("2014-06-09", "AAPL", "split", 7.0, 109), ("2014-08-07", "AAPL", "dividend", 0.47, 151),
        ("2014-08-19", "MSFT", "dividend", 0.28, 663), ("2014-11-06", "AAPL", "dividend", 0.47, 215),
        ("2014-11-18", "MSFT", "dividend", 0.31, 727)]
    assert {a.source for a in prices.actions} == {"quandl.zip"}
    assert load_prices(QUANDL).actions == ()  # not asked: none read, as before


def test_columns_of_a_folder_read_dividend_but_not_zipline_split() -> None:
    """csvdir's 'dividend' column is read; its 'split' column (not split_ratio) is not an action column."""
    prices = load_prices(DATA / "zipline" / "csvdir_daily", corporate_actions="columns", symbols=["AAPL"],
                         start="2014-01-01")
    assert {a.kind for a in prices.actions} == {"dividend"}
    assert [a.date for a in prices.actions] == ["2014-02-06", "2014-05-08", "2014-08-07", "2014-11-06"]


def test_actions_are_cut_with_the_dates_and_symbols() -> None:
    """start, end and symbols cut the actions as they cut the prices."""
    prices = load_prices(QUANDL, corporate_actions="columns", symbols=["MSFT"], start="2014-05-01",
                         end="2014-08-31")
    assert [(a.date, a.symbol) for a in prices.actions] == [("2014-05-13", "MSFT"), ("2014-08-19", "MSFT")]


def _load(tmp_path: Path, actions: str, prices: str = PRICES, **options: Any) -> eventbt.PriceData:
    (tmp_path / "prices.csv").write_text(prices)
    (tmp_path / "actions.csv").write_text(actions)
    return load_prices(tmp_path / "prices.csv", display_path="prices.csv", corporate_actions=tmp_path / "actions.csv",
                       actions_display="actions.csv", **options)


def test_an_actions_file_is_read_sorted_and_hashed(tmp_path: Path) -> None:
    """Rows in any order come back by date, symbol, dividend before split; the file's SHA-256 is a source."""
    import hashlib

    text = ("date,symbol,type,value,pay_date\n2024-01-05,B,split,2,\n2024-01-05,B,dividend,0.5,2024-01-09\n"
            "2024-01-03,A,dividend,0.25,\n")
    prices = _load(tmp_path, text)
    assert [(a.date, a.symbol, a.kind, a.value, a.pay_date, a.row) for a in prices.actions] == [
        ("2024-01-03", "A", "dividend", 0.25, "", 3), ("2024-01-05", "B", "dividend", 0.5, "2024-01-09", 2),
        ("2024-01-05", "B", "split", 2.0, "", 1)]
    assert prices.sources["actions.csv"] == hashlib.sha256(text.encode()).hexdigest()


HEADER = "date,symbol,type,value\n"
# id, the actions file (after its header), the message, (symbol, date, row)
ACTION_CASES: list[tuple[str, str, str, tuple[str | None, str | None, int | None]]] = [
    ("unknown symbol", "2024-01-03,TSLA,split,2\n",
     "actions.csv: symbol 'TSLA' on 2024-01-03 (row 1) is not in the price data; expected one of A, B",
     ("TSLA", "2024-01-03", 1)),
    ("ratio of zero", "2024-01-03,A,split,0\n",
     "actions.csv: split ratio for 'A' on 2024-01-03 (row 1) is 0.0; expected a ratio > 0 (new shares per old share)",
     ("A", "2024-01-03", 1)),
    ("negative ratio", "2024-01-03,A,split,-2\n",
     "actions.csv: split ratio for 'A' on 2024-01-03 (row 1) is -2.0; expected a ratio > 0 (new shares per old "
     "share)", ("A", "2024-01-03", 1)),
    # 10,000 is the bound of docs/corporate-actions.md; 1e300 (or 1e-300) shares per share is a typo.
    ("ratio far too large", "2024-01-03,A,split,1e300\n",
     "actions.csv: split ratio for 'A' on 2024-01-03 (row 1) is 1e+300; expected a ratio from 0.0001 to 10000 (new "
     "shares per old share)", ("A", "2024-01-03", 1)),
    ("negative dividend", "2024-01-03,A,dividend,-0.5\n",
     "actions.csv: dividend for 'A' on 2024-01-03 (row 1) is -0.5; expected an amount per share > 0",
     ("A", "2024-01-03", 1)),
    ("value not a number", "2024-01-03,A,dividend,abc\n",
     "actions.csv: dividend for 'A' on 2024-01-03 (row 1) is 'abc'; expected an amount per share > 0",
     ("A", "2024-01-03", 1)),
    ("unknown type", "2024-01-03,A,spinoff,1\n",
     "actions.csv: type for 'A' on 2024-01-03 (row 1) is 'spinoff'; expected 'split' or 'dividend'",
     ("A", "2024-01-03", 1)),
    ("date before the data", "2023-12-29,A,split,2\n",
     "actions.csv: date 2023-12-29 for 'A' (row 1) is outside its prices (2024-01-02 .. 2024-01-08); expected an "
     "ex-date with a price", ("A", "2023-12-29", 1)),
    ("date after the data", "2024-02-01,B,dividend,1\n",
     "actions.csv: date 2024-02-01 for 'B' (row 1) is outside its prices (2024-01-02 .. 2024-01-08); expected an "
     "ex-date with a price", ("B", "2024-02-01", 1)),
    ("date without a price", "2024-01-04,A,split,2\n",
     "actions.csv: date 2024-01-04 for 'A' (row 1) has no price (the nearest are 2024-01-03 and 2024-01-05); "
     "expected an ex-date with a price", ("A", "2024-01-04", 1)),
    ("duplicate", "2024-01-03,A,split,2\n2024-01-05,A,split,2\n2024-01-03,A,split,3\n",
     "actions.csv: split for 'A' on 2024-01-03 appears twice (rows 1 and 3); expected one row per date, symbol and "
     "type", ("A", "2024-01-03", 3)),
    ("dividend not below the price", "2024-01-05,B,dividend,21\n",
     "actions.csv: dividend for 'B' on 2024-01-05 (row 1) is 21, not below the previous close 21; expected an "
     "amount per share below the price", ("B", "2024-01-05", 1)),
    ("pay date before the ex-date", "2024-01-05,B,dividend,0.5,2024-01-03\n",
     "actions.csv: pay_date 2024-01-03 for 'B' (row 1) is before its ex-date 2024-01-05; expected a pay date on or "
     "after the ex-date", ("B", "2024-01-05", 1)),
    ("pay date not a date", "2024-01-05,B,dividend,0.5,2024-13-01\n",  # named as pay_date, not as the ex-date
     "actions.csv: pay_date '2024-13-01' (row 1) is not a date; expected a date like YYYY-MM-DD or M/D/YYYY",
     (None, None, 1)),
    ("pay date on a split", "2024-01-05,B,split,2,2024-01-08\n",
     "actions.csv: split for 'B' on 2024-01-05 (row 1) has a pay_date; expected pay_date only on dividends",
     ("B", "2024-01-05", 1)),
    ("no symbol", "2024-01-05,,split,2,\n",
     "actions.csv: row 1 has no symbol; expected one in 'symbol'", (None, "2024-01-05", 1)),
    ("missing column", None,
     "actions.csv: no 'type' column; expected columns date, symbol, type, value (and optionally pay_date); found "
     "date, symbol, value", (None, None, None)),
]


@pytest.mark.parametrize(("rows", "message", "where"), [c[1:] for c in ACTION_CASES], ids=[c[0] for c in ACTION_CASES])
def test_a_bad_action_gives_an_exact_one_line_error(tmp_path: Path, rows: str | None, message: str,
                                                    where: tuple[str | None, str | None, int | None]) -> None:
    """Each bad row is a DataError naming the file, the row, the symbol and the date, with what was expected."""
    header = HEADER.replace("value", "value,pay_date") if rows is not None and rows.count(",") == 4 else HEADER
    text = "date,symbol,value\n2024-01-03,A,2\n" if rows is None else header + rows
    with pytest.raises(DataError) as caught:
        _load(tmp_path, text)
    assert str(caught.value) == message
    assert (caught.value.symbol, caught.value.date, caught.value.row) == where
    assert "\n" not in message


@pytest.mark.parametrize("message", [c[2] for c in ACTION_CASES], ids=[c[0] for c in ACTION_CASES])
def test_each_action_error_is_in_the_docs(message: str) -> None:
    """docs/errors.md shows every actions-file message verbatim."""
    assert message in DOC


COLUMN_CASES = [
    ("wide file", "date,A\n2024-01-02,1\n", "prices.csv: is in wide layout (a close column per symbol), which has no "
     "action columns for [data] corporate_actions = 'columns'; expected a long or per-symbol file with split_ratio "
     "or dividend columns, or an actions file"),
    ("no action column", "date,symbol,close\n2024-01-02,A,1\n", "prices.csv: has no split_ratio or dividend "
     "(ex-dividend) column, which [data] corporate_actions = 'columns' reads; found date, symbol, close (or name an "
     "actions file instead)"),
    ("ratio of zero", "date,symbol,close,split_ratio\n2024-01-02,A,1,1\n2024-01-03,A,1,0\n", "prices.csv: "
     "split_ratio for 'A' on 2024-01-03 (row 2) is 0.0; expected a ratio > 0 (new shares per old share; 1 or empty "
     "on other days)"),
    ("ratio far too large", "date,symbol,close,split_ratio\n2024-01-02,A,1,1\n2024-01-03,A,1,20000\n", "prices.csv: "
     "split_ratio for 'A' on 2024-01-03 (row 2) is 20000.0; expected a ratio from 0.0001 to 10000 (new shares per old "
     "share)"),
    ("negative dividend", "date,symbol,close,ex-dividend\n2024-01-02,A,1,0\n2024-01-03,A,1,-0.1\n", "prices.csv: "
     "ex-dividend for 'A' on 2024-01-03 (row 2) is -0.1; expected an amount per share >= 0 (0 or empty on other "
     "days)"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in COLUMN_CASES], ids=[c[0] for c in COLUMN_CASES])
def test_bad_action_columns_give_an_exact_error(tmp_path: Path, text: str, message: str) -> None:
    """corporate_actions = "columns" on a file without them, or with a bad value, names the file and the cell."""
    (tmp_path / "prices.csv").write_text(text)
    with pytest.raises(DataError) as caught:
        load_prices(tmp_path / "prices.csv", display_path="prices.csv", corporate_actions="columns")
    assert str(caught.value) == message
    assert message in DOC


@pytest.mark.parametrize("ratio", ["0.0001", "10000", "1e-4"])
def test_a_split_ratio_at_the_bounds_is_read(tmp_path: Path, ratio: str) -> None:
    """A 1-for-10,000 reverse split and a 10,000-for-1 split are the bounds, both accepted."""
    prices = _load(tmp_path, HEADER + f"2024-01-03,A,split,{ratio}\n")
    assert [action.value for action in prices.actions] == [float(ratio)]


def test_a_column_the_actions_file_does_not_read_is_refused(tmp_path: Path) -> None:
    """A ``currency`` column (a dividend in pence) was ignored, the value paid in the account's currency; it is
    refused, naming the column and the ones the file has. A trailing comma's empty column is let be."""
    message = ("actions.csv: column 'currency' is not read; expected only the columns date, symbol (or ticker), type, "
               "value and pay_date (a split's value is a ratio, a dividend's cash per share in the account's currency)")
    with pytest.raises(DataError) as caught:
        _load(tmp_path, "date,symbol,type,value,currency\n2024-01-05,B,dividend,5,GBX\n")
    assert str(caught.value) == message
    assert message in DOC
    prices = _load(tmp_path, "Date,Ticker,Type,Value,Pay_Date,\n2024-01-05,B,dividend,0.5,2024-01-08,\n")
    assert [(a.symbol, a.value, a.pay_date) for a in prices.actions] == [("B", 0.5, "2024-01-08")]


def test_a_missing_actions_file_is_named(tmp_path: Path) -> None:
    """An actions file that is not there is a one-line DataError, as documented."""
    (tmp_path / "prices.csv").write_text(PRICES)
    with pytest.raises(DataError) as caught:
        load_prices(tmp_path / "prices.csv", corporate_actions=tmp_path / "nope.csv", actions_display="nope.csv")
    message = ("nope.csv: no such actions file (from [data] corporate_actions); expected a CSV file with columns "
               "date, symbol, type, value (and optionally pay_date), or 'columns' to read the price file's own")
    assert str(caught.value) == message and message in DOC


def test_validate_lists_every_bad_action(tmp_path: Path) -> None:
    """eventbt validate reports each bad row of an actions file, one line each, and keeps checking the rest."""
    (tmp_path / "prices.csv").write_text(PRICES)
    (tmp_path / "actions.csv").write_text(HEADER + "2024-01-03,TSLA,split,2\n2024-01-03,A,split,0\n"
                                          "2024-01-05,B,dividend,0.5\n2024-01-05,B,dividend,0.5\n")
    (tmp_path / "s.toml").write_text('[data]\npath = "prices.csv"\ncorporate_actions = "actions.csv"\n'
                                     '[strategy]\nname = "equal_weight"\n')
    report = eventbt.validate(tmp_path / "s.toml")
    assert [problem.split(": ", 1)[1] for problem in report.problems] == [
        "split ratio for 'A' on 2024-01-03 (row 2) is 0.0; expected a ratio > 0 (new shares per old share)",
        "dividend for 'B' on 2024-01-05 appears twice (rows 3 and 4); expected one row per date, symbol and type",
        "symbol 'TSLA' on 2024-01-03 (row 1) is not in the price data; expected one of A, B"]


def test_a_jump_the_actions_explain_is_not_warned_about() -> None:
    """AAPL's 645.57 -> 93.70 is a warning on the raw file, and none once its 7:1 split is read."""
    raw = load_prices(QUANDL, symbols=["AAPL"])
    assert [(j.symbol, j.date) for j in find_suspicious_jumps(raw)] == [("AAPL", "2014-06-09")]
    assert find_suspicious_jumps(load_prices(QUANDL, symbols=["AAPL"], corporate_actions="columns")) == []


def test_a_split_the_prices_do_not_show_is_warned_about(tmp_path: Path) -> None:
    """A 7:1 split applied to zipline's already adjusted csvdir AAPL would adjust twice: a warning says so."""
    (tmp_path / "actions.csv").write_text(HEADER + "2014-06-09,AAPL,split,7\n")
    prices = load_prices(DATA / "zipline" / "csvdir_daily", symbols=["AAPL"], display_path="csvdir",
                         corporate_actions=tmp_path / "actions.csv", actions_display="actions.csv")
    # The close moves 92.2243 -> 93.7 (x1.016); a 7:1 split would move it by about x0.143.
    assert data_warnings(prices, "csvdir") == [
        "csvdir: split 7 for 'AAPL' on 2014-06-09 is not in the prices: close moves 92.2243 -> 93.7 (x1.016) where "
        "the split would show about x0.143; the prices look adjusted already, and applying the split adjusts them "
        "twice (see docs/corporate-actions.md)"]


def test_a_large_split_the_prices_do_not_show_gives_its_move_in_significant_digits(tmp_path: Path) -> None:
    """A 5,000:1 split on a close that does not move would show x1/5,000 = x0.0002; three decimals printed it as
    x0.000 (and a ratio of 1e300 as 300 digits before the ratio bounds)."""
    (tmp_path / "actions.csv").write_text(HEADER + "2024-01-05,A,split,5000\n")
    (tmp_path / "prices.csv").write_text(PRICES)
    prices = load_prices(tmp_path / "prices.csv", display_path="prices.csv",
                         corporate_actions=tmp_path / "actions.csv", actions_display="actions.csv")
    # A's close moves 11 -> 12 (x1.091) on 2024-01-05
    assert [line for line in data_warnings(prices, "prices.csv") if "is not in the prices" in line] == [
        "prices.csv: split 5000 for 'A' on 2024-01-05 is not in the prices: close moves 11 -> 12 (x1.091) where the "
        "split would show about x0.0002; the prices look adjusted already, and applying the split adjusts them twice "
        "(see docs/corporate-actions.md)"]


def test_an_actions_file_of_a_header_alone_has_no_actions(tmp_path: Path) -> None:
    """A period without splits or dividends: the header alone is read as no actions (it stopped the run with
    "expected at least one row of prices"); an empty file is refused in words for an actions file."""
    prices = _load(tmp_path, HEADER)
    assert prices.actions == () and "actions.csv" in prices.sources
    with pytest.raises(DataError) as caught:
        _load(tmp_path, "")
    message = "actions.csv: file is empty; expected a header line and rows of corporate actions"
    assert str(caught.value) == message and message in DOC


@pytest.mark.parametrize(("overrides", "message"), [
    (["run.warmup=-1"], "[run] warmup must be an integer >= 0 (bars) or an ISO date YYYY-MM-DD, got -1"),
    (["run.warmup=soon"], "[run] warmup must be an integer >= 0 (bars) or an ISO date YYYY-MM-DD, got 'soon'"),
    (["run.warmup=2014-01-02"], "[run] warmup '2014-01-02' is a date, the warm-up's first; it needs [data] start, "
     "the first tradable date, after it (or give a number of bars)"),
    (["data.start=2014-03-03", "run.warmup=2014-03-03"], "[run] warmup must be before [data] start, got "
     "'2014-03-03' >= '2014-03-03'"),
    (["portfolio.withholding_tax=1"], "[portfolio] withholding_tax must be a number >= 0 and < 1, got 1"),
    (["data.dividend_payment=payday"], "[data] dividend_payment must be one of 'ex_date', 'pay_date', got "
     "'payday' (did you mean 'pay_date'?)"),
    (["strategy.prices=adjusted"], "[strategy] prices must be one of 'split_adjusted', 'total_return', got "
     "'adjusted' (did you mean 'split_adjusted'?)"),
])
def test_the_new_keys_are_checked(overrides: list[str], message: str) -> None:
    """Each new key gets the scenario checks' usual one-line message."""
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "quandl_actions.toml"
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml(scenario, overrides)
    assert str(caught.value).endswith(f"): {message}")


def test_the_new_keys_are_written_only_when_set() -> None:
    """A scenario that does not set them resolves as before (so its audit digest is unchanged)."""
    plain = ScenarioConfig.from_dict({"data": {"path": "p.csv"}, "strategy": {"name": "equal_weight"}}).to_dict()
    assert "corporate_actions" not in plain["data"] and "dividend_payment" not in plain["data"]
    assert plain["portfolio"] == {"initial_cash": 1_000_000.0}
    assert plain["run"] == {"on_error": "stop", "progress": True}
    assert "prices" not in plain["strategy"]
    actions = ScenarioConfig.from_toml(Path(__file__).resolve().parents[2] / "scenarios" / "quandl_actions.toml")
    table = actions.to_dict()
    assert (table["data"]["corporate_actions"], table["portfolio"]["withholding_tax"], table["run"]["warmup"]) == (
        "columns", 0.15, 40)


def test_an_inherited_actions_file_keeps_pointing_where_the_base_meant(tmp_path: Path) -> None:
    """extends from another folder rebases [data] corporate_actions like [data] path."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "base.toml").write_text('[data]\npath = "p.csv"\ncorporate_actions = "a.csv"\n'
                                                 '[strategy]\nname = "equal_weight"\n')
    (tmp_path / "child.toml").write_text('extends = "base/base.toml"\n')
    config = ScenarioConfig.from_toml(tmp_path / "child.toml")
    assert config.data.corporate_actions == "base/a.csv"
    assert config.actions_source == (tmp_path / "base" / "a.csv").resolve()
