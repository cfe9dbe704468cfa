"""eventbt: an event-driven, message-bus backtest simulator for portfolio-allocation strategies.

The public API is re-exported here. Heavy modules (pandas, the simulation) load on first use, so
``import eventbt`` and the command line start fast. ``dir(eventbt)`` lists only what has been loaded, so
tools that walk module attributes (freezegun, for one) do not import everything.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Modules that moved in 0.2, old name -> new name. The old names still import, for one release, as aliases
# that warn (DeprecationWarning) when a name is taken from them; the next release removes them.
MOVED_MODULES = {
    "eventbt.debugger": "eventbt.debug.debugger",
    "eventbt.debug_views": "eventbt.debug.views",
    "eventbt.debug_render": "eventbt.debug.render",
    "eventbt.debug_prompt": "eventbt.debug.prompt",
    "eventbt.loaders": "eventbt.data.loaders",
    "eventbt.validation": "eventbt.data.checks",
    "eventbt.scenario_checks": "eventbt.scenario.schema",
    "eventbt.toml_writer": "eventbt.scenario.toml_writer",
    "eventbt.plugin_arguments": "eventbt.scenario.arguments",
    "eventbt.replayer": "eventbt.replays.replayer",
    "eventbt.divergence": "eventbt.replays.divergence",
    "eventbt.bench_workloads": "eventbt.bench.workloads",
    "eventbt.validator": "eventbt.scenario.validate",
    "eventbt.plugins": "eventbt.scenario.plugins",
    "eventbt.metrics": "eventbt.results.metrics",
    "eventbt.tables": "eventbt.display.tables",
    "eventbt.progress": "eventbt.display.progress",
    "eventbt.report.format": "eventbt.display.format",
    "eventbt.report.svg": "eventbt.display.svg",
    "handlers.costs": "eventbt.costs",
    "handlers.impact": "eventbt.costs.impact",
    "eventbt.sweep_executors": "eventbt.sweeps.executors",
    "eventbt.walkforward": "eventbt.sweeps.walkforward",
    "eventbt.verify": "eventbt.replays.verify",
    "eventbt.commands": "eventbt.cli.commands",
}


class _MovedModuleFinder:
    """Imports a moved module's old name as a module that forwards every name to the new one, with a warning.

    A meta path finder and its own loader by shape (``find_spec``, ``create_module``, ``exec_module``), not by
    subclassing ``importlib.abc``, whose import costs more than the rest of ``import eventbt``."""

    def __init__(self, moved: dict[str, str]) -> None:
        self.moved = moved

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(name, self) if name in self.moved else None  # type: ignore[arg-type]

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        old, new = module.__name__, self.moved[module.__name__]

        def forward(attribute: str) -> Any:
            if attribute.startswith("__"):
                raise AttributeError(attribute)
            warnings.warn(f"{old} is deprecated and goes in the next release: import {attribute} from {new}",
                          DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(new), attribute)

        module.__getattr__ = forward  # type: ignore[method-assign]


def install_moved_modules(moved: dict[str, str]) -> None:
    """Make the old names of ``moved`` (old -> new) importable as warning aliases (see :data:`MOVED_MODULES`)."""
    for finder in sys.meta_path:
        if isinstance(finder, _MovedModuleFinder):
            finder.moved.update(moved)
            return
    sys.meta_path.append(_MovedModuleFinder(dict(moved)))


install_moved_modules(MOVED_MODULES)

if TYPE_CHECKING:
    from eventbt.audit import AuditLog
    from eventbt.bus import (
        Bus,
        Delivery,
    )
    from eventbt.debug.debugger import (
        Breakpoint,
        Debugger,
    )
    from eventbt.debug.records import StepRecord
    from eventbt.errors import (
        AccountingError,
        AuditError,
        BusError,
        ContractError,
        DataError,
        DebuggerError,
        EventbtError,
        HandlerError,
        OutputError,
        PluginError,
        RunInterrupted,
        ScenarioError,
        SignalError,
        SweepError,
    )
    from eventbt.events import (
        BarEndEvent,
        BarOpenEvent,
        CancelEvent,
        CashFlowEvent,
        DataEndEvent,
        DividendEvent,
        DividendPaymentEvent,
        Event,
        FeeEvent,
        FillEvent,
        MarginCallEvent,
        MarketEvent,
        NoticeCode,
        NoticeEvent,
        OrderEvent,
        OrderReason,
        OrderState,
        OrderStateEvent,
        Side,
        SignalEvent,
        SnapshotEvent,
        SplitAdjustmentEvent,
        SplitEvent,
        WarmupBarEvent,
    )
    from eventbt.handler import (
        Context,
        Handler,
    )
    from eventbt.pipeline import (
        Pipeline,
        build_pipeline,
    )
    from eventbt.portfolio import (
        BookHistory,
        Portfolio,
        PortfolioView,
    )
    from eventbt.prices import CorporateAction, PriceData
    from eventbt.protocols import (
        BarContext,
        CommissionModel,
        OrderContext,
        PriceView,
        SignalGenerator,
        SlippageModel,
    )
    from eventbt.replays.replayer import (
        ReplayReport,
        replay,
    )
    from eventbt.replays.verify import (
        VerifyReport,
        verify_run,
    )
    from eventbt.report import write_report
    from eventbt.results import Result
    from eventbt.results.metrics import compute_metrics
    from eventbt.scenario import ScenarioConfig
    from eventbt.scenario.validate import (
        ValidationReport,
        validate,
    )
    from eventbt.simulation import (
        Simulation,
        run,
    )
    from eventbt.sweeps.grid import (
        SweepResult,
        sweep,
    )
    from eventbt.sweeps.walkforward import walk_forward

# The public API: name -> the module that defines it. The names load on first use (so `import eventbt` stays
# light); the block above says the same to type checkers, and tests/eventbt/test_exported_members.py checks
# that the two agree and that each name is the object its module defines.
_EXPORTS: dict[str, str] = {
    "AccountingError": "eventbt.errors",
    "AuditError": "eventbt.errors",
    "AuditLog": "eventbt.audit",
    "BarContext": "eventbt.protocols",
    "BarEndEvent": "eventbt.events",
    "BarOpenEvent": "eventbt.events",
    "BookHistory": "eventbt.portfolio",
    "Breakpoint": "eventbt.debug.debugger",
    "Bus": "eventbt.bus",
    "BusError": "eventbt.errors",
    "CancelEvent": "eventbt.events",
    "CashFlowEvent": "eventbt.events",
    "CommissionModel": "eventbt.protocols",
    "ContractError": "eventbt.errors",
    "Context": "eventbt.handler",
    "CorporateAction": "eventbt.prices",
    "DataEndEvent": "eventbt.events",
    "DataError": "eventbt.errors",
    "Debugger": "eventbt.debug.debugger",
    "DebuggerError": "eventbt.errors",
    "Delivery": "eventbt.bus",
    "DividendEvent": "eventbt.events",
    "DividendPaymentEvent": "eventbt.events",
    "Event": "eventbt.events",
    "EventbtError": "eventbt.errors",
    "FeeEvent": "eventbt.events",
    "FillEvent": "eventbt.events",
    "Handler": "eventbt.handler",
    "HandlerError": "eventbt.errors",
    "MarginCallEvent": "eventbt.events",
    "MarketEvent": "eventbt.events",
    "NoticeCode": "eventbt.events",
    "NoticeEvent": "eventbt.events",
    "OrderContext": "eventbt.protocols",
    "OrderEvent": "eventbt.events",
    "OrderReason": "eventbt.events",
    "OrderState": "eventbt.events",
    "OrderStateEvent": "eventbt.events",
    "OutputError": "eventbt.errors",
    "Pipeline": "eventbt.pipeline",
    "PluginError": "eventbt.errors",
    "Portfolio": "eventbt.portfolio",
    "PortfolioView": "eventbt.portfolio",
    "PriceData": "eventbt.prices",
    "PriceView": "eventbt.protocols",
    "ReplayReport": "eventbt.replays.replayer",
    "Result": "eventbt.results",
    "RunInterrupted": "eventbt.errors",
    "ScenarioConfig": "eventbt.scenario",
    "ScenarioError": "eventbt.errors",
    "Side": "eventbt.events",
    "SignalError": "eventbt.errors",
    "SignalEvent": "eventbt.events",
    "SignalGenerator": "eventbt.protocols",
    "Simulation": "eventbt.simulation",
    "SlippageModel": "eventbt.protocols",
    "SnapshotEvent": "eventbt.events",
    "SplitAdjustmentEvent": "eventbt.events",
    "SplitEvent": "eventbt.events",
    "StepRecord": "eventbt.debug.records",
    "SweepError": "eventbt.errors",
    "SweepResult": "eventbt.sweeps.grid",
    "ValidationReport": "eventbt.scenario.validate",
    "VerifyReport": "eventbt.replays.verify",
    "WarmupBarEvent": "eventbt.events",
    "build_pipeline": "eventbt.pipeline",
    "compute_metrics": "eventbt.results.metrics",
    "replay": "eventbt.replays.replayer",
    "run": "eventbt.simulation",
    "sweep": "eventbt.sweeps.grid",
    "validate": "eventbt.scenario.validate",
    "verify_run": "eventbt.replays.verify",
    "walk_forward": "eventbt.sweeps.walkforward",
    "write_report": "eventbt.report",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventbt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
