"""Every amount a plug-in puts on the bus is checked where it enters, and a violation names the plug-in.

The plug-ins are the misbehaving classes of ``tests/eventbt/hostile_fixtures.py``, named by import path in a
scenario as a user's would be. Each case is a run on two symbols (A at 10.00, B at 20.00, 100,000 cash) that
must stop with exactly the message shown; the share counts and values in the messages are worked out by hand
in the comments. Without the checks these runs booked a rebate, filled at a negative price, ended with a
value of NaN, or failed with a bare TypeError blamed on the rebalance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from eventbt.costs.contract import commission_of, fill_price_of
from eventbt.errors import AccountingError, ContractError, HandlerError
from eventbt.handler import Handler
from eventbt.prices import PriceData
from eventbt.simulation import Simulation
from tests.properties.scripted import scripted_config

FIXTURES = "tests.eventbt.hostile_fixtures"
DATES = np.array(["2020-01-02", "2020-01-03", "2020-01-06"], dtype="datetime64[ns]")
CLOSE = np.array([[10.0, 20.0], [10.0, 20.0], [10.0, 20.0]])
HALF_IN_A = {0: {"A": 0.5}}  # 0.5 * 100,000 / 10.00 = 5,000 shares worth 50,000.00
MANUAL_BUY = [{"date": "2020-01-02", "type": "order", "symbol": "A", "side": "buy", "quantity": 7}]
LATER_SELL = [{"date": "2020-01-03", "type": "order", "symbol": "A", "side": "sell", "quantity": 7}]
AT_SIGNAL = "; while handling SignalEvent #2 at 2020-01-02T16:00:00; causal chain: SignalEvent#2 <- MarketEvent#1"
# The injected manual order is the first event published after the first bar's market event (#1).
AT_ORDER = "; while handling OrderEvent #2 at 2020-01-02T16:00:00; causal chain: OrderEvent#2"


def _run(targets: dict[int, Any], *, commission: str = "zero", slippage: str = "zero",
         events: list[dict[str, Any]] | None = None, handlers: list[str] = (),  # type: ignore[assignment]
         portfolio: dict[str, Any] | None = None) -> Simulation:
    def model(name: str) -> str:
        return name if name in ("zero",) else f"{FIXTURES}:{name}"

    tables: dict[str, Any] = {"execution": {"timing": "same_close", "commission": {"model": model(commission)},
                                            "slippage": {"model": model(slippage)}}}
    if events:
        tables["events"] = events
    if handlers:
        tables["handlers"] = [{"name": f"{FIXTURES}:{name}"} for name in handlers]
    if portfolio:
        tables["portfolio"] = {"initial_cash": 100_000.0, **portfolio}
    config = scripted_config(targets, data={"path": "prices.csv"}, **tables)
    simulation = Simulation(config, prices=PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE))
    simulation.run()
    return simulation


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("negative commission while sizing", {"targets": HALF_IN_A, "commission": "NegativeCommission"},
     "handler 'rebalance' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:NegativeCommission' "
     "returned -1.0 for 5,000 shares of 'A' worth 50,000.00; expected a finite number >= 0" + AT_SIGNAL),
    ("NaN commission while sizing", {"targets": HALF_IN_A, "commission": "NanCommission"},
     "handler 'rebalance' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:NanCommission' "
     "returned nan for 5,000 shares of 'A' worth 50,000.00; expected a finite number >= 0" + AT_SIGNAL),
    ("infinite commission while sizing", {"targets": HALF_IN_A, "commission": "InfiniteCommission"},
     "handler 'rebalance' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:InfiniteCommission' "
     "returned inf for 5,000 shares of 'A' worth 50,000.00; expected a finite number >= 0" + AT_SIGNAL),
    ("text commission while sizing", {"targets": HALF_IN_A, "commission": "TextCommission"},
     "handler 'rebalance' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:TextCommission' "
     "returned '1.00' for 5,000 shares of 'A' worth 50,000.00; expected a finite number >= 0" + AT_SIGNAL),
    ("raising commission while sizing", {"targets": HALF_IN_A, "commission": "RaisingCommission"},
     "handler 'rebalance' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:RaisingCommission' "
     "raised RuntimeError: rate table not loaded when called as commission(5000, 50000.0) for 'A'; expected "
     "commission(quantity, value) returning a finite number >= 0" + AT_SIGNAL),
    # The rebalance asks about 5,000 shares, never 7; the manual order of 7 reaches the model at the fill.
    ("negative commission at the fill", {"targets": {}, "commission": "NegativeAtTheFill", "events": MANUAL_BUY},
     "handler 'execution' raised ContractError: commission model 'tests.eventbt.hostile_fixtures:NegativeAtTheFill' "
     "returned -2.5 for 7 shares of 'A' worth 70.00; expected a finite number >= 0" + AT_ORDER),
    # Sizing a buy asks for the fill price of one share first: at 10.00.
    ("negative fill price while sizing", {"targets": HALF_IN_A, "slippage": "NegativeFill"},
     "handler 'rebalance' raised ContractError: slippage model 'tests.eventbt.hostile_fixtures:NegativeFill' "
     "returned -10.0 for a buy of 1 share of 'A' at reference price 10.0; expected a finite price > 0, at or above the "
     "reference price for a buy" + AT_SIGNAL),
    ("NaN fill price while sizing", {"targets": HALF_IN_A, "slippage": "NanFill"},
     "handler 'rebalance' raised ContractError: slippage model 'tests.eventbt.hostile_fixtures:NanFill' returned nan "
     "for a buy of 1 share of 'A' at reference price 10.0; expected a finite price > 0, at or above the reference "
     "price for a buy" + AT_SIGNAL),
    ("raising slippage while sizing", {"targets": HALF_IN_A, "slippage": "RaisingFill"},
     "handler 'rebalance' raised ContractError: slippage model 'tests.eventbt.hostile_fixtures:RaisingFill' raised "
     "ZeroDivisionError: division by zero when called as fill_price(1, 10.0, 1) for 'A'; expected fill_price(side, "
     "reference_price, quantity) returning a finite price > 0" + AT_SIGNAL),
    # 10.00 * (1 - 0.01) = 9.9 for a buy: better than the reference.
    ("improving buy at the fill", {"targets": {}, "slippage": "ImprovingFill", "events": MANUAL_BUY},
     "handler 'execution' raised ContractError: slippage model 'tests.eventbt.hostile_fixtures:ImprovingFill' "
     "returned 9.9 for a buy of 7 shares of 'A' at reference price 10.0; expected a finite price > 0, at or above the "
     "reference price for a buy" + AT_ORDER),
    # The 7 A sold on the second bar are held (bought at the first); a sale of shares not held fills nothing
    # (cut at the fill) and asks the model nothing. The manual order is OrderEvent #8.
    ("sale at zero at the fill", {"targets": HALF_IN_A, "slippage": "ZeroSellFill", "events": LATER_SELL},
     "handler 'execution' raised ContractError: slippage model 'tests.eventbt.hostile_fixtures:ZeroSellFill' "
     "returned 0.0 for a sell of 7 shares of 'A' at reference price 10.0; expected a finite price > 0, at or below the "
     "reference price for a sell; while handling OrderEvent #8 at 2020-01-03T16:00:00; causal chain: OrderEvent#8"),
    # Market #1 reaches nan_fee, whose FeeEvent is #2.
    ("NaN fee from a handler", {"targets": {}, "handlers": ["NanFee"]},
     "handler 'portfolio' raised ContractError: fee 'nan_fee' (FeeEvent #2, reason 'broken fee') has amount nan; "
     "expected a finite number (> 0 charged, < 0 credited); while handling FeeEvent #2 at 2020-01-02T16:00:00; "
     "causal chain: FeeEvent#2 <- MarketEvent#1"),
    # A fee on a symbol the data does not have was booked and logged under it; 'AA' is closest to 'A'.
    ("fee on a symbol not in the data", {"targets": {}, "handlers": ["MisspeltSymbolFee"]},
     "handler 'portfolio' raised ContractError: fee 'misspelt_fee' (FeeEvent #2, reason 'custody') has symbol 'AA' "
     "(did you mean 'A'?); expected a symbol of the data, or None for a fee on the whole account; while handling "
     "FeeEvent #2 at 2020-01-02T16:00:00; causal chain: FeeEvent#2 <- MarketEvent#1"),
    ("NaN fee from a FeeHandler", {"targets": {}, "handlers": ["NanFeeHandler"]},
     "handler 'nan_fee_handler' raised ContractError: fee handler 'nan_fee_handler' "
     "(tests.eventbt.hostile_fixtures:NanFeeHandler) computed a fee of nan for 'custody'; expected a finite number; "
     "while handling MarketEvent #1 at 2020-01-02T16:00:00; causal chain: MarketEvent#1"),
    # Bar 0 is MarketEvent #1, BarEndEvent #2, SnapshotEvent #3; bar 1's MarketEvent is #4, the flow #5.
    ("cash flow of zero", {"targets": {}, "handlers": ["ZeroCashFlow"]},
     "handler 'portfolio' raised ContractError: CashFlowEvent #5 (reason 'nothing') has amount 0.0; expected a "
     "finite number other than 0 (> 0 a deposit, < 0 a withdrawal); while handling CashFlowEvent #5 at "
     "2020-01-03T16:00:00; causal chain: CashFlowEvent#5"),
    ("fill at NaN from a handler", {"targets": {}, "handlers": ["NanFillPublisher"]},
     "handler 'portfolio' raised ContractError: FillEvent #2 ('A') has price nan; expected a finite number > 0; "
     "while handling FillEvent #2 at 2020-01-02T16:00:00; causal chain: FillEvent#2"),  # the fill names no cause
    ("signal with a NaN weight from a handler", {"targets": {}, "handlers": ["NanSignal"]},
     "handler 'portfolio' raised ContractError: SignalEvent #2 (strategy 'mine') has weight nan for 'B'; expected a "
     "finite number >= 0 for a symbol of the data; while handling SignalEvent #2 at 2020-01-02T16:00:00; causal "
     "chain: SignalEvent#2 <- MarketEvent#1"),
    ("order for 2.5 shares from a handler", {"targets": {}, "handlers": ["FractionalOrder"]},
     "handler 'execution' raised ContractError: OrderEvent #2 (reason 'rebalance') asks for 2.5 shares of 'A'; "
     "expected a whole number > 0 (an int)" + AT_ORDER),
    # the run's log is written with the order's side as given (it failed rendering it, masking this error)
    ("order for a numpy count of shares", {"targets": {}, "handlers": ["NumpyQuantityOrder"]},
     "handler 'execution' raised ContractError: OrderEvent #2 (reason 'rebalance') asks for np.int64(3) shares, "
     "typed int64; expected a whole number > 0 as a Python int (int(quantity))" + AT_ORDER),
    ("order with an int for its side", {"targets": {}, "handlers": ["IntSideOrder"]},
     "handler 'execution' raised ContractError: OrderEvent #2 (reason 'rebalance') has side 1 (int); expected "
     "eventbt.events.Side.BUY or Side.SELL" + AT_ORDER),
    ("order for a symbol not in the data", {"targets": {}, "handlers": ["UnknownSymbolOrder"]},
     "handler 'execution' raised ContractError: OrderEvent #2 (reason 'rebalance') is for symbol 'TSLA', which is "
     "not in the data" + AT_ORDER),
]


@pytest.mark.parametrize(("options", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_an_amount_out_of_contract_stops_the_run_naming_the_plugin(options: dict[str, Any], message: str) -> None:
    """The run stops with a HandlerError whose cause is a ContractError, with exactly the message shown."""
    with pytest.raises(HandlerError) as caught:
        _run(**options)
    assert str(caught.value) == message
    assert isinstance(caught.value.__cause__, ContractError)


def test_a_fill_the_book_cannot_take_names_its_day() -> None:
    """A handler's fill selling 5 A, which is not held, stops the run with the book's AccountingError, which names
    the fill's day (the portfolio handler passes the fill's time; the message lacked the date in a run)."""
    with pytest.raises(HandlerError) as caught:
        _run({}, handlers=["UnheldSalePublisher"])
    assert str(caught.value) == ("handler 'portfolio' raised AccountingError: selling 5 A on 2020-01-02 but only 0 "
                                 "are held; while handling FillEvent #2 at 2020-01-02T16:00:00; causal chain: "
                                 "FillEvent#2")
    assert isinstance(caught.value.__cause__, AccountingError) and caught.value.__cause__.date == "2020-01-02"


def test_two_handlers_of_one_name_are_refused_before_the_run() -> None:
    """NanFee and its subclass SecondNanFee are both 'nan_fee': the audit log's deliveries and the costs by model
    could not tell them apart (two ticket fees of 2.00 and 3.00 showed as one line of 5.00 a fill). The second
    is refused, naming its entry and the first's, before any bar runs; so is an extra handler given from Python,
    and eventbt validate lists the problem."""
    from eventbt.errors import ScenarioError
    from eventbt.scenario.plugins import repeated_name_problem

    with pytest.raises(ScenarioError) as caught:
        _run({}, handlers=["NanFee", "SecondNanFee"])
    assert str(caught.value) == (
        "[handlers[1]] handler 'nan_fee' (tests.eventbt.hostile_fixtures:SecondNanFee) has the name of handlers[0]'s "
        "handler, and the audit log and the costs would show both under it; expected a name of its own, e.g. a "
        "subclass: class SecondSecondNanFee(SecondNanFee): name = 'nan_fee_2'")
    assert (caught.value.table, caught.value.key) == ("handlers[1]", "name")
    from tests.eventbt.hostile_fixtures import NanFee, SecondNanFee
    problem = repeated_name_problem([("handlers[0]", NanFee()), ("extra_handlers[0]", SecondNanFee())])
    assert problem is not None and problem[0] == "extra_handlers[0]"
    # A class that sets no name has the base class's, which the message points out.
    unnamed = type("Unnamed", (NanFee,), {"name": Handler.name})
    problem = repeated_name_problem([("handlers[0]", unnamed()), ("handlers[1]", unnamed())])
    assert problem is not None and "(the base class's default: the class sets no name of its own)" in problem[1]


def test_the_contract_error_keeps_the_plugin_it_names() -> None:
    """The ContractError behind a NaN fee keeps the fee's name as ``plugin``, so callers need not parse text."""
    with pytest.raises(HandlerError) as caught:
        _run({}, handlers=["NanFee"])
    cause = caught.value.__cause__
    assert isinstance(cause, ContractError) and cause.plugin == "nan_fee"


@pytest.mark.parametrize(("value", "kept"), [
    (1.5, 1.5), (0, 0.0), (np.float64(2.25), 2.25), (np.float32(0.5), 0.5),
])
def test_a_number_in_contract_passes_unchanged_or_as_a_float(value: Any, kept: Any) -> None:
    """A float in range is passed on as it is; another real number (an int, a numpy float32 or float64) as the
    plain float it equals: a numpy float64 in the book's cash stopped the run at its audit line (orjson writes
    no numpy scalar there)."""
    class Model:
        def commission(self, quantity: int, amount: float) -> Any:
            return value

        def fill_price(self, side: int, reference_price: float, quantity: int) -> Any:
            return reference_price + value

    charge = commission_of(Model(), 1, 10.0)
    assert charge == kept and type(charge) is type(kept)
    fill = fill_price_of(Model(), 1, 10.0, 1)
    assert fill == 10.0 + float(kept) and type(fill) is float


def test_numpy_numbers_from_a_cost_model_and_a_fee_handler_are_booked_as_floats() -> None:
    """A commission written with np.maximum, a fee of np.float64(0.5) and a deposit of np.float64(250.0): the run
    completes and its log is written (the book's cash became a numpy float64 and the audit line of the snapshot
    failed at the end). Half in A at 10.00 (the scripted prices): 5,000 shares, 50,000.00, commission
    max(1, 50) = 50.00."""
    simulation = _run(HALF_IN_A, commission="NumpyCommission", handlers=["NumpyFee", "NumpyDeposit"])
    assert simulation.audit.digest
    book = simulation.portfolio
    assert type(book.cash) is float
    [fill] = simulation.history.trades
    assert (fill.quantity, fill.commission, type(fill.commission)) == (5_000, 50.0, float)
    assert simulation.history.fees == {"numpy_fee": 0.5 * (len(DATES) - 1)}
    assert simulation.history.flow[1] == 250.0 and type(simulation.history.flow[1]) is float  # the deposit's


@pytest.mark.parametrize("value", [True, None, math.nan, -0.01, math.inf, "0"])
def test_a_commission_out_of_contract_is_refused(value: Any) -> None:
    """A bool, None, NaN, a negative number, infinity or text is refused, naming the value."""
    class Model:
        def commission(self, quantity: int, amount: float) -> Any:
            return value

    with pytest.raises(ContractError, match=f"returned {value!r} for 1 share worth 10.00"):
        commission_of(Model(), 1, 10.0)


@pytest.mark.parametrize(("targets", "sales", "filled", "cancelled"), [
    ({}, LATER_SELL, [], 7),  # nothing held: nothing sold, the 7 cancelled
    # 0.0005 of 100,000 at 10.00: 5 A bought at the first bar; the sale of 7 on the second sells those 5.
    ({0: {"A": 0.0005}}, LATER_SELL, [5], 2),
    # Two sales of 5 on the second bar: the first sells the 5 held; the second finds them sold by a fill the
    # book has not booked yet, so it sells none (without counting that fill it stopped the run).
    ({0: {"A": 0.0005}}, [{**LATER_SELL[0], "quantity": 5}] * 2, [5], 5),
])
@pytest.mark.parametrize(("portfolio", "why"), [
    (None, "a cash account does not sell short"),
    ({"max_gross": 1.5}, "[portfolio] allow_short is off"),  # a margin account that borrows cash, not shares
])
def test_a_sale_of_more_shares_than_held_is_cut_at_the_fill(targets: dict[int, Any], sales: list[dict[str, Any]],
                                                            filled: list[int], cancelled: int,
                                                            portfolio: dict[str, Any] | None, why: str) -> None:
    """An account that does not sell short (a cash account, or a margin account without allow_short): a sale
    (here a manual order; a stop-loss of your own on a rebalance bar is the same) of more shares than are held is
    cut to those held, the rest cancelled with the reason. It stopped the run with the book's AccountingError
    ('selling 7 A but only 0 are held'), and in a margin account still did before it was cut there too."""
    from eventbt.events import CancelEvent, FillEvent

    simulation = _run(targets, events=sales, portfolio=portfolio)
    sells = [e for e in simulation.bus.events.values() if isinstance(e, FillEvent) and e.side < 0]
    assert [e.quantity for e in sells] == filled
    [cancel] = [e for e in simulation.bus.events.values() if isinstance(e, CancelEvent)]
    assert (cancel.quantity, cancel.reason) == (cancelled, f"not enough shares held at the fill ({why})")
    assert int(simulation.portfolio.positions[0]) == 0


@pytest.mark.parametrize(("subscribes", "shown"), [
    (("FillEvent",), "('FillEvent',)"),  # a name rather than the class
    ("FillEvent", "FillEvent"),  # not a tuple (a class alone reads the same)
])
def test_a_python_handler_subscribing_to_something_else_than_event_classes_is_named(subscribes: Any,
                                                                                    shown: str) -> None:
    """extra_handlers= from Python are checked as a scenario's [[handlers]] are: `subscribes = ("FillEvent",)`
    raised AttributeError: 'str' object has no attribute '__name__' from inside the bus, naming nobody."""
    from eventbt.events import FillEvent
    from eventbt.handler import Handler

    class Listener(Handler):
        name = "listener"

        def on_fill(self, event: FillEvent) -> None:
            return None

    listener = Listener()
    listener.subscribes = FillEvent if subscribes == "FillEvent" else subscribes  # type: ignore[assignment]
    config = scripted_config(HALF_IN_A, data={"path": "prices.csv"})
    with pytest.raises(ContractError) as caught:
        Simulation(config, prices=PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE), extra_handlers=[listener])
    assert str(caught.value).startswith(f"extra_handlers: handler 'listener' (tests.handlers.test_plugin_contract:"
                                        f"test_a_python_handler_subscribing_to_something_else_than_event_classes_is_"
                                        f"named.<locals>.Listener) has subscribes = {shown}; expected a tuple of "
                                        "event classes")
    assert caught.value.plugin == "listener"
