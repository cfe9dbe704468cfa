"""The built-in cost models by the name a scenario uses.

Adding a built-in model touches this wing only: the class (in :mod:`~eventbt.costs.commission`,
:mod:`~eventbt.costs.slippage` or :mod:`~eventbt.costs.impact`) and its line here; the contract suite's
example parameters (``tests/eventbt/test_cost_model_contract.py``) make sure it is tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from eventbt.costs import commission, impact, slippage

__all__ = ["COMMISSION_MODELS", "COST_MODEL_GROUP", "SLIPPAGE_MODELS"]

COST_MODEL_GROUP = "eventbt.cost_models"
"""The entry-point group where installed packages register commission and slippage models."""

COMMISSION_MODELS: Mapping[str, type] = MappingProxyType({cls.name: cls for cls in (
    commission.ZeroCommission,
    commission.PercentageCommission,
    commission.FixedCommission,
    commission.PerShareCommission,
    commission.IbkrTieredCommission,
    commission.SecFeeCommission,
)})
"""Built-in commission models by scenario name: ``zero``, ``percentage``, ``fixed``, ``per_share``,
``ibkr_tiered``, ``sec_fee``."""

SLIPPAGE_MODELS: Mapping[str, type] = MappingProxyType({cls.name: cls for cls in (
    slippage.ZeroSlippage,
    slippage.FixedBpsSlippage,
    impact.HalfSpreadSlippage,
    impact.VolumeShareSlippage,
    impact.SqrtImpactSlippage,
    slippage.SpreadBySymbolSlippage,
)})
"""Built-in slippage models by scenario name: ``zero``, ``fixed_bps``, ``half_spread``, ``volume_share``,
``sqrt_impact``, ``spread_by_symbol``."""
