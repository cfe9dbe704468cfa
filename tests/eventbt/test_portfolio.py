"""Portfolio accounting: cash, average cost, realized P&L, marks, and the guards against bad fills."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eventbt.bench.workloads import gbm_prices, rotation_config
from eventbt.errors import AccountingError
from eventbt.events import FillEvent
from eventbt.portfolio import TRADE_FIELDS, Portfolio, TradeRecord
from eventbt.simulation import Simulation


def test_buys_average_the_cost_and_debit_cash_with_commission() -> None:
    """Buy 10 at 100 (+1) then 30 at 120 (+2): avg (1000 + 3600)/40 = 115, cash 10000 - 1001 - 3602."""
    book = Portfolio(("A", "B"), 10_000.0)
    book.apply_fill(0, +1, 10, 100.0, 1.0)
    book.apply_fill(0, +1, 30, 120.0, 2.0)
    assert book.position("A") == 40
    assert book.average_cost[0] == pytest.approx(115.0)
    assert book.cash == pytest.approx(10_000.0 - 1_001.0 - 3_602.0)  # 5397
    assert book.total_commission == pytest.approx(3.0)


def test_sell_realizes_pnl_against_average_cost_net_of_commission() -> None:
    """Sell 25 of 40 (avg 115) at 130 with 1.5 commission: realized (130-115)*25 - 1.5 = 373.5."""
    book = Portfolio(("A",), 10_000.0)
    book.apply_fill(0, +1, 10, 100.0, 1.0)
    book.apply_fill(0, +1, 30, 120.0, 2.0)
    realized = book.apply_fill(0, -1, 25, 130.0, 1.5)
    assert realized == pytest.approx(373.5)
    assert book.position("A") == 15
    assert book.average_cost[0] == pytest.approx(115.0)  # a sale does not change the average cost
    assert book.cash == pytest.approx(5_397.0 + 25 * 130.0 - 1.5)  # 8645.5


def test_a_full_exit_closes_the_position() -> None:
    """Selling everything leaves 0 shares and resets the average cost."""
    book = Portfolio(("A",), 1_000.0)
    book.apply_fill(0, +1, 5, 100.0, 0.0)
    book.apply_fill(0, -1, 5, 90.0, 0.0)
    assert book.held() == {}
    assert book.average_cost[0] == 0.0
    assert book.realized_pnl[0] == pytest.approx(-50.0)  # (90 - 100) * 5


def test_marks_keep_the_last_close_through_gaps_and_value_the_book() -> None:
    """A NaN close keeps the previous mark: value = cash 500 + 5*110 (A's last close) + 2*20."""
    book = Portfolio(("A", "B"), 1_000.0)
    book.apply_fill(0, +1, 5, 100.0, 0.0)  # cash 500
    book.apply_fill(1, +1, 2, 0.0, 0.0)  # B received free (a transfer in), cost basis 0
    book.update_marks(np.array([110.0, 25.0]))
    book.update_marks(np.array([np.nan, 20.0]))
    assert book.marks.tolist() == [110.0, 20.0]
    assert book.total_value() == pytest.approx(500.0 + 5 * 110.0 + 2 * 20.0)
    assert book.weights().tolist() == pytest.approx([550.0 / 1090.0, 40.0 / 1090.0])


def test_cash_cannot_go_negative_and_unheld_shares_cannot_be_sold() -> None:
    """Buying beyond cash or selling more than held raises AccountingError naming symbol and date."""
    book = Portfolio(("A",), 100.0)
    with pytest.raises(AccountingError, match=r"buying 2 A at 60 .* on 2020-01-02 needs 121.00 but cash is 100.00"):
        book.apply_fill(0, +1, 2, 60.0, 1.0, date="2020-01-02")
    with pytest.raises(AccountingError, match="selling 1 A on 2020-01-03 but only 0 are held") as info:
        book.apply_fill(0, -1, 1, 60.0, 0.0, date="2020-01-03")
    assert info.value.symbol == "A"


def test_initial_cash_must_be_positive_and_finite() -> None:
    """A zero, negative or NaN initial cash is refused."""
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="initial_cash"):
            Portfolio(("A",), bad)


def test_the_history_books_one_trade_row_per_fill_as_the_fill_says() -> None:
    """The portfolio handler keeps a tuple per fill (``BookHistory.trade_rows``, in ``TRADE_FIELDS`` order) and
    ``history.trades`` gives them back as TradeRecords. Checked against the FillEvents the bus kept, field by
    field, and the realized P&L against the book's own total per symbol (a sum of the rows' figures made here)."""
    simulation = Simulation(rotation_config(), prices=gbm_prices(8, 300, seed=4))
    result = simulation.run()
    assert result is not None
    fills = [event for event in simulation.bus.events.values() if isinstance(event, FillEvent)]
    rows = simulation.history.trade_rows
    records = simulation.history.trades
    assert len(fills) > 10 and len(rows) == len(records) == len(fills) == len(result.trades)
    assert any(fill.side.name == "SELL" for fill in fills) and any(fill.side.name == "BUY" for fill in fills)
    for fill, row, record in zip(fills, rows, records, strict=True):
        assert isinstance(record, TradeRecord) and row == tuple(getattr(record, name) for name in TRADE_FIELDS)
        assert (record.bar, record.symbol, record.side, record.quantity, record.price, record.reference_price,
                record.commission, record.slippage, record.order_id, record.fill_id) == (
            fill.bar, fill.symbol, fill.side.name, fill.quantity, fill.price, fill.reference_price,
            fill.commission, fill.slippage, fill.order_id, fill.id)
        assert type(record.quantity) is int and type(record.price) is float
    book = simulation.portfolio  # the book's realized P&L per symbol, added up fill by fill as it booked them
    for i, symbol in enumerate(simulation.prices.symbols):
        realized = math.fsum(record.realized_pnl for record in records if record.symbol == symbol)
        assert math.isclose(realized, float(book.realized_pnl[i]), rel_tol=1e-12, abs_tol=1e-9)
    assert any(record.realized_pnl != 0 for record in records)
    # A tuple: nothing to append to by mistake (the history is the rows).
    assert isinstance(records, tuple)
