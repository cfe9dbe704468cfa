"""The report's charts as PNG files (``eventbt report --png DIR``), drawn with matplotlib's Agg backend.

Like the report's page, a chart is written only where nothing is, or over a chart eventbt wrote: every PNG carries
:data:`PNG_MARK` (a ``tEXt`` chunk ``Generator: eventbt``), and the charts in a run's own folder belong to the run
(:data:`eventbt.results.files.LATER_FILES`). Any other file of those names is refused before anything is drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eventbt.display.svg import PALETTE
from eventbt.errors import EventbtError, OutputError
from eventbt.report import notes
from eventbt.report.costs import rebalance_costs
from eventbt.report.data import RunData
from eventbt.results.metrics import monthly_returns, rebalance_table, time_weighted_levels
from eventbt.results.returns import drawdown

__all__ = ["PNG_MARK", "PNG_NAMES", "check_png_folder", "write_pngs"]

PNG_NAMES = ["equity.png", "drawdown.png", "weights.png", "turnover_costs.png", "monthly_returns.png"]
PNG_MARK = {"Generator": "eventbt"}
"""The text chunk every chart eventbt writes carries, so a later ``--png`` knows it may replace the file."""
_HEAD_BYTES = 4096


def check_png_folder(folder: str | Path, option: str = "--png") -> Path:
    """``folder`` as a :class:`~pathlib.Path` when the charts may be written there: each of :data:`PNG_NAMES`
    is absent, a chart eventbt wrote, or a chart of the run whose folder this is. Otherwise an
    :class:`OutputError` naming the first file in the way; nothing is written."""
    from eventbt.results.files import is_run_folder

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OutputError(f"is a file; {option} names the folder to write the charts into", path=str(folder))
    run_folder = is_run_folder(out)
    for name in PNG_NAMES:
        target = out / name
        if target.is_dir():
            raise OutputError(f"is a folder; {option} writes a chart of that name", path=str(target))
        if (target.exists() or target.is_symlink()) and not (run_folder or _is_our_png(target)):
            raise OutputError(f"exists and was not written by eventbt; {option} never overwrites another file "
                              "(remove it or name another folder)", path=str(target))
    return out


def _is_our_png(path: Path) -> bool:
    """Whether ``path`` is a PNG whose head holds :data:`PNG_MARK`."""
    (key, value), = PNG_MARK.items()
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    return head.startswith(b"\x89PNG") and f"tEXt{key}\0{value}".encode() in head


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise EventbtError("--png needs matplotlib: pip install 'eventbt[png]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_pngs(run: RunData, folder: str | Path, *, dpi: int = 110) -> list[Path]:
    """Write the five charts of the HTML report into ``folder`` (created if needed); returns their paths.

    A file of a chart's name there that eventbt did not write is an :class:`OutputError` (:func:`check_png_folder`),
    before anything is drawn. A chart with nothing to draw (no bars, no rebalance, no fill) is written with a
    sentence saying so."""
    out = check_png_folder(folder, option="folder")
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    drawers = (_equity, _drawdown, _weights, _turnover_costs, _monthly)
    return [_save(draw(plt, run), out / name, dpi) for draw, name in zip(drawers, PNG_NAMES, strict=True)]


def _say_empty(ax: Any, note: str) -> None:
    """Write ``note`` (why the chart is empty) in the middle of ``ax``, without axes."""
    ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, color="#59636e")
    ax.set_xticks([])
    ax.set_yticks([])


def _start(run: RunData) -> float:
    """The level the equity and benchmark curves start from: the initial cash, else the first total value."""
    return float(run.metrics.get("initial_cash") or run.equity["total_value"].iloc[0])


def _equity(plt: Any, run: RunData) -> Any:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_title("Equity (log scale)")
    equity = run.equity["total_value"]
    if not (equity > 0).any():
        _say_empty(ax, notes.NO_BARS if equity.empty else notes.NOT_POSITIVE)
        return fig
    ax.plot(equity.index, equity.to_numpy(), color=PALETTE[0], lw=1.2, label=run.name)
    if run.benchmark is not None:
        levels = run.benchmark.reindex(run.benchmark.index.union(equity.index)).ffill().reindex(equity.index)
        ax.plot(levels.index, levels.to_numpy() / levels.dropna().iloc[0] * _start(run), color=PALETTE[1], lw=1.2,
                label=f"{run.benchmark_name} (rebased)")
    ax.set_yscale("log")
    ax.legend(loc="upper left")
    return fig


def _drawdown(plt: Any, run: RunData) -> Any:
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.set_title("Drawdown (%)")
    if run.equity.empty:
        _say_empty(ax, notes.NO_BARS)
        return fig
    falls = drawdown(time_weighted_levels(run.equity, _start(run)), _start(run))
    ax.fill_between(run.equity.index, falls * 100, 0, color="#c92a2a", alpha=0.3, lw=0)
    ax.plot(run.equity.index, falls * 100, color="#c92a2a", lw=0.8)
    return fig


def _weights(plt: Any, run: RunData) -> Any:
    fig, ax = plt.subplots(figsize=(10, 4))
    weights = run.weights.fillna(0.0)
    held = [s for s in weights.columns if (weights[s] != 0).any()]
    colours = [PALETTE[list(weights.columns).index(s) % len(PALETTE)] for s in held]
    margin = "exposure" in run.summary  # a margin account: weights of both signs, one line each
    ax.set_title("Weights after each rebalance (negative: short)" if margin else "Weights after each rebalance")
    if not held:
        _say_empty(ax, notes.weights_note(len(weights)))
        return fig
    if margin:
        for symbol, colour in zip(held, colours, strict=True):
            ax.step(weights.index, weights[symbol].to_numpy(), where="post", color=colour, lw=1.0, label=symbol)
        ax.axhline(0.0, color="#868e96", lw=0.6)
    else:
        ax.stackplot(weights.index, *(weights[s].to_numpy() for s in held), labels=held, colors=colours, step="post")
        ax.set_ylim(0, 1)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


def _turnover_costs(plt: Any, run: RunData) -> Any:
    table = rebalance_table(run.trades, run.equity)
    costs = rebalance_costs(run)
    book = costs["value"].to_numpy(dtype=float)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    top.set_title("One-sided turnover per rebalance (%)")
    bottom.set_title("Costs per rebalance (bps of value; fees that belong to the rebalance)")
    if table.empty:
        _say_empty(top, notes.NO_FILLS)
        _say_empty(bottom, notes.NO_FILLS)
        return fig
    top.bar(table.index, table["turnover"].to_numpy() * 100, width=12, color=PALETTE[0])
    stacked = np.zeros(len(book))
    for i, name in enumerate(c for c in costs.columns if c not in ("total", "value")):
        height = costs[name].to_numpy(dtype=float) / book * 1e4
        bottom.bar(costs.index, height, bottom=stacked, width=12, color=PALETTE[i % len(PALETTE)],
                   label=name.removeprefix("fee:"))
        stacked = stacked + height
    bottom.legend(loc="upper right")
    return fig


def _monthly(plt: Any, run: RunData) -> Any:
    months = monthly_returns(run.equity, run.metrics.get("initial_cash")) * 100 if not run.equity.empty else None
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.22 * (0 if months is None else len(months)) + 1)))
    ax.set_title("Monthly returns (%)")
    if months is None:
        _say_empty(ax, notes.NO_BARS)
        return fig
    limit = float(np.nanmax(np.abs(months.to_numpy()))) if months.size else 1.0
    ax.imshow(months.to_numpy(dtype=float), cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(12), ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    ax.set_yticks(range(len(months)), [str(year) for year in months.index], fontsize=7)
    return fig


def _save(fig: Any, path: Path, dpi: int) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, metadata=PNG_MARK)
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
