"""Tests for eventbt.scenario.validate: every problem reported at once, the extends chain, the imports listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventbt.cli.commands import validate as validate_command
from eventbt.scenario.plugins import IMPORT_HINT
from eventbt.scenario.validate import validate

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
[data]
path = "data/missing.csv"

[portfolio]
initial_cash = "lots"
intial = 3

[strategy]
name = "nosuch.module:Thing"

[execution.commission]
model = "percentage"
rat = 0.1

[[handlers]]
name = "handlers.injected:Nope"

[[events]]
date = "2020-13-01"
type = "deposit"
amount = 5
"""


def test_validate_reports_every_problem_not_just_the_first(tmp_path: Path) -> None:
    """Seven independent mistakes in one file give seven problems, each with its exact message, in the order a
    run meets them (the cost models are built before the strategy)."""
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    report = validate(path)
    source = str(path)
    assert not report.ok
    assert report.problems == (
        f"{source}: [portfolio] unknown key 'intial' (did you mean 'initial_cash'?)",
        f"{source}: [portfolio] initial_cash must be a number, got string 'lots'",
        f"{source}: [events[0]] date must be an ISO date YYYY-MM-DD, got '2020-13-01'",
        f"{source}: [data] path 'data/missing.csv': no such file or folder (looked for "
        f"{tmp_path / 'data' / 'missing.csv'}: a relative path is read from the scenario's folder)",
        f"{source}: [execution.commission] unknown key 'rat' (did you mean 'rate'?)",
        f"{source}: [strategy] cannot import 'nosuch.module:Thing': no module named 'nosuch'" + IMPORT_HINT,
        f"{source}: [handlers[0]] cannot import 'handlers.injected:Nope': module 'handlers.injected' "
        "has no attribute 'Nope'",
    )


def test_validate_lists_the_chain_and_the_code_a_scenario_imports() -> None:
    """cash_flows.toml is valid, extends ema_next_open.toml, and names its classes by import path."""
    report = validate(ROOT / "scenarios" / "cash_flows.toml")
    assert report.ok, report.problems
    assert [Path(p).name for p in report.chain] == ["cash_flows.toml", "ema_next_open.toml"]
    assert report.imports == (
        "strategy: strategies.ema_allocation:EmaAllocation",
        "commission: eventbt.costs.commission:PerShareCommission",
        "slippage: eventbt.costs.slippage:FixedBpsSlippage",
        "events: handlers.injected:InjectedEvents",
    )
    assert report.bars == 754 and report.symbols == ("AAPL", "IBM", "KO", "MSFT")


def test_validate_checks_events_against_the_data(tmp_path: Path) -> None:
    """An injected order for a symbol not in the data, and a date past its end, are both reported."""
    path = tmp_path / "events.toml"
    data = (ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily").as_posix()
    path.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                    f'[data]\npath = "{data}"\n'
                    '[[events]]\ndate = "2030-01-02"\ntype = "order"\nsymbol = "ZZZ"\nside = "buy"\nquantity = 1\n'
                    '[[events]]\ndate = "2013-01-02"\ntype = "order"\nsymbol = "APPL"\nside = "buy"\nquantity = 1\n')
    report = validate(path)
    assert report.problems == (
        f"{path}: [events[0]] date 2030-01-02 is after the last bar of the data (2014-12-31)",
        f"{path}: [events[0]] symbol 'ZZZ' is not in the data",
        f"{path}: [events[1]] symbol 'APPL' is not in the data (did you mean 'AAPL'?)",  # a slip: the hint
    )


@pytest.mark.parametrize(("start", "date", "begins"), [
    ("", "2011-12-30", "2012-01-03, the first bar of the data"),  # the sample's first bar is 2012-01-03
    ("2013-01-01", "2012-12-31", "2013-01-01, [data] start"),  # one day before the window the scenario asks for
])
def test_an_event_before_the_runs_first_day_is_refused(tmp_path: Path, start: str, date: str, begins: str) -> None:
    """A withdrawal dated before the run (before the file's first date, or before [data] start) was booked at the
    first bar, ten months after its date in the report that found it; it is refused as one after the data is, by
    validate and by the run, with the same line."""
    import eventbt
    from eventbt.errors import ScenarioError

    path = tmp_path / "early.toml"
    data = (ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily").as_posix()
    path.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                    f'[data]\npath = "{data}"\nstart = "{start}"\n'
                    f'[[events]]\ndate = "{date}"\ntype = "withdrawal"\namount = 1000.0\n')
    expected = f"{path}: [events[0]] date {date} is before the run's first day ({begins})"
    assert validate(path).problems == (expected,)
    with pytest.raises(ScenarioError) as caught:
        eventbt.run(path)
    assert str(caught.value) == expected


def test_a_start_after_end_is_one_problem(tmp_path: Path) -> None:
    """[data] start after end was reported twice, by the key check and again by the data's loader."""
    path = tmp_path / "window.toml"
    data = (ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily").as_posix()
    path.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                    f'[data]\npath = "{data}"\nstart = "2013-05-01"\nend = "2013-01-02"\n')
    assert validate(path).problems == (
        f"{path}: [data] start must not be after end, got '2013-05-01' > '2013-01-02'",)


def test_validate_command_exit_codes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`eventbt validate` exits 0 for a valid file and 1 (listing the problems) for a bad one."""
    import argparse

    assert validate_command.execute(argparse.Namespace(scenario=str(ROOT / "scenarios" / "ema_next_open.toml"),
                                                       overrides=[])) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD)
    assert validate_command.execute(argparse.Namespace(scenario=str(bad), overrides=[])) == 1
    assert "7 problem(s)" in capsys.readouterr().out


def test_a_data_path_not_found_says_it_is_read_from_the_scenarios_folder(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """prices.csv sits in the working directory, the scenario in sub/: its path is read from sub/, and the
    message says where it looked (as the working directory reaches it), for the run and for validate alike."""
    from eventbt.errors import DataError
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import load_scenario_prices

    monkeypatch.chdir(tmp_path)
    (tmp_path / "prices.csv").write_text("date,A\n2020-01-02,1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.toml").write_text('[data]\npath = "prices.csv"\n[strategy]\nname = "equal_weight"\n')
    expected = ("sub/x.toml: [data] path 'prices.csv': no such file or folder (looked for sub/prices.csv: a "
                "relative path is read from the scenario's folder)")
    assert validate("sub/x.toml").problems == (expected,)
    with pytest.raises(DataError) as caught:
        load_scenario_prices(ScenarioConfig.from_toml("sub/x.toml"))
    assert str(caught.value) == expected and caught.value.path == "sub/x.toml"
    # From the scenario's own folder the path reads as written: nothing to add.
    monkeypatch.chdir(tmp_path / "sub")
    assert validate("x.toml").problems == ("x.toml: [data] path 'prices.csv': no such file or folder",)


def test_a_cost_model_of_your_own_that_breaks_the_contract_is_a_warning(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """validate runs eventbt.testing's contract check on a custom cost model: a rebate (a negative commission)
    is a warning naming the key, the model, the call and the rule. A model that keeps the contract, and the
    built-in slippage, add none. It is a warning: a run stops only at a call that breaks the contract."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "my_validate_costs.py").write_text(
        "class Rebate:\n    def commission(self, quantity, value):\n        return -0.5 * value\n\n"
        "class Flat:\n    def commission(self, quantity, value):\n        return 1.0 if quantity else 0.0\n")
    (tmp_path / "prices.csv").write_text("date,A\n2020-01-02,10\n2020-01-03,10.5\n")
    text = '[data]\npath = "prices.csv"\n[strategy]\nname = "equal_weight"\n[execution.commission]\nmodel = "{}"\n'
    (tmp_path / "rebate.toml").write_text(text.format("my_validate_costs:Rebate"))
    (tmp_path / "flat.toml").write_text(text.format("my_validate_costs:Flat"))
    report = validate("rebate.toml")
    assert report.ok
    # The contract's first call: 1 share at 0.01, worth 0.01; -0.5 * 0.01 = -0.005.
    assert report.warnings == (
        "rebate.toml: [execution.commission] breaks the cost-model contract: my_validate_costs:Rebate: "
        "commission(quantity=1, value=0.01) returned -0.005, which breaks: commission must not be negative "
        "(eventbt.testing.check_commission_model; a run stops at the first call that breaks it)",)
    assert validate("flat.toml").warnings == ()


def test_settings_the_scenario_leaves_without_effect_are_warned_about(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`withholding_tax` without corporate actions and `expire_after` on day orders were taken and ignored without
    a word: validate lists them under warnings, `eventbt run` prints them, `eventbt.run` logs them. Warnings,
    not problems: a scenario extending one with corporate actions may turn them off (the bundled quandl_raw)."""
    import logging

    import eventbt
    from eventbt.cli import main

    path = tmp_path / "ignored.toml"
    data = (ROOT / "scenarios" / "data" / "zipline" / "csvdir_daily").as_posix()
    path.write_text(f'extends = "{(ROOT / "scenarios" / "ema_next_open.toml").as_posix()}"\n'
                    f'[data]\npath = "{data}"\n[portfolio]\nwithholding_tax = 0.15\n'
                    '[execution]\norder_type = "limit"\nexpire_after = 3\n')
    expected = [f"{path}: [portfolio] withholding_tax = 0.15 has no effect without [data] corporate_actions (no "
                "split or dividend is applied)",
                f"{path}: [execution] expire_after = 3 has no effect with time_in_force = 'day' (a day order waits "
                "one bar; expire_after counts a gtc order's bars)"]
    report = validate(path)
    assert report.ok and [line for line in report.warnings if "no effect" in line] == expected
    assert main(["run", str(path), "--quiet", "--plain"]) == 0
    assert [line.removeprefix("eventbt: warning: ") for line in capsys.readouterr().err.splitlines()
            if "no effect" in line] == expected
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("eventbt").addHandler(handler)
    try:
        eventbt.run(path)
    finally:
        logging.getLogger("eventbt").removeHandler(handler)
    assert [r.getMessage() for r in records if "no effect" in r.getMessage()] == expected


def test_a_setting_without_effect_names_the_base_file_that_set_it() -> None:
    """The bundled quandl_raw turns quandl_actions' corporate actions off and inherits its withholding_tax: the
    warning names quandl_actions.toml, which holds the key, reached from quandl_raw.toml."""
    raw = ROOT / "scenarios" / "quandl_raw.toml"
    actions = raw.parent / "quandl_actions.toml"
    [line] = [line for line in validate(raw).warnings if "no effect" in line]
    assert line == (f"{actions} (extended by {raw}): [portfolio] withholding_tax = 0.15 has no effect without "
                    "[data] corporate_actions (no split or dividend is applied)")
