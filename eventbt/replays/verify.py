"""Check a run folder against its audit log and its prices: every result file recomputed, cell by cell.

:func:`verify_run` reads a folder written by ``eventbt run --out`` and trusts nothing in it but an audit log
whose lines match its digest and price files that hash as that log recorded. It checks, in this order,
stopping at the first disagreement:

1. ``audit``: the audit log ends with a footer whose ``digest`` is the digest recomputed from the lines
   before it (:func:`eventbt.audit.digest_of_lines`), and ``summary.json`` carries the same digest;
2. ``scenario``: ``scenario.toml`` is the scenario the audit header recorded, key for key;
3. ``data``: the price files hash to what the audit header recorded (``data_files``);
4. the books rebuilt from the log's ``publish`` records in delivery order, (``time``, ``seq``), and the
   prices (:func:`eventbt.replays.books.rebuild_books`): each fill's reference price is the data's, no sale
   exceeds the shares held, cash never goes below zero; each corporate action booked
   (``SplitAdjustmentEvent``, ``DividendPaymentEvent``) agrees with the rules recomputed there: the shares
   held at the previous close, a split's whole shares and cash in lieu at the previous close per new share
   (the ratio read as the decimal it is written as), a dividend's gross, the ``[portfolio] withholding_tax``
   withheld and the net; then the files against those books:
5. ``trades``: ``trades.csv`` holds one row per ``FillEvent``, in order, every column equal (``realized_pnl``
   recomputed from the average cost);
6. ``signals``: ``signals.csv`` holds one row per ``SignalEvent``, each symbol's target (0 when absent);
7. ``equity``: ``equity.csv`` holds one row per bar marked, ``cash``, ``positions_value`` and ``total_value``
   as recomputed and exactly as the log's ``SnapshotEvent`` says, and ``flow`` the bar's deposits and
   withdrawals (a folder written before the ``flow`` column existed has none to check);
8. ``weights``: ``weights.csv`` holds a row at the end of each bar that carried out a rebalance, market value /
   total value per symbol;
9. ``summary``: every figure of ``summary.json`` recomputed with :func:`eventbt.results.metrics.summary_figures`
   and :func:`eventbt.results.costs.cost_attribution` from the recomputed equity (and ``dividends`` from the
   booked payments, ``warmup_bars``), and nothing else in it;
10. ``margin`` (a margin account, ``docs/long-short.md``): the books of step 4 are signed (shorts, cash below
    zero, realized P&L on covers), every ``financing`` and ``borrow`` fee and every margin call with its
    liquidation orders is recomputed there (:mod:`eventbt.replays.margin_books`; a disagreement is a ``fees`` or
    ``margin`` one), and the exposure columns of ``equity.csv`` and ``weights.csv`` and ``summary["exposure"]``
    are checked with the files;
11. ``actions`` (runs with corporate actions): every action of the data on a position held at the previous
    close was booked (checked for a run that completed; one stopped early may not have reached a payment).

A disagreement names the file, the 1-based data row (the header line not counted) and the column
(:class:`Disagreement` keeps them as ``file``, ``row``, ``column``). A file that is not valid CSV or JSON is
an :class:`~eventbt.errors.AuditError` naming it (``eventbt verify`` prints one line, exit 2).

Where the prices are: the recorded scenario's ``data.path`` (and an actions file, ``[data] corporate_actions``)
taken relative to the folder :func:`eventbt.replays.data_folder.find_data_folder` picks, as ``replay`` and
``report`` do: ``base_dir`` when given, else the scenario's folder as the audit header records it
(``environment.base_dir``) when the data is there, else the run folder. ``data_path`` replaces the price data
(the file, or the folder of per-symbol files, the run read); a folder given where the run read one file is
where that file is looked for, by its name (or its recorded path, as ``base_dir`` would). A run whose prices
were held in memory (``data_files`` names ``<prices DataFrame>`` or ``<prices PriceData>``) read no file: its
prices are given again (``data_path``, or ``prices`` from Python) and the ``data`` check compares their digest
with the recorded one (:mod:`eventbt.replays.in_memory`). With a warm-up
(``[run] warmup``) the rows of ``equity.csv`` start at the first tradable bar. Recomputed numbers agree when
they differ by at most 1e-9 relative (1e-6 absolute near zero); numbers copied from the log (a fill's
price, a target weight, a snapshot's cash) must be equal.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.errors import AuditError, DataError, EventbtError

if TYPE_CHECKING:
    import pandas as pd

    from eventbt.prices import PriceData

__all__ = ["CHECKS", "Disagreement", "VerifyReport", "verify_run"]

CHECKS = ("audit", "scenario", "data", "trades", "signals", "equity", "weights", "summary")


@attrs.frozen(kw_only=True)
class Disagreement:
    """The first thing that did not match: which check, where (file, row, column), and both values."""

    check: str
    where: str
    expected: Any
    found: Any
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        return f"{self.check}: {self.where}: expected {self.expected!r}, found {self.found!r}"


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What :func:`verify_run` checked; ``ok`` when ``disagreement`` is ``None``."""

    run_dir: str
    status: str
    checked: tuple[str, ...]
    disagreement: Disagreement | None
    fills: int = 0
    bars: int = 0

    @property
    def ok(self) -> bool:
        return self.disagreement is None


class _Mismatch(Exception):
    def __init__(self, disagreement: Disagreement) -> None:
        super().__init__(str(disagreement))
        self.disagreement = disagreement


def _differ(check: str, where: str, expected: Any, found: Any, *, file: str | None = None, row: int | None = None,
            column: str | None = None) -> _Mismatch:
    return _Mismatch(Disagreement(check=check, where=where, expected=expected, found=found, file=file, row=row,
                                  column=column))


def _need(folder: Path, name: str) -> Path:
    from eventbt.replays.replayer import compressed_beside

    path = folder / name
    if not path.is_file():
        raise AuditError(f"no {name} in the run folder{compressed_beside(path)}; expected the files "
                         "`eventbt run --out` writes", path=str(folder))
    return path


# -- reading the folder: anything unreadable is a one-line AuditError naming the file ------------------------

class _Table:
    """A CSV file as text cells: ``columns`` (the header) and ``rows`` (lists of strings)."""

    def __init__(self, name: str, columns: list[str], rows: list[list[str]]) -> None:
        self.name = name
        self.columns = columns
        self.rows = rows


def _read_csv(folder: Path, name: str) -> _Table:
    import csv

    path = _need(folder, name)
    try:
        text = path.read_bytes().decode("utf-8")
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AuditError(f"is not a readable CSV file ({type(exc).__name__}: {exc})", path=str(path)) from None
    if not lines:
        raise AuditError("is empty; expected a header line and rows", path=str(path))
    columns, rows = lines[0], [row for row in lines[1:] if row]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(columns):
            raise AuditError(f"row {number} has {len(row)} fields; expected {len(columns)} like the header",
                             path=str(path))
    return _Table(name, columns, rows)


def _read_json(folder: Path, name: str) -> dict[str, Any]:
    path = _need(folder, name)
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AuditError(f"is not valid JSON ({exc})", path=str(path)) from None
    if not isinstance(value, dict):
        raise AuditError(f"is not a JSON object (found {type(value).__name__})", path=str(path))
    return value


def _read_log(folder: Path) -> list[Mapping[str, Any]]:
    from eventbt.audit import read_audit

    path = _need(folder, "audit.jsonl")
    records: list[Mapping[str, Any]] = list(read_audit(path))  # read_audit refuses a line that is not an object
    if not records or records[0].get("record") != "header" or not isinstance(records[0].get("scenario"), dict):
        raise AuditError("does not start with a header record holding the scenario; not an eventbt audit log",
                         path=str(path))
    return records


# -- the checks -------------------------------------------------------------------------------------------

def verify_run(run_dir: str | os.PathLike[str], *, data_path: str | os.PathLike[str] | None = None,
               base_dir: str | os.PathLike[str] | None = None,
               prices: PriceData | pd.DataFrame | None = None) -> VerifyReport:
    """Verify the run folder ``run_dir`` (see the module docstring); unreadable input is an ``EventbtError``.

    ``base_dir`` is the folder the scenario's data paths are relative to and ``data_path`` the prices
    themselves (the module docstring says where they are looked for without them). A run whose prices were held
    in memory is checked only on prices given again: ``data_path`` (a price file read by the scenario's
    ``[data]`` rules) or ``prices`` (a DataFrame or a PriceData), whose digest must be the recorded one
    (:mod:`eventbt.replays.in_memory`); without them a :class:`~eventbt.errors.DataError` says so."""
    from eventbt.scenario import ScenarioConfig
    from eventbt.scenario.config import read_scenario_file

    folder = Path(run_dir)
    if folder.is_file():
        raise AuditError("is a file; expected a run folder (the files `eventbt run --out` writes). An audit log "
                         f"alone is checked by `eventbt audit verify {folder}`", path=str(folder))
    if not folder.exists():
        raise AuditError("run folder not found; expected the folder `eventbt run --out` wrote", path=str(folder))
    records = _read_log(folder)
    summary = _read_json(folder, "summary.json")
    scenario_path = _need(folder, "scenario.toml")
    written, _chain = read_scenario_file(str(scenario_path))
    tables = {name: _read_csv(folder, name) for name in ("trades.csv", "signals.csv", "equity.csv", "weights.csv")}
    header = records[0]
    footer = records[-1] if records[-1].get("record") == "footer" else {}
    status = str(footer.get("status", "cut short"))
    checked: list[str] = []
    fills = len(tables["trades.csv"].rows)
    bars = len(tables["equity.csv"].rows)
    try:
        _check_audit(records, footer, summary)
        checked.append("audit")
        environment = header.get("environment")
        recorded_dir = environment.get("base_dir") if isinstance(environment, dict) else None
        try:
            config = ScenarioConfig.from_dict(header["scenario"], base_dir=recorded_dir or folder)
        except EventbtError as exc:
            raise AuditError(f"its header's scenario is not valid: {exc}", path=str(folder / "audit.jsonl")) from None
        _check_scenario(header["scenario"], written, scenario_path)
        checked.append("scenario")
        panel, given = _prices(config, header, folder / "audit.jsonl", base_dir, data_path, prices)
        _check_data(header, panel, given)
        checked.append("data")
        _check_results(records, config, panel, tables, summary, footer, checked)
    except _Mismatch as mismatch:
        return VerifyReport(run_dir=str(folder), status=status, checked=tuple(checked),
                            disagreement=mismatch.disagreement, fills=fills, bars=bars)
    return VerifyReport(run_dir=str(folder), status=status, checked=tuple(checked), disagreement=None,
                        fills=fills, bars=bars)


def _check_audit(records: list[Mapping[str, Any]], footer: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
    from eventbt.audit import digest_of_lines

    if not footer:
        raise _differ("audit", "audit.jsonl", "a footer line", "none (the log was cut short)", file="audit.jsonl")
    recomputed = digest_of_lines(records)
    if recomputed != footer.get("digest"):
        from eventbt.replays.replayer import EDIT_NOT_LOCATED, first_misplaced_line

        misplaced = first_misplaced_line(records)
        detail = misplaced[1] if misplaced else (f"{EDIT_NOT_LOCATED}; to find the first event that differs, run "
                                                 "its scenario.toml again with --out NEW and eventbt diff NEW RUN_DIR")
        raise _differ("audit", f"audit.jsonl digest (the log was modified after it was written: {detail})",
                      footer.get("digest"), recomputed, file="audit.jsonl", row=misplaced[0] if misplaced else None)
    if summary.get("digest") != footer.get("digest"):
        raise _differ("audit", "summary.json digest", footer.get("digest"), summary.get("digest"),
                      file="summary.json", column="digest")


def _check_scenario(recorded: Mapping[str, Any], written: Mapping[str, Any], path: Path) -> None:
    """scenario.toml, read as a scenario file reads, holds what the header recorded, key for key."""
    from eventbt.replays.divergence import flatten
    from eventbt.scenario import ScenarioConfig

    try:
        # As the header holds it: JSON (tuples become lists).
        resolved = json.loads(json.dumps(ScenarioConfig.from_dict(written, base_dir=path.parent).to_dict()))
    except EventbtError as exc:
        raise _differ("scenario", "scenario.toml", "the recorded scenario", str(exc).splitlines()[0],
                      file="scenario.toml") from None
    a, b = flatten(recorded), flatten(resolved)
    for key in sorted({*a, *b}):
        if a.get(key) != b.get(key):
            raise _differ("scenario", f"scenario.toml key {key}", a.get(key, "(absent)"), b.get(key, "(absent)"),
                          file="scenario.toml", column=key)


# What verify takes to point it at the data, when it is not found.
DATA_HINT = ("pass --base-dir DIR, the folder the scenario's data path is relative to, or --data PATH, the price "
             "data itself")


def _prices(config: Any, header: Mapping[str, Any], log: Path, base_dir: str | os.PathLike[str] | None,
            data_path: str | os.PathLike[str] | None,
            prices: PriceData | pd.DataFrame | None) -> tuple[Any, str | None]:
    """The prices to check the run with, and for a run whose prices were held in memory where those given came
    from (else ``None``)."""
    from eventbt.replays.in_memory import given_prices, not_on_disk, recorded_in_memory

    memory = recorded_in_memory(header)
    if memory is None:
        if prices is not None:
            raise DataError("prices given in memory are for verifying a run whose prices were held in memory; this "
                            f"run read {', '.join(sorted(header.get('data_files') or {})) or 'files'}: pass --data "
                            "PATH (data_path=) or --base-dir DIR instead", path=str(log.parent))
        return _load(config, header, log, base_dir, data_path), None
    if prices is None and data_path is None:
        raise not_on_disk(memory, str(config.data.path), command="verify")
    panel, _digest, where = given_prices(config, memory, prices=prices, data_path=data_path)
    return panel, where


def _load(config: Any, header: Mapping[str, Any], log: Path, base_dir: str | os.PathLike[str] | None,
          data_path: str | os.PathLike[str] | None) -> Any:
    """The run's prices as the run loaded them (its symbols, dates, corporate actions and warm-up), from the
    folder the recorded data paths are found in, or ``data_path``."""
    from eventbt.replays.data_folder import find_data_folder, recorded_data_paths
    from eventbt.simulation import load_scenario_prices

    paths = recorded_data_paths(header)
    if data_path is not None:
        data_path = _given_data(header, data_path)
        paths = paths[1:]  # the actions file, if any, is still found with the scenario's folder
    folder = find_data_folder(header, log, base_dir, hint=DATA_HINT, paths=paths)
    return load_scenario_prices(config, base_dir=folder, data_path=data_path)


def _given_data(header: Mapping[str, Any], data_path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """``--data`` as the prices to read: as given, except a folder where the run read one file (its
    ``data_files`` holds the scenario's data path itself), which is taken as the folder holding that file:
    ``FOLDER/<its name>``, else ``FOLDER/<its recorded path>`` (as ``--base-dir FOLDER`` reads it)."""
    recorded = str(header["scenario"]["data"]["path"])
    read = header.get("data_files")
    given = Path(data_path)
    if not given.is_dir() or not isinstance(read, Mapping) or recorded not in read:
        return data_path
    places = list(dict.fromkeys((given / Path(recorded).name, given / recorded)))
    for inside in places:
        if inside.is_file():
            return inside
    looked = " or ".join(str(inside) for inside in places)
    raise DataError(f"is a folder, but the run read one file, {recorded!r}, and the folder does not hold it (no "
                    f"{looked}); give --data the price file itself, or the folder that holds it",
                    path=os.fspath(data_path))


def _check_data(header: Mapping[str, Any], prices: Any, given: str | None = None) -> None:
    """Each price file hashes as the header recorded: the first that does not (changed, not read now, or read now
    but not by the run) is named with both hashes, and the others that differ too. Prices held in memory (given
    again from ``given``) are named as such."""
    recorded = header.get("data_files")
    now = dict(sorted(prices.sources.items()))
    if recorded == now:
        return
    if not isinstance(recorded, Mapping):
        raise _differ("data", "price files", recorded, now)
    if given is not None:
        (name, digest), = now.items()
        raise _differ("data", f"the run's prices held in memory {name} sha256 (of the dates, symbols and numbers of "
                      f"{given})", recorded.get(name), digest, file=given)
    differing = [name for name in sorted({*recorded, *now}) if recorded.get(name) != now.get(name)]
    name = differing[0]
    others = f" (and {len(differing) - 1} other file(s): {', '.join(differing[1:])})" if differing[1:] else ""
    raise _differ("data", f"price file {name} sha256{others}", recorded.get(name, "(not read by the recorded run)"),
                  now.get(name, "(not read now)"), file=name)


def _check_results(records: list[Mapping[str, Any]], config: Any, prices: Any, tables: dict[str, _Table],
                   summary: Mapping[str, Any], footer: Mapping[str, Any], checked: list[str]) -> None:
    from eventbt.protocols import fills_on_signal_bar
    from eventbt.replays.books import BooksError, rebuild_books
    from eventbt.replays.verify_files import (
        Finding,
        compare_equity,
        compare_signals,
        compare_trades,
        compare_weights,
        expected_summary,
    )

    account = config.portfolio

    def rebuild(extra: int) -> Any:
        from eventbt.replays.margin_books import MarginChecks, built_in_models

        margin = MarginChecks(account, prices, built_in_models(config.execution)) if account.margin else None
        try:
            return rebuild_books(records, prices=prices, initial_cash=account.initial_cash,
                                 next_open=config.execution.timing == "next_open", extra=extra,
                                 withholding_tax=account.withholding_tax, margin=margin,
                                 weights_lag=0 if fills_on_signal_bar(config.execution.timing,
                                                                      config.execution.order_type) else 1)
        except BooksError as exc:
            raise _differ(exc.check, exc.where, exc.expected, exc.found, file="audit.jsonl") from None

    books = rebuild(0)
    if footer.get("status") == "interrupted":
        # Ctrl-C may land inside a hook, after the portfolio booked the event: take it when the files have it.
        counts = (len(tables["trades.csv"].rows), len(tables["signals.csv"].rows), len(tables["equity.csv"].rows))
        further = rebuild(1)
        if counts != (len(books.trades), len(books.signals), len(books.bars)) and \
                counts == (len(further.trades), len(further.signals), len(further.bars)):
            books = further
    symbols = list(prices.symbols)
    comparisons: list[tuple[str, Callable[[], Finding | None]]] = [
        ("trades", lambda: compare_trades(tables["trades.csv"], books, prices.dates)),
        ("signals", lambda: compare_signals(tables["signals.csv"], books, prices.dates, symbols)),
        ("equity", lambda: compare_equity(tables["equity.csv"], books, prices.dates, margin=account.margin)),
        ("weights", lambda: compare_weights(tables["weights.csv"], books, prices.dates, symbols,
                                            margin=account.margin)),
    ]
    for check, compare in comparisons:
        found = compare()
        if found is not None:
            raise _differ(check, found.where, found.expected, found.found, file=found.file, row=found.row,
                          column=found.column)
        checked.append(check)
    expected = expected_summary(books, records, footer, config, prices.dates, warmup_bars=prices.warmup_bars)
    _compare_summary(expected, summary)
    checked.append("summary")
    if account.margin:
        checked.append("margin")
    if config.data.corporate_actions:
        if footer.get("status") == "completed":
            unbooked = books.unbooked_actions(prices)
            if unbooked:
                raise _differ("actions", f"{unbooked[0]} (held at the previous close)", "booked in the audit log",
                              "not booked", file="audit.jsonl")
        checked.append("actions")


def _compare_summary(expected: Mapping[str, Any], found: Mapping[str, Any], prefix: str = "") -> None:
    """Every key of ``expected`` in ``found`` with the same value (floats within the tolerance), and no other."""
    for key in sorted({*expected, *found}):
        name = f"{prefix}{key}"
        if key not in found:
            raise _differ("summary", f"summary.json {name}", expected[key], "(absent)", file="summary.json",
                          column=name)
        if key not in expected:
            raise _differ("summary", f"summary.json {name}", "(no such figure)", found[key], file="summary.json",
                          column=name)
        want, got = expected[key], found[key]
        if isinstance(want, Mapping):
            if not isinstance(got, Mapping):
                raise _differ("summary", f"summary.json {name}", dict(want), got, file="summary.json", column=name)
            _compare_summary(want, got, f"{name}.")
        elif not _same_value(want, got):
            raise _differ("summary", f"summary.json {name}", want, got, file="summary.json", column=name)


def _same_value(want: Any, got: Any) -> bool:
    from eventbt.replays.books import near

    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None or isinstance(want, str):
        return bool(want == got and type(want) is type(got))
    if isinstance(want, int | float) and isinstance(got, int | float):
        if isinstance(want, float) and math.isnan(want):
            return isinstance(got, float) and math.isnan(got)
        return near(float(want), float(got))
    return bool(want == got)
