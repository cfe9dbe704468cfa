"""Where a run writes: [audit] path and the run folder stay where they belong and never destroy a user's file,
in every entry point (`eventbt run`, `eventbt.run`, `Simulation`); result files get the umask's mode."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import eventbt
from eventbt.errors import OutputError, ScenarioError
from eventbt.replays.verify import verify_run
from eventbt.report import write_report
from eventbt.results.files import LATER_FILES, RUN_MARKER, RunFolder
from tests.eventbt.debug_fixtures import write_tiny

ROOT = Path(__file__).resolve().parents[2]
RUN_FILES = {"audit.jsonl", "equity.csv", "trades.csv", "weights.csv", "signals.csv", "summary.json",
             "scenario.toml", RUN_MARKER}


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """A scenario folder (tiny.toml and its prices) beside a victim file a hostile path aims at."""
    scenarios = tmp_path / "sc"
    scenarios.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file\n")
    return {"scenario": write_tiny(scenarios), "victim": victim, "out": tmp_path / "out", "root": tmp_path}


def _cli(scenario: Path, out: Path | None, overrides: list[str]) -> None:
    """`python -m eventbt run` in a subprocess; exit 2 with one error line is raised as that line."""
    argv = ["run", str(scenario), "--quiet", *(["--out", str(out)] if out else [])]
    for override in overrides:
        argv += ["--set", override]
    done = subprocess.run([sys.executable, "-m", "eventbt", *argv], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("eventbt: error: "), done.stderr
        raise ScenarioError(lines[0].removeprefix("eventbt: error: "))


def _api(scenario: Path, out: Path | None, overrides: list[str]) -> None:
    eventbt.run(scenario, out=out, overrides=overrides)


def _simulation(scenario: Path, out: Path | None, overrides: list[str]) -> None:
    eventbt.Simulation.from_scenario(scenario, overrides).run()


ENTRIES: list[tuple[str, Callable[[Path, Path | None, list[str]], None], bool]] = [
    ("eventbt run --out", _cli, True), ("eventbt run", _cli, False), ("eventbt.run(out=)", _api, True),
    ("eventbt.run()", _api, False), ("Simulation", _simulation, False),
]


@pytest.mark.parametrize("audit_path", ["../victim.txt", "logs/../../victim.txt", "ABSOLUTE"])
@pytest.mark.parametrize(("entry", "call", "with_out"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_an_audit_path_leaving_its_folder_is_refused_before_anything_is_written(
        place: dict[str, Path], entry: str, call: Callable[[Path, Path | None, list[str]], None], with_out: bool,
        audit_path: str) -> None:
    """`[audit] path` outside --out (or the scenario's folder): a one-line ScenarioError, the victim intact, no
    run folder made. (--out is root/out and the scenario is in root/sc: `..` from either is the victim's folder.)"""
    text = str(place["victim"]) if audit_path == "ABSOLUTE" else audit_path
    with pytest.raises(ScenarioError) as caught:
        call(place["scenario"], place["out"] if with_out else None, [f"audit.path={text}"])
    message = str(caught.value)
    assert "[audit] path" in message and ("leaves" in message or "absolute path" in message), message
    assert "\n" not in message
    assert place["victim"].read_text() == "the user's file\n"
    assert not place["out"].exists()
    assert sorted(p.name for p in place["scenario"].parent.iterdir()) == ["prices.csv", "tiny.toml"]


@pytest.mark.parametrize("name", ["tiny.toml", "prices.csv", "."])
def test_an_audit_path_on_the_users_own_file_is_refused(place: dict[str, Path], name: str) -> None:
    """Without --out, `[audit] path` naming the scenario, its data or the folder itself is refused; both intact."""
    before = {p.name: p.read_bytes() for p in place["scenario"].parent.iterdir()}
    with pytest.raises(ScenarioError, match=r"\[audit\] path '.*' (is a file that is not an eventbt audit log|names)"):
        eventbt.run(place["scenario"], overrides=[f"audit.path={name}"])
    assert {p.name: p.read_bytes() for p in place["scenario"].parent.iterdir()} == before


def test_an_audit_path_through_a_symbolic_link_out_of_the_folder_is_refused(place: dict[str, Path]) -> None:
    """A link inside the scenario's folder to a folder outside it does not carry the log out."""
    (place["scenario"].parent / "logs").symlink_to(place["root"], target_is_directory=True)
    with pytest.raises(ScenarioError, match="leads out of the scenario's folder"):
        eventbt.run(place["scenario"], overrides=["audit.path=logs/victim.txt"])
    assert place["victim"].read_text() == "the user's file\n"


@pytest.mark.parametrize(("entry", "call", "with_out"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_an_audit_path_inside_is_followed_by_every_entry_point(
        place: dict[str, Path], entry: str, call: Callable[[Path, Path | None, list[str]], None],
        with_out: bool) -> None:
    """`[audit] path` is taken in the run folder (with --out, which also gets audit.jsonl) or the scenario's."""
    call(place["scenario"], place["out"] if with_out else None, ["audit.path=logs/run.jsonl"])
    folder = place["out"] if with_out else place["scenario"].parent
    log = (folder / "logs" / "run.jsonl").read_text()
    assert json.loads(log.splitlines()[0])["bars"] == 3 and '"status":"completed"' in log.splitlines()[-1]
    if with_out:
        assert (folder / "audit.jsonl").read_text() == log
        assert json.loads((folder / RUN_MARKER).read_text())["files"] == sorted([*RUN_FILES - {RUN_MARKER},
                                                                                  "logs/run.jsonl"])


def test_an_audit_path_naming_a_run_file_is_refused(place: dict[str, Path]) -> None:
    """With --out, `[audit] path` may not be one of the run's other files (it would be overwritten)."""
    with pytest.raises(ScenarioError, match="is one of the run's other files"):
        eventbt.run(place["scenario"], out=place["out"], overrides=["audit.path=summary.json"])
    assert not place["out"].exists()


def test_out_into_the_scenarios_own_folder_is_refused(place: dict[str, Path]) -> None:
    """`eventbt run tiny.toml --out .` in the scenario's folder: exit 2, one line, the scenario untouched."""
    folder = place["scenario"].parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    done = subprocess.run([sys.executable, "-m", "eventbt", "run", "tiny.toml", "--out", ".", "--quiet"],
                          capture_output=True, text=True, cwd=folder)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "eventbt: error: .: holds files that are not an eventbt run (prices.csv, tiny.toml); a run writes only into a "
        "new folder, an empty one, or the folder of an earlier run (one with eventbt-run.json): pick another folder"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    with pytest.raises(OutputError, match="holds files that are not an eventbt run"):
        eventbt.run(place["scenario"], out=folder)
    result = eventbt.run(place["scenario"])
    with pytest.raises(OutputError, match="holds files that are not an eventbt run"):
        result.write(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize(("add", "listed"), [
    (lambda out: (out / "notes.txt").write_text("mine\n"), "notes.txt"),
    (lambda out: (out / "mine").mkdir(), "mine/"),
    (lambda out: (out / "plots").mkdir() or (out / "plots" / "a.png").write_text("mine\n"), "plots/a.png"),
])
def test_a_run_folder_holding_a_users_file_is_refused(place: dict[str, Path], add: Callable[[Path], object],
                                                      listed: str) -> None:
    """What the user added to a run folder (a note, a folder) would go with the old run: refused, kept."""
    eventbt.run(place["scenario"], out=place["out"])
    add(place["out"])
    before = sorted(p.relative_to(place["out"]).as_posix() for p in place["out"].rglob("*"))
    with pytest.raises(OutputError, match=rf"holds an earlier run and files it did not write \({listed}\)"):
        eventbt.run(place["scenario"], out=place["out"])
    assert sorted(p.relative_to(place["out"]).as_posix() for p in place["out"].rglob("*")) == before


def test_a_crowded_folder_is_refused_without_walking_all_of_it(place: dict[str, Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--out on a folder of 30 subfolders of 100 files each (3,000 files): refused after looking at about 1,000
    of them, so `--out /` answers at once. Counted by hand: the walk visits the folder itself and then
    subfolders of 100 files each, so more than 1,000 files are found in the 11th subfolder; 12 folders at most."""
    import eventbt.results.files as files

    crowded = place["root"] / "crowded"
    for index in range(30):
        (crowded / f"d{index:02}").mkdir(parents=True)
        for number in range(100):
            (crowded / f"d{index:02}" / f"f{number:03}").write_text("")
    visited: list[str] = []
    walk = os.walk

    def counting_walk(top: Path) -> object:
        for step in walk(top):
            visited.append(step[0])
            yield step

    monkeypatch.setattr(files.os, "walk", counting_walk)
    with pytest.raises(OutputError) as caught:
        RunFolder.open(crowded)
    assert len(visited) <= 12
    assert str(caught.value).startswith(f"{crowded}: holds files that are not an eventbt run (d00/f000, d00/f001, "
                                        "d00/f002 and more); a run writes only into a new folder")


def test_a_folder_on_another_file_system_is_listed_not_entered(place: dict[str, Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A subfolder on another file system (as /proc is under /) is named as a folder and never walked: here
    `mnt` is made to look mounted, and its 5 files are not listed (the message has the 2 entries there are)."""
    import eventbt.results.files as files

    folder = place["root"] / "top"
    (folder / "mnt").mkdir(parents=True)
    for number in range(5):
        (folder / "mnt" / f"f{number}").write_text("")
    (folder / "notes.txt").write_text("mine")
    monkeypatch.setattr(files, "_elsewhere", lambda path, device: path.name == "mnt")
    with pytest.raises(OutputError, match=r"holds files that are not an eventbt run \(mnt/, notes.txt\); "):
        RunFolder.open(folder)


def test_a_rerun_replaces_the_earlier_run_whole(place: dict[str, Path]) -> None:
    """Running into a run folder that has a report: the new run's files only, no stale report, nothing left
    beside the folder, and the folder verifies; the Result's audit log follows the folder."""
    from eventbt.report import write_report

    out = place["out"]
    eventbt.run(place["scenario"], out=out)
    write_report(out)
    first = json.loads((out / "summary.json").read_text())
    result = eventbt.run(place["scenario"], out=out, overrides=["portfolio.initial_cash=2000"])
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    summary = json.loads((out / "summary.json").read_text())
    assert (first["initial_cash"], summary["initial_cash"]) == (1000.0, 2000.0)
    assert summary["digest"] == result.digest != first["digest"]
    assert sorted(p.name for p in place["root"].iterdir()) == ["out", "sc", "victim.txt"]
    assert verify_run(out).ok
    assert result.audit.records()[-1]["digest"] == result.digest


@pytest.mark.parametrize(("make", "message"), [
    (lambda root: (root / "file.txt").write_text("x") and root / "file.txt",
     "file.txt: is a file; a run writes its files into a folder: a new one, an empty one, or the folder of an "
     "earlier run"),
    (lambda root: (root / "file.txt").write_text("x") and root / "file.txt" / "run",
     "file.txt/run: cannot create the folder: Not a directory"),
])
def test_out_on_a_file_or_where_nothing_can_be_written_is_one_line(place: dict[str, Path],
                                                                 make: Callable[[Path], Path], message: str) -> None:
    """--out naming a file, or below one: exit 2 with one line; from Python an OutputError (an OSError)."""
    target = make(place["root"])
    done = subprocess.run([sys.executable, "-m", "eventbt", "run", str(place["scenario"]), "--out", str(target),
                           "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.replace(str(place["root"]) + "/", "") == f"eventbt: error: {message}\n"
    with pytest.raises(OSError) as caught:
        eventbt.run(place["scenario"], out=target)
    assert isinstance(caught.value, OutputError)
    assert (place["root"] / "file.txt").read_text() == "x"


def test_a_folder_that_cannot_be_claimed_leaves_nothing_behind(place: dict[str, Path]) -> None:
    """A run that fails before it starts (a bad cost model) removes the run folder it had created."""
    with pytest.raises(ScenarioError):
        eventbt.run(place["scenario"], out=place["out"], overrides=["execution.commission.model=nope:X"])
    assert not place["out"].exists()
    folder = RunFolder.open(place["out"])
    assert sorted(p.name for p in place["out"].iterdir()) == [RUN_MARKER]
    folder.abandon()
    assert not place["out"].exists()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_result_files_get_the_mode_a_plain_open_gives(place: dict[str, Path], umask: int) -> None:
    """Every file of the run folder, the report and a plain open's file share one mode: 0o666 less the umask."""
    from eventbt.report import write_report

    previous = os.umask(umask)
    try:
        eventbt.run(place["scenario"], out=place["out"])
        write_report(place["out"])
        plain = place["root"] / "plain.txt"
        with plain.open("w") as handle:
            handle.write("x")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in place["out"].iterdir()}
    assert modes == dict.fromkeys([*RUN_FILES, "report.html"], 0o666 & ~umask)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask


def test_the_report_pngs_are_files_a_run_folder_may_hold() -> None:
    """The PNG names `eventbt report --png` writes are among the files a re-run replaces with the run."""
    from eventbt.report.png import PNG_NAMES

    assert set(PNG_NAMES) <= set(LATER_FILES)


@pytest.mark.parametrize(("audit_path", "message"), [
    ('"a\\u0000b.jsonl"', "[audit] path 'a\\x00b.jsonl' holds a control character; expected a plain file name"),
    ('"' + "x" * 300 + '.jsonl"', "cannot be used: File name too long"),
])
def test_an_audit_path_the_file_system_cannot_take_is_one_line(place: dict[str, Path], audit_path: str,
                                                                message: str) -> None:
    """A NUL in `[audit] path`, or a name too long for the file system: exit 2 with one line, no traceback."""
    scenario = place["scenario"]
    scenario.write_text(scenario.read_text() + f"[audit]\npath = {audit_path}\n")
    done = subprocess.run([sys.executable, "-m", "eventbt", "run", str(scenario), "--quiet"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_any_other_file_error_of_a_command_is_one_line(place: dict[str, Path]) -> None:
    """A file error no check foresaw (here: `eventbt report --out` inside a file) is one line naming it, exit 2."""
    eventbt.run(place["scenario"], out=place["out"])
    target = place["victim"] / "report.html"
    done = subprocess.run([sys.executable, "-m", "eventbt", "report", str(place["out"]), "--out", str(target)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("eventbt: error: ")
    assert str(place["victim"]) in done.stderr


@pytest.mark.parametrize(("make", "message"), [
    (lambda folder: folder.write_text("x"), "is a file; a sweep writes its files into a folder"),
    (lambda folder: folder.mkdir() or (folder / "results.csv").write_text("x"),
     "holds results.csv, which this sweep would overwrite; pick another --out"),
])
def test_a_sweep_never_overwrites_a_users_file(place: dict[str, Path], make: Callable[[Path], object],
                                               message: str) -> None:
    """A sweep's --out naming a file, or a folder holding a file of a name the sweep writes: refused, intact."""
    from eventbt.errors import SweepError
    from eventbt.sweeps.executors import SerialExecutor
    from eventbt.sweeps.grid import sweep

    target = place["root"] / "sweep"
    make(target)
    with pytest.raises(SweepError, match=message):
        sweep(place["scenario"], ["portfolio.initial_cash=1000,2000"], executor=SerialExecutor(), out=target)
    assert (target.read_text() if target.is_file() else (target / "results.csv").read_text()) == "x"


def _report_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m eventbt` with ``argv`` in a subprocess (output captured)."""
    return subprocess.run([sys.executable, "-m", "eventbt", *argv], capture_output=True, text=True, cwd=ROOT,
                          check=False)


def test_audit_export_never_overwrites_a_users_file(place: dict[str, Path]) -> None:
    """`audit export --to` naming a user's file, a run's own trades.csv or a folder stops with one line and
    leaves the file byte for byte; an export written there before (CSV or Parquet) is replaced."""
    run_dir = place["root"] / "run"
    eventbt.run(place["scenario"], out=run_dir)
    mine = place["root"] / "prices.csv"
    mine.write_text("date,AAA\n2021-01-04,10\n")
    trades = (run_dir / "trades.csv").read_bytes()
    (place["root"] / "events.csv").mkdir()
    refused = {
        str(mine): f"{mine}: exists and is not an export eventbt wrote; --to never overwrites another "
                   "file (remove it or name another)",
        str(run_dir / "trades.csv"): f"{run_dir / 'trades.csv'}: exists and is not an export eventbt wrote; --to "
                                     "never overwrites another file (remove it or name another)",
        str(place["root"] / "events.csv"): f"{place['root'] / 'events.csv'}: is a folder; --to names the .csv or "
                                           ".parquet file to write",
    }
    for target, message in refused.items():
        done = _report_cli("audit", "export", str(run_dir), "--to", target)
        assert (done.returncode, done.stderr.strip()) == (2, f"eventbt: error: {message}")
    assert mine.read_text() == "date,AAA\n2021-01-04,10\n"
    assert (run_dir / "trades.csv").read_bytes() == trades and verify_run(run_dir).ok
    for name in ("again.csv", "again.parquet"):
        for _ in range(2):  # the second time over the first one's export
            done = _report_cli("audit", "export", str(run_dir), "--to", str(place["root"] / name))
            assert done.returncode == 0, done.stderr


def test_report_pngs_never_overwrite_a_users_file(place: dict[str, Path]) -> None:
    """`report --png DIR` with a file of a chart's name that eventbt did not write stops with one line before
    anything is written; charts eventbt wrote there before, and the charts in a run's own folder, are replaced."""
    pytest.importorskip("matplotlib")
    run_dir = place["root"] / "run"
    eventbt.run(place["scenario"], out=run_dir)
    charts = place["root"] / "charts"
    charts.mkdir()
    (charts / "equity.png").write_text("hi\n")
    done = _report_cli("report", str(run_dir), "--no-explorer", "--png", str(charts))
    assert (done.returncode, done.stderr.strip()) == (
        2, f"eventbt: error: {charts / 'equity.png'}: exists and was not written by eventbt; --png never overwrites "
           "another file (remove it or name another folder)")
    assert (charts / "equity.png").read_text() == "hi\n" and not (run_dir / "report.html").exists()
    (charts / "equity.png").unlink()
    for folder in (charts, charts, run_dir):  # a new folder's charts, then over them, then in the run's folder
        done = _report_cli("report", str(run_dir), "--no-explorer", "--png", str(folder))
        assert done.returncode == 0, done.stderr
    assert (charts / "equity.png").read_bytes().startswith(b"\x89PNG")


def test_report_and_diff_pages_never_overwrite_a_users_file(place: dict[str, Path]) -> None:
    """`report --out` and `diff --html` naming a file eventbt did not write (or a folder) stop with one line and
    leave it alone; a page eventbt wrote there before is replaced."""
    run_dir = place["root"] / "run"
    eventbt.run(place["scenario"], out=run_dir)
    mine = place["victim"]
    refused = {
        ("report", str(run_dir), "--no-explorer", "--out", str(mine)):
            f"eventbt: error: {mine}: exists and was not written by eventbt; --out never overwrites another file "
            "(remove it or name another)",
        ("report", str(run_dir), "--no-explorer", "--out", str(place["root"])):
            f"eventbt: error: {place['root']}: is a folder; --out names the HTML file to write",
        ("diff", str(run_dir), str(run_dir), "--html", str(mine)):
            f"eventbt: error: {mine}: exists and was not written by eventbt; --html never overwrites another "
            "file (remove it or name another)",
    }
    for argv, message in refused.items():
        done = _report_cli(*argv)
        assert (done.returncode, done.stderr.strip()) == (2, message)
    assert mine.read_text() == "the user's file\n"
    page = place["root"] / "page.html"
    for _ in range(2):  # the second time over the first one's page
        done = _report_cli("report", str(run_dir), "--no-explorer", "--out", str(page))
        assert done.returncode == 0, done.stderr
    with pytest.raises(OutputError, match="was not written by eventbt"):
        write_report(run_dir, mine, explorer=False)
