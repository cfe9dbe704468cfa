"""``load_run`` reads a run's audit log once for its three readers, and gets what each gets reading it alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import eventbt.report.data as report_data
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
def test_one_scan_gives_what_each_reader_gets_alone(folders: dict[str, Path], name: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folders[name]
    log = folder / "audit.jsonl"
    scans: list[Path] = []
    real = report_data._published
    monkeypatch.setattr(report_data, "_published", lambda path, *needles: scans.append(path) or real(path, *needles))

    run = report_data.load_run(folder)
    assert scans == [log]  # one scan of the log

    alone_rebalances = report_data.read_rebalances(log)
    alone_fees = report_data.read_fees(log, run.trades)
    alone_actions = report_data.read_actions(log)
    assert len(scans) == 4  # each reader scanned the log itself, with its own needles
    assert run.rebalances == alone_rebalances and run.rebalances
    pd.testing.assert_frame_equal(run.fees, alone_fees)
    if name == "extra_handler":
        assert len(run.fees) > 0
    else:
        assert len(run.actions) > 0 and set(run.actions["action"]) == {"split", "dividend"}
        pd.testing.assert_frame_equal(run.actions, alone_actions)


def test_without_a_log_the_readers_give_empty_tables(folders: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "audit.jsonl"
    assert report_data.read_rebalances(missing) == []
    assert report_data.read_fees(missing, pd.DataFrame()).empty
    assert report_data.read_actions(missing).empty
