"""Building a plug-in from a scenario table: its keyword arguments checked against its constructor.

:func:`instantiate` is the one place a scenario's free-form table (cost-model parameters, strategy
parameters, handler parameters) meets a class: unknown keys (with the closest valid one), missing keys,
values of the wrong type (by the constructor's annotations) and values the class rejects all become a
:class:`~eventbt.errors.ScenarioError` naming the key.
"""

from __future__ import annotations

import inspect
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from eventbt.errors import ScenarioError, did_you_mean

__all__ = ["constructor_parameters", "got", "instantiate"]


def instantiate(cls: type, arguments: Mapping[str, object], *, reference: str,
                error: Callable[[str, str | None], ScenarioError], noun: str = "model") -> object:
    """``cls(**arguments)``, with each unknown, missing or mistyped key reported through ``error``."""
    parameters, takes_any_key, hints = _read_constructor(cls)
    for key, value in arguments.items():
        if key not in parameters:
            if takes_any_key:
                continue
            suggestion = did_you_mean(key, sorted(parameters))
            if suggestion:
                raise error(f"unknown key {key!r}{suggestion}", key)
            takes = ", ".join(parameters) if parameters else "no parameters"
            raise error(f"unknown key {key!r}; the {reference} {noun} takes {takes}", key)
        if key in hints and not _accepts(hints[key], value):
            raise error(f"key {key!r} expects {_type_name(hints[key])}, got {got(value)}", key)
    for name, parameter in parameters.items():
        if parameter.default is inspect.Parameter.empty and name not in arguments:
            raise error(f"missing key {name!r} (the {reference} {noun} requires it)", name)
    try:
        return cls(**arguments)
    except (TypeError, ValueError) as exc:
        # The parameter the message starts with: ``rate must be ...``, or ``spread_bps['KO'] must be ...``.
        first_word = str(exc).split(" ", 1)[0].strip("'\"").split("[", 1)[0]
        raise error(
            f"invalid {reference} {noun}: {exc}", first_word if first_word in parameters else None
        ) from exc
    except Exception as exc:  # a constructor that fails in any other way is the plug-in's fault, named as such
        raise error(f"invalid {reference} {noun}: its constructor raised {type(exc).__name__}: {exc}", None) from exc


_CONSTRUCTORS: weakref.WeakKeyDictionary[type, tuple[dict[str, inspect.Parameter], bool, dict[str, object]]] = \
    weakref.WeakKeyDictionary()


def _read_constructor(cls: type) -> tuple[dict[str, inspect.Parameter], bool, dict[str, object]]:
    """:func:`constructor_parameters` and :func:`_parameter_types` of ``cls``, read once per class: a run builds
    its models from the same few classes every time, and reading a signature and resolving its annotations took
    a third of the time a small run spends building its pipeline (docs/performance.md). Kept while the class
    lives; the callers only read what they get."""
    read = _CONSTRUCTORS.get(cls)
    if read is None:
        read = _CONSTRUCTORS[cls] = (*constructor_parameters(cls), _parameter_types(cls))
    return read


def constructor_parameters(cls: type) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword parameters of ``cls``'s constructor, and whether it also takes ``**kwargs``."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return {}, True
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = {name: p for name, p in signature.parameters.items() if p.kind in keyword_kinds}
    takes_any_key = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    return parameters, takes_any_key


def _parameter_types(cls: type) -> dict[str, object]:
    """Constructor parameter -> resolved annotation, for the parameters whose annotation resolves."""
    try:
        if attrs.has(cls):
            hints = typing.get_type_hints(cls)
            return {
                field.alias or field.name: hints[field.name]
                for field in attrs.fields(cls)
                if field.init and field.name in hints
            }
        signature = inspect.signature(cls, eval_str=True)
        return {name: p.annotation for name, p in signature.parameters.items() if p.annotation is not p.empty}
    except Exception:  # an annotation that does not resolve is not checked; the constructor judges
        return {}


def _accepts(annotation: object, value: object) -> bool:
    if annotation is None or annotation is types.NoneType:
        return value is None
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_accepts(arm, value) for arm in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if isinstance(origin, type):
        return isinstance(value, origin)
    if isinstance(annotation, type) and annotation is not Any:
        return isinstance(value, annotation)
    return True


def _type_name(annotation: object) -> str:
    """The type a key expects, in a scenario's words: ``float``, ``float | None``, and ``table`` or ``array`` for a
    mapping or a sequence of any parameters (``Mapping[str, float]`` is a TOML table)."""
    if annotation is None or annotation is types.NoneType:
        return "None"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arm) for arm in typing.get_args(annotation))
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return "table"
    if isinstance(origin, type) and issubclass(origin, list | tuple):
        return "array"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def got(value: object) -> str:
    return f"{type(value).__name__} {value!r}"
