"""Data warnings: text read as missing and long forward-filled gaps are warned about, every warning is in the
audit log as a data_warning note, and the whole-panel scans find what a plain cell-by-cell scan finds."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.cli import main
from eventbt.data import checks
from eventbt.data.checks import data_warnings, find_stale_prices, find_suspicious_jumps, long_gaps
from eventbt.data.loaders import load_prices
from eventbt.prices import MissingText, PriceData

DATES = pd.bdate_range("2021-01-04", periods=200)


def _write(folder: Path, a: list[str], b: list[str]) -> Path:
    lines = ["date,A,B", *(f"{day.date()},{x},{y}" for day, x, y in zip(DATES, a, b, strict=True))]
    (folder / "p.csv").write_text("\n".join(lines) + "\n")
    (folder / "s.toml").write_text('[data]\npath = "p.csv"\nformat = "wide"\n[strategy]\nname = "equal_weight"\n'
                                   '[schedule]\nrebalance = "monthly"\n[run]\nprogress = false\n')
    return folder / "s.toml"


def _prices(n: int = 200) -> list[str]:
    return [f"{10 + 0.01 * i:.2f}" for i in range(n)]


def test_text_meaning_no_price_is_read_as_missing_and_listed(tmp_path: Path) -> None:
    """'#N/A', 'null' and 'NaN' cells are NaN and listed with symbol and date; an empty cell is not listed."""
    a, b = _prices(), _prices()
    a[5], a[6], b[7], b[8] = "#N/A", "null", " NaN ", ""
    _write(tmp_path, a, b)
    prices = load_prices(tmp_path / "p.csv", format="wide")
    assert np.isnan(prices.close[[5, 6], 0]).all() and np.isnan(prices.close[[7, 8], 1]).all()
    day = [str(d.date()) for d in DATES]
    assert prices.missing_text == (MissingText("A", "close", day[5], "#N/A"), MissingText("A", "close", day[6], "null"),
                                   MissingText("B", "close", day[7], "NaN"))
    assert data_warnings(prices, "p.csv")[0] == (
        f"p.csv: 3 cells written as text read as missing ('#N/A' x1, 'NaN' x1, 'null' x1), the first close for 'A' "
        f"on {day[5]}; check the source meant no price there")


@pytest.mark.parametrize(("gap", "stale_bars", "flagged"), [(150, 10, True), (10, 10, True), (9, 10, False),
                                                            (150, 0, False)])
def test_a_long_forward_filled_gap_is_warned_about(tmp_path: Path, gap: int, stale_bars: int, flagged: bool) -> None:
    """B has no close for ``gap`` bars from bar 20: flagged when the gap is at least [data] stale_bars long."""
    b = _prices()
    b[20:20 + gap] = [""] * gap
    _write(tmp_path, _prices(), b)
    prices = load_prices(tmp_path / "p.csv", format="wide")
    expected = (f"p.csv: close for 'B' is missing for {gap} bars from {DATES[20].date()} to "
                f"{DATES[20 + gap - 1].date()}; forward-filled with the close before the gap, so the run marks it at "
                "a stale price (set [data] missing = 'error' to refuse gaps, [data] stale_bars to change the length "
                "flagged)")
    lines = data_warnings(prices, "p.csv", stale_bars=stale_bars)
    assert (expected in lines) is flagged
    assert not any("forward-filled" in line for line in data_warnings(prices, "p.csv", missing="error"))


def test_every_data_warning_is_a_note_in_the_audit_log_and_on_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The run's data_warning notes are the warnings eventbt run prints, in the same order, written before the
    first event (and covered by the digest, like every line of the log)."""
    a, b = _prices(), _prices()
    a[5] = "#N/A"
    b[20:170] = [""] * 150
    scenario = _write(tmp_path, a, b)
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    printed = [line.removeprefix("eventbt: warning: ") for line in capsys.readouterr().err.splitlines()]
    result = eventbt.run(scenario)
    notes = [r["message"] for r in result.audit.records() if r.get("code") == "data_warning"]
    assert notes == printed == data_warnings(load_prices(tmp_path / "p.csv"), "p.csv")
    assert len(notes) == 2
    kinds = [r["record"] if r["record"] != "note" else r["code"] for r in result.audit.records()]
    assert kinds.index("data_warning") < kinds.index("publish")


def _reference_stale(close: np.ndarray, min_bars: int) -> list[tuple[int, int, int]]:
    """(symbol, first bar, closes) of runs of identical closes, followed across NaN: a cell-by-cell scan."""
    runs = []
    for j in range(close.shape[1]):
        start, count, value = -1, 0, np.nan
        for i in range(close.shape[0]):
            x = close[i, j]
            if np.isnan(x):
                continue
            if x == value:
                count += 1
                continue
            if count >= min_bars:
                runs.append((j, start, count))
            start, count, value = i, 1, x
        if count >= min_bars:
            runs.append((j, start, count))
    return runs


def _reference_jumps(close: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(symbol, bar) of each close whose ratio to the previous close (across NaN) is out of range."""
    found = []
    for j in range(close.shape[1]):
        previous = np.nan
        for i in range(close.shape[0]):
            x = close[i, j]
            if np.isnan(x):
                continue
            if not np.isnan(previous) and not threshold <= x / previous <= 1 / threshold:
                found.append((j, i))
            previous = x
    return found


@pytest.mark.parametrize("jump_cells", [None, 40])
@pytest.mark.parametrize("seed", range(5))
def test_the_whole_panel_scans_find_what_a_cell_by_cell_scan_finds(seed: int, jump_cells: int | None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Random panels with stale runs, jumps (one across a gap) and gaps planted: stale runs, jumps and long gaps
    agree with plain loops over every cell (the independent method). With ``jump_cells = 40`` the jump screen takes
    the 300 bars three rows at a time, so jumps and gaps fall on the seams between its blocks too (the next test
    takes the seams of panels without gaps)."""
    if jump_cells is not None:
        monkeypatch.setattr(checks, "_JUMP_CELLS", jump_cells)
    rng = np.random.default_rng(seed)
    close = np.round(rng.uniform(10, 11, size=(300, 12)), 1)  # one decimal: repeats happen by chance too
    for _ in range(6):
        j, i, n = rng.integers(12), rng.integers(280), rng.integers(2, 20)
        close[i:i + n, j] = close[i, j]
    for _ in range(4):
        close[rng.integers(1, 300), rng.integers(12)] *= rng.choice([0.2, 5.0])
    for _ in range(5):
        j, i, n = rng.integers(12), rng.integers(1, 280), rng.integers(1, 15)
        close[i:i + n, j] = np.nan
    hidden = rng.integers(12)  # a jump behind a gap: x5 across three missing closes, no neighbouring pair shows it
    close[150:153, hidden] = np.nan
    close[153:, hidden] *= 5.0
    prices = PriceData(dates=np.arange(300).astype("datetime64[D]").astype("datetime64[ns]"),
                       symbols=tuple(f"S{j:02d}" for j in range(12)), close=close)
    day = {str(d)[:10]: i for i, d in enumerate(prices.dates)}
    stale = [(prices.symbols.index(w.symbol), day[w.first], w.bars) for w in find_stale_prices(prices, 5)]
    assert stale == _reference_stale(close, 5)
    jumps = [(prices.symbols.index(w.symbol), day[w.date]) for w in find_suspicious_jumps(prices, 0.5)]
    assert jumps == _reference_jumps(close, 0.5) and (hidden, 153) in jumps
    present = ~np.isnan(close)
    expected_gaps = []
    for j in range(12):
        rows = np.flatnonzero(present[:, j])
        for before, after in itertools.pairwise(rows):
            if after - before - 1 >= 3:
                expected_gaps.append((prices.symbols[j], int(before) + 1, int(after - before - 1)))
    assert [(s, day[first], bars) for s, first, _, bars in long_gaps(prices, 3)] == expected_gaps


@pytest.mark.parametrize("jump_cells", [None, 7, 40])
@pytest.mark.parametrize("seed", range(4))
def test_the_jump_screen_misses_no_jump_of_a_column_without_gaps(seed: int, jump_cells: int | None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Panels with every close (so only the whole-panel screen decides which columns are looked at closely) and one
    jump planted per jumping column, on random bars: at the seams of the screen's blocks too when it takes one
    or a few rows at a time. What it finds equals the cell-by-cell scan."""
    if jump_cells is not None:
        monkeypatch.setattr(checks, "_JUMP_CELLS", jump_cells)
    rng = np.random.default_rng(100 + seed)
    close = rng.uniform(10, 11, size=(120, 9))
    for j in rng.choice(9, size=4, replace=False).tolist():
        close[rng.integers(1, 120):, j] *= rng.choice([0.3, 4.0])  # a level shift: one jump, at its first bar
    prices = PriceData(dates=np.arange(120).astype("datetime64[D]").astype("datetime64[ns]"),
                       symbols=tuple(f"S{j}" for j in range(9)), close=close)
    day = {str(d)[:10]: i for i, d in enumerate(prices.dates)}
    jumps = [(prices.symbols.index(w.symbol), day[w.date]) for w in find_suspicious_jumps(prices, 0.5)]
    assert len(jumps) == 4
    assert jumps == _reference_jumps(close, 0.5)
