"""What a run's costs came to, by model: commission, slippage and each fee handler."""

from __future__ import annotations

from typing import Any

import numpy as np

from eventbt.exact import fsum, mean

__all__ = ["cost_attribution", "drag_bps", "fee_amounts", "owed_figures"]


def drag_bps(amount: float, average_value: float, years: float) -> float | None:
    """A cost's annual drag in basis points of the average value: ``amount / average / years * 10000``; ``None``
    for a run shorter than a day or without a positive average. The one formula of ``summary.json``'s
    ``bps_per_year`` and the metrics' ``*_drag_bps``, so the two agree to the last bit."""
    return amount / average_value / years * 1e4 if years > 0 and average_value > 0 else None


def cost_attribution(*, commission: float, slippage: float, fees: dict[str, float], values: Any,
                     dates: Any) -> dict[str, Any]:
    """Costs by model: ``{name: {"amount": money, "bps_per_year": annual drag}}``, plus ``"total"``.

    Names are ``commission``, ``slippage`` (price impact included) and ``fee:<model>`` for each fee model
    (credits, such as interest earned, are negative). The annual drag is ``amount / average total value /
    years * 10000``, with years the calendar span of the run over 365.25 days; ``None`` for a run shorter
    than a day.
    """
    amounts = {"commission": float(commission), "slippage": float(slippage)}
    amounts.update({f"fee:{model}": float(amount) for model, amount in sorted(fees.items())})
    amounts["total"] = fsum(amounts.values())
    years = float((dates[-1] - dates[0]) / np.timedelta64(1, "D")) / 365.25 if len(dates) >= 2 else 0.0
    average = mean(values) if len(values) else 0.0
    return {name: {"amount": amount, "bps_per_year": drag_bps(amount, average, years)}
            for name, amount in amounts.items()}


def fee_amounts(summary: dict[str, Any]) -> dict[str, float]:
    """What each fee model charged, from ``summary["costs"]`` (``fee:<model>`` entries): ``{model: amount}``."""
    costs = summary.get("costs") or {}
    return {name.removeprefix("fee:"): float(entry["amount"]) for name, entry in costs.items()
            if name.startswith("fee:")}


def owed_figures(summary: dict[str, Any]) -> dict[str, float]:
    """``{"fees_owed": total}``: what the fee models were still owed when the run ended (``summary["fees_owed"]``,
    charged but not paid for want of cash, so in no ``fee:<model>`` figure and not taken from the final value);
    empty when nothing was owed."""
    owed = summary.get("fees_owed") or {}
    return {"fees_owed": fsum([float(amount) for amount in owed.values()])} if owed else {}
