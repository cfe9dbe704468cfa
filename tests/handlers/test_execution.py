"""The execution handler on its own: fills, the fill-time cash check, and unpayable sales."""

from __future__ import annotations

import numpy as np
import pytest

from eventbt.costs import FixedBpsSlippage, PercentageCommission, PerShareCommission
from eventbt.events import CancelEvent, FillEvent, MarketEvent, NoticeEvent, OrderEvent, Side
from eventbt.handler import Context
from eventbt.portfolio import Portfolio
from handlers.execution import ExecutionHandler


def setup(cash: float, commission, slippage=None, position: int = 0,  # type: ignore[no-untyped-def]
          cash_now: float | None = None):
    portfolio = Portfolio(("A",), cash)
    if cash_now is not None:
        portfolio.cash = cash_now  # spent since the start (a Portfolio must start with some cash)
    if position:
        portfolio.positions[0] = position
    handler = ExecutionHandler(commission=commission, slippage=slippage or FixedBpsSlippage(bps=0.0))
    handler.bind(Context(symbols=("A",), dates=np.array([], dtype="datetime64[ns]"), portfolio=portfolio))
    handler.on_market(MarketEvent(id=1, time_ns=0, bar=0, symbols=("A",), close=np.array([50.0])))
    return handler


def order(side: Side, quantity: int) -> OrderEvent:
    return OrderEvent(id=2, time_ns=0, cause_id=1, bar=0, symbol="A", side=side, quantity=quantity,
                      reference_price=50.0)


def test_a_buy_fills_at_the_slipped_close_with_commission() -> None:
    """100 A at 50 with 10 bps: fill 50.05, commission max(1, 0.5) = 1.00, slippage 0.05 * 100 = 5."""
    handler = setup(10_000.0, PerShareCommission(per_share=0.005, minimum=1.0), FixedBpsSlippage(bps=10))
    [fill] = handler.on_order(order(Side.BUY, 100)) or []
    assert isinstance(fill, FillEvent)
    assert (fill.quantity, fill.price, fill.commission) == (100, pytest.approx(50.05), 1.0)
    assert fill.slippage == pytest.approx(5.0)


def test_a_buy_beyond_cash_is_cut_to_what_fits() -> None:
    """Cash 1000 at 50 + 1.00 minimum: 19 shares cost 951, 20 would cost 1001; the rest is cancelled."""
    handler = setup(1_000.0, PerShareCommission(per_share=0.005, minimum=1.0))
    notice, cancel, fill = handler.on_order(order(Side.BUY, 25)) or []
    assert isinstance(notice, NoticeEvent) and notice.code == "reduced_at_fill"
    assert isinstance(cancel, CancelEvent) and cancel.quantity == 6
    assert isinstance(fill, FillEvent) and fill.quantity == 19


def test_a_sale_whose_commission_exceeds_cash_and_proceeds_is_not_made() -> None:
    """Selling 1 A at 0.50 with a 1.00 minimum and no cash would leave cash at -0.50: cancelled instead."""
    handler = setup(1.0, PercentageCommission(rate=0.0, minimum=1.0), position=1, cash_now=0.0)
    handler.on_market(MarketEvent(id=3, time_ns=0, bar=0, symbols=("A",), close=np.array([0.5])))
    notice, cancel = handler.on_order(order(Side.SELL, 1)) or []
    assert isinstance(notice, NoticeEvent) and notice.code == "skip_cost_exceeds_cash"
    assert notice.details["proceeds"] == pytest.approx(-0.5)
    assert isinstance(cancel, CancelEvent) and cancel.quantity == 1


def test_the_cash_for_a_fill_is_the_sum_made_afresh_at_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A daily equal-weight run over 40 symbols (each bar's orders filled before any is booked): at each call,
    the cash the handler works out equals, to the bit, the book's cash plus the unbooked fills' effects added
    afresh in the order sent (the independent method); and it reads each effect about once, going on from its
    last sum, where adding them afresh at every fill reads some 40 x 40 / 2 a bar."""
    from collections import deque

    from eventbt.bench import workloads
    from eventbt.simulation import Simulation

    reads = [0]

    class Counted(deque[tuple[int, float]]):
        """Counts the effects read, by index or by iterating (as a sum made afresh would)."""

        def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
            reads[0] += 1
            return super().__getitem__(index)

        def __iter__(self):  # type: ignore[no-untyped-def]
            for item in super().__iter__():
                reads[0] += 1
                yield item

    real = ExecutionHandler._available_cash
    calls = [0]

    def checked(self: ExecutionHandler) -> float:
        book = self.context.portfolio
        expected = book.cash
        for fill_id, effect, *_ in deque.__iter__(self._unbooked):  # deque's own iterator: not counted
            if fill_id > book.last_fill_id:
                expected += effect
        answer = real(self)
        assert answer == expected and np.signbit(answer) == np.signbit(expected)
        calls[0] += 1
        return answer

    monkeypatch.setattr(ExecutionHandler, "_available_cash", checked)
    simulation = Simulation(workloads.daily_config(), prices=workloads.gbm_prices(40, 60), audit=False)
    [execution] = [handler for handler in simulation.bus.handlers if isinstance(handler, ExecutionHandler)]
    execution._unbooked = Counted()
    simulation.run()
    assert calls[0] == len(simulation.result().trades) > 1_000
    assert reads[0] < 3 * calls[0]
