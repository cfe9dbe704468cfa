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
