"""The fill rules of limit and stop orders on a daily bar, and the checks of an order's type fields, by hand."""

from __future__ import annotations

import math

import pytest

from eventbt.events import OrderEvent, Side
from eventbt.orders import at_placement, limit_price_for, on_bar, order_problem


def order(side: Side, kind: str, price: float, **fields: object) -> OrderEvent:
    """An order of ``kind`` at ``price`` (its limit or stop), placed at bar 0."""
    level = {"limit_price": price} if kind == "limit" else {"stop_price": price}
    return OrderEvent(id=7, time_ns=0, bar=0, symbol="KO", side=side, quantity=100, reference_price=37.6,
                      reason="manual", order_type=kind, **level, **fields)  # type: ignore[arg-type]


# (side, type, level, open, high, low, reference price or None). Each fills when the low (limit buy, stop sell) or
# the high (limit sell, stop buy) reaches the level, at the price the bar gave first.
BARS = [
    # limit buy 37.20 on O 37.45 H 37.60 L 37.11: the low reached it, the open was above: min(37.45, 37.20) = 37.20
    (Side.BUY, "limit", 37.20, 37.45, 37.60, 37.11, 37.20),
    # limit buy 37.50 on a bar opening at 37.45 (below the limit): min(37.45, 37.50) = 37.45, the open
    (Side.BUY, "limit", 37.50, 37.45, 37.60, 37.11, 37.45),
    # limit buy 37.00: the low 37.11 > 37.00, no fill
    (Side.BUY, "limit", 37.00, 37.45, 37.60, 37.11, None),
    # limit buy exactly at the low: 37.11 <= 37.11 fills, at min(37.45, 37.11) = 37.11
    (Side.BUY, "limit", 37.11, 37.45, 37.60, 37.11, 37.11),
    # limit sell 37.55: high 37.60 >= 37.55, max(37.45, 37.55) = 37.55
    (Side.SELL, "limit", 37.55, 37.45, 37.60, 37.11, 37.55),
    # limit sell 37.30 below the open 37.45: max(37.45, 37.30) = 37.45, the open
    (Side.SELL, "limit", 37.30, 37.45, 37.60, 37.11, 37.45),
    # limit sell 37.70: the high 37.60 < 37.70, no fill
    (Side.SELL, "limit", 37.70, 37.45, 37.60, 37.11, None),
    # stop buy 37.50: high 37.60 >= 37.50, max(37.45, 37.50) = 37.50
    (Side.BUY, "stop", 37.50, 37.45, 37.60, 37.11, 37.50),
    # stop buy 37.50 on a bar opening above it at 37.56 (a gap): max(37.56, 37.50) = 37.56, worse than the stop
    (Side.BUY, "stop", 37.50, 37.56, 38.16, 37.56, 37.56),
    # stop buy 37.61: the high 37.60 < 37.61, no fill
    (Side.BUY, "stop", 37.61, 37.45, 37.60, 37.11, None),
    # stop sell 37.20: low 37.05 <= 37.20, min(37.74, 37.20) = 37.20
    (Side.SELL, "stop", 37.20, 37.74, 37.74, 37.05, 37.20),
    # stop sell 37.80 on a bar opening below it at 37.74 (a gap down): min(37.74, 37.80) = 37.74
    (Side.SELL, "stop", 37.80, 37.74, 37.74, 37.05, 37.74),
    # stop sell 37.00: the low 37.05 > 37.00, no fill
    (Side.SELL, "stop", 37.00, 37.74, 37.74, 37.05, None),
]


@pytest.mark.parametrize(("side", "kind", "level", "open_", "high", "low", "expected"), BARS)
def test_the_fill_rules_on_a_bar(side: Side, kind: str, level: float, open_: float, high: float, low: float,
                                 expected: float | None) -> None:
    """The reference price of the table in docs/orders.md, or no fill, for each side and type."""
    check = on_bar(order(side, kind, level), open_, high, low, bar=1, date="2013-01-03")
    assert check.price == expected
    assert (check.bar, check.date) == (1, "2013-01-03")


@pytest.mark.parametrize(("side", "kind", "level", "expected", "why"), [
    (Side.BUY, "limit", 37.2, 37.2, "low 37.11 <= limit 37.2 on 2013-01-03: filled at min(open 37.45, limit 37.2) "
     "= 37.2"),
    (Side.BUY, "limit", 37.0, None, "low 37.11 > limit 37.0: not reached on 2013-01-03"),
    (Side.SELL, "limit", 37.7, None, "high 37.6 < limit 37.7: not reached on 2013-01-03"),
    (Side.BUY, "stop", 37.5, 37.5, "high 37.6 >= stop 37.5 on 2013-01-03: filled at max(open 37.45, stop 37.5) = "
     "37.5"),
    (Side.SELL, "stop", 37.0, None, "low 37.11 > stop 37.0: not reached on 2013-01-03"),
])
def test_the_check_says_why_in_the_bars_own_numbers(side: Side, kind: str, level: float, expected: float | None,
                                                     why: str) -> None:
    """The words name the low or high against the limit or stop, and the price taken."""
    check = on_bar(order(side, kind, level), 37.45, 37.60, 37.11, bar=1, date="2013-01-03")
    assert (check.price, check.why) == (expected, why)


def test_prices_are_written_as_python_writes_them() -> None:
    """A high of 37.599998 is not rounded into reaching a stop of 37.6: the words show 37.599998."""
    check = on_bar(order(Side.BUY, "stop", 37.6), 37.45, 37.599998, 37.11, bar=1, date="2013-01-03")
    assert check.price is None
    assert check.why == "high 37.599998 < stop 37.6: not reached on 2013-01-03"


def test_a_bar_without_the_prices_a_rule_reads_cannot_fill() -> None:
    """A NaN low (a limit buy reads the open and the low) is no fill, and the words say what was missing."""
    check = on_bar(order(Side.BUY, "limit", 37.2), 37.45, 37.6, math.nan, bar=1, date="2013-01-03")
    assert check.price is None
    assert check.why == "no low for KO on 2013-01-03"
    check = on_bar(order(Side.SELL, "limit", 37.2), math.nan, math.nan, 37.1, bar=1, date="2013-01-03")
    assert check.why == "no open and high for KO on 2013-01-03"


@pytest.mark.parametrize(("side", "kind", "level", "close", "expected"), [
    (Side.BUY, "limit", 37.2, 37.6, None),   # 37.6 > 37.2: waits
    (Side.BUY, "limit", 38.0, 37.6, 37.6),   # 37.6 <= 38.0: marketable, fills at the close
    (Side.SELL, "limit", 37.0, 37.6, 37.6),  # 37.6 >= 37.0
    (Side.SELL, "limit", 38.0, 37.6, None),
    (Side.BUY, "stop", 37.5, 37.6, 37.6),    # 37.6 >= 37.5: the stop is already reached
    (Side.BUY, "stop", 38.0, 37.6, None),
    (Side.SELL, "stop", 38.0, 37.6, 37.6),   # 37.6 <= 38.0
    (Side.SELL, "stop", 37.0, 37.6, None),
    (Side.BUY, "limit", 37.6, 37.6, 37.6),   # at the limit exactly: fills
])
def test_the_check_at_placement_against_the_close(side: Side, kind: str, level: float, close: float,
                                                  expected: float | None) -> None:
    """With same_close an order whose level the close already satisfies fills at the close, else it waits."""
    assert at_placement(order(side, kind, level), close, bar=0, date="2013-01-02").price == expected


def test_the_rebalance_limit_price_is_below_a_buy_and_above_a_sale() -> None:
    """100 bps from 78.432854: a buy at 78.432854 x 0.99 = 77.64852546, a sale at x 1.01 = 79.21718254."""
    assert limit_price_for(1, 78.432854, 100.0) == pytest.approx(77.64852546, abs=1e-12)
    assert limit_price_for(-1, 78.432854, 100.0) == pytest.approx(79.21718254, abs=1e-12)
    assert limit_price_for(1, 50.0, 0.0) == 50.0


@pytest.mark.parametrize(("fields", "problem"), [
    ({"order_type": "limit_on_close"},
     "has order_type 'limit_on_close'; expected one of 'market', 'market_on_open', 'market_on_close', 'limit', "
     "'stop'"),
    ({"order_type": "limit"}, "is a limit order with limit_price None; expected a finite number > 0"),
    ({"order_type": "limit", "limit_price": math.nan}, "is a limit order with limit_price nan; expected a finite "
     "number > 0"),
    ({"order_type": "stop", "stop_price": -1.0}, "is a stop order with stop_price -1.0; expected a finite number > 0"),
    ({"order_type": "stop", "stop_price": 5.0, "limit_price": 4.0},
     "is a stop order with a limit_price (4.0); expected limit_price only on a limit order"),
    ({"limit_price": 4.0}, "is a market order with a limit_price (4.0); expected limit_price only on a limit order"),
    ({"order_type": "limit", "limit_price": 5.0, "time_in_force": "ioc"},
     "has time_in_force 'ioc'; expected one of 'day', 'gtc'"),
    ({"order_type": "market_on_open", "time_in_force": "gtc"},
     "is a market_on_open order with time_in_force 'gtc'; expected time_in_force only on a limit or stop order"),
    ({"expire_after": 2}, "is a market order with expire_after 2; expected expire_after only on a limit or stop "
     "order"),
    ({"order_type": "limit", "limit_price": 5.0, "time_in_force": "gtc", "expire_after": 0},
     "has expire_after 0; expected a whole number of bars >= 1 (an int)"),
    ({"order_type": "limit", "limit_price": 5.0, "expire_after": 3},
     "has expire_after 3 with time_in_force 'day'; expected expire_after only with 'gtc'"),
])
def test_an_orders_type_fields_are_checked(fields: dict[str, object], problem: str) -> None:
    """Each mistake in an order's type fields, in the words that follow 'OrderEvent #N (reason ...)'."""
    bad = OrderEvent(id=7, time_ns=0, bar=0, symbol="KO", side=Side.BUY, quantity=100, reference_price=37.6,
                     **fields)  # type: ignore[arg-type]
    assert order_problem(bad) == problem


def test_well_formed_orders_have_no_problem() -> None:
    """A market order, a day limit, a gtc stop with and without expire_after."""
    assert order_problem(OrderEvent(id=1, time_ns=0, bar=0, symbol="A", side=Side.BUY, quantity=1,
                                    reference_price=1.0)) is None
    assert order_problem(order(Side.BUY, "limit", 37.2)) is None
    assert order_problem(order(Side.SELL, "stop", 37.2, time_in_force="gtc")) is None
    assert order_problem(order(Side.SELL, "stop", 37.2, time_in_force="gtc", expire_after=5)) is None


def test_a_market_orders_audit_line_is_as_it_always_was() -> None:
    """A market order records the seven fields it always did; a limit or stop order adds its type fields."""
    market = OrderEvent(id=1, time_ns=0, bar=3, symbol="A", side=Side.SELL, quantity=5, reference_price=9.5)
    assert list(market.audit_fields()) == ["bar", "symbol", "side", "quantity", "reference_price", "reason",
                                           "target_weight"]
    limit = order(Side.BUY, "limit", 37.2, time_in_force="gtc", expire_after=4).audit_fields()
    assert {key: limit[key] for key in ("order_type", "limit_price", "time_in_force", "expire_after")} == {
        "order_type": "limit", "limit_price": 37.2, "time_in_force": "gtc", "expire_after": 4}
    stop = order(Side.SELL, "stop", 37.0).audit_fields()
    assert "limit_price" not in stop and "expire_after" not in stop and stop["stop_price"] == 37.0
    on_open = OrderEvent(id=1, time_ns=0, bar=3, symbol="A", side=Side.BUY, quantity=5, reference_price=9.5,
                         order_type="market_on_open").audit_fields()
    assert set(on_open) - set(market.audit_fields()) == {"order_type"}
