"""A result's view in Jupyter: the summary figures beside an inline SVG equity chart."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from eventbt.display.format import format_value, metric_rows
from eventbt.display.svg import line_chart

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["notebook_html"]


def notebook_html(summary: dict[str, Any], equity: pd.DataFrame) -> str:
    """A compact block for Jupyter: the summary figures beside an inline SVG equity chart (log scale)."""
    rows = "".join(f"<tr><th style=\"text-align:left\">{escape(label.strip())}</th>"
                   f"<td style=\"text-align:right\">{escape(format_value(summary[key], style))}</td></tr>"
                   for key, label, style, _ in metric_rows([summary]) if key in summary)
    chart = ""
    values = equity["total_value"].to_numpy(dtype=float) if "total_value" in equity else np.zeros(0)
    if len(values) >= 2 and np.all(values > 0):
        chart = line_chart(equity.index.to_numpy(), [("total value", values)], title="Equity (log scale)",
                           kind="equity-log", log=True)
    title = escape(str(summary.get("scenario", "run")))
    status = "" if summary.get("complete", True) else f" (incomplete: {escape(str(summary.get('status')))})"
    return (f'<div class="eventbt-result"><strong>{title}</strong>{status}<div style="display:flex;gap:16px;'
            f'align-items:flex-start"><table>{rows}</table><div style="flex:1;min-width:360px">{chart}</div></div>'
            "<style>.eventbt-result svg .grid{stroke:#e5e5e5}.eventbt-result svg .xgrid{stroke:#f3f3f3}"
            ".eventbt-result svg .tick{font-size:11px;fill:#666}</style></div>")
