"""A run's lifecycle: the pipeline wired on a bus, the audit log's header and footer, errors, the result.

:class:`Simulation` takes a scenario and its prices, builds the pipeline (:mod:`eventbt.pipeline`: the
handlers in delivery order, the book and its history), puts it on a :class:`~eventbt.bus.Bus` with an
:class:`~eventbt.audit.AuditLog`, runs it to the end or one event at a time (the step debugger drives it),
applies ``[run] on_error``, closes the log with how the run ended, and turns the history into a
:class:`~eventbt.results.Result`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from eventbt import __version__
from eventbt.audit import AUDIT_FORMAT, AuditLog
from eventbt.bus import Bus, Delivery
from eventbt.data.frames import PRICE_DATA_NAME, prices_digest  # (re-exported: the audit header's name and digest)
from eventbt.errors import BusError, EventbtError, HandlerError, RunInterrupted
from eventbt.events import Event, describe_non_events
from eventbt.handler import Context, Handler
from eventbt.pipeline import Pipeline, build_pipeline, check_replacements
from eventbt.portfolio import BookHistory, PortfolioView
from eventbt.prices import PriceData
from eventbt.results import Result, build_result
from eventbt.results.destinations import open_output, run_folder_audit_name, scenario_audit_path
from eventbt.results.files import RunFolder
from eventbt.scenario import ScenarioConfig

if TYPE_CHECKING:
    import pandas as pd

    from eventbt.data.fit import Fit
    from eventbt.debug.debugger import Debugger

__all__ = ["PRICE_DATA_NAME", "Simulation", "in_memory_prices", "load_scenario_prices", "open_output", "prices_digest",
           "run", "run_folder_audit_name", "run_to_folder", "scenario_audit_path", "stop_on_sigterm"]


def _prices(config: ScenarioConfig, given: PriceData | pd.DataFrame | None) -> PriceData:
    """The run's prices: ``given`` (see :func:`in_memory_prices`), else the scenario's file."""
    if given is None:
        return load_scenario_prices(config)
    return in_memory_prices(config, given)


def in_memory_prices(config: ScenarioConfig, given: PriceData | pd.DataFrame) -> PriceData:
    """Prices given in memory, as a run takes them: a :class:`PriceData` as it is, a wide or long DataFrame
    checked like a file and cut to the scenario's ``[data] symbols``, ``start`` and ``end`` (its digest, in
    ``sources``, is of the frame so cut; with a warm-up, of the frame from its first date)."""
    if isinstance(given, PriceData):
        return given
    from eventbt.data.frames import IN_MEMORY_NAME, prices_from_frame
    from eventbt.data.warmup import with_warmup
    from eventbt.errors import ScenarioError

    data, warmup = config.data, config.run.warmup
    if data.corporate_actions:
        what = ("is read with the price file" if data.corporate_actions == "columns" else
                "is applied only to prices read from the scenario's file (its actions are checked against that "
                "file's symbols and dates)")
        raise ScenarioError(f"[data] corporate_actions = {data.corporate_actions!r} {what}; prices given as a "
                            "DataFrame take no corporate actions: run from the file, pass prices already adjusted "
                            "and leave the key out",
                            path=str(config.source) if config.source else None, table="data",
                            key="corporate_actions")
    prices = prices_from_frame(given, symbols=list(data.symbols) or None,
                               start=None if warmup else data.start or None, end=data.end or None)
    if warmup:
        prices = with_warmup(prices, start=data.start, end=data.end, warmup=warmup, path=IN_MEMORY_NAME)
    return prices


def _data_warnings(config: ScenarioConfig, prices: PriceData, fit: Fit) -> list[str]:
    """What the run warns about ``prices``; ``fit`` is the fit check's (its series' bounds and gaps, not worked
    out again)."""
    from eventbt.data.frames import data_label
    from eventbt.data.warmup import scenario_warnings

    data = config.data
    return scenario_warnings(prices, data_label(prices, data.path), start=data.start, end=data.end,
                             warmup=config.run.warmup, jump_threshold=data.jump_threshold, stale_bars=data.stale_bars,
                             missing=data.missing, found=(fit.bounds, fit.gaps))


def load_scenario_prices(config: ScenarioConfig, *, base_dir: str | os.PathLike[str] | None = None,
                         data_path: str | os.PathLike[str] | None = None) -> PriceData:
    """Load the prices a scenario names (its symbols and date range), with its corporate actions and warm-up.

    Paths are taken from ``base_dir`` when given (else the scenario's folder); ``data_path`` replaces the
    price data's path (the actions file stays where the scenario says).
    """
    from eventbt.data.loaders import load_prices, scenario_data_path
    from eventbt.data.warmup import with_warmup
    from eventbt.errors import DataError

    data, warmup = config.data, config.run.warmup
    if data_path is not None and not os.path.exists(data_path):  # named as given, not as the scenario's path
        raise DataError("no such file or folder (given in place of the scenario's data path)",
                        path=os.fspath(data_path))
    folder = Path(base_dir) if base_dir is not None else config.base_dir
    actions = config.actions_source
    if actions is not None and actions != "columns":
        actions = folder / data.corporate_actions
    try:
        # Named by the scenario's path even when data_path replaces it: the audit header's data_files are compared
        # by name (a replay on data given again); a message then says which file was read.
        prices = load_prices(
            data_path if data_path is not None else scenario_data_path(folder, data.path, config.source),
            format=data.format,
            symbols=list(data.symbols) or None, start=None if warmup else data.start or None, end=data.end or None,
            display_path=data.path, corporate_actions=actions, actions_display=data.corporate_actions or None,
        )
    except DataError as exc:
        if data_path is None:
            raise
        given = DataError(f"{exc} (read from {os.fspath(data_path)}, given in place of the scenario's data path)",
                          symbol=exc.symbol, date=exc.date, row=exc.row, policy=exc.policy)
        given.path = exc.path
        raise given from exc
    if warmup:
        prices = with_warmup(prices, start=data.start, end=data.end, warmup=warmup, path=data.path)
    return prices


class Simulation:
    """One backtest run, wired and ready: :meth:`run` it, or step through it with :attr:`debugger`.

    The audit log is written to ``audit_path`` when given; with ``audit_path=False`` it is kept in memory
    whatever the scenario says (replays do this); by default it goes where the scenario's ``[audit] path``
    says, taken in the scenario's folder, or stays in memory when that is empty (see
    :func:`scenario_audit_path` and ``docs/audit-log.md``). ``audit=False`` keeps no log at all. The file is
    opened only when the run writes its first lines, so building a Simulation writes nothing; a run stepped with
    its :attr:`debugger` keeps a scenario's log in memory (:meth:`keep_log_in_memory`).
    """

    def __init__(self, config: ScenarioConfig, *, prices: PriceData | pd.DataFrame | None = None,
                 audit_path: str | os.PathLike[str] | Literal[False] | None = None, audit: bool = True,
                 progress: Callable[[int], None] | None = None,
                 extra_handlers: Sequence[Handler] = (),
                 stages: Mapping[str, str | type] | None = None) -> None:
        self.config = config
        # Where the log goes (docs/audit-log.md): ``audit_path`` when given, False for memory whatever the
        # scenario says, else the scenario's ``[audit] path`` in its folder (checked before anything is
        # built), else memory.
        if not audit:
            destination = None
        else:
            destination = scenario_audit_path(config) if audit_path is None else (audit_path or None)
        self.stages = check_replacements(stages or {})
        self.prices = _prices(config, prices)
        self.pipeline: Pipeline = build_pipeline(config, self.prices, replacements=self.stages,
                                                 extra_handlers=extra_handlers, progress=progress)
        self._extra_handlers = tuple(extra_handlers)  # named in the audit header (a replay cannot rebuild them)
        if config.report.benchmark and config.source is not None:
            # A scenario file's benchmark, read as the report reads it: a bad one fails here, not after the run.
            # (A replay's scenario comes from an audit log, which needs no benchmark to reproduce the run.)
            from eventbt.data.benchmark import load_benchmark_for_run

            load_benchmark_for_run(config.report.benchmark, self.prices.dates[self.prices.warmup_bars:],
                                   base=config.base_dir, source=config.source)
        # A scenario's [audit] path gives way to memory when the run is debugged (keep_log_in_memory); a path
        # given here does not.
        self._audit_given = audit_path is not None
        try:
            if destination is not None:
                _check_writable(Path(destination))
            self.audit = AuditLog(destination, enabled=audit)
        except OSError as exc:
            from eventbt.errors import OutputError

            raise OutputError(f"cannot write the audit log: {exc.strerror or exc}",
                              path=os.fspath(destination or "")) from None
        self.bus = Bus(self.audit)
        # A skipped handler error leaves the other handlers going on bar by bar: no blocks of quiet bars then.
        self.bus.blocks = config.run.on_error != "skip"
        for handler in self.pipeline.handlers:
            self.bus.add(handler)
        self.bus.attach_source(self.pipeline.feed)
        self.finished = False
        self.status = "running"
        self.dead_letters: list[HandlerError] = []  # handler errors skipped under [run] on_error = "skip"
        self._write_header()
        from eventbt.data.warmup import warmup_shortened

        if warmup_shortened(self.prices, config.run.warmup):  # a date before the data's first date too
            self.audit.note("warmup_shortened", requested=config.run.warmup, bars=self.prices.warmup_bars,
                            start=config.data.start)
        for j, bar, count in self.pipeline.fit.gaps:
            self.audit.note("interior_gap", symbol=self.prices.symbols[j], date=str(self.prices.dates[bar])[:10],
                            bars=count, policy="ffill")
        self.data_warnings: tuple[str, ...] = tuple(_data_warnings(config, self.prices, self.pipeline.fit))
        """What ``eventbt run`` warns about the data (jumps, stale prices, long forward-filled gaps, text read
        as missing); each is in the audit log too, as a ``data_warning`` note."""
        for line in self.data_warnings:
            self.audit.note("data_warning", message=line)

    # -- the pipeline's parts, by name ------------------------------------------------------------------
    @property
    def context(self) -> Context:
        return self.pipeline.context

    @property
    def portfolio(self) -> PortfolioView:
        """The book, read-only (the portfolio handler is its only writer)."""
        return self.pipeline.context.portfolio

    @property
    def history(self) -> BookHistory:
        """What the portfolio handler has recorded so far (values, trades, fees, signals, weights)."""
        return self.pipeline.history

    @property
    def gaps(self) -> tuple[tuple[int, int, int], ...]:
        return self.pipeline.fit.gaps

    @property
    def strategy(self) -> Any:
        return self.pipeline.stage("strategy")

    @property
    def rebalance(self) -> Any:
        return self.pipeline.stage("rebalance")

    @property
    def execution(self) -> Any:
        return self.pipeline.stage("execution")

    @property
    def portfolio_handler(self) -> Any:
        return self.pipeline.stage("portfolio")

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
        if self._extra_handlers:  # handlers added from Python, which the scenario does not name
            extra["extra_handlers"] = [{"name": handler.name, "class": f"{type(handler).__module__}:"
                                                                       f"{type(handler).__qualname__}"}
                                       for handler in self._extra_handlers]
        self.audit.header(
            **extra,
            eventbt_version=__version__,
            audit_format=AUDIT_FORMAT,
            scenario=self.config.to_dict(),
            data_files=self._data_files(),
            symbols=list(self.prices.symbols),
            bars=self.prices.n_bars,
            # Only with a warm-up, so the header (and digest) of a run without one stays as it was.
            **({"warmup_bars": self.prices.warmup_bars} if self.prices.warmup_bars else {}),
            environment={
                **runtime_versions(),
                "scenario_file": self.config.source,
                "base_dir": str(self.config.base_dir),
            },
            wall_clock={"started": _now_iso()},
        )

    def _data_files(self) -> dict[str, str]:
        """The header's ``data_files``: the prices' ``sources``; a :class:`PriceData` given without any (built
        in Python) is named :data:`PRICE_DATA_NAME` with its digest, worked out only here, for the audit log."""
        if not self.prices.sources and self.audit.enabled:
            return {PRICE_DATA_NAME: prices_digest(self.prices)}
        return dict(sorted(self.prices.sources.items()))

    # -- running --------------------------------------------------------------------------------------
    def deliver(self) -> Delivery | None:
        """Deliver one event (see :meth:`eventbt.bus.Bus.step`); finishes the run when the data ends.

        A handler error ends the run as :meth:`run` does: a ``failed`` footer in the audit log, then the error.
        ``None`` when there is nothing to deliver: the run has finished, or it failed or was interrupted before
        (``status`` says which; the debugger's moves rely on it).
        """
        if self._ended_early():
            return None
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
        except KeyboardInterrupt as exc:
            name = exc.signal if isinstance(exc, RunInterrupted) else "SIGTERM" if isinstance(exc, _Terminated) \
                else "SIGINT"
            self._end("interrupted", error=f"interrupted by {name}")
            if isinstance(exc, RunInterrupted):
                raise
            raise RunInterrupted(_INTERRUPTED[name], signal=name) from None
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

    def keep_log_in_memory(self) -> bool:
        """Keep the audit log in memory rather than write the scenario's ``[audit] path`` (a debugger calls it: a
        session stopped part-way would leave that file holding a log cut short), when nothing has been written
        to the file yet; an ``audit_path`` given to the Simulation stays. Whether the log is in memory now."""
        if not self._audit_given:
            self.audit.keep_in_memory()
        return self.audit.path is None

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

    def run(self, stop: Callable[[Event], bool] | None = None, *, quiet_bars: bool = False) -> Result | None:
        """Run to the end (returns the result) or until ``stop(next_event)`` is true (returns ``None``); with
        ``quiet_bars``, quiet bars go as blocks without ``stop`` seeing their events (:meth:`Bus.run`).

        A run that has ended is not run again: a completed one gives its result once more; one that failed or
        was interrupted raises a :class:`~eventbt.errors.BusError` (its log is closed, and going on would book
        events a handler never saw); its partial results are :meth:`result`'s."""
        if self._ended_early():
            message = (f"this run has already ended ({self.status}): its audit log is closed; sim.result() gives "
                       "its partial results, and a new Simulation runs it again")
            raise BusError(message)
        with self._ending_on_error():
            stopped = self._run_bus(stop, quiet_bars=quiet_bars)
            if stopped is not None:
                return None
            self._finish()
        return self.result()

    def _run_bus(self, stop: Callable[[Event], bool] | None = None, *, quiet_bars: bool = False) -> Event | None:
        """``bus.run``, applying ``[run] on_error``: with ``"skip"`` a handler error becomes a dead letter, unless
        it is a stop the scenario chose (its ``policy`` is set: :class:`~eventbt.errors.EventbtError`).

        The bus stays consistent when a hook raises: the failing event counts as taken, the subscribers
        before the failing one have run and their events are queued, the ones after it never see it.
        Running the bus again goes on with the next event.
        """
        while True:
            try:
                return self.bus.run(stop, quiet_bars=quiet_bars)
            except HandlerError as exc:
                # A stop the scenario chose (a margin call's "stop", a delisting's "error") is not a failure to skip.
                if self.config.run.on_error != "skip" or getattr(exc.__cause__, "policy", None) is not None:
                    raise
                self.dead_letters.append(exc)
                self.audit.note("dead_letter", error=f"{type(exc.__cause__).__name__}: {exc.__cause__}",
                                **_handler_error_fields(exc))

    def _finish(self) -> None:
        if self.finished:
            return
        for handler in self.bus.handlers:
            for event in _finish_events(handler):
                self.bus.publish(event, handler.name)
        self._run_bus()
        self._end("completed")

    def manual_orders_cancelled(self) -> list[str]:
        """A line for each order of the scenario's ``[[events]]`` whose shares were cancelled in whole or in part:
        cut at the fill to the cash or the shares held, expired, or still waiting when the data ended. A
        rebalance's cuts are routine; an order the user wrote that comes to less is news, which only the audit
        log told. ``eventbt run`` prints them and :func:`run` logs them."""
        from eventbt.orders.outcomes import manual_orders_cancelled

        return manual_orders_cancelled(self.bus.events, self.bus.publisher)

    def rebalance_orders_unfilled(self) -> str | None:
        """One line for the rebalance's orders that ended with nothing filled (expired, cancelled, cut to no
        shares), counted by reason and naming the first; ``None`` when every one filled at least in part. Cut in
        part, a rebalance order is routine and not counted. ``eventbt run`` prints it and :func:`run` logs it,
        after the lines of :meth:`manual_orders_cancelled`."""
        from eventbt.orders.outcomes import rebalance_orders_unfilled

        return rebalance_orders_unfilled(self.bus.events, self.bus.publisher)

    def order_warnings(self) -> list[tuple[str, str]]:
        """What became of the orders, as ``(code, line)``, in the order ``eventbt run`` prints them and :func:`run`
        logs them: each ``manual_order_cancelled`` line (:meth:`manual_orders_cancelled`), then the
        ``rebalance_orders_unfilled`` line when there is one (:meth:`rebalance_orders_unfilled`)."""
        lines = [("manual_order_cancelled", line) for line in self.manual_orders_cancelled()]
        unfilled = self.rebalance_orders_unfilled()
        return lines + ([("rebalance_orders_unfilled", unfilled)] if unfilled is not None else [])

    def _ended_early(self) -> bool:
        """Whether the run has ended other than by completing (a handler error, Ctrl-C)."""
        return self.finished and self.status != "completed"

    def _end(self, status: str, **fields: Any) -> None:
        if self.finished:
            return
        self.finished = True
        self.status = status
        self.bus.detach_source()  # an ended run takes no more bars: looking at its queue publishes nothing
        self.audit.close(status, events=self.bus.delivered, bars=len(self.history.bars),
                         wall_clock={"ended": _now_iso()}, **fields)

    def result(self) -> Result:
        """Results so far (complete once the run has finished). Before then (a run that failed, was interrupted or
        is still going) they cover the bars marked so far: what the bar in progress did is in the audit log only
        (:meth:`~eventbt.portfolio.BookHistory.up_to`), so the trades and costs are those of the equity's bars."""
        history = self.history
        if not (self.finished and self.status == "completed"):
            history = history.up_to(history.bars[-1] if history.bars else -1)
        return build_result(history, dates=self.prices.dates, initial_cash=self.config.portfolio.initial_cash,
                            audit=self.audit, scenario=self.config, status=self.status, finished=self.finished,
                            events=self.bus.delivered, dead_letters=len(self.dead_letters),
                            warmup_bars=self.prices.warmup_bars)


def _check_writable(path: Path) -> None:
    """Raise the :class:`OSError` writing the audit log at ``path`` would meet (no permission, a name too long),
    leaving an existing file as it is: the log itself opens it only when it writes its first lines."""
    if path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))  # neither emptied nor changed
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    path.unlink()


def _finish_events(handler: Handler) -> list[Event]:
    """What ``handler.finish()`` returns, checked: a list of events (``None``: none); anything else, or an
    exception other than eventbt's own, is a :class:`HandlerError` naming the handler (the run's footer says
    ``failed``)."""
    try:
        out = handler.finish()
    except EventbtError:  # already names what is at fault (an unfunded withdrawal, ...)
        raise
    except Exception as exc:
        raise HandlerError(f"handler {handler.name!r} raised {type(exc).__name__}: {exc} in finish(), when the "
                           "data had ended", handler=handler.name, event=None, chain=[]) from exc
    if out is None:
        return []
    what = describe_non_events(out)
    if what is None:
        return list(out)  # a list or tuple of events
    raise HandlerError(f"handler {handler.name!r}: finish() returned {what}; finish() returns a list of events "
                       "or None", handler=handler.name, event=None, chain=[])


def _handler_error_fields(exc: HandlerError) -> dict[str, Any]:
    """The audit fields of a handler error: the handler, the event (id, type, time) and its causal chain."""
    event = exc.event
    return {
        "handler": exc.handler,
        "event": getattr(event, "id", None),
        "event_type": getattr(event, "kind", "finish" if event is None else type(event).__name__),
        "time": getattr(event, "date", None),
        "chain": [getattr(link, "id", None) for link in exc.chain],
    }


def _now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_INTERRUPTED = {"SIGINT": "run interrupted; results up to the interruption are incomplete",
                "SIGTERM": "run terminated (SIGTERM); results up to the interruption are incomplete"}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it ends as Ctrl-C ends it (see :func:`stop_on_sigterm`)."""


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM stops a run as SIGINT (Ctrl-C) does: an ``interrupted`` footer, partial
    results marked incomplete, :class:`~eventbt.errors.RunInterrupted` (its ``signal`` is ``"SIGTERM"``).

    Only in the main thread (where Python runs signal handlers); elsewhere the block runs unchanged. The
    previous handler is put back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_to_folder(simulation: Simulation, folder: RunFolder | None, *,
                  on_partial: Callable[[], None] | None = None) -> Result:
    """Run ``simulation`` to the end and write its results into ``folder`` (a claimed run folder or ``None``).

    SIGTERM stops the run as SIGINT does. A run that fails or is interrupted still writes the results it has,
    marked ``complete = false`` (``on_partial`` is called after), then the error goes on.
    """
    try:
        with stop_on_sigterm():
            result = simulation.run()
    except BaseException:
        if folder is not None:
            if simulation.finished:
                simulation.result().write(folder)
                if on_partial is not None:
                    on_partial()
            else:
                folder.abandon()
        raise
    assert result is not None
    if folder is not None:
        result.write(folder)
    return result


def run(scenario: str | os.PathLike[str] | ScenarioConfig, *, overrides: Sequence[str] = (),
        out: str | os.PathLike[str] | None = None, **options: Any) -> Result:
    """Run a scenario (a file path or a :class:`ScenarioConfig`) to the end and return its results.

    With ``out``, the result files are written into that run folder (see :meth:`eventbt.results.Result.write`
    and ``docs/results.md``); the audit log goes where ``docs/audit-log.md`` says (``out``, then the
    scenario's ``[audit] path``, then memory; an ``audit_path`` option overrides both). Ctrl-C and SIGTERM
    raise :class:`~eventbt.errors.RunInterrupted` (a :class:`KeyboardInterrupt`); a run that fails or is
    interrupted still writes its partial results into ``out``, marked ``complete = false``, as the command
    line does. The other keyword arguments are :class:`Simulation`'s: ``prices=`` takes the prices in memory
    instead of the scenario's file, as a :class:`~eventbt.prices.PriceData` or a pandas DataFrame, wide (a column
    of closes per symbol, dates as the index) or long (date, symbol, close and optionally open, high, low,
    volume), checked like a file and hashed into the audit header (see ``docs/scenarios.md``). The data
    warnings ``eventbt run`` prints (a likely unadjusted split, stale prices) go to the ``eventbt`` logger at
    level WARNING (``Simulation.data_warnings`` lists them too).
    """
    config = scenario if isinstance(scenario, ScenarioConfig) else ScenarioConfig.from_toml(scenario, overrides)
    if isinstance(scenario, ScenarioConfig) and overrides:
        config = config.with_overrides(overrides)
    folder, audit_path = open_output(config, out)
    options.setdefault("audit_path", audit_path)
    try:
        simulation = Simulation(config, **options)
    except BaseException:
        if folder is not None:
            folder.abandon()
        raise
    # What `eventbt run` prints about the data, to the "eventbt" logger: with no logging set up, Python writes a
    # warning to stderr, so a script or notebook sees a likely unadjusted split as the command line does.
    from eventbt.scenario.config import ignored_settings

    log = logging.getLogger("eventbt")
    for line in (*ignored_settings(config.to_dict(), config.source, config.origins), *simulation.data_warnings):
        log.warning("%s", line)
    result = run_to_folder(simulation, folder)
    for _, line in simulation.order_warnings():
        log.warning("%s", line)
    from eventbt.display.format import under_water_text

    under_water = under_water_text(result.summary.get("under_water"))  # as `eventbt run` heads its figures
    if under_water is not None:
        log.warning("%s", under_water)
    return result
