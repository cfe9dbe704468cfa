"""`eventbt run` warns once when rebalance orders end with nothing filled (expired, cancelled, cut to no shares),
counting them by reason and naming the first; a rebalance order cut in part is routine and not warned about."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.cli import main

DATES = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"]
# Every bar: A opens and closes at 10 and trades from 9.5 to 10.5; B opens and closes at 20, from 19 to 21.
BARS = {"A": (10.0, 10.5, 9.5, 10.0), "B": (20.0, 21.0, 19.0, 20.0)}
SCENARIO = ('[data]\npath = "prices.csv"\nformat = "long"\n[portfolio]\ninitial_cash = 10000.0\n'
            '[strategy]\nname = "static_weights"\n[run]\nprogress = false\n')


def _write(folder: Path, toml: str, changed: dict[tuple[str, str], tuple[float, ...] | None] | None = None) -> Path:
    """prices.csv from BARS, with (date, symbol) -> (open, high, low, close) changes (None: no row), and s.toml."""
    changed = changed or {}
    rows = []
    for date in DATES:
        for symbol, bar in BARS.items():
            values = changed.get((date, symbol), bar)
            if values is not None:
                rows.append(dict(zip(("date", "symbol", "open", "high", "low", "close", "volume"),
                                     (date, symbol, *values, 1e6), strict=True)))
    pd.DataFrame(rows).to_csv(folder / "prices.csv", index=False)
    (folder / "s.toml").write_text(SCENARIO + toml)
    return folder / "s.toml"


def _warnings(folder: Path, scenario: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["run", str(scenario), "--out", str(folder / "out"), "--quiet", "--plain"]) == 0
    return [line for line in capsys.readouterr().err.splitlines() if "rebalance order" in line]


def _order_ids(folder: Path) -> dict[str, list[int]]:
    """The rebalance's order ids by symbol, in order."""
    ids: dict[str, list[int]] = {}
    for record in read_audit(folder / "out" / "audit.jsonl"):
        if record.get("type") == "OrderEvent" and record.get("by") == "rebalance":
            ids.setdefault(record["data"]["symbol"], []).append(record["id"])
    return ids


LIMITS = ('[strategy.params]\nweights = { A = 0.5, B = 0.5 }\n[schedule]\ndates = ["2020-01-02"]\n'
          '[execution]\norder_type = "limit"\nlimit_offset_bps = 5000\n')


def test_limit_orders_that_expire_are_counted_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Half of 10,000 in each: 5,000 / 10 = 500 A and 5,000 / 20 = 250 B, as day limit buys 5,000 bps below the
    close: A at 10 x 0.5 = 5.0, B at 10.0. The next bar's lows, 9.5 and 19.0, never reach them: both expire,
    nothing is bought, and stderr said nothing of it. One line now counts them and names the first (A's)."""
    warnings = _warnings(tmp_path, _write(tmp_path, LIMITS), capsys)
    [a], [b] = _order_ids(tmp_path)["A"], _order_ids(tmp_path)["B"]
    assert a < b
    assert warnings == [
        f"eventbt: warning: 2 of 2 rebalance orders ended with nothing filled (2 expired: limit not reached); the "
        f"first: order #{a} (buy 500 A, 2020-01-02), 500 shares cancelled on 2020-01-03: day order expired: low 9.5 "
        "> limit 5.0: not reached on 2020-01-03; each one's CancelEvent in the audit log says why"]


def test_eventbt_run_logs_the_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """From Python the line goes to the "eventbt" logger, as the [[events]] order lines do."""
    with caplog.at_level(logging.WARNING, logger="eventbt"):
        eventbt.run(_write(tmp_path, LIMITS))
    [line] = [r.getMessage() for r in caplog.records if "rebalance order" in r.getMessage()]
    assert line.startswith("2 of 2 rebalance orders ended with nothing filled (2 expired: limit not reached)")


def test_a_cancel_for_no_price_is_warned_of_and_a_cut_is_not(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """next_open, 60% A and 40% B sized at the closes of 2020-01-02: 6,000 / 10 = 600 A, 4,000 / 20 = 200 B. On
    2020-01-03 B has no bar: its buy is cancelled for no price (nothing filled: warned). A opens at 20: 600 x 20
    = 12,000 does not fit in the 10,000, so the buy is cut to 10,000 / 20 = 500 (filled in part: routine, not
    counted). The line names B's order alone."""
    toml = ('[strategy.params]\nweights = { A = 0.6, B = 0.4 }\n[schedule]\ndates = ["2020-01-02"]\n'
            '[execution]\ntiming = "next_open"\n')
    scenario = _write(tmp_path, toml, {("2020-01-03", "B"): None, ("2020-01-03", "A"): (20.0, 20.5, 9.5, 10.0)})
    warnings = _warnings(tmp_path, scenario, capsys)
    trades = pd.read_csv(tmp_path / "out" / "trades.csv")
    assert trades[["symbol", "quantity", "price"]].values.tolist() == [["A", 500, 20.0]]
    [b] = _order_ids(tmp_path)["B"]
    assert warnings == [
        f"eventbt: warning: 1 of 2 rebalance orders ended with nothing filled: order #{b} (buy 200 B, 2020-01-02), "
        "200 shares cancelled on 2020-01-03: no price for the symbol at the fill; its CancelEvent is in the audit "
        "log"]


def test_a_buy_cut_to_no_shares_is_warned_of_and_one_cut_in_part_is_not(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """next_open, half in A and half in B sized at the closes of 2020-01-02: 5,000 / 10 = 500 A, 5,000 / 20 =
    250 B. On 2020-01-03 A opens at 30: 500 x 30 = 15,000 does not fit in the 10,000, so A's buy (first, in
    symbol order) is cut to floor(10,000 / 30) = 333 (9,990: filled in part, routine). B's buy then has 10 of
    cash left, less than one share at 20: cut to none, nothing filled, and that is the one warned of."""
    toml = ('[strategy.params]\nweights = { A = 0.5, B = 0.5 }\n[schedule]\ndates = ["2020-01-02"]\n'
            '[execution]\ntiming = "next_open"\n')
    scenario = _write(tmp_path, toml, {("2020-01-03", "A"): (30.0, 30.5, 9.5, 10.0)})
    warnings = _warnings(tmp_path, scenario, capsys)
    trades = pd.read_csv(tmp_path / "out" / "trades.csv")
    assert trades[["symbol", "quantity", "price"]].values.tolist() == [["A", 333, 30.0]]
    [b] = _order_ids(tmp_path)["B"]
    assert warnings == [
        f"eventbt: warning: 1 of 2 rebalance orders ended with nothing filled: order #{b} (buy 250 B, 2020-01-02), "
        "250 shares cancelled on 2020-01-03: not enough cash at the fill; its CancelEvent is in the audit log"]


def test_superseded_and_data_end_cancels_are_counted_apart(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """gtc limits 5,000 bps below the close (never reached: the lows stay at 9.5 and 19) from rebalances on
    2020-01-02 and 2020-01-06: the second cancels the first's two orders (superseded) and sizes its own from the
    same 10,000 (500 A, 250 B), which wait until the data ends on 2020-01-08, two bars after they were placed."""
    toml = LIMITS.replace('["2020-01-02"]', '["2020-01-02", "2020-01-06"]') + 'time_in_force = "gtc"\n'
    warnings = _warnings(tmp_path, _write(tmp_path, toml), capsys)
    first_a = _order_ids(tmp_path)["A"][0]
    assert warnings == [
        "eventbt: warning: 4 of 4 rebalance orders ended with nothing filled (2 cancelled: superseded by the next "
        "rebalance, 2 cancelled: data ended before the order could fill); the first: "
        f"order #{first_a} (buy 500 A, 2020-01-02), 500 shares cancelled on 2020-01-06: superseded by the "
        "rebalance signal of bar 2; each one's CancelEvent in the audit log says why"]


@pytest.mark.parametrize("timing", ["next_open", "same_close"])
def test_orders_of_a_rebalance_on_the_last_bar_are_not_warned_of(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 timing: str) -> None:
    """600 A and 200 B from 2020-01-02; on the last bar A closes at 12: 7,200 + 4,000 = 11,200, so the rebalance
    sells 480 / 12 = 40 A and buys 480 / 20 = 24 B. With next_open they have no bar to fill on: the data's end
    cancels both where they were placed, as in the bundled next-open scenarios. That is not news: no line. (With
    same_close they fill at that close.)"""
    toml = ('[strategy.params]\nweights = { A = 0.6, B = 0.4 }\n[schedule]\ndates = ["2020-01-02", "2020-01-08"]\n'
            f'[execution]\ntiming = "{timing}"\n')
    changed: dict[tuple[str, str], Any] = {("2020-01-08", "A"): (10.0, 12.5, 9.5, 12.0)}  # the last rebalance sells
    assert _warnings(tmp_path, _write(tmp_path, toml, changed), capsys) == []
    cancels = [r for r in read_audit(tmp_path / "out" / "audit.jsonl") if r.get("type") == "CancelEvent"]
    assert [r["data"]["reason"] for r in cancels] == (
        ["data ended before the order could fill"] * 2 if timing == "next_open" else [])
