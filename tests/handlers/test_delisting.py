"""The data-end policies: interior gaps (``[data] missing``) and series that end while held (``delisting``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventbt.cli import main
from eventbt.data.fit import interior_gaps, present_gaps, series_bounds
from eventbt.errors import DataError, HandlerError
from eventbt.prices import PriceData
from eventbt.replays.verify import verify_run
from eventbt.simulation import Simulation
from tests.properties.scripted import scripted_config

NAN = np.nan
DATES = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"],
                 dtype="datetime64[ns]")
# A trades every day at 10; B ends after 2020-01-07 (bar 3) at 25.
CLOSE = np.array([[10, 20], [10, 20], [10, 20], [10, 25], [10, NAN], [10, NAN]], dtype=float)


def _prices(close: np.ndarray = CLOSE) -> PriceData:
    return PriceData(dates=DATES, symbols=("A", "B"), close=close, open=close.copy())


def test_bounds_and_gaps_ignore_leading_values_and_find_interior_ones() -> None:
    """Leading NaNs set the first bar; a NaN between closes is a gap; trailing NaNs set the last bar."""
    close = np.array([[NAN, 1], [2, NAN], [NAN, NAN], [3, 4], [NAN, 5]], dtype=float)
    first, last = series_bounds(close)
    assert first.tolist() == [1, 0] and last.tolist() == [3, 4]
    assert interior_gaps(close) == [(0, 2, 1), (1, 1, 2)]  # A misses bar 2; B misses bars 1 and 2


def _bounds_and_gaps_cell_by_cell(close: np.ndarray) -> tuple[list[int], list[int], list[tuple[int, int, int]]]:
    """The reference: each column walked in plain Python."""
    first, last, gaps = [], [], []
    for j in range(close.shape[1]):
        bars = [t for t in range(len(close)) if close[t, j] == close[t, j]]
        first.append(bars[0] if bars else -1)
        last.append(bars[-1] if bars else -1)
        missing = [t for t in range(first[-1], last[-1] + 1) if close[t, j] != close[t, j]] if bars else []
        if missing:
            gaps.append((j, missing[0], len(missing)))
    return first, last, gaps


@pytest.mark.parametrize(("shape", "cells"), [
    (shape, cells) for shape in [(1, 1), (1, 4), (6, 1), (40, 7)] for cells in ["every close", "gaps", "inf and -inf"]
    if not (cells == "inf and -inf" and shape == (1, 1))  # one cell holds no +inf beside a -inf
])
def test_bounds_and_gaps_agree_with_a_cell_by_cell_walk(shape: tuple[int, int], cells: str) -> None:
    """A panel with every close takes a short way (one sum); with gaps, or with +inf and -inf whose sum is NaN
    without a gap, the long way: each agrees with the walk."""
    rng = np.random.default_rng(sum(shape))
    close = rng.uniform(1, 100, size=shape)
    if cells == "gaps":
        close[rng.random(shape) < 0.3] = NAN
    elif cells == "inf and -inf":
        close.flat[0], close.flat[-1] = np.inf, -np.inf
        with np.errstate(invalid="ignore"):
            assert np.isnan(close.sum())  # the long way: the sum says nothing
    first, last, gaps = _bounds_and_gaps_cell_by_cell(close)
    found_first, found_last = series_bounds(close)
    assert (found_first.tolist(), found_last.tolist()) == (first, last)
    assert interior_gaps(close) == gaps
    assert present_gaps(~np.isnan(close), (found_first, found_last)) == gaps  # the mask and bounds given


@pytest.mark.parametrize("timing", ["same_close", "next_open"])
def test_a_held_series_that_ends_is_sold_at_its_last_close(timing: str) -> None:
    """250 B bought at 20 are sold at B's last close 25 on the first bar without a price, with a notice."""
    config = scripted_config({0: {"A": 0.5, "B": 0.5}}, portfolio={"initial_cash": 10_000.0},
                             execution={"timing": timing, "commission": {"model": "zero"},
                                        "slippage": {"model": "zero"}})
    result = Simulation(config, prices=_prices()).run()
    assert result is not None
    sale = result.trades.iloc[-1]
    assert (sale["symbol"], sale["side"], sale["quantity"], sale["price"], sale["commission"]) == (
        "B", "SELL", 250, 25.0, 0.0)
    assert str(sale["date"].date()) == "2020-01-08"
    notices = [r for r in result.audit.records() if r["record"] == "publish" and r["type"] == "NoticeEvent"
               and r["data"]["code"] == "delisted"]
    assert [n["data"]["details"] for n in notices] == [{"last_date": "2020-01-07", "last_price": 25.0,
                                                        "quantity": 250}]
    # 10,000 -> 500 A at 10 and 250 B at 20, no cash; B sells for 250 * 25 = 6,250; A is worth 5,000.
    assert result.equity.loc["2020-01-08"].tolist() == [6_250.0, 5_000.0, 11_250.0, 0.0]  # no flow


def test_a_series_that_ends_while_held_is_an_error_under_delisting_error() -> None:
    """With delisting = "error" the run stops at the first bar after B's last close, naming B and the date."""
    config = scripted_config({0: {"A": 0.5, "B": 0.5}}, data={"path": "generated.csv", "delisting": "error"})
    with pytest.raises(HandlerError) as caught:
        Simulation(config, prices=_prices()).run()
    cause = caught.value.__cause__
    assert isinstance(cause, DataError)
    assert str(cause) == ("generated.csv: prices for 'B' end on 2020-01-07 while 2500 shares are held; expected "
                          "prices to the end of the data, or [data] delisting = 'liquidate' to sell at the last price")
    assert (cause.symbol, cause.date) == ("B", "2020-01-07")


def test_a_frame_whose_series_ends_while_held_is_named_as_the_frame() -> None:
    """The same run on the same closes given as a wide DataFrame: the stop names ``<prices DataFrame>``, not the
    scenario's label path, which names no file read (it said "generated.csv: prices for 'B' end ...")."""
    import pandas as pd

    config = scripted_config({0: {"A": 0.5, "B": 0.5}}, data={"path": "generated.csv", "delisting": "error"})
    frame = pd.DataFrame(CLOSE, index=pd.DatetimeIndex(DATES, name="date"), columns=["A", "B"])
    with pytest.raises(HandlerError) as caught:
        Simulation(config, prices=frame).run()
    assert str(caught.value.__cause__).startswith("<prices DataFrame>: prices for 'B' end on 2020-01-07 while 2500 "
                                                  "shares are held")


def test_a_short_series_that_ends_is_named_as_a_short_under_delisting_error() -> None:
    """A short position (0.5 of 100,000 at 20.00: 2,500 B sold short) says so, and that liquidate would buy it
    back; the message said "-2500 shares are held" and "to sell at the last price"."""
    config = scripted_config({0: {"A": 0.5, "B": -0.5}}, data={"path": "generated.csv", "delisting": "error"},
                             portfolio={"initial_cash": 100_000.0, "allow_short": True, "max_gross": 1.0})
    with pytest.raises(HandlerError) as caught:
        Simulation(config, prices=_prices()).run()
    assert str(caught.value.__cause__) == (
        "generated.csv: prices for 'B' end on 2020-01-07 while 2500 shares are sold short; expected prices to the "
        "end of the data, or [data] delisting = 'liquidate' to buy back at the last price")


def test_a_series_that_ends_while_not_held_needs_nothing() -> None:
    """Holding only A, B's end changes nothing: no notice, no sale, even under delisting = "error"."""
    config = scripted_config({0: {"A": 1.0}}, data={"path": "generated.csv", "delisting": "error"})
    result = Simulation(config, prices=_prices()).run()
    assert result is not None
    assert result.trades["symbol"].tolist() == ["A"]


GAP = np.array([[10, 20], [10, 20], [10, NAN], [10, 30], [10, 30], [10, 30]], dtype=float)


def test_an_interior_gap_is_an_error_under_missing_error() -> None:
    """missing = "error" refuses B's missing close on 2020-01-06 before the run starts."""
    config = scripted_config({0: {"A": 1.0}}, data={"path": "generated.csv", "missing": "error"})
    with pytest.raises(DataError) as caught:
        Simulation(config, prices=_prices(GAP))
    assert str(caught.value) == ("generated.csv: close for 'B' is missing on 2020-01-06 (1 bars missing inside its "
                                 "series); expected no gap, or [data] missing = 'ffill'")


def test_an_interior_gap_is_valued_at_the_last_close_and_not_traded_under_ffill() -> None:
    """missing = "ffill": an interior_gap note, B valued at 20 on the gap day, and a target on B skipped."""
    config = scripted_config({0: {"B": 0.5}, 2: {"B": 1.0}}, portfolio={"initial_cash": 10_000.0})
    result = Simulation(config, prices=_prices(GAP)).run()
    assert result is not None
    records = result.audit.records()
    assert [(r["code"], r["symbol"], r["date"], r["bars"]) for r in records if r["record"] == "note"] == [
        ("interior_gap", "B", "2020-01-06", 1)]
    skips = [r["data"] for r in records if r["record"] == "publish" and r["type"] == "NoticeEvent"]
    assert [(s["code"], s["symbol"]) for s in skips] == [("skip_not_tradable", "B")]
    # 250 B at 20 and 5,000 cash; on the gap day B is marked at its last close 20: 5,000 + 5,000
    assert result.equity.loc["2020-01-06"].tolist() == [5_000.0, 5_000.0, 10_000.0, 0.0]  # no flow
    assert len(result.trades) == 1


def test_verify_agrees_with_a_run_that_liquidated(tmp_path: Path) -> None:
    """A CLI run whose held series ends verifies: the liquidation's reference price is the last close."""
    _prices().to_frame("close").to_csv(tmp_path / "prices.csv", index_label="date")
    (tmp_path / "s.toml").write_text(
        '[data]\npath = "prices.csv"\n[strategy]\nname = "static_weights"\n[strategy.params]\n'
        'weights = { A = 0.5, B = 0.5 }\n[schedule]\ndates = ["2020-01-02"]\n[run]\nprogress = false\n')
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    report = verify_run(tmp_path / "out")
    assert report.ok, str(report.disagreement)
    assert report.fills == 3
