"""`eventbt validate` accepts exactly what `eventbt run` accepts: for each scenario of a table of broken ones,
validate reports problems if and only if the run refuses it (exit 2), and its first problem is the run's error.

The table covers every check a run makes before its first bar: the scenario's keys, the data file, the data
against the scenario's asks (opens, volumes, gaps, bar-aware slippage), plug-ins that do not import, do not
build or have the wrong shape (cost models, strategies, ``[[handlers]]``), the schedule's dates, the
``[[events]]`` against the data and the ``[report] benchmark``. Faults that only show during a run (a model
that returns NaN on some bar) are the subject of ``tests/handlers/test_plugin_contract.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventbt.cli import main
from eventbt.scenario.validate import validate

F = "tests.eventbt.hostile_fixtures"
BASE = """\
[data]
path = "prices.csv"

[portfolio]
initial_cash = 100000.0

[strategy]
name = "ema_allocation"

[strategy.params]
fast_span = 2
slow_span = 3
top_n = 1

[schedule]
rebalance = "weekly"
"""


def _prices(folder: Path, *, gap: bool = False) -> None:
    """30 business days of A and B, closes rising by a cent and two cents a day (no jumps, nothing stale)."""
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-03-01"), dtype="datetime64[D]")
    days = days[np.is_busday(days)][:30]
    rows = ["date,A,B"]
    for i, day in enumerate(days):
        b = "" if gap and i == 10 else f"{20 + 0.02 * i:.2f}"
        rows.append(f"{day},{10 + 0.01 * i:.2f},{b}")
    (folder / "prices.csv").write_text("\n".join(rows) + "\n")
    (folder / "bench.csv").write_text("date,SPY\n" + "".join(f"{day},{100 + i}\n" for i, day in enumerate(days)))
    (folder / "bench_2010.csv").write_text("date,SPY\n2010-01-04,100\n2010-01-05,101\n")
    (folder / "bench_negative.csv").write_text(f"date,SPY\n{days[0]},100\n{days[5]},-5\n")


CASES: list[tuple[str, str]] = [
    ("valid", ""),
    ("valid with a benchmark", '[report]\nbenchmark = "bench.csv:SPY"\n'),
    ("valid with a handler and events", '[[handlers]]\nname = "stamp_duty"\n'
     '[[events]]\ndate = "2020-01-10"\ntype = "deposit"\namount = 1000.0\n'),
    ("unknown key", "[rebalance]\ncash_bufer = 0.1\n"),
    ("data file missing", '[data]\npath = "nope.csv"\n'),
    ("audit log outside the scenario's folder", '[audit]\npath = "../audit.jsonl"\n'),
    ("audit log at an absolute path", '[audit]\npath = "/audit.jsonl"\n'),
    ("audit log over a file that is not one", '[audit]\npath = "prices.csv"\n'),
    ("next_open on close-only data", '[execution]\ntiming = "next_open"\n'),
    ("volume limit on close-only data", "[execution]\nvolume_limit = 0.1\n"),
    ("bar-aware slippage on close-only data", '[execution.slippage]\nmodel = "sqrt_impact"\n'),
    ("gap under missing = error", '[data]\nmissing = "error"\n'),
    ("commission model does not import", '[execution.commission]\nmodel = "nosuch_module:Model"\n'),
    ("commission of the wrong signature", f'[execution.commission]\nmodel = "{F}:OneArgumentCommission"\n'),
    ("slippage of the wrong signature", f'[execution.slippage]\nmodel = "{F}:TwoArgumentFill"\n'),
    ("commission parameter unknown", '[execution.commission]\nmodel = "percentage"\nrat = 0.001\n'),
    ("strategy of the wrong signature", f'[strategy]\nname = "{F}:UpdateWithoutView"\n[strategy.params]\n'),
    ("strategy parameter rejected", "[strategy.params]\ntop_n = 0\n"),
    ("static weights on the data's symbols", '[strategy]\nname = "static_weights"\n[strategy.params]\n'
     "weights = { A = 0.5, B = 0.5 }\n"),
    ("static weights naming a symbol not in the data", '[strategy]\nname = "static_weights"\n[strategy.params]\n'
     "weights = { A = 0.5, C = 0.5 }\n"),
    ("schedule date not a bar", '[schedule]\ndates = ["2020-01-04"]\n'),
    ("schedule date in the warm-up", '[data]\nstart = "2020-01-10"\n[run]\nwarmup = 3\n'
     '[schedule]\ndates = ["2020-01-08", "2020-01-15"]\n'),
    ("handler hook misspelt", f'[[handlers]]\nname = "{F}:MisspeltHook"\n'),
    ("handler hook without the event", f'[[handlers]]\nname = "{F}:HookWithoutEvent"\n'),
    ("handler finish with an argument", f'[[handlers]]\nname = "{F}:FinishWithArgument"\n'),
    ("handler subscribes to one class", f'[[handlers]]\nname = "{F}:SubscribesToOneClass"\n'),
    ("handler constructor raises", f'[[handlers]]\nname = "{F}:RaisingConstructor"\n'),
    ("handler not a handler", f'[[handlers]]\nname = "{F}:NegativeCommission"\n'),
    ("handler named like a stage", f'[[handlers]]\nname = "{F}:Impostor"\n'),
    ("handler whose bind fails", f'[[handlers]]\nname = "{F}:RaisingBind"\n'),
    ("two problems: every handler is built before any is bound",
     f'[[handlers]]\nname = "{F}:RaisingBind"\n[[handlers]]\nname = "{F}:MisspeltHook"\n'),
    ("event after the data", '[[events]]\ndate = "2021-01-04"\ntype = "deposit"\namount = 5.0\n'),
    ("event before the data", '[[events]]\ndate = "2019-12-02"\ntype = "deposit"\namount = 5.0\n'),
    ("event before [data] start",
     '[data]\nstart = "2020-01-10"\n[[events]]\ndate = "2020-01-06"\ntype = "withdrawal"\namount = 5.0\n'),
    ("event in the warm-up", '[data]\nstart = "2020-01-10"\n[run]\nwarmup = 3\n'
     '[[events]]\ndate = "2020-01-08"\ntype = "deposit"\namount = 5.0\n'),
    ("warm-up date after [data] start", '[data]\nstart = "2020-01-10"\n[run]\nwarmup = "2020-01-20"\n'),
    ("event order for a symbol not in the data",
     '[[events]]\ndate = "2020-01-10"\ntype = "order"\nsymbol = "ZZZ"\nside = "buy"\nquantity = 1\n'),
    ("benchmark file missing", '[report]\nbenchmark = "nope.csv:SPY"\n'),
    ("benchmark column missing", '[report]\nbenchmark = "bench.csv:QQQ"\n'),
    ("benchmark with no date in the run", '[report]\nbenchmark = "bench_2010.csv:SPY"\n'),
    ("benchmark with a negative level", '[report]\nbenchmark = "bench_negative.csv:SPY"\n'),
    ("two problems: the run meets the commission first",
     f'[execution.commission]\nmodel = "{F}:FourArgumentCommission"\n'
     '[[events]]\ndate = "2021-01-04"\ntype = "deposit"\namount = 5.0\n'),
    ("limit orders on closes only", '[execution]\norder_type = "limit"\n'),
    ("a stop order of [[events]] on closes only",
     '[[events]]\ndate = "2020-01-10"\ntype = "order"\nsymbol = "A"\nside = "buy"\nquantity = 1\n'
     'order_type = "stop"\nstop_price = 11.0\n'),
    ("an [[events]] limit order without its price",
     '[[events]]\ndate = "2020-01-10"\ntype = "order"\nsymbol = "A"\nside = "buy"\nquantity = 1\n'
     'order_type = "limit"\n'),
    ("two problems: the data fit before the handlers",
     f'[execution]\ntiming = "next_open"\n[[handlers]]\nname = "{F}:MisspeltHook"\n'),
]


@pytest.mark.parametrize(("extra"), [case[1] for case in CASES], ids=[case[0] for case in CASES])
def test_validate_reports_a_problem_iff_run_refuses_with_the_same_first_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str) -> None:
    """validate has problems iff `eventbt run` exits 2, and its first problem is the run's one-line error."""
    _prices(tmp_path, gap="missing" in extra)
    scenario = tmp_path / "scenario.toml"
    # Later tables of the same name win: the case's tables are merged over the base by TOML rules, so
    # write the base without the tables the case redefines.
    scenario.write_text(_merge(BASE, extra))
    report = validate(scenario)
    capsys.readouterr()
    code = main(["run", str(scenario), "--quiet", "--plain"])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("eventbt: error: ")]
    if report.ok:
        assert (code, errors) == (0, [])
    else:
        assert code == 2
        assert errors == [f"eventbt: error: {report.problems[0]}"]


def test_the_table_has_both_outcomes(tmp_path: Path) -> None:
    """The table is not one-sided: some cases are valid and most are refused (so the test above can fail)."""
    outcomes = []
    for _, extra in CASES:
        _prices(tmp_path, gap="missing" in extra)
        scenario = tmp_path / "scenario.toml"
        scenario.write_text(_merge(BASE, extra))
        outcomes.append(validate(scenario).ok)
    valid = [name for name, _ in CASES if name.startswith("valid") or name.endswith("on the data's symbols")]
    assert outcomes.count(True) == len(valid) == 4 and outcomes.count(False) == len(CASES) - 4


def _merge(base: str, extra: str) -> str:
    """``base`` with the keys of ``extra`` merged in, table by table (``[schedule]`` replaced: its modes exclude
    each other)."""
    import tomllib

    from eventbt.scenario.toml_writer import dumps

    tables = tomllib.loads(base)
    for name, value in tomllib.loads(extra).items():
        if isinstance(value, dict) and isinstance(tables.get(name), dict) and name != "schedule":
            tables[name] = {**tables[name], **value}
        else:
            tables[name] = value
    return dumps(tables)


@pytest.mark.parametrize(("override", "problem"), [
    ("strategy.params.top_n=2.0", "[strategy.params] key 'top_n' expects int, got float 2.0"),
    ("execution.commission.rate=2",
     "[execution.commission] invalid percentage model: rate must be a fraction >= 0 and < 1 (0.01 = 1%), got 2"),
    ("schedule.dates=[2020-01-04]",
     "[schedule] date 2020-01-04 is not a bar of the data (nearest bars: 2020-01-03, 2020-01-06)"),
])
def test_a_later_check_names_the_override_at_fault(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     override: str, problem: str) -> None:
    """A plug-in's parameters and the schedule's dates are checked after the scenario's keys, by their builders,
    whose messages named the scenario file alone: the user opened it and found top_n = 1. Like the key checks,
    they name the --set at fault, from validate and run alike."""
    _prices(tmp_path)
    scenario = tmp_path / "scenario.toml"
    extra = '[execution.commission]\nmodel = "percentage"\nrate = 0.001\n' if "commission" in override else ""
    scenario.write_text(_merge(BASE, extra))
    expected = f"{scenario} (--set {override}): {problem}"
    assert validate(scenario, [override]).problems[:1] == (expected,)
    capsys.readouterr()
    assert main(["run", str(scenario), "--quiet", "--plain", "--set", override]) == 2
    assert f"eventbt: error: {expected}" in capsys.readouterr().err.splitlines()


def test_an_override_that_did_not_cause_the_error_is_not_named(tmp_path: Path) -> None:
    """A --set of the commission's amount does not cause the file's unknown model: the error names the file
    alone (the override blamed is one that set the key at fault, or a table around it)."""
    _prices(tmp_path)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_merge(BASE, '[execution.commission]\nmodel = "nosuch_module:Model"\n'))
    [problem] = validate(scenario, ["execution.commission.amount=1"]).problems[:1]
    assert problem.startswith(f"{scenario}: [execution.commission] cannot import 'nosuch_module:Model'")
