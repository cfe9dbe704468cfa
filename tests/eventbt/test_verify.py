"""`eventbt verify` agrees with every bundled scenario's run and finds the first tampered number."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.cli import main
from eventbt.errors import DataError
from eventbt.replays.verify import CHECKS, verify_run

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SMALL = ROOT / "scenarios" / "ema_next_open.toml"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "run"
    eventbt.run(SMALL, out=out)
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in run.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert verify_run(copy).ok  # the copy verifies before it is doctored
    return copy


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_verify_agrees_with_every_bundled_scenario(scenario: Path, tmp_path: Path) -> None:
    """Each scenarios/*.toml run through the CLI verifies: exit 0, every check done (in a margin account the
    margin's, with corporate actions the actions' too)."""
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    report = verify_run(out)
    assert report.disagreement is None, str(report.disagreement)
    config = eventbt.ScenarioConfig.from_toml(scenario)
    margin = ("margin",) if config.portfolio.margin else ()
    actions = ("actions",) if config.data.corporate_actions else ()
    assert report.checked == (*CHECKS, *margin, *actions)
    assert CHECKS == ("audit", "scenario", "data", "trades", "signals", "equity", "weights", "summary")
    assert main(["verify", str(out)]) == 0


def test_a_changed_value_in_equity_csv_is_the_first_disagreement(small_run: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Adding 0.01 to one day's cash in equity.csv is reported at that file, row and column, exit 1."""
    run = _copy(small_run, tmp_path)
    lines = (run / "equity.csv").read_text().splitlines()
    date, cash, *rest = lines[400].split(",")
    lines[400] = ",".join([date, repr(float(cash) + 0.01), *rest])
    (run / "equity.csv").write_text("\n".join(lines) + "\n")
    report = verify_run(run)
    assert report.disagreement is not None
    found = report.disagreement
    assert (found.check, found.file, found.row, found.column) == ("equity", "equity.csv", 400, "cash")
    assert found.where == f"equity.csv row 400 column cash ({date[:10]})"
    assert found.found == repr(float(cash) + 0.01)
    assert main(["verify", str(run)]) == 1
    assert f"DISAGREES at equity: equity.csv row 400 column cash ({date[:10]})" in capsys.readouterr().out


def test_a_changed_fill_quantity_is_found_in_trades_csv(small_run: Path, tmp_path: Path) -> None:
    """One more share on the first fill of trades.csv disagrees with the log's FillEvent, at row 1, quantity."""
    run = _copy(small_run, tmp_path)
    lines = (run / "trades.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[3] = str(int(cells[3]) + 1)
    lines[1] = ",".join(cells)
    (run / "trades.csv").write_text("\n".join(lines) + "\n")
    report = verify_run(run)
    assert report.disagreement is not None
    found = report.disagreement
    assert (found.check, found.file, found.row, found.column) == ("trades", "trades.csv", 1, "quantity")
    assert (found.expected, found.found) == (int(cells[3]) - 1, cells[3])


def test_an_edited_audit_line_fails_the_digest(small_run: Path, tmp_path: Path) -> None:
    """Changing one quantity inside the audit log makes the recomputed digest differ from the footer's."""
    run = _copy(small_run, tmp_path)
    text = (run / "audit.jsonl").read_text()
    edited = text.replace('"quantity":', '"quantity":1', 1)
    assert edited != text
    (run / "audit.jsonl").write_text(edited)
    report = verify_run(run)
    assert report.disagreement is not None
    assert report.disagreement.check == "audit"
    # A changed value keeps every line in order: said plainly, with how to find it (no line is named).
    assert report.disagreement.where.startswith("audit.jsonl digest (the log was modified after it was written: "
                                                "its lines are in order ")
    assert report.disagreement.row is None
    assert report.checked == ()


def test_an_audit_log_without_footer_is_reported_as_cut_short(small_run: Path, tmp_path: Path) -> None:
    """An audit log missing its last line (the footer) disagrees: the log was cut short."""
    run = _copy(small_run, tmp_path)
    lines = (run / "audit.jsonl").read_bytes().splitlines()
    (run / "audit.jsonl").write_bytes(b"".join(line + b"\n" for line in lines[:-1]))
    report = verify_run(run)
    assert report.disagreement is not None
    assert report.disagreement.found == "none (the log was cut short)"
    assert report.status == "cut short"


def test_changed_prices_are_reported_by_their_hash(small_run: Path, tmp_path: Path) -> None:
    """Verifying against other price files (--data) reports that the data files' hashes differ."""
    run = _copy(small_run, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    source = ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily"
    for path in source.iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    assert verify_run(run, data_path=data).ok  # the same bytes elsewhere agree
    (data / "KO.csv.gz").write_bytes((source / "IBM.csv.gz").read_bytes())
    report = verify_run(run, data_path=data)
    assert report.disagreement is not None
    # The file is named with its two hashes (it printed both four-file dictionaries, to compare by eye): the
    # recorded one from the header, the new one hashed here, independently of the loader.
    recorded = read_audit(run / "audit.jsonl")[0]["data_files"]
    name = next(key for key in recorded if key.endswith("/KO.csv.gz"))
    assert str(report.disagreement) == (f"data: price file {name} sha256: expected {recorded[name]!r}, found "
                                        f"{hashlib.sha256((source / 'IBM.csv.gz').read_bytes()).hexdigest()!r}")
    assert report.disagreement.file == name
    (data / "AAPL.csv.gz").write_bytes((source / "MSFT.csv.gz").read_bytes())
    where = verify_run(run, data_path=data).disagreement.where  # type: ignore[union-attr]
    assert where == f"price file {name.replace('KO', 'AAPL')} sha256 (and 1 other file(s): {name})"
    # a --data that is not there is named as given (it named the scenario's recorded path, which may exist)
    with pytest.raises(DataError, match=r"^nope\.csv: no such file or folder \(given in place of the scenario's data "
                                        r"path\)$"):
        verify_run(run, data_path="nope.csv")


def test_a_log_file_or_a_missing_folder_is_a_one_line_error(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt verify` checks a run folder: given the audit log itself it says so and names the command that
    checks a log alone; given a folder that is not there it says that, not that a file is missing from it."""
    log = tmp_path / "audit.jsonl"
    log.write_text("{}\n")
    assert main(["verify", str(log)]) == 2
    assert capsys.readouterr().err == (
        f"eventbt: error: {log}: is a file; expected a run folder (the files `eventbt run --out` writes). An audit "
        f"log alone is checked by `eventbt audit verify {log}`\n")
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"eventbt: error: {tmp_path / 'nowhere'}: run folder not found; expected the folder `eventbt run --out` "
        "wrote\n")


def test_a_folder_without_result_files_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt verify` on an empty folder exits 2 naming the missing file."""
    assert main(["verify", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"eventbt: error: {tmp_path}: no audit.jsonl in the run folder; expected the files `eventbt run --out` "
        "writes\n")
