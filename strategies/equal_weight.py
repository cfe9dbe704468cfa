"""Equal weight: ``1 / N`` in each of the N symbols that have a close at the rebalance bar."""

from __future__ import annotations

import attrs

from eventbt.protocols import PriceView

__all__ = ["EqualWeight"]


@attrs.define(kw_only=True)
class EqualWeight:
    """Equal weights over the symbols priced at this bar; no signal before any symbol has a price."""

    def update(self, view: PriceView) -> None:
        return None

    def target_weights(self, view: PriceView) -> dict[str, float] | None:
        close = view.close
        priced = [symbol for symbol, price in zip(view.symbols, close.tolist(), strict=True) if price == price]
        if not priced:
            return None
        weight = 1.0 / len(priced)
        return {symbol: weight for symbol in priced}
