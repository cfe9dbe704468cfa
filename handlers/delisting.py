"""The data-end policies: interior gaps (``[data] missing``) and series that end while held (``delisting``).

Both are decided from the price panel's calendar before the run starts, the way the rebalance schedule is:
:func:`eventbt.data.fit.series_bounds` gives each symbol's first and last bar with a close. Knowing when a
listing ends is calendar knowledge (a delisting date is announced), not look-ahead into prices: no price after bar t is
read before bar t.

- **Interior gap** (no close between a symbol's first and last close). ``missing = "ffill"`` (default):
  the symbol is valued at its last close (the portfolio keeps it as its mark) and is not tradable that bar
  (the rebalance skips it with ``skip_not_tradable``, an order filling there is cancelled); the run's
  audit log gets one ``interior_gap`` note per symbol. ``missing = "error"``: a
  :class:`~eventbt.errors.DataError` before the run, naming the file, the symbol and the first missing date.
  Leading missing values (not listed yet) are normal and never reported.
- **Delisting** (a symbol's last close comes before the data's last date). At the first bar after its last
  close, :class:`DelistingHandler` checks the position: ``delisting = "liquidate"`` (default) publishes a
  ``NoticeEvent`` (code ``delisted``) and a ``FillEvent`` selling every share at the last close (a short
  position of a margin account: buying every share back), caused by that notice, with no commission or
  slippage (a cash-out at the last price, not a trade in the market); ``delisting = "error"`` raises a
  :class:`~eventbt.errors.DataError`. A symbol not held when its series ends needs nothing. The symbol's orders
  still waiting are the execution handler's: it is given the same calendar and cancels them on that bar, before
  this handler runs (``docs/orders.md``).
"""

from __future__ import annotations

import numpy as np

from eventbt.data.fit import series_bounds
from eventbt.errors import DataError
from eventbt.events import Event, FillEvent, MarketEvent, NoticeCode, NoticeEvent, Side
from eventbt.handler import Handler

__all__ = ["DelistingHandler"]


class DelistingHandler(Handler):
    """Liquidates (or refuses) a position whose price series has ended before the data does."""

    name = "delisting"
    subscribes = (MarketEvent,)

    def __init__(self, close: np.ndarray, *, policy: str = "liquidate", path: str = "",
                 bounds: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if policy not in ("liquidate", "error"):
            raise ValueError(f"policy must be 'liquidate' or 'error', got {policy!r}")
        _, last = series_bounds(close) if bounds is None else bounds
        ends: dict[int, list[int]] = {}
        for j, bar in enumerate(last.tolist()):
            if 0 <= bar < len(close) - 1:
                ends.setdefault(bar + 1, []).append(j)
        self._ends = ends  # bar after the last close -> symbols whose series ended
        self._last_close = {j: float(close[last[j], j]) for js in ends.values() for j in js}
        self._last_bar = last
        self.policy = policy
        self.path = path

    def on_market(self, event: MarketEvent) -> list[Event] | None:
        ended = self._ends.get(event.bar)
        if not ended:
            return None
        context = self.context
        out: list[Event] = []
        for j in ended:
            held = int(context.portfolio.positions[j])
            if held == 0:
                continue
            symbol, price = context.symbols[j], self._last_close[j]
            last_date = str(np.datetime_as_string(context.dates[self._last_bar[j]], unit="D"))
            if self.policy == "error":
                holding, close_out = (f"{held} shares are held", "sell") if held > 0 else \
                    (f"{-held} shares are sold short", "buy back")
                raise DataError(
                    f"prices for {symbol!r} end on {last_date} while {holding}; expected prices to the end of the "
                    f"data, or [data] delisting = 'liquidate' to {close_out} at the last price",
                    path=self.path or None, symbol=symbol, date=last_date, policy="[data] delisting")
            notice = NoticeEvent(id=context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                                 handler=self.name, code=NoticeCode.DELISTED, symbol=symbol,
                                 details={"last_date": last_date, "last_price": price, "quantity": held})
            out.append(notice)
            out.append(FillEvent(id=context.next_id(), time_ns=event.time_ns, cause_id=notice.id, bar=event.bar,
                                 order_id=notice.id, symbol=symbol, side=Side.SELL if held > 0 else Side.BUY,
                                 quantity=abs(held), price=price, reference_price=price, commission=0.0,
                                 slippage=0.0))
        return out
