"""Untrusted files: replaying a received audit log imports none of the code it names without --trust, and
`python -m eventbt` does not import from the working folder unless asked."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

import eventbt
from eventbt.errors import AuditError, PluginError
from eventbt.replays.replayer import compare_logs, replay
from eventbt.scenario import ScenarioConfig
from eventbt.scenario.plugins import imports_refused, resolve_import_path
from tests.eventbt.debug_fixtures import write_tiny

ROOT = Path(__file__).resolve().parents[2]
_NUMBERS = itertools.count()

# User code: importing it leaves imported.txt beside it, so a test can tell whether it was imported (run).
USER_CODE = '''
from pathlib import Path
Path(__file__).with_name("imported.txt").write_text("imported")

from eventbt.costs.commission import FixedCommission
from eventbt.costs.slippage import FixedBpsSlippage
from handlers.execution import ExecutionHandler
from handlers.fees import StampDuty
from strategies.static_weights import StaticWeights


class Commission(FixedCommission):
    pass


class Slippage(FixedBpsSlippage):
    pass


class Strategy(StaticWeights):
    pass


class Fee(StampDuty):
    pass


class Execution(ExecutionHandler):
    pass
'''


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A module of user code on sys.path (a fresh name each time) and the tiny scenario beside it."""
    name = f"user_code_{os.getpid()}_{next(_NUMBERS)}"
    code = tmp_path / "code"
    code.mkdir()
    (code / f"{name}.py").write_text(USER_CODE)
    monkeypatch.syspath_prepend(str(code))
    folder = tmp_path / "sc"
    folder.mkdir()
    scenario = write_tiny(folder)
    yield {"module": name, "sentinel": code / "imported.txt", "scenario": scenario, "root": tmp_path}
    sys.modules.pop(name, None)


def _forget(user: dict[str, object]) -> None:
    """As on a machine that never ran the code: not imported, no sentinel."""
    sys.modules.pop(str(user["module"]), None)
    Path(str(user["sentinel"])).unlink(missing_ok=True)


def _record(user: dict[str, object], where: str) -> tuple[Path, str]:
    """Record a run of the tiny scenario that names the user's code at ``where``; the log and the reference."""
    module, scenario, root = str(user["module"]), Path(str(user["scenario"])), Path(str(user["root"]))
    log = root / "log.jsonl"
    overrides = {"execution.commission": [f"execution.commission.model={module}:Commission",
                                          "execution.commission.amount=1.0"],
                 "execution.slippage": [f"execution.slippage.model={module}:Slippage", "execution.slippage.bps=0"],
                 "strategy": [f"strategy.name={module}:Strategy"]}.get(where, [])
    stages = {}
    if where == "handlers[0]":
        text = scenario.read_text() + f'[[handlers]]\nname = "{module}:Fee"\n[handlers.params]\nrate = 0.001\n'
        scenario.write_text(text)
        reference = f"{module}:Fee"
    elif where == "stages.execution":
        stages = {"execution": f"{module}:Execution"}
        reference = f"{module}:Execution"
    else:
        reference = overrides[0].partition("=")[2] if overrides else ""
    config = ScenarioConfig.from_toml(scenario, overrides)
    eventbt.Simulation(config, audit_path=log, stages=stages).run()
    return log, reference


WHERE = ["strategy", "execution.commission", "execution.slippage", "handlers[0]", "stages.execution"]


@pytest.mark.parametrize("where", WHERE)
def test_a_log_naming_outside_code_is_refused_without_trust_and_nothing_is_imported(
        user: dict[str, object], where: str) -> None:
    """Replaying a log whose header names user code: an AuditError listing the import, the module never
    imported; with trust=True it replays identically (and the code runs)."""
    log, reference = _record(user, where)
    _forget(user)
    with pytest.raises(AuditError) as caught:
        replay(log)
    assert str(caught.value) == (
        f"{log}: names code that replaying it would import and run: {where} {reference!r}; replay a log from "
        "someone else only if you trust it, with --trust (eventbt.replay(..., trust=True))")
    assert not Path(str(user["sentinel"])).exists() and str(user["module"]) not in sys.modules
    report = replay(log, trust=True)
    assert report.identical and Path(str(user["sentinel"])).exists()


def test_the_command_line_refuses_in_one_line_and_replays_with_trust(user: dict[str, object]) -> None:
    """`eventbt replay LOG`: exit 2, one line naming the import; `--trust`: exit 0, identical."""
    log, reference = _record(user, "execution.commission")
    _forget(user)
    env = {**os.environ, "PYTHONPATH": str(Path(str(user["sentinel"])).parent)}
    command = [sys.executable, "-m", "eventbt", "replay", str(log)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"eventbt: error: {log}: names code that replaying it would import and run: execution.commission "
        f"{reference!r}; replay a log from someone else only if you trust it, with --trust "
        "(eventbt.replay(..., trust=True))"]
    assert not Path(str(user["sentinel"])).exists()
    trusted = subprocess.run([*command, "--trust"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith("identical: ")


def test_what_the_user_gives_needs_no_trust(user: dict[str, object]) -> None:
    """A --handler the user names, or --set replacing the log's outside model by a built-in, needs no --trust;
    the report lists the replaced stage and says why the digests differ when the events agree."""
    log, _ = _record(user, "none")
    report = replay(log, handlers={"execution": f"{user['module']}:Execution"})
    assert report.identical
    assert report.changes == (f"stage execution: (built-in) -> {user['module']}:Execution",)
    recorded, new = report.recorded_outcome["digest"], report.new_outcome["digest"]
    assert recorded != new
    assert report.format().splitlines()[-1] == (
        f"identical: {report.new_outcome['events']:,} event records agree; the headers differ, so the digests do: "
        f"recorded {recorded}, new {new}")
    foreign, _ = _record(user, "execution.commission")
    _forget(user)
    what_if = replay(foreign, overrides=["execution.commission.model=fixed", "execution.commission.amount=1.0"])
    assert what_if.identical  # the user's Commission is a FixedCommission: the same fills
    assert not Path(str(user["sentinel"])).exists()


def test_inside_imports_refused_only_eventbts_own_modules_import(user: dict[str, object]) -> None:
    """The guard at the one place imports happen: user code is refused (not imported), eventbt's own is not."""
    _forget(user)
    with imports_refused("not trusted"):
        with pytest.raises(PluginError, match=f"not trusted: it would import '{user['module']}:Commission'"):
            resolve_import_path(f"{user['module']}:Commission")
        assert resolve_import_path("eventbt.costs.commission:FixedCommission").__name__ == "FixedCommission"
    assert not Path(str(user["sentinel"])).exists()
    with imports_refused("not trusted", allow=[f"{user['module']}:Commission"]):
        assert resolve_import_path(f"{user['module']}:Commission").__name__ == "Commission"


def test_a_replay_writes_no_audit_file_whatever_the_log_says(user: dict[str, object]) -> None:
    """A log whose scenario has an [audit] path is replayed with its new log in memory: no file appears."""
    scenario = Path(str(user["scenario"]))
    eventbt.run(scenario, overrides=["audit.path=recorded.jsonl"])
    log = Path(str(user["root"])) / "received.jsonl"
    (scenario.parent / "recorded.jsonl").rename(log)
    assert replay(log, base_dir=scenario.parent).identical
    assert not (scenario.parent / "recorded.jsonl").exists()


def test_a_changed_data_file_is_one_short_line() -> None:
    """Two headers differing in one data file's hash: one note naming that file, hashes shortened."""
    a = {"record": "header", "scenario": {}, "data_files": {"a.csv": "1" * 64, "b.csv": "2" * 64}}
    b = {**a, "data_files": {"a.csv": "1" * 64, "b.csv": "3" * 64}}
    footer = {"record": "footer", "status": "completed", "digest": "x"}
    report = compare_logs([a, footer], [b, footer])
    assert report.notes == ("data file b.csv differs: sha256 222222222222... (recorded) -> sha256 333333333333... "
                            "(new)",)


@pytest.mark.parametrize("module", ["eventbt", "eventbt.cli"])
def test_python_m_does_not_import_from_the_working_folder_unless_asked(tmp_path: Path, module: str) -> None:
    """`python -m eventbt run` in a folder holding the module a scenario names: not imported (a hint says
    why); PYTHONPATH=. or EVENTBT_IMPORT_CWD=1 ask for the working folder."""
    (tmp_path / "local_costs.py").write_text(USER_CODE)
    write_tiny(tmp_path)
    command = [sys.executable, "-m", module, "run", "tiny.toml", "--quiet",
               "--set", "execution.commission.model=local_costs:Commission", "--set", "execution.commission.amount=1"]
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "EVENTBT_IMPORT_CWD")}
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1:] == [  # after the data warning of the tiny prices' jump
        "eventbt: error: tiny.toml (--set execution.commission.model=local_costs:Commission): [execution.commission] "
        "cannot import 'local_costs:Commission': no module named "
        "'local_costs' (the working folder holds local_costs.py, but it is not on the import path: set "
        "PYTHONPATH=. to import from it, see docs/scenarios.md)"]
    assert not (tmp_path / "imported.txt").exists()
    for asked in ({"PYTHONPATH": "."}, {"EVENTBT_IMPORT_CWD": "1"}):
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env={**env, **asked})
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "imported.txt").read_text() == "imported"
        (tmp_path / "imported.txt").unlink()
