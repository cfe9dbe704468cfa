"""Parameter sweeps: a base scenario run once per combination of grid values, to a ranked table.

A grid maps override keys to values (``strategy.params.fast_span=10,20,50``); each combination is the base
scenario plus one ``--set``-style override per key, so any combination can be rerun on its own with
``eventbt run SCENARIO --set ...`` and gives the same digest. The combinations are numbered in grid order
(the last key varies fastest); ``random=N`` runs N of them drawn without replacement with a seeded generator
(a seed is drawn and recorded when none is given, so a resumed sweep draws the same ones).

With ``out``, every finished row is appended to ``results.jsonl`` as it arrives, so an interrupted sweep
resumes (``resume=True``) by running only the combinations not yet there; at the end the ranked table is
written to ``results.parquet`` (when pyarrow is installed) and ``results.csv``, and a 2-key grid also gets
``heatmap.png`` (when matplotlib is installed). See ``docs/sweeps.md``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import os
import tomllib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from eventbt.errors import SweepError
from eventbt.results.result import strict_json
from eventbt.scenario import ScenarioConfig
from eventbt.scenario.schema import SCHEDULE_MODES
from eventbt.sweeps.executors import METRICS, DaskExecutor, LocalExecutor, OnRow, Row, SerialExecutor, Task

if TYPE_CHECKING:
    import pandas as pd

    from eventbt.prices import PriceData

__all__ = ["LOWER_IS_BETTER", "Combination", "Executor", "SweepResult", "check_not_a_run_folder",
           "check_sweep_scenario", "combinations",
           "draw_seed", "grid_size", "make_executor", "parse_grid", "rank_table", "sampling_notes", "sweep",
           "write_heatmap", "write_results"]

SCHEDULE_KEYS = frozenset(f"schedule.{mode}" for mode in SCHEDULE_MODES)
"""The grid keys of the ``[schedule]``'s modes, which exclude each other (a later override replaces an earlier)."""
LOWER_IS_BETTER = frozenset({"annual_volatility", "trades", "total_commission", "total_slippage", "total_costs"})
JOURNAL = "results.jsonl"
MANIFEST = "sweep.json"
SWEEP_FILES = (MANIFEST, JOURNAL, "results.csv", "results.parquet", "heatmap.png")
"""The files a sweep writes into its ``out`` folder."""


class Executor(Protocol):
    """Runs tasks against a base scenario and shared prices, calling ``on_row`` for each finished row."""

    name: str

    def run(self, base: ScenarioConfig, prices: PriceData, tasks: Sequence[Task], on_row: OnRow) -> None: ...


@attrs.frozen(kw_only=True)
class Combination:
    """Combination number ``index`` of a grid: its overrides (``key=value`` text) and parsed ``params``."""

    index: int
    overrides: tuple[str, ...]
    params: dict[str, Any]


@attrs.frozen(kw_only=True)
class SweepResult:
    """A finished sweep: the ranked ``table`` (one row per combination) and the files in its ``out`` folder
    (name -> path): ``sweep.json``, ``results.jsonl``, ``results.csv``, and ``results.parquet`` and
    ``heatmap.png`` when written.

    ``seed`` is the seed a ``random`` sample was drawn with (drawn and recorded when none was given; ``None``
    for a whole grid); ``notes`` what is worth telling about the sampling (:func:`sampling_notes`).
    """

    table: pd.DataFrame
    rank_by: str
    files: dict[str, Path] = attrs.field(factory=dict)
    seed: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        """How many combinations failed."""
        return int((self.table["status"] != "ok").sum())

    def first_error(self) -> str | None:
        """The error of the failed combination with the lowest number (its first line), or ``None``."""
        failed = self.table[self.table["status"] != "ok"].sort_values("combination")
        if failed.empty:
            return None
        row = failed.iloc[0]
        text = str(row["error"]).strip().splitlines()
        return f"combination {int(row['combination'])} ({row['overrides']}): {text[0] if text else 'failed'}"


def _value(text: str) -> Any:
    """A grid value as the scenario would read it: a TOML value (``5``, ``0.5``, ``true``), else the text. A TOML
    date or time (``data.start=2012-06-01``) is its ISO text: the results table and its journal hold plain values."""
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
    return value.isoformat() if isinstance(value, dt.date | dt.time) else value


def _mapping_values(key: str, values: Any) -> list[str]:
    """The values of ``key`` in a Python grid as override text; a :class:`SweepError` naming the key for
    anything but a non-empty list of values a scenario can hold (a text would be swept letter by letter)."""
    from eventbt.scenario import toml_writer

    where = f"grid[{key!r}]"
    if values is None or isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        example = "" if values is None else f", e.g. [{values!r}]"
        got = "None" if values is None else f"{type(values).__name__} {values!r}"
        raise SweepError(f"expected a list of values{example}, got {got}", option=where)
    values = list(values)
    if not values:
        raise SweepError(f"has no values; expected a list of at least one value, e.g. {{{key!r}: [1, 2, 3]}}",
                         option=where)
    texts = []
    for place, value in enumerate(values, 1):
        try:
            texts.append(toml_writer.format_value(value))
        except TypeError:
            got = "None" if value is None else f"{type(value).__name__} {value!r}"
            raise SweepError(f"value {place} of {len(values)} is {got}, which a scenario cannot hold; expected a "
                             "number, a boolean, a text, a date or a list of them", option=where) from None
    return texts


def parse_grid(grid: Sequence[str] | Mapping[str, Sequence[Any]]) -> dict[str, tuple[str, ...]]:
    """``["key=v1,v2", ...]`` or ``{key: [v1, v2]}`` -> ``{key: ("v1", "v2")}`` (values as override text).

    A key given twice, or a value given twice for one key (the same combination would run twice), is refused.
    """
    if isinstance(grid, Mapping):
        specs = [(key, _mapping_values(key, values), f"grid[{key!r}]") for key, values in grid.items()]
    else:
        specs = []
        for spec in grid:
            key, equals, values_text = spec.partition("=")
            specs.append((key.strip(), [v.strip() for v in values_text.split(",")] if equals else [],
                          f"--grid {spec}"))
    parsed: dict[str, tuple[str, ...]] = {}
    for key, values, spec in specs:
        parts = key.split(".")
        if len(parts) >= 2 and all(parts) and len(values) > 1 and not all(values):
            place = values.index("") + 1
            raise SweepError(f"value {place} of {len(values)} is empty; expected a value between each two commas, "
                             f"e.g. '{key}=1,2,3'", option=spec)
        if isinstance(grid, Mapping) and (len(parts) < 2 or not all(parts)):
            raise SweepError("expected a key like 'table.key', e.g. 'strategy.params.top_n'", option=spec)
        if len(parts) < 2 or not all(parts) or not values or not all(values):
            raise SweepError("must look like 'table.key=v1,v2,...', e.g. 'strategy.params.top_n=1,2,3'",
                             option=spec)
        if key in parsed:
            raise SweepError(f"key {key!r} is given twice", option=spec)
        other = next((k for k in parsed if k in SCHEDULE_KEYS and key in SCHEDULE_KEYS), None)
        if other is not None:  # docs/sweeps.md: one schedule key per grid
            raise SweepError(f"keys {other!r} and {key!r} are both schedule keys, which replace each other: every "
                             f"combination would run {key!r} alone, dropping the values of {other!r}; sweep one "
                             "schedule key per grid (a sweep for each)", option=spec)
        repeated = next((value for place, value in enumerate(values) if value in values[:place]), None)
        if repeated is not None:
            places = [str(place) for place, value in enumerate(values, 1) if value == repeated]
            where = f"{', '.join(places[:-1])} and {places[-1]} of {len(values)}"
            raise SweepError(f"value {repeated} is given {len(places)} times (values {where}); the same "
                             "combinations would run more than once: give each value once", option=spec)
        parsed[key] = tuple(values)
    if not parsed and isinstance(grid, Mapping):
        raise SweepError("at least one key is needed, e.g. {'strategy.params.top_n': [1, 2, 3]}", option="grid")
    if not parsed:
        raise SweepError("at least one --grid key is needed", option="--grid")
    return parsed


def combinations(grid: Mapping[str, Sequence[str]], *, random: int | None = None,
                 seed: int | None = None) -> list[Combination]:
    """Every combination of ``grid`` in order, or ``random`` of them (distinct, in grid order, seeded)."""
    import numpy as np

    keys = list(grid)
    sizes = [len(grid[key]) for key in keys]
    total = math.prod(sizes)
    indices: Sequence[int] = range(total)
    if random is not None:
        if random < 1:
            raise SweepError(f"must be at least 1, got {random}", option="--random")
        picks = np.random.default_rng(seed).choice(total, size=min(random, total), replace=False)
        indices = sorted(int(i) for i in picks)
    found = []
    for index in indices:
        digits, rest = [], index
        for size in reversed(sizes):  # mixed-radix digits, the last key fastest
            rest, digit = divmod(rest, size)
            digits.append(digit)
        texts = [grid[key][digit] for key, digit in zip(keys, reversed(digits), strict=True)]
        found.append(Combination(index=index, overrides=tuple(f"{k}={t}" for k, t in zip(keys, texts, strict=True)),
                                 params={k: _value(t) for k, t in zip(keys, texts, strict=True)}))
    return found


def grid_size(grid: Mapping[str, Sequence[str]]) -> int:
    """The number of combinations of ``grid``."""
    return math.prod(len(values) for values in grid.values())


def sampling_notes(grid: Mapping[str, Sequence[str]], random: int | None) -> tuple[str, ...]:
    """What to tell about a ``random`` sample: a sample larger than the grid runs the whole grid."""
    total = grid_size(grid)
    if random is not None and random > total:
        return (f"--random {random} asks for more combinations than the grid has ({total}): running all {total}",)
    return ()


def check_sweep_scenario(base: ScenarioConfig, keys: Sequence[str] = ()) -> None:
    """Refuse what a sweep cannot do: an ``[audit] path`` (every combination would write its log to that one
    file; a sweep keeps each run's log in memory) or a grid key under ``audit.``."""
    if base.audit.path:
        raise SweepError(f"the scenario's [audit] path {base.audit.path!r} would have every combination write "
                         "the same audit log; a sweep keeps each run's log in memory: add --set audit.path= "
                         "to clear it")
    for key in keys:
        if key == "audit" or key.startswith("audit."):
            raise SweepError("a sweep keeps each run's audit log in memory; audit.* cannot be swept",
                             option=f"--grid {key}")


def draw_seed() -> int:
    """A fresh seed for a ``random`` sample given none (recorded in ``sweep.json`` and the result)."""
    import secrets

    return secrets.randbelow(2**32)


def make_executor(name: str = "local", *, scheduler: str | None = None, workers: int | None = None) -> Executor:
    """``"local"`` (a process pool), ``"dask"`` (the cluster at ``scheduler``, or a new LocalCluster), or
    ``"serial"`` (this process)."""
    if workers is not None and workers < 1:
        raise SweepError(f"must be at least 1, got {workers}", option="--workers")
    if name == "local":
        if scheduler is not None:
            raise SweepError("only the dask executor takes a scheduler (add --executor dask)", option="--scheduler")
        return LocalExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    if name == "serial":
        return SerialExecutor()
    raise SweepError(f"unknown executor {name!r} (expected 'local', 'dask' or 'serial')", option="--executor")


def rank_table(rows: Sequence[Row], params: Sequence[str], rank_by: str = "sharpe") -> pd.DataFrame:
    """Rows as a table ranked by ``rank_by``: the successful rows with a value, best first, then the successful
    rows without one (a Sharpe ratio with no volatility), then the failed rows.

    Columns: ``rank``, ``combination``, the parameters, the metrics (with a ``fee:<model>`` column for each
    fee model any row has, before ``total_costs``), ``digest``, ``status``, ``error``, ``overrides``. Ties keep
    combination order.
    """
    import pandas as pd

    if rank_by not in METRICS:
        raise SweepError(f"unknown metric {rank_by!r} (expected one of {', '.join(METRICS)})", option="--rank-by")
    fees = sorted({name for row in rows for name in row if name.startswith("fee:")})
    at = METRICS.index("total_costs")
    figures = [*METRICS[:at], *fees, *METRICS[at:]]
    columns = ["combination", *params, *figures, "digest", "status", "error", "overrides"]
    table = pd.DataFrame([{name: row.get(name) for name in columns} for row in rows], columns=columns)
    for name in params:  # a column of mixed types (5 and "x") is kept as text, so every format can hold it
        if len({type(v) for v in table[name] if v is not None}) > 1:
            table[name] = table[name].map(lambda v: None if v is None else str(v))
    for name in figures:
        table[name] = pd.to_numeric(table[name], errors="coerce")
    table["trades"] = table["trades"].astype("Int64")  # a count stays whole beside a failed row's missing value
    # Successful rows with the metric first (best first), then successful rows without it, then failed rows.
    group = (table["status"] != "ok").astype(int) * 2 + table[rank_by].isna().astype(int)
    table = (table.assign(_group=group)
             .sort_values(["_group", rank_by, "combination"], ascending=[True, rank_by in LOWER_IS_BETTER, True],
                          na_position="last", kind="mergesort")
             .drop(columns="_group").reset_index(drop=True))
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def write_results(table: pd.DataFrame, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``results.csv`` (floats at full precision, as the run files) and, when pyarrow is installed,
    ``results.parquet``; returns name -> path."""
    from eventbt.results import atomic_write

    folder = Path(out)
    files = {"results.csv": folder / "results.csv"}
    atomic_write(files["results.csv"], table.to_csv(index=False))
    if importlib.util.find_spec("pyarrow") is None:
        warnings.warn("pyarrow is not installed: wrote results.csv only (pip install 'eventbt[sweep]')",
                      stacklevel=2)
        return files
    files["results.parquet"] = folder / "results.parquet"
    temporary = folder / ".results.parquet.tmp"
    table.to_parquet(temporary, index=False)
    os.replace(temporary, files["results.parquet"])
    return files


def write_heatmap(table: pd.DataFrame, x: str, y: str, metric: str, path: str | os.PathLike[str]) -> Path:
    """A heatmap of ``metric`` over the ``x`` by ``y`` grid (blank where a combination failed), as a PNG."""
    from matplotlib.figure import Figure

    grid = table.astype({metric: float}).pivot_table(index=y, columns=x, values=metric, aggfunc="first",
                                                     dropna=False)
    figure = Figure(figsize=(1.2 * len(grid.columns) + 3, 0.8 * len(grid.index) + 2), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(grid.to_numpy(dtype=float), cmap="viridis", aspect="auto", origin="lower")
    axes.set_xticks(range(len(grid.columns)), [str(v) for v in grid.columns])
    axes.set_yticks(range(len(grid.index)), [str(v) for v in grid.index])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    for (i, j), value in _cells(grid.to_numpy(dtype=float)):
        axes.text(j, i, f"{value:.3g}", ha="center", va="center", color="white", fontsize=8)
    figure.colorbar(image, ax=axes, label=metric)
    figure.savefig(path, dpi=100)
    return Path(path)


def _cells(values: Any) -> list[tuple[tuple[int, int], float]]:
    return [((i, j), float(values[i, j])) for i in range(values.shape[0]) for j in range(values.shape[1])
            if not math.isnan(values[i, j])]


def check_not_a_run_folder(folder: Path, what: str) -> None:
    """Refuse an ``--out`` holding an eventbt run (its marker, ``eventbt-run.json``): a sweep's or walk-forward's
    files mixed into it would make ``eventbt run --out`` refuse the folder from then on."""
    from eventbt.results.files import RUN_MARKER

    if os.path.lexists(folder / RUN_MARKER):
        raise SweepError(f"{folder} holds an eventbt run ({RUN_MARKER}); a {what} writes its files into a folder "
                         "of its own: pick another --out", option="--out")


def _read_manifest(folder: Path) -> dict[str, Any]:
    """The ``sweep.json`` of the sweep in ``folder`` (for ``--resume``)."""
    path = folder / MANIFEST
    if not path.exists():
        raise SweepError(f"{folder} holds no sweep to resume ({MANIFEST} is missing)", option="--resume")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path} cannot be read: {exc}", option="--resume") from None
    if not isinstance(manifest, dict):
        raise SweepError(f"{path} is not a sweep manifest (expected a JSON object)", option="--resume")
    return manifest


def _resumed_seed(folder: Path, random: int | None, seed: int | None) -> int | None:
    """The seed to resume a ``random`` sweep with: the one given, else the one ``sweep.json`` recorded.

    A sweep written before seeds were drawn and recorded has ``"seed": null``: its sample cannot be drawn
    again, so resuming it would run other combinations and drop finished rows; that is refused.
    """
    if random is None or seed is not None:
        return seed
    recorded = _read_manifest(folder).get("seed")
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded
    raise SweepError(f"the sweep in {folder} drew its random sample without a recorded seed, so the same "
                     "combinations cannot be drawn again; start a new sweep (with --seed to make it resumable)",
                     option="--resume")


def _load_journal(folder: Path, manifest: dict[str, Any], resume: bool) -> dict[int, Row]:
    """The rows already in ``folder`` (with ``resume``), after checking the sweep there is this sweep."""
    from eventbt.results import atomic_write

    manifest_path, journal = folder / MANIFEST, folder / JOURNAL
    if folder.exists() and not folder.is_dir():
        raise SweepError(f"{folder} is a file; a sweep writes its files into a folder", option="--out")
    check_not_a_run_folder(folder, "sweep")
    if not resume:
        if journal.exists():
            raise SweepError(f"{folder} already holds a sweep (add --resume to finish it, or pick another --out)",
                             option="--out")
        # A sweep never overwrites a file it did not write: the names it is about to write must be free.
        taken = [name for name in SWEEP_FILES if (folder / name).exists() or (folder / name).is_symlink()]
        if taken:
            # Only sweep.json: a sweep that stopped before its first row (a Dask scheduler out of reach, say).
            hint = "add --resume to finish the sweep started there, or " if MANIFEST in taken else ""
            raise SweepError(f"{folder} holds {', '.join(taken)}, which this sweep would overwrite; {hint}pick "
                             "another --out", option="--out")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            manifest_path.write_text(strict_json(manifest, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise SweepError(f"{folder} cannot be written: {exc.strerror or exc}", option="--out") from None
        return {}
    recorded = _read_manifest(folder)
    if recorded != manifest:
        raise SweepError(f"the scenario, grid or sampling differ from the sweep in {folder}", option="--resume")
    done: dict[int, Row] = {}
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # the half-written last line of an interrupted sweep
                continue
            done[int(row["combination"])] = row
        # Drop a half-written last line, so the rows appended from here on start on a line of their own.
        atomic_write(journal, "".join(strict_json(row, sort_keys=True) + "\n" for row in done.values()))
    return done


def sweep(scenario: str | os.PathLike[str] | ScenarioConfig, grid: Sequence[str] | Mapping[str, Sequence[Any]],
          *, overrides: Sequence[str] = (), random: int | None = None, seed: int | None = None,
          executor: str | Executor = "local", scheduler: str | None = None, workers: int | None = None,
          out: str | os.PathLike[str] | None = None, rank_by: str = "sharpe", resume: bool = False,
          progress: bool | None = False, heatmap: bool = True) -> SweepResult:
    """Run every combination of ``grid`` over the base scenario (plus ``overrides``) and rank the results."""
    from eventbt.display.progress import ProgressBar
    from eventbt.simulation import load_scenario_prices

    if isinstance(scenario, ScenarioConfig):
        base = scenario.with_overrides(overrides) if overrides else scenario
    else:
        base = ScenarioConfig.from_toml(scenario, overrides)
    rank_table([], [], rank_by)  # checks rank_by before any work
    keys = parse_grid(grid)
    check_sweep_scenario(base, list(keys))
    if resume and out is None:
        raise SweepError("needs --out, the folder of the sweep to resume", option="--resume")
    folder = Path(out) if out is not None else None
    if random is not None and seed is None:
        # Drawn once and recorded, so that --resume draws the same combinations (and loses no finished row).
        seed = _resumed_seed(folder, random, seed) if resume and folder is not None else draw_seed()
    combos = combinations(keys, random=random, seed=seed)
    runner = make_executor(executor, scheduler=scheduler, workers=workers) if isinstance(executor, str) else executor
    manifest = {"scenario": base.to_toml(), "grid": {k: list(v) for k, v in keys.items()},
                "random": random, "seed": seed}
    done = _load_journal(folder, manifest, resume) if folder is not None else {}
    wanted = {c.index for c in combos}
    rows = [row for index, row in done.items() if index in wanted]
    todo = [c for c in combos if c.index not in done]
    by_index = {c.index: c for c in combos}
    bar = ProgressBar(len(combos), label="combinations", enabled=progress)
    failed = sum(row["status"] != "ok" for row in rows)

    def on_row(row: Row) -> None:
        nonlocal failed
        row = {**row, **by_index[row["combination"]].params}
        rows.append(row)
        failed += row["status"] != "ok"
        if folder is not None:
            with (folder / JOURNAL).open("a") as handle:
                handle.write(strict_json(row, sort_keys=True) + "\n")
        bar.label = f"combinations  {failed} failed  {len(combos) - len(rows)} remaining"
        bar.update(len(rows))

    if todo:
        runner.run(base, load_scenario_prices(base), [Task(index=c.index, overrides=c.overrides) for c in todo],
                   on_row)
    bar.close()
    table = rank_table(rows, list(keys), rank_by)
    files: dict[str, Path] = {}
    if folder is not None:
        files = {name: folder / name for name in (MANIFEST, JOURNAL) if (folder / name).exists()}
        files.update(write_results(table, folder))
        if heatmap and len(keys) == 2:
            try:
                y, x = keys  # the last key (the fastest) across, the first down
                files["heatmap.png"] = write_heatmap(table, x, y, rank_by, folder / "heatmap.png")
            except ImportError:
                warnings.warn("matplotlib is not installed: no heatmap (pip install 'eventbt[sweep]')",
                              stacklevel=2)
    return SweepResult(table=table, rank_by=rank_by, files=files, seed=seed if random is not None else None,
                       notes=sampling_notes(keys, random))
