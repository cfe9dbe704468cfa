"""Runs whose prices were held in memory: how ``replay`` and ``verify`` take their prices.

A run given its prices from Python (``eventbt.run(scenario, prices=frame)``, or a
:class:`~eventbt.prices.PriceData`) read no file. Its audit header's ``data_files`` names the prices
``<prices DataFrame>`` or ``<prices PriceData>`` with the SHA-256 of their dates, symbols and numbers
(:func:`eventbt.data.frames.prices_digest`); the scenario's ``[data] path`` is only their label. So such a run is
not replayed or verified on whatever file sits at that path: the prices are given again, as a price file read
by the scenario's ``[data]`` rules (``--data FILE``) or from Python (``prices=``, a DataFrame or a PriceData), and
taken when they hash to the recorded digest. Without them the command stops, saying so (:func:`not_on_disk`);
other prices are replayed on only with ``--allow-changed-data``, and the report says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from eventbt.data.frames import IN_MEMORY_NAME, PRICE_DATA_NAME, prices_digest
from eventbt.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from eventbt.prices import PriceData
    from eventbt.scenario import ScenarioConfig

__all__ = ["IN_MEMORY_NAMES", "InMemory", "given_prices", "not_on_disk", "recorded_in_memory"]

IN_MEMORY_NAMES = (IN_MEMORY_NAME, PRICE_DATA_NAME)
"""The ``data_files`` names of prices given in memory (:mod:`eventbt.data.frames`)."""

_KINDS = {IN_MEMORY_NAME: "a DataFrame", PRICE_DATA_NAME: "a PriceData"}


@attrs.frozen(kw_only=True)
class InMemory:
    """The in-memory prices an audit header records: their ``name`` in ``data_files`` and their ``digest``."""

    name: str
    digest: str

    @property
    def short(self) -> str:
        return f"sha256 {self.digest[:12]}..."


def recorded_in_memory(header: Mapping[str, Any]) -> InMemory | None:
    """The in-memory prices ``header`` records, or ``None`` for a run that read its prices from files."""
    files = header.get("data_files")
    if not isinstance(files, Mapping):
        return None
    for name in IN_MEMORY_NAMES:
        if isinstance(files.get(name), str):
            return InMemory(name=name, digest=files[name])
    return None


def not_on_disk(memory: InMemory, label: str, *, command: str) -> DataError:
    """Why ``command`` (``replay`` or ``verify``) cannot find the prices of an in-memory run, and what to give."""
    python = "eventbt.replay(log, prices=...)" if command == "replay" else "verify_run(run, prices=...)"
    anyway = (f"; --allow-changed-data replays on other prices anyway (the file at {label!r}, or the --data given) "
              "and says so") if command == "replay" else ""
    return DataError(
        f"the run's prices were held in memory ({_KINDS[memory.name]} given from Python), not read from a file, so "
        f"{command} cannot find them on disk: the scenario's [data] path {label!r} is only their label. Pass the "
        f"same prices again: --data FILE, a price file read by the scenario's [data] rules (from Python, {python} "
        f"with a DataFrame or a PriceData); {'they are taken' if command == 'replay' else 'they agree'} when their "
        f"dates, symbols and numbers hash to the "
        f"recorded {memory.short}{anyway}", path=memory.name)


def given_prices(config: ScenarioConfig, memory: InMemory, *, prices: PriceData | pd.DataFrame | None = None,
                 data_path: str | os.PathLike[str] | None = None) -> tuple[PriceData, str, str]:
    """The prices given for an in-memory run, as the run would have taken them (``prices`` as
    :func:`eventbt.simulation.in_memory_prices` takes them, ``data_path`` read by the scenario's ``[data]``
    rules), named ``memory.name`` in their ``sources`` with the digest of their numbers; with that digest and a
    description of where they came from, for messages."""
    from eventbt.prices import PriceData
    from eventbt.simulation import in_memory_prices

    if prices is not None:
        panel = in_memory_prices(config, prices)
        # A frame's digest is of the frame cut to the scenario (before a warm-up is taken off), as the run's was.
        digest = panel.sources[IN_MEMORY_NAME] if not isinstance(prices, PriceData) else prices_digest(panel)
        where = f"the {type(prices).__name__} given"
    elif data_path is not None:
        panel, digest = _read_like_a_frame(config, data_path)
        where = os.fspath(data_path)
    else:
        raise ValueError("given_prices needs prices or data_path")
    return attrs.evolve(panel, sources={memory.name: digest}), digest, where


def _read_like_a_frame(config: ScenarioConfig, path: str | os.PathLike[str]) -> tuple[PriceData, str]:
    """A price file read as the scenario reads its data, and hashed as a frame of the same numbers is: after the
    ``[data] symbols``, ``start`` and ``end`` cut, before a warm-up is taken off."""
    from eventbt.data.loaders import load_prices
    from eventbt.data.warmup import with_warmup

    data, warmup = config.data, config.run.warmup
    if not os.path.exists(path):
        raise DataError("no such file or folder (given as the prices the run held in memory)", path=os.fspath(path))
    panel = load_prices(path, format=data.format, symbols=list(data.symbols) or None,
                        start=None if warmup else data.start or None, end=data.end or None,
                        display_path=os.fspath(path))
    digest = prices_digest(panel)
    if warmup:
        panel = with_warmup(panel, start=data.start, end=data.end, warmup=warmup, path=os.fspath(path))
    return panel, digest
