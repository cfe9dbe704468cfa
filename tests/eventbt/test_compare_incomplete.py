"""`eventbt compare` marks a run that did not complete as `eventbt show` does, on real runs of bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventbt.cli import main

ROOT = Path(__file__).resolve().parents[2]
NEXT_OPEN = ROOT / "scenarios" / "ema_next_open.toml"
CSVDIR = ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A complete run, and a run that failed at its first month end (weights summing to 1.2): complete = false,
    status failed, its partial results written."""
    base = tmp_path_factory.mktemp("compare")
    scenario = base / "sum.toml"
    scenario.write_text(f'[data]\npath = "{CSVDIR.as_posix()}"\nformat = "per_symbol_dir"\n\n[strategy]\n'
                        'name = "static_weights"\n\n[strategy.params]\nweights = { AAPL = 0.6, KO = 0.6 }\n\n'
                        '[schedule]\nrebalance = "monthly"\n')
    assert main(["run", str(NEXT_OPEN), "--out", str(base / "ok"), "--quiet"]) == 0
    assert main(["run", str(scenario), "--out", str(base / "fail"), "--quiet"]) == 2
    return base / "ok", base / "fail"


def test_compare_marks_a_failed_run(folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Plain text: `[INCOMPLETE: fail: failed]` above the table (the run's folder name and its status), as show
    puts `[INCOMPLETE: failed]` in its title; the table itself is unchanged."""
    ok, fail = folders
    assert main(["show", str(fail), "--plain"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("  [INCOMPLETE: failed]")
    assert main(["compare", str(ok), str(fail), "--plain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[INCOMPLETE: fail: failed]"
    assert lines[1].split() == ["metric", "ok", "fail"]



def test_show_and_compare_give_every_figure_as_json(folders: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the figures the tables round (Sortino, Calmar, drawdown dates, turnover, ...) as one JSON
    object at full precision: summary.json's final value and digest read back equal, and compare keys each run's
    object by its folder, the same object show gives."""
    import json

    ok, fail = folders
    summary = json.loads((ok / "summary.json").read_text())
    assert main(["show", str(ok), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["final_value"] == summary["final_value"] and shown["digest"] == summary["digest"]
    tabled_only = {"sortino", "calmar", "annual_turnover", "hit_rate", "max_drawdown_peak", "max_drawdown_trough"}
    assert tabled_only <= set(shown) and not tabled_only & set(summary)
    assert main(["compare", str(ok), str(fail), "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert set(both) == {"ok", "fail"} and both["ok"] == shown
    assert both["fail"]["complete"] is False


def test_runs_in_folders_of_the_same_name_get_labels_that_tell_them_apart(
        folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """x/run and y/run (copies of the ok and failed runs) were both labelled `run`: the JSON object, keyed by
    label, kept only the second run and the table had two columns headed `run`. Each gets the last path parts
    that tell it apart; `.` is the current folder's name; a folder given twice is numbered."""
    import json
    import shutil

    from eventbt.paths import run_labels

    ok, fail = folders
    shutil.copytree(ok, tmp_path / "x" / "run")
    shutil.copytree(fail, tmp_path / "y" / "run")
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "x/run", "y/run", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert set(both) == {"x/run", "y/run"}
    assert both["x/run"]["final_value"] == json.loads((ok / "summary.json").read_text())["final_value"]
    assert both["y/run"]["complete"] is False
    assert main(["compare", "x/run", "y/run", "--plain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[INCOMPLETE: y/run: failed]" and lines[1].split() == ["metric", "x/run", "y/run"]
    assert run_labels(["x/run", "y/run", "x/run/"]) == ["x/run", "y/run", "x/run (2)"]
    monkeypatch.chdir(tmp_path / "x" / "run")
    assert run_labels([".", "../../y/run"]) == ["x/run", "y/run"]
    assert run_labels([".", str(fail)]) == ["run", fail.name]
