"""The book of a margin account (eventbt/portfolio.py, docs/long-short.md): shorts, covers, crossing zero, cash
below zero, fees paid in full, exposures; each case worked out by hand in its table row."""

from __future__ import annotations

import pytest

from eventbt.errors import AccountingError
from eventbt.portfolio import Portfolio

# fills (side, quantity, price, commission) on one symbol from 10,000 of cash, then the expected position, average
# cost, realized P&L (total) and cash, with the arithmetic of each case.
CASES = [
    # a short sale: proceeds are cash (+1,000 - 1 = 999), average cost the sale price, nothing realized
    ("short sale", [(-1, 100, 10.0, 1.0)], -100, 10.0, 0.0, 10_999.0),
    # adding to a short: (100 x 10 + 50 x 13) / 150 = 11.00; cash 10,000 + 1,000 + 650 = 11,650
    ("add to a short", [(-1, 100, 10.0, 0.0), (-1, 50, 13.0, 0.0)], -150, 11.0, 0.0, 11_650.0),
    # a cover of 40 at 8.00 with 1.00 commission: (10 - 8) x 40 - 1 = 79; cash 10,999 - 320 - 1 = 10,678
    ("partial cover", [(-1, 100, 10.0, 1.0), (1, 40, 8.0, 1.0)], -60, 10.0, 79.0, 10_678.0),
    # a full cover at a loss: (10 - 12) x 100 - 0 = -200; the average cost is 0 once flat
    ("full cover", [(-1, 100, 10.0, 0.0), (1, 100, 12.0, 0.0)], 0, 0.0, -200.0, 9_800.0),
    # a sale of 150 on 100 long: (12 - 10) x 100 - 2 = 198 realized; -50 short at 12.00;
    # cash 10,000 - 1,000 + 1,800 - 2 = 10,798
    ("long to short", [(1, 100, 10.0, 0.0), (-1, 150, 12.0, 2.0)], -50, 12.0, 198.0, 10_798.0),
    # a buy of 130 on 100 short: (10 - 9) x 100 = 100 realized; +30 long at 9.00; cash 10,000 + 1,000 - 1,170
    ("short to long", [(-1, 100, 10.0, 0.0), (1, 130, 9.0, 0.0)], 30, 9.0, 100.0, 9_830.0),
    # leverage: 1,500 bought at 10.00 with 10,000: cash -5,000
    ("buy beyond the cash", [(1, 1_500, 10.0, 0.0)], 1_500, 10.0, 0.0, -5_000.0),
]


@pytest.mark.parametrize(("fills", "position", "average", "realized", "cash"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_fills_on_a_margin_account(fills: list[tuple[int, int, float, float]], position: int, average: float,
                                   realized: float, cash: float) -> None:
    """Each fill is booked by what it does to the position: opening, reducing, or crossing zero."""
    book = Portfolio(("A",), 10_000.0, allow_short=True)
    total = sum(book.apply_fill(0, side, quantity, price, commission) for side, quantity, price, commission in fills)
    assert (book.position("A"), float(book.average_cost[0]), total, book.cash) == (
        position, pytest.approx(average), pytest.approx(realized), pytest.approx(cash))
    assert float(book.realized_pnl[0]) == pytest.approx(realized)


def test_a_short_is_marked_at_minus_its_market_value() -> None:
    """100 A long and 40 B short at marks 12 and 5: long 1,200, short -200, value cash + 1,000."""
    book = Portfolio(("A", "B"), 10_000.0, allow_short=True)
    book.apply_fill(0, 1, 100, 10.0, 0.0)  # cash 9,000
    book.apply_fill(1, -1, 40, 6.0, 0.0)  # cash 9,240
    book.marks[:] = [12.0, 5.0]
    assert book.exposures() == (1_200.0, -200.0)
    assert (book.positions_value(), book.total_value()) == (1_000.0, 10_240.0)
    # weights: 1,200 / 10,240 and -200 / 10,240
    assert book.weights().tolist() == [pytest.approx(1_200 / 10_240), pytest.approx(-200 / 10_240)]


def test_leverage_without_shorts_still_refuses_a_sale_beyond_the_position() -> None:
    """max_gross > 1 alone (margin, no allow_short): cash may go negative, a sale may not exceed the shares held."""
    book = Portfolio(("A",), 100.0, margin=True)
    book.apply_fill(0, 1, 20, 10.0, 1.0)  # cash 100 - 201 = -101: allowed
    assert book.cash == pytest.approx(-101.0)
    with pytest.raises(AccountingError, match="selling 25 A but only 20 are held"):
        book.apply_fill(0, -1, 25, 10.0, 0.0)


def test_a_margin_account_pays_fees_and_dividends_from_negative_cash() -> None:
    """A fee is paid in full (no fee_owed) and a short pays its dividend, whatever the cash."""
    book = Portfolio(("A",), 100.0, allow_short=True)
    book.apply_fill(0, 1, 20, 10.0, 0.0)  # cash -100
    assert book.apply_fee("financing", 2.5) == 2.5
    assert (book.cash, dict(book.fees_owed)) == (pytest.approx(-102.5), {})
    book.apply_dividend(0, -7.0)
    assert book.cash == pytest.approx(-109.5)


def test_a_split_of_a_short_rounds_toward_zero_and_settles_the_fraction() -> None:
    """-101 shares at 3-for-2: -151 shares, -0.5 of a share paid at 49 / 1.5; average 49.50 / 1.5 = 33.00."""
    book = Portfolio(("A",), 10_000.0, allow_short=True)
    book.apply_fill(0, -1, 101, 49.5, 0.0)  # cash 14,999.50
    book.marks[0] = 49.0
    lieu = -0.5 * 49.0 / 1.5  # -16.3333: the short buys back half a new share at 32.6667
    realized = book.apply_split(0, 1.5, -101, -151, -0.5, lieu)
    # realized = lieu - fraction x new average = -16.3333 + 0.5 x 33 = 0.1667 (sold at 33, bought at 32.67)
    assert realized == pytest.approx(-16.333333333 + 16.5, abs=1e-9)
    assert (book.position("A"), float(book.average_cost[0]), float(book.marks[0])) == (
        -151, pytest.approx(33.0), pytest.approx(49.0 / 1.5))
    assert book.cash == pytest.approx(14_999.5 + lieu)
