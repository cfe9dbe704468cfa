"""``load_run`` reads a run's audit log once for its three readers, and gets what each gets reading it alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import eventbt.report.data as report_data
from eventbt.audit import event_records, read_audit
from eventbt.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bundled runs with every kind of record the readers take: a fee handler's fees (extra_handler) and
    corporate actions' split adjustments and dividend payments (quandl_actions), both with rebalances."""
    base = tmp_path_factory.mktemp("scan")
    out = {}
    for name in ("extra_handler", "quandl_actions"):
        out[name] = base / name
        assert main(["run", str(ROOT / "scenarios" / f"{name}.toml"), "--out", str(out[name]), "--quiet"]) == 0
    return out


@pytest.mark.parametrize("name", ["extra_handler", "quandl_actions"])
def test_one_scan_gives_what_each_reader_gets_from_the_parsed_log(folders: dict[str, Path], name: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference parses every line of the log (``read_audit``, then its publish records): the scan's reading
    of a line's type from its end plays no part in it."""
    folder = folders[name]
    log = folder / "audit.jsonl"
    scans: list[Path] = []
    real = report_data._published
    monkeypatch.setattr(report_data, "_published", lambda path, *types: scans.append(path) or real(path, *types))

    run = report_data.load_run(folder)
    assert scans == [log]  # one scan of the log

    parsed = event_records(read_audit(log))
    assert run.rebalances == report_data.read_rebalances(parsed) and run.rebalances
    pd.testing.assert_frame_equal(run.fees, report_data.read_fees(parsed, run.trades))
    pd.testing.assert_frame_equal(run.actions, report_data.read_actions(parsed) if name == "quandl_actions"
                                  else pd.DataFrame(columns=report_data.ACTION_COLUMNS))
    if name == "extra_handler":
        assert len(run.fees) > 0
    else:
        assert set(run.actions["action"]) == {"split", "dividend"}
    assert len(scans) == 1  # the parsed log's records are read as given, not scanned


def test_without_a_log_the_readers_give_empty_tables(tmp_path: Path) -> None:
    missing = tmp_path / "audit.jsonl"
    assert report_data.read_rebalances(missing) == []
    assert report_data.read_fees(missing, pd.DataFrame()).empty
    assert report_data.read_actions(missing).empty
