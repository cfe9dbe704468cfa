"""The results wing: what a run produced, as pandas objects and files, and the figures computed from it.

- :mod:`eventbt.results.result`: :class:`Result` (equity, trades, weights, signals, summary, the audit log)
  built from the portfolio handler's :class:`~eventbt.portfolio.BookHistory`, and the files it writes;
- :mod:`eventbt.results.metrics`: the summary figures and the full metrics of ``docs/metrics.md``;
- :mod:`eventbt.results.returns`: time-weighted and money-weighted returns, drawdowns;
- :mod:`eventbt.results.costs`: costs by model (commission, slippage, each fee);
- :mod:`eventbt.results.income`: dividends and withholding tax by symbol, cash in lieu;
- :mod:`eventbt.results.exposure`: long, short, gross and net exposure of a margin account;
- :mod:`eventbt.results.files`: atomic file writes, the run folder (its marker, replacing an earlier run).
"""

from eventbt.results.costs import cost_attribution, fee_amounts
from eventbt.results.exposure import exposure_figures, exposure_summary
from eventbt.results.files import atomic_write
from eventbt.results.income import dividend_summary, income_figures, income_lines
from eventbt.results.result import EQUITY_COLUMNS, TRADE_COLUMNS, Result, build_result

__all__ = ["EQUITY_COLUMNS", "TRADE_COLUMNS", "Result", "atomic_write", "build_result", "cost_attribution",
           "dividend_summary", "exposure_figures", "exposure_summary", "fee_amounts", "income_figures", "income_lines"]
