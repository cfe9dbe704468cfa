"""`eventbt verify` finds a doctored run folder: one change at a time in a copy of a real run, it names the file,
the row and the column; malformed files are one-line errors naming the file; failed, skipped and interrupted
runs still verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import eventbt
from eventbt.cli import main
from eventbt.errors import AuditError, EventbtError
from eventbt.events import MarketEvent
from eventbt.handler import Handler
from eventbt.replays.verify import verify_run

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real run folders: ema_next_open (trades, signals, weights), cash_flows (flows) and extra_handler (fees)."""
    folder = tmp_path_factory.mktemp("runs")
    made = {}
    for name in ("ema_next_open", "cash_flows", "extra_handler"):
        made[name] = folder / name
        eventbt.run(SCENARIOS / f"{name}.toml", out=made[name])
        assert verify_run(made[name]).ok
    return made


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in run.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def _cell(row: int, column: str, change: Callable[[str], str]) -> Callable[[Path, str], None]:
    """Change one cell of a CSV file: data row ``row`` (1-based, the header not counted), column ``column``."""
    def edit(folder: Path, name: str) -> None:
        lines = (folder / name).read_text().splitlines()
        header = lines[0].split(",")
        cells = lines[row].split(",")
        cells[header.index(column)] = change(cells[header.index(column)])
        lines[row] = ",".join(cells)
        (folder / name).write_text("\n".join(lines) + "\n")
    return edit


def plus(amount: float) -> Callable[[str], str]:
    return lambda text: repr(float(text) + amount)


def _flip_side(text: str) -> str:
    return "SELL" if text == "BUY" else "BUY"


# run, file, row, column, the change, the check that must report it. trades.csv row 3 is the first SELL
# (2012-03-26 AAPL), so its realized P&L is not 0; every other cell is copied from the log's FillEvent.
CELLS: list[tuple[str, str, int, str, Callable[[str], str], str]] = [
    ("ema_next_open", "trades.csv", 3, "date", lambda _: "2012-03-27", "trades"),
    ("ema_next_open", "trades.csv", 3, "symbol", lambda _: "KO", "trades"),
    ("ema_next_open", "trades.csv", 3, "side", _flip_side, "trades"),
    ("ema_next_open", "trades.csv", 3, "quantity", lambda t: str(int(t) + 1), "trades"),
    ("ema_next_open", "trades.csv", 3, "price", plus(0.01), "trades"),
    ("ema_next_open", "trades.csv", 3, "reference_price", plus(0.01), "trades"),
    ("ema_next_open", "trades.csv", 3, "commission", plus(0.01), "trades"),
    ("ema_next_open", "trades.csv", 3, "slippage", plus(0.01), "trades"),
    ("ema_next_open", "trades.csv", 3, "realized_pnl", plus(0.01), "trades"),
    ("ema_next_open", "trades.csv", 3, "order_id", lambda t: str(int(t) + 1), "trades"),
    ("ema_next_open", "trades.csv", 3, "fill_id", lambda t: str(int(t) + 1), "trades"),
    ("ema_next_open", "trades.csv", 3, "price", lambda t: "abc", "trades"),
    ("ema_next_open", "signals.csv", 2, "date", lambda _: "2012-03-22", "signals"),
    ("ema_next_open", "signals.csv", 2, "AAPL", plus(0.01), "signals"),
    ("ema_next_open", "signals.csv", 2, "KO", plus(1e-12), "signals"),  # copied from the log: exactly
    ("ema_next_open", "weights.csv", 2, "date", lambda _: "2012-03-27", "weights"),
    ("ema_next_open", "weights.csv", 2, "MSFT", plus(0.001), "weights"),
    ("ema_next_open", "equity.csv", 400, "date", lambda _: "2013-08-20", "equity"),
    ("ema_next_open", "equity.csv", 400, "cash", plus(0.01), "equity"),
    ("ema_next_open", "equity.csv", 400, "positions_value", plus(-0.01), "equity"),
    ("ema_next_open", "equity.csv", 400, "total_value", plus(1.0), "equity"),
    # Within the recomputation's tolerance, but not the value the log's SnapshotEvent holds.
    ("ema_next_open", "equity.csv", 400, "total_value", plus(1e-8), "equity"),
    ("cash_flows", "equity.csv", 101, "flow", plus(1.0), "equity"),
    ("ema_next_open", "equity.csv", 10, "flow", plus(5.0), "equity"),
]


@pytest.mark.parametrize(("run", "name", "row", "column", "change", "check"), CELLS,
                         ids=[f"{c[1]}-{c[3]}-{i}" for i, c in enumerate(CELLS)])
def test_one_changed_cell_is_named_by_file_row_and_column(runs: dict[str, Path], tmp_path: Path, run: str, name: str,
                                                         row: int, column: str, change: Callable[[str], str],
                                                         check: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each doctored cell is the first disagreement, at its file, row and column; `eventbt verify` exits 1."""
    folder = _copy(runs[run], tmp_path)
    _cell(row, column, change)(folder, name)
    report = verify_run(folder)
    found = report.disagreement
    assert found is not None
    assert (found.check, found.file, found.row, found.column) == (check, name, row, column), str(found)
    assert found.where.startswith(f"{name} row {row} column {column}")
    assert main(["verify", str(folder)]) == 1
    assert f"DISAGREES at {check}: {name} row {row} column {column}" in capsys.readouterr().out


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(summary: dict[str, Any]) -> None:
        target = summary
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return edit


# run, the change to summary.json, the column (dotted key) verify names.
SUMMARY: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("ema_next_open", _set(("final_value",), lambda v: v + 1.0), "final_value"),
    ("ema_next_open", _set(("total_return",), lambda v: v + 0.001), "total_return"),
    ("ema_next_open", _set(("cagr",), lambda v: v * 1.01), "cagr"),
    ("ema_next_open", _set(("sharpe",), lambda v: v + 0.01), "sharpe"),
    ("ema_next_open", _set(("annual_volatility",), lambda v: v - 0.01), "annual_volatility"),
    ("ema_next_open", _set(("max_drawdown",), lambda v: v / 2), "max_drawdown"),
    ("ema_next_open", _set(("trades",), lambda v: v - 1), "trades"),
    ("ema_next_open", _set(("total_commission",), lambda v: v - 100.0), "total_commission"),
    ("ema_next_open", _set(("costs", "slippage", "amount"), lambda v: v / 2), "costs.slippage.amount"),
    ("ema_next_open", _set(("complete",), False), "complete"),
    ("ema_next_open", _set(("status",), "failed"), "status"),
    ("ema_next_open", _set(("events",), lambda v: v + 1), "events"),
    ("ema_next_open", _set(("scenario",), "another"), "scenario"),
    ("ema_next_open", _set(("praise",), "best run ever"), "praise"),
    ("ema_next_open", lambda summary: summary.pop("cagr"), "cagr"),
    ("cash_flows", _set(("net_flows",), 0.0), "net_flows"),
    ("cash_flows", _set(("money_weighted_return",), lambda v: v + 0.01), "money_weighted_return"),
    ("extra_handler", _set(("costs", "fee:stamp_duty", "amount"), 0.0), "costs.fee:stamp_duty.amount"),
]


@pytest.mark.parametrize(("run", "change", "column"), SUMMARY, ids=[c[2] + f"-{i}" for i, c in enumerate(SUMMARY)])
def test_a_doctored_summary_figure_is_named(runs: dict[str, Path], tmp_path: Path, run: str,
                                            change: Callable[[dict[str, Any]], None], column: str) -> None:
    """Each figure of summary.json is recomputed from the log's books with the metrics and compared."""
    folder = _copy(runs[run], tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    change(summary)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    found = verify_run(folder).disagreement
    assert found is not None
    assert (found.check, found.file, found.column) == ("summary", "summary.json", column), str(found)


def _rows_in_log(folder: Path, name: str) -> int:
    """The rows a run file must have, counted in the audit log: a fill per trades.csv row, a signal per
    signals.csv row, a snapshot per equity.csv row, and a weights.csv row per signal whose next bar (the bar its
    next_open orders fill) is in the data."""
    from eventbt.audit import read_audit

    published = [r for r in read_audit(folder / "audit.jsonl") if r.get("record") == "publish"]
    kinds = {"trades.csv": "FillEvent", "signals.csv": "SignalEvent", "equity.csv": "SnapshotEvent"}
    if name in kinds:
        return sum(1 for r in published if r["type"] == kinds[name])
    bars = sum(1 for r in published if r["type"] == "SnapshotEvent")
    return sum(1 for r in published if r["type"] == "SignalEvent" and r["data"]["bar"] + 1 < bars)


@pytest.mark.parametrize("name", ["trades.csv", "signals.csv", "weights.csv", "equity.csv"])
def test_a_removed_last_row_is_named(runs: dict[str, Path], tmp_path: Path, name: str) -> None:
    """Dropping a file's last row: the file and the first row missing (the expected count is the log's)."""
    folder = _copy(runs["ema_next_open"], tmp_path)
    rows = _rows_in_log(folder, name)
    assert rows > 100  # ema_next_open: 267 fills, 147 signals, 146 rebalances with a weights row, 754 bars
    lines = (folder / name).read_text().splitlines()
    assert len(lines) == rows + 1  # the header and one row each (fills, signals, rebalances, bars)
    (folder / name).write_text("\n".join(lines[:-1]) + "\n")
    found = verify_run(folder).disagreement
    assert found is not None and (found.file, found.row, found.column) == (name, rows, None), str(found)
    assert found.found == f"{rows - 1} rows"


def test_an_added_row_and_a_renamed_column_are_named(runs: dict[str, Path], tmp_path: Path) -> None:
    """A duplicated last fill is one row too many; a renamed header column is reported with the header."""
    folder = _copy(runs["ema_next_open"], tmp_path)
    lines = (folder / "trades.csv").read_text().splitlines()
    (folder / "trades.csv").write_text("\n".join([*lines, lines[-1]]) + "\n")
    found = verify_run(folder).disagreement
    assert found is not None and (found.file, found.row, found.found) == ("trades.csv", 268, "268 rows")
    lines[0] = lines[0].replace("commission", "comission")
    (folder / "trades.csv").write_text("\n".join(lines) + "\n")
    found = verify_run(folder).disagreement
    assert found is not None and (found.file, found.row, found.column) == ("trades.csv", None, None)
    assert found.where == "trades.csv (the header line)"


def test_a_changed_scenario_toml_is_named_by_its_key(runs: dict[str, Path], tmp_path: Path) -> None:
    """scenario.toml must be the scenario the audit header recorded: a changed initial cash is named."""
    folder = _copy(runs["ema_next_open"], tmp_path)
    text = (folder / "scenario.toml").read_text()
    (folder / "scenario.toml").write_text(text.replace("initial_cash = 100000.0", "initial_cash = 200000.0"))
    found = verify_run(folder).disagreement
    assert found is not None
    assert (found.check, found.file, found.column) == ("scenario", "scenario.toml", "portfolio.initial_cash")
    assert (found.expected, found.found) == (100000.0, 200000.0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("trades.csv", 'date,symbol\n"2012-03-19,AAPL\n', "trades.csv: is not a readable CSV file (Error: unexpected "
                                                          "end of data)"),
        ("trades.csv", "date,symbol\n2012-03-19,AAPL,BUY\n", "trades.csv: row 1 has 3 fields; expected 2 like the "
                                                             "header"),
        ("equity.csv", "", "equity.csv: is empty; expected a header line and rows"),
        ("weights.csv", b"date,A\n\xff\xfe,1\n", "weights.csv: is not a readable CSV file (UnicodeDecodeError: "),
        ("summary.json", "{\"final_value\": ", "summary.json: is not valid JSON ("),
        ("summary.json", "[1, 2]", "summary.json: is not a JSON object (found list)"),
        ("audit.jsonl", "[1]\n", "audit.jsonl: line 1: is list, not an audit record (a JSON object with a 'record' "
                                 "field)"),
        ("scenario.toml", "[scenario\n", "scenario.toml: invalid TOML: "),
    ],
)
def test_a_malformed_file_is_a_one_line_error_naming_it(runs: dict[str, Path], tmp_path: Path, name: str,
                                                        content: str | bytes, message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Unparseable CSV, JSON, JSON lines or TOML: an EventbtError naming the file; the command exits 2, one line."""
    folder = _copy(runs["ema_next_open"], tmp_path)
    if isinstance(content, bytes):
        (folder / name).write_bytes(content)
    else:
        (folder / name).write_text(content)
    with pytest.raises(EventbtError) as caught:
        verify_run(folder)
    assert str(caught.value).replace(str(folder) + "/", "").startswith(message), str(caught.value)
    assert main(["verify", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eventbt: error: ") and "Traceback" not in err


class _FailsAt(Handler):
    """Raises at one bar's MarketEvent (a bug in a user's handler)."""

    name = "fails"
    subscribes = (MarketEvent,)

    def __init__(self, bar: int) -> None:
        self.bar = bar

    def on_market(self, event: MarketEvent) -> None:
        if event.bar == self.bar or self.bar < 0:
            raise ZeroDivisionError("division by zero")


def _withdraw_too_much(tmp_path: Path) -> Path:
    scenario = tmp_path / "withdraw.toml"
    scenario.write_text(f'extends = "{(SCENARIOS / "ema_next_open.toml").as_posix()}"\n'
                        f'[data]\npath = "{(SCENARIOS / "data" / "zipline" / "csvdir_daily").as_posix()}"\n'
                        '[[events]]\ndate = "2013-06-03"\ntype = "withdrawal"\namount = 900_000.0\n')
    return scenario


@pytest.mark.parametrize(
    ("case", "status", "dead_letters"),
    [("a user's handler fails", "failed", 0), ("its failures are skipped", "completed", 754),
     ("the portfolio refuses a withdrawal", "failed", 0)],
)
def test_failed_and_skipped_runs_verify(tmp_path: Path, case: str, status: str, dead_letters: int) -> None:
    """Partial results of a failed run, and a run with dead letters, agree with their logs (the event the
    portfolio failed on is not booked)."""
    out = tmp_path / "run"
    if case == "the portfolio refuses a withdrawal":
        with pytest.raises(EventbtError, match=r"withdrawal of 900,000\.00 on "):
            eventbt.run(_withdraw_too_much(tmp_path), out=out)
    elif case == "its failures are skipped":
        eventbt.run(SCENARIOS / "ema_next_open.toml", out=out, overrides=["run.on_error=skip"],
                    extra_handlers=[_FailsAt(-1)])
    else:
        with pytest.raises(EventbtError, match="division by zero"):
            eventbt.run(SCENARIOS / "ema_next_open.toml", out=out, extra_handlers=[_FailsAt(300)])
    report = verify_run(out)
    assert report.ok, str(report.disagreement)
    summary = json.loads((out / "summary.json").read_text())
    assert (report.status, summary["status"], summary["dead_letters"]) == (status, status, dead_letters)


def test_a_log_whose_publish_records_lack_a_time_is_an_error(runs: dict[str, Path], tmp_path: Path) -> None:
    """A log that passes its digest but whose records cannot be ordered is an AuditError, not a traceback."""
    from eventbt.audit import digest_of_lines, read_audit

    folder = _copy(runs["ema_next_open"], tmp_path)
    records = read_audit(folder / "audit.jsonl")
    publish = next(r for r in records if r["record"] == "publish")
    del publish["time"]
    records[-1]["digest"] = digest_of_lines(records)
    summary = json.loads((folder / "summary.json").read_text())
    summary["digest"] = records[-1]["digest"]
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "audit.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    with pytest.raises(AuditError, match="a publish record has no readable time and seq"):
        verify_run(folder)
