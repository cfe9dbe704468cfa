"""``load_run`` reads a run's audit log once for its three readers, and gets what each gets from the log parsed
line by line."""

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


def test_the_scan_takes_a_lines_own_type_not_one_inside_its_data(tmp_path: Path) -> None:
    """A record's keys are sorted, so its own ``type`` is its last key: a ``"type":"`` inside its data comes
    earlier on the line and must not decide. Three hand-written lines: a notice whose details hold a fee's type,
    a fee, and a fee that is not a publish record."""
    import orjson

    records = [
        {"data": {"details": {"type": "FeeEvent"}}, "id": 1, "record": "publish", "type": "NoticeEvent"},
        {"data": {"amount": 1.5}, "id": 2, "record": "publish", "type": "FeeEvent"},
        {"data": {"amount": 2.5}, "id": 3, "record": "deliver", "type": "FeeEvent"},
    ]
    log = tmp_path / "audit.jsonl"
    log.write_bytes(b"".join(orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n" for record in records))
    assert [record["id"] for record in report_data._published(log, b"FeeEvent")] == [2]
    assert [record["id"] for record in report_data._published(log, b"NoticeEvent")] == [1]
