"""Bars that are not daily: the annualised figures take 252 bars a year (docs/metrics.md), so weekly or monthly
data is warned about, as the other data warnings are (eventbt run and validate print it, eventbt.run logs it, the
audit log keeps it as a data_warning note)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

import eventbt
from eventbt.data.checks import bar_spacing_message
from eventbt.data.loaders import load_prices

WEEKLY = "p.csv: the bars are 7 calendar days apart (the median gap, 2024-01-05 .. 2024-03-22), not daily"


def _scenario(folder: Path, dates: pd.DatetimeIndex) -> Path:
    lines = ["date,A", *(f"{day.date()},{100 + i}" for i, day in enumerate(dates))]
    (folder / "p.csv").write_text("\n".join(lines) + "\n")
    (folder / "s.toml").write_text('[data]\npath = "p.csv"\n[strategy]\nname = "equal_weight"\n'
                                   '[schedule]\nrebalance = "monthly"\n[run]\nprogress = false\n')
    return folder / "s.toml"


def test_weekly_bars_are_warned_about_in_the_run_and_its_audit_log(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Twelve Fridays, 7 days apart (median gap 7 > 3): the warning is logged by eventbt.run and is a
    data_warning note of the audit log."""
    scenario = _scenario(tmp_path, pd.date_range("2024-01-05", periods=12, freq="7D"))
    with caplog.at_level(logging.WARNING, logger="eventbt"):
        result = eventbt.run(scenario)
    assert any(record.getMessage().startswith(WEEKLY) for record in caplog.records)
    notes = [r["message"] for r in result.audit.records() if r.get("code") == "data_warning"]
    assert [note for note in notes if "not daily" in note] == bar_spacing_message(
        "p.csv", load_prices(tmp_path / "p.csv"))
    assert notes and notes[0].startswith(WEEKLY)
    assert notes[0].endswith("assume 252 daily bars a year, so they are off for these bars (docs/metrics.md)")


@pytest.mark.parametrize(("dates", "warned"), [
    (pd.bdate_range("2024-01-01", periods=30), False),  # business days: gaps 1 and 3 (weekends), median 1
    (pd.bdate_range("2024-01-01", periods=30)[::2], False),  # every other business day: median gap 2
    (pd.date_range("2024-01-05", periods=12, freq="7D"), True),  # weekly: 7
    (pd.date_range("2024-01-31", periods=12, freq="ME"), True),  # month ends: 29 to 31
    (pd.DatetimeIndex(["2024-01-01", "2024-03-01"]), False),  # two dates: too few to tell
])
def test_only_bars_clearly_not_daily_are_warned_about(tmp_path: Path, dates: pd.DatetimeIndex, warned: bool) -> None:
    """The median gap between consecutive dates decides: over 3 calendar days is not daily."""
    _scenario(tmp_path, dates)
    assert bool(bar_spacing_message("p.csv", load_prices(tmp_path / "p.csv"))) is warned
