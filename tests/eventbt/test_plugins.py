"""Resolving plug-in names and import paths, and building cost models from scenario tables."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from eventbt.costs import FixedBpsSlippage, PerShareCommission, ZeroCommission
from eventbt.errors import PluginError, ScenarioError
from eventbt.events import MarketEvent
from eventbt.handler import Handler
from eventbt.scenario.plugins import (
    COMMISSION_MODELS,
    COST_MODEL_GROUP,
    IMPORT_HINT,
    SLIPPAGE_MODELS,
    build_model,
    describe_model,
    handler_problem,
    resolve_class,
    resolve_import_path,
)

SCENARIO = "scenarios/x.toml"


def _run_handler_names() -> list[str]:
    """The ``name`` of every class in handlers/ (the handlers and the data feed) but the fee handlers a scenario
    names, found by walking the package rather than read from the list the check keeps."""
    import handlers
    from handlers.fees import FEE_HANDLERS

    names = set()
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"handlers.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and isinstance(vars(cls).get("name"), str)
                    and cls not in FEE_HANDLERS.values()):
                names.add(cls.name)
    return sorted(names)


RUN_HANDLER_NAMES = _run_handler_names()


@pytest.fixture(autouse=True)
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[importlib.metadata.EntryPoint]]:
    """Put plugin_fixtures on the import path and replace the installed entry points by a list tests fill."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    points: list[importlib.metadata.EntryPoint] = []

    def fake_entry_points(*, group: str) -> importlib.metadata.EntryPoints:
        return importlib.metadata.EntryPoints(point for point in points if point.group == group)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    yield points


def fixtures() -> ModuleType:
    return importlib.import_module("plugin_fixtures")


def commission(spec: dict[str, object]) -> object:
    return build_model("commission", spec, path=SCENARIO, table="execution.commission")


def slippage(spec: dict[str, object]) -> object:
    return build_model("slippage", spec, path=SCENARIO, table="execution.slippage")


def test_registries_hold_the_built_in_models() -> None:
    """The registries map each scenario name to its built-in class."""
    assert sorted(COMMISSION_MODELS) == ["fixed", "ibkr_tiered", "per_share", "percentage", "sec_fee", "zero"]
    assert sorted(SLIPPAGE_MODELS) == ["fixed_bps", "half_spread", "spread_by_symbol", "sqrt_impact", "volume_share",
                                       "zero"]
    assert COMMISSION_MODELS["per_share"] is PerShareCommission
    assert SLIPPAGE_MODELS["fixed_bps"] is FixedBpsSlippage


def test_resolving_plugins_stays_light() -> None:
    """Importing the plug-in resolution (and with it every built-in registry) loads no pandas, so commands that
    only check a scenario start fast."""
    code = (
        "import sys, eventbt.scenario.plugins as p; before = 'pandas' in sys.modules; "
        "len(p.COMMISSION_MODELS), len(p.HANDLERS); print(before, 'pandas' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_the_walk_finds_the_run_handlers() -> None:
    """The walk of handlers/ finds the run's own handlers, corporate actions among them, and no fee handler."""
    assert {"corporate_actions", "data_feed", "portfolio", "borrow", "injected"} <= set(RUN_HANDLER_NAMES)
    assert "stamp_duty" not in RUN_HANDLER_NAMES


@pytest.mark.parametrize("name", RUN_HANDLER_NAMES)
def test_a_handler_named_like_a_built_in_handler_is_refused(name: str) -> None:
    """A [[handlers]] handler may not take the name of any handler of the run's own in handlers/."""
    impostor = type("Impostor", (Handler,), {"name": name, "subscribes": (MarketEvent,),
                                             "on_market": lambda self, event: None})()
    problem = handler_problem(impostor)
    assert problem == (f"handler {name!r} ({__name__}:Impostor) takes the name of the built-in {name!r} stage, "
                       "under which the audit log would show its events; expected a name of its own")


def test_resolve_import_path_follows_dotted_attributes() -> None:
    """The part after the colon may name an attribute of an attribute."""
    assert resolve_import_path("plugin_fixtures:Brokers.Discount") is fixtures().Brokers.Discount
    assert resolve_import_path("eventbt.errors:ScenarioError") is ScenarioError


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("plugin_fixtures", "import path 'plugin_fixtures' has no ':' between module and attribute"),
        (":Name", "import path ':Name' must be 'package.module:Attr'"),
        ("plugin_fixtures:", "import path 'plugin_fixtures:' must be 'package.module:Attr'"),
        (
            "no_such_costs_module.sub:Model",
            "cannot import 'no_such_costs_module.sub:Model': no module named 'no_such_costs_module'" + IMPORT_HINT,
        ),
    ],
)
def test_resolve_import_path_errors(reference: str, message: str) -> None:
    """A malformed or unresolvable import path raises a PluginError that keeps the reference."""
    with pytest.raises(PluginError) as excinfo:
        resolve_import_path(reference)
    assert str(excinfo.value) == message
    assert excinfo.value.reference == reference
    assert isinstance(excinfo.value, ImportError)


def test_resolve_import_path_reports_a_module_that_fails_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that exists but fails on import is named, with the underlying error."""
    (tmp_path / "costs_with_missing_dependency.py").write_text("import no_such_dependency_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as excinfo:
        resolve_import_path("costs_with_missing_dependency:Model")
    assert str(excinfo.value) == (
        "cannot import 'costs_with_missing_dependency:Model': importing module "
        "'costs_with_missing_dependency' failed: No module named 'no_such_dependency_module'"
    )


def test_resolve_class_is_general() -> None:
    """resolve_class works with any registry, group and wording of what is being resolved."""
    registry = {"plain": dict, "sorted": list}
    assert resolve_class("plain", registry, group="eventbt.test_things") is dict
    with pytest.raises(PluginError) as excinfo:
        resolve_class("sortd", registry, group="eventbt.test_things", kind="thing")
    assert str(excinfo.value) == (
        "unknown thing 'sortd' (did you mean 'sorted'?); known: plain, sorted, "
        "or an import path 'package.module:Class'"
    )


def test_entry_point_models_build(entry_points: list[importlib.metadata.EntryPoint]) -> None:
    """A name registered in the eventbt.cost_models group builds, and unknown-name errors list it."""
    entry_points.append(
        importlib.metadata.EntryPoint(
            name="flat_plus", value="plugin_fixtures:FlatPlusPercentCommission", group=COST_MODEL_GROUP
        )
    )
    model = commission({"model": "flat_plus", "base": 2.0})
    assert model == fixtures().FlatPlusPercentCommission(base=2.0)
    with pytest.raises(ScenarioError,
                       match=r"known: fixed, flat_plus, ibkr_tiered, per_share, percentage, sec_fee, zero,"):
        commission({"model": "flat"})


def test_built_in_names_shadow_entry_points(entry_points: list[importlib.metadata.EntryPoint]) -> None:
    """An entry point named like a built-in model does not replace it."""
    entry_points.append(
        importlib.metadata.EntryPoint(
            name="zero", value="plugin_fixtures:FlatPlusPercentCommission", group=COST_MODEL_GROUP
        )
    )
    assert commission({"model": "zero"}) == ZeroCommission()


def test_entry_point_that_fails_to_load(entry_points: list[importlib.metadata.EntryPoint]) -> None:
    """An entry point that cannot be loaded is reported with its name, value and group."""
    entry_points.append(
        importlib.metadata.EntryPoint(name="gone", value="no_such_costs_module:Model", group=COST_MODEL_GROUP)
    )
    with pytest.raises(ScenarioError) as excinfo:
        commission({"model": "gone"})
    assert str(excinfo.value) == (
        "scenarios/x.toml: [execution.commission] cannot load entry point 'gone' = "
        "'no_such_costs_module:Model' of group 'eventbt.cost_models': ModuleNotFoundError: "
        "No module named 'no_such_costs_module'"
    )


def test_build_built_in_models_by_name() -> None:
    """A registered name with its parameters builds the built-in class; ints are accepted for floats."""
    assert commission({"model": "per_share", "per_share": 0.005, "minimum": 1, "max_pct": 0.01}) == (
        PerShareCommission(per_share=0.005, minimum=1.0, max_pct=0.01)
    )
    assert slippage({"model": "fixed_bps", "bps": 5}) == FixedBpsSlippage(bps=5)


def test_build_custom_attrs_model_by_import_path() -> None:
    """An attrs class in the user's module builds from its import path and computes its commission."""
    model = commission({"model": "plugin_fixtures:FlatPlusPercentCommission", "base": 1.0, "rate": 0.001})
    # 1.00 + 0.001 * 10,000.00 = 11.00
    assert model.commission(100, 10_000.0) == pytest.approx(11.0)  # type: ignore[attr-defined]


def test_build_plain_class_and_dotted_path() -> None:
    """A plain class and a class nested in another, both named by import path, build and work."""
    spread = slippage({"model": "plugin_fixtures:SpreadSlippage", "spread": 0.002})
    # buy: 100.00 * (1 + 0.002 / 2) = 100.10
    assert spread.fill_price(1, 100.0, 10) == pytest.approx(100.1)  # type: ignore[attr-defined]
    discount = commission({"model": "plugin_fixtures:Brokers.Discount"})
    assert discount.commission(5, 100.0) == 1.0  # type: ignore[attr-defined]


def test_unknown_kind() -> None:
    """build_model knows only commission and slippage models."""
    with pytest.raises(ValueError, match=r"^kind must be 'commission' or 'slippage', got 'fees'$"):
        build_model("fees", {"model": "zero"}, path=SCENARIO, table="execution.fees")


BAD_SPECS = [
    (
        "commission",
        {"model": "per_shares"},
        "[execution.commission] unknown commission model 'per_shares' (did you mean 'per_share'?); known: "
        "fixed, ibkr_tiered, per_share, percentage, sec_fee, zero, or an import path 'package.module:Class'",
        "model",
    ),
    (
        "slippage",
        {"model": "linear"},
        "[execution.slippage] unknown slippage model 'linear'; known: fixed_bps, half_spread, spread_by_symbol, "
        "sqrt_impact, volume_share, zero, "
        "or an import path 'package.module:Class'",
        "model",
    ),
    (
        "slippage",
        {"model": "fixed_bps", "bsp": 5},
        "[execution.slippage] unknown key 'bsp' (did you mean 'bps'?)",
        "bsp",
    ),
    (  # the same key in another case: too far apart for a spelling match, found as a case twin
        "slippage",
        {"model": "fixed_bps", "BPS": 5},
        "[execution.slippage] unknown key 'BPS' (did you mean 'bps'?)",
        "BPS",
    ),
    (
        "commission",
        {"model": "fixed", "amount": 1.0, "currency": "USD"},
        "[execution.commission] unknown key 'currency'; the fixed model takes amount",
        "currency",
    ),
    (
        "commission",
        {"model": "zero", "bps": 5},
        "[execution.commission] unknown key 'bps'; the zero model takes no parameters",
        "bps",
    ),
    (
        "commission",
        {"model": "percentage", "rate": "0.1%"},
        "[execution.commission] key 'rate' expects float, got str '0.1%'",
        "rate",
    ),
    (
        "commission",
        {"model": "per_share", "max_pct": "1%"},
        "[execution.commission] key 'max_pct' expects float | None, got str '1%'",
        "max_pct",
    ),
    (
        "slippage",
        {"model": "fixed_bps", "bps": True},
        "[execution.slippage] key 'bps' expects float, got bool True",
        "bps",
    ),
    (
        "slippage",
        {"model": "spread_by_symbol", "spread_bps": "KO"},
        "[execution.slippage] key 'spread_bps' expects table | array, got str 'KO'",
        "spread_bps",
    ),
    (
        "slippage",
        {"model": "spread_by_symbol", "spread_bps": {"KO": -1.0}},
        "[execution.slippage] invalid spread_by_symbol model: spread_bps['KO'] must be >= 0 and < 10000 "
        "(1 bp = 0.01%), got -1.0",
        "spread_bps",
    ),
    (
        "commission",
        {"model": "per_share", "minimum": -1},
        "[execution.commission] invalid per_share model: minimum must be >= 0, got -1",
        "minimum",
    ),
    (
        "slippage",
        {"model": "fixed_bps", "bps": 20_000},
        "[execution.slippage] invalid fixed_bps model: "
        "bps must be >= 0 and < 10000 (1 bp = 0.01%), got 20000",
        "bps",
    ),
    (
        "commission",
        {"model": "percentage"},
        "[execution.commission] missing key 'rate' (the percentage model requires it)",
        "rate",
    ),
    ("commission", {"rate": 0.001}, "[execution.commission] missing key 'model'", "model"),
    ("commission", {"model": 5}, "[execution.commission] key 'model' expects str, got int 5", "model"),
    (
        "commission",
        {"model": "plugin_fixtures.FlatPlusPercentCommission"},
        "[execution.commission] import path 'plugin_fixtures.FlatPlusPercentCommission' has no ':' between "
        "module and attribute (did you mean 'plugin_fixtures:FlatPlusPercentCommission'?)",
        "model",
    ),
    (
        "commission",
        {"model": "no_such_costs_module:Model"},
        "[execution.commission] cannot import 'no_such_costs_module:Model': "
        "no module named 'no_such_costs_module'" + IMPORT_HINT,
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures.nested:Model"},
        "[execution.commission] cannot import 'plugin_fixtures.nested:Model': "
        "no module named 'plugin_fixtures.nested'",
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures:Missing"},
        "[execution.commission] cannot import 'plugin_fixtures:Missing': "
        "module 'plugin_fixtures' has no attribute 'Missing'",
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures:Brokers.Premium"},
        "[execution.commission] cannot import 'plugin_fixtures:Brokers.Premium': "
        "module 'plugin_fixtures' has no attribute 'Brokers.Premium'",
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures:NotACostModel"},
        "[execution.commission] model 'plugin_fixtures:NotACostModel' is not a commission model: "
        "NotACostModel has no commission() method",
        "model",
    ),
    (
        "slippage",
        {"model": "plugin_fixtures:FlatPlusPercentCommission", "base": 1.0},
        "[execution.slippage] model 'plugin_fixtures:FlatPlusPercentCommission' is not a slippage model: "
        "FlatPlusPercentCommission has no fill_price() method",
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures:make_commission"},
        "[execution.commission] 'plugin_fixtures:make_commission' is a function, not a class",
        "model",
    ),
    (
        "commission",
        {"model": "plugin_fixtures:FlatPlusPercentCommission", "base": -1.0},
        "[execution.commission] invalid plugin_fixtures:FlatPlusPercentCommission model: "
        "base must be >= 0, got -1.0",
        "base",
    ),
    (
        "slippage",
        {"model": "plugin_fixtures:SpreadSlippage", "spread": "wide"},
        "[execution.slippage] key 'spread' expects float, got str 'wide'",
        "spread",
    ),
]


@pytest.mark.parametrize(("kind", "spec", "message", "key"), BAD_SPECS)
def test_build_model_errors(kind: str, spec: dict[str, object], message: str, key: str) -> None:
    """Each mistake in a cost-model table is a ScenarioError naming the file, the table and the key."""
    table = f"execution.{kind}"
    with pytest.raises(ScenarioError) as excinfo:
        build_model(kind, spec, path=SCENARIO, table=table)
    assert str(excinfo.value) == f"{SCENARIO}: {message}"
    assert (excinfo.value.path, excinfo.value.table, excinfo.value.key) == (SCENARIO, table, key)


def test_build_model_error_without_a_file() -> None:
    """Without a scenario file (a model built in code) the message starts with the table."""
    with pytest.raises(ScenarioError) as excinfo:
        build_model("slippage", {"model": "fixed_bps", "bsp": 5}, path=None, table="execution.slippage")
    assert str(excinfo.value) == "[execution.slippage] unknown key 'bsp' (did you mean 'bps'?)"


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("commission", {"model": "zero"}),
        ("commission", {"model": "percentage", "rate": 0.001, "minimum": 1.0}),
        ("commission", {"model": "fixed", "amount": 4.95}),
        ("commission", {"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01}),
        ("commission", {"model": "per_share", "per_share": 0.01, "minimum": 2.0, "max_pct": 0.005}),
        ("slippage", {"model": "zero"}),
        ("slippage", {"model": "fixed_bps", "bps": 5}),
        ("commission", {"model": "plugin_fixtures:FlatPlusPercentCommission", "base": 1.0, "rate": 0.0}),
        ("commission", {"model": "plugin_fixtures:Brokers.Discount"}),
        ("slippage", {"model": "plugin_fixtures:SpreadSlippage", "spread": 0.002}),
    ],
)
def test_describe_model_round_trips(kind: str, spec: dict[str, object]) -> None:
    """describe_model gives back the table a model was built from, in order, leaving out None parameters."""
    model = build_model(kind, spec, path=None, table=f"execution.{kind}")
    assert describe_model(model) == spec
    assert list(describe_model(model)) == list(spec)


def test_describe_model_leaves_out_none_parameters() -> None:
    """A parameter set to None (no cap) is left out of the table, as TOML has no null."""
    from eventbt.costs import PerShareCommission

    assert describe_model(PerShareCommission(max_pct=None)) == {"model": "per_share", "per_share": 0.005,
                                                                 "minimum": 1.0}
