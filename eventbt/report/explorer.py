"""The report's rebalance explorer: every rebalance's events, as the step debugger shows them, in the page.

:func:`collect_steps` re-runs the run a folder records under the step debugger (the scenario and the stages its
audit log's header names, on the data its header hashes) and keeps what :meth:`Debugger.step_rebalance` returns
for every rebalance: the same records ``eventbt debug --at DATE --dump --json`` prints, one list per rebalance,
each event with its ``seq``, ``id``, ``type``, ``time``, ``cause``, ``by`` and ``data`` (its ``publish`` record),
the handlers it went ``to``, what each ``emitted``, and the cash and positions it changed. The re-run must end
with the log's digest, so what the page shows is the recorded run, event for event; anything that stops that
(the data gone or changed, code the log names that is not trusted, a run that did not complete) leaves the
explorer out with the reason.

:func:`encode` turns the records into one compact JSON document (strings and field names stored once, each
event a short array) and :func:`pack` compresses it for the page, whose script unpacks it and draws a
rebalance's events only when one is selected; :func:`unpack` and :func:`decode` are the way back in Python
(the tests use them).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

from eventbt.errors import AuditError, DataError
from eventbt.events import NOTICE_MEANINGS

__all__ = ["Explorer", "collect_steps", "decode", "encode", "pack", "unpack"]

FORMAT = 1  # the version of the packed document; the page's script reads this one


@attrs.frozen(kw_only=True)
class Explorer:
    """The step records of every rebalance of a run (``groups``: one list of ``to_dict`` records each, in
    delivery order), each event's one-line description, and each notice's explanation in words."""

    groups: tuple[tuple[Mapping[str, Any], ...], ...]
    describe: Mapping[int, str]  # event id -> describe(event): the line a debugger step shows
    explain: Mapping[int, str]  # notice id -> explain(notice): the debugger's `why` sentence


def _header_scenario(records: Sequence[Mapping[str, Any]], log: Path) -> Mapping[str, Any]:
    header = records[0]
    scenario = header.get("scenario")
    if not isinstance(scenario, dict) or not isinstance(scenario.get("data"), dict):
        raise AuditError("its header holds no scenario, so the run cannot be stepped again", path=str(log))
    return scenario


def collect_steps(run_dir: str | Path, *, trust: bool = False, base_dir: str | Path | None = None) -> Explorer:
    """Step every rebalance of the run ``run_dir`` records again (see the module docstring).

    ``trust`` allows code the log names that is not eventbt's own (a strategy, cost model or handler given as
    ``module:Class``): as for ``eventbt replay``, without it such a run is refused and nothing is imported.
    ``base_dir`` is the folder the scenario's data path is relative to (default: the recorded one when the data
    is there, else the run folder; :func:`eventbt.replays.data_folder.find_data_folder`). Raises
    :class:`AuditError` or :class:`DataError` saying why the run cannot be stepped again.
    """
    from eventbt.debug.render import describe, explain
    from eventbt.events import NoticeEvent
    from eventbt.replays.data_folder import find_data_folder
    from eventbt.replays.in_memory import recorded_in_memory
    from eventbt.replays.replayer import load_log, untrusted_imports
    from eventbt.scenario import ScenarioConfig
    from eventbt.scenario.plugins import imports_refused
    from eventbt.simulation import Simulation, load_scenario_prices

    log = Path(run_dir) / "audit.jsonl"
    records = load_log(log)
    scenario = _header_scenario(records, log)
    header, footer = records[0], records[-1]
    in_memory = recorded_in_memory(header)
    if in_memory is not None:  # not on the file at the data path, which may hold other numbers (docs/replay.md)
        raise DataError(f"the run's prices were held in memory ({in_memory.name}, {in_memory.short}), not read "
                        "from a file, so its rebalances are not stepped again here: the report has no event "
                        "explorer (eventbt replay with --data FILE checks such a run on prices given again)",
                        path=str(log))
    if footer.get("status") != "completed":
        raise AuditError(f"the run ended {footer.get('status')!r}, not 'completed', so its rebalances are not "
                         "stepped again", path=str(log))
    folder = find_data_folder(header, log, base_dir)
    config = ScenarioConfig.from_dict(dict(scenario), base_dir=folder)
    foreign = untrusted_imports(header, config)
    if foreign and not trust:
        listed = ", ".join(f"{where} {reference!r}" for where, reference in foreign.items())
        raise AuditError(f"names code that stepping its rebalances again would import and run: {listed}; "
                         "pass --trust (trust=True) if you trust it", path=str(log))
    guard = contextlib.nullcontext() if trust else imports_refused(f"{log}: not trusted (report --trust)")
    with guard:
        prices = load_scenario_prices(config)
        for name, digest in sorted(header.get("data_files", {}).items()):
            now = prices.sources.get(name)
            if now is not None and now != digest:
                raise DataError(f"changed since the run was recorded (sha256 {digest} recorded, {now} now)",
                                path=name)
        simulation = Simulation(config, prices=prices, stages=header.get("stages") or {}, audit_path=False)
        debugger = simulation.debugger
        lists = []
        while True:
            steps = debugger.step_rebalance()
            if not steps:
                break
            lists.append(steps)
    result = debugger.result
    if result is None or result.digest != footer.get("digest"):
        raise AuditError(f"stepped again, the run ends with digest {getattr(result, 'digest', None)}, not the "
                         f"recorded {footer.get('digest')}", path=str(log))
    publishers = simulation.bus.publisher
    groups = tuple(tuple(record.to_dict(publishers[record.event.id]) for record in steps) for steps in lists)
    events = [record.event for steps in lists for record in steps]
    return Explorer(groups=groups, describe={event.id: describe(event) for event in events},
                    explain={event.id: explain(event) for event in events if isinstance(event, NoticeEvent)})


class _Interned:
    """A table of values stored once; ``index(value)`` is the value's position in it."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}

    def index(self, value: Any) -> int:
        key = value if not isinstance(value, list) else tuple(value)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.values)
            self.values.append(value)
        return found


# The position of each field in a packed step (the page's script reads the same positions).
_STEP = ("seq", "id", "type", "time", "cause", "by", "shape", "values", "to", "emitted", "cash_before", "cash_after",
         "changes", "describe")


def encode(explorer: Explorer) -> dict[str, Any]:
    """The packed document: ``strings`` (types, times, handler names, symbols), ``shapes`` (each event type's
    field names, in order), ``steps`` (one array per event, fields in :data:`_STEP` order), ``groups`` (each
    rebalance's first and last step + 1), ``explain`` (notice id -> sentence) and ``meanings`` (code ->
    sentence)."""
    strings, shapes = _Interned(), _Interned()
    steps: list[list[Any]] = []
    groups: list[list[int]] = []
    for group in explorer.groups:
        start = len(steps)
        for step in group:
            data = step["data"]
            keys = list(data)
            steps.append([
                step["seq"], step["id"], strings.index(step["type"]), strings.index(step["time"]), step["cause"],
                strings.index(step["by"]), shapes.index(keys), [data[key] for key in keys],
                [strings.index(name) for name in step["to"]],
                [step["emitted"][name] for name in step["to"]],
                step["cash_before"], step["cash_after"],
                [[strings.index(c["symbol"]), c["shares_before"], c["shares_after"], c["average_cost_before"],
                  c["average_cost_after"]] for c in step["changes"]],
                explorer.describe.get(step["id"], ""),
            ])
        groups.append([start, len(steps)])
    return {"format": FORMAT, "step_fields": list(_STEP), "strings": strings.values, "shapes": shapes.values,
            "steps": steps, "groups": groups,
            "explain": {str(key): text for key, text in explorer.explain.items()},
            "meanings": {str(code.value): text for code, text in NOTICE_MEANINGS.items()}}


def decode(document: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """The step records of each rebalance back from a packed document, as ``to_dict`` gives them."""
    strings, shapes = document["strings"], document["shapes"]
    out: list[list[dict[str, Any]]] = []
    for start, stop in document["groups"]:
        records = []
        for packed in document["steps"][start:stop]:
            step = dict(zip(_STEP, packed, strict=True))
            to = [strings[i] for i in step["to"]]
            records.append({
                "seq": step["seq"], "id": step["id"], "type": strings[step["type"]], "time": strings[step["time"]],
                "cause": step["cause"], "by": strings[step["by"]],
                "data": dict(zip(shapes[step["shape"]], step["values"], strict=True)), "to": to,
                "emitted": dict(zip(to, step["emitted"], strict=True)),
                "cash_before": step["cash_before"], "cash_after": step["cash_after"],
                "changes": [{"symbol": strings[c[0]], "shares_before": c[1], "shares_after": c[2],
                             "average_cost_before": c[3], "average_cost_after": c[4]} for c in step["changes"]],
            })
        out.append(records)
    return out


def pack(document: Mapping[str, Any]) -> str:
    """``document`` as gzip-compressed JSON in base64 (about a fifth of the JSON's size), for a
    ``<script type="application/octet-stream">`` element: base64 has no character that can end the element.
    The page's script unpacks it with the browser's ``DecompressionStream``. Deterministic (no time stamp in
    the gzip header)."""
    raw = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> dict[str, Any]:
    """The document :func:`pack` packed."""
    document: dict[str, Any] = orjson.loads(gzip.decompress(base64.b64decode(text)))
    return document
