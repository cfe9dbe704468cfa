"""Scenario files: TOML in, frozen configuration out.

A scenario file declares one backtest run: its data, portfolio, strategy, schedule, rebalance, execution,
audit and run settings (the format is documented in ``docs/scenarios.md``). :meth:`ScenarioConfig.from_toml`
reads a file, applies ``--set table.key=value`` overrides, checks every table and key, fills in every
default and returns a :class:`ScenarioConfig`; nothing downstream sees the raw dict. Every problem is a
:class:`~eventbt.errors.ScenarioError` naming the file (and the override, when one is at fault), the table,
the key and what was expected.

The free-form tables (``[strategy.params]``, ``[execution.commission]``, ``[execution.slippage]``) are kept
as plain dicts: the strategy and the cost models check their own parameters.

A file may start with ``extends = "base.toml"`` (relative to its own folder): the base is read first (it may
extend another), then the file's tables are merged over it key by key (a table merges, any other value,
arrays included, replaces; a cost model table that names another ``model`` replaces the base's whole).
A relative ``[data] path``, ``[data] corporate_actions`` file, ``[audit] path`` or ``[report] benchmark`` file the
file inherits keeps pointing at what the base meant.
A cycle is an error. The checks themselves live in :mod:`eventbt.scenario.schema`.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from eventbt.data import DEFAULT_JUMP_THRESHOLD, DEFAULT_STALE_BARS
from eventbt.errors import ScenarioError
from eventbt.protocols import (
    CommissionPer,
    DataFormat,
    DayCount,
    DelistingPolicy,
    DividendPayment,
    MarginCall,
    MissingPolicy,
    OnError,
    Period,
    RebalanceOrderType,
    Remainder,
    StrategyPrices,
    TimeInForce,
    Timing,
    WithdrawalPolicy,
)
from eventbt.scenario import toml_writer
from eventbt.scenario.schema import DEFAULT_COMMISSION, DEFAULT_SLIPPAGE, SCHEDULE_MODES, Reader

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
    "copy_tables",
    "read_scenario_file",
]



@attrs.frozen(kw_only=True)
class DataConfig:
    """``[data]``: where the prices are (``path``, relative to the scenario file) and how to read them.

    ``jump_threshold`` and ``stale_bars`` set the warnings about the data: a one-day close ratio below
    ``jump_threshold`` or above its inverse, and ``stale_bars`` identical closes in a row (0: not checked).
    ``corporate_actions`` is where the splits and dividends come from: ``""`` none, ``"columns"`` the price
    file's own columns, else an actions file (relative to the scenario file); ``dividend_payment`` whether a
    dividend is paid on its ex-date or its pay date (see ``docs/corporate-actions.md``).
    """

    path: str
    format: DataFormat = "auto"
    symbols: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    missing: MissingPolicy = "ffill"
    delisting: DelistingPolicy = "liquidate"
    jump_threshold: float = DEFAULT_JUMP_THRESHOLD
    stale_bars: int = DEFAULT_STALE_BARS
    corporate_actions: str = ""
    dividend_payment: DividendPayment = "ex_date"


@attrs.frozen(kw_only=True)
class PortfolioConfig:
    """``[portfolio]``: the starting cash, in account currency; what a withdrawal the cash does not cover
    does: stop the run (``"error"``) or sell positions pro rata to fund it (``"sell"``); the tax rate
    withheld from dividends; and the keys of a margin account (``docs/long-short.md``): short positions, the
    gross and net limits of a signal (``None``: not set), the annual financing and borrow rates (per-symbol
    overrides in ``borrow_rates``) and their day count, the maintenance margin (``None``: no margin rule)
    and what a margin call does."""

    initial_cash: float = 1_000_000.0
    withdrawal: WithdrawalPolicy = "error"
    withholding_tax: float = 0.0
    allow_short: bool = False
    max_gross: float | None = None
    max_net: float | None = None
    financing_rate: float = 0.0
    borrow_rate: float = 0.0
    borrow_rates: dict[str, float] = attrs.field(factory=dict)
    day_count: DayCount = 360
    maintenance_margin: float | None = None
    margin_call: MarginCall = "liquidate"

    @property
    def margin(self) -> bool:
        """Whether this is a margin account: ``allow_short`` or ``max_gross > 1`` (cash may go below zero)."""
        return self.allow_short or (self.max_gross is not None and self.max_gross > 1)

    def margin_table(self) -> dict[str, Any]:
        """The margin-account keys that differ from their defaults (the resolved scenario holds only those)."""
        defaults = PortfolioConfig()
        keys = ("allow_short", "max_gross", "max_net", "financing_rate", "borrow_rate", "borrow_rates", "day_count",
                "maintenance_margin", "margin_call")
        return {key: _sorted_copy(getattr(self, key)) for key in keys if getattr(self, key) != getattr(defaults, key)}


@attrs.frozen(kw_only=True)
class StrategyConfig:
    """``[strategy]``: a registered name or ``module:Class``, its free-form ``params``, and the price history it
    sees: ``"split_adjusted"`` or ``"total_return"`` (dividends too; only matters with corporate actions)."""

    name: str
    params: dict[str, Any] = attrs.field(factory=dict)
    prices: StrategyPrices = "split_adjusted"


@attrs.frozen(kw_only=True)
class ScheduleConfig:
    """``[schedule]``: when to rebalance; exactly one of the three fields is set, the others are ``None``."""

    rebalance: Period | None = None
    every_n_bars: int | None = None
    dates: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class RebalanceConfig:
    """``[rebalance]``: the share of value kept in cash and the smallest trade worth making."""

    cash_buffer: float = 0.0
    min_trade_value: float = 0.0


@attrs.frozen(kw_only=True)
class ExecutionConfig:
    """``[execution]``: fill timing and the commission and slippage models with their parameters.

    ``volume_limit`` (``None``: unlimited) is the share of a bar's volume an order may fill per bar;
    ``remainder`` says what happens to the rest: ``"cancel"`` or ``"carry"`` to the next bar;
    ``commission_per`` whether an order filled over several days pays its commission as one order
    (``"order"``) or as a new order each day (``"day"``). ``order_type`` is the type of the rebalance's orders;
    with ``"limit"``, ``limit_offset_bps`` sets their limit from the reference price and ``time_in_force`` and
    ``expire_after`` how long they wait (see ``docs/orders.md``).
    """

    timing: Timing = "same_close"
    commission: dict[str, Any] = attrs.field(factory=lambda: dict(DEFAULT_COMMISSION))
    slippage: dict[str, Any] = attrs.field(factory=lambda: dict(DEFAULT_SLIPPAGE))
    volume_limit: float | None = None
    remainder: Remainder = "cancel"
    commission_per: CommissionPer = "order"
    order_type: RebalanceOrderType = "market"
    limit_offset_bps: float = 0.0
    time_in_force: TimeInForce = "day"
    expire_after: int | None = None


@attrs.frozen(kw_only=True)
class AuditConfig:
    """``[audit]``: where the audit log goes (empty: the run's output folder)."""

    path: str = ""


@attrs.frozen(kw_only=True)
class RunConfig:
    """``[run]``: whether a failing bar stops the run or is skipped, whether to show progress, and the warm-up:
    a number of bars before ``[data] start``, or the date it starts at (0: none)."""

    on_error: OnError = "stop"
    progress: bool = True
    warmup: int | str = 0


@attrs.frozen(kw_only=True)
class ReportConfig:
    """``[report]``: the benchmark the report and metrics compare with, ``FILE[:COLUMN]`` relative to the
    scenario's folder (a wide CSV of levels, gzip allowed), or empty for none."""

    benchmark: str = ""


@attrs.frozen(kw_only=True)
class HandlerConfig:
    """One ``[[handlers]]`` entry: a registered handler name or ``module:Class``, and its keyword ``params``."""

    name: str
    params: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class EventConfig:
    """One ``[[events]]`` entry: a ``deposit`` or ``withdrawal`` of ``amount``, or a manual ``order``.

    ``date`` is the bar it happens at (the first bar on or after it); orders have ``symbol``, ``side``
    (``buy`` or ``sell``) and ``quantity`` (whole shares), and may have an ``order_type`` with its
    ``limit_price`` or ``stop_price``, ``time_in_force`` and ``expire_after`` (see ``docs/orders.md``).
    """

    date: str
    type: str
    amount: float | None = None
    reason: str = ""
    symbol: str | None = None
    side: str | None = None
    quantity: int | None = None
    order_type: str = "market"
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: str = "day"
    expire_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.type != "order":
            return {key: getattr(self, key) for key in ("date", "type", "amount", "reason")}
        table = {key: getattr(self, key) for key in ("date", "type", "symbol", "side", "quantity")}
        # The type keys only for an order of another type than market, so such a scenario keeps its digest.
        if self.order_type != "market":
            table["order_type"] = self.order_type
        for key in ("limit_price", "stop_price", "expire_after"):
            if getattr(self, key) is not None:
                table[key] = getattr(self, key)
        if self.order_type in ("limit", "stop"):
            table["time_in_force"] = self.time_in_force
        return table


@attrs.frozen(kw_only=True)
class ScenarioConfig:
    """One validated scenario, every default filled in. Build it with :meth:`from_toml` or :meth:`from_dict`.

    ``source`` is the file it came from, as given (``None`` when built from a dict); ``base_dir`` the
    absolute folder that relative paths in the scenario resolve against.
    """

    source: str | None
    base_dir: Path
    name: str
    description: str = ""
    data: DataConfig
    portfolio: PortfolioConfig = attrs.field(factory=PortfolioConfig)
    strategy: StrategyConfig
    schedule: ScheduleConfig = attrs.field(factory=lambda: ScheduleConfig(rebalance="monthly"))
    rebalance: RebalanceConfig = attrs.field(factory=RebalanceConfig)
    execution: ExecutionConfig = attrs.field(factory=ExecutionConfig)
    audit: AuditConfig = attrs.field(factory=AuditConfig)
    run: RunConfig = attrs.field(factory=RunConfig)
    report: ReportConfig = attrs.field(factory=ReportConfig)
    handlers: tuple[HandlerConfig, ...] = ()
    events: tuple[EventConfig, ...] = ()
    origins: Mapping[tuple[str, str], str] = attrs.field(factory=dict, eq=False, repr=False)
    """Which file of the ``extends`` chain set each ``(table, key)`` (:func:`key_origins`; empty without a chain):
    read with the file, for the messages and warnings that name a base's key."""
    overrides: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)
    """The ``--set`` overrides applied, as given: not part of the scenario (its tables have them in), kept so that
    a check made later (a plug-in's parameters, the data) names the override at fault (:meth:`blaming_overrides`)."""

    @contextlib.contextmanager
    def blaming_overrides(self) -> Iterator[None]:
        """A :class:`ScenarioError` raised inside names the ``--set`` that caused it (:func:`blame_override`)."""
        try:
            yield
        except ScenarioError as exc:
            blamed = blame_override(exc, self.overrides)
            if blamed is exc:
                raise
            raise blamed.with_traceback(exc.__traceback__) from exc.__cause__

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> ScenarioConfig:
        """Read, override and validate the scenario file at ``path`` (relative to the working directory)."""
        source = os.fspath(path)
        raw, chain = read_scenario_file(source)
        return cls._build(raw, source=source, base_dir=None, overrides=overrides,
                          origins=key_origins(chain) if len(chain) > 1 else None)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> ScenarioConfig:
        """Validate a scenario given as a mapping of tables, as ``tomllib`` returns it.

        ``base_dir`` defaults to the folder of ``source``, or the working directory without a source.
        """
        return cls._build(data, source=source, base_dir=base_dir, overrides=())

    def with_overrides(self, overrides: Sequence[str]) -> ScenarioConfig:
        """A new config with ``table.key=value`` overrides applied and validated like the file."""
        if isinstance(overrides, str):
            overrides = (overrides,)
        config = self._build(self.to_dict(), source=self.source, base_dir=self.base_dir, overrides=overrides)
        return attrs.evolve(config, overrides=(*self.overrides, *overrides), origins=self.origins)

    @classmethod
    def _build(
        cls,
        raw: Mapping[str, Any],
        *,
        source: str | None,
        base_dir: str | os.PathLike[str] | None,
        overrides: Sequence[str],
        origins: Mapping[tuple[str, str], str] | None = None,
    ) -> ScenarioConfig:
        if isinstance(overrides, str):
            overrides = (overrides,)
        if base_dir is None:
            base_dir = Path(source).parent if source is not None else Path.cwd()
        reader = Reader(source, origins=origins)
        tables = reader.apply_overrides(copy_tables(raw), overrides)
        values = reader.read(tables)
        default_name = Path(source).stem if source is not None else "scenario"
        return cls(
            overrides=tuple(overrides),
            origins=dict(origins or {}),
            source=source,
            base_dir=Path(base_dir).absolute(),
            **{"name": default_name, **values["scenario"]},
            data=DataConfig(**values["data"]),
            portfolio=PortfolioConfig(**values["portfolio"]),
            strategy=StrategyConfig(**values["strategy"]),
            schedule=ScheduleConfig(**(values["schedule"] or {"rebalance": "monthly"})),
            rebalance=RebalanceConfig(**values["rebalance"]),
            execution=ExecutionConfig(**values["execution"]),
            audit=AuditConfig(**values["audit"]),
            run=RunConfig(**values["run"]),
            report=ReportConfig(**values["report"]),
            handlers=tuple(HandlerConfig(**entry) for entry in values["handlers"]),
            events=tuple(EventConfig(**entry) for entry in values["events"]),
        )

    @property
    def data_path(self) -> Path:
        """The data path as an absolute, resolved path (``data.path`` joined to ``base_dir``)."""
        return (self.base_dir / self.data.path).resolve()

    @property
    def actions_source(self) -> str | Path | None:
        """Where the corporate actions come from: ``None``, ``"columns"``, or the actions file's absolute path."""
        source = self.data.corporate_actions
        if not source:
            return None
        return source if source == "columns" else (self.base_dir / source).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain values: tables in schema order, free-form keys sorted.

        ``data.path`` is kept as written in the file, so the result read with :meth:`from_dict` and the same
        ``base_dir`` gives an equal config.
        """
        schedule = {mode: getattr(self.schedule, mode) for mode in SCHEDULE_MODES}
        tables: dict[str, Any] = {}
        # The arrays are written only when given, so a scenario without them keeps its resolved form
        # (and the digest of its audit log) as before they existed.
        if self.handlers:
            tables["handlers"] = [{"name": h.name, "params": _sorted_copy(h.params)} for h in self.handlers]
        if self.events:
            tables["events"] = [event.to_dict() for event in self.events]
        return tables | {
            "scenario": {"name": self.name, "description": self.description},
            "data": _data_table(self.data),
            # The withdrawal policy and withholding tax only when set, so a scenario without them keeps its digest.
            "portfolio": {"initial_cash": self.portfolio.initial_cash,
                          **({"withdrawal": self.portfolio.withdrawal} if self.portfolio.withdrawal != "error"
                             else {}),
                          **({"withholding_tax": self.portfolio.withholding_tax}
                             if self.portfolio.withholding_tax else {}),
                          # The margin-account keys only when set, likewise (docs/long-short.md).
                          **self.portfolio.margin_table()},
            "strategy": {"name": self.strategy.name, "params": _sorted_copy(self.strategy.params),
                         **({"prices": self.strategy.prices} if self.strategy.prices != "split_adjusted" else {})},
            "schedule": {mode: _sorted_copy(value) for mode, value in schedule.items() if value is not None},
            "rebalance": attrs.asdict(self.rebalance),
            "execution": {
                "timing": self.execution.timing,
                "commission": _sorted_copy(self.execution.commission),
                "slippage": _sorted_copy(self.execution.slippage),
                # Written only when set, so a scenario without partial fills keeps its digest.
                **({"volume_limit": self.execution.volume_limit} if self.execution.volume_limit is not None
                   else {}),
                **({"remainder": self.execution.remainder} if self.execution.remainder != "cancel" else {}),
                **({"commission_per": self.execution.commission_per} if self.execution.commission_per != "order"
                   else {}),
                # The order type keys likewise, each only when set (docs/orders.md).
                **{key: value for key, value, default in (
                    ("order_type", self.execution.order_type, "market"),
                    ("limit_offset_bps", self.execution.limit_offset_bps, 0.0),
                    ("time_in_force", self.execution.time_in_force, "day"),
                    ("expire_after", self.execution.expire_after, None)) if value != default},
            },
            "audit": attrs.asdict(self.audit),
            "run": {"on_error": self.run.on_error, "progress": self.run.progress,
                    **({"warmup": self.run.warmup} if self.run.warmup != 0 else {})},
            # Written only when set, so a scenario without a benchmark keeps its digest.
            **({"report": attrs.asdict(self.report)} if self.report.benchmark else {}),
        }

    def to_toml(self) -> str:
        """The fully resolved scenario as TOML text (see :meth:`to_dict`), the same for equal configs."""
        return toml_writer.dumps(self.to_dict())


def _data_table(data: DataConfig) -> dict[str, Any]:
    """``[data]`` as plain values; the warning settings only when they differ from their defaults, so a
    scenario that leaves them alone keeps its resolved form (and the digest of its audit log)."""
    table = attrs.asdict(data)
    for key, default in (("jump_threshold", DEFAULT_JUMP_THRESHOLD), ("stale_bars", DEFAULT_STALE_BARS),
                         ("corporate_actions", ""), ("dividend_payment", "ex_date")):
        if table[key] == default:
            del table[key]
    return table


def copy_tables(value: Any) -> Any:
    """A copy of a raw scenario with every mapping a fresh dict and every array a fresh list."""
    if isinstance(value, Mapping):
        return {key: copy_tables(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_tables(item) for item in value]
    return value


def _sorted_copy(value: Any) -> Any:
    """A copy with the keys of every mapping sorted and every array a list."""
    if isinstance(value, Mapping):
        return {key: _sorted_copy(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted_copy(item) for item in value]
    return value


def ignored_settings(tables: Mapping[str, Any], source: str | None,
                     origins: Mapping[tuple[str, str], str] | None = None) -> list[str]:
    """A warning line for each key set away from its default that the rest of the scenario leaves without
    effect: the corporate-action keys without ``[data] corporate_actions`` (a scenario extending one with them may
    turn them off), and ``[execution] expire_after`` on ``day`` orders (kept, so that a sweep over
    ``time_in_force`` may use it). ``tables`` are a scenario's, as :meth:`ScenarioConfig.to_dict` or the checks
    give them (a key left out has its default); ``origins`` (:func:`key_origins`) name a base file's key. Not
    written to the audit log, so digests do not depend on them."""
    from eventbt.scenario.schema import blamed_source

    def table(name: str) -> Mapping[str, Any]:
        found = tables.get(name)
        return found if isinstance(found, Mapping) else {}

    def where(name: str, key: str) -> str:
        named = blamed_source(source, origin=(origins or {}).get((name, key)))
        return f"{named}: " if named else ""

    lines = []
    if not table("data").get("corporate_actions"):
        for name, key, default in (("portfolio", "withholding_tax", 0.0), ("data", "dividend_payment", "ex_date"),
                                   ("strategy", "prices", "split_adjusted")):
            value = table(name).get(key, default)
            if value != default:
                lines.append(f"{where(name, key)}[{name}] {key} = {value!r} has no effect without [data] "
                             "corporate_actions (no split or dividend is applied)")
    execution = table("execution")
    if execution.get("expire_after") is not None and execution.get("time_in_force", "day") == "day":
        lines.append(f"{where('execution', 'expire_after')}[execution] expire_after = "
                     f"{execution['expire_after']!r} has no effect with time_in_force = 'day' (a day order waits one "
                     "bar; expire_after counts a gtc order's bars)")
    return lines


def blame_override(error: ScenarioError, overrides: Sequence[str]) -> ScenarioError:
    """``error`` (a plug-in's parameters, the schedule's dates, the data against the scenario: checks made after the
    scenario's keys) naming the last of ``overrides`` (``--set`` texts) that set its table and key, as the key
    checks name it; ``error`` itself when none did."""
    from eventbt.scenario.schema import blamed_source, last_override

    if not overrides or not error.table:
        return error
    target = f"{error.table}.{error.key}" if error.key else error.table
    override = last_override(((text.partition("=")[0].strip(), text) for text in overrides), target)
    if override is None:
        return error
    text, prefix = str(error), f"{error.path}: " if error.path else ""
    return ScenarioError(text.removeprefix(prefix), path=blamed_source(error.path, override=override),
                         table=error.table, key=error.key)


def key_origins(chain: Sequence[str]) -> dict[tuple[str, str], str]:
    """Which file of an ``extends`` chain (the scenario first, as :func:`read_scenario_file` gives it) wrote each
    ``(table, key)`` of the merged scenario, a sub-table's keys as ``("execution.commission", "rate")``: the
    nearest file to the scenario that sets it. For messages about a key a base file holds."""
    origins: dict[tuple[str, str], str] = {}
    for source in reversed(chain):
        try:
            raw = tomllib.loads(Path(source).read_bytes().decode("utf-8"))
        except (OSError, ValueError):  # read once already: a file that cannot be read again names nothing
            continue
        for table, values in raw.items():
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                origins[(table, key)] = source
                if isinstance(value, dict):
                    origins.update({(f"{table}.{key}", inner): source for inner in value})
    return origins


def read_scenario_file(source: str, *, _seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """The raw tables of a scenario file with its ``extends`` chain merged in, and that chain (file first).

    Every file in the chain is named as its path relative to the working directory would be written:
    ``scenarios/child.toml``, then ``scenarios/base.toml``.
    """
    chain_names = [*_seen, source]
    resolved = os.path.normpath(os.path.abspath(source))
    if resolved in (os.path.normpath(os.path.abspath(seen)) for seen in _seen):
        raise ScenarioError(f"extends cycle: {' -> '.join(chain_names)}", path=_seen[0], key="extends")
    blame = _seen[-1] if _seen else None
    try:
        text = Path(source).read_bytes().decode("utf-8")
    except FileNotFoundError:
        if blame is not None:
            raise ScenarioError(f"extends {source!r}: file not found", path=blame, key="extends") from None
        raise ScenarioError("file not found", path=source) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", path=source) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"invalid TOML: {exc}", path=source) from None
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw, [source]
    if not isinstance(base_name, str) or not base_name:
        raise ScenarioError(f"extends must be a file name (a string), got {base_name!r}", path=source, key="extends")
    folder = os.path.dirname(source)
    base_source = os.path.join(folder, base_name) if folder else base_name
    base, chain = read_scenario_file(os.path.normpath(base_source), _seen=tuple(chain_names))
    base_folder = os.path.dirname(os.path.normpath(base_source))
    if os.path.normpath(base_folder or ".") != os.path.normpath(folder or "."):
        for table, key in (("data", "path"), ("audit", "path"), ("data", "corporate_actions")):
            inherited = base.get(table, {}).get(key) if isinstance(base.get(table), dict) else None
            if isinstance(inherited, str) and inherited and inherited != "columns" and not os.path.isabs(inherited):
                moved = os.path.relpath(os.path.join(base_folder, inherited), folder or ".")
                base[table][key] = Path(moved).as_posix()
        report = base.get("report")
        benchmark = report.get("benchmark") if isinstance(report, dict) else None
        if isinstance(report, dict) and isinstance(benchmark, str) and benchmark:
            # FILE[:COLUMN]: the file moves, the column stays.
            from eventbt.data.benchmark import split_benchmark

            file, column = split_benchmark(benchmark, Path(base_folder or "."))
            if not os.path.isabs(file):
                moved = Path(os.path.relpath(os.path.join(base_folder, file), folder or ".")).as_posix()
                report["benchmark"] = moved if column is None else f"{moved}:{column}"
    return _merge(base, raw), [source, *chain]


def _merge(base: dict[str, Any], child: Mapping[str, Any], where: tuple[str, ...] = ()) -> dict[str, Any]:
    """``child`` over ``base``: tables merge key by key, any other value replaces.

    A cost model table whose ``model`` the child changes is replaced whole: the base's parameters belong to
    the base's model (the same rule as for ``--set``). So is a ``[schedule]`` whose child names another of its
    modes (``dates`` over ``rebalance``): the modes exclude each other, as ``--set`` of one replaces the other.
    """
    merged = dict(base)
    for key, value in child.items():
        inner = merged.get(key)
        if isinstance(value, Mapping) and isinstance(inner, Mapping):
            changed_model = (where == ("execution",) and key in ("commission", "slippage")
                             and "model" in value and value["model"] != inner.get("model"))
            other_mode = (where == () and key == "schedule"
                          and any(mode in value for mode in SCHEDULE_MODES)
                          and not any(mode in value and mode in inner for mode in SCHEDULE_MODES))
            replaced = changed_model or other_mode
            merged[key] = dict(value) if replaced else _merge(dict(inner), value, (*where, key))
        else:
            merged[key] = value
    return merged
