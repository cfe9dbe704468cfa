"""Replaying an audit log: rebuild the run from its header, run it again, compare event by event.

:func:`replay` reads a log, checks it was not edited since it was written (its footer's digest against the
records), rebuilds the scenario from the header (optionally changed by ``--set`` overrides: a what-if
replay), checks the data files still hash as recorded, runs it and compares the new event stream with the
recorded one (see :mod:`eventbt.replays.divergence`). :func:`compare_logs` does the comparison for two finished
runs (``eventbt diff``).

Where the data is found: :func:`eventbt.replays.data_folder.find_data_folder`, as for ``verify`` and
``report``: ``base_dir`` when given (``--base-dir``); else the recorded scenario's folder, when the data is
there; else the audit log's own folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.audit import digest_of_lines, read_audit, version_differences
from eventbt.errors import AuditError, DataError
from eventbt.replays.data_folder import find_data_folder, recorded_data_paths
from eventbt.replays.divergence import (
    ABSENT,
    Divergence,
    first_divergence,
    format_divergence,
    format_outcomes,
    outcome,
    same_json,
    scenario_changes,
    written_differently,
)
from eventbt.replays.in_memory import InMemory, given_prices, not_on_disk, recorded_in_memory
from eventbt.scenario.plugins import imports_refused

if TYPE_CHECKING:
    import pandas as pd

    from eventbt.prices import PriceData

__all__ = ["EDIT_NOT_LOCATED", "ReplayReport", "check_header", "compare_logs", "compressed_beside",
           "digest_problem", "first_misplaced_line", "load_log", "read_log", "replay", "untrusted_imports",
           "verify_records"]


@attrs.frozen(kw_only=True)
class ReplayReport:
    """The comparison of a recorded run (or run A) with a new run (or run B).

    ``identical`` is true when the event streams agree record for record and the runs ended the same way;
    ``changes`` lists the scenario values that differ (a what-if's overrides); ``notes`` anything else worth
    saying (a header field that differs, data that changed and was allowed).
    """

    identical: bool
    divergence: Divergence | None
    recorded_outcome: Mapping[str, Any]
    new_outcome: Mapping[str, Any]
    changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    labels: tuple[str, str] = ("recorded", "new")
    headers_differ: bool = True

    @property
    def exit_code(self) -> int:
        """0 when identical, 1 when the runs differ (the ``eventbt replay``/``diff`` exit status)."""
        return 0 if self.identical else 1

    def format(self) -> str:
        """The report as text, as the CLI prints it."""
        lines = [f"{change}" for change in self.changes]
        if lines:
            lines.insert(0, "scenario changes:")
            lines[1:] = [f"  {line}" for line in lines[1:]]
        lines.extend(f"note: {note}" for note in self.notes)
        if self.identical:
            recorded, new = self.recorded_outcome.get("digest"), self.new_outcome.get("digest")
            line = f"identical: {self.new_outcome.get('events', 0):,} event records agree; digest {recorded}"
            if new != recorded:
                # The events agree but the headers differ (a replaced stage, a what-if: the lines above say
                # where), or lines the comparison leaves out do: say so, with both.
                where = ("the headers differ" if self.headers_differ else "lines outside the compared fields "
                         "differ (a note record, or an event's seq, id or by)")
                line = (f"identical: {self.new_outcome.get('events', 0):,} event records agree; {where}, so the "
                        f"digests do: {self.labels[0]} {recorded}, {self.labels[1]} {new}")
            lines.append(line)
            return "\n".join(lines)
        if self.divergence is not None:
            lines.append(format_divergence(self.divergence, labels=self.labels))
        else:
            lines.append("the event streams agree but the runs ended differently")
        lines.append(format_outcomes(self.recorded_outcome, self.new_outcome, labels=self.labels))
        return "\n".join(lines)


def load_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read an audit log (a file, or a run folder holding ``audit.jsonl``) and check it is intact."""
    records, target = read_log(path)
    verify_records(records, str(target))
    return records


def read_log(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], Path]:
    """Read an audit log (a file, or a run folder holding ``audit.jsonl``) with a header and a footer, and the
    file read; its digest is not checked (:func:`digest_problem` says whether it matches)."""
    target = Path(path)
    if target.is_dir():
        target = target / "audit.jsonl"
    if not target.is_file():
        raise AuditError(f"no such audit log{compressed_beside(target)}", path=str(target))
    records = read_audit(target)
    _check_ends(records, str(target))
    return records, target


def compressed_beside(target: Path) -> str:
    """For a log that is not there: ``; found audit.jsonl.gz, ...`` when a gzip-compressed copy is beside it (a
    folder whose log was compressed), else nothing."""
    packed = target.with_name(target.name + ".gz")
    if not target.exists() and packed.is_file():
        return f"; found {packed.name}, which is gzip-compressed: gunzip it first (logs are read as plain JSON lines)"
    return ""


def check_header(records: Sequence[Mapping[str, Any]], path: str | None = None) -> None:
    """Refuse records that do not start with a header (an empty file, another JSON-lines file, a log whose header
    line was removed): an :class:`AuditError`, ``not an eventbt audit log``."""
    if not records or records[0].get("record") != "header":
        raise AuditError("does not start with a header record; not an eventbt audit log", path=path)


# Said when a log's digest disagrees but no line breaks the order every log keeps: where the edit is is unknown.
EDIT_NOT_LOCATED = ("its lines are in order (seq and event ids increase, each cause is published on an earlier "
                    "line, the footer counts no more events than the log holds), so the change is in a value that "
                    "the order does not show")


def _check_ends(records: Sequence[Mapping[str, Any]], path: str | None) -> None:
    check_header(records, path)
    if records[-1].get("record") != "footer":
        raise AuditError("has no footer record: the run was cut short before it could write one", path=path)


def verify_records(records: Sequence[Mapping[str, Any]], path: str | None = None) -> str:
    """Check a log starts with a header, ends with a footer, and matches its digest; returns the digest.

    An edited, added or removed line changes the recomputed digest: an :class:`AuditError` says so, naming the
    first line that breaks the order every log keeps (:func:`first_misplaced_line`) or, when none does, saying
    how to find the first event that differs: comparing the log with a fresh run of its scenario.
    """
    _check_ends(records, path)
    problem = digest_problem(records)
    if problem is not None:
        if problem.endswith(EDIT_NOT_LOCATED):  # no misplaced line: only a comparison finds the edit
            problem += ("; to find the first event that differs, compare the log with a fresh run of its scenario: "
                        "eventbt run SCENARIO --out NEW, then eventbt diff NEW LOG")
        raise AuditError(problem, path=path)
    return str(records[-1].get("digest"))


def digest_problem(records: Sequence[Mapping[str, Any]]) -> str | None:
    """``None`` when the footer's digest is the digest of the lines before it; else what is wrong, with the first
    line that breaks the order every log keeps, or :data:`EDIT_NOT_LOCATED`."""
    footer = records[-1]
    recomputed = digest_of_lines(list(records))
    if recomputed == footer.get("digest"):
        return None
    misplaced = first_misplaced_line(records)
    return (f"digest mismatch: the footer says {footer.get('digest')} but the records hash to {recomputed}; the log "
            f"was modified after it was written: {misplaced[1] if misplaced else EDIT_NOT_LOCATED}")


def first_misplaced_line(records: Sequence[Mapping[str, Any]]) -> tuple[int, str] | None:
    """The first line (1-based: ``records[i]`` is line ``i + 1``, as :func:`~eventbt.audit.read_audit` reads them)
    that breaks a rule every log eventbt writes keeps, and the rule: one header (line 1) and one footer (the last
    line); ``publish`` lines in increasing ``seq``, each event id once, each ``cause`` published on an earlier
    line; a format 1 ``deliver`` line after its event's ``publish`` line; no more ``events`` in the footer than
    the log delivers. ``None`` when every line keeps them: a changed value is then found only by comparing."""
    published: dict[int, int] = {}  # event id -> its line
    last: tuple[int, int] | None = None  # the last publish line's (seq, line)
    delivered = 0
    for number, record in enumerate(records, start=1):
        kind = record.get("record")
        if kind == "header" and number != 1:
            return number, f"line {number} is a second header record (a log has one, on line 1)"
        if kind == "footer" and number != len(records):
            return number, f"line {number} is a footer record before the last line"
        if kind == "deliver":
            delivered += 1
            if record.get("event") not in published:
                return number, f"line {number} delivers event #{record.get('event')}, not published on an earlier line"
        if kind != "publish":
            continue
        seq, event_id, cause = record.get("seq"), record.get("id"), record.get("cause")
        if not isinstance(seq, int) or not isinstance(event_id, int):
            return number, f"line {number} is a publish record without a whole-number seq and id"
        if last is not None and seq <= last[0]:
            return number, (f"line {number} has seq {seq}, not after seq {last[0]} on line {last[1]} (seq increases "
                            "line by line): a line was moved or repeated here")
        if event_id in published:
            return number, f"line {number} publishes event #{event_id} again (line {published[event_id]} did)"
        if cause is not None and cause not in published:
            return number, (f"line {number}: the cause of event #{event_id}, #{cause}, is not published on an "
                            "earlier line")
        published[event_id] = number
        last = (seq, number)
    footer = records[-1]
    format_1 = any(record.get("record") == "deliver" for record in records)
    counted = delivered if format_1 else len(published)
    events = footer.get("events")
    if footer.get("record") == "footer" and isinstance(events, int) and events > counted:
        return len(records), (f"the footer (line {len(records)}) counts {events:,} events delivered but the log "
                              f"has {counted:,}: a line was removed")
    return None


def _with_counts(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    result = outcome(records)
    result["events"] = sum(1 for record in records if record.get("record") in ("publish", "deliver"))
    return result


def compare_logs(recorded: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], *,
                 labels: tuple[str, str] = ("recorded", "new"), notes: Sequence[str] = ()) -> ReplayReport:
    """Compare two parsed, verified logs (see :mod:`eventbt.replays.divergence` for what is compared)."""
    divergence = first_divergence(recorded, new)
    outcome_a, outcome_b = _with_counts(recorded), _with_counts(new)
    header_a, header_b = recorded[0], new[0]
    changes = scenario_changes(header_a.get("scenario", {}), header_b.get("scenario", {}))
    stages_a, stages_b = header_a.get("stages") or {}, header_b.get("stages") or {}
    changes += [f"stage {stage}: {stages_a.get(stage, '(built-in)')} -> {stages_b.get(stage, '(built-in)')}"
                for stage in sorted({*stages_a, *stages_b}) if stages_a.get(stage) != stages_b.get(stage)]
    extra = list(notes)
    # Every header field the digest covers, compared as JSON writes it (5 is not 5.0): when the digests differ
    # because the headers do, a line here or above says where.
    others = sorted({*header_a, *header_b} - {*_HEADER_FIELDS, *_HEADER_SHOWN_ELSEWHERE})
    for key in (*_HEADER_FIELDS, *others):
        a, b = header_a.get(key, ABSENT), header_b.get(key, ABSENT)
        if same_json(a, b) or (key == "data_files" and changes):
            continue
        if key == "data_files" and isinstance(a, dict) and isinstance(b, dict):
            # One line a file: a replay on changed data has said it already (--allow-changed-data).
            extra.extend(line for line in _data_file_changes(a, b, labels) if line not in extra)
        else:
            extra.append(f"header field {key!r} differs: {a!r} -> {b!r}{written_differently(a, b)}")
    versions = version_differences(header_a.get("environment") or {}, header_b.get("environment") or {})
    if versions:
        extra.append(f"the {labels[0]} and {labels[1]} runs used different library versions "
                     f"({', '.join(versions)}); results are promised identical only on the same versions "
                     "(see docs/determinism.md)")
    identical = divergence is None and outcome_a["status"] == outcome_b["status"]
    if identical:  # the digests are shown: those the lines hash to now, not a footer's of a log edited since
        for result, records in ((outcome_a, recorded), (outcome_b, new)):
            if result["digest"] is not None:
                result["digest"] = digest_of_lines(list(records))
    headers_differ = not same_json(*({key: value for key, value in header.items() if key not in _VOLATILE}
                                     for header in (header_a, header_b)))
    return ReplayReport(identical=identical, divergence=divergence, recorded_outcome=outcome_a,
                        new_outcome=outcome_b, changes=tuple(changes), notes=tuple(extra), labels=labels,
                        headers_differ=headers_differ)


# The header fields compared one by one (in this order, then any other but those shown elsewhere: the scenario and
# stages as changes, the environment and wall clock, which the digest leaves out, by the library versions).
_HEADER_FIELDS = ("eventbt_version", "data_files", "symbols", "bars")
_HEADER_SHOWN_ELSEWHERE = ("record", "scenario", "stages", "environment", "wall_clock")
_VOLATILE = ("environment", "wall_clock")  # left out of the digest


def _data_file_changes(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str]) -> list[str]:
    """One line per data file that differs between two headers' ``data_files`` (short hashes)."""
    def short(digest: Any) -> str:
        return f"sha256 {str(digest)[:12]}..." if digest is not None else "absent"

    return [f"data file {name} differs: {short(a.get(name))} ({labels[0]}) -> {short(b.get(name))} ({labels[1]})"
            for name in sorted({*a, *b}) if a.get(name) != b.get(name)]


def untrusted_imports(header: Mapping[str, Any], config: Any,
                      handlers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The code an audit log's header names that replaying it would import (``{where: reference}``): its
    strategy, cost models, ``[[handlers]]`` and replaced stages that are not eventbt's own, less what the
    replay replaces (``--set`` values and ``--handler`` stages the user gave)."""
    from eventbt.scenario.plugins import code_references, foreign_references

    recorded = code_references(header.get("scenario") or {}, header.get("stages") or {})
    now = code_references(config.to_dict(), {**(header.get("stages") or {}), **(handlers or {})})
    return {where: reference for where, reference in foreign_references(recorded).items()
            if now.get(where) == reference}


def replay(audit_path: str | os.PathLike[str], *, overrides: Sequence[str] = (),
           base_dir: str | os.PathLike[str] | None = None, allow_changed_data: bool = False,
           handlers: Mapping[str, str] | None = None, trust: bool = False,
           data_path: str | os.PathLike[str] | None = None,
           prices: PriceData | pd.DataFrame | None = None) -> ReplayReport:
    """Re-run the run an audit log records (with ``overrides`` for a what-if) and compare the two.

    ``data_path`` (``--data``) replaces the price data the scenario names. A run whose prices were held in memory
    (``data_files`` names ``<prices DataFrame>`` or ``<prices PriceData>``) is replayed only on prices given
    again, ``data_path`` or ``prices`` (a DataFrame or a PriceData), that hash to the recorded digest
    (:mod:`eventbt.replays.in_memory`), never on the file at the scenario's data path unless
    ``allow_changed_data``.

    ``handlers`` replaces pipeline stages for the re-run (``{"execution": "mypkg.exec:MyExecution"}``; the
    class takes the built-in stage's keyword arguments); stages the recorded run replaced are replaced again.

    An audit log is a file someone may have sent: the code its header names (a strategy, cost model,
    ``[[handlers]]`` entry or replaced stage that is not eventbt's own) is imported, and so run, only with
    ``trust=True`` (``eventbt replay --trust``); without it such a log is refused, listing those imports, and
    nothing is imported. The re-run keeps its audit log in memory whatever the log's ``[audit] path`` says.

    Raises :class:`AuditError` for a log that is not intact or names code it is not trusted to import,
    :class:`DataError` when a data file is missing or no longer hashes as recorded (unless
    ``allow_changed_data``), :class:`ScenarioError` for a bad override.
    """
    from eventbt.scenario import ScenarioConfig
    from eventbt.scenario.plugins import code_references

    _check_stages(handlers or {})
    log_path = Path(audit_path)
    if log_path.is_dir():
        log_path = log_path / "audit.jsonl"
    recorded = load_log(log_path)
    header = recorded[0]
    if not isinstance(header.get("scenario"), dict) or not isinstance(header["scenario"].get("data"), dict):
        raise AuditError("its header holds no scenario (a 'scenario' object with a 'data' table); not a log "
                         "eventbt can replay", path=str(log_path))
    if not isinstance(header.get("stages", {}), dict):
        raise AuditError("its header's 'stages' is not an object of stage -> module:Class", path=str(log_path))
    added = header.get("extra_handlers")
    if added:
        named = ", ".join(f"{entry.get('name')!r} ({entry.get('class')})" if isinstance(entry, dict) else repr(entry)
                          for entry in added)
        raise AuditError(f"its run had handlers added from Python that its scenario does not name: {named}; a "
                         "replay rebuilds a run from its scenario alone, so it cannot reproduce this one. Name the "
                         "handlers in the scenario's [[handlers]] to make the run replayable", path=str(log_path))
    memory = recorded_in_memory(header)
    if memory is None and prices is not None:
        raise DataError("prices given in memory are for replaying a run whose prices were held in memory; this "
                        f"run read {', '.join(sorted(header.get('data_files') or {})) or 'files'}: pass "
                        "--data FILE (data_path=) or --base-dir DIR instead", path=str(log_path))
    on_disk = memory is None or (allow_changed_data and prices is None and data_path is None)
    paths = recorded_data_paths(header)
    if data_path is not None or not on_disk:
        paths = paths[1:]  # the price data is given (or in memory): only an actions file is looked for
    folder = find_data_folder(header, log_path, base_dir, paths=paths)
    config = ScenarioConfig.from_dict(header["scenario"], base_dir=folder)
    if overrides:
        config = config.with_overrides(overrides)
    foreign = untrusted_imports(header, config, handlers)
    if foreign and not trust:
        listed = ", ".join(f"{where} {reference!r}" for where, reference in foreign.items())
        raise AuditError(f"names code that replaying it would import and run: {listed}; replay a log from "
                         "someone else only if you trust it, with --trust (eventbt.replay(..., trust=True))",
                         path=str(log_path))
    # What the user gave (--handler, --set values that differ from the log's) is theirs to import.
    recorded_references = code_references(header["scenario"], header.get("stages") or {})
    given = {reference for where, reference in code_references(config.to_dict(), handlers or {}).items()
             if recorded_references.get(where) != reference}
    guard = contextlib.nullcontext() if trust else imports_refused(f"{log_path}: not trusted (replay --trust)",
                                                                   allow={*given, *(handlers or {}).values()})
    with guard:
        if memory is not None:
            panel, notes = _in_memory_prices(config, memory, prices, data_path, allow_changed_data)
        else:
            panel, notes = _file_prices(config, header, data_path, allow_changed_data)
        return _rerun(recorded, config, header, handlers, panel, notes)


def _check_stages(handlers: Mapping[str, str]) -> None:
    """Refuse a ``--handler`` for a stage that is not one, with the stage it was likely meant to be, before the log
    is read (:func:`eventbt.pipeline.check_replacements`, which the pipeline applies again when it is built)."""
    from eventbt.pipeline import check_replacements

    check_replacements(handlers)


def _in_memory_prices(config: Any, memory: InMemory, prices: PriceData | pd.DataFrame | None,
                      data_path: str | os.PathLike[str] | None, allow_changed_data: bool
                      ) -> tuple[PriceData, list[str]]:
    """The prices to replay an in-memory run on: those given, when they hash as recorded (or anyway, with
    ``allow_changed_data``, as is the file at the scenario's data path when none are given)."""
    notes: list[str] = []
    if prices is None and data_path is None:
        if not allow_changed_data:
            raise not_on_disk(memory, str(config.data.path), command="replay")
        from eventbt.data.loaders import scenario_data_path

        data_path = scenario_data_path(config.base_dir, config.data.path, config.source)
        notes.append(f"the recorded run's prices were held in memory ({memory.name}), not read from a file; "
                     f"replayed on {data_path} instead (--allow-changed-data): other prices, so a divergence "
                     "below may be theirs")
    panel, digest, where = given_prices(config, memory, prices=prices, data_path=data_path)
    if digest != memory.digest:
        if not allow_changed_data:
            raise DataError(f"its dates, symbols and numbers hash to sha256 {digest}, not to the {memory.digest} "
                            f"recorded for the run's prices ({memory.name}): they are not the prices the run was "
                            "given; pass --allow-changed-data to replay on them anyway", path=where)
        notes.extend(_data_file_changes({memory.name: memory.digest}, {memory.name: digest}, ("recorded", "new")))
    return panel, notes


def _file_prices(config: Any, header: Mapping[str, Any], data_path: str | os.PathLike[str] | None,
                 allow_changed_data: bool) -> tuple[PriceData, list[str]]:
    """The scenario's data (``data_path`` in place of its price data), each file hashing as recorded (or not,
    with ``allow_changed_data``: one note a file)."""
    from eventbt.simulation import load_scenario_prices

    prices = load_scenario_prices(config, data_path=data_path)
    notes: list[str] = []
    for name, digest in sorted(header.get("data_files", {}).items()):
        now = prices.sources.get(name)
        if now is not None and now != digest:
            if not allow_changed_data:
                raise DataError(f"changed since the run was recorded (sha256 {digest} recorded, {now} now); "
                                "pass --allow-changed-data to replay on the new data", path=name)
            notes.extend(_data_file_changes({name: digest}, {name: now}, ("recorded", "new")))
    return prices, notes


def _rerun(recorded: list[dict[str, Any]], config: Any, header: Mapping[str, Any], handlers: Mapping[str, str] | None,
           prices: PriceData, notes: list[str]) -> ReplayReport:
    from eventbt.simulation import Simulation

    stages = {**header.get("stages", {}), **(handlers or {})}
    simulation = Simulation(config, prices=prices, stages=stages, audit_path=False)
    try:
        simulation.run()
    except Exception as exc:  # the new run failed: compare what it did up to the failure
        notes.append(f"the new run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return compare_logs(recorded, simulation.audit.records(), notes=notes)
