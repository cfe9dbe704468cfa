"""Tests for eventbt.scenario: reading, defaults, overrides, round-trips and error messages."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import attrs
import pytest

from eventbt.data.benchmark import load_benchmark
from eventbt.errors import DataError, ScenarioError
from eventbt.scenario import (
    AuditConfig,
    DataConfig,
    EventConfig,
    ExecutionConfig,
    HandlerConfig,
    PortfolioConfig,
    RebalanceConfig,
    RunConfig,
    ScenarioConfig,
    ScheduleConfig,
    StrategyConfig,
    toml_writer,
)
from eventbt.scenario.plugins import IMPORT_HINT
from eventbt.scenario.validate import validate

DATA = '[data]\npath = "prices.csv"\n'
STRATEGY = '[strategy]\nname = "ema_allocation"\n'
MINIMAL = DATA + STRATEGY

FULL = """\
[scenario]
name = "ema_top3"
description = "Top three by EMA crossover, \\"equal\\" weights"

[data]
path = "../data/prices.csv"
format = "wide"
symbols = ["MSFT", "AAPL"]
start = "2020-01-02"
end = 2021-12-31
missing = "error"
delisting = "error"

[portfolio]
initial_cash = 250_000

[strategy]
name = "ema_allocation"

[strategy.params]
slow_span = 50
fast_span = 20
weighting = "score"
max_weight = 0.4

[schedule]
dates = ["2020-03-31", "2020-06-30", "2020-09-30"]

[rebalance]
cash_buffer = 0.02
min_trade_value = 500

[execution]
timing = "next_open"

[execution.commission]
model = "per_share"
per_share = 0.005
minimum = 1.0
max_pct = 0.01

[execution.slippage]
model = "fixed_bps"
bps = 5

[audit]
path = "audit/ema_top3.jsonl"

[run]
on_error = "skip"
progress = false
"""


@pytest.fixture
def scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a scenario to ``scenarios/x.toml`` under a temporary working directory; return its path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()

    def write(text: str) -> str:
        (tmp_path / "scenarios" / "x.toml").write_text(text, encoding="utf-8")
        return "scenarios/x.toml"

    return write


def test_defaults_are_filled_in(scenario_file, tmp_path: Path) -> None:
    """A file with only the required keys gets every documented default."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL))
    assert config == ScenarioConfig(
        source="scenarios/x.toml",
        base_dir=tmp_path / "scenarios",
        name="x",
        description="",
        data=DataConfig(
            path="prices.csv",
            format="auto",
            symbols=(),
            start="",
            end="",
            missing="ffill",
            delisting="liquidate",
        ),
        portfolio=PortfolioConfig(initial_cash=1_000_000.0),
        strategy=StrategyConfig(name="ema_allocation", params={}),
        schedule=ScheduleConfig(rebalance="monthly", every_n_bars=None, dates=None),
        rebalance=RebalanceConfig(cash_buffer=0.0, min_trade_value=0.0),
        execution=ExecutionConfig(
            timing="same_close", commission={"model": "zero"}, slippage={"model": "fixed_bps", "bps": 0.0}
        ),
        audit=AuditConfig(path=""),
        run=RunConfig(on_error="stop", progress=True),
    )


def test_full_example_parses_to_the_expected_config(scenario_file, tmp_path: Path) -> None:
    """Every table and key of a full scenario lands in the matching config field."""
    config = ScenarioConfig.from_toml(scenario_file(FULL))
    assert config == ScenarioConfig(
        source="scenarios/x.toml",
        base_dir=tmp_path / "scenarios",
        name="ema_top3",
        description='Top three by EMA crossover, "equal" weights',
        data=DataConfig(
            path="../data/prices.csv",
            format="wide",
            symbols=("MSFT", "AAPL"),
            start="2020-01-02",
            end="2021-12-31",  # written as a TOML date, kept as ISO text
            missing="error",
            delisting="error",
        ),
        portfolio=PortfolioConfig(initial_cash=250_000.0),
        strategy=StrategyConfig(
            name="ema_allocation",
            params={"slow_span": 50, "fast_span": 20, "weighting": "score", "max_weight": 0.4},
        ),
        schedule=ScheduleConfig(dates=("2020-03-31", "2020-06-30", "2020-09-30")),
        rebalance=RebalanceConfig(cash_buffer=0.02, min_trade_value=500.0),
        execution=ExecutionConfig(
            timing="next_open",
            commission={"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01},
            slippage={"model": "fixed_bps", "bps": 5},
        ),
        audit=AuditConfig(path="audit/ema_top3.jsonl"),
        run=RunConfig(on_error="skip", progress=False),
    )
    assert isinstance(config.portfolio.initial_cash, float)


def test_data_path_resolves_against_the_scenario_folder(scenario_file, tmp_path: Path) -> None:
    """A relative data path is taken from the scenario file's folder, not the working directory."""
    config = ScenarioConfig.from_toml(scenario_file(FULL))
    assert config.data_path == (tmp_path / "data" / "prices.csv").resolve()
    assert config.data_path.is_absolute()
    assert config.to_dict()["data"]["path"] == "../data/prices.csv"


def test_absolute_data_path_is_kept(tmp_path: Path) -> None:
    """An absolute data path ignores base_dir."""
    target = tmp_path / "elsewhere" / "prices.csv"
    raw = {"data": {"path": str(target)}, "strategy": {"name": "ema_allocation"}}
    config = ScenarioConfig.from_dict(raw, base_dir=tmp_path / "scenarios")
    assert config.data_path == target.resolve()


def test_from_dict_takes_base_dir_from_source_or_working_directory(tmp_path, monkeypatch) -> None:
    """Without base_dir, from_dict resolves against the source's folder, or the working directory."""
    monkeypatch.chdir(tmp_path)
    raw = tomllib.loads(MINIMAL)
    assert ScenarioConfig.from_dict(raw, source="runs/a.toml").base_dir == tmp_path / "runs"
    without_source = ScenarioConfig.from_dict(raw)
    assert without_source.base_dir == tmp_path
    assert without_source.name == "scenario"


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        ("portfolio.initial_cash=5", lambda c: c.portfolio.initial_cash, 5.0),
        ("rebalance.cash_buffer=0.05", lambda c: c.rebalance.cash_buffer, 0.05),
        ('scenario.name="quoted name"', lambda c: c.name, "quoted name"),
        ("run.progress=false", lambda c: c.run.progress, False),
        ('data.symbols=["SPY", "TLT"]', lambda c: c.data.symbols, ("SPY", "TLT")),
        ("data.start=2020-05-01", lambda c: c.data.start, "2020-05-01"),
        ("data.end=", lambda c: c.data.end, ""),
        ("execution.timing=next_open", lambda c: c.execution.timing, "next_open"),  # a bare string
        (" execution.timing = next_open ", lambda c: c.execution.timing, "next_open"),
        ("data.path=other/prices.csv", lambda c: c.data.path, "other/prices.csv"),
        ("strategy.params.top_n=5", lambda c: c.strategy.params, {"top_n": 5, "fast_span": 20}),
        ("strategy.params.window.size=3", lambda c: c.strategy.params["window"], {"size": 3}),
        (
            "execution.commission.rate=0.002",
            lambda c: c.execution.commission,
            {"model": "percentage", "rate": 0.002},
        ),
        (
            'execution.slippage={model = "zero"}',
            lambda c: c.execution.slippage,
            {"model": "zero"},
        ),
    ],
)
def test_override_kinds(scenario_file, override, field, expected) -> None:
    """Each kind of override value (TOML, bare string, deep key, inline table) lands where it names."""
    text = MINIMAL + '[strategy.params]\nfast_span = 20\n[execution.commission]\nmodel = "percentage"\n'
    config = ScenarioConfig.from_toml(scenario_file(text), [override])
    assert field(config) == expected


def test_overrides_apply_in_order(scenario_file) -> None:
    """A later override of the same key wins."""
    path = scenario_file(MINIMAL)
    config = ScenarioConfig.from_toml(path, ["portfolio.initial_cash=5", "portfolio.initial_cash=7"])
    assert config.portfolio.initial_cash == 7.0


def test_schedule_override_replaces_the_file_choice(scenario_file) -> None:
    """Setting one schedule key by override replaces the schedule the file chose."""
    path = scenario_file(MINIMAL + '[schedule]\nrebalance = "weekly"\n')
    config = ScenarioConfig.from_toml(path, ["schedule.every_n_bars=5"])
    assert config.schedule == ScheduleConfig(every_n_bars=5)


@pytest.mark.parametrize(("overrides", "expected"), [
    (["schedule.every_n_bars=5", "schedule.rebalance=weekly"], ScheduleConfig(rebalance="weekly")),
    (["schedule.rebalance=weekly", "schedule.every_n_bars=5"], ScheduleConfig(every_n_bars=5)),
    (["schedule.every_n_bars=5", "schedule.dates=['2020-01-31']"], ScheduleConfig(dates=("2020-01-31",))),
    (["schedule.dates=['2020-01-31']", "schedule.every_n_bars=3", "schedule.rebalance=daily"],
     ScheduleConfig(rebalance="daily")),
])
def test_a_later_schedule_override_replaces_an_earlier_one(scenario_file, overrides, expected) -> None:
    """Overrides apply in order and a later one wins; the schedule's keys are alternatives, so the last of them
    is the schedule (the earlier ones were kept and the run refused with 'expected exactly one of ..., got 2'),
    through from_toml and with_overrides alike."""
    path = scenario_file(MINIMAL + '[schedule]\nrebalance = "monthly"\n')
    assert ScenarioConfig.from_toml(path, overrides).schedule == expected
    assert ScenarioConfig.from_toml(path).with_overrides(overrides).schedule == expected


def test_override_into_an_absent_cost_table_starts_from_its_default(scenario_file) -> None:
    """A deep override of a cost table the file leaves out keeps the default model."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL), ["execution.slippage.bps=2.5"])
    assert config.execution.slippage == {"model": "fixed_bps", "bps": 2.5}


def test_with_overrides_returns_a_new_config(scenario_file) -> None:
    """with_overrides leaves the original alone and matches overriding at load time."""
    path = scenario_file(FULL)
    original = ScenarioConfig.from_toml(path)
    changed = original.with_overrides(["execution.timing=same_close", "strategy.params.top_n=3"])
    assert original.execution.timing == "next_open"
    assert "top_n" not in original.strategy.params
    assert changed.execution.timing == "same_close"
    assert changed.strategy.params["top_n"] == 3
    assert changed == ScenarioConfig.from_toml(path, ["execution.timing=same_close", "strategy.params.top_n=3"])


def test_round_trip_through_to_toml(scenario_file) -> None:
    """Reading to_toml's text back gives an equal config."""
    config = ScenarioConfig.from_toml(scenario_file(FULL))
    again = ScenarioConfig.from_dict(tomllib.loads(config.to_toml()), source=config.source, base_dir=config.base_dir)
    assert again == config


def test_round_trip_of_awkward_free_form_values(scenario_file) -> None:
    """Escaped strings, odd keys, exact floats, dates and nested tables survive to_toml and back."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL))
    params = {
        "quote": 'say "hi"\\ then\nnew line\ttab \x01 \x7f é ✓',
        "key with spaces": 1,
        "": "empty key",
        "tiny": 1e-7,
        "huge": 1e22,
        "third": 0.1 + 0.2,
        "negative": -0.0,
        "when": dt.date(2020, 2, 29),
        "at": dt.datetime(2020, 2, 29, 9, 30, 0, 123456),
        "nested": {"deeper": {"list": [1, [2, 3], {"a.b": True}]}},
        "empty": {},
        "nothing": [],
    }
    config = attrs.evolve(config, strategy=StrategyConfig(name="ema_allocation", params=params))
    again = ScenarioConfig.from_dict(tomllib.loads(config.to_toml()), source=config.source, base_dir=config.base_dir)
    assert again == config
    assert repr(again.strategy.params["third"]) == repr(0.1 + 0.2)


def test_to_toml_text_is_fixed_and_sorted(scenario_file) -> None:
    """to_toml writes tables in schema order and free-form keys sorted, the same text every time."""
    path = scenario_file(MINIMAL + "[strategy.params]\nslow_span = 50\nfast_span = 20\n")
    config = ScenarioConfig.from_toml(path)
    expected = """\
[scenario]
name = "x"
description = ""

[data]
path = "prices.csv"
format = "auto"
symbols = []
start = ""
end = ""
missing = "ffill"
delisting = "liquidate"

[portfolio]
initial_cash = 1000000.0

[strategy]
name = "ema_allocation"

[strategy.params]
fast_span = 20
slow_span = 50

[schedule]
rebalance = "monthly"

[rebalance]
cash_buffer = 0.0
min_trade_value = 0.0

[execution]
timing = "same_close"

[execution.commission]
model = "zero"

[execution.slippage]
bps = 0.0
model = "fixed_bps"

[audit]
path = ""

[run]
on_error = "stop"
progress = true
"""
    assert config.to_toml() == expected
    assert list(config.to_dict()) == [
        "scenario", "data", "portfolio", "strategy", "schedule", "rebalance", "execution", "audit", "run",
    ]  # fmt: skip


def test_to_dict_is_a_copy(scenario_file) -> None:
    """Changing the dict to_dict returns leaves the config as it was."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL + "[strategy.params]\ntop_n = 3\n"))
    config.to_dict()["strategy"]["params"]["top_n"] = 99
    assert config.strategy.params == {"top_n": 3}


def test_config_is_frozen(scenario_file) -> None:
    """A config cannot be changed in place."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.name = "other"


def test_toml_strings_are_escaped() -> None:
    """The writer escapes quotes, backslashes and control characters and keeps other text."""
    assert toml_writer.format_value('a"b\\c\nd\x01é') == '"a\\"b\\\\c\\nd\\u0001é"'
    assert toml_writer.format_key("top_n") == "top_n"
    assert toml_writer.format_key("a.b") == '"a.b"'
    assert toml_writer.format_value(float("-inf")) == "-inf"


BAD_INPUTS = [
    # (file text, overrides, expected message, table, key)
    (
        MINIMAL + '[execution]\ntimng = "next_open"\n',
        [],
        "scenarios/x.toml: [execution] unknown key 'timng' (did you mean 'timing'?)",
        "execution",
        "timng",
    ),
    (
        MINIMAL + '[run]\ncolour = "red"\n',
        [],
        "scenarios/x.toml: [run] unknown key 'colour' (expected one of 'on_error', 'progress', 'warmup')",
        "run",
        "colour",
    ),
    (
        MINIMAL + "[portflio]\ninitial_cash = 5\n",
        [],
        "scenarios/x.toml: unknown table [portflio] (did you mean [portfolio]?)",
        "portflio",
        None,
    ),
    (
        MINIMAL + "[strategy.param]\ntop_n = 3\n",
        [],
        "scenarios/x.toml: [strategy] unknown key 'param' (did you mean 'params'?)",
        "strategy",
        "param",
    ),
    (
        DATA + '[strategy]\nname = "ema_allocation"\nparam = {top_n = 3}\n',
        [],
        "scenarios/x.toml: [strategy] unknown key 'param' (did you mean 'params'?)",
        "strategy",
        "param",
    ),
    (
        'name = "x"\n' + MINIMAL,
        [],
        "scenarios/x.toml: unknown key 'name' outside any table (keys belong in tables)",
        None,
        "name",
    ),
    (
        STRATEGY + "[data]\nformat = 'wide'\n",
        [],
        "scenarios/x.toml: [data] missing required key 'path'",
        "data",
        "path",
    ),
    (
        DATA,
        [],
        "scenarios/x.toml: missing required table [strategy]",
        "strategy",
        None,
    ),
    (
        MINIMAL + "[portfolio]\ninitial_cash = -5\n",
        [],
        "scenarios/x.toml: [portfolio] initial_cash must be a number > 0, got -5",
        "portfolio",
        "initial_cash",
    ),
    (
        MINIMAL + "[portfolio]\ninitial_cash = 1e21\n",
        [],
        "scenarios/x.toml: [portfolio] initial_cash must be at most 1e13 (money is kept in float64 dollars, exact "
        "to the cent up to there), got 1e+21",
        "portfolio",
        "initial_cash",
    ),
    (
        MINIMAL + "[portfolio]\ninitial_cash = inf\n",
        [],
        "scenarios/x.toml: [portfolio] initial_cash must be a finite number, got inf",
        "portfolio",
        "initial_cash",
    ),
    (
        MINIMAL + "[rebalance]\ncash_buffer = 'a'\n",
        [],
        "scenarios/x.toml: [rebalance] cash_buffer must be a number, got string 'a'",
        "rebalance",
        "cash_buffer",
    ),
    (
        MINIMAL + "[rebalance]\nmin_trade_value = true\n",
        [],
        "scenarios/x.toml: [rebalance] min_trade_value must be a number, got boolean true",
        "rebalance",
        "min_trade_value",
    ),
    (
        MINIMAL + "[rebalance]\ncash_buffer = 1\n",
        [],
        "scenarios/x.toml: [rebalance] cash_buffer must be a number >= 0 and < 1, got 1",
        "rebalance",
        "cash_buffer",
    ),
    (
        MINIMAL + '[schedule]\nrebalance = "monthly"\ndates = ["2020-01-31"]\n',
        [],
        "scenarios/x.toml: [schedule] expected exactly one of 'rebalance', 'every_n_bars', 'dates', "
        "got 2: 'rebalance', 'dates'",
        "schedule",
        None,
    ),
    (
        MINIMAL + "[schedule]\nevery_n_bars = 0\n",
        [],
        "scenarios/x.toml: [schedule] every_n_bars must be an integer >= 1, got 0",
        "schedule",
        "every_n_bars",
    ),
    (
        MINIMAL + "[schedule]\nevery_n_bars = 2.5\n",
        [],
        "scenarios/x.toml: [schedule] every_n_bars must be an integer, got float 2.5",
        "schedule",
        "every_n_bars",
    ),
    (
        MINIMAL + '[execution]\ntiming = "next_close"\n',
        [],
        "scenarios/x.toml: [execution] timing must be one of 'same_close', 'next_open', got 'next_close' "
        "(did you mean 'next_open'?)",
        "execution",
        "timing",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nformat = 1\n',
        [],
        "scenarios/x.toml: [data] format must be one of 'auto', 'wide', 'long', 'per_symbol_dir', 'parquet', "
        "got integer 1",
        "data",
        "format",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nstart = "2020-02-30"\n',
        [],
        "scenarios/x.toml: [data] start must be an ISO date YYYY-MM-DD or empty, got '2020-02-30'",
        "data",
        "start",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nend = "2020/12/31"\n',
        [],
        "scenarios/x.toml: [data] end must be an ISO date YYYY-MM-DD or empty, got '2020/12/31'",
        "data",
        "end",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nstart = "2021-01-01"\nend = "2020-01-01"\n',
        [],
        "scenarios/x.toml: [data] start must not be after end, got '2021-01-01' > '2020-01-01'",
        "data",
        "start",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nsymbols = ["AAPL", 5]\n',
        [],
        "scenarios/x.toml: [data] symbols[1] must be a non-empty string, got integer 5",
        "data",
        "symbols",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nsymbols = ["AAPL", "MSFT", "AAPL"]\n',
        [],
        "scenarios/x.toml: [data] symbols lists 'AAPL' twice",
        "data",
        "symbols",
    ),
    (
        STRATEGY + '[data]\npath = "p.csv"\nsymbols = "AAPL"\n',
        [],
        "scenarios/x.toml: [data] symbols must be an array of non-empty strings, got string 'AAPL'",
        "data",
        "symbols",
    ),
    (
        MINIMAL + '[schedule]\ndates = ["2020-01-31", "31.03.2020"]\n',
        [],
        "scenarios/x.toml: [schedule] dates[1] must be an ISO date YYYY-MM-DD, got '31.03.2020'",
        "schedule",
        "dates",
    ),
    (
        MINIMAL + '[schedule]\ndates = ["2020-03-31", "2020-01-31"]\n',
        [],
        "scenarios/x.toml: [schedule] dates must be sorted, got '2020-01-31' after '2020-03-31'",
        "schedule",
        "dates",
    ),
    (
        MINIMAL + '[schedule]\ndates = ["2020-01-31", 2020-01-31]\n',
        [],
        "scenarios/x.toml: [schedule] dates lists '2020-01-31' twice",
        "schedule",
        "dates",
    ),
    (
        MINIMAL + "[schedule]\ndates = []\n",
        [],
        "scenarios/x.toml: [schedule] dates must be a non-empty array of ISO dates YYYY-MM-DD, got []",
        "schedule",
        "dates",
    ),
    (
        MINIMAL + "[execution.commission]\nrate = 0.001\n",
        [],
        "scenarios/x.toml: [execution.commission] missing required key 'model'",
        "execution.commission",
        "model",
    ),
    (
        MINIMAL + "[execution.slippage]\nmodel = 5\n",
        [],
        "scenarios/x.toml: [execution.slippage] model must be a non-empty string, got integer 5",
        "execution.slippage",
        "model",
    ),
    (
        MINIMAL + '[execution]\ncommission = "zero"\n',
        [],
        "scenarios/x.toml: [execution] commission must be a table, got string 'zero'",
        "execution",
        "commission",
    ),
    (
        DATA + '[strategy]\nname = "ema_allocation"\nparams = 5\n',
        [],
        "scenarios/x.toml: [strategy] params must be a table, got integer 5",
        "strategy",
        "params",
    ),
    (
        MINIMAL + '[run]\nprogress = "yes"\n',
        [],
        "scenarios/x.toml: [run] progress must be a boolean, got string 'yes'",
        "run",
        "progress",
    ),
    (
        MINIMAL + '[scenario]\nname = ""\n',
        [],
        "scenarios/x.toml: [scenario] name must be a non-empty string, got ''",
        "scenario",
        "name",
    ),
    (
        'data = "prices.csv"\n' + STRATEGY,
        [],
        "scenarios/x.toml: [data] must be a table, got string 'prices.csv'",
        "data",
        None,
    ),
    # overrides: checked like the file, and named in the path when they are at fault
    (
        MINIMAL,
        ["execution.timng=next_open"],
        "scenarios/x.toml (--set execution.timng=next_open): [execution] unknown key 'timng' (did you mean 'timing'?)",
        "execution",
        "timng",
    ),
    (
        MINIMAL,
        ["execution.timing=next_close"],
        "scenarios/x.toml (--set execution.timing=next_close): [execution] timing must be one of "
        "'same_close', 'next_open', got 'next_close' (did you mean 'next_open'?)",
        "execution",
        "timing",
    ),
    (
        MINIMAL,
        ["run.progress=false", "portfolio.initial_cash=-1"],
        "scenarios/x.toml (--set portfolio.initial_cash=-1): [portfolio] initial_cash must be a number > 0, got -1",
        "portfolio",
        "initial_cash",
    ),
    (
        MINIMAL,
        ["portflio.initial_cash=5"],
        "scenarios/x.toml (--set portflio.initial_cash=5): unknown table [portflio] (did you mean [portfolio]?)",
        "portflio",
        None,
    ),
    (
        MINIMAL,
        ["execution.commission={rate = 0.1}"],
        "scenarios/x.toml (--set execution.commission={rate = 0.1}): [execution.commission] missing required "
        "key 'model'",
        "execution.commission",
        "model",
    ),
    (
        MINIMAL,
        ["data.path.name=x"],
        "scenarios/x.toml (--set data.path.name=x): [data] path must be a table to set 'data.path.name', "
        "got string 'prices.csv'",
        "data",
        "path",
    ),
    (
        MINIMAL,
        ["execution.timing"],
        "scenarios/x.toml (--set execution.timing): override must look like 'table.key=value', "
        "e.g. 'execution.timing=next_open'",
        None,
        None,
    ),
    (
        MINIMAL,
        ["timing=next_open"],
        "scenarios/x.toml (--set timing=next_open): override must look like 'table.key=value', "
        "e.g. 'execution.timing=next_open'",
        None,
        None,
    ),
    (
        MINIMAL + '[execution]\ntimng = "next_open"\n',
        ["run.progress=false"],
        "scenarios/x.toml: [execution] unknown key 'timng' (did you mean 'timing'?)",
        "execution",
        "timng",
    ),
    # reading the file
    (
        "[data]\npath = \n",
        [],
        "scenarios/x.toml: invalid TOML: Invalid value (at line 2, column 8)",
        None,
        None,
    ),
    (
        '[data]\npath = "a"\n[data]\n',
        [],
        "scenarios/x.toml: invalid TOML: Cannot declare ('data',) twice (at line 3, column 6)",
        None,
        None,
    ),
]


@pytest.mark.parametrize(("text", "overrides", "message", "table", "key"), BAD_INPUTS)
def test_bad_input_gets_an_exact_message(scenario_file, text, overrides, message, table, key) -> None:
    """Each bad scenario or override raises a ScenarioError with the exact message, table and key."""
    path = scenario_file(text)
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml(path, overrides)
    assert str(caught.value) == message
    assert (caught.value.table, caught.value.key) == (table, key)
    assert caught.value.path == message.split(": ", 1)[0]


def test_free_form_tables_are_not_key_checked(scenario_file) -> None:
    """Unknown keys in the cost-model and strategy tables are kept for their models to check."""
    text = MINIMAL + "[strategy.params]\nanything = 1\n[execution.slippage]\nmodel = 'fixed_bps'\nbsp = 5\n"
    config = ScenarioConfig.from_toml(scenario_file(text))
    assert config.execution.slippage == {"model": "fixed_bps", "bsp": 5}
    assert config.strategy.params == {"anything": 1}


def test_missing_file_is_named(scenario_file) -> None:
    """A scenario file that does not exist gets a ScenarioError naming it as given."""
    with pytest.raises(ScenarioError, match=r"^scenarios/missing\.toml: file not found$") as caught:
        ScenarioConfig.from_toml("scenarios/missing.toml")
    assert caught.value.path == "scenarios/missing.toml"


def test_from_dict_errors_have_no_file(tmp_path: Path) -> None:
    """Without a source the message starts at the table."""
    with pytest.raises(ScenarioError, match=r"^\[data\] missing required key 'path'$"):
        ScenarioConfig.from_dict({"data": {}, "strategy": {"name": "x"}}, base_dir=tmp_path)


def test_scenario_error_is_a_value_error(scenario_file) -> None:
    """Callers catching ValueError also catch a bad scenario."""
    with pytest.raises(ValueError, match="missing required table"):
        ScenarioConfig.from_toml(scenario_file(DATA))


def test_overriding_a_cost_model_drops_the_old_models_parameters(tmp_path: Path) -> None:
    """Switching per_share -> percentage by override keeps only the keys given for the new model."""
    path = tmp_path / "s.toml"
    path.write_text(
        '[data]\npath = "p.csv"\n[strategy]\nname = "equal_weight"\n'
        '[execution.commission]\nmodel = "per_share"\nper_share = 0.005\nminimum = 1.0\n'
    )
    config = ScenarioConfig.from_toml(
        path, ["execution.commission.model=percentage", "execution.commission.rate=0.002"]
    )
    assert config.execution.commission == {"model": "percentage", "rate": 0.002}
    same = ScenarioConfig.from_toml(path, ["execution.commission.minimum=2.0"])
    assert same.execution.commission == {"model": "per_share", "per_share": 0.005, "minimum": 2.0}


# --- extends, [[handlers]], [[events]] ------------------------------------------------------------------

def test_extends_merges_the_child_over_the_base(scenario_file, tmp_path: Path) -> None:
    """A child changes a few keys of its base; everything else, free-form params included, is inherited."""
    (tmp_path / "scenarios" / "base.toml").write_text(
        MINIMAL + '[strategy.params]\nfast_span = 10\nslow_span = 50\n'
        '[execution.slippage]\nmodel = "fixed_bps"\nbps = 5\n')
    config = ScenarioConfig.from_toml(scenario_file(
        'extends = "base.toml"\n[strategy.params]\nfast_span = 20\n[execution.slippage]\nbps = 7\n'))
    assert config.strategy.params == {"fast_span": 20, "slow_span": 50}
    assert config.execution.slippage == {"model": "fixed_bps", "bps": 7}
    assert config.data.path == "prices.csv"
    assert config.name == "x"  # the child's file name, as the base has no [scenario] name


def test_extends_rebases_an_inherited_data_path(scenario_file, tmp_path: Path) -> None:
    """A base in another folder keeps pointing at its own data: its relative path is rewritten for the child."""
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "base.toml").write_text('[data]\npath = "data/prices.csv"\n' + STRATEGY)
    config = ScenarioConfig.from_toml(scenario_file('extends = "../bases/base.toml"\n'))
    assert config.data.path == "../bases/data/prices.csv"
    assert config.data_path == (tmp_path / "bases" / "data" / "prices.csv").resolve()


@pytest.mark.parametrize("benchmark, inherited", [
    ("data/bench.csv:SPY", "../bases/data/bench.csv:SPY"),  # the file moves, the column stays
    ("data/bench.csv", "../bases/data/bench.csv"),  # no column: the first one
    ("data/a:b.csv", "../bases/data/a:b.csv"),  # a file whose name has a colon is all file
])
def test_extends_rebases_an_inherited_benchmark(scenario_file, tmp_path: Path, benchmark: str,
                                                inherited: str) -> None:
    """A base in another folder keeps its [report] benchmark: the file part is rewritten for the child, so the
    run and the report read the base's file (it was read from the child's folder, and not found)."""
    (tmp_path / "bases" / "data").mkdir(parents=True)
    for name in ("bench.csv", "a:b.csv"):
        (tmp_path / "bases" / "data" / name).write_text("date,QQQ,SPY\n2020-01-02,1,10\n2020-01-03,2,11\n")
    (tmp_path / "bases" / "base.toml").write_text(
        f'[data]\npath = "data/prices.csv"\n[report]\nbenchmark = "{benchmark}"\n' + STRATEGY)
    config = ScenarioConfig.from_toml(scenario_file('extends = "../bases/base.toml"\n'))
    assert config.report.benchmark == inherited
    series, name = load_benchmark(config.report.benchmark, base=config.base_dir, source=config.source)
    column = "SPY" if benchmark.endswith(":SPY") else "QQQ"
    assert name == column and series.tolist() == ([10.0, 11.0] if column == "SPY" else [1.0, 2.0])


def test_a_scenarios_missing_benchmark_names_the_file_the_key_and_where_it_looked(scenario_file) -> None:
    """The benchmark is read from the scenario's folder, not the working directory: the message says so."""
    config = ScenarioConfig.from_toml(scenario_file(MINIMAL + '[report]\nbenchmark = "nope.csv:SPY"\n'))
    with pytest.raises(DataError) as caught:
        load_benchmark(config.report.benchmark, base=config.base_dir, source=config.source)
    assert str(caught.value) == ("scenarios/x.toml: [report] benchmark file not found (expected FILE[:COLUMN]): "
                                 "nope.csv:SPY (looked for scenarios/nope.csv)")


def test_extends_with_another_cost_model_drops_the_base_parameters(scenario_file, tmp_path: Path) -> None:
    """Naming another commission model replaces the base's table whole, as --set does."""
    (tmp_path / "scenarios" / "base.toml").write_text(
        MINIMAL + '[execution.commission]\nmodel = "per_share"\nper_share = 0.005\nminimum = 1.0\n')
    config = ScenarioConfig.from_toml(scenario_file(
        'extends = "base.toml"\n[execution.commission]\nmodel = "percentage"\nrate = 0.001\n'))
    assert config.execution.commission == {"model": "percentage", "rate": 0.001}


@pytest.mark.parametrize(("files", "message"), [
    ({"x.toml": 'extends = "y.toml"\n', "y.toml": 'extends = "x.toml"\n'},
     "scenarios/x.toml: extends cycle: scenarios/x.toml -> scenarios/y.toml -> scenarios/x.toml"),
    ({"x.toml": 'extends = "x.toml"\n'}, "scenarios/x.toml: extends cycle: scenarios/x.toml -> scenarios/x.toml"),
    ({"x.toml": 'extends = "gone.toml"\n'}, "scenarios/x.toml: extends 'scenarios/gone.toml': file not found"),
    ({"x.toml": "extends = 3\n" + MINIMAL}, "scenarios/x.toml: extends must be a file name (a string), got 3"),
])
def test_extends_errors(scenario_file, tmp_path: Path, files: dict[str, str], message: str) -> None:
    """Cycles, missing bases and a non-string extends are errors with exact messages."""
    for name, text in files.items():
        (tmp_path / "scenarios" / name).write_text(text)
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml("scenarios/x.toml")
    assert str(caught.value) == message
    assert caught.value.key == "extends"


def test_extends_with_another_schedule_mode_replaces_the_schedule(scenario_file, tmp_path: Path) -> None:
    """A child naming `dates` over a base's `rebalance` takes its schedule whole (the modes exclude each other,
    as a --set of one replaces the other); it was refused as two schedules, with no way to drop the base's. A
    child naming the same mode merges as before."""
    (tmp_path / "scenarios" / "base.toml").write_text(MINIMAL + '[schedule]\nrebalance = "daily"\n')
    (tmp_path / "scenarios" / "x.toml").write_text('extends = "base.toml"\n[schedule]\ndates = ["2020-01-06"]\n')
    config = ScenarioConfig.from_toml("scenarios/x.toml")
    assert (config.schedule.rebalance, config.schedule.dates) == (None, ("2020-01-06",))
    (tmp_path / "scenarios" / "y.toml").write_text('extends = "base.toml"\n[schedule]\nrebalance = "weekly"\n')
    assert ScenarioConfig.from_toml("scenarios/y.toml").schedule.rebalance == "weekly"


def test_a_mistake_in_a_base_file_names_that_file(scenario_file, tmp_path: Path) -> None:
    """A misspelt key in the base of `extends` was reported as in the scenario run, which does not hold it; the
    message names the base, reached from the scenario. A key of the scenario itself is named as before."""
    (tmp_path / "scenarios" / "base.toml").write_text(MINIMAL + "[portfolio]\ninitail_cash = 5000\n")
    (tmp_path / "scenarios" / "x.toml").write_text('extends = "base.toml"\n[rebalance]\ncash_bufer = 0.1\n')
    problems = validate("scenarios/x.toml").problems
    assert problems[:2] == (
        "scenarios/base.toml (extended by scenarios/x.toml): [portfolio] unknown key 'initail_cash' (did you mean "
        "'initial_cash'?)",
        "scenarios/x.toml: [rebalance] unknown key 'cash_bufer' (did you mean 'cash_buffer'?)")
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml("scenarios/x.toml")
    assert str(caught.value) == problems[0]


def test_handlers_and_events_are_read_and_round_trip(scenario_file) -> None:
    """[[handlers]] and [[events]] become HandlerConfig/EventConfig and survive to_toml and back."""
    text = MINIMAL + (
        '[[handlers]]\nname = "mypkg.fees:Fee"\n[handlers.params]\nrate = 0.01\n'
        '[[events]]\ndate = 2020-01-06\ntype = "deposit"\namount = 500\n'
        '[[events]]\ndate = "2020-02-03"\ntype = "order"\nsymbol = "AAPL"\nside = "sell"\nquantity = 3\n'
    )
    config = ScenarioConfig.from_toml(scenario_file(text))
    assert config.handlers == (HandlerConfig(name="mypkg.fees:Fee", params={"rate": 0.01}),)
    assert config.events == (
        EventConfig(date="2020-01-06", type="deposit", amount=500.0, reason=""),
        EventConfig(date="2020-02-03", type="order", symbol="AAPL", side="sell", quantity=3),
    )
    again = ScenarioConfig.from_dict(tomllib.loads(config.to_toml()), source=config.source, base_dir=config.base_dir)
    assert again == config


def test_scenarios_without_arrays_keep_their_resolved_form(scenario_file) -> None:
    """A scenario without [[handlers]]/[[events]] writes neither key (so its audit digest is unchanged)."""
    assert set(ScenarioConfig.from_toml(scenario_file(MINIMAL)).to_dict()) == {
        "scenario", "data", "portfolio", "strategy", "schedule", "rebalance", "execution", "audit", "run"}


@pytest.mark.parametrize(("text", "message"), [
    ('[[handlers]]\nparams = {}\n', "[handlers[0]] missing required key 'name'"),
    ('[[handlers]]\nname = "x:Y"\nparms = {}\n', "[handlers[0]] unknown key 'parms' (did you mean 'params'?)"),
    ('[[handlers]]\nname = "x:Y"\nparams = 3\n', "[handlers[0]] params must be a table, got integer 3"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "gift"\namount = 1\n',
     "[events[0]] type must be one of 'deposit', 'withdrawal', 'order', got 'gift'"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "deposit"\n', "[events[0]] missing required key 'amount'"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "deposit"\namount = -5\n',
     "[events[0]] amount must be a number > 0, got -5"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "deposit"\namount = 5\nsymbol = "A"\n',
     "[events[0]] unknown key 'symbol' (a 'deposit' event takes 'date', 'type', 'amount', 'reason')"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "order"\nsymbol = "A"\nside = "hold"\nquantity = 1\n',
     "[events[0]] side must be one of 'buy', 'sell', got 'hold'"),
    # the same word in another case: the hint (difflib alone found none for 'BUY')
    ('[[events]]\ndate = "2020-01-02"\ntype = "order"\nsymbol = "A"\nside = "BUY"\nquantity = 1\n',
     "[events[0]] side must be one of 'buy', 'sell', got 'BUY' (did you mean 'buy'?)"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "order"\nsymbol = "A"\nside = "buy"\nquantity = 1.5\n',
     "[events[0]] quantity must be an integer, got float 1.5"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "deposit"\namount = 1e16\n',
     "[events[0]] amount must be at most 1e13 (money is kept in float64 dollars, exact to the cent up to there), "
     "got 1e+16"),
    ('[[events]]\ndate = "2020-01-02"\ntype = "order"\nsymbol = "A"\nside = "buy"\nquantity = 9007199254740993\n',
     "[events[0]] quantity must be an integer > 0 and at most 2**53, got 9007199254740993"),
    ('[[events]]\ndate = "Jan 2"\ntype = "deposit"\namount = 5\n',
     "[events[0]] date must be an ISO date YYYY-MM-DD, got 'Jan 2'"),
])
def test_array_table_errors(scenario_file, text: str, message: str) -> None:
    """Each mistake in [[handlers]] or [[events]] gets its exact message."""
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml(scenario_file(MINIMAL + text))
    assert str(caught.value) == f"scenarios/x.toml: {message}"


def test_handlers_must_be_an_array_of_tables(scenario_file) -> None:
    """A top-level ``handlers = 3`` is named as needing [[handlers]] tables."""
    with pytest.raises(ScenarioError) as caught:
        ScenarioConfig.from_toml(scenario_file("handlers = 3\n" + MINIMAL))
    assert str(caught.value) == "scenarios/x.toml: handlers must be an array of tables ([[handlers]]), got integer 3"


def test_unknown_handler_import_path_is_named_when_the_run_is_built(tmp_path: Path) -> None:
    """A [[handlers]] name that does not import is a ScenarioError naming the entry and the module."""
    from eventbt.scenario.plugins import build_handler

    config = ScenarioConfig.from_dict({**tomllib.loads(MINIMAL), "handlers": [{"name": "nosuch.mod:Fee"}]},
                                      source="x.toml", base_dir=tmp_path)
    spec = config.handlers[0]
    with pytest.raises(ScenarioError) as caught:
        build_handler(spec.name, spec.params, path=config.source, table="handlers[0]")
    assert str(caught.value) == ("x.toml: [handlers[0]] cannot import 'nosuch.mod:Fee': no module named 'nosuch'"
                                 + IMPORT_HINT)
