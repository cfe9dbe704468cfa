"""`eventbt run`: result files, summary, exit codes and error output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from eventbt.audit import digest_of_lines, read_audit
from eventbt.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_next_open.toml"


def test_run_writes_the_documented_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--out writes equity, trades, weights, signals, summary, audit and the resolved scenario."""
    out = tmp_path / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Final value" in printed and "Audit digest" in printed
    equity = pd.read_csv(out / "equity.csv")
    assert list(equity.columns) == ["date", "cash", "positions_value", "total_value", "flow"]
    assert len(equity) == 754  # one row per bar of the 2012-2014 data
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades.columns) == ["date", "symbol", "side", "quantity", "price", "reference_price",
                                    "commission", "slippage", "realized_pnl", "order_id", "fill_id"]
    assert set(pd.read_csv(out / "weights.csv").columns) == {"date", "AAPL", "IBM", "KO", "MSFT"}
    assert set(pd.read_csv(out / "signals.csv").columns) == {"date", "AAPL", "IBM", "KO", "MSFT"}
    summary = json.loads((out / "summary.json").read_text())
    for key in ("final_value", "total_return", "cagr", "money_weighted_return", "net_flows", "annual_volatility",
                "sharpe", "max_drawdown", "trades", "total_commission", "total_slippage", "digest"):
        assert key in summary
    assert summary["trades"] == len(trades)
    # The summary's final value is the last equity row; cash + positions = total on every row.
    assert summary["final_value"] == equity["total_value"].iloc[-1]
    assert ((equity["cash"] + equity["positions_value"] - equity["total_value"]).abs() < 1e-6).all()
    records = read_audit(out / "audit.jsonl")
    assert records[0]["record"] == "header" and records[-1]["record"] == "footer"
    assert records[-1]["status"] == "completed"
    assert records[-1]["digest"] == summary["digest"] == digest_of_lines(records)
    assert (out / "scenario.toml").read_text().startswith("[scenario]")


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    """A scenario with an unknown key exits 2, prints one error line, and no traceback without --debug."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\npath = "x.csv"\n[strategy]\nname = "equal_weight"\n[execution]\ntimng = "next_open"\n')
    command = [sys.executable, "-m", "eventbt.cli", "run", str(bad)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"eventbt: error: {bad}: [execution] unknown key 'timng' (did you mean 'timing'?)"]
    debug = subprocess.run([*command, "--debug"], capture_output=True, text=True, cwd=ROOT)
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr


def test_missing_scenario_file_is_a_clear_error(capsys) -> None:  # type: ignore[no-untyped-def]
    """A path that does not exist exits 2 and names the file."""
    assert main(["run", "no/such/scenario.toml"]) == 2
    assert "no/such/scenario.toml" in capsys.readouterr().err


def test_a_misspelt_option_is_named_by_the_commands_parser(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`eventbt run X --outt DIR` shows `eventbt run`'s usage (which lists --out), not the top level's, and a
    did-you-mean; it exits 2 before anything runs. A top-level mistake still gets the top-level usage."""
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(SCENARIO), "--outt", str(tmp_path / "run")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: eventbt run ") and "--out " in err
    assert err.splitlines()[-1] == (f"eventbt run: error: unrecognized arguments: --outt {tmp_path / 'run'} "
                                    "(--outt: did you mean --out?)")
    assert not (tmp_path / "run").exists()
    with pytest.raises(SystemExit) as stopped:  # an action of a command (audit show) names its own options
        main(["audit", "show", "a.jsonl", "--tpye", "FillEvent"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == ("eventbt audit show: error: unrecognized arguments: --tpye "
                                                        "FillEvent (--tpye: did you mean --type?)")
    with pytest.raises(SystemExit) as stopped:
        main(["--bogus", "run", str(SCENARIO)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: eventbt [-h]") and "eventbt: error: unrecognized arguments: --bogus" in err


def test_a_commands_help_keeps_its_paragraphs_and_examples(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`eventbt audit --help` shows the module docstring's usage examples one a line, as written, after the
    reflowed first paragraph (argparse's own formatter ran them into one paragraph)."""
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert ("verify the\ndigest.\n\n  eventbt audit trace LOG EVENT_ID\n  eventbt audit show LOG [--type FillEvent] "
            "[--symbol AAPL] [--from 2020-01-01] [--to 2020-12-31]\n") in out


@pytest.mark.parametrize(("name", "lag"), [("cash_flows", 0), ("ema_next_open", 1)])
def test_weights_have_one_row_per_rebalance_on_the_bar_its_orders_fill(name: str, lag: int) -> None:
    """docs/results.md: a row at the end of the bar each rebalance's orders fill (same_close, cash_flows.toml:
    the signal's bar; next_open: the bar after it), also for a rebalance that traded nothing (cash_flows'
    late-2012 rebalances hold nothing: all zeros); the [[events]] order's fill on 2013-01-02 adds none."""
    import eventbt

    result = eventbt.run(ROOT / "scenarios" / f"{name}.toml")
    dates = list(result.equity.index)
    # A signal on the last bar (ema_next_open's 2014-12-31) has no next bar to fill on, so no row.
    assert list(result.weights.index) == [dates[dates.index(day) + lag] for day in result.signals.index
                                          if dates.index(day) + lag < len(dates)]
    assert len(result.weights) == len(result.signals) - lag
    if name == "cash_flows":
        fill_days = set(pd.to_datetime(result.trades["date"]).dt.normalize())
        idle = [day for day in result.weights.index if day.normalize() not in fill_days]
        assert idle and all((result.weights.loc[day] == 0).all() for day in idle)
        assert pd.Timestamp("2013-01-02") in fill_days
        assert pd.Timestamp("2013-01-02") not in set(result.weights.index.normalize())


def test_a_manual_order_the_fill_cancels_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An [[events]] buy of a billion AAPL with the sample's cash: the fill cuts it to what the cash covers and
    cancels the rest. Only the audit log said so, and the summary read as if the order were filled; `eventbt run`
    prints a warning naming the order, the shares cancelled (a billion less the fill in trades.csv) and why. The
    rebalance's own cuts stay quiet (routine)."""
    scenario = tmp_path / "manual.toml"
    scenario.write_text(f'extends = "{SCENARIO.as_posix()}"\n'
                        '[[events]]\ndate = "2013-01-02"\ntype = "order"\nsymbol = "AAPL"\nside = "buy"\n'
                        'quantity = 1000000000\n')
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--quiet", "--plain"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "[[events]] order" in line]
    trades = pd.read_csv(tmp_path / "run" / "trades.csv")
    [order_id] = [int(r["id"]) for r in read_audit(tmp_path / "run" / "audit.jsonl")
                  if r.get("type") == "OrderEvent" and r.get("by") == "injected"]
    filled = int(trades.loc[trades["order_id"] == order_id, "quantity"].sum())
    assert 0 < filled < 1_000_000_000
    assert warnings == [f"eventbt: warning: [[events]] order #{order_id} (buy 1,000,000,000 AAPL, 2013-01-02): "
                        f"{1_000_000_000 - filled:,} shares cancelled on 2013-01-03: not enough cash at the fill"]
    assert main(["run", str(SCENARIO), "--quiet", "--plain"]) == 0
    assert "[[events]] order" not in capsys.readouterr().err


def test_eventbt_run_logs_a_manual_order_that_expired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """From Python the same lines go to the "eventbt" logger; an [[events]] limit buy at 1.00 (AAPL near 60) is
    never reached and expires after its day: its 100 shares are named cancelled, with the expiry's reason."""
    import logging

    import eventbt

    scenario = tmp_path / "limit.toml"
    scenario.write_text(f'extends = "{SCENARIO.as_posix()}"\n'
                        '[[events]]\ndate = "2013-01-02"\ntype = "order"\nsymbol = "AAPL"\nside = "buy"\n'
                        'quantity = 100\norder_type = "limit"\nlimit_price = 1.0\n')
    with caplog.at_level(logging.WARNING, logger="eventbt"):
        eventbt.run(scenario)
    [line] = [r.getMessage() for r in caplog.records if "[[events]] order" in r.getMessage()]
    assert line.startswith("[[events]] order #") and "(buy 100 AAPL, 2013-01-02): 100 shares cancelled on" in line
    assert "day order expired: low " in line and "> limit 1.0: not reached" in line
