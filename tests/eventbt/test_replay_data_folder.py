"""A run folder whose data moved: replay, verify and report find the data by one rule and say the same thing.

The rule (eventbt/replays/data_folder.py): ``--base-dir DIR`` when given, else the scenario's folder as the
audit header recorded it, when the data is there, else the audit log's folder. Each command is run through
``eventbt.cli.main`` on a tiny run whose scenario folder was renamed after the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eventbt.cli import main
from eventbt.errors import DataError
from eventbt.replays.data_folder import find_data_folder

PRICES = "date,AAA\n2021-01-04,100.0\n2021-01-05,101.0\n2021-01-06,99.5\n"
SCENARIO = """\
[scenario]
name = "tiny"
[data]
path = "prices.csv"
[strategy]
name = "static_weights"
[strategy.params]
weights = { AAA = 1.0 }
[schedule]
rebalance = "daily"
[execution.commission]
model = "percentage"
rate = 0.001
"""


@pytest.fixture
def moved(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A run of a tiny scenario, then its scenario folder renamed: (the folder it was, where it is, the run)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "prices.csv").write_text(PRICES)
    (folder / "tiny.toml").write_text(SCENARIO)
    run = tmp_path / "received" / "run"
    assert main(["run", str(folder / "tiny.toml"), "--out", str(run), "--quiet"]) == 0
    gone = folder.rename(tmp_path / "elsewhere")
    return folder, gone, run


def _looked(folder: Path, run: Path) -> str:
    return (f"prices.csv: not found in {folder} (the scenario's folder when the run was recorded) or {run} (the "
            "audit log's folder)")


def test_verify_says_where_it_looked_and_names_its_own_options(moved: tuple[Path, Path, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """verify without the data: exit 2, one line naming the folders looked in, --base-dir and --data, and no
    scenario-file wording ("[data] path", "read from the scenario's folder")."""
    folder, _gone, run = moved
    assert main(["verify", str(run)]) == 2
    assert capsys.readouterr().err == (
        f"eventbt: error: {_looked(folder, run)}; pass --base-dir DIR, the folder the scenario's data path is "
        "relative to, or --data PATH, the price data itself\n")


def test_report_and_replay_say_the_same_with_the_option_they_take(moved: tuple[Path, Path, Path],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """report writes its page with a note naming --base-dir (which it now takes); replay stops, exit 2, with
    the same sentence."""
    folder, _gone, run = moved
    hint = "pass --base-dir DIR, the folder the scenario's data path is relative to"
    assert main(["report", str(run)]) == 0
    note = f"eventbt: note: no event explorer in the report: {_looked(folder, run)}; {hint}\n"
    assert capsys.readouterr().err == note
    assert "No event explorer" in (run / "report.html").read_text()
    assert main(["replay", str(run / "audit.jsonl")]) == 2
    assert capsys.readouterr().err == f"eventbt: error: {_looked(folder, run)}; {hint}\n"
    assert main(["replay", str(run), "--base-dir", str(run.parent)]) == 2
    assert capsys.readouterr().err == f"eventbt: error: prices.csv: not found in {run.parent} (--base-dir); {hint}\n"


def test_base_dir_finds_the_data_for_all_three(moved: tuple[Path, Path, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--base-dir with the folder the data moved to: replay is identical, verify agrees, the report has its
    explorer (no note)."""
    _folder, gone, run = moved
    assert main(["replay", str(run / "audit.jsonl"), "--base-dir", str(gone)]) == 0
    assert main(["verify", str(run), "--base-dir", str(gone)]) == 0
    assert f"{run}: OK (completed; 3 bars, 1 fills;" in capsys.readouterr().out
    assert main(["report", str(run), "--base-dir", str(gone)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == f"report: {run / 'report.html'}\n"
    assert "No event explorer" not in (run / "report.html").read_text()


def test_data_copied_into_the_run_folder_is_found_by_all_three(moved: tuple[Path, Path, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The data copied beside the audit log: replay, verify and report need no option (verify did not look there)."""
    _folder, gone, run = moved
    (run / "prices.csv").write_bytes((gone / "prices.csv").read_bytes())
    assert main(["replay", str(run / "audit.jsonl")]) == 0
    assert main(["verify", str(run)]) == 0
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().err == ""


def test_verify_data_given_a_folder_reads_the_recorded_file_in_it(moved: tuple[Path, Path, Path],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """--data FOLDER where the run read one file looks for that file in FOLDER (it read FOLDER as per-symbol
    files and named prices.csv/prices.csv); a folder without it is refused, naming the file, exit 2."""
    _folder, gone, run = moved
    assert main(["verify", str(run), "--data", str(gone)]) == 0
    assert main(["verify", str(run), "--data", str(gone / "prices.csv")]) == 0
    capsys.readouterr()
    empty = run.parent / "empty"
    empty.mkdir()
    assert main(["verify", str(run), "--data", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err == (f"eventbt: error: {empty}: is a folder, but the run read one file, 'prices.csv', and the folder "
                   f"does not hold it (no {empty / 'prices.csv'}); give --data the price file itself, or the "
                   "folder that holds it\n")
    assert "prices.csv/prices.csv" not in err


def test_the_recorded_folder_comes_before_the_log_folder(moved: tuple[Path, Path, Path]) -> None:
    """With the data in both, the recorded folder is taken; with --base-dir only that folder is looked in."""
    folder, gone, run = moved
    header = {"scenario": {"data": {"path": "prices.csv"}}, "environment": {"base_dir": str(folder)}}
    gone.rename(folder)
    (run / "prices.csv").write_text(PRICES)
    assert find_data_folder(header, run / "audit.jsonl") == folder
    assert find_data_folder(header, run / "audit.jsonl", run) == run
    with pytest.raises(DataError, match=r"\(--base-dir\); pass --base-dir DIR"):
        find_data_folder(header, run / "audit.jsonl", run.parent)
    # an actions file is looked for with the prices: a folder holding only the prices is not taken
    header["scenario"]["data"]["corporate_actions"] = "actions.csv"
    (run / "actions.csv").write_text("")
    assert find_data_folder(header, run / "audit.jsonl") == run


def test_report_finds_a_moved_benchmark_with_base_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The scenario's [report] benchmark moved with its data: report stops on it (exit 2) without --base-dir,
    and draws it, with the explorer, given --base-dir (it read the benchmark from the recorded folder only)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "prices.csv").write_text(PRICES)
    (folder / "tiny.toml").write_text(SCENARIO + '[report]\nbenchmark = "prices.csv:AAA"\n')
    run = tmp_path / "run"
    assert main(["run", str(folder / "tiny.toml"), "--out", str(run), "--quiet"]) == 0
    gone = folder.rename(tmp_path / "elsewhere")
    capsys.readouterr()
    assert main(["report", str(run)]) == 2
    assert "benchmark file not found" in capsys.readouterr().err
    assert main(["report", str(run), "--base-dir", str(gone)]) == 0
    assert capsys.readouterr().err == ""
    page = (run / "report.html").read_text()
    assert "No event explorer" not in page and "Benchmark total return" in page
