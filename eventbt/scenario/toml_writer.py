"""A small TOML writer: the standard library reads TOML (``tomllib``) but cannot write it.

:func:`dumps` turns a mapping of plain values into TOML text that ``tomllib.loads`` reads back to an equal
mapping. Supported values: ``str``, ``bool``, ``int``, ``float`` (written with ``repr``, so every float
reads back bit for bit; ``nan`` and ``inf`` included), ``datetime.date``/``datetime``/``time``, lists and
tuples (written as arrays) and mappings. A mapping under a mapping becomes a ``[table]`` section; a mapping
inside an array becomes an inline table. Key order is kept as given: callers that need a canonical text
sort their keys first.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "format_key", "format_value"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dumps(document: Mapping[str, Any]) -> str:
    """The TOML text of ``document``: its plain keys first, then one ``[section]`` per nested mapping."""
    lines: list[str] = []
    _write_table(lines, (), document)
    return "\n".join(lines).strip("\n") + "\n"


def _write_table(lines: list[str], prefix: tuple[str, ...], table: Mapping[str, Any]) -> None:
    if prefix:
        lines.extend(["", "[" + ".".join(format_key(part) for part in prefix) + "]"])
    for key, value in table.items():
        if not isinstance(value, Mapping):
            lines.append(f"{format_key(key)} = {format_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            _write_table(lines, (*prefix, key), value)


def format_key(key: str) -> str:
    """A key as TOML: bare when it is made of letters, digits, ``_`` and ``-``, else a quoted string."""
    if not isinstance(key, str):
        raise TypeError(f"TOML keys must be strings, got {type(key).__name__} {key!r}")
    return key if _BARE_KEY.fullmatch(key) else _format_string(key)


def format_value(value: Any) -> str:
    """One value as inline TOML (arrays and inline tables on a single line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _format_string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{format_key(k)} = {format_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _format_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, other text kept."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
