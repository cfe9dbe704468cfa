"""What the report says where a chart or table has nothing to show, the same in the HTML page and the PNGs.

A run that never rebalanced (a schedule longer than its data, a one-bar window, a run that stopped before its
first rebalance) has no weights, no fills and no rebalance rows; a run that stopped on its first bar has no
bars either. Its report is still written, each such chart or table saying why it is empty.
"""

from __future__ import annotations

__all__ = ["NOT_POSITIVE", "NO_AUDIT_LOG", "NO_BARS", "NO_DRAWDOWN", "NO_FILLS", "NO_REBALANCE", "NO_SIGNAL",
           "ONLY_CASH", "weights_note"]

NO_BARS = "No bars: the run stopped before its first bar."
NOT_POSITIVE = "No value above zero to draw on a log scale."
NO_REBALANCE = "No rebalance: the run never set target weights."
ONLY_CASH = "Only cash: no rebalance held a position."
NO_FILLS = "No fills: the run traded nothing."
NO_DRAWDOWN = "No drawdown: the value never fell below an earlier peak."
NO_SIGNAL = ("No rebalance: the audit log holds no signal (no rebalance date fell inside the run, or the run "
             "stopped before its first one).")
NO_AUDIT_LOG = "No audit log in the run folder, so no per-rebalance detail."


def weights_note(rebalances: int) -> str:
    """Why the weights chart is empty: no rebalance at all, or only rebalances to cash (``rebalances`` rows)."""
    return ONLY_CASH if rebalances else NO_REBALANCE
