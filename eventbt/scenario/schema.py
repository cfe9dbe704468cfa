"""The checks behind scenario files: one raw scenario (tables as ``tomllib`` returns them) in, checked values out.

:class:`Reader` applies ``--set table.key=value`` overrides and checks every table and key against the schema
(:data:`CHECKS`, plus the arrays of tables ``[[handlers]]`` and ``[[events]]``). Each problem is a
:class:`~eventbt.errors.ScenarioError` naming the file (and the override at fault), the table, the key and
what was expected. By default the first problem is raised; a reader made with ``collect=True`` keeps going
and lists every problem in ``errors`` (``eventbt validate`` uses it), leaving the faulty keys out of the
values it returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from eventbt.data import DEFAULT_JUMP_THRESHOLD, DEFAULT_STALE_BARS
from eventbt.errors import ScenarioError, closest
from eventbt.orders.rules import MAX_SHARES
from eventbt.protocols import (
    COMMISSION_PER,
    DATA_FORMATS,
    DAY_COUNTS,
    DELISTING_POLICIES,
    DIVIDEND_PAYMENTS,
    MARGIN_CALLS,
    MISSING_POLICIES,
    ON_ERROR,
    ORDER_TYPES,
    PERIODS,
    REBALANCE_ORDER_TYPES,
    REMAINDERS,
    STRATEGY_PRICES,
    TIMES_IN_FORCE,
    TIMINGS,
    WITHDRAWAL_POLICIES,
)
from eventbt.scenario import toml_writer

__all__ = [
    "CHECKS",
    "DEFAULT_COMMISSION",
    "DEFAULT_JUMP_THRESHOLD",
    "DEFAULT_SLIPPAGE",
    "DEFAULT_STALE_BARS",
    "EVENT_TYPES",
    "SCHEDULE_MODES",
    "Reader",
]

SCHEDULE_MODES = ("rebalance", "every_n_bars", "dates")
DEFAULT_COMMISSION: dict[str, Any] = {"model": "zero"}
DEFAULT_SLIPPAGE: dict[str, Any] = {"model": "fixed_bps", "bps": 0.0}
EVENT_TYPES = ("deposit", "withdrawal", "order")


class _Skipped(Exception):
    """Raised by a collecting reader after recording a problem, to skip the key at fault."""

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
    """`` (did you mean 'x'?)`` for a close match (the same word in another case first: ``BUY`` for ``buy``); else
    the options when ``listing``, else nothing."""
    if (match := closest(word, options)) is not None:
        return f" (did you mean {template.format(match)}?)"
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


class Reader:
    """Checks one raw scenario; each error names the file, the override at fault if any, table and key."""

    def __init__(self, source: str | None, *, collect: bool = False,
                 origins: Mapping[tuple[str, str], str] | None = None) -> None:
        self.source = source
        self.overrides: list[tuple[str, str]] = []  # (dotted key, override as given), in order
        self.errors: list[ScenarioError] | None = [] if collect else None
        # the file of an `extends` chain that wrote each (table, key), when it is not `source` (config.key_origins)
        self.origins: Mapping[tuple[str, str], str] = origins or {}

    def fail(self, message: str, *, table: str | None = None, key: str | None = None, at: bool = True) -> NoReturn:
        """Raise a ScenarioError; ``at`` prefixes the message with ``[table]``."""
        target = ".".join(part for part in (table, key) if part)
        self._raise(message, last_override(self.overrides, target), table=table, key=key, at=at)

    def _raise(self, message: str, override: str | None, *, table: str | None, key: str | None, at: bool) -> NoReturn:
        origin = self.origins.get((table, key)) if table and key else None
        path = blamed_source(self.source, override=override, origin=origin)
        prefix = f"[{table}] " if table and at else ""
        error = ScenarioError(prefix + message, path=path, table=table, key=key)
        if self.errors is not None:
            self.errors.append(error)
            raise _Skipped
        raise error

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
            try:
                self._apply_override(raw, text, pinned)
            except _Skipped:
                continue
        return raw

    def _apply_override(self, raw: dict[str, Any], text: str, pinned: set[str]) -> None:
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
        if parts[0] == "schedule" and len(parts) == 2 and parts[1] in SCHEDULE_MODES:
            # The schedule keys are alternatives: an override of one replaces the schedule chosen before it, the
            # file's or an earlier override's (a later override wins, as on one key).
            for mode in SCHEDULE_MODES:
                if mode != parts[1]:
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

    def read(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Every table's checked values; keys the scenario does not give are left out (attrs fills them).

        ``[[handlers]]`` and ``[[events]]`` come back as lists of checked dicts under their own names.
        """
        for name, value in raw.items():
            if name in ARRAYS:
                continue
            try:
                if name not in CHECKS and isinstance(value, Mapping):
                    hint = _hint(name, list(CHECKS), "[{}]", listing=True)
                    self.fail(f"unknown table [{name}]{hint}", table=name, at=False)
                if name not in CHECKS:
                    hint = _hint(name, [*ARRAYS, "extends"])
                    self.fail(f"unknown key {name!r} outside any table{hint or ' (keys belong in tables)'}", key=name)
            except _Skipped:
                continue
        values: dict[str, Any] = {}
        for name, checks in CHECKS.items():
            values[name] = {}
            try:
                table = self.table(raw, name, list(checks))
                modes = [mode for mode in SCHEDULE_MODES if mode in table]
                if name == "schedule" and len(modes) > 1:
                    got = f"got {len(modes)}: {_one_of(modes)}"
                    self.fail(f"expected exactly one of {_one_of(SCHEDULE_MODES)}, {got}", table=name)
            except _Skipped:
                continue
            for key, value in table.items():
                try:
                    values[name][key] = checks[key](self, name, key, value)
                except _Skipped:
                    continue
        for name, check in ARRAYS.items():
            values[name] = check(self, name, raw.get(name, []))
        start, end = values["data"].get("start"), values["data"].get("end")
        if start and end and start > end:
            with contextlib.suppress(_Skipped):
                self.fail(f"start must not be after end, got {start!r} > {end!r}", table="data", key="start")
        written = raw.get("portfolio")
        self._margin_keys(values["portfolio"], written if isinstance(written, Mapping) else {})
        warmup = values["run"].get("warmup")
        if isinstance(warmup, str):
            with contextlib.suppress(_Skipped):
                if not start:
                    self.fail(f"warmup {warmup!r} is a date, the warm-up's first; it needs [data] start, the first "
                              "tradable date, after it (or give a number of bars)", table="run", key="warmup")
                if warmup >= start:
                    self.fail(f"warmup must be before [data] start, got {warmup!r} >= {start!r}", table="run",
                              key="warmup")
        return values

    def _margin_keys(self, portfolio: Mapping[str, Any], written: Mapping[str, Any]) -> None:
        """The ``[portfolio]`` keys of a margin account against each other (``docs/long-short.md``): each problem
        is reported on the key that needs another, with the values as ``written``."""
        allow_short = portfolio.get("allow_short", False)
        gross = portfolio.get("max_gross", 1.0)
        shown_gross = _got(written.get("max_gross", gross), typed=False)
        margin = allow_short or gross > 1
        account = "a margin account (allow_short = true or max_gross > 1)"
        rates = bool(portfolio.get("financing_rate") or portfolio.get("borrow_rate") or portfolio.get("borrow_rates"))
        # (key, whether it is fine, the message when it is not: {value} is the key's value as written)
        checks: list[tuple[str, bool, str]] = [
            ("max_net", portfolio.get("max_net", 0.0) <= gross,
             f"max_net must be at most max_gross ({shown_gross}), got {{value}}"),
            ("financing_rate", not portfolio.get("financing_rate") or margin,
             f"financing_rate = {{value}} needs {account}"),
            ("borrow_rate", not portfolio.get("borrow_rate") or allow_short,
             "borrow_rate = {value} needs allow_short = true"),
            ("borrow_rates", not portfolio.get("borrow_rates") or allow_short,
             "borrow_rates = {value} needs allow_short = true"),
            ("maintenance_margin", "maintenance_margin" not in portfolio or margin,
             f"maintenance_margin = {{value}} needs {account}"),
            ("maintenance_margin", portfolio.get("maintenance_margin", 0.0) * gross < 1,
             f"maintenance_margin must be below 1 / max_gross ({1 / gross:.6g}), got {{value}}: a book "
             f"rebalanced to max_gross ({shown_gross}) would be called at once"),
            ("margin_call", portfolio.get("margin_call", "liquidate") == "liquidate"
             or "maintenance_margin" in portfolio,
             "margin_call = {value} needs maintenance_margin, the rule it answers"),
            ("day_count", portfolio.get("day_count", 360) == 360 or rates,
             "day_count = {value} needs financing_rate or borrow_rate, the rates it counts days for"),
        ]
        for key, ok, message in checks:
            if not ok:
                with contextlib.suppress(_Skipped):
                    value = _got(written.get(key, portfolio[key]), typed=False)
                    self.fail(message.format(value=value), table="portfolio", key=key)

    def table(self, raw: Mapping[str, Any], name: str, known: Sequence[str]) -> Mapping[str, Any]:
        """The raw table ``name`` (empty when absent), checked for its type, unknown and required keys."""
        required = _REQUIRED.get(name)
        if required and name not in raw:
            self.fail(f"missing required table [{name}]", table=name, at=False)
        table = raw.get(name, {})
        if not isinstance(table, Mapping):
            self.fail(f"must be a table, got {_got(table, typed=True)}", table=name)
        unknown = [key for key in table if key not in known]
        for key in unknown:
            try:
                self.fail(f"unknown key {key!r}{_hint(key, known, listing=True)}", table=name, key=key)
            except _Skipped:
                continue
        checked: Mapping[str, Any] = table
        if unknown:  # only a collecting reader gets here: check the known keys all the same
            checked = {key: value for key, value in table.items() if key in known}
        if required and required not in checked:
            self.fail(f"missing required key {required!r}", table=name, key=required)
        return checked


def _start_table(parts: Sequence[str]) -> dict[str, Any]:
    """The table an override creates when the scenario has none: a cost model starts from its default."""
    if list(parts) in (["execution", "commission"], ["execution", "slippage"]):
        return dict(DEFAULT_COMMISSION if parts[1] == "commission" else DEFAULT_SLIPPAGE)
    return {}


def blamed_source(source: str | None, *, override: str | None = None, origin: str | None = None) -> str | None:
    """The scenario file ``source`` as a message blames it: with the ``--set`` ``override`` that caused the error
    (``x.toml (--set a.b=1)``), else the base file ``origin`` of its ``extends`` chain that holds the key
    (``base.toml (extended by x.toml)``), else as it is. The key checks, the later checks
    (:func:`~eventbt.scenario.config.blame_override`) and the warnings all name a file this way."""
    if override is not None:
        return f"{source} (--set {override})" if source else f"--set {override}"
    if origin is not None and origin != source:
        return f"{origin} (extended by {source})"
    return source


def last_override(overrides: Iterable[tuple[str, str]], target: str) -> str | None:
    """The last of ``overrides`` (``(dotted key, --set text)`` pairs) that set ``target`` (:func:`overlaps`): the
    one a message about ``target`` blames; ``None`` when none did."""
    blamed = [text for dotted, text in overrides if overlaps(dotted, target)]
    return blamed[-1] if blamed else None


def overlaps(dotted: str, target: str) -> bool:
    """Whether setting ``dotted`` touched ``target`` (the same key, a key inside it, or a table around it)."""
    return bool(target) and (dotted == target or dotted.startswith(target + ".") or target.startswith(dotted + "."))


# --- checks: each takes (reader, table, key, raw value) and returns the value to keep ---------------------

_Check = Callable[[Reader, str, str, Any], Any]


def _text(*, empty: bool) -> _Check:
    def check(reader: Reader, table: str, key: str, value: Any) -> str:
        if not isinstance(value, str) or not (empty or value):
            expected = "a string" if empty else "a non-empty string"
            reader.bad(table, key, expected, value, typed=not isinstance(value, str))
        return value

    return check


def _choice(*allowed: str) -> _Check:
    def check(reader: Reader, table: str, key: str, value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        typed, hint = not isinstance(value, str), _hint(value, allowed) if isinstance(value, str) else ""
        reader.bad(table, key, f"one of {_one_of(allowed)}", value, typed=typed, hint=hint)

    return check


def _number(expected: str, ok: Callable[[float], bool]) -> _Check:
    def check(reader: Reader, table: str, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            reader.bad(table, key, "a number", value, typed=True)
        if isinstance(value, float) and not math.isfinite(value):
            reader.bad(table, key, "a finite number", value, typed=False)
        if not ok(value):
            reader.bad(table, key, expected, value, typed=False)
        return float(value)

    return check


# Money is kept in float64 dollars, which tell cents apart up to 2**44 (about 1.76e13): the largest cash and
# cash-flow amount a scenario may name stays below that, and far above any fund's assets.
MAX_CASH = 1e13
_POSITIVE = _number("a number > 0", lambda x: x > 0)


def _cash(reader: Reader, table: str, key: str, value: Any) -> float:
    """An amount of money: > 0 and at most :data:`MAX_CASH`."""
    amount = float(_POSITIVE(reader, table, key, value))
    if amount > MAX_CASH:
        reader.bad(table, key, "at most 1e13 (money is kept in float64 dollars, exact to the cent up to there)",
                   value, typed=False)
    return amount


def _positive_int(reader: Reader, table: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad(table, key, "an integer", value, typed=True)
    if value < 1:
        reader.bad(table, key, "an integer >= 1", value, typed=False)
    return value


def _stale_bars(reader: Reader, table: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad(table, key, "an integer", value, typed=True)
    if value != 0 and value < 2:
        reader.bad(table, key, "an integer >= 2, or 0 to turn the check off", value, typed=False)
    return value


def _day_count(reader: Reader, table: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad(table, key, "an integer", value, typed=True)
    if value not in DAY_COUNTS:
        reader.bad(table, key, " or ".join(str(days) for days in DAY_COUNTS), value, typed=False)
    return value


def _rates(reader: Reader, table: str, key: str, value: Any) -> dict[str, float]:
    """A table of symbol = annual rate (``[portfolio] borrow_rates``), each >= 0 and <= 10."""
    if not isinstance(value, Mapping):
        reader.bad(table, key, "a table of symbol = annual rate", value, typed=True)
    rate = _number("a number >= 0 and <= 10", lambda x: 0 <= x <= 10)
    return {str(symbol): rate(reader, f"{table}.{key}", str(symbol), value[symbol]) for symbol in sorted(value)}


def _warmup(reader: Reader, table: str, key: str, value: Any) -> int | str:
    """``[run] warmup``: a number of bars >= 0, or the ISO date the warm-up starts at."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            reader.bad(table, key, "an integer >= 0 (bars) or an ISO date YYYY-MM-DD", value, typed=False)
        return value
    text = _iso_date(value)
    if text is None:
        typed = not isinstance(value, str)
        reader.bad(table, key, "an integer >= 0 (bars) or an ISO date YYYY-MM-DD", value, typed=typed)
    return text


def _boolean(reader: Reader, table: str, key: str, value: Any) -> bool:
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


def _date_or_empty(reader: Reader, table: str, key: str, value: Any) -> str:
    text = "" if value == "" else _iso_date(value)
    if text is None:
        typed = not isinstance(value, str)
        reader.bad(table, key, "an ISO date YYYY-MM-DD or empty", value, typed=typed)
    return text


def _array(
    reader: Reader,
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


def _symbols(reader: Reader, table: str, key: str, value: Any) -> tuple[str, ...]:
    def read(item: Any) -> str | None:
        return item if isinstance(item, str) and item else None

    return _array(reader, table, key, value, ("non-empty strings", "a non-empty string"), read)


def _dates(reader: Reader, table: str, key: str, value: Any) -> tuple[str, ...]:
    dates = _array(reader, table, key, value, ("ISO dates YYYY-MM-DD", "an ISO date YYYY-MM-DD"), _iso_date)
    if not dates:
        reader.bad(table, key, "a non-empty array of ISO dates YYYY-MM-DD", value, typed=False)
    for earlier, later in itertools.pairwise(dates):
        if later < earlier:
            reader.fail(f"{key} must be sorted, got {later!r} after {earlier!r}", table=table, key=key)
    return dates


def _free(reader: Reader, table: str, key: str, value: Any) -> dict[str, Any]:
    """A free-form table, kept as a dict (already a fresh copy: see ``_copy_tables``)."""
    if not isinstance(value, dict):
        reader.bad(table, key, "a table", value, typed=True)
    return value


def _model(reader: Reader, table: str, key: str, value: Any) -> dict[str, Any]:
    """A cost model's free-form table, which must name its ``model``."""
    params, where = _free(reader, table, key, value), f"{table}.{key}"
    if "model" not in params:
        reader.fail("missing required key 'model'", table=where, key="model")
    if not isinstance(params["model"], str) or not params["model"]:
        typed = not isinstance(params["model"], str)
        reader.bad(where, "model", "a non-empty string", params["model"], typed=typed)
    return params


CHECKS: dict[str, dict[str, _Check]] = {
    "scenario": {"name": _text(empty=False), "description": _text(empty=True)},
    "data": {
        "path": _text(empty=False),
        "format": _choice(*DATA_FORMATS),
        "symbols": _symbols,
        "start": _date_or_empty,
        "end": _date_or_empty,
        "missing": _choice(*MISSING_POLICIES),
        "delisting": _choice(*DELISTING_POLICIES),
        "jump_threshold": _number("a number > 0 and < 1", lambda x: 0 < x < 1),
        "stale_bars": _stale_bars,
        "corporate_actions": _text(empty=True),
        "dividend_payment": _choice(*DIVIDEND_PAYMENTS),
    },
    "portfolio": {
        "initial_cash": _cash,
        "withdrawal": _choice(*WITHDRAWAL_POLICIES),
        "withholding_tax": _number("a number >= 0 and < 1", lambda x: 0 <= x < 1),
        "allow_short": _boolean,
        "max_gross": _number("a number > 0 and <= 10", lambda x: 0 < x <= 10),
        "max_net": _number("a number >= 0", lambda x: x >= 0),
        "financing_rate": _number("a number >= 0 and < 1", lambda x: 0 <= x < 1),
        "borrow_rate": _number("a number >= 0 and <= 10", lambda x: 0 <= x <= 10),
        "borrow_rates": _rates,
        "day_count": _day_count,
        "maintenance_margin": _number("a number > 0 and < 1", lambda x: 0 < x < 1),
        "margin_call": _choice(*MARGIN_CALLS),
    },
    "strategy": {"name": _text(empty=False), "params": _free, "prices": _choice(*STRATEGY_PRICES)},
    "schedule": {
        "rebalance": _choice(*PERIODS),
        "every_n_bars": _positive_int,
        "dates": _dates,
    },
    "rebalance": {
        "cash_buffer": _number("a number >= 0 and < 1", lambda x: 0 <= x < 1),
        "min_trade_value": _number("a number >= 0", lambda x: x >= 0),
    },
    "execution": {
        "timing": _choice(*TIMINGS),
        "commission": _model,
        "slippage": _model,
        "volume_limit": _number("a number > 0 and <= 1", lambda x: 0 < x <= 1),
        "remainder": _choice(*REMAINDERS),
        "commission_per": _choice(*COMMISSION_PER),
        "order_type": _choice(*REBALANCE_ORDER_TYPES),
        "limit_offset_bps": _number("a number >= 0 and < 10000 (1 bp = 0.01%)", lambda x: 0 <= x < 10_000),
        "time_in_force": _choice(*TIMES_IN_FORCE),
        "expire_after": _positive_int,
    },
    "audit": {"path": _text(empty=True)},
    "run": {"on_error": _choice(*ON_ERROR), "progress": _boolean, "warmup": _warmup},
    "report": {"benchmark": _text(empty=True)},
}


# --- arrays of tables: [[handlers]] and [[events]] ---------------------------------------------------------

_HANDLER_KEYS = ("name", "params")
_EVENT_KEYS = {
    "deposit": ("date", "type", "amount", "reason"),
    "withdrawal": ("date", "type", "amount", "reason"),
    "order": ("date", "type", "symbol", "side", "quantity", "order_type", "limit_price", "stop_price", "time_in_force",
              "expire_after"),
}
# Which keys of an order entry go with which order types (the others are refused: an entry says what it does).
_ORDER_PRICE = {"limit": "limit_price", "stop": "stop_price"}


def _entries(reader: Reader, name: str, value: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """``(label, table)`` for each entry of an array of tables; ``label`` is ``events[0]``."""
    if not isinstance(value, list | tuple):
        reader.fail(f"{name} must be an array of tables ([[{name}]]), got {_got(value, typed=True)}", key=name)
    out = []
    for index, entry in enumerate(value):
        label = f"{name}[{index}]"
        if not isinstance(entry, Mapping):
            try:
                reader.fail(f"must be a table, got {_got(entry, typed=True)}", table=label)
            except _Skipped:
                continue
        out.append((label, entry))
    return out


def _known_keys(reader: Reader, label: str, entry: Mapping[str, Any], known: Sequence[str], what: str,
                required: Sequence[str]) -> None:
    for key in entry:
        if key not in known:
            hint = _hint(key, known)
            reader.fail(f"unknown key {key!r}{hint or f' ({what} takes {_one_of(known)})'}", table=label, key=key)
    for key in required:
        if key not in entry:
            reader.fail(f"missing required key {key!r}", table=label, key=key)


def _handlers(reader: Reader, name: str, value: Any) -> list[dict[str, Any]]:
    """``[[handlers]]``: each ``name`` (registered name or ``module:Class``) with optional ``params``."""
    try:
        entries = _entries(reader, name, value)
    except _Skipped:
        return []
    handlers = []
    for label, entry in entries:
        try:
            _known_keys(reader, label, entry, _HANDLER_KEYS, "a handler", ("name",))
            handler = _text(empty=False)(reader, label, "name", entry["name"])
            params = _free(reader, label, "params", entry.get("params", {}))
        except _Skipped:
            continue
        handlers.append({"name": handler, "params": params})
    return handlers


def _events(reader: Reader, name: str, value: Any) -> list[dict[str, Any]]:
    """``[[events]]``: deposits, withdrawals (``amount`` > 0, optional ``reason``) and manual orders."""
    try:
        entries = _entries(reader, name, value)
    except _Skipped:
        return []
    events = []
    for label, entry in entries:
        try:
            if "type" not in entry:
                reader.fail("missing required key 'type'", table=label, key="type")
            kind = _choice(*EVENT_TYPES)(reader, label, "type", entry["type"])
            required = ("date", "symbol", "side", "quantity") if kind == "order" else ("date", "amount")
            _known_keys(reader, label, entry, _EVENT_KEYS[kind], f"a {kind!r} event", required)
            checked: dict[str, Any] = {"date": _date(reader, label, "date", entry["date"]), "type": kind}
            if kind == "order":
                checked["symbol"] = _text(empty=False)(reader, label, "symbol", entry["symbol"])
                checked["side"] = _choice("buy", "sell")(reader, label, "side", entry["side"])
                checked["quantity"] = _positive_int(reader, label, "quantity", entry["quantity"])
                if checked["quantity"] > MAX_SHARES:  # share counts above 2**53 are not exact as float64
                    reader.bad(label, "quantity", "an integer > 0 and at most 2**53", entry["quantity"], typed=False)
                checked.update(_order_keys(reader, label, entry))
            else:
                checked["amount"] = _cash(reader, label, "amount", entry["amount"])
                checked["reason"] = _text(empty=True)(reader, label, "reason", entry.get("reason", ""))
        except _Skipped:
            continue
        events.append(checked)
    return events


def _order_keys(reader: Reader, label: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """An order entry's type keys (``docs/orders.md``), checked against each other; only those given."""
    checked: dict[str, Any] = {}
    kind = _choice(*ORDER_TYPES)(reader, label, "order_type", entry.get("order_type", "market"))
    if "order_type" in entry:
        checked["order_type"] = kind
    for order_type, key in _ORDER_PRICE.items():
        if key in entry and kind != order_type:
            reader.fail(f"{key} applies to order_type {order_type!r} only, got order_type {kind!r}", table=label,
                        key=key)
        if kind == order_type:
            if key not in entry:
                reader.fail(f"missing required key {key!r} for order_type {kind!r}", table=label, key=key)
            checked[key] = _number("a number > 0", lambda x: x > 0)(reader, label, key, entry[key])
    waits = kind in _ORDER_PRICE
    for key in ("time_in_force", "expire_after"):
        if key in entry and not waits:
            reader.fail(f"{key} applies to limit and stop orders only, got order_type {kind!r}", table=label, key=key)
    if "time_in_force" in entry:
        checked["time_in_force"] = _choice(*TIMES_IN_FORCE)(reader, label, "time_in_force", entry["time_in_force"])
    if "expire_after" in entry:
        if checked.get("time_in_force", "day") != "gtc":
            reader.fail("expire_after applies to time_in_force 'gtc' only, got 'day'", table=label, key="expire_after")
        checked["expire_after"] = _positive_int(reader, label, "expire_after", entry["expire_after"])
    return checked


def _date(reader: Reader, table: str, key: str, value: Any) -> str:
    text = _iso_date(value)
    if text is None:
        reader.bad(table, key, "an ISO date YYYY-MM-DD", value, typed=not isinstance(value, str))
    return text


ARRAYS: dict[str, Callable[[Reader, str, Any], list[dict[str, Any]]]] = {"handlers": _handlers, "events": _events}
