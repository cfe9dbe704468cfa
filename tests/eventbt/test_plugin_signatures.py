"""A plug-in of the wrong shape is found when it is built (before any bar), with the signature it should have.

Cost models, ``[[handlers]]`` and strategies from ``tests/eventbt/hostile_fixtures.py``, built the way the run
and ``eventbt validate`` build them; the cost-model contract checks of :mod:`eventbt.testing` report the same
problems as failures; an import path whose module is nowhere on ``sys.path`` says so.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from eventbt.errors import PluginError, ScenarioError
from eventbt.scenario.plugins import IMPORT_HINT, build_handler, build_model, build_strategy, resolve_import_path
from eventbt.testing import check_commission_model, check_slippage_model
from tests.eventbt import hostile_fixtures as fixtures

F = "tests.eventbt.hostile_fixtures"
SCENARIO = "scenarios/x.toml"

MODELS: list[tuple[str, str, str]] = [
    ("commission", "OneArgumentCommission",
     f"model '{F}:OneArgumentCommission' is not a commission model: it has commission(order), which cannot be "
     "called as commission(quantity, value) or commission(quantity, value, order) (too many positional arguments)"),
    ("commission", "FourArgumentCommission",
     f"model '{F}:FourArgumentCommission' is not a commission model: it has commission(quantity, value, side, "
     "venue), which cannot be called as commission(quantity, value) or commission(quantity, value, order) (missing "
     "a required argument: 'side')"),
    ("commission", "NotCallableCommission",
     f"model '{F}:NotCallableCommission' is not a commission model: its commission is float 5.0, not a method"),
    ("slippage", "NumberBarFields",
     f"model '{F}:NumberBarFields' has bar_fields = 5; expected a tuple of BarContext field names, or a tuple of "
     "such tuples ('int' object is not iterable)"),
    ("slippage", "TwoArgumentFill",
     f"model '{F}:TwoArgumentFill' is not a slippage model: it has fill_price(price, order), which cannot be "
     "called as fill_price(side, reference_price, quantity) or fill_price(side, reference_price, quantity, order) "
     "(too many positional arguments)"),
]


@pytest.mark.parametrize(("kind", "name", "message"), MODELS, ids=[case[1] for case in MODELS])
def test_a_cost_model_of_the_wrong_signature_is_refused_when_built(kind: str, name: str, message: str) -> None:
    """build_model (used by the run and by validate) names the table, the model and the expected signature."""
    with pytest.raises(ScenarioError) as caught:
        build_model(kind, {"model": f"{F}:{name}"}, path=SCENARIO, table=f"execution.{kind}")
    assert str(caught.value) == f"{SCENARIO}: [execution.{kind}] {message}"
    assert caught.value.key == "model"


HANDLERS: list[tuple[str, str]] = [
    ("MisspeltHook", f"handler 'misspelt' ({F}:MisspeltHook) subscribes to FillEvent but has no on_fill(event) method"),
    ("HookWithoutEvent", f"handler 'no_event' ({F}:HookWithoutEvent) has on_fill(), which cannot be called as "
     "on_fill(event) (too many positional arguments)"),
    ("FinishWithArgument", f"handler 'finish_argument' ({F}:FinishWithArgument) has finish(result), which cannot "
     "be called as finish() (missing a required argument: 'result')"),
    ("SubscribesToOneClass", f"handler 'not_a_tuple' ({F}:SubscribesToOneClass) has subscribes = FillEvent; "
     "expected a tuple of event classes from eventbt.events, e.g. (FillEvent,)"),
    ("SubscribesByName", f"handler 'by_name' ({F}:SubscribesByName) has subscribes = ('FillEvent',); expected a "
     "tuple of event classes from eventbt.events, e.g. (FillEvent,)"),
    ("RaisingConstructor", f"invalid {F}:RaisingConstructor handler: its constructor raised RuntimeError: no "
     "licence file"),
    ("Impostor", f"handler 'portfolio' ({F}:Impostor) takes the name of the built-in 'portfolio' stage, under "
     "which the audit log would show its events; expected a name of its own"),
]


@pytest.mark.parametrize(("name", "message"), HANDLERS, ids=[case[0] for case in HANDLERS])
def test_a_handler_that_does_not_fit_the_bus_is_refused_when_built(name: str, message: str) -> None:
    """build_handler names the [[handlers]] entry, the handler, its class and what the bus would call."""
    with pytest.raises(ScenarioError) as caught:
        build_handler(f"{F}:{name}", {}, path=SCENARIO, table="handlers[0]")
    assert str(caught.value) == f"{SCENARIO}: [handlers[0]] {message}"


STRATEGIES: list[tuple[str, str]] = [
    ("UpdateWithoutView", f"'{F}:UpdateWithoutView' is not a signal generator: it has update(), which cannot be "
     "called as update(view) (too many positional arguments)"),
    ("TargetsWithTwoArguments", f"'{F}:TargetsWithTwoArguments' is not a signal generator: it has "
     "target_weights(view, cash), which cannot be called as target_weights(view) (missing a required argument: "
     "'cash')"),
]


@pytest.mark.parametrize(("name", "message"), STRATEGIES, ids=[case[0] for case in STRATEGIES])
def test_a_strategy_of_the_wrong_signature_is_refused_when_built(name: str, message: str) -> None:
    """build_strategy names the strategy and the methods it should have."""
    with pytest.raises(ScenarioError) as caught:
        build_strategy(f"{F}:{name}", {}, path=SCENARIO)
    assert str(caught.value) == f"{SCENARIO}: [strategy] {message}"


CONTRACT: list[tuple[Any, Any, str]] = [
    (check_commission_model, fixtures.OneArgumentCommission(),
     ": has commission(order), which cannot be called as commission(quantity, value) or commission(quantity, value, "
     "order) (too many positional arguments)"),
    (check_commission_model, fixtures.TwoArgumentFill(),
     ": has no commission() method; expected commission(quantity, value) or commission(quantity, value, order)"),
    (check_commission_model, fixtures.RaisingCommission(),
     ": commission(quantity=0, value=0.0) raised RuntimeError: rate table not loaded"),
    (check_slippage_model, fixtures.TwoArgumentFill(),
     ": has fill_price(price, order), which cannot be called as fill_price(side, reference_price, quantity) or "
     "fill_price(side, reference_price, quantity, order) (too many positional arguments)"),
    (check_slippage_model, fixtures.NegativeCommission(),
     ": has no fill_price() method; expected fill_price(side, reference_price, quantity) or fill_price(side, "
     "reference_price, quantity, order)"),
    (check_slippage_model, fixtures.RaisingFill(),
     ": fill_price(side=1, reference_price=0.01, quantity=1) raised ZeroDivisionError: division by zero"),
]


@pytest.mark.parametrize(("check", "model", "message"), CONTRACT,
                         ids=[f"{case[0].__name__}-{type(case[1]).__name__}" for case in CONTRACT])
def test_the_contract_checks_report_the_wrong_shape_as_a_failure(check: Any, model: Any, message: str) -> None:
    """An AssertionError naming the model (its import path: these classes have no repr of their own) and what is
    wrong, never a bare TypeError or AttributeError."""
    assert type(model).__repr__ is object.__repr__
    with pytest.raises(AssertionError) as caught:
        check(model)
    assert str(caught.value) == f"{type(model).__module__}:{type(model).__qualname__}" + message


def test_a_top_module_not_on_sys_path_is_said_to_be_so() -> None:
    """A missing top-level module gets the hint about sys.path; a missing submodule of a found package does not."""
    with pytest.raises(PluginError, match="^" + re.escape("cannot import 'tiered:Tiered': no module named 'tiered'"
                                                          + IMPORT_HINT) + "$"):
        resolve_import_path("tiered:Tiered")
    assert IMPORT_HINT.startswith(" (eventbt adds neither the scenario's folder nor the working directory")
    with pytest.raises(PluginError) as caught:
        resolve_import_path("tests.eventbt.no_such_module:Thing")
    assert str(caught.value) == "cannot import 'tests.eventbt.no_such_module:Thing': no module named " \
                                "'tests.eventbt.no_such_module'"


def test_a_handler_whose_bind_fails_is_named_before_the_first_bar() -> None:
    """bind_handler (the run's and validate's) turns the handler's own KeyError into a ContractError naming it."""
    import numpy as np

    from eventbt.errors import ContractError
    from eventbt.handler import Context
    from eventbt.portfolio import Portfolio
    from eventbt.scenario.plugins import bind_handler

    handler = fixtures.RaisingBind()
    context = Context(symbols=("A",), dates=np.array([], dtype="datetime64[ns]"), portfolio=Portfolio(("A",), 1.0))
    with pytest.raises(ContractError) as caught:
        bind_handler(handler, context)
    assert str(caught.value) == (f"handler 'raising_bind' ({F}:RaisingBind) raised KeyError: 'SPY' in "
                                 "bind(context), before the first bar")
