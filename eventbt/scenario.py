"""Scenario files: TOML in, frozen configuration out.

A scenario file declares one backtest run: its data, portfolio, strategy, schedule, rebalance, execution,
audit and run settings (the format is documented in ``docs/scenarios.md``). :meth:`ScenarioConfig.from_toml`
reads a file, applies ``--set table.key=value`` overrides, checks every table and key, fills in every
default and returns a :class:`ScenarioConfig`; nothing downstream sees the raw dict. Every problem is a
:class:`~eventbt.errors.ScenarioError` naming the file (and the override, when one is at fault), the table,
the key and what was expected.

The free-form tables (``[strategy.params]``, ``[execution.commission]``, ``[execution.slippage]``) are kept
as plain dicts: the strategy and the cost models check their own parameters.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs

from eventbt import toml_writer
from eventbt.errors import ScenarioError

__all__ = [
    "AuditConfig",
    "DataConfig",
    "ExecutionConfig",
    "PortfolioConfig",
    "RebalanceConfig",
    "RunConfig",
    "ScenarioConfig",
    "ScheduleConfig",
    "StrategyConfig",
]

_SCHEDULE_MODES = ("rebalance", "every_n_bars", "dates")


@attrs.frozen(kw_only=True)
class DataConfig:
    """``[data]``: where the prices are (``path``, relative to the scenario file) and how to read them."""

    path: str
    format: str = "auto"
    symbols: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    missing: str = "ffill"
    delisting: str = "liquidate"


@attrs.frozen(kw_only=True)
class PortfolioConfig:
    """``[portfolio]``: the starting cash, in account currency."""

    initial_cash: float = 1_000_000.0


@attrs.frozen(kw_only=True)
class StrategyConfig:
    """``[strategy]``: a registered name or ``module:Class``, and its free-form ``params``."""

    name: str
    params: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ScheduleConfig:
    """``[schedule]``: when to rebalance; exactly one of the three fields is set, the others are ``None``."""

    rebalance: str | None = None
    every_n_bars: int | None = None
    dates: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class RebalanceConfig:
    """``[rebalance]``: the share of value kept in cash and the smallest trade worth making."""

    cash_buffer: float = 0.0
    min_trade_value: float = 0.0


@attrs.frozen(kw_only=True)
class ExecutionConfig:
    """``[execution]``: fill timing and the commission and slippage models with their parameters."""

    timing: str = "same_close"
    commission: dict[str, Any] = attrs.field(factory=lambda: {"model": "zero"})
    slippage: dict[str, Any] = attrs.field(factory=lambda: {"model": "fixed_bps", "bps": 0.0})


@attrs.frozen(kw_only=True)
class AuditConfig:
    """``[audit]``: where the audit log goes (empty: the run's output folder)."""

    path: str = ""


@attrs.frozen(kw_only=True)
class RunConfig:
    """``[run]``: whether a failing bar stops the run or is skipped, and whether to show progress."""

    on_error: str = "stop"
    progress: bool = True


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

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> ScenarioConfig:
        """Read, override and validate the scenario file at ``path`` (relative to the working directory)."""
        source = os.fspath(path)
        try:
            text = Path(source).read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise ScenarioError("file not found", path=source) from None
        except UnicodeDecodeError as exc:
            raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=source) from None
        except OSError as exc:
            raise ScenarioError(f"cannot read the file: {exc.strerror}", path=source) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"invalid TOML: {exc}", path=source) from None
        return cls._build(raw, source=source, base_dir=None, overrides=overrides)

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
        return self._build(self.to_dict(), source=self.source, base_dir=self.base_dir, overrides=overrides)

    @classmethod
    def _build(
        cls,
        raw: Mapping[str, Any],
        *,
        source: str | None,
        base_dir: str | os.PathLike[str] | None,
        overrides: Sequence[str],
    ) -> ScenarioConfig:
        if isinstance(overrides, str):
            overrides = (overrides,)
        if base_dir is None:
            base_dir = Path(source).parent if source is not None else Path.cwd()
        reader = _Reader(source)
        tables = reader.apply_overrides(_copy_tables(raw), overrides)
        values = reader.read(tables)
        default_name = Path(source).stem if source is not None else "scenario"
        return cls(
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
        )

    @property
    def data_path(self) -> Path:
        """The data path as an absolute, resolved path (``data.path`` joined to ``base_dir``)."""
        return (self.base_dir / self.data.path).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain values: tables in schema order, free-form keys sorted.

        ``data.path`` is kept as written in the file, so the result read with :meth:`from_dict` and the same
        ``base_dir`` gives an equal config.
        """
        schedule = {mode: getattr(self.schedule, mode) for mode in _SCHEDULE_MODES}
        return {
            "scenario": {"name": self.name, "description": self.description},
            "data": attrs.asdict(self.data),
            "portfolio": attrs.asdict(self.portfolio),
            "strategy": {"name": self.strategy.name, "params": _sorted_copy(self.strategy.params)},
            "schedule": {mode: _sorted_copy(value) for mode, value in schedule.items() if value is not None},
            "rebalance": attrs.asdict(self.rebalance),
            "execution": {
                "timing": self.execution.timing,
                "commission": _sorted_copy(self.execution.commission),
                "slippage": _sorted_copy(self.execution.slippage),
            },
            "audit": attrs.asdict(self.audit),
            "run": attrs.asdict(self.run),
        }

    def to_toml(self) -> str:
        """The fully resolved scenario as TOML text (see :meth:`to_dict`), the same for equal configs."""
        return toml_writer.dumps(self.to_dict())


def _copy_tables(value: Any) -> Any:
    """A copy of a raw scenario with every mapping a fresh dict and every array a fresh list."""
    if isinstance(value, Mapping):
        return {key: _copy_tables(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_tables(item) for item in value]
    return value


def _sorted_copy(value: Any) -> Any:
    """A copy with the keys of every mapping sorted and every array a list."""
    if isinstance(value, Mapping):
        return {key: _sorted_copy(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted_copy(item) for item in value]
    return value


# --- validation ------------------------------------------------------------------------------------------

_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "float"),
    (str, "string"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    (dt.time, "time"),
    ((list, tuple), "array"),
    (Mapping, "table"),
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REQUIRED = {"data": "path", "strategy": "name"}


def _got(value: Any, *, typed: bool) -> str:
    """A value as written, for messages; prefixed with its TOML type name when the type is what is wrong."""
    try:
        shown = repr(value) if isinstance(value, str) else toml_writer.format_value(value)
    except TypeError:
        shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:76] + " ..."
    if not typed:
        return shown
    return next((f"{name} {shown}" for kind, name in _TYPE_NAMES if isinstance(value, kind)), shown)


def _hint(word: str, options: Sequence[str], template: str = "'{}'", *, listing: bool = False) -> str:
    """`` (did you mean 'x'?)`` for a close match; else the options when ``listing``, else nothing."""
    if matches := difflib.get_close_matches(word, options, n=1):
        return f" (did you mean {template.format(matches[0])}?)"
    return f" (expected one of {_one_of(options, template)})" if listing else ""


def _one_of(options: Sequence[str], template: str = "'{}'") -> str:
    return ", ".join(template.format(option) for option in options)


def _parse_value(text: str) -> Any:
    """An override's value: read as a TOML value (``5``, ``"x"``, ``[1, 2]``), else the text itself."""
    try:
        document = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return document["value"] if list(document) == ["value"] else text


class _Reader:
    """Checks one raw scenario; each error names the file, the override at fault if any, table and key."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.overrides: list[tuple[str, str]] = []  # (dotted key, override as given), in order

    def fail(self, message: str, *, table: str | None = None, key: str | None = None, at: bool = True) -> NoReturn:
        """Raise a ScenarioError; ``at`` prefixes the message with ``[table]``."""
        target = ".".join(part for part in (table, key) if part)
        blamed = [text for dotted, text in self.overrides if _overlaps(dotted, target)]
        self._raise(message, blamed[-1] if blamed else None, table=table, key=key, at=at)

    def _raise(self, message: str, override: str | None, *, table: str | None, key: str | None, at: bool) -> NoReturn:
        path = self.source
        if override is not None:
            path = f"{path} (--set {override})" if path else f"--set {override}"
        prefix = f"[{table}] " if table and at else ""
        raise ScenarioError(prefix + message, path=path, table=table, key=key)

    def bad(
        self, table: str, key: str, expected: str, value: Any, *, typed: bool, hint: str = "", label: str = ""
    ) -> NoReturn:
        """Raise ``[table] key must be <expected>, got <value>`` (``label`` is put after the key: ``[2]``)."""
        got = _got(value, typed=typed)
        self.fail(f"{key}{label} must be {expected}, got {got}{hint}", table=table, key=key)

    def apply_overrides(self, raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
        """Set each ``table.key=value`` in ``raw`` (a fresh copy of the file's tables)."""
        pinned: set[str] = set()
        for text in overrides:
            dotted, equals, value_text = text.partition("=")
            parts = [part.strip() for part in dotted.split(".")]
            if not equals or len(parts) < 2 or not all(parts):
                message = "override must look like 'table.key=value', e.g. 'execution.timing=next_open'"
                self._raise(message, text, table=None, key=None, at=False)
            self.overrides.append((".".join(parts), text))
            node = raw
            for depth, part in enumerate(parts[:-1]):
                node = node.setdefault(part, _start_table(parts[: depth + 1]))
                if not isinstance(node, dict):
                    got = _got(node, typed=True)
                    message = f"{part} must be a table to set '{'.'.join(parts)}', got {got}"
                    self.fail(message, table=".".join(parts[:depth]) or None, key=part)
            if parts[0] == "schedule" and len(parts) == 2 and parts[1] in _SCHEDULE_MODES:
                # The schedule keys are alternatives: an override of one replaces the file's choice.
                for mode in _SCHEDULE_MODES:
                    if mode != parts[1] and f"schedule.{mode}" not in pinned:
                        node.pop(mode, None)
            value = _parse_value(value_text.strip())
            if parts[:1] == ["execution"] and parts[2:] == ["model"] and node.get("model") != value:
                # A different cost model takes different parameters: the file's ones are dropped (those set
                # by earlier overrides stay), so '--set execution.commission.model=percentage
                # --set execution.commission.rate=0.002' describes the new model completely.
                for key in [k for k in node if k != "model" and f"{'.'.join(parts[:2])}.{k}" not in pinned]:
                    del node[key]
            node[parts[-1]] = value
            pinned.add(".".join(parts))
        return raw

    def read(self, raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Every table's checked values; keys the scenario does not give are left out (attrs fills them)."""
        for name, value in raw.items():
            if name not in _CHECKS and isinstance(value, Mapping):
                hint = _hint(name, list(_CHECKS), "[{}]", listing=True)
                self.fail(f"unknown table [{name}]{hint}", table=name, at=False)
            if name not in _CHECKS:
                self.fail(f"unknown key {name!r} outside any table (keys belong in tables)", key=name)
        values = {}
        for name, checks in _CHECKS.items():
            table = self.table(raw, name, list(checks))
            modes = [mode for mode in _SCHEDULE_MODES if mode in table]
            if name == "schedule" and len(modes) > 1:
                got = f"got {len(modes)}: {_one_of(modes)}"
                self.fail(f"expected exactly one of {_one_of(_SCHEDULE_MODES)}, {got}", table=name)
            values[name] = {key: checks[key](self, name, key, value) for key, value in table.items()}
        start, end = values["data"].get("start"), values["data"].get("end")
        if start and end and start > end:
            self.fail(f"start must not be after end, got {start!r} > {end!r}", table="data", key="start")
        return values

    def table(self, raw: Mapping[str, Any], name: str, known: Sequence[str]) -> Mapping[str, Any]:
        """The raw table ``name`` (empty when absent), checked for its type, unknown and required keys."""
        required = _REQUIRED.get(name)
        if required and name not in raw:
            self.fail(f"missing required table [{name}]", table=name, at=False)
        table = raw.get(name, {})
        if not isinstance(table, Mapping):
            self.fail(f"must be a table, got {_got(table, typed=True)}", table=name)
        for key in table:
            if key not in known:
                self.fail(f"unknown key {key!r}{_hint(key, known, listing=True)}", table=name, key=key)
        if required and required not in table:
            self.fail(f"missing required key {required!r}", table=name, key=required)
        return table


def _start_table(parts: Sequence[str]) -> dict[str, Any]:
    """The table an override creates when the scenario has none: a cost model starts from its default."""
    if list(parts) in (["execution", "commission"], ["execution", "slippage"]):
        return dict(getattr(ExecutionConfig(), parts[1]))
    return {}


def _overlaps(dotted: str, target: str) -> bool:
    """Whether setting ``dotted`` touched ``target`` (the same key, a key inside it, or a table around it)."""
    return bool(target) and (dotted == target or dotted.startswith(target + ".") or target.startswith(dotted + "."))


# --- checks: each takes (reader, table, key, raw value) and returns the value to keep ---------------------

_Check = Callable[[_Reader, str, str, Any], Any]


def _text(*, empty: bool) -> _Check:
    def check(reader: _Reader, table: str, key: str, value: Any) -> str:
        if not isinstance(value, str) or not (empty or value):
            expected = "a string" if empty else "a non-empty string"
            reader.bad(table, key, expected, value, typed=not isinstance(value, str))
        return value

    return check


def _choice(*allowed: str) -> _Check:
    def check(reader: _Reader, table: str, key: str, value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        typed, hint = not isinstance(value, str), _hint(value, allowed) if isinstance(value, str) else ""
        reader.bad(table, key, f"one of {_one_of(allowed)}", value, typed=typed, hint=hint)

    return check


def _number(expected: str, ok: Callable[[float], bool]) -> _Check:
    def check(reader: _Reader, table: str, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            reader.bad(table, key, "a number", value, typed=True)
        if isinstance(value, float) and not math.isfinite(value):
            reader.bad(table, key, "a finite number", value, typed=False)
        if not ok(value):
            reader.bad(table, key, expected, value, typed=False)
        return float(value)

    return check


def _positive_int(reader: _Reader, table: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad(table, key, "an integer", value, typed=True)
    if value < 1:
        reader.bad(table, key, "an integer >= 1", value, typed=False)
    return value


def _boolean(reader: _Reader, table: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        reader.bad(table, key, "a boolean", value, typed=True)
    return value


def _iso_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` for a valid ISO date string or a TOML date, else ``None``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _date_or_empty(reader: _Reader, table: str, key: str, value: Any) -> str:
    text = "" if value == "" else _iso_date(value)
    if text is None:
        typed = not isinstance(value, str)
        reader.bad(table, key, "an ISO date YYYY-MM-DD or empty", value, typed=typed)
    return text


def _array(
    reader: _Reader,
    table: str,
    key: str,
    value: Any,
    what: tuple[str, str],
    read: Callable[[Any], str | None],
) -> tuple[str, ...]:
    """An array of distinct items, each turned into text by ``read`` (``None`` for a bad item).

    ``what`` is the expectation for the array and for one item: ``("strings", "a string")``.
    """
    if not isinstance(value, list | tuple):
        reader.bad(table, key, f"an array of {what[0]}", value, typed=True)
    items: list[str] = []
    for index, item in enumerate(value):
        text = read(item)
        if text is None:
            typed = not isinstance(item, str)
            reader.bad(table, key, what[1], item, typed=typed, label=f"[{index}]")
        if text in items:
            reader.fail(f"{key} lists {text!r} twice", table=table, key=key)
        items.append(text)
    return tuple(items)


def _symbols(reader: _Reader, table: str, key: str, value: Any) -> tuple[str, ...]:
    def read(item: Any) -> str | None:
        return item if isinstance(item, str) and item else None

    return _array(reader, table, key, value, ("non-empty strings", "a non-empty string"), read)


def _dates(reader: _Reader, table: str, key: str, value: Any) -> tuple[str, ...]:
    dates = _array(reader, table, key, value, ("ISO dates YYYY-MM-DD", "an ISO date YYYY-MM-DD"), _iso_date)
    if not dates:
        reader.bad(table, key, "a non-empty array of ISO dates YYYY-MM-DD", value, typed=False)
    for earlier, later in itertools.pairwise(dates):
        if later < earlier:
            reader.fail(f"{key} must be sorted, got {later!r} after {earlier!r}", table=table, key=key)
    return dates


def _free(reader: _Reader, table: str, key: str, value: Any) -> dict[str, Any]:
    """A free-form table, kept as a dict (already a fresh copy: see ``_copy_tables``)."""
    if not isinstance(value, dict):
        reader.bad(table, key, "a table", value, typed=True)
    return value


def _model(reader: _Reader, table: str, key: str, value: Any) -> dict[str, Any]:
    """A cost model's free-form table, which must name its ``model``."""
    params, where = _free(reader, table, key, value), f"{table}.{key}"
    if "model" not in params:
        reader.fail("missing required key 'model'", table=where, key="model")
    if not isinstance(params["model"], str) or not params["model"]:
        typed = not isinstance(params["model"], str)
        reader.bad(where, "model", "a non-empty string", params["model"], typed=typed)
    return params


_CHECKS: dict[str, dict[str, _Check]] = {
    "scenario": {"name": _text(empty=False), "description": _text(empty=True)},
    "data": {
        "path": _text(empty=False),
        "format": _choice("auto", "wide", "long", "per_symbol_dir", "parquet"),
        "symbols": _symbols,
        "start": _date_or_empty,
        "end": _date_or_empty,
        "missing": _choice("ffill", "error"),
        "delisting": _choice("liquidate", "error"),
    },
    "portfolio": {"initial_cash": _number("a number > 0", lambda x: x > 0)},
    "strategy": {"name": _text(empty=False), "params": _free},
    "schedule": {
        "rebalance": _choice("daily", "weekly", "monthly", "quarterly"),
        "every_n_bars": _positive_int,
        "dates": _dates,
    },
    "rebalance": {
        "cash_buffer": _number("a number >= 0 and < 1", lambda x: 0 <= x < 1),
        "min_trade_value": _number("a number >= 0", lambda x: x >= 0),
    },
    "execution": {"timing": _choice("same_close", "next_open"), "commission": _model, "slippage": _model},
    "audit": {"path": _text(empty=True)},
    "run": {"on_error": _choice("stop", "skip"), "progress": _boolean},
}
