"""The loaders' fast path (eventbt/data/arrays.py) gives exactly what the careful path gives: the same panel
for every shipped file and every regular file, and for damaged files the same panel or the same error.

The careful path is the reference (the independent method): it reads cell by cell, and the fast path is
switched off for it by making its entry points answer ``None``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventbt.data import arrays, checks, loaders
from eventbt.data.loaders import load_prices
from eventbt.errors import DataError
from eventbt.prices import PriceData

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "scenarios" / "data"
SHIPPED = [
    ("skfolio/sp500_dataset.csv.gz", "wide"), ("skfolio/sp500_index.csv.gz", "wide"),
    ("pypfopt/stock_prices.csv", "wide"), ("ffn/test_data.csv", "wide"),
    ("zipline/quandl_samples/QUANDL_ARCHIVE.zip", "long"),
]


def _careful(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "regular_csv", lambda text: None)
    monkeypatch.setattr(loaders, "parquet_panel", lambda data, name, wanted: None)
    monkeypatch.setattr(checks, "_plain_iso_days", lambda column: None)


def _outcome(load: Callable[[], PriceData]) -> PriceData | str:
    try:
        return load()
    except DataError as exc:
        return f"DataError: {exc}"


def _same(a: PriceData | str, b: PriceData | str) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert a.symbols == b.symbols and np.array_equal(a.dates, b.dates)
    for field in ("close", "open", "high", "low", "volume"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            assert x.dtype == y.dtype == np.float64 and np.array_equal(x, y, equal_nan=True), field
    assert a.sources == b.sources and a.missing_text == b.missing_text and a.actions == b.actions


def _fast_used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for each fast read attempted, whether it gave a panel."""
    taken: list[bool] = []
    for name in ("wide_panel", "long_panel", "parquet_panel"):
        real = getattr(loaders, name)

        def spy(*args: object, real: Callable[..., object] = real) -> object:
            found = real(*args)
            taken.append(found is not None)
            return found

        monkeypatch.setattr(loaders, name, spy)
    return taken


@pytest.mark.parametrize(("path", "format"), SHIPPED, ids=[p for p, _ in SHIPPED])
def test_every_shipped_file_loads_the_same_both_ways(path: str, format: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast and careful reads of the shipped data give equal panels, and the fast path is the one taken."""
    with monkeypatch.context() as patch:
        taken = _fast_used(patch)
        fast = _outcome(lambda: load_prices(DATA / path, format=format))
    assert taken and all(taken)
    with monkeypatch.context() as patch:
        _careful(patch)
        careful = _outcome(lambda: load_prices(DATA / path, format=format))
    _same(fast, careful)


def _wide_text(rng: random.Random) -> str:
    days = pd.bdate_range("2021-01-04", periods=30)
    lines = ["date,AAA,BBB,CCC"]
    for day in days:
        lines.append(",".join([str(day.date()), *(repr(round(rng.uniform(5, 50), rng.randint(0, 6)))
                                                  for _ in range(3))]))
    return "\n".join(lines) + "\n"


def _long_text(rng: random.Random) -> str:
    days = pd.bdate_range("2021-01-04", periods=20)
    lines = ["date,symbol,open,high,low,close,volume"]
    for symbol in ("AAA", "BBB"):
        for day in days:
            low = round(rng.uniform(5, 50), 2)
            high = round(low * 1.05, 2)
            lines.append(f"{day.date()},{symbol},{low},{high},{low},{high},{rng.randint(0, 10_000)}")
    return "\n".join(lines) + "\n"


CELLS = ["", "#N/A", "null", "NaN", "abc", "-1", "0", "inf", "1e400", " 2.5", "2.5 ", '"3"', "1,2", "12",
         "2021-13-01", "1/5/2021", "2021-01-05", "9007199254740993", "true", "0x10", "1e-320", "AAA", " AAA"]


def _damage(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    kind = rng.randrange(7)
    if kind <= 2:  # a cell replaced
        row = rng.randrange(len(lines))
        cells = lines[row].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(CELLS)
        lines[row] = ",".join(cells)
    elif kind == 3:  # a line dropped, repeated or moved
        row = rng.randrange(1, len(lines))
        moved = lines.pop(row)
        lines.insert(rng.randrange(1, len(lines) + 1), moved) if rng.random() < 0.7 else lines.insert(row, moved)
    elif kind == 4:  # a blank or short line
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["", " ", ",,,", "2021-02-01"]))
    elif kind == 5:  # the header
        cells = lines[0].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(["", "AAA", " close", "Date", "ticker", "Unnamed: 9"])
        lines[0] = ",".join(cells)
    end = rng.choice(["\n", "\r\n", ""]) if kind == 6 else "\n"
    return end.join(lines) + ("\n" if end == "" else end)


@pytest.mark.parametrize(("layout", "make"), [("wide", _wide_text), ("long", _long_text)])
def test_damaged_files_load_or_fail_the_same_both_ways(layout: str, make: Callable[[random.Random], str],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 files per layout, each regular or damaged once at random (a cell, a line, the header, the line
    ends): the fast path gives the careful path's panel or error every time, and takes most regular files."""
    rng = random.Random(20261130)
    path = tmp_path / "p.csv"
    fast_taken = 0
    for trial in range(1000):
        text = make(rng) if trial % 4 == 0 else _damage(make(rng), rng)
        path.write_text(text, newline="")
        load = functools.partial(load_prices, path, format=rng.choice([layout, "auto"]),
                                 symbols=rng.choice([None, ["BBB"], ["AAA", "CCC"] if layout == "wide" else ["AAA"]]))
        with monkeypatch.context() as patch:
            taken = _fast_used(patch)
            fast = _outcome(load)
        with monkeypatch.context() as patch:
            _careful(patch)
            careful = _outcome(load)
        try:
            _same(fast, careful)
        except AssertionError:
            raise AssertionError(f"trial {trial}: {text!r}: {fast!r:.300} / {careful!r:.300}") from None
        fast_taken += any(taken)
    assert fast_taken > 300


def _fast_read_is_careful_read(load: Callable[[], PriceData], monkeypatch: pytest.MonkeyPatch, *,
                               fast_panel: bool = True) -> None:
    """``load`` takes the fast path (with ``fast_panel=False``: tries it and gets no panel), and gives what it
    gives by the careful path."""
    with monkeypatch.context() as patch:
        taken = _fast_used(patch)
        fast = _outcome(load)
    assert (taken == [True]) if fast_panel else (bool(taken) and not any(taken)), taken
    with monkeypatch.context() as patch:
        _careful(patch)
        careful = _outcome(load)
    _same(fast, careful)


def test_a_wide_parquet_file_reads_the_chosen_columns_as_the_careful_path(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Floats with nulls and an integer column, read through pyarrow column by column, equal the careful read."""
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"date": pd.bdate_range("2021-01-04", periods=6),
                          "AAA": [1.5, None, 2.5, 3.0, None, 4.25], "BBB": [10, 11, 12, 13, 14, 15]})
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    for symbols in (None, ["BBB"]):
        _fast_read_is_careful_read(functools.partial(load_prices, tmp_path / "p.parquet", symbols=symbols),
                                   monkeypatch)


def test_a_parquet_file_wider_than_one_read_is_the_careful_read(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """150 symbols, read 64 columns at a time (three parts, the last short), floats with nulls and integer columns
    among them: every cell where the careful read puts it."""
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(arrays, "_COLUMNS_PER_READ", 64)  # the reads this test is about, whatever the default
    rng = np.random.default_rng(150)
    closes = rng.uniform(1, 500, size=(40, 150))
    closes[rng.random(closes.shape) < 0.1] = np.nan
    frame = pd.DataFrame(closes, columns=[f"S{j:03d}" for j in range(150)])
    for j in (3, 64, 149):  # whole numbers in the first, second and third part
        frame[f"S{j:03d}"] = rng.integers(1, 1_000, size=40)
    frame.insert(0, "date", pd.bdate_range("2021-01-04", periods=40))
    frame.to_parquet(tmp_path / "wide.parquet", index=False)
    _fast_read_is_careful_read(functools.partial(load_prices, tmp_path / "wide.parquet"), monkeypatch)


def test_a_parquet_integer_without_a_float_of_its_own_takes_the_careful_read(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """2**53 + 1 has no float64 of its own (it would be read as 2**53). It is above the largest price the bar checks
    take, so the fast read gives no panel for a file holding it, with a null beside it or not, and the load ends as
    the careful read ends (refused as too large)."""
    pytest.importorskip("pyarrow")
    for column in ([10, 2**53 + 1, 12], [10, None, 2**53 + 1]):
        frame = pd.DataFrame({"date": pd.bdate_range("2021-01-04", periods=3), "AAA": [1.5, 2.0, 2.5],
                              "BBB": pd.array(column, dtype="Int64")})
        frame.to_parquet(tmp_path / "big.parquet", index=False)
        _fast_read_is_careful_read(functools.partial(load_prices, tmp_path / "big.parquet"), monkeypatch,
                                   fast_panel=False)


def _date_cell(rng: random.Random) -> str:
    """A date cell: mostly a plain ISO date (leap days, the range's edges), sometimes something else."""
    year, month, day = rng.randint(1678, 2261), rng.randint(1, 12), rng.randint(1, 31 if rng.random() < 0.2 else 28)
    plain = f"{year:04d}-{month:02d}-{day:02d}"
    return rng.choice([plain] * 12 + [
        "2020-02-29", "2021-02-29", "1677-12-31", "2262-01-01", "1678-01-01", "2261-12-31", f" {plain}",
        f"{plain}T00:00:00", f"{month}/{day}/{year}", "", "2020-1-02", "2020-13-01", "2020-00-10", "20-01-2020",
        "2020-01-02Z", "٢٠٢٠-01-02", "2020/01/02", "nan"])


def test_plain_iso_dates_parse_as_the_careful_path_does() -> None:
    """400 date columns, plain or with one odd cell: numpy's one-call read of YYYY-MM-DD gives the dates (or
    the error) that pandas' format-by-format read gives (the reference, with the numpy read switched off)."""
    rng = random.Random(20261130)
    plain_read = 0
    for trial in range(400):
        cells = [_date_cell(rng) if rng.random() < 0.02 or trial % 5 == 0 else
                 f"{rng.randint(1900, 2100):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                 for _ in range(rng.randint(1, 40))]
        column = pd.Series(cells, index=range(1, len(cells) + 1))
        outcomes = []
        for reader in (checks._plain_iso_days, lambda column: None):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(checks, "_plain_iso_days", reader)
                try:
                    outcomes.append(checks.parse_dates(column, "p.csv"))
                except DataError as exc:
                    outcomes.append(str(exc))
        fast, careful = outcomes
        if isinstance(fast, str) or isinstance(careful, str):
            assert fast == careful, cells
        else:
            assert fast.dtype == careful.dtype == np.dtype("datetime64[ns]") and np.array_equal(fast, careful), cells
        plain_read += checks._plain_iso_days(column) is not None
    assert 150 < plain_read < 400  # both ways were exercised


def test_fast_reading_stays_within_the_module_contract() -> None:
    """The fast path refuses what it cannot read exactly: quotes, blank lines, spaces around header names."""
    assert arrays.regular_csv('date,A\n2021-01-04,"1"\n') is None
    assert arrays.regular_csv("date,A\n\n2021-01-04,1\n") is None
    assert arrays.regular_csv("date, A\n2021-01-04,1\n") is None
    frame = arrays.regular_csv("date,A\n2021-01-04,1.5\n2021-01-05,\n")
    assert frame is not None and list(frame.index) == [1, 2] and np.isnan(frame["A"].iloc[1])
