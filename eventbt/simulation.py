"""A run: scenario and data in, the bus wired with the pipeline's handlers, results out.

:class:`Simulation` builds the pipeline for a scenario (data feed -> strategy -> rebalance -> execution ->
portfolio), runs it to the end or one event at a time, and turns the histories into a
:class:`~eventbt.results.Result`. It is also the object the step debugger drives.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eventbt import __version__, plugins
from eventbt.audit import AuditLog
from eventbt.bus import Bus, Delivery
from eventbt.errors import HandlerError, RunInterrupted, ScenarioError
from eventbt.events import Event
from eventbt.handler import Context, Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import PriceData
from eventbt.results import Result, build_result
from eventbt.scenario import ScenarioConfig
from eventbt.schedule import rebalance_mask
from handlers.data_feed import DataFeed
from handlers.execution import ExecutionHandler
from handlers.portfolio import PortfolioHandler
from handlers.rebalance import RebalanceHandler
from handlers.strategy import StrategyHandler

__all__ = ["Simulation", "load_scenario_prices", "run"]


def load_scenario_prices(config: ScenarioConfig) -> PriceData:
    """Load the prices a scenario names (its symbols and date range)."""
    from eventbt.loaders import load_prices

    data = config.data
    return load_prices(
        config.data_path, format=data.format, symbols=list(data.symbols) or None,
        start=data.start or None, end=data.end or None, display_path=data.path,
    )


class Simulation:
    """One backtest run, wired and ready: :meth:`run` it, or :meth:`step` through it."""

    def __init__(self, config: ScenarioConfig, *, prices: PriceData | None = None,
                 audit_path: str | os.PathLike[str] | None = None, audit: bool = True,
                 progress: Callable[[int], None] | None = None,
                 extra_handlers: Sequence[Handler] = ()) -> None:
        self.config = config
        self.prices = prices if prices is not None else load_scenario_prices(config)
        source = config.source
        self.portfolio = Portfolio(self.prices.symbols, config.portfolio.initial_cash)
        self.context = Context(symbols=self.prices.symbols, dates=self.prices.dates, portfolio=self.portfolio)
        self.audit = AuditLog(audit_path, enabled=audit)
        self.bus = Bus(self.audit)
        execution = config.execution
        commission = plugins.build_model("commission", execution.commission, path=source,
                                         table="execution.commission")
        slippage = plugins.build_model("slippage", execution.slippage, path=source, table="execution.slippage")
        generator = plugins.build_strategy(config.strategy.name, config.strategy.params, path=source)
        schedule = config.schedule
        mask = rebalance_mask(self.prices.dates, rebalance=schedule.rebalance, every_n_bars=schedule.every_n_bars,
                              dates_list=schedule.dates, source=source)
        next_open = execution.timing == "next_open"
        if next_open and self.prices.open is None:
            raise ScenarioError(
                f"[execution] timing = 'next_open' needs open prices, but {config.data.path} has none "
                "(use a long or per-symbol file with an open column)",
                path=source, table="execution", key="timing",
            )
        self.strategy = StrategyHandler(generator, mask, strategy_name=config.strategy.name)  # type: ignore[arg-type]
        self.rebalance = RebalanceHandler(commission=commission, slippage=slippage,  # type: ignore[arg-type]
                                          cash_buffer=config.rebalance.cash_buffer,
                                          min_trade_value=config.rebalance.min_trade_value)
        self.execution = ExecutionHandler(commission=commission, slippage=slippage,  # type: ignore[arg-type]
                                          timing=execution.timing)
        self.portfolio_handler = PortfolioHandler(weights_lag=1 if next_open else 0)
        # Delivery order within an event follows this list: the books first (marks, fills), then the
        # decision makers, so every handler reading the portfolio sees the bar's marks.
        handlers: list[Handler] = [self.portfolio_handler, self.strategy, self.rebalance, self.execution,
                                   *extra_handlers]
        for handler in handlers:
            handler.bind(self.context)
            self.bus.add(handler)
        self.feed = DataFeed(self.prices, self.context.next_id, with_open=next_open, on_bar_end=progress)
        self.bus.attach_source(self.feed)
        self.finished = False
        self.status = "running"
        self._write_header()

    @classmethod
    def from_scenario(cls, path: str | os.PathLike[str], overrides: Sequence[str] = (),
                      **options: Any) -> Simulation:
        return cls(ScenarioConfig.from_toml(path, overrides), **options)

    def _write_header(self) -> None:
        import numpy
        import pandas

        self.audit.header(
            eventbt_version=__version__,
            scenario=self.config.to_dict(),
            data_files=dict(sorted(self.prices.sources.items())),
            symbols=list(self.prices.symbols),
            bars=self.prices.n_bars,
            environment={
                "python": platform.python_version(),
                "numpy": numpy.__version__,
                "pandas": pandas.__version__,
                "scenario_file": self.config.source,
            },
            wall_clock={"started": _now_iso()},
        )

    # -- running --------------------------------------------------------------------------------------
    def step(self) -> Delivery | None:
        """Deliver one event (see :meth:`eventbt.bus.Bus.step`); finishes the run when the data ends."""
        delivery = self.bus.step()
        if delivery is None:
            self._finish()
        return delivery

    def run(self, stop: Callable[[Event], bool] | None = None) -> Result | None:
        """Run to the end (returns the result) or until ``stop(next_event)`` is true (returns ``None``)."""
        try:
            stopped = self.bus.run(stop)
            if stopped is not None:
                return None
            self._finish()
        except KeyboardInterrupt:
            self._end("interrupted", error="interrupted by SIGINT")
            raise RunInterrupted("run interrupted; results up to the interruption are incomplete") from None
        except BaseException as exc:
            fields: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__}
            if isinstance(exc, HandlerError):
                fields["handler"] = exc.handler
                fields["chain"] = [getattr(event, "id", None) for event in exc.chain]
            self._end("failed", **fields)
            raise
        return self.result()

    def _finish(self) -> None:
        if self.finished:
            return
        for handler in self.bus.handlers:
            for event in handler.finish() or ():
                self.bus.publish(event, handler.name)
        self.bus.run()
        self._end("completed")

    def _end(self, status: str, **fields: Any) -> None:
        if self.finished:
            return
        self.finished = True
        self.status = status
        self.audit.close(status, events=self.bus.delivered, bars=len(self.portfolio_handler.values),
                         wall_clock={"ended": _now_iso()}, **fields)

    def result(self) -> Result:
        """Results so far (complete once the run has finished)."""
        return build_result(self)


def _now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run(scenario: str | os.PathLike[str] | ScenarioConfig, *, overrides: Sequence[str] = (),
        out: str | os.PathLike[str] | None = None, **options: Any) -> Result:
    """Run a scenario (a file path or a :class:`ScenarioConfig`) to the end and return its results.

    With ``out``, the result files are written there (see :meth:`eventbt.results.Result.write`).
    """
    config = scenario if isinstance(scenario, ScenarioConfig) else ScenarioConfig.from_toml(scenario, overrides)
    if out is not None and "audit_path" not in options:
        options["audit_path"] = Path(out) / "audit.jsonl"
    simulation = Simulation(config, **options)
    result = simulation.run()
    assert result is not None
    if out is not None:
        result.write(out)
    return result
