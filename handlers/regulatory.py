"""US regulatory transaction fees on the bus: the SEC's Section 31 fee, FINRA's trading activity fee, CAT.

A commission model sees only ``(quantity, value)``, not the side, so these fees, charged on sales (and the
CAT fee on both sides), are a fee handler: :class:`UsRegulatoryFees` watches the
:class:`~eventbt.events.FillEvent`\\ s and charges like the other fee handlers of :mod:`handlers.fees`, at
the next bar's market event, or when the data ends for the last bar's fills, one
:class:`~eventbt.events.FeeEvent` per fill (its ``cause_id``), attributed to ``us_regulatory_fees``.
"""

from __future__ import annotations

import math
from typing import Any

from eventbt.events import DataEndEvent, Event, FillEvent, MarketEvent
from eventbt.exact import fsum
from handlers.fees import FeeHandler

__all__ = ["UsRegulatoryFees"]


def _at_least_zero(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class UsRegulatoryFees(FeeHandler):
    """The US regulatory fees on each fill: SEC and FINRA TAF on sales, optionally FINRA CAT on both sides.

    For a fill of ``quantity`` shares at ``price`` (``value = quantity * price``)::

        sec = sec_rate * value                               (sales only)
        taf = min(taf_per_share * quantity, taf_max)         (sales only, per trade: per fill)
        cat = cat_per_share * quantity                       (buys and sales)

    Defaults, the rates published for 2026 (the broker passes them through; pass the rates of your
    period):

    - ``sec_rate = 0.0000206``: USD 20.60 per million of covered sales, in force from 4 April 2026 (U.S.
      Securities and Exchange Commission, "Order Making Fiscal Year 2026 Annual Adjustments to Transaction
      Fee Rates", Release No. 34-104909, 27 February 2026, and its Fee Rate Advisory; FINRA Information
      Notice of 17 March 2026). Earlier: 27.80 from 22 May 2024, 0.00 from 14 May 2025 to 3 April 2026.
    - ``taf_per_share = 0.000195``, ``taf_max = 9.79``: FINRA's trading activity fee for covered equity
      securities, USD 0.000195 per share sold, at most USD 9.79 a trade, in force from 1 January 2026 (FINRA,
      By-Laws Schedule A section 1, fee adjustment schedule of rule filing SR-FINRA-2024-019). Earlier:
      0.000166 and 8.30 in 2024-25; the schedule steps up again in 2027. A temporary fee holiday (rule
      filing SR-FINRA-2026-021) sets it to 0 for trades from 1 October to 31 December 2026; set
      ``taf_per_share = 0`` to model that.
    - ``cat_per_share = 0``: off. FINRA's Consolidated Audit Trail fees (FINRA Rule 6897) are charged per
      executed equivalent share on both sides, and brokers pass them through at different rates (Interactive
      Brokers listed USD 0.000048 to 0.000072 a share in 2024-25); give your broker's.

    Rounding (brokers round each fee, or a day's total, up to the cent) is not modelled. ``symbols`` limits
    the fees to those symbols (US listings in a mixed universe); empty means every symbol. Example (the
    2024-25 rates on Interactive Brokers' page, ``sec_rate=0.0000278, taf_per_share=0.000166,
    taf_max=8.30, cat_per_share=0.000048``): selling 1,000 shares at 20.00 pays ``0.556 + 0.166 + 0.048 =
    0.770``, buying them ``0.048``.
    """

    name = "us_regulatory_fees"
    subscribes = (MarketEvent, FillEvent, DataEndEvent)

    def __init__(self, *, sec_rate: float = 0.0000206, taf_per_share: float = 0.000195, taf_max: float = 9.79,
                 cat_per_share: float = 0.0, symbols: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.sec_rate = _at_least_zero("sec_rate", sec_rate)
        if self.sec_rate >= 0.01:
            raise ValueError(f"sec_rate must be a fraction of the sale value below 0.01 (USD 20.60 per million "
                             f"= 0.0000206), got {sec_rate!r}")
        self.taf_per_share = _at_least_zero("taf_per_share", taf_per_share)
        self.taf_max = _at_least_zero("taf_max", taf_max)
        self.cat_per_share = _at_least_zero("cat_per_share", cat_per_share)
        self.symbols = tuple(symbols)
        self._fills: list[FillEvent] = []

    def fees(self, side: int, quantity: int, price: float) -> dict[str, float]:
        """The ``sec``, ``taf`` and ``cat`` parts for one fill (``side`` +1 buy, -1 sell)."""
        value = quantity * price
        selling = side < 0
        return {
            "sec": self.sec_rate * value if selling else 0.0,
            "taf": min(self.taf_per_share * quantity, self.taf_max) if selling else 0.0,
            "cat": self.cat_per_share * quantity,
        }

    def on_fill(self, event: FillEvent) -> None:
        if not self.symbols or event.symbol in self.symbols:
            self._fills.append(event)

    def on_market(self, event: MarketEvent | DataEndEvent) -> list[Event]:
        fills, self._fills = self._fills, []
        out: list[Event] = []
        for fill in fills:
            parts = self.fees(int(fill.side), fill.quantity, fill.price)
            details: dict[str, Any] = {"side": fill.side.name, "quantity": fill.quantity,
                                       "value": fill.quantity * fill.price, **parts}
            fee = self._charge(event, fsum(parts.values()), reason=f"US regulatory fees on a {fill.side.name.lower()}",
                               cause_id=fill.id, symbol=fill.symbol, details=details)
            if fee is not None:
                out.append(fee)
        return out

    on_data_end = on_market
