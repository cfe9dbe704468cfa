"""The workloads of ``eventbt bench``, generated deterministically from a seed (no files read).

- ``rotation``: ``symbols`` x ``bars`` business days of geometric-Brownian-motion closes; EMA allocation
  (fast 20, slow 100, top 10, equal), monthly, per-share commission (0.005, minimum 1.00, cap 1%), 5 bps
  slippage, same-close fills, initial cash 1,000,000, audit log written to a file.
- ``daily``: the same kind of closes, equal weight rebalanced every bar (nearly every symbol trades every
  day).
- ``bus``: trivial events through a bare :class:`~eventbt.bus.Bus` (audit off, in memory, to a file), and
  the same number of plain tuples through a minimal deque + dict-of-handler-lists loop, the floor.

Data generation happens here, before any timer starts; :mod:`eventbt.bench` does the timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventbt.prices import PriceData
    from eventbt.scenario import ScenarioConfig

__all__ = ["ROTATION_SIZES", "SIZES", "WORKLOADS", "bt_rules", "daily_config", "gbm_prices", "loop_rules",
           "rotation_config", "small_scenario"]

# (symbols, bars) per size.
ROTATION_SIZES = {"tiny": (5, 150), "small": (10, 1_260), "medium": (100, 2_520), "large": (500, 5_040)}
DAILY_SIZES = {"tiny": (5, 30), "small": (20, 252), "medium": (100, 2_520), "large": (100, 2_520)}
BUS_SIZES = {"tiny": 2_000, "small": 100_000, "medium": 1_000_000, "large": 1_000_000}
SIZES = ("tiny", "small", "medium", "large")
WORKLOADS = ("rotation", "parts", "daily", "bus", "scale", "startup", "sweep", "bt")
"""What ``eventbt bench`` times (:mod:`eventbt.bench.runner`), in the order it runs them."""

_COMMISSION = {"model": "per_share", "per_share": 0.005, "minimum": 1.0, "max_pct": 0.01}
_SLIPPAGE = {"model": "fixed_bps", "bps": 5.0}
_INITIAL_CASH = 1_000_000.0


def gbm_prices(symbols: int, bars: int, *, seed: int = 7, start: str = "2000-01-03") -> PriceData:
    """Closes following geometric Brownian motion (drift 6%, volatility 25% a year; start prices 20-200).

    Dates are business days from ``start``; symbols are ``S0000``, ``S0001``, ... (already sorted).
    """
    import numpy as np

    from eventbt.prices import PriceData

    rng = np.random.default_rng(seed)
    dt = 1.0 / 252.0
    mu, sigma = 0.06, 0.25
    drift = (mu - 0.5 * sigma * sigma) * dt
    shocks = rng.standard_normal((bars, symbols)) * (sigma * np.sqrt(dt)) + drift
    start_prices = rng.uniform(20.0, 200.0, symbols)
    close = start_prices * np.exp(np.cumsum(shocks, axis=0))
    first = np.datetime64(start, "D")
    dates = np.busday_offset(first, np.arange(bars), roll="forward").astype("datetime64[ns]")
    width = max(4, len(str(symbols - 1)))
    names = tuple(f"S{i:0{width}d}" for i in range(symbols))
    return PriceData(dates=dates, symbols=names, close=np.ascontiguousarray(close))


def _config(name: str, strategy: dict[str, Any], schedule: dict[str, Any],
            data: dict[str, Any] | None = None) -> ScenarioConfig:
    from eventbt.scenario import ScenarioConfig

    return ScenarioConfig.from_dict({
        "scenario": {"name": name},
        "data": data or {"path": "generated"},
        "portfolio": {"initial_cash": _INITIAL_CASH},
        "strategy": strategy,
        "schedule": schedule,
        "execution": {"timing": "same_close", "commission": dict(_COMMISSION), "slippage": dict(_SLIPPAGE)},
        "run": {"progress": False},
    })


_ROTATION = {"fast_span": 20, "slow_span": 100, "top_n": 10, "weighting": "equal"}


def rotation_config(name: str = "bench_rotation", data: dict[str, Any] | None = None) -> ScenarioConfig:
    """EMA allocation (fast 20, slow 100, top 10, equal), monthly, IB-like commission, 5 bps, same close; on
    ``data`` (``[data]`` keys) when given, else on prices passed in memory."""
    return _config(name, {"name": "ema_allocation", "params": dict(_ROTATION)}, {"rebalance": "monthly"}, data)


def bt_rules() -> dict[str, Any]:
    """The rotation's rules as :func:`eventbt.bench.peer_bt.bt_rotation` takes them: the same spans, top n,
    commission and cash as :func:`rotation_config` (bt has no slippage)."""
    return {"initial_cash": _INITIAL_CASH, "fast_span": _ROTATION["fast_span"], "slow_span": _ROTATION["slow_span"],
            "top_n": _ROTATION["top_n"], "per_share": _COMMISSION["per_share"], "minimum": _COMMISSION["minimum"],
            "max_pct": _COMMISSION["max_pct"]}


def loop_rules() -> dict[str, Any]:
    """The rotation's rules as :func:`eventbt.bench.loop.rotation_loop` takes them: :func:`bt_rules` and the
    slippage in basis points."""
    return {**bt_rules(), "bps": _SLIPPAGE["bps"]}


def daily_config() -> ScenarioConfig:
    """Equal weight over every symbol, rebalanced daily, same costs as ``rotation``."""
    return _config("bench_daily", {"name": "equal_weight"}, {"rebalance": "daily"})


def small_scenario(folder: Path) -> Path:
    """A small scenario file with its data (10 symbols, 1,260 bars of the rotation workload) in ``folder``, for
    timing a whole ``eventbt run`` process."""
    prices = gbm_prices(*ROTATION_SIZES["small"])
    frame = prices.to_frame("close")
    frame.to_csv(folder / "small.csv", index_label="date")
    config = rotation_config("bench_small", data={"path": "small.csv", "format": "wide"})
    (folder / "small.toml").write_text(config.to_toml())
    return folder / "small.toml"
