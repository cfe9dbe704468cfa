"""Tests for eventbt.replays.replayer: replaying audit logs, what-if runs, changed data, tampered logs, diff."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import orjson
import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.errors import AuditError, DataError, ScenarioError
from eventbt.replays.divergence import event_records, first_divergence, outcome
from eventbt.replays.replayer import compare_logs, load_log, replay

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

SMALL = """\
[scenario]
name = "small"

[data]
path = "data/prices.csv"
format = "wide"

[portfolio]
initial_cash = 10_000.0

[strategy]
name = "equal_weight"

[schedule]
every_n_bars = 5

[execution.commission]
model = "fixed"
amount = 1.0
"""


def _small(tmp_path: Path) -> Path:
    """A 3-symbol, 20-bar scenario in tmp_path/scenario/ (data in scenario/data/prices.csv)."""
    folder = tmp_path / "scenario"
    (folder / "data").mkdir(parents=True)
    rows = ["date,AAA,BBB,CCC"]
    for day in range(20):
        rows.append(f"2021-01-{day + 4:02d},{10 + day * 0.5},{20 - day * 0.25},{30 + (day % 3)}")
    (folder / "data" / "prices.csv").write_text("\n".join(rows) + "\n")
    (folder / "small.toml").write_text(SMALL)
    return folder / "small.toml"


def _record(scenario: Path, out: Path, overrides: tuple[str, ...] = ()) -> Path:
    eventbt.run(scenario, overrides=overrides, out=out)
    return out / "audit.jsonl"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_replay_of_each_bundled_scenario_reproduces_its_digest(scenario: Path, tmp_path: Path) -> None:
    """Replaying a bundled scenario's audit log gives identical events and the recorded digest."""
    log = _record(scenario, tmp_path / "run")
    report = replay(log)
    assert report.identical and report.exit_code == 0
    assert report.divergence is None
    assert report.new_outcome["digest"] == read_audit(log)[-1]["digest"]
    assert "identical" in report.format()


def test_what_if_commission_diverges_at_the_first_fill_with_commission_marked(tmp_path: Path) -> None:
    """A changed commission model diverges at the first FillEvent, only its commission differing."""
    log = _record(_small(tmp_path), tmp_path / "run")
    report = replay(log, overrides=["execution.commission.model=percentage", "execution.commission.rate=0.002"])
    assert not report.identical and report.exit_code == 1
    recorded = event_records(read_audit(log))
    first_fill = next(i for i, r in enumerate(recorded) if r.get("type") == "FillEvent")
    divergence = report.divergence
    assert divergence is not None
    assert divergence.index == first_fill
    assert divergence.event_type == "FillEvent"
    assert divergence.fields == ("data.commission",)
    assert divergence.recorded is not None and divergence.new is not None
    # fixed 1.00 per order before; 0.2% of the traded value after.
    fill = divergence.new["data"]
    assert divergence.recorded["data"]["commission"] == 1.0
    assert fill["commission"] == pytest.approx(0.002 * fill["quantity"] * fill["price"])
    assert [r["type"] for r in divergence.recorded_chain] == ["FillEvent", "OrderEvent", "SignalEvent",
                                                               "MarketEvent"]
    assert "execution.commission.model: fixed -> percentage" in report.changes
    text = report.format()
    assert "* data.commission" in text and "  data.quantity" in text


def test_what_if_strategy_parameter_diverges_at_the_first_differing_signal(tmp_path: Path) -> None:
    """top_n 2 -> 1 on the 4-stock data diverges first at a SignalEvent whose weights differ."""
    log = _record(ROOT / "scenarios" / "ema_next_open.toml", tmp_path / "run")
    report = replay(log, overrides=["strategy.params.top_n=1"])
    divergence = report.divergence
    assert divergence is not None and divergence.event_type == "SignalEvent"
    assert divergence.fields and all(field.startswith("data.weights.") for field in divergence.fields)
    recorded = event_records(read_audit(log))
    earlier_signals = [r for r in recorded[: divergence.index] if r.get("type") == "SignalEvent"]
    assert all(len(r["data"]["weights"]) <= 1 for r in earlier_signals)  # those top_n=1 could not change


def test_modified_data_file_is_detected_by_hash(tmp_path: Path) -> None:
    """A data file edited after the run stops the replay, naming the file, unless changed data is allowed."""
    scenario = _small(tmp_path)
    log = _record(scenario, tmp_path / "run")
    data = scenario.parent / "data" / "prices.csv"
    data.write_text(data.read_text().replace("2021-01-10,13.0", "2021-01-10,13.5"))
    with pytest.raises(DataError, match=r"^data/prices\.csv: changed since the run was recorded") as caught:
        replay(log)
    assert caught.value.path == "data/prices.csv"
    report = replay(log, allow_changed_data=True)
    # One note for the file (there were two: 'changed since the run was recorded (allowed)', then 'differs').
    assert [note for note in report.notes if "data/prices.csv" in note] == [
        "data file data/prices.csv differs: sha256 " f"{caught.value.args[0].split('sha256 ')[1][:12]}... (recorded) "
        f"-> sha256 {hashlib.sha256(data.read_bytes()).hexdigest()[:12]}... (new)"]


def test_tampered_audit_log_is_reported(tmp_path: Path) -> None:
    """Editing one line of a log (a fill's quantity) is caught by the digest check before any replay."""
    log = _record(_small(tmp_path), tmp_path / "run")
    lines = log.read_bytes().splitlines()
    index = next(i for i, line in enumerate(lines) if b'"FillEvent"' in line)
    record = orjson.loads(lines[index])
    record["data"]["quantity"] += 1
    lines[index] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    log.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(AuditError, match=r"digest mismatch: .* the log was modified after it was written"):
        replay(log)


@pytest.mark.parametrize("given", ["changed file", "--data file"])
def test_data_that_breaks_a_check_stops_the_replay_with_that_check(tmp_path: Path, given: str) -> None:
    """Prices with a negative close (BBB on 2021-01-05, the 2nd data row), in the run's own file changed since
    (allowed) or given with --data, stop the replay with the price check's error, before any hash is compared."""
    log = _record(_small(tmp_path), tmp_path / "run")
    prices = tmp_path / "scenario" / "data" / "prices.csv"
    lines = prices.read_text().splitlines()
    assert lines[2].startswith("2021-01-05,10.5,19.75,")
    broken = "\n".join([*lines[:2], "2021-01-05,10.5,-1.0,31", *lines[3:]]) + "\n"
    target = prices if given == "changed file" else tmp_path / "other.csv"
    target.write_text(broken)
    data_path = None if given == "changed file" else target
    with pytest.raises(DataError) as info:
        replay(log, allow_changed_data=True, data_path=data_path)
    # the file given with --data is named as the file read (its message named only the scenario's data path)
    read = "" if data_path is None else f" (read from {data_path}, given in place of the scenario's data path)"
    assert str(info.value).endswith("close for 'BBB' on 2021-01-05 (row 2) is -1.0; expected a positive price or "
                                    "empty" + read)
    with pytest.raises(DataError, match="expected a positive price"):  # not 'changed since the run was recorded'
        replay(log, data_path=data_path)


def test_replay_finds_data_next_to_a_moved_scenario_with_base_dir(tmp_path: Path) -> None:
    """With the scenario folder moved away, --base-dir points the replay at the data's new home."""
    scenario = _small(tmp_path)
    log = _record(scenario, tmp_path / "run")
    moved = tmp_path / "elsewhere"
    shutil.move(scenario.parent, moved)
    with pytest.raises(DataError, match="pass --base-dir"):
        replay(log)
    assert replay(log, base_dir=moved).identical


def test_bad_override_in_a_what_if_is_a_scenario_error(tmp_path: Path) -> None:
    """A what-if override is checked like the file: a wrong type names the override."""
    log = _record(_small(tmp_path), tmp_path / "run")
    with pytest.raises(ScenarioError, match=r"--set portfolio.initial_cash=lots.*must be a number"):
        replay(log, overrides=["portfolio.initial_cash=lots"])


def test_diff_of_two_run_folders_reports_the_first_divergence(tmp_path: Path) -> None:
    """compare_logs on two finished runs (what `eventbt diff` does) finds the changed commission."""
    scenario = _small(tmp_path)
    _record(scenario, tmp_path / "a")
    _record(scenario, tmp_path / "b", ("execution.commission.amount=2.0",))
    report = compare_logs(load_log(tmp_path / "a"), load_log(tmp_path / "b"), labels=("A", "B"))
    assert report.divergence is not None and report.divergence.fields == ("data.commission",)
    assert compare_logs(load_log(tmp_path / "a"), load_log(tmp_path / "a")).identical


def test_outcome_sums_fills_from_records() -> None:
    """outcome() counts fills and sums their costs; the final value is the last snapshot's."""
    records = [
        {"record": "publish", "type": "FillEvent", "data": {"commission": 1.5, "slippage": 0.25}},
        {"record": "publish", "type": "SnapshotEvent", "data": {"total_value": 100.0}},
        {"record": "publish", "type": "FillEvent", "data": {"commission": 2.0, "slippage": 0.5}},
        {"record": "publish", "type": "SnapshotEvent", "data": {"total_value": 98.0}},
        {"record": "footer", "status": "completed", "digest": "d"},
    ]
    # 1.5 + 2.0 = 3.5 commission; 0.25 + 0.5 = 0.75 slippage.
    assert outcome(records) == {"final_value": 98.0, "trades": 2, "total_commission": 3.5,
                                "total_slippage": 0.75, "status": "completed", "digest": "d"}


def test_first_divergence_when_one_stream_is_shorter() -> None:
    """A stream that ends early diverges where it ends, with the missing side None."""
    a = [{"record": "publish", "id": 1, "type": "MarketEvent", "time": "t", "cause": None, "data": {"bar": 0}}]
    divergence = first_divergence(a, [])
    assert divergence is not None and divergence.index == 0 and divergence.new is None


def test_what_if_handler_replacement_diverges_at_the_first_fill(tmp_path: Path) -> None:
    """--handler execution=...:FreeExecution (commission waived) diverges at the first fill, commission 1.0 -> 0."""
    log = _record(_small(tmp_path), tmp_path / "run")
    report = replay(log, handlers={"execution": "tests.eventbt.replay_fixtures:FreeExecution"})
    divergence = report.divergence
    assert divergence is not None and divergence.event_type == "FillEvent"
    assert divergence.fields == ("data.commission",)
    assert divergence.recorded is not None and divergence.new is not None
    assert (divergence.recorded["data"]["commission"], divergence.new["data"]["commission"]) == (1.0, 0.0)


def test_replayed_stage_replacements_are_recorded_and_reapplied(tmp_path: Path) -> None:
    """A run with a replaced stage names it in its header, and replaying that log (trusted: the code is ours)
    reproduces it exactly."""
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import Simulation

    config = ScenarioConfig.from_toml(_small(tmp_path))
    log = tmp_path / "audit.jsonl"
    Simulation(config, audit_path=log, stages={"execution": "tests.eventbt.replay_fixtures:FreeExecution"}).run()
    header = read_audit(log)[0]
    assert header["stages"] == {"execution": "tests.eventbt.replay_fixtures:FreeExecution"}
    assert replay(log, trust=True).identical


@pytest.mark.parametrize(("stages", "message"), [
    ({"broker": "x:Y"}, "--handler broker=...: unknown stage 'broker'; the stages are strategy, rebalance, "
                        "execution, portfolio"),
    ({"executon": "x:Y"}, "--handler executon=...: unknown stage 'executon' (did you mean 'execution'?); the stages "
                          "are strategy, rebalance, execution, portfolio"),
    ({"execution": "tests.eventbt.replay_fixtures:NotAHandler"},
     "--handler execution=tests.eventbt.replay_fixtures:NotAHandler: <class "
     "'tests.eventbt.replay_fixtures.NotAHandler'> does not subclass eventbt.handler.Handler"),
])
def test_bad_stage_replacements_are_plugin_errors(tmp_path: Path, stages: dict[str, str], message: str) -> None:
    """An unknown stage or a class that is not a Handler is refused with a message naming it."""
    from eventbt.errors import PluginError
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import Simulation

    with pytest.raises(PluginError) as info:
        Simulation(ScenarioConfig.from_toml(_small(tmp_path)), stages=stages)
    assert str(info.value) == message


def test_a_misspelt_stage_is_refused_with_the_stage_it_was_likely_meant_to_be(tmp_path: Path) -> None:
    """`--handler executon=...` names 'execution' (one letter off), before the log is read (here there is none)."""
    from eventbt.errors import PluginError

    with pytest.raises(PluginError) as info:
        replay(tmp_path / "absent.jsonl", handlers={"executon": "x:Y"})
    assert str(info.value) == ("--handler executon=...: unknown stage 'executon' (did you mean 'execution'?); the "
                               "stages are strategy, rebalance, execution, portfolio")


def test_replay_command_takes_handler_replacements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt replay LOG --handler execution=module:Class` exits 1 and reports the diverging fill."""
    from eventbt.cli import main

    log = _record(_small(tmp_path), tmp_path / "run")
    code = main(["replay", str(log), "--handler", "execution=tests.eventbt.replay_fixtures:FreeExecution"])
    assert code == 1
    assert "FillEvent" in capsys.readouterr().out
    assert main(["replay", str(log), "--handler", "execution"]) == 2
    assert "expected STAGE=module:Class" in capsys.readouterr().err


def test_replay_says_when_the_recording_used_other_library_versions(tmp_path: Path) -> None:
    """A log whose header records another numpy (environment is outside the digest) replays identical, with a
    note naming the library and both versions; the same versions give no such note."""
    log = _record(_small(tmp_path), tmp_path / "run")
    assert not any("library versions" in note for note in replay(log).notes)
    lines = log.read_bytes().splitlines()
    header = orjson.loads(lines[0])
    current = header["environment"]["numpy"]
    header["environment"]["numpy"] = "1.0.0"
    log.write_bytes(b"\n".join([orjson.dumps(header, option=orjson.OPT_SORT_KEYS), *lines[1:]]) + b"\n")
    report = replay(log)
    assert report.identical
    assert [note for note in report.notes if "library versions" in note] == [
        f"the recorded and new runs used different library versions (numpy 1.0.0 -> {current}); results are "
        "promised identical only on the same versions (see docs/determinism.md)"]
    assert "numpy 1.0.0 -> " in report.format()


def test_a_scenario_value_set_from_empty_shows_the_empty_text() -> None:
    """`data.end` unset is the empty text: a change from it reads `"" -> 2013-06-28`, not a blank before the arrow.
    A key only one side has is `(absent)`."""
    from eventbt.replays.divergence import scenario_changes

    assert scenario_changes({"data": {"end": "", "path": "p.csv"}}, {"data": {"end": "2013-06-28", "path": "p.csv"},
                                                                     "run": {"warmup": 5}}) == [
        'data.end: "" -> 2013-06-28', "run.warmup: (absent) -> 5"]


def test_a_log_of_a_run_with_handlers_added_from_python_is_refused_naming_them(tmp_path: Path) -> None:
    """extra_handlers= are not in the scenario: the header names them, and a replay, which rebuilds the run from
    the scenario, refuses the log up front (it failed at the first record, its `to` differing, with no hint)."""
    import eventbt
    from eventbt.errors import AuditError
    from eventbt.events import FillEvent
    from eventbt.testing import RecordingHandler

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "ema_next_open.toml"
    log = tmp_path / "audit.jsonl"
    eventbt.Simulation.from_scenario(scenario, extra_handlers=[RecordingHandler(FillEvent)], audit_path=log).run()
    header = orjson.loads(log.read_bytes().split(b"\n", 1)[0])
    assert header["extra_handlers"] == [{"name": "recorder", "class": "eventbt.testing.recording:RecordingHandler"}]
    with pytest.raises(AuditError, match=r"its run had handlers added from Python that its scenario does not name: "
                                         r"'recorder' \(eventbt\.testing\.recording:RecordingHandler\)"):
        eventbt.replay(log)
    plain = tmp_path / "plain.jsonl"  # a run without them: no such header field, so its digest is as before
    result = eventbt.Simulation.from_scenario(scenario, audit_path=plain).run()
    assert "extra_handlers" not in orjson.loads(plain.read_bytes().split(b"\n", 1)[0])
    assert result is not None and result.digest.startswith("05229453544ba173")
