"""The cost models wing: what a fill pays (commission) and the price it gets (slippage, market impact).

- :mod:`eventbt.costs.commission`: ``zero``, ``percentage``, ``fixed``, ``per_share``, ``ibkr_tiered``,
  ``sec_fee`` (which sees the order);
- :mod:`eventbt.costs.slippage`: ``zero``, ``fixed_bps`` (a proportional move), ``spread_by_symbol`` (which
  sees the order);
- :mod:`eventbt.costs.impact`: ``half_spread``, ``volume_share``, ``sqrt_impact`` (models that look at the bar);
- :mod:`eventbt.costs.checks`: the parameter checks they all share (fee handlers too);
- :mod:`eventbt.costs.contract`: every value a model returns, checked where a handler calls it;
- :mod:`eventbt.costs.registry`: the built-ins by scenario name.

Each model fits :class:`~eventbt.protocols.CommissionModel` or :class:`~eventbt.protocols.SlippageModel` by
shape; the execution and rebalance handlers call them, and ``docs/cost-models.md`` documents every one with
its source. Costs that are not a fill's (stamp duty, interest, fees) are fee handlers on the bus, in
``handlers/fees.py``.
"""

from eventbt.costs.commission import (
    FixedCommission,
    IbkrTieredCommission,
    PercentageCommission,
    PerShareCommission,
    SecFeeCommission,
    ZeroCommission,
)
from eventbt.costs.impact import HalfSpreadSlippage, SqrtImpactSlippage, VolumeShareSlippage, corwin_schultz_spread
from eventbt.costs.registry import COMMISSION_MODELS, COST_MODEL_GROUP, SLIPPAGE_MODELS
from eventbt.costs.slippage import FixedBpsSlippage, SpreadBySymbolSlippage, ZeroSlippage

__all__ = [
    "COMMISSION_MODELS",
    "COST_MODEL_GROUP",
    "SLIPPAGE_MODELS",
    "FixedBpsSlippage",
    "FixedCommission",
    "HalfSpreadSlippage",
    "IbkrTieredCommission",
    "PerShareCommission",
    "PercentageCommission",
    "SecFeeCommission",
    "SpreadBySymbolSlippage",
    "SqrtImpactSlippage",
    "VolumeShareSlippage",
    "ZeroCommission",
    "ZeroSlippage",
    "corwin_schultz_spread",
]
