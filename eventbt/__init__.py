"""eventbt: an event-driven, message-bus backtest simulator for portfolio-allocation strategies.

The public API is re-exported here. Heavy modules (pandas, the simulation) load on first use, so
``import eventbt`` and the command line start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from eventbt.audit import AuditLog
    from eventbt.bus import Bus, Delivery
    from eventbt.errors import (
        AccountingError,
        AuditError,
        BusError,
        DataError,
        EventbtError,
        HandlerError,
        PluginError,
        RunInterrupted,
        ScenarioError,
        SignalError,
    )
    from eventbt.events import (
        BarEndEvent,
        BarOpenEvent,
        CancelEvent,
        Event,
        FillEvent,
        MarketEvent,
        NoticeEvent,
        OrderEvent,
        Side,
        SignalEvent,
        SnapshotEvent,
    )
    from eventbt.handler import Context, Handler
    from eventbt.portfolio import Portfolio
    from eventbt.prices import PriceData
    from eventbt.protocols import CommissionModel, PriceView, SignalGenerator, SlippageModel
    from eventbt.results import Result
    from eventbt.scenario import ScenarioConfig
    from eventbt.simulation import Simulation, run

_EXPORTS = {
    "AccountingError": "eventbt.errors",
    "AuditError": "eventbt.errors",
    "AuditLog": "eventbt.audit",
    "BarEndEvent": "eventbt.events",
    "BarOpenEvent": "eventbt.events",
    "Bus": "eventbt.bus",
    "BusError": "eventbt.errors",
    "CancelEvent": "eventbt.events",
    "CommissionModel": "eventbt.protocols",
    "Context": "eventbt.handler",
    "DataError": "eventbt.errors",
    "Delivery": "eventbt.bus",
    "Event": "eventbt.events",
    "EventbtError": "eventbt.errors",
    "FillEvent": "eventbt.events",
    "Handler": "eventbt.handler",
    "HandlerError": "eventbt.errors",
    "MarketEvent": "eventbt.events",
    "NoticeEvent": "eventbt.events",
    "OrderEvent": "eventbt.events",
    "PluginError": "eventbt.errors",
    "Portfolio": "eventbt.portfolio",
    "PriceData": "eventbt.prices",
    "PriceView": "eventbt.protocols",
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
    "run": "eventbt.simulation",
}

__all__ = [
    "AccountingError",
    "AuditError",
    "AuditLog",
    "BarEndEvent",
    "BarOpenEvent",
    "Bus",
    "BusError",
    "CancelEvent",
    "CommissionModel",
    "Context",
    "DataError",
    "Delivery",
    "Event",
    "EventbtError",
    "FillEvent",
    "Handler",
    "HandlerError",
    "MarketEvent",
    "NoticeEvent",
    "OrderEvent",
    "PluginError",
    "Portfolio",
    "PriceData",
    "PriceView",
    "Result",
    "RunInterrupted",
    "ScenarioConfig",
    "ScenarioError",
    "Side",
    "SignalError",
    "SignalEvent",
    "SignalGenerator",
    "Simulation",
    "SlippageModel",
    "SnapshotEvent",
    "__version__",
    "run",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventbt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
