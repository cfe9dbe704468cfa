"""The scenario wing: TOML files in, a frozen, checked :class:`ScenarioConfig` out.

- :mod:`eventbt.scenario.config`: the configuration classes, ``extends``, ``--set`` overrides;
- :mod:`eventbt.scenario.schema`: every table's and key's checks and defaults;
- :mod:`eventbt.scenario.plugins`: resolving ``module:Class`` paths and registered names to classes;
- :mod:`eventbt.scenario.arguments`: checking a plug-in's parameters against its constructor;
- :mod:`eventbt.scenario.validate`: ``eventbt validate``, every problem of a scenario at once;
- :mod:`eventbt.scenario.toml_writer`: the resolved scenario as TOML text.

The configuration classes are re-exported here (``from eventbt.scenario import ScenarioConfig``).
"""

from eventbt.scenario.config import (
    AuditConfig,
    DataConfig,
    EventConfig,
    ExecutionConfig,
    HandlerConfig,
    PortfolioConfig,
    RebalanceConfig,
    ReportConfig,
    RunConfig,
    ScenarioConfig,
    ScheduleConfig,
    StrategyConfig,
    read_scenario_file,
)

__all__ = [
    "AuditConfig",
    "DataConfig",
    "EventConfig",
    "ExecutionConfig",
    "HandlerConfig",
    "PortfolioConfig",
    "RebalanceConfig",
    "ReportConfig",
    "RunConfig",
    "ScenarioConfig",
    "ScheduleConfig",
    "StrategyConfig",
    "read_scenario_file",
]
