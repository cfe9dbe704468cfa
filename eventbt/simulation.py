"""A run: scenario and data in, the bus wired with the pipeline's handlers, results out.

:class:`Simulation` builds the pipeline for a scenario (data feed -> strategy -> rebalance -> execution ->
portfolio), runs it to the end or one event at a time, and turns the histories into a
:class:`~eventbt.results.Result`. It is also the object the step debugger drives.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from eventbt import __version__, plugins
from eventbt.audit import AuditLog
from eventbt.bus import Bus, Delivery
from eventbt.errors import DataError, HandlerError, PluginError, RunInterrupted, ScenarioError
from eventbt.events import DataEndEvent, Event
from eventbt.handler import Context, Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import PriceData
from eventbt.results import Result, build_result
from eventbt.scenario import ScenarioConfig
from eventbt.schedule import rebalance_mask
from handlers.data_feed import DataFeed
from handlers.delisting import DelistingHandler, interior_gaps, series_bounds
from handlers.execution import ExecutionHandler
from handlers.portfolio import PortfolioHandler
from handlers.rebalance import RebalanceHandler
from handlers.strategy import StrategyHandler

_H = TypeVar("_H", bound=Handler)

if TYPE_CHECKING:
    from eventbt.debug.debugger import Debugger

__all__ = ["Simulation", "load_scenario_prices", "run"]


def load_scenario_prices(config: ScenarioConfig) -> PriceData:
    """Load the prices a scenario names (its symbols and date range)."""
    from eventbt.data.loaders import load_prices

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
                 extra_handlers: Sequence[Handler] = (),
                 stages: Mapping[str, str | type] | None = None) -> None:
        self.config = config
        self.stages = _check_stages(stages or {})
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
        if execution.volume_limit is not None and self.prices.volume is None:
            raise ScenarioError(
                f"[execution] volume_limit = {execution.volume_limit:g} needs volumes, but {config.data.path} "
                "has none (use a long or per-symbol file with a volume column)",
                path=source, table="execution", key="volume_limit",
            )
        plugins.check_bar_data(slippage, self.prices.columns, reference=str(execution.slippage.get("model")),
                               data_path=config.data.path, path=source)
        self.strategy = self._stage("strategy", StrategyHandler, generator=generator, rebalance_bars=mask,
                                    strategy_name=config.strategy.name)
        self.rebalance = self._stage("rebalance", RebalanceHandler, commission=commission, slippage=slippage,
                                     cash_buffer=config.rebalance.cash_buffer,
                                     min_trade_value=config.rebalance.min_trade_value)
        self.execution = self._stage("execution", ExecutionHandler, commission=commission, slippage=slippage,
                                     timing=execution.timing, volume_limit=execution.volume_limit,
                                     remainder=execution.remainder,
                                     # only when set, so a replacement stage written before it still fits
                                     **({"commission_per": execution.commission_per}
                                        if execution.commission_per != "order" else {}))
        self.portfolio_handler = self._stage("portfolio", PortfolioHandler, weights_lag=1 if next_open else 0)
        # [data] missing / delisting (see handlers/delisting.py): gaps are found before the run; the
        # delisting handler is wired only when a series ends before the data does, and goes before the
        # strategy so a liquidation is booked before that bar's signal.
        bounds = series_bounds(self.prices.close)
        self.gaps = interior_gaps(self.prices.close, bounds)
        if self.gaps and config.data.missing == "error":
            j, bar, count = self.gaps[0]
            day = str(self.prices.dates[bar])[:10]
            raise DataError(f"close for {self.prices.symbols[j]!r} is missing on {day} ({count} bars missing "
                            "inside its series); expected no gap, or [data] missing = 'ffill'",
                            path=config.data.path, symbol=self.prices.symbols[j], date=day)
        delisting: list[Handler] = []
        if (bounds[1] < self.prices.n_bars - 1).any():
            delisting.append(DelistingHandler(self.prices.close, policy=config.data.delisting,
                                              path=config.data.path, bounds=bounds))
        # Delivery order within an event follows this list: the books first (marks, fills), then execution
        # (fills still owed from earlier bars are queued before this bar's signal), then the decision
        # makers, so every handler reading the portfolio sees the bar's marks and earlier fills.
        handlers: list[Handler] = [self.portfolio_handler, self.execution, *delisting, self.strategy,
                                   self.rebalance, *_configured_handlers(config), *extra_handlers]
        for handler in handlers:
            handler.bind(self.context)
            self.bus.add(handler)
        self.feed = DataFeed(self.prices, self.context.next_id, with_open=next_open,
                             with_data_end=self.bus.has_subscribers(DataEndEvent), on_bar_end=progress)
        self.bus.attach_source(self.feed)
        self.finished = False
        self.status = "running"
        self.dead_letters: list[HandlerError] = []  # handler errors skipped under [run] on_error = "skip"
        self._write_header()
        for j, bar, count in self.gaps:
            self.audit.note("interior_gap", symbol=self.prices.symbols[j], date=str(self.prices.dates[bar])[:10],
                            bars=count, policy="ffill")

    def _stage(self, stage: str, default: type[_H], **arguments: Any) -> _H:
        """The built-in handler of ``stage``, or its replacement (same keyword arguments), see ``stages``."""
        replacement = self.stages.get(stage)
        if replacement is None:
            return default(**arguments)
        cls = replacement if isinstance(replacement, type) else plugins.resolve_class(
            replacement, getattr(plugins, "HANDLERS", {}), group="eventbt.handlers", kind="handler")
        label = replacement if isinstance(replacement, str) else f"{cls.__module__}:{cls.__qualname__}"
        if not (isinstance(cls, type) and issubclass(cls, Handler)):
            raise PluginError(f"--handler {stage}={label}: {cls!r} does not subclass eventbt.handler.Handler",
                              reference=label)
        try:
            handler = cls(**arguments)
        except TypeError as exc:
            raise PluginError(f"--handler {stage}={label}: {exc}; a replacement takes the keyword arguments of "
                              f"{default.__name__}: {', '.join(arguments)}", reference=label) from exc
        return handler  # type: ignore[return-value]

    @classmethod
    def from_scenario(cls, path: str | os.PathLike[str], overrides: Sequence[str] = (),
                      **options: Any) -> Simulation:
        return cls(ScenarioConfig.from_toml(path, overrides), **options)

    def _write_header(self) -> None:
        from eventbt.audit import runtime_versions

        # Replaced stages are part of what the run did, so the header names them (only when there are any,
        # so a plain run's header, and digest, stay as they were).
        extra: dict[str, Any] = {}
        if self.stages:
            extra["stages"] = {stage: value if isinstance(value, str) else f"{value.__module__}:{value.__qualname__}"
                               for stage, value in sorted(self.stages.items())}
        self.audit.header(
            **extra,
            eventbt_version=__version__,
            scenario=self.config.to_dict(),
            data_files=dict(sorted(self.prices.sources.items())),
            symbols=list(self.prices.symbols),
            bars=self.prices.n_bars,
            environment={
                **runtime_versions(),
                "scenario_file": self.config.source,
                "base_dir": str(self.config.base_dir),
            },
            wall_clock={"started": _now_iso()},
        )

    # -- running --------------------------------------------------------------------------------------
    def deliver(self) -> Delivery | None:
        """Deliver one event (see :meth:`eventbt.bus.Bus.step`); finishes the run when the data ends.

        A handler error ends the run as :meth:`run` does: a ``failed`` footer in the audit log, then the error.
        """
        with self._ending_on_error():
            delivery = self.bus.step()
            if delivery is None:
                self._finish()
        return delivery

    @contextlib.contextmanager
    def _ending_on_error(self) -> Iterator[None]:
        """Close the audit log with how the run stopped when the body raises (Ctrl-C or any error)."""
        try:
            yield
        except KeyboardInterrupt:
            self._end("interrupted", error="interrupted by SIGINT")
            raise RunInterrupted("run interrupted; results up to the interruption are incomplete") from None
        except BaseException as exc:
            fields: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__}
            if isinstance(exc, HandlerError):
                fields.update(_handler_error_fields(exc))
            self._end("failed", **fields)
            raise

    # -- debugging ------------------------------------------------------------------------------------
    _debugger: Debugger | None = None

    @property
    def debugger(self) -> Debugger:
        """The step debugger of this run (made on first use; it keeps the breakpoints), see docs/debugging.md."""
        if self._debugger is None:
            from eventbt.debug.debugger import Debugger

            self._debugger = Debugger(self)
        return self._debugger

    def _deprecated(self, name: str) -> Any:
        warnings.warn(f"Simulation.{name} is deprecated and goes in the next release: use sim.debugger.{name}",
                      DeprecationWarning, stacklevel=3)
        return getattr(self.debugger, name)

    def step(self) -> Any:
        """Deprecated: ``sim.debugger.step()``."""
        return self._deprecated("step")()

    def run_until(self, date: str) -> Event | None:
        """Deprecated: ``sim.debugger.run_until(date)``."""
        result: Event | None = self._deprecated("run_until")(date)
        return result

    def step_rebalance(self) -> Any:
        """Deprecated: ``sim.debugger.step_rebalance()``."""
        return self._deprecated("step_rebalance")()

    def continue_(self) -> Event | None:
        """Deprecated: ``sim.debugger.continue_()``."""
        result: Event | None = self._deprecated("continue_")()
        return result

    def add_breakpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: ``sim.debugger.add_breakpoint(...)``."""
        return self._deprecated("add_breakpoint")(*args, **kwargs)

    def delete_breakpoint(self, number: int) -> None:
        """Deprecated: ``sim.debugger.delete_breakpoint(number)``."""
        self._deprecated("delete_breakpoint")(number)

    @property
    def queue(self) -> Any:
        """Deprecated: ``sim.debugger.queue``."""
        return self._deprecated("queue")

    def trace(self, event_id: int) -> Any:
        """Deprecated: ``sim.debugger.trace(event_id)``."""
        return self._deprecated("trace")(event_id)

    def run(self, stop: Callable[[Event], bool] | None = None) -> Result | None:
        """Run to the end (returns the result) or until ``stop(next_event)`` is true (returns ``None``)."""
        with self._ending_on_error():
            stopped = self._run_bus(stop)
            if stopped is not None:
                return None
            self._finish()
        return self.result()

    def _run_bus(self, stop: Callable[[Event], bool] | None = None) -> Event | None:
        """``bus.run``, applying ``[run] on_error``: with ``"skip"`` a handler error becomes a dead letter.

        The bus stays consistent when a hook raises: the failing event counts as taken, the subscribers
        before the failing one have run and their events are queued, the ones after it never see it.
        Running the bus again goes on with the next event.
        """
        while True:
            try:
                return self.bus.run(stop)
            except HandlerError as exc:
                if self.config.run.on_error != "skip":
                    raise
                self.dead_letters.append(exc)
                self.audit.note("dead_letter", error=f"{type(exc.__cause__).__name__}: {exc.__cause__}",
                                **_handler_error_fields(exc))

    def _finish(self) -> None:
        if self.finished:
            return
        for handler in self.bus.handlers:
            for event in handler.finish() or ():
                self.bus.publish(event, handler.name)
        self._run_bus()
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


def _handler_error_fields(exc: HandlerError) -> dict[str, Any]:
    """The audit fields of a handler error: the handler, the event (id, type, time) and its causal chain."""
    event = exc.event
    return {
        "handler": exc.handler,
        "event": getattr(event, "id", None),
        "event_type": getattr(event, "kind", type(event).__name__),
        "time": getattr(event, "date", None),
        "chain": [getattr(link, "id", None) for link in exc.chain],
    }


STAGES = ("strategy", "rebalance", "execution", "portfolio")


def _check_stages(stages: Mapping[str, str | type]) -> dict[str, str | type]:
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise PluginError(f"--handler {unknown[0]}=...: unknown stage {unknown[0]!r}; the stages are "
                          f"{', '.join(STAGES)}", reference=unknown[0])
    return dict(stages)


def _configured_handlers(config: ScenarioConfig) -> list[Handler]:
    """The scenario's ``[[handlers]]``, built in order, then the handler of its ``[[events]]`` if any."""
    built: list[Handler] = []
    for index, spec in enumerate(config.handlers):
        label = f"handlers[{index}]"

        def error(message: str, key: str | None, label: str = label) -> ScenarioError:
            return ScenarioError(f"[{label}] {message}", path=config.source, table=label, key=key)

        try:
            cls = plugins.resolve_class(spec.name, getattr(plugins, "HANDLERS", {}), group="eventbt.handlers",
                                        kind="handler")
        except PluginError as exc:
            raise error(str(exc), "name") from exc
        if not (isinstance(cls, type) and issubclass(cls, Handler)):
            raise error(f"{spec.name!r} is not a handler: {cls.__qualname__} does not subclass "
                        "eventbt.handler.Handler", "name")
        built.append(plugins.instantiate(cls, spec.params, reference=spec.name, error=error,  # type: ignore[arg-type]
                                         noun="handler"))
    if config.events:
        from handlers.injected import InjectedEvents

        built.append(InjectedEvents([event.to_dict() for event in config.events], source=config.source))
    return built


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
