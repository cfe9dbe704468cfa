"""Corporate actions in the tools: verify, replay, the debugger, the summary views and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eventbt
from eventbt.debug.render import describe
from eventbt.errors import DataError
from eventbt.events import DividendEvent, DividendPaymentEvent, SplitAdjustmentEvent, SplitEvent
from eventbt.replays.replayer import replay
from eventbt.replays.verify import CHECKS, verify_run

ROOT = Path(__file__).resolve().parents[2]
QUANDL = ROOT / "scenarios" / "data" / "zipline" / "quandl_samples" / "QUANDL_ARCHIVE.zip"
ACTIONS = ROOT / "scenarios" / "quandl_actions.toml"


def _buy_and_hold(folder: Path, actions: str = "columns", tax: float = 0.0) -> Path:
    """The AAPL buy-and-hold of docs/corporate-actions.md as a scenario file in ``folder``."""
    (folder / "bh.toml").write_text(
        f'[data]\npath = "{QUANDL.as_posix()}"\nsymbols = ["AAPL"]\ncorporate_actions = "{actions}"\n'
        f'[portfolio]\ninitial_cash = 100_000.0\nwithholding_tax = {tax}\n'
        '[strategy]\nname = "static_weights"\n[strategy.params]\nweights = { AAPL = 1.0 }\n'
        '[schedule]\ndates = ["2014-01-02"]\n')
    return folder / "bh.toml"


def test_verify_recomputes_the_books_with_splits_and_dividends(tmp_path: Path) -> None:
    """The bundled run with actions, tax and a warm-up verifies, the actions check included."""
    eventbt.run(ACTIONS, out=tmp_path)
    report = verify_run(tmp_path)
    assert report.ok, report.disagreement
    assert report.checked == (*CHECKS, "actions")


def test_verify_finds_a_payment_taxed_otherwise_than_the_scenario_says(tmp_path: Path) -> None:
    """Run with 15% tax, then doctor the first payment of the log to withhold nothing and seal the log again
    (digest in the footer and summary.json): the books rebuilt from the log check each payment against the
    scenario's rate: 180 shares held x 3.05 a share = 549.00 gross (docs/corporate-actions.md), x 0.15 = 82.35."""
    from eventbt.audit import digest_of_lines, read_audit

    eventbt.run(_buy_and_hold(tmp_path, tax=0.15), out=tmp_path / "run")
    log = tmp_path / "run" / "audit.jsonl"
    records = read_audit(log)
    payment = next(r for r in records if r.get("type") == "DividendPaymentEvent")
    assert payment["data"]["withholding_tax"] == pytest.approx(82.35)
    payment["data"]["withholding_tax"] = 0.0
    payment["data"]["net"] = payment["data"]["gross"]
    records[-1]["digest"] = digest_of_lines(records)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    summary["digest"] = records[-1]["digest"]
    (tmp_path / "run" / "summary.json").write_text(json.dumps(summary))
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    report = verify_run(tmp_path / "run")
    assert str(report.disagreement) == (f"actions: audit.jsonl DividendPaymentEvent #{payment['id']} (AAPL ex "
                                        "2014-02-06) withholding_tax: expected 82.35, found 0.0")
    documented = (ROOT / "docs" / "errors.md").read_text().replace("\n", " ")
    assert str(report.disagreement).replace(f"#{payment['id']}", "#N") in documented


def test_verify_finds_a_split_booked_against_the_rules(tmp_path: Path) -> None:
    """The 7:1 split of 2014-06-09 turns the 180 shares held into 1,260 with nothing in lieu (180 x 7 is whole);
    a sealed log claiming 1,261 disagrees at the split."""
    from eventbt.audit import digest_of_lines, read_audit

    eventbt.run(_buy_and_hold(tmp_path), out=tmp_path / "run")
    log = tmp_path / "run" / "audit.jsonl"
    records = read_audit(log)
    split = next(r for r in records if r.get("type") == "SplitAdjustmentEvent")
    assert (split["data"]["shares_before"], split["data"]["shares_after"], split["data"]["cash_in_lieu"]) == (
        180, 1260, 0.0)
    split["data"]["shares_after"] = 1261
    records[-1]["digest"] = digest_of_lines(records)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    summary["digest"] = records[-1]["digest"]
    (tmp_path / "run" / "summary.json").write_text(json.dumps(summary))
    log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    assert str(verify_run(tmp_path / "run").disagreement) == (
        f"actions: audit.jsonl SplitAdjustmentEvent #{split['id']} (AAPL x7) shares_after: expected 1260, found 1261")


def test_verify_finds_dividend_totals_the_log_does_not_hold(tmp_path: Path) -> None:
    """summary.json's dividends must be the sum of the audit log's payments (2,325.60 here)."""
    eventbt.run(_buy_and_hold(tmp_path), out=tmp_path / "run")
    path = tmp_path / "run" / "summary.json"
    summary = json.loads(path.read_text())
    summary["dividends"]["gross"] = 2000.0
    path.write_text(json.dumps(summary))
    disagreement = verify_run(tmp_path / "run").disagreement
    assert disagreement is not None and (disagreement.check, disagreement.where, disagreement.expected) == (
        "summary", "summary.json dividends.gross", pytest.approx(2325.60))


def _actions_scenario(folder: Path) -> Path:
    (folder / "actions.csv").write_text("date,symbol,type,value\n2014-02-06,AAPL,dividend,3.05\n"
                                        "2014-06-09,AAPL,split,7\n")
    return _buy_and_hold(folder, actions="actions.csv")


def test_replay_is_identical_and_notices_a_changed_actions_file(tmp_path: Path) -> None:
    """The actions file is hashed like the prices: changed, a replay stops, or with leave shows the divergence."""
    eventbt.run(_actions_scenario(tmp_path), out=tmp_path / "run")
    header = json.loads((tmp_path / "run" / "audit.jsonl").read_text().splitlines()[0])
    assert "actions.csv" in header["data_files"]
    assert replay(tmp_path / "run").identical
    (tmp_path / "actions.csv").write_text("date,symbol,type,value\n2014-02-06,AAPL,dividend,3.5\n"
                                          "2014-06-09,AAPL,split,7\n")
    with pytest.raises(DataError) as caught:
        replay(tmp_path / "run")
    assert str(caught.value).startswith("actions.csv: changed since the run was recorded")
    report = replay(tmp_path / "run", allow_changed_data=True)
    assert not report.identical and report.divergence is not None
    assert (report.divergence.event_type, report.divergence.fields) == ("DividendEvent", ("data.amount_per_share",))


def test_the_debugger_breaks_on_splits_and_dividends(tmp_path: Path) -> None:
    """break split AAPL and break dividend stop before those events; the step shows the book's change."""
    simulation = eventbt.Simulation.from_scenario(_buy_and_hold(tmp_path))
    debugger = simulation.debugger
    debugger.add_breakpoint("split", "AAPL")
    stopped = debugger.continue_()
    assert isinstance(stopped, SplitEvent) and stopped.date == "2014-06-09T09:00:00"
    step = debugger.step()
    assert step is not None and [(c.shares_before, c.shares_after) for c in step.changes] == []  # the split itself
    booked = debugger.step()
    assert booked is not None and isinstance(booked.event, SplitAdjustmentEvent)
    assert [(c.symbol, c.shares_before, c.shares_after) for c in booked.changes] == [("AAPL", 180, 1260)]
    debugger.add_breakpoint("dividend")
    assert isinstance(debugger.continue_(), DividendEvent)


def test_describe_prints_each_action_on_one_line() -> None:
    """The debugger's one-line view of each corporate-action event."""
    at = {"id": 7, "time_ns": 0, "bar": 3, "symbol": "AAPL"}
    assert describe(SplitEvent(ratio=7.0, **at)) == "AAPL 7-for-1 split (x7 shares, prices / 7)"
    assert describe(SplitEvent(ratio=0.1, **at)) == "AAPL 1-for-10 split (x0.1 shares, prices / 0.1)"
    assert describe(DividendEvent(amount_per_share=0.47, pay_date="2014-08-14", **at)) == (
        "AAPL dividend 0.4700 a share, paid 2014-08-14")
    assert describe(SplitAdjustmentEvent(ratio=1.5, shares_before=101, shares_after=151, fractional_shares=0.5,
                                         prior_close=102.0, cash_in_lieu=34.0, **at)) == (
        "AAPL 101 -> 151 shares (3-for-2)  cash in lieu 34.00 for 0.5 share(s)")
    assert describe(DividendPaymentEvent(shares=151, amount_per_share=0.5, gross=75.5, withholding_tax=22.65,
                                         net=52.85, ex_date="2024-01-08", **at)) == (
        "AAPL 151 x 0.5000 = 75.50  tax 22.65  net 52.85  (ex 2024-01-08)")


def test_the_summary_views_and_the_report_show_the_dividends(tmp_path: Path) -> None:
    """run's summary, show, compare and the HTML report list dividends and tax, in total and by symbol."""
    from eventbt.cli.commands.compare import compare_table
    from eventbt.cli.commands.run import format_summary
    from eventbt.cli.commands.show import format_metrics
    from eventbt.report import write_report
    from eventbt.report.data import load_run

    result = eventbt.run(_buy_and_hold(tmp_path, tax=0.15), out=tmp_path / "run")
    eventbt.run(_buy_and_hold(tmp_path, actions=""), out=tmp_path / "raw")
    # 2,325.60 gross, 15% = 348.84 withheld, 1,976.76 net.
    lines = format_summary(result.summary).splitlines()
    for label, value in (("Dividends (gross)", "2,325.60"), ("Withholding tax", "348.84"),
                         ("Dividends (net)", "1,976.76"), ("AAPL gross", "2,325.60"), ("AAPL tax", "348.84")):
        assert any(line.split() == [*label.split(), value] for line in lines), label
    shown = format_metrics("bh", load_run(tmp_path / "run").metrics)
    assert "Income" in shown and "1,976.76" in shown
    table = compare_table(["run", "raw"], [load_run(tmp_path / "run").metrics, load_run(tmp_path / "raw").metrics])
    assert any(line.split() == ["Withholding", "tax", "348.84", "n/a"] for line in table.splitlines())
    html = Path(write_report(tmp_path / "run")).read_text()
    assert 'id="income"' in html and 'data-table="corporate-actions"' in html and "1,976.76" in html
    assert "id=\"income\"" not in Path(write_report(tmp_path / "raw")).read_text()
    trades = (tmp_path / "run" / "trades.csv").read_text().splitlines()
    assert len(trades) == 2  # the header and the one buy: no row for a split or a dividend
