"""Checking a scenario without running it: the file, its ``extends`` chain, the data and every import path.

:func:`validate` collects every problem it finds rather than stopping at the first: each scenario key is
checked on its own (a wrong key is reported and left out, the others still checked), the data is loaded
and checked against the scenario's symbols, dates, schedule and ``[[events]]`` (with its corporate actions,
every problem of every action: see ``docs/corporate-actions.md``; and its warm-up), and every plug-in the
scenario names (strategy, cost models, ``[[handlers]]``) is imported, built with its parameters and checked
for shape (method signatures, a handler's hooks; handlers are bound to the data). These are exactly the
checks a run makes before its first bar, the ``[report] benchmark`` included, so a scenario has problems
here exactly when ``eventbt run`` refuses it, and the first problem is the run's error. The report also lists
the code the scenario would import, as ``role: module:Class``, and the warnings ``eventbt run`` would print
about the data (suspicious jumps, stale prices: see ``[data] jump_threshold`` and ``stale_bars``); warnings
do not make a scenario invalid.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from eventbt.errors import EventbtError, ScenarioError, did_you_mean

__all__ = ["ValidationReport", "validate"]


@attrs.frozen(kw_only=True)
class ValidationReport:
    """What :func:`validate` found: ``problems`` (one line each; none means valid), the ``extends`` chain
    (the file first), ``imports`` (``role: module:Class`` for each class the scenario would use) and
    ``warnings`` about the data (one line each, as ``eventbt run`` prints them) and about cost models of your own
    that break the cost-model contract; warnings do not count as problems."""

    path: str
    chain: tuple[str, ...]
    problems: tuple[str, ...]
    imports: tuple[str, ...]
    bars: int | None = None
    symbols: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()  # "2014-06-09 AAPL split 7", ... : the corporate actions of the run
    warmup_bars: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        """The report as the CLI prints it."""
        lines = [f"{self.path}: {'valid' if self.ok else f'{len(self.problems)} problem(s)'}"]
        if len(self.chain) > 1:
            lines.append("  extends: " + " -> ".join(self.chain))
        if self.bars is not None:
            lines.append(f"  data: {self.bars:,} bars, {len(self.symbols)} symbols")
        if self.warmup_bars:
            lines.append(f"  warm-up: {self.warmup_bars:,} bars")
        if self.actions:
            kinds = [action.split()[2] for action in self.actions]
            lines.append(f"  corporate actions: {kinds.count('split')} split(s), {kinds.count('dividend')} "
                         f"dividend(s), from {self.actions[0].split()[0]} to {self.actions[-1].split()[0]}")
        if self.imports:
            lines.append("  imports:")
            lines.extend(f"    {line}" for line in self.imports)
        if self.warnings:
            lines.append("  warnings:")
            lines.extend(f"    {line}" for line in self.warnings)
        if self.problems:
            lines.append("  problems:")
            lines.extend(f"    {line}" for line in self.problems)
        return "\n".join(lines)


def _class_name(obj: object) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def validate(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> ValidationReport:
    """Check the scenario file at ``path`` (with ``overrides``) without running it; see the module docs.

    The problems come in the order a run meets them (the scenario's keys, the data, the cost models, the
    strategy, the schedule, the data against the scenario's asks, the ``[[handlers]]`` built then bound, the
    ``[[events]]`` against the data, the ``[report] benchmark``), so the first one is the error ``eventbt run``
    stops with.
    """
    from eventbt.scenario.config import blame_override, copy_tables, ignored_settings, key_origins, read_scenario_file
    from eventbt.scenario.schema import Reader

    source = os.fspath(path)
    problems: list[str] = []
    imports: list[str] = []
    try:
        raw, chain = read_scenario_file(source)
    except ScenarioError as exc:
        return ValidationReport(path=source, chain=(source,), problems=(str(exc),), imports=())
    origins = key_origins(chain) if len(chain) > 1 else None
    reader = Reader(source, collect=True, origins=origins)
    values = reader.read(reader.apply_overrides(copy_tables(raw), overrides))
    problems.extend(str(error) for error in reader.errors or ())

    def attempt(action: Callable[[], Any], found: list[str] = problems) -> Any:
        try:
            return action()
        except EventbtError as exc:  # named with the --set that caused it, as a run names it (build_pipeline)
            found.append(str(blame_override(exc, overrides) if isinstance(exc, ScenarioError) else exc))
            return None

    audit_path = values.get("audit", {}).get("path", "")
    if audit_path:  # where `eventbt run` without --out writes the log: checked before anything is read
        from eventbt.paths import audit_path_in

        attempt(lambda: audit_path_in(audit_path, source=source, folder=Path(source).parent))

    # A warm-up the key check refused (a date after [data] start) is left out of the data's loading: it is
    # reported already, and the panel it asks for cannot be made.
    run = values["run"]
    refused = {(getattr(error, "table", None), getattr(error, "key", None)) for error in reader.errors or ()}
    if ("run", "warmup") in refused:
        run = {**run, "warmup": 0}
    # A window the key check refused (start after end) is reported once: the loader would say it again.
    prices = attempt(lambda: _load_data(values["data"], run, source, problems)) \
        if values["data"].get("path") and ("data", "start") not in refused else None
    warnings = ignored_settings(values, source, origins)
    warnings += _data_warnings(values["data"], values["run"], prices) if prices is not None else []
    problems.extend(_check_plugins(values, source, attempt, imports, prices, warnings))
    return ValidationReport(path=source, chain=tuple(chain), problems=tuple(problems), imports=tuple(imports),
                            bars=None if prices is None else prices.n_bars,
                            symbols=() if prices is None else tuple(prices.symbols), warnings=tuple(warnings),
                            actions=() if prices is None else tuple(
                                f"{a.date} {a.symbol} {a.kind} {a.value:g}" for a in prices.actions),
                            warmup_bars=0 if prices is None else prices.warmup_bars)


def _load_data(data: Mapping[str, Any], run: Mapping[str, Any], source: str, problems: list[str]) -> Any:
    """The scenario's prices, its corporate actions (each problem with one added to ``problems``) and warm-up."""
    from eventbt.data.loaders import load_prices, scenario_data_path
    from eventbt.data.warmup import with_warmup

    folder = Path(source).parent
    actions = data.get("corporate_actions") or None
    warmup = run.get("warmup") or 0
    prices = load_prices(scenario_data_path(folder, data["path"], source), format=data.get("format", "auto"),
                         symbols=list(data.get("symbols", ())) or None,
                         start=None if warmup else data.get("start") or None, end=data.get("end") or None,
                         display_path=data["path"],
                         corporate_actions=actions if actions in (None, "columns") else folder / actions,
                         actions_display=actions, on_action_problem=lambda problem: problems.append(str(problem)))
    if warmup:
        prices = with_warmup(prices, start=data.get("start", ""), end=data.get("end", ""), warmup=warmup,
                             path=data["path"])
    return prices


def _data_warnings(data: Mapping[str, Any], run: Mapping[str, Any], prices: Any) -> list[str]:
    from eventbt.data import DEFAULT_JUMP_THRESHOLD, DEFAULT_STALE_BARS
    from eventbt.data.warmup import scenario_warnings

    return scenario_warnings(prices, data["path"], start=data.get("start") or "", end=data.get("end") or "",
                             warmup=run.get("warmup") or 0,
                             jump_threshold=data.get("jump_threshold", DEFAULT_JUMP_THRESHOLD),
                             stale_bars=data.get("stale_bars", DEFAULT_STALE_BARS),
                             missing=data.get("missing", "ffill"))


def _check_events(events: Sequence[Mapping[str, Any]], prices: Any, source: str, problems: list[str],
                  start: str = "") -> None:
    import numpy as np

    days = np.asarray(prices.dates).astype("datetime64[D]")
    last = str(days[-1]) if prices.n_bars else ""
    first_bar = prices.warmup_bars
    begins = start or (str(days[first_bar]) if first_bar < len(days) else "")
    for index, event in enumerate(events):
        label = f"[events[{index}]]"
        if begins and event["date"] < begins:
            which = "[data] start" if start else "the first tradable bar" if first_bar else "the first bar of the data"
            problems.append(f"{source}: {label} date {event['date']} is before the run's first day ({begins}, "
                            f"{which})")
        elif last and event["date"] > last:
            problems.append(f"{source}: {label} date {event['date']} is after the last bar of the data ({last})")
        if event["type"] == "order" and event["symbol"] not in prices.symbols:
            problems.append(f"{source}: {label} symbol {event['symbol']!r} is not in the data"
                            f"{did_you_mean(event['symbol'], tuple(prices.symbols))}")


def _check_plugins(values: Mapping[str, Any], source: str, attempt: Callable[..., Any], imports: list[str],
                   prices: Any, warnings: list[str]) -> list[str]:
    """Build every plug-in the scenario names (noting each in ``imports``) and make the checks a run makes
    against the data; the problems, in the order a run meets them. A cost model of the user's own that breaks
    the cost-model contract adds a line to ``warnings`` (:func:`_contract_warning`)."""
    from eventbt.scenario import plugins
    from eventbt.scenario.schema import DEFAULT_COMMISSION, DEFAULT_SLIPPAGE

    order = ("models", "strategy", "schedule", "fit", "handlers", "binds", "events", "benchmark")
    found: dict[str, list[str]] = {step: [] for step in order}
    strategy = values["strategy"]
    strategy_symbols: tuple[str, ...] = ()
    if strategy.get("name"):
        built = attempt(lambda: plugins.build_strategy(strategy["name"], strategy.get("params", {}), path=source),
                        found["strategy"])
        if built is not None:
            imports.append(f"strategy: {_class_name(built)}")
            from eventbt.protocols import named_symbols

            strategy_symbols = named_symbols(built)
    execution = values["execution"]
    models: dict[str, object] = {}
    for kind in ("commission", "slippage"):
        spec = execution.get(kind, DEFAULT_COMMISSION if kind == "commission" else DEFAULT_SLIPPAGE)

        def build_model(kind: str = kind, spec: Mapping[str, object] = spec) -> object:
            return plugins.build_model(kind, spec, path=source, table=f"execution.{kind}")

        built = attempt(build_model, found["models"])
        if built is not None:
            imports.append(f"{kind}: {_class_name(built)}")
            models[kind] = built
            warning = _contract_warning(built, kind, source)
            if warning is not None:
                warnings.append(warning)
    if prices is not None:
        schedule = values["schedule"] or {"rebalance": "monthly"}
        attempt(lambda: _check_schedule(schedule, prices, source, values["data"]), found["schedule"])
        # The same checks of the data against the scenario's asks that a run makes before its first bar.
        from eventbt.data.fit import fit_problems, order_type_asks

        data = values["data"]
        found["fit"].extend(fit_problems(
            prices, source=source, data_path=data["path"], timing=execution.get("timing", "same_close"),
            volume_limit=execution.get("volume_limit"), slippage=models.get("slippage"),
            slippage_reference=str(execution.get("slippage", {}).get("model")),
            missing=data.get("missing", "ffill"), order_types=order_type_asks(execution, values["events"]),
            borrow_rates=tuple(values["portfolio"].get("borrow_rates", ())), strategy_symbols=strategy_symbols,
            strategy=str(strategy.get("name", "")), data_symbols=tuple(data.get("symbols", ()))))
    handlers = []
    for index, entry in enumerate(values["handlers"]):
        label = f"handlers[{index}]"

        def build(entry: Mapping[str, Any] = entry, label: str = label) -> object:
            return plugins.build_handler(entry["name"], entry["params"], path=source, table=label)

        built = attempt(build, found["handlers"])
        if built is not None:
            imports.append(f"{label}: {_class_name(built)}")
            handlers.append(built)
    repeated = plugins.repeated_name_problem(
        (f"handlers[{index}]", handler) for index, handler in enumerate(handlers))
    if repeated is not None:
        label, problem = repeated
        found["handlers"].append(str(ScenarioError(f"[{label}] {problem}", path=source, table=label, key="name")))
    if prices is not None and handlers:
        # Bound as the run binds them, once all are built, to a book of the scenario's cash.
        from eventbt.handler import Context
        from eventbt.portfolio import Portfolio, PortfolioView

        book = Portfolio(prices.symbols, values["portfolio"].get("initial_cash", 1_000_000.0))
        context = Context(symbols=prices.symbols, dates=prices.dates, portfolio=PortfolioView(book))
        for handler in handlers:
            attempt(lambda handler=handler: plugins.bind_handler(handler, context), found["binds"])
    if values["events"]:
        imports.append("events: handlers.injected:InjectedEvents")
        if prices is not None:
            _check_events(values["events"], prices, source, found["events"], values["data"].get("start") or "")
    benchmark = values["report"].get("benchmark")
    if benchmark:
        attempt(lambda: _check_benchmark(benchmark, source, prices), found["benchmark"])
    # A run builds the cost models and the strategy, works out the schedule, checks the data fit, builds the
    # [[handlers]], binds them (then the [[events]] handler, which checks the events against the data) and
    # reads the benchmark.
    return [line for step in order for line in found[step]]


def _contract_warning(model: object, kind: str, source: str) -> str | None:
    """What breaks the cost-model contract (:mod:`eventbt.testing.cost_model_contract`) in a model of the user's
    own, as a warning line; ``None`` for a built-in model (tested with eventbt) or one that keeps it. A warning,
    not a problem: a run stops only at a call that breaks it, which the scenario's data may never make."""
    from eventbt.costs.contract import model_label
    from eventbt.testing import check_commission_model, check_slippage_model

    if ":" not in model_label(model):
        return None
    check = check_commission_model if kind == "commission" else check_slippage_model
    try:
        check(model)  # type: ignore[arg-type]
    except AssertionError as exc:
        return (f"{source}: [execution.{kind}] breaks the cost-model contract: {exc} (eventbt.testing.check_{kind}_"
                "model; a run stops at the first call that breaks it)")
    return None


def _check_schedule(schedule: Mapping[str, Any], prices: Any, source: str, data: Mapping[str, Any]) -> None:
    from eventbt.schedule import rebalance_mask

    rebalance_mask(prices.dates, rebalance=schedule.get("rebalance"), every_n_bars=schedule.get("every_n_bars"),
                   dates_list=schedule.get("dates"), source=source, first_bar=prices.warmup_bars,
                   start=data.get("start") or "", end=data.get("end") or "")


def _check_benchmark(spec: str, source: str, prices: Any) -> None:
    """The ``[report] benchmark`` read as the run reads it before its first bar (relative to the scenario), and
    checked against the run's dates when the data could be read."""
    from eventbt.data.benchmark import load_benchmark, load_benchmark_for_run

    base = Path(source).parent.absolute()
    if prices is None:
        load_benchmark(spec, base=base, source=source)
    else:
        load_benchmark_for_run(spec, prices.dates[prices.warmup_bars:], base=base, source=source)
