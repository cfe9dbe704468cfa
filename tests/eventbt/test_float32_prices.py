"""Prices stored as 32-bit floats (a float32 DataFrame or parquet column) run at their exact value, which is not
the decimal they print as; the run warns when that is so, naming the symbol, the cell and both numbers.

The expected numbers come from the standard library, not numpy: ``struct`` packs 10.1 into the four bytes of an
IEEE single and back, which gives the float32's exact value as a Python float (10.100000381469727).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.data.checks import float32_message, float32_symbols
from eventbt.data.frames import prices_from_frame
from eventbt.scenario.validate import validate
from eventbt.simulation import Simulation

DATES = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="date")
SINGLE_10_1 = struct.unpack("<f", struct.pack("<f", 10.1))[0]  # 10.1 as an IEEE single holds it, widened exactly
WARNING = ("prices of 'A' (and 1 other symbol) are stored as 32-bit floats and run as their exact values, not the "
           f"decimals they print as (close for 'A' on 2020-01-02: 10.1 is run as {SINGLE_10_1!r}); give them as "
           "float64 rounded to their decimals (e.g. frame.astype('float64').round(6)) to run the decimals shown")


def _scenario(folder: Path, data: str = "p.parquet") -> Path:
    (folder / "s.toml").write_text(f'[data]\npath = "{data}"\n[portfolio]\ninitial_cash = 100000.0\n[strategy]\n'
                                   'name = "equal_weight"\n[schedule]\ndates = ["2020-01-02"]\n[run]\n'
                                   'progress = false\n')
    return folder / "s.toml"


def _wide(dtype: str = "float32") -> pd.DataFrame:
    # B's prices are halves: a float32 holds them exactly, so they print as they run
    return pd.DataFrame({"A": [10.1, 11.1, 12.1], "B": [10.5, 11.0, 11.5]}, index=DATES).astype(dtype)


def test_the_struct_value_is_not_the_decimal() -> None:
    """The premise: 10.1 widened from a single is another number than 10.1, 10.5 is not."""
    assert SINGLE_10_1 != 10.1 and repr(SINGLE_10_1) == "10.100000381469727"
    assert struct.unpack("<f", struct.pack("<f", 10.5))[0] == 10.5


@pytest.mark.parametrize("dtype", ["float32", "Float32"])
def test_a_float32_frame_runs_at_the_exact_value_and_is_warned_about(tmp_path: Path, dtype: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Equal weight on 100,000 at the close of 2020-01-02, without commission or slippage (the scenario's
    defaults): A fills at the float32's value, 10.100000381469727, not at 10.1. The warning is logged (as
    ``eventbt run`` prints it) and written into the audit log as a data_warning note."""
    out = tmp_path / "run"
    result = eventbt.run(_scenario(tmp_path), prices=_wide(dtype), out=out)
    assert result.trades.set_index("symbol").loc["A", "price"] == SINGLE_10_1
    assert f"<prices DataFrame>: {WARNING}" in caplog.messages
    notes = [e for e in read_audit(out / "audit.jsonl") if e.get("code") == "data_warning"]
    assert [note["message"] for note in notes] == [f"<prices DataFrame>: {WARNING}"]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_a_float32_parquet_file_is_warned_about(tmp_path: Path, layout: str) -> None:
    """The same prices as a parquet file, wide (a float32 column per symbol) or long (a float32 close column):
    the same warning, under the file's name; validate lists it too."""
    frame = _wide()
    if layout == "long":
        frame = frame.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    frame.to_parquet(tmp_path / "p.parquet")
    scenario = _scenario(tmp_path)
    assert Simulation.from_scenario(scenario).data_warnings == (f"p.parquet: {WARNING}",)
    assert f"p.parquet: {WARNING}" in validate(scenario).warnings


def test_float64_csv_and_exactly_held_prices_are_not_warned_about(tmp_path: Path) -> None:
    """float64 prices, the same decimals in a CSV file, and float32 prices a single holds exactly (halves) run as
    they print: no warning. The CSV run trades A at 10.1."""
    _wide("float64").to_parquet(tmp_path / "p.parquet")
    assert Simulation.from_scenario(_scenario(tmp_path)).data_warnings == ()
    _wide("float64").to_csv(tmp_path / "p.csv")
    csv = eventbt.run(_scenario(tmp_path, "p.csv"))
    assert csv.trades.set_index("symbol").loc["A", "price"] == 10.1
    halves = _wide()[["B"]]
    sim = Simulation.from_scenario(_scenario(tmp_path), prices=halves)
    assert sim.prices.float32_symbols == ("B",) and sim.data_warnings == ()


def test_which_symbols_count_as_stored_in_32_bits() -> None:
    """A wide source's symbol columns of that type; every symbol when a long source's price column is; a float32
    volume alone is not a price."""
    assert float32_symbols({"B"}, ("A", "B", "C")) == ("B",)
    assert float32_symbols({"Close"}, ("A", "B")) == ("A", "B")
    assert float32_symbols({"volume"}, ("A", "B")) == ()


def test_a_sub_panel_keeps_its_own_float32_symbols(tmp_path: Path) -> None:
    """Selecting B alone from a panel where A and B are float32 leaves B, whose prices print as they run."""
    sim = Simulation.from_scenario(_scenario(tmp_path), prices=_wide())
    sub = sim.prices.select(("B",))
    assert sub.float32_symbols == ("B",) and float32_message("x", sub) == []
    assert np.array_equal(sub.close[:, 0], [10.5, 11.0, 11.5])


def test_float16_and_object_held_singles_are_warned_about_too() -> None:
    """A float16 column lost precision without a word: 10.1 is held as 10.1015625 (10.1 * 2**7 = 1292.8, rounded to
    1293 over 2**7, the step of a half between 8 and 16), and pandas prints it 10.1. A float32 scalar in an object
    column was widened as a float32 column is, unseen in the column's type. Both are warned about, the half in
    its own words (widening cannot bring back its digits)."""
    half = prices_from_frame(_wide("float16"))
    assert half.close[0, 0] == 1293 / 2**7 == 10.1015625
    assert float32_message("f", half) == [
        "f: prices of 'A' (and 1 other symbol) are stored as 16-bit floats and run as their exact values, not the "
        "decimals they print as (close for 'A' on 2020-01-02: 10.1 is run as 10.1015625); give them as float64 from "
        "their source: a 16-bit float holds 3 or 4 significant digits, and widening it cannot bring back the ones it "
        "lost"]
    mixed = _wide("float64").astype(object)
    mixed.iloc[1, 0] = np.float32(11.1)
    single_11_1 = struct.unpack("<f", struct.pack("<f", 11.1))[0]
    assert float32_message("f", prices_from_frame(mixed)) == [
        "f: prices of 'A' are stored as 32-bit floats and run as their exact values, not the decimals they print as "
        f"(close for 'A' on 2020-01-03: 11.1 is run as {single_11_1!r}); give them as float64 rounded to their "
        "decimals (e.g. frame.astype('float64').round(6)) to run the decimals shown"]
