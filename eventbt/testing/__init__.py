"""Helpers for testing code that plugs into eventbt, the way eventbt tests its own."""

from __future__ import annotations

from eventbt.testing.cost_model_contract import check_commission_model, check_slippage_model

__all__ = ["check_commission_model", "check_slippage_model"]
