"""Resolving plug-ins: a registered name or an import path to a class, and cost models from scenario tables.

A scenario names a plug-in class in one of three ways, tried in this order by :func:`resolve_class`:

1. an import path ``"package.module:Class"`` (anything with a colon; the part after the colon may be
   dotted, ``"package.module:Outer.Inner"``), imported with :func:`resolve_import_path`;
2. a built-in name from a registry (``"per_share"`` in :data:`COMMISSION_MODELS`);
3. the name of an entry point in the caller's group, so an installed package can register its classes
   (cost models use :data:`COST_MODEL_GROUP`, ``eventbt.cost_models``). A built-in name shadows an entry
   point of the same name.

The built-in registries live with their plug-ins (:mod:`eventbt.costs.registry`,
:data:`handlers.fees.FEE_HANDLERS`, :data:`strategies.STRATEGIES`). Failures raise
:class:`~eventbt.errors.PluginError` naming the reference; :func:`build_model` turns them
into a :class:`~eventbt.errors.ScenarioError` naming the scenario file, table and key.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.costs.registry import COMMISSION_MODELS, COST_MODEL_GROUP, SLIPPAGE_MODELS
from eventbt.errors import ContractError, EventbtError, PluginError, ScenarioError, did_you_mean
from eventbt.handler import Handler
from eventbt.protocols import bar_columns_needed, signature_problem
from eventbt.scenario.arguments import constructor_parameters, got, instantiate
from handlers.corporate_actions import CorporateActionsHandler
from handlers.data_feed import DataFeed
from handlers.delisting import DelistingHandler
from handlers.execution import ExecutionHandler
from handlers.fees import FEE_HANDLERS, Borrow, Financing
from handlers.injected import InjectedEvents
from handlers.margin import MarginHandler
from handlers.portfolio import PortfolioHandler
from handlers.rebalance import RebalanceHandler
from handlers.strategy import StrategyHandler

if TYPE_CHECKING:
    import importlib.metadata

__all__ = [
    "BUILT_IN_STAGES",
    "COMMISSION_MODELS",
    "COST_MODEL_GROUP",
    "FEE_HANDLERS",
    "HANDLERS",
    "HANDLER_GROUP",
    "IMPORT_HINT",
    "SLIPPAGE_MODELS",
    "bind_handler",
    "build_handler",
    "build_model",
    "build_strategy",
    "code_references",
    "describe_model",
    "foreign_references",
    "handler_problem",
    "imports_refused",
    "instantiate",
    "is_built_in",
    "repeated_name_problem",
    "resolve_class",
    "resolve_import_path",
    "signature_problem",
]

HANDLERS: Mapping[str, type] = FEE_HANDLERS
"""Built-in handlers a scenario's ``[[handlers]]`` table can name: the fee handlers, so far."""

HANDLER_GROUP = "eventbt.handlers"
"""The entry-point group where installed packages register handlers (fee handlers and others)."""

_PROTOCOL_METHODS = {"commission": "commission", "slippage": "fill_price"}
# The positional arguments each protocol method is called with, as the messages show them.
_PROTOCOL_ARGUMENTS = {"commission": ("quantity", "value"), "slippage": ("side", "reference_price", "quantity")}

BUILT_IN_STAGES: tuple[str, ...] = tuple(
    cls.name for cls in (DataFeed, PortfolioHandler, CorporateActionsHandler, ExecutionHandler, DelistingHandler,
                         MarginHandler, StrategyHandler, RebalanceHandler, Financing, Borrow, InjectedEvents))
"""The names of the run's own handlers (and the data feed), read from their classes: a ``[[handlers]]`` handler
may not take one."""

IMPORT_HINT = (" (eventbt adds neither the scenario's folder nor the working directory to sys.path: install the "
               "module, or put its folder on PYTHONPATH)")
"""Said after "no module named ...": the console script sees only sys.path, not the folder of the scenario."""


def _class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


BUILT_IN_PACKAGES = ("eventbt", "handlers", "strategies")
"""Packages whose modules are eventbt's own: an import path into them imports no one else's code."""

_REFUSED: contextvars.ContextVar[tuple[str, frozenset[str]] | None] = contextvars.ContextVar(
    "eventbt_imports_refused", default=None)


@contextlib.contextmanager
def imports_refused(reason: str, *, allow: Iterable[str] = ()) -> Iterator[None]:
    """While the block runs, :func:`resolve_import_path` and entry points refuse to import anything but
    eventbt's own modules and the references in ``allow``: a :class:`PluginError` starting with ``reason``
    names the reference instead.

    Replaying an audit log someone else wrote runs under it (unless the user trusts the log; what the user
    typed, a ``--handler``, is allowed), so nothing a file names can run code on this machine, whatever path
    through the code reaches an import.
    """
    token = _REFUSED.set((reason, frozenset(allow)))
    try:
        yield
    finally:
        _REFUSED.reset(token)


def _check_allowed(reference: str, module_name: str | None, name: str | None = None) -> None:
    refused = _REFUSED.get()
    if refused is None:
        return
    reason, allowed = refused
    top = (module_name or "").split(".")[0]
    if top not in BUILT_IN_PACKAGES and reference not in allowed and name not in allowed:
        raise PluginError(f"{reason}: it would import {reference!r}", reference=reference)


def _path_hint(missing: str) -> str:
    """A hint when the missing module sits in the working folder, which is not on the import path."""
    top = missing.split(".")[0]
    try:
        here = Path.cwd()
    except OSError:
        return ""
    for found in (f"{top}.py", f"{top}/"):
        if top and (here / found.rstrip("/")).exists():
            return (f" (the working folder holds {found}, but it is not on the import path: set PYTHONPATH=. "
                    "to import from it, see docs/scenarios.md)")
    return ""


def _import_hint(missing: str) -> str:
    """What to say after "no module named ...": the working-folder hint when it applies, else the general
    :data:`IMPORT_HINT` for a missing top-level module (a missing submodule needs no such hint)."""
    if "." in missing:  # the top-level package was found: no path is wrong
        return ""
    return _path_hint(missing) or IMPORT_HINT


def resolve_import_path(reference: str) -> object:
    """The object ``"package.module:Attr"`` (or ``"package.module:Attr.attr"``) names.

    This is where a scenario's (or an audit log's) ``module:Class`` becomes code that runs: importing the
    module runs it. Inside :func:`imports_refused` only eventbt's own modules are imported.

    Raises :class:`PluginError` when the reference has no colon, its module cannot be imported (saying
    which module), or the module lacks the attribute (saying which attribute).
    """
    module_name, colon, attribute = reference.partition(":")
    if not colon:
        head, dot, tail = reference.rpartition(".")
        hint = f" (did you mean '{head}:{tail}'?)" if dot and head and tail else ""
        raise PluginError(
            f"import path {reference!r} has no ':' between module and attribute{hint}", reference=reference
        )
    if not module_name or not attribute:
        raise PluginError(f"import path {reference!r} must be 'package.module:Attr'", reference=reference)
    _check_allowed(reference, module_name)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise PluginError(
                f"cannot import {reference!r}: no module named {missing!r}{_import_hint(missing)}",
                reference=reference,
            ) from None
        raise PluginError(
            f"cannot import {reference!r}: importing module {module_name!r} failed: {exc}",
            reference=reference,
        ) from exc
    except Exception as exc:
        raise PluginError(
            f"cannot import {reference!r}: importing module {module_name!r} failed: "
            f"{type(exc).__name__}: {exc}",
            reference=reference,
        ) from exc
    found: object = module
    parts = attribute.split(".")
    for index, part in enumerate(parts):
        try:
            found = getattr(found, part)
        except AttributeError:
            missing_attribute = ".".join(parts[: index + 1])
            raise PluginError(
                f"cannot import {reference!r}: module {module_name!r} has no attribute {missing_attribute!r}",
                reference=reference,
            ) from None
    return found


def resolve_class(reference: str, registry: Mapping[str, type], *, group: str, kind: str = "plugin") -> type:
    """The class ``reference`` names: an import path, a name in ``registry``, or an entry point in ``group``.

    ``kind`` ("commission model", "signal generator") words the error for an unknown name, which lists the
    known names and suggests the closest one. A dotted reference without a colon that is not a known name
    is taken for a mistyped import path.
    """
    if ":" in reference:
        found = resolve_import_path(reference)
    elif reference in registry:
        return registry[reference]
    else:
        import importlib.metadata  # only for names that are not built in: importing it costs a small run 20 ms

        entry_points = {point.name: point for point in importlib.metadata.entry_points(group=group)}
        if reference in entry_points:
            found = _load_entry_point(entry_points[reference], group)
        elif "." in reference:
            found = resolve_import_path(reference)
        else:
            known = sorted({*registry, *entry_points})
            raise PluginError(
                f"unknown {kind} {reference!r}{did_you_mean(reference, known)}; known: "
                f"{', '.join(known)}, or an import path 'package.module:Class'",
                reference=reference,
            )
    if not isinstance(found, type):
        raise PluginError(f"{reference!r} is a {type(found).__name__}, not a class", reference=reference)
    return found


def _load_entry_point(point: importlib.metadata.EntryPoint, group: str) -> object:
    _check_allowed(f"{point.name} = {point.value}", point.module, point.name)
    try:
        return point.load()
    except Exception as exc:
        raise PluginError(
            f"cannot load entry point {point.name!r} = {point.value!r} of group {group!r}: "
            f"{type(exc).__name__}: {exc}",
            reference=point.name,
        ) from exc


def build_model(kind: str, spec: Mapping[str, object], *, path: str | None, table: str) -> object:
    """Build the ``kind`` ("commission" or "slippage") model a scenario table describes.

    ``spec`` is the table, e.g. ``{"model": "fixed_bps", "bps": 5}``: ``model`` is a registered name or an
    import path, every other key a keyword argument of that class. Each mistake raises a
    :class:`ScenarioError` naming ``path``, ``table`` and the key at fault: a missing or unknown model, a
    class without the protocol method (``commission`` or ``fill_price``) or whose method can be called in
    neither form (the plain one or the one that takes the order), an unknown or missing parameter,
    a value of the wrong type (checked against the constructor's annotations), or a value the model
    rejects (its :class:`ValueError` or :class:`TypeError` message is included, and the key is the
    parameter that message starts with, if any).
    """
    if kind not in _PROTOCOL_METHODS:
        raise ValueError(f"kind must be 'commission' or 'slippage', got {kind!r}")
    method = _PROTOCOL_METHODS[kind]
    registry = COMMISSION_MODELS if kind == "commission" else SLIPPAGE_MODELS

    def error(message: str, key: str | None) -> ScenarioError:
        return ScenarioError(f"[{table}] {message}", path=path, table=table, key=key)

    if "model" not in spec:
        raise error("missing key 'model'", "model")
    reference = spec["model"]
    if not isinstance(reference, str):
        raise error(f"key 'model' expects str, got {got(reference)}", "model")
    try:
        cls = resolve_class(reference, registry, group=COST_MODEL_GROUP, kind=f"{kind} model")
    except PluginError as exc:
        raise error(str(exc), "model") from exc
    if not callable(getattr(cls, method, None)):
        raise error(
            f"model {reference!r} is not a {kind} model: {cls.__qualname__} has no {method}() method", "model"
        )

    arguments = {key: value for key, value in spec.items() if key != "model"}
    model = instantiate(cls, arguments, reference=reference, error=error)
    bound = getattr(model, method, None)
    protocol = _PROTOCOL_ARGUMENTS[kind]
    problem = (f"its {method} is {got(bound)}, not a method" if not callable(bound)
               else _it_has(signature_problem(bound, protocol, (*protocol, "order"))))
    if problem is not None:
        raise error(f"model {reference!r} is not a {kind} model: {problem}", "model")
    if kind == "slippage":
        try:
            bar_columns_needed(model)  # the fields a bar-aware model declares it reads, checked against the data later
        except ValueError as exc:
            raise error(f"model {reference!r} {exc}", "model") from exc
        except TypeError as exc:
            raise error(f"model {reference!r} has bar_fields = {getattr(model, 'bar_fields', None)!r:.60}; expected "
                        f"a tuple of BarContext field names, or a tuple of such tuples ({exc})", "model") from exc
    return model


def build_handler(reference: str, params: Mapping[str, object], *, path: str | None,
                  table: str = "handlers") -> Any:
    """Build the handler ``reference`` names, with ``params`` as its keyword arguments.

    ``reference`` is a built-in fee handler's name (:data:`FEE_HANDLERS`), an entry point of the
    ``eventbt.handlers`` group, or an import path ``"package.module:Class"``; the class must be an
    :class:`~eventbt.handler.Handler` subclass. Mistakes are :class:`ScenarioError` errors naming ``path``,
    ``table`` and the key at fault, as for :func:`build_model`.
    """
    def error(message: str, key: str | None) -> ScenarioError:
        return ScenarioError(f"[{table}] {message}", path=path, table=table, key=key)

    try:
        cls = resolve_class(reference, FEE_HANDLERS, group=HANDLER_GROUP, kind="handler")
    except PluginError as exc:
        raise error(str(exc), "name") from exc
    if not issubclass(cls, Handler):
        raise error(f"{reference!r} is not a handler: {cls.__qualname__} does not subclass eventbt.handler.Handler",
                    "name")
    handler = instantiate(cls, params, reference=reference, error=error, noun="handler")
    problem = handler_problem(handler)
    if problem is not None:
        raise error(problem, "name")
    return handler


def handler_problem(handler: object) -> str | None:
    """What keeps ``handler`` (built) from fitting the bus, in one line, or ``None`` when it fits.

    Its ``name`` must be a non-empty string and ``subscribes`` a tuple of event classes; for each of those,
    its hook (``on_fill`` for :class:`~eventbt.events.FillEvent`) must be a method taking the event, and
    ``bind(context)`` and ``finish()`` must be callable as the simulation calls them. Checked when a
    scenario's handler is built, so ``eventbt validate`` finds what the run would trip over.
    """
    from eventbt.events import Event
    from eventbt.handler import hook_name

    name = getattr(handler, "name", None)
    if not isinstance(name, str) or not name:
        return f"handler {_class_path(handler)} has name = {got(name)}; expected a non-empty string"
    who = f"handler {name!r} ({_class_path(handler)})"
    if name in BUILT_IN_STAGES:
        return (f"{who} takes the name of the built-in {name!r} stage, under which the audit log would show "
                "its events; expected a name of its own")
    subscribes = getattr(handler, "subscribes", None)
    if not isinstance(subscribes, tuple | list) or not all(
            isinstance(item, type) and issubclass(item, Event) for item in subscribes):
        shown = subscribes.__name__ if isinstance(subscribes, type) else f"{subscribes!r:.60}"
        return (f"{who} has subscribes = {shown}; expected a tuple of event classes from eventbt.events, "
                "e.g. (FillEvent,)")
    for event_class in subscribes:
        hook = getattr(handler, hook_name(event_class), None)
        if not callable(hook):
            return (f"{who} subscribes to {event_class.__name__} but has no {hook_name(event_class)}(event) "
                    "method")
        problem = signature_problem(hook, ("event",))
        if problem is not None:
            return f"{who} has {problem}"
    for method, arguments in (("bind", ("context",)), ("finish", ())):
        bound = getattr(handler, method, None)
        if not callable(bound):
            return f"{who} has {method} = {got(bound)}, not a method"
        problem = signature_problem(bound, arguments)
        if problem is not None:
            return f"{who} has {problem}"
    return None


def repeated_name_problem(labelled: Iterable[tuple[str, object]]) -> tuple[str, str] | None:
    """(label, message) for the first handler whose ``name`` an earlier one of ``labelled`` ((label, handler)
    pairs, ``handlers[0]``, ...) has, or ``None``: the bus delivers, and the audit log and the costs show, events
    by handler name, so two handlers of one name could not be told apart."""
    seen: dict[str, str] = {}
    for label, handler in labelled:
        name = getattr(handler, "name", None)
        if not isinstance(name, str):
            continue
        if name in seen:
            forgot = (" (the base class's default: the class sets no name of its own)"
                      if name == Handler.name else "")
            return label, (f"handler {name!r} ({_class_path(handler)}) has the name of {seen[name]}'s handler"
                           f"{forgot}, and the audit log and the costs would show both under it; expected a name "
                           f"of its own, e.g. a subclass: class Second{type(handler).__name__}"
                           f"({type(handler).__name__}): name = '{name}_2'")
        seen[name] = label
    return None


def bind_handler(handler: Handler, context: Any) -> None:
    """``handler.bind(context)``, before the first bar; a failure other than an eventbt error is the handler's,
    named as a :class:`~eventbt.errors.ContractError` (the run and ``eventbt validate`` both bind this way)."""
    try:
        handler.bind(context)
    except EventbtError:
        raise
    except Exception as exc:
        raise ContractError(f"handler {handler.name!r} ({_class_path(handler)}) raised {type(exc).__name__}: {exc} "
                            "in bind(context), before the first bar", plugin=handler.name) from exc


def _it_has(problem: str | None) -> str | None:
    return None if problem is None else f"it has {problem}"


STRATEGY_GROUP = "eventbt.strategies"


def build_strategy(reference: str, params: Mapping[str, object], *, path: str | None,
                   table: str = "strategy.params") -> object:
    """Build the signal generator ``[strategy]`` names, with ``[strategy.params]`` as keyword arguments.

    ``reference`` is a name registered in :data:`strategies.STRATEGIES`, an entry point of the
    ``eventbt.strategies`` group, or an import path; mistakes are :class:`ScenarioError` errors, as for
    :func:`build_model`.
    """
    from strategies import STRATEGIES

    def error(message: str, key: str | None) -> ScenarioError:
        return ScenarioError(f"[{table}] {message}", path=path, table=table, key=key)

    try:
        cls = resolve_class(reference, STRATEGIES, group=STRATEGY_GROUP, kind="strategy")
    except PluginError as exc:
        raise ScenarioError(f"[strategy] {exc}", path=path, table="strategy", key="name") from exc
    for method in ("update", "target_weights"):
        if not callable(getattr(cls, method, None)):
            raise ScenarioError(
                f"[strategy] {reference!r} is not a signal generator: {cls.__qualname__} has no {method}() method",
                path=path, table="strategy", key="name",
            )
    generator = instantiate(cls, params, reference=reference, error=error, noun="strategy")
    for method in ("update", "target_weights"):
        bound = getattr(generator, method, None)
        problem = (f"its {method} is {got(bound)}, not a method" if not callable(bound)
                   else _it_has(signature_problem(bound, ("view",))))
        if problem is not None:
            raise ScenarioError(f"[strategy] {reference!r} is not a signal generator: {problem}",
                                path=path, table="strategy", key="name")
    return generator


def is_built_in(reference: str, registry: Mapping[str, type]) -> bool:
    """Whether ``reference`` names eventbt's own code: a name in ``registry``, or an import path into
    :data:`BUILT_IN_PACKAGES`. Anything else (another module, an installed package's entry point) is code
    from elsewhere."""
    if reference in registry:
        return True
    if ":" not in reference:
        return False
    return reference.partition(":")[0].split(".")[0] in BUILT_IN_PACKAGES


def code_references(scenario: Mapping[str, Any], stages: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Where a resolved scenario (``ScenarioConfig.to_dict()``, an audit header's ``scenario``) and replaced
    ``stages`` name code, without importing anything: ``{"strategy": "mypkg:Strategy",
    "execution.commission": "tiered:Tiered", "handlers[0]": "stamp_duty", "stages.execution": ...}``."""
    found: dict[str, str] = {}

    def table(name: str) -> Mapping[str, Any]:
        value = scenario.get(name)
        return value if isinstance(value, Mapping) else {}

    if isinstance(table("strategy").get("name"), str):
        found["strategy"] = table("strategy")["name"]
    for kind in ("commission", "slippage"):
        spec = table("execution").get(kind)
        if isinstance(spec, Mapping) and isinstance(spec.get("model"), str):
            found[f"execution.{kind}"] = spec["model"]
    entries = scenario.get("handlers")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            found[f"handlers[{index}]"] = entry["name"]
    for stage, value in sorted((stages or {}).items()):
        found[f"stages.{stage}"] = str(value)
    return found


def foreign_references(references: Mapping[str, str]) -> dict[str, str]:
    """The references of :func:`code_references` that name code from elsewhere (see :func:`is_built_in`)."""
    from strategies import STRATEGIES

    registries: dict[str, Mapping[str, type]] = {"strategy": STRATEGIES, "execution.commission": COMMISSION_MODELS,
                                                 "execution.slippage": SLIPPAGE_MODELS}
    foreign = {}
    for where, reference in references.items():
        registry = registries.get(where, FEE_HANDLERS if where.startswith("handlers[") else {})
        if not is_built_in(reference, registry):
            foreign[where] = reference
    return foreign


def describe_model(model: object) -> dict[str, object]:
    """``{"model": name, **parameters}``: the table :func:`build_model` would build ``model`` back from.

    ``name`` is the registered name of a built-in class, else the class's import path. Parameters are the
    attrs fields of an attrs class, or the attributes named like a plain class's constructor parameters;
    those that are ``None`` are left out, as TOML cannot write them and leaving them out means the default.
    """
    cls = type(model)
    name = next(
        (
            registered
            for registry in (COMMISSION_MODELS, SLIPPAGE_MODELS)
            for registered, candidate in registry.items()
            if candidate is cls
        ),
        f"{cls.__module__}:{cls.__qualname__}",
    )
    description: dict[str, object] = {"model": name}
    if attrs.has(cls):
        fields = [(field.alias or field.name, field.name) for field in attrs.fields(cls) if field.init]
    else:
        fields = [(parameter, parameter) for parameter in constructor_parameters(cls)[0]]
    for key, attribute in fields:
        value = getattr(model, attribute, None)
        if value is not None:
            description[key] = value
    return description
