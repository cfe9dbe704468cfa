"""Runs on prices held in memory: identified in the audit header by the digest of their numbers (a DataFrame's
and a PriceData's alike), and replayed or verified only on prices given again that hash to it, never on the file
that happens to sit at the scenario's data path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.prices import PriceData
from eventbt.scenario import ScenarioConfig

SCENARIO = {
    "scenario": {"name": "mem"},
    "data": {"path": "prices.csv"},
    "portfolio": {"initial_cash": 100_000.0},
    "strategy": {"name": "static_weights", "params": {"weights": {"AAA": 0.5, "BBB": 0.3}}},
    "schedule": {"rebalance": "daily"},
}


def _config(folder: Path) -> ScenarioConfig:
    return ScenarioConfig.from_dict(SCENARIO, base_dir=folder)


def _wide(seed: int = 0, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n)
    return pd.DataFrame({s: np.round(100 * np.cumprod(1 + rng.normal(0, 0.01, n)), 2) for s in ("AAA", "BBB", "CCC")},
                        index=index)


def _panel(frame: pd.DataFrame) -> PriceData:
    return PriceData(dates=frame.index.values.astype("datetime64[ns]"), symbols=tuple(frame.columns),
                     close=frame.to_numpy(dtype=float).copy())


def _by_hand(frame: pd.DataFrame) -> str:
    """The digest written out from its definition: the dates' int64 nanoseconds, the symbols joined by 0x1f,
    then ``close`` and the closes' float64 bytes, row by row (the only field here)."""
    digest = hashlib.sha256()
    digest.update(frame.index.values.astype("datetime64[ns]").astype(np.int64).tobytes())
    digest.update("\x1f".join(frame.columns).encode())
    digest.update(b"close")
    digest.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()


def test_a_price_data_run_records_its_prices_by_the_digest_of_their_numbers(tmp_path: Path) -> None:
    """A PriceData given from Python recorded nothing in data_files, so runs on different numbers shared a digest;
    it is named <prices PriceData> with the SHA-256 of its numbers (worked out by hand here), the hash a DataFrame
    of the same numbers records."""
    frame = _wide()
    other = frame.copy()
    other["CCC"] *= 3  # never traded: only the header can tell the runs apart
    a = eventbt.run(_config(tmp_path), prices=_panel(frame))
    b = eventbt.run(_config(tmp_path), prices=_panel(other))
    assert a.audit.records()[0]["data_files"] == {"<prices PriceData>": _by_hand(frame)}
    assert a.digest != b.digest
    from_frame = eventbt.run(_config(tmp_path), prices=frame)
    assert from_frame.audit.records()[0]["data_files"] == {"<prices DataFrame>": _by_hand(frame)}


def test_a_price_data_run_without_an_audit_log_hashes_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest is worked out for the audit header only: a run with no log does not compute it."""
    import eventbt.simulation

    def refuse(prices: PriceData) -> str:
        raise AssertionError("hashed without an audit log")

    monkeypatch.setattr(eventbt.simulation, "prices_digest", refuse)
    eventbt.Simulation(_config(tmp_path), prices=_panel(_wide()), audit=False).run()
    with pytest.raises(AssertionError, match="hashed without an audit log"):
        eventbt.Simulation(_config(tmp_path), prices=_panel(_wide()))


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A run on a DataFrame (its folder ``run``), the same closes written to ``same.csv``, and other closes at the
    scenario's data path ``prices.csv``, where a replay used to find them."""
    frame = _wide()
    eventbt.run(_config(tmp_path), prices=frame, out=tmp_path / "run")
    frame.rename_axis("date").to_csv(tmp_path / "same.csv")
    assert pd.read_csv(tmp_path / "same.csv", index_col="date", parse_dates=["date"]).equals(frame)  # floats kept
    _wide(seed=7).rename_axis("date").to_csv(tmp_path / "prices.csv")
    return tmp_path


def test_replay_of_an_in_memory_run_refuses_the_file_at_its_data_path(recorded: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The replay ran on whatever file sat at the scenario's data path and reported its numbers as a divergence;
    it stops (exit 2), saying the prices were held in memory and how to give them again."""
    from eventbt.cli import main

    assert main(["replay", str(recorded / "run" / "audit.jsonl")]) == 2
    digest = _by_hand(_wide())
    assert capsys.readouterr().err == (
        "eventbt: error: <prices DataFrame>: the run's prices were held in memory (a DataFrame given from Python), "
        "not read from a file, so replay cannot find them on disk: the scenario's [data] path 'prices.csv' is only "
        "their label. Pass the same prices again: --data FILE, a price file read by the scenario's [data] rules "
        "(from Python, eventbt.replay(log, prices=...) with a DataFrame or a PriceData); they are taken when their "
        f"dates, symbols and numbers hash to the recorded sha256 {digest[:12]}...; --allow-changed-data replays on "
        "other prices anyway (the file at 'prices.csv', or the --data given) and says so\n")


def test_replay_of_an_in_memory_run_takes_the_same_prices_again(recorded: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The same closes, as a file (--data) or from Python (a DataFrame, a PriceData), replay identical, with the
    recorded digest: the header names the prices as the recorded run did."""
    from eventbt.cli import main

    log = recorded / "run" / "audit.jsonl"
    records = read_audit(log)
    events, recorded_digest = sum(r["record"] == "publish" for r in records), records[-1]["digest"]
    assert main(["replay", str(log), "--data", str(recorded / "same.csv")]) == 0
    assert capsys.readouterr().out == f"identical: {events} event records agree; digest {recorded_digest}\n"
    for given in (_wide(), _panel(_wide())):
        report = eventbt.replay(log, prices=given)
        assert report.identical and report.new_outcome["digest"] == recorded_digest and not report.notes


def test_replay_of_an_in_memory_run_on_other_prices_needs_allow_changed_data(recorded: Path) -> None:
    """Prices that hash otherwise are refused, naming where they came from and both hashes; with
    allow_changed_data they are replayed on, and so is the file at the data path when none are given, each said
    in a note."""
    from eventbt.errors import DataError

    log = recorded / "run" / "audit.jsonl"
    other = recorded / "prices.csv"
    with pytest.raises(DataError) as caught:
        eventbt.replay(log, data_path=other)
    assert caught.value.path == str(other)
    assert f"hash to sha256 {_by_hand(_wide(seed=7))}, not to the {_by_hand(_wide())} recorded" in str(caught.value)
    changed = (f"data file <prices DataFrame> differs: sha256 {_by_hand(_wide())[:12]}... (recorded) -> sha256 "
               f"{_by_hand(_wide(seed=7))[:12]}... (new)")
    report = eventbt.replay(log, data_path=other, allow_changed_data=True)
    assert not report.identical and report.notes == (changed,)
    report = eventbt.replay(log, allow_changed_data=True)
    assert not report.identical and report.notes == (
        f"the recorded run's prices were held in memory (<prices DataFrame>), not read from a file; replayed on "
        f"{other} instead (--allow-changed-data): other prices, so a divergence below may be theirs", changed)


def test_a_price_data_run_replays_on_the_same_numbers_as_a_frame(tmp_path: Path) -> None:
    """A run on a PriceData is in memory too: refused without prices, identical on a DataFrame of its numbers
    (the same hash), its header naming <prices PriceData> as recorded."""
    from eventbt.errors import DataError

    eventbt.run(_config(tmp_path), prices=_panel(_wide()), out=tmp_path / "run")
    log = tmp_path / "run" / "audit.jsonl"
    with pytest.raises(DataError, match=r"^<prices PriceData>: the run's prices were held in memory \(a PriceData"):
        eventbt.replay(log)
    report = eventbt.replay(log, prices=_wide())
    assert report.identical and report.new_outcome["digest"] == read_audit(log)[-1]["digest"]


def test_prices_in_memory_are_refused_for_a_run_that_read_a_file(recorded: Path) -> None:
    """A DataFrame given to replay a file run would be hashed unlike the file: refused, pointing to --data."""
    from eventbt.errors import DataError

    eventbt.run(_config(recorded), out=recorded / "file_run")
    with pytest.raises(DataError, match=r"this run read prices\.csv: pass --data FILE"):
        eventbt.replay(recorded / "file_run", prices=_wide(seed=7))


def test_verify_of_an_in_memory_run_says_its_prices_were_in_memory(recorded: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """verify read the file at the data path (or said it was missing) and reported the in-memory prices as 'not read
    now', like tampering; it stops (exit 2), saying the prices were held in memory and to give them with --data."""
    from eventbt.cli import main

    assert main(["verify", str(recorded / "run")]) == 2
    assert capsys.readouterr().err == (
        "eventbt: error: <prices DataFrame>: the run's prices were held in memory (a DataFrame given from Python), "
        "not read from a file, so verify cannot find them on disk: the scenario's [data] path 'prices.csv' is only "
        "their label. Pass the same prices again: --data FILE, a price file read by the scenario's [data] rules "
        "(from Python, verify_run(run, prices=...) with a DataFrame or a PriceData); they agree when their dates, "
        f"symbols and numbers hash to the recorded sha256 {_by_hand(_wide())[:12]}...\n")


def test_verify_of_an_in_memory_run_compares_the_prices_given_by_their_digest(recorded: Path,
                                                                             capsys: pytest.CaptureFixture[str]
                                                                             ) -> None:
    """The same closes given again, as a file or from Python, agree (every file checked); other closes disagree at
    the data, naming the in-memory prices, the file they were read from and both hashes (worked out by hand)."""
    from eventbt.cli import main
    from eventbt.replays.verify import verify_run

    assert main(["verify", str(recorded / "run"), "--data", str(recorded / "same.csv")]) == 0
    assert capsys.readouterr().out.startswith(f"{recorded / 'run'}: OK (completed; 30 bars")
    for given in (_wide(), _panel(_wide())):
        assert verify_run(recorded / "run", prices=given).ok
    other = recorded / "prices.csv"
    assert main(["verify", str(recorded / "run"), "--data", str(other)]) == 1
    assert capsys.readouterr().out == (
        f"{recorded / 'run'}: DISAGREES at data: the run's prices held in memory <prices DataFrame> sha256 (of the "
        f"dates, symbols and numbers of {other}): expected '{_by_hand(_wide())}', found '{_by_hand(_wide(seed=7))}'\n"
        "  agreed before that: audit, scenario\n")


def test_the_digest_covers_the_prices_after_the_scenarios_cut(tmp_path: Path) -> None:
    """With [data] symbols, start, end and a warm-up, a frame's digest is of the frame cut to the symbols and the
    end (the warm-up reaches before start): a file holding only that cut replays identical, as does the whole
    frame, and verify agrees."""
    from eventbt.replays.verify import verify_run

    config = ScenarioConfig.from_dict({**SCENARIO, "data": {"path": "prices.csv", "symbols": ["AAA", "BBB"],
                                                            "start": "2021-01-18", "end": "2021-02-05"},
                                       "run": {"warmup": 3}}, base_dir=tmp_path)
    frame = _wide()
    eventbt.run(config, prices=frame, out=tmp_path / "run")
    cut = frame.loc[:"2021-02-05", ["AAA", "BBB"]]
    assert read_audit(tmp_path / "run" / "audit.jsonl")[0]["data_files"] == {"<prices DataFrame>": _by_hand(cut)}
    cut.rename_axis("date").to_csv(tmp_path / "cut.csv")
    assert eventbt.replay(tmp_path / "run", data_path=tmp_path / "cut.csv").identical
    assert eventbt.replay(tmp_path / "run", prices=frame).identical
    assert verify_run(tmp_path / "run", data_path=tmp_path / "cut.csv").ok


def test_the_report_of_an_in_memory_run_has_no_explorer_stepped_on_the_file_at_its_data_path(tmp_path: Path) -> None:
    """The report's event explorer steps a run again: for a run on a frame, with other numbers in prices.csv at
    the data path, it stepped the file's run (and failed the digest check, or with the same numbers passed on a
    file the run never read). Now the report is written without the explorer, saying the prices were in memory."""
    from eventbt.report import build_report

    eventbt.run(_config(tmp_path), prices=_wide(), out=tmp_path / "run")
    _wide(seed=7).rename_axis("date").to_csv(tmp_path / "prices.csv")
    _, unavailable = build_report(tmp_path / "run")
    assert unavailable is not None
    assert "the run's prices were held in memory (<prices DataFrame>, sha256 " in unavailable
    assert "the report has no event explorer" in unavailable
