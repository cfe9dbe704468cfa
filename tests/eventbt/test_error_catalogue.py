"""docs/errors.md, case by case: each bad input or fault gives exactly the documented error or behaviour.

Every message in this file must also appear verbatim in docs/errors.md (checked below), so the catalogue
cannot drift from what eventbt says. The price-file cases are the table of tests/eventbt/test_data_validation.py.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from eventbt.errors import (
    AccountingError,
    ContractError,
    DataError,
    EventbtError,
    HandlerError,
    RunInterrupted,
    ScenarioError,
)
from eventbt.events import BarEndEvent, MarketEvent
from eventbt.handler import Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import CorporateAction, PriceData
from eventbt.replays.verify import verify_run
from eventbt.scenario import ScenarioConfig
from eventbt.scenario.plugins import IMPORT_HINT
from eventbt.simulation import Simulation
from tests.eventbt.test_data_validation import CASES as LOAD_CASES
from tests.properties.scripted import scripted_config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
NAN = np.nan
DATES = np.array(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], dtype="datetime64[ns]")
CLOSE = np.array([[10, 20], [10, NAN], [10, 30], [10, NAN]], dtype=float)  # B: a gap, then it ends


def _run(targets: dict[int, Any], prices: PriceData | None = None, extra: tuple[Handler, ...] = (),
         **tables: Any) -> Simulation:
    prices = prices or PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE)
    config = scripted_config(targets, **{"data": {"path": "prices.csv"}, **tables})
    simulation = Simulation(config, prices=prices, extra_handlers=extra)
    simulation.strategy.strategy_name = "my_strategy"
    simulation.run()
    return simulation


def _split_beyond_max_shares() -> None:
    """A book holding 10 A asked (by a corporate-actions handler of one's own) to split them into 10**16 shares."""
    book = Portfolio(("A",), 100.0)
    book.apply_fill(0, 1, 10, 1.0, 0.0, date="2020-01-02")
    book.apply_split(0, 1e15, 10, 10**16, 0.0, 0.0, date="2020-01-03T09:00:00")


class _Raises(Handler):
    name = "faulty"
    subscribes = (MarketEvent,)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def on_market(self, event: MarketEvent) -> None:
        raise self.error


class _Finishing(Handler):
    """A handler whose ``finish()`` returns ``out`` (or raises it, when it is an exception)."""

    name = "closing"
    subscribes = (MarketEvent,)

    def __init__(self, out: object) -> None:
        self.out = out

    def on_market(self, event: MarketEvent) -> None:
        return None

    def finish(self) -> Any:
        if isinstance(self.out, Exception):
            raise self.out
        return self.out


# A user's module of plug-ins that break their contract, as docs/errors.md names them (``my_costs:...``).
MY_COSTS = """
import math
from eventbt.events import CashFlowEvent, FeeEvent, FillEvent, MarketEvent, OrderEvent, Side, SignalEvent
from eventbt.handler import Handler
from handlers.fees import FeeHandler

class Rebate:
    def commission(self, quantity, value):
        return -1.0

class Broken:
    def commission(self, quantity, value):
        raise RuntimeError("rate table not loaded")

class OneArgument:
    def commission(self, order):
        return 0.0

class Better:
    def fill_price(self, side, reference_price, quantity):
        return reference_price * (1 - 0.01 * side)

class NanFee(Handler):
    name = "nan_fee"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        return [FeeEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                         model=self.name, amount=math.nan, reason="broken fee")]

class Custody(FeeHandler):
    name = "custody"
    def on_market(self, event):
        fee = self._charge(event, math.nan, reason="custody", cause_id=event.id)
        return [fee] if fee is not None else []

class ZeroFlow(Handler):
    name = "zero_flow"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        if event.bar == 1:
            return [CashFlowEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=1, amount=0.0,
                                  reason="nothing")]

class SaleRebate:
    def commission(self, quantity, value, order):
        return -1.0 if order.side < 0 else 0.0

class LimitWithoutPrice(Handler):
    name = "limit_without_price"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        if event.bar == 0:
            return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="A",
                               side=Side.BUY, quantity=10, reference_price=10.0, order_type="limit")]

class HalfShare(Handler):
    name = "half_share"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        if event.bar == 0:
            return [OrderEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, symbol="A",
                               side=Side.BUY, quantity=2.5, reference_price=10.0)]

class NanFill(Handler):
    name = "nan_fill"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        if event.bar == 0:
            return [FillEvent(id=self.context.next_id(), time_ns=event.time_ns, bar=0, order_id=0, symbol="A",
                              side=Side.BUY, quantity=10, price=math.nan, reference_price=10.0, commission=0.0,
                              slippage=0.0)]

class Misspelt(Handler):
    name = "misspelt"
    subscribes = (FillEvent,)
    def on_fills(self, event):
        return None

class OwnSignal(Handler):
    name = "own_signal"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        if event.bar == 0:
            return [SignalEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=0,
                                strategy="mine", weights={"A": 0.5, "B": math.nan})]

class Impostor(Handler):
    name = "portfolio"
    subscribes = (MarketEvent,)
    def on_market(self, event):
        return None

class NeedsSpy(Handler):
    name = "needs_spy"
    subscribes = (MarketEvent,)
    def bind(self, context):
        super().bind(context)
        self.spy = context.symbol_index["SPY"]
    def on_market(self, event):
        return None

class NoView:
    def update(self):
        return None
    def target_weights(self, view):
        return None
"""


@pytest.fixture(autouse=True)
def my_costs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``my_costs``, importable by name for the duration of each test."""
    import sys
    import types

    module = types.ModuleType("my_costs")
    exec(compile(MY_COSTS, "my_costs.py", "exec"), module.__dict__)  # a user's file, in memory
    monkeypatch.setitem(sys.modules, "my_costs", module)


def _costs(**models: str) -> dict[str, Any]:
    return {"execution": {"timing": "same_close", **{kind: {"model": name} for kind, name in models.items()}}}


def _handler(name: str, targets: dict[int, Any] | None = None) -> Simulation:
    return _run(targets or {}, handlers=[{"name": f"my_costs:{name}"}])


def _withdraw(amount: float, day: str, policy: str, targets: dict[int, Any], *, timing: str = "same_close",
              opens: np.ndarray | None = None) -> Simulation:
    prices = PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE, open=opens)
    return _run(targets, prices, portfolio={"initial_cash": 100_000.0, "withdrawal": policy},
                execution={"timing": timing},
                events=[{"date": day, "type": "withdrawal", "amount": amount, "reason": "too much"}])


def _from_file(**tables: Any) -> Simulation:
    """A run of a scenario read from a file (``scenario.toml``; its data given in memory)."""
    config = scripted_config({}, data={"path": "prices.csv"}, **tables)
    config = ScenarioConfig.from_dict(config.to_dict(), source="scenario.toml")
    return Simulation(config, prices=PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE))


# Opens for next_open runs: A at 10.00, except no open for A at the third bar (2020-01-06).
OPENS = np.array([[10, 20], [10, 20], [NAN, 30], [10, 30]], dtype=float)


class _Levered(Handler):
    """Publishes its own 130/30 signal at the first bar (the portfolio handler checks it against the limits)."""

    name = "levered"
    subscribes = (MarketEvent,)

    def on_market(self, event: MarketEvent) -> list[Any] | None:
        from eventbt.events import SignalEvent

        if event.bar:
            return None
        return [SignalEvent(id=self.context.next_id(), time_ns=event.time_ns, cause_id=event.id, bar=event.bar,
                            strategy="mine", weights={"A": 1.3, "B": -0.3})]


def _margin(**portfolio: Any) -> ScenarioConfig:
    """A scenario file's config (``scenarios/x.toml``) with these ``[portfolio]`` keys."""
    raw = {"data": {"path": "prices.csv"}, "strategy": {"name": "static_weights"},
           "portfolio": {"initial_cash": 10_000.0, **portfolio}}
    return ScenarioConfig.from_dict(raw, source="scenarios/x.toml")


def _static(weights: dict[str, float], symbols: tuple[str, ...] = ()) -> Simulation:
    """A ``static_weights`` scenario (``scenarios/x.toml``) on AAPL and IBM (``[data] symbols`` when given), built
    (its data checks are made then, before any bar)."""
    prices = PriceData(dates=DATES, symbols=("AAPL", "IBM"), close=np.full((len(DATES), 2), 10.0))
    raw = {"data": {"path": "prices.csv", **({"symbols": list(symbols)} if symbols else {})},
           "strategy": {"name": "static_weights", "params": {"weights": weights}}}
    return Simulation(ScenarioConfig.from_dict(raw, source="scenarios/x.toml"), prices=prices)


def _left_out_symbol() -> None:
    """A target on C, a symbol of prices.csv (A, B, C) that [data] symbols = ["A", "B"] leaves out."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "prices.csv").write_text("date,A,B,C\n2020-01-02,10,20,30\n2020-01-03,10,20,30\n")
        config = scripted_config({0: {"C": 0.5}}, data={"path": "prices.csv", "symbols": ["A", "B"]})
        simulation = Simulation(attrs.evolve(config, base_dir=Path(folder)))
        simulation.strategy.strategy_name = "my_strategy"
        simulation.run()


def _margin_call(call: str) -> Simulation:
    """2.5 x 10,000 of A at 10.00 (cash -15,000); A at 7.60 on 2020-01-03: equity 4,000, gross 19,000, 21.05%."""
    prices = PriceData(dates=DATES[:3], symbols=("A",), close=np.array([[10.0], [7.6], [7.6]]))
    return _run({0: {"A": 2.5}}, prices, portfolio={"initial_cash": 10_000.0, "max_gross": 2.5,
                                                    "maintenance_margin": 0.25, "margin_call": call})


def _cause(error: BaseException) -> BaseException:
    return error.__cause__ if isinstance(error, HandlerError) and error.__cause__ is not None else error


SIGNAL = "strategy 'my_strategy' on 2020-01-02: "
# id, what to do, the error class eventbt raises (the cause, for errors raised inside a handler), message
RAISING: list[tuple[str, Callable[[], object], type[BaseException], str]] = [
    ("negative weight", lambda: _run({0: {"A": -0.1}}), HandlerError,
     SIGNAL + "weight for 'A' is -0.1; expected a finite number >= 0"),
    ("NaN weight", lambda: _run({0: {"A": NAN}}), HandlerError,
     SIGNAL + "weight for 'A' is nan; expected a finite number >= 0"),
    ("weight not a number", lambda: _run({0: {"A": "half"}}), HandlerError,
     SIGNAL + "weight for 'A' is 'half', not a number"),
    ("weight a bool", lambda: _run({0: {"A": True}}), HandlerError, SIGNAL + "weight for 'A' is True, not a number"),
    ("weights above 1", lambda: _run({0: {"A": 0.7, "B": 0.4}}), HandlerError,
     SIGNAL + "weights sum to 1.1; expected at most 1 (the rest is cash)"),
    ("weights too large to add up", lambda: _run({0: {"A": 1e308, "B": 1e308}}), HandlerError,
     SIGNAL + "weights sum to inf; expected at most 1 (the rest is cash)"),
    ("symbol with no data", lambda: _run({0: {"TSLA": 0.1}}), HandlerError,
     SIGNAL + "target weight for 'TSLA', a symbol with no data"),
    ("symbol with no data, in another case", lambda: _run({0: {"b": 0.1}}), HandlerError,
     SIGNAL + "target weight for 'b', a symbol with no data (did you mean 'B'?)"),
    ("symbol of the data left out by [data] symbols", _left_out_symbol, HandlerError,
     SIGNAL + "target weight for 'C', which [data] symbols leaves out: add 'C' to [data] symbols"),
    ("static weights naming a symbol not in the data", lambda: _static({"AAPL": 0.5, "IBMX": 0.3}), ScenarioError,
     "scenarios/x.toml: [strategy.params] strategy 'static_weights' names 'IBMX', which is not a symbol of the data "
     "(prices.csv) (did you mean 'IBM'?)"),
    ("static weights naming a symbol [data] symbols leaves out",
     lambda: _static({"AAPL": 0.5, "MSFT": 0.3}, symbols=("AAPL", "IBM")), ScenarioError,
     "scenarios/x.toml: [strategy.params] strategy 'static_weights' names 'MSFT', which [data] symbols leaves out: "
     "add 'MSFT' to [data] symbols, or take it out of the strategy's weights"),
    ("targets not a mapping", lambda: _run({0: [["A", 0.5]]}), HandlerError,
     SIGNAL + "target weights must be a mapping of symbol to weight, got list"),
    ("targets a pandas Series",
     lambda: _run({}, strategy={"name": "tests.handlers.strategy_fixtures:Returns", "params": {"case": "series"}}),
     HandlerError,
     SIGNAL + "target weights must be a mapping of symbol to weight, got Series (return series.to_dict())"),
    ("interior gap under missing = error", lambda: _run({}, data={"path": "prices.csv", "missing": "error"}),
     DataError, "prices.csv: close for 'B' is missing on 2020-01-03 (1 bars missing inside its series); "
     "expected no gap, or [data] missing = 'ffill'"),
    ("delisting under delisting = error",
     lambda: _run({0: {"B": 0.5}}, data={"path": "prices.csv", "delisting": "error"}), HandlerError,
     "prices.csv: prices for 'B' end on 2020-01-06 while 2500 shares are held; expected prices to the end of "
     "the data, or [data] delisting = 'liquidate' to sell at the last price"),
    ("handler error", lambda: _run({}, extra=(_Raises(ZeroDivisionError("division by zero")),)), HandlerError,
     "handler 'faulty' raised ZeroDivisionError: division by zero; while handling MarketEvent #1 at "
     "2020-01-02T16:00:00; causal chain: MarketEvent#1"),
    ("strategy raises", lambda: _run({}, fail_at=[0]), HandlerError,
     "handler 'strategy' raised SignalError: strategy 'my_strategy' on 2020-01-02: target_weights(view) raised "
     "ValueError: scripted failure at bar 0 (eventbt run --debug shows where); while handling MarketEvent #1 at "
     "2020-01-02T16:00:00; causal chain: MarketEvent#1"),
    ("finish returns one event", lambda: _run({}, extra=(_Finishing(BarEndEvent(id=999, time_ns=0, bar=0)),)),
     HandlerError, "handler 'closing': finish() returned one BarEndEvent (#999); finish() returns a list of events "
     "or None"),
    ("finish raises", lambda: _run({}, extra=(_Finishing(KeyError("fx")),)), HandlerError,
     "handler 'closing' raised KeyError: 'fx' in finish(), when the data had ended"),
    ("interrupted", lambda: _run({}, extra=(_Raises(KeyboardInterrupt()),)), RunInterrupted,
     "run interrupted; results up to the interruption are incomplete"),
    ("buy beyond cash", lambda: Portfolio(("A",), 100.0).apply_fill(0, 1, 20, 10.0, 1.0, date="2020-01-02"),
     AccountingError, "buying 20 A at 10 with commission 1.00 on 2020-01-02 needs 201.00 but cash is 100.00"),
    # 0.5 of 1e13 at A's 1e-07 a share: 5e19 shares, beyond the 2**53 a float64 (and the book) holds exactly.
    ("price too small for the value", lambda: _run({0: {"A": 0.5}}, PriceData(dates=DATES, symbols=("A", "B"),
                                                                           close=CLOSE * [1e-8, 1.0]),
                                                 portfolio={"initial_cash": 1e13}), HandlerError,
     "buying 50,000,000,000,000,000,000 shares of 'A' at 1e-07: more than the 9,007,199,254,740,992 shares a "
     "position holds exactly; the price is too small for the portfolio's value"),
    ("sell more than held", lambda: Portfolio(("A",), 100.0).apply_fill(0, -1, 5, 10.0, 0.0, date="2020-01-02"),
     AccountingError, "selling 5 A on 2020-01-02 but only 0 are held"),
    # 5,000 A (half of 100,000 at 10) split 1e14-for-1: 5e17 shares, beyond the 2**53 a position holds exactly.
    ("split beyond 2**53 shares", lambda: _run({0: {"A": 0.5}}, PriceData(
        dates=DATES, symbols=("A", "B"), close=CLOSE,
        actions=(CorporateAction(date="2020-01-03", symbol="A", kind="split", value=1e14),)),
        data={"path": "prices.csv", "corporate_actions": "columns"}), HandlerError,
     "a split of 1e+14 for 'A' on 2020-01-03 takes 5,000 shares to 5e+17: more than the 9,007,199,254,740,992 "
     "shares a position holds exactly; check the split's ratio"),
    ("split adjustment beyond 2**53 shares", lambda: _split_beyond_max_shares(), AccountingError,
     "a split of A on 2020-01-03T09:00:00 takes 10 shares to 1e+16: more than the 9,007,199,254,740,992 shares a "
     "position holds exactly"),
    ("split of shares not held",
     lambda: Portfolio(("A",), 100.0).apply_split(0, 2.0, 100, 200, 0.0, 0.0, date="2020-01-03T09:00:00"),
     AccountingError, "a split of A on 2020-01-03T09:00:00 for 100 shares, but 0 are held"),
    ("next_open without opens", lambda: _run({}, execution={"timing": "next_open"}), ScenarioError,
     "[execution] timing = 'next_open' needs open prices, but prices.csv has none (use a long or per-symbol "
     "file with an open column)"),
    # Plug-ins that break their contract (ContractError, inside the handler that called them).
    # 0.5 of 100,000 at A's 10.00: 5,000 shares worth 50,000.00.
    ("negative commission", lambda: _run({0: {"A": 0.5}}, **_costs(commission="my_costs:Rebate")), HandlerError,
     "commission model 'my_costs:Rebate' returned -1.0 for 5,000 shares of 'A' worth 50,000.00; expected a finite "
     "number >= 0"),
    # Bought at bar 0, sold at bar 2 (2020-01-06): the rebalance sizes the sale with the order's context.
    ("negative commission of a model that takes the order",
     lambda: _run({0: {"A": 0.5}, 2: {"A": 0.0}}, **_costs(commission="my_costs:SaleRebate")), HandlerError,
     "commission model 'my_costs:SaleRebate' returned -1.0 for 5,000 shares worth 50,000.00 (a SELL of 'A' on "
     "2020-01-06); expected a finite number >= 0"),
    ("commission model raises", lambda: _run({0: {"A": 0.5}}, **_costs(commission="my_costs:Broken")), HandlerError,
     "commission model 'my_costs:Broken' raised RuntimeError: rate table not loaded when called as "
     "commission(5000, 50000.0) for 'A'; expected commission(quantity, value) returning a finite number >= 0"),
    ("fill price on the wrong side", lambda: _run({0: {"A": 0.5}}, **_costs(slippage="my_costs:Better")),
     HandlerError, "slippage model 'my_costs:Better' returned 9.9 for a buy of 1 share of 'A' at reference price "
     "10.0; "
     "expected a finite price > 0, at or above the reference price for a buy"),
    ("fee of NaN", lambda: _handler("NanFee"), HandlerError,
     "fee 'nan_fee' (FeeEvent #2, reason 'broken fee') has amount nan; expected a finite number (> 0 charged, < 0 "
     "credited)"),
    ("fee handler computes NaN", lambda: _handler("Custody"), HandlerError,
     "fee handler 'custody' (my_costs:Custody) computed a fee of nan for 'custody'; expected a finite number"),
    # bar 0: MarketEvent #1, BarEndEvent #2, SnapshotEvent #3; bar 1: MarketEvent #4, the flow #5
    ("cash flow of zero", lambda: _handler("ZeroFlow"), HandlerError,
     "CashFlowEvent #5 (reason 'nothing') has amount 0.0; expected a finite number other than 0 (> 0 a deposit, "
     "< 0 a withdrawal)"),
    ("limit order without its price", lambda: _handler("LimitWithoutPrice"), HandlerError,
     "OrderEvent #2 (reason 'rebalance') is a limit order with limit_price None; expected a finite number > 0"),
    ("order for part of a share", lambda: _handler("HalfShare"), HandlerError,
     "OrderEvent #2 (reason 'rebalance') asks for 2.5 shares of 'A'; expected a whole number > 0 (an int)"),
    ("target weights from another handler", lambda: _handler("OwnSignal"), HandlerError,
     "SignalEvent #2 (strategy 'mine') has weight nan for 'B'; expected a finite number >= 0 for a symbol of the "
     "data"),
    ("fill at NaN", lambda: _handler("NanFill"), HandlerError,
     "FillEvent #2 ('A') has price nan; expected a finite number > 0"),
    # Plug-ins of the wrong shape, found when the run is built (and by eventbt validate).
    ("commission of the wrong signature", lambda: _run({}, **_costs(commission="my_costs:OneArgument")),
     ScenarioError, "[execution.commission] model 'my_costs:OneArgument' is not a commission model: it has "
     "commission(order), which cannot be called as commission(quantity, value) or commission(quantity, value, "
     "order) (too many positional arguments)"),
    ("handler without its hook", lambda: _handler("Misspelt"), ScenarioError,
     "[handlers[0]] handler 'misspelt' (my_costs:Misspelt) subscribes to FillEvent but has no on_fill(event) "
     "method"),
    ("handler named like a stage", lambda: _handler("Impostor"), ScenarioError,
     "[handlers[0]] handler 'portfolio' (my_costs:Impostor) takes the name of the built-in 'portfolio' stage, under "
     "which the audit log would show its events; expected a name of its own"),
    ("handler whose bind fails", lambda: _handler("NeedsSpy"), ContractError,
     "handler 'needs_spy' (my_costs:NeedsSpy) raised KeyError: 'SPY' in bind(context), before the first bar"),
    ("strategy of the wrong signature",
     lambda: _run({}, strategy={"name": "my_costs:NoView"}), ScenarioError,
     "[strategy] 'my_costs:NoView' is not a signal generator: it has update(), which cannot be called as "
     "update(view) (too many positional arguments)"),
    ("module not on sys.path", lambda: _run({}, **_costs(commission="tiered:Tiered")), ScenarioError,
     "[execution.commission] cannot import 'tiered:Tiered': no module named 'tiered' (eventbt adds neither the "
     "scenario's folder nor the working directory to sys.path: install the module, or put its folder on "
     "PYTHONPATH)"),
    ("benchmark file missing", lambda: _from_file(report={"benchmark": "nope.csv:SPY"}), DataError,
     "scenario.toml: [report] benchmark file not found (expected FILE[:COLUMN]): nope.csv:SPY"),
    # Withdrawals larger than the cash ([portfolio] withdrawal).
    ("withdrawal beyond the cash", lambda: _withdraw(150_000.0, "2020-01-02", "error", {}), HandlerError,
     "withdrawal of 150,000.00 on 2020-01-02 exceeds the cash of 100,000.00 (short by 50,000.00); expected a "
     "withdrawal the cash covers, or [portfolio] withdrawal = 'sell' to sell positions for it"),
    # 5,000 A bought at bar 0 (cash 50,000.00), worth 50,000.00 at bar 1.
    ("withdrawal beyond everything", lambda: _withdraw(150_000.0, "2020-01-03", "sell", {0: {"A": 0.5}}),
     HandlerError, "withdrawal of 150,000.00 due on 2020-01-03 exceeds the cash of 50,000.00 (short by "
     "100,000.00), and selling every position that can be sold would bring in only 50,000.00 after costs"),
    # next_open: A bought at bar 1's open; the sale for 60,000.00 is sent at bar 1, and A has no open at bar 2.
    ("withdrawal whose sales fill nothing",
     lambda: _withdraw(60_000.0, "2020-01-03", "sell", {0: {"A": 0.5}}, timing="next_open", opens=OPENS),
     HandlerError, "withdrawal of 60,000.00 due on 2020-01-03: its sales filled nothing (cash 50,000.00); "
     "expected the positions to be sellable"),
    ("withdrawal on the last bar under next_open",
     lambda: _withdraw(60_000.0, "2020-01-07", "sell", {0: {"A": 0.5}}, timing="next_open", opens=OPENS),
     AccountingError, "withdrawal of 60,000.00 due on 2020-01-07 was not funded before the data ended (cash "
     "50,000.00; its sales had not filled)"),
    ("limit orders on data without high and low prices",
     lambda: _run({}, execution={"order_type": "limit"}), ScenarioError,
     "[execution] order_type = 'limit' needs open, high and low prices, but prices.csv has none (use a long or "
     "per-symbol file with open, high and low columns)"),
    ("market_on_open orders on data without opens",
     lambda: _run({}, execution={"order_type": "market_on_open"}), ScenarioError,
     "[execution] order_type = 'market_on_open' needs open prices, but prices.csv has none (use a long or "
     "per-symbol file with an open column)"),
    ("a stop order of [[events]] on data without high and low prices",
     lambda: _run({}, events=[{"date": "2020-01-03", "type": "order", "symbol": "A", "side": "buy", "quantity": 1,
                               "order_type": "stop", "stop_price": 11.0}]), ScenarioError,
     "[events[0]] order_type = 'stop' needs open, high and low prices, but prices.csv has none (use a long or "
     "per-symbol file with open, high and low columns)"),
    # Long/short and leverage (docs/long-short.md): the [portfolio] keys of a margin account, then the run.
    ("max_gross out of range", lambda: _margin(max_gross=20), ScenarioError,
     "scenarios/x.toml: [portfolio] max_gross must be a number > 0 and <= 10, got 20"),
    ("max_net above max_gross", lambda: _margin(allow_short=True, max_gross=1.6, max_net=2), ScenarioError,
     "scenarios/x.toml: [portfolio] max_net must be at most max_gross (1.6), got 2"),
    ("financing in a cash account", lambda: _margin(financing_rate=0.05), ScenarioError,
     "scenarios/x.toml: [portfolio] financing_rate = 0.05 needs a margin account (allow_short = true or max_gross > "
     "1)"),
    ("borrow without shorts", lambda: _margin(max_gross=1.5, borrow_rate=0.01), ScenarioError,
     "scenarios/x.toml: [portfolio] borrow_rate = 0.01 needs allow_short = true"),
    ("maintenance margin in a cash account", lambda: _margin(maintenance_margin=0.25), ScenarioError,
     "scenarios/x.toml: [portfolio] maintenance_margin = 0.25 needs a margin account (allow_short = true or "
     "max_gross > 1)"),
    ("maintenance margin at the limit", lambda: _margin(allow_short=True, max_gross=1.6, maintenance_margin=0.7),
     ScenarioError, "scenarios/x.toml: [portfolio] maintenance_margin must be below 1 / max_gross (0.625), got 0.7: "
     "a book rebalanced to max_gross (1.6) would be called at once"),
    ("margin_call without a margin rule", lambda: _margin(allow_short=True, margin_call="stop"), ScenarioError,
     "scenarios/x.toml: [portfolio] margin_call = 'stop' needs maintenance_margin, the rule it answers"),
    ("day_count not 360 or 365", lambda: _margin(day_count=364), ScenarioError,
     "scenarios/x.toml: [portfolio] day_count must be 360 or 365, got 364"),
    ("day_count without a rate", lambda: _margin(allow_short=True, day_count=365), ScenarioError,
     "scenarios/x.toml: [portfolio] day_count = 365 needs financing_rate or borrow_rate, the rates it counts days "
     "for"),
    ("a negative borrow rate", lambda: _margin(allow_short=True, borrow_rates={"GME": -1}), ScenarioError,
     "scenarios/x.toml: [portfolio.borrow_rates] GME must be a number >= 0 and <= 10, got -1"),
    ("a borrow rate for a symbol not in the data",
     lambda: _run({}, portfolio={"allow_short": True, "borrow_rates": {"TSLA": 0.2}}), ScenarioError,
     "[portfolio.borrow_rates] 'TSLA' is not a symbol of the data (prices.csv)"),
    ("a borrow rate for a symbol near one of the data",
     lambda: _run({}, portfolio={"allow_short": True, "borrow_rates": {"a": 0.2}}), ScenarioError,
     "[portfolio.borrow_rates] 'a' is not a symbol of the data (prices.csv) (did you mean 'A'?)"),
    ("a NaN weight with allow_short", lambda: _run({0: {"A": NAN}}, portfolio={"allow_short": True}), HandlerError,
     SIGNAL + "weight for 'A' is nan; expected a finite number"),
    ("a signal too large to add up with allow_short",
     lambda: _run({0: {"A": 1e308, "B": 1e308}}, portfolio={"allow_short": True}), HandlerError,
     SIGNAL + "weights sum to inf in absolute value; expected a finite sum (which [portfolio] max_gross and max_net "
     "then limit)"),
    ("a signal beyond max_gross from another handler",
     lambda: _run({}, extra=(_Levered(),), portfolio={"allow_short": True}), HandlerError,
     "SignalEvent #2 (strategy 'mine') has a gross exposure of 1.6; expected at most [portfolio] max_gross 1"),
    ("a margin call under margin_call = stop", lambda: _margin_call("stop"), HandlerError,
     "margin call on 2020-01-03: equity 4,000.00 is 21.05% of the gross exposure 19,000.00, below [portfolio] "
     "maintenance_margin 0.25; [portfolio] margin_call = 'stop' ends the run"),
    ("bar-aware slippage without volumes",
     lambda: _run({}, execution={"slippage": {"model": "sqrt_impact"}}), ScenarioError,
     "[execution.slippage] model 'sqrt_impact' needs volumes, but prices.csv has none (use a file with those "
     "columns, or a model that needs no bar such as fixed_bps)"),
]


@pytest.mark.parametrize(("action", "kind", "message"), [c[1:] for c in RAISING], ids=[c[0] for c in RAISING])
def test_each_catalogued_error_has_its_exact_message(action: Callable[[], object], kind: type[BaseException],
                                                     message: str) -> None:
    """The action raises the catalogued class with the catalogued message (for handler errors, the cause's)."""
    # RunInterrupted is a KeyboardInterrupt (outside EventbtError, so that `except Exception` cannot swallow it).
    with pytest.raises((EventbtError, RunInterrupted)) as caught:
        action()
    error = caught.value
    assert isinstance(error, kind)
    # An error raised inside a handler reaches the caller as a HandlerError; its cause carries the message.
    shown = error if message.startswith("handler '") else _cause(error)
    assert str(shown) == message


def test_a_target_on_a_symbol_without_a_price_is_skipped_with_a_reason() -> None:
    """B has no close on 2020-01-03: its target that day is skipped with skip_not_tradable, not an error."""
    simulation = _run({1: {"A": 0.5, "B": 0.5}})
    notices = [r["data"] for r in simulation.audit.records() if r["record"] == "publish"
               and r["type"] == "NoticeEvent"]
    assert [(n["code"], n["symbol"], n["details"]["reason"]) for n in notices] == [
        ("skip_not_tradable", "B", "no price this bar")]


def test_a_skipped_handler_error_is_a_dead_letter() -> None:
    """Under on_error = "skip" a handler error becomes a dead_letter note and the run completes."""
    simulation = _run({}, extra=(_Raises(ZeroDivisionError("division by zero")),), run={"on_error": "skip"})
    notes = [r for r in simulation.audit.records() if r["record"] == "note" and r["code"] == "dead_letter"]
    assert len(notes) == 4 and notes[0]["error"] == "ZeroDivisionError: division by zero"
    assert simulation.result().summary["dead_letters"] == 4 and simulation.status == "completed"


def test_verify_on_a_folder_without_results(tmp_path: Path) -> None:
    """`eventbt verify` on a folder with no audit.jsonl raises the catalogued AuditError."""
    with pytest.raises(EventbtError) as caught:
        verify_run(tmp_path)
    message = str(caught.value).replace(str(tmp_path), "RUN_DIR")
    assert message == "RUN_DIR: no audit.jsonl in the run folder; expected the files `eventbt run --out` writes"
    assert message in DOC


@pytest.mark.parametrize("message", [c[3] for c in RAISING],
                         ids=[c[0] for c in RAISING])
def test_each_catalogued_message_is_in_the_docs(message: str) -> None:
    """docs/errors.md shows every message of this catalogue verbatim."""
    assert message in DOC


@pytest.mark.parametrize("message", [c[4] for c in LOAD_CASES], ids=[c[0] for c in LOAD_CASES])
def test_each_price_file_error_is_in_the_docs(message: str) -> None:
    """docs/errors.md lists every price-file error of tests/eventbt/test_data_validation.py verbatim."""
    assert message in DOC


# -- where a run writes, code a file names, verify, the debugger, sweeps ------------------------------------------
# Each case runs in a fresh project folder (the working directory): scenarios/x.toml and sc/tiny.toml (the tiny
# debugger scenario with its prices), as docs/errors.md describes it; the project's path reads /home/me/project.

TINY_MODULE = """
from eventbt.costs.commission import FixedCommission


class TieredPerShare(FixedCommission):
    pass
"""


def _message(action: Callable[[Path], object], project: Path) -> str:
    """What the action raised (or returned, for printed text), with the project's path as the docs write it."""
    try:
        found = action(project)
    except (EventbtError, RunInterrupted) as exc:
        found = str(exc)
    return str(found).replace(str(project), "/home/me/project")


def _run_x(out: str | None, audit: str) -> object:
    import eventbt

    return eventbt.run("scenarios/x.toml", out=out, overrides=[f"audit.path={audit}"])


def _twice_with_a_note(project: Path) -> object:
    import eventbt

    eventbt.run("scenarios/x.toml", out="runs/x")
    (project / "runs" / "x" / "notes.txt").write_text("mine")
    return eventbt.run("scenarios/x.toml", out="runs/x")


def _into_own_folder(project: Path) -> object:
    import eventbt

    os.chdir(project / "scenarios")
    try:
        return eventbt.run("x.toml", out=".")
    finally:
        os.chdir(project)


def _out_under_a_file(project: Path, out: str) -> object:
    import eventbt

    (project / "runs").mkdir()
    (project / "runs" / "x").write_text("a file")
    return eventbt.run("scenarios/x.toml", out=out)


def _received_log(project: Path) -> Path:
    """A run naming tiered:TieredPerShare, its log moved to received/audit.jsonl, the module forgotten."""
    import sys

    import eventbt

    code = project / "code"
    code.mkdir()
    (code / "tiered.py").write_text(TINY_MODULE)
    sys.path.insert(0, str(code))
    try:
        eventbt.run("scenarios/x.toml", out="runs/x", overrides=["execution.commission.model=tiered:TieredPerShare",
                                                                 "execution.commission.amount=1.0"])
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("tiered", None)
    (project / "received").mkdir()
    (project / "runs" / "x" / "audit.jsonl").rename(project / "received" / "audit.jsonl")
    return Path("received/audit.jsonl")


def _replay(project: Path) -> object:
    from eventbt.replays.replayer import replay

    return replay(_received_log(project))


def _guarded(project: Path) -> object:
    from eventbt.scenario.plugins import imports_refused, resolve_import_path

    with imports_refused("received/audit.jsonl: not trusted (replay --trust)"):
        return resolve_import_path("tiered:TieredPerShare")


def _no_scenario(project: Path) -> object:
    import json

    from eventbt.audit import digest_of_lines
    from eventbt.replays.replayer import replay

    records: list[dict[str, Any]] = [{"record": "header", "bars": 0}, {"record": "footer", "status": "completed"}]
    records[1]["digest"] = digest_of_lines(records)
    (project / "received").mkdir()
    (project / "received" / "audit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return replay("received/audit.jsonl")


def _missing_module(project: Path) -> object:
    from eventbt.scenario.plugins import resolve_import_path

    (project / "tiered_fees.py").write_text("raise SystemExit('imported from the working folder')\n")
    return resolve_import_path("tiered_fees:Tiered")


def _shell(commands: str) -> Callable[[Path], object]:
    """The first error line the debugger prompt prints for ``commands`` on sc/tiny.toml (without 'error: ')."""
    def action(project: Path) -> object:
        import io

        import eventbt
        from eventbt.debug.prompt import DebugShell

        out = io.StringIO()
        shell = DebugShell(eventbt.Simulation.from_scenario("sc/tiny.toml").debugger, stdout=out)
        shell.run_lines(commands.split(";"))
        return next(line for line in out.getvalue().splitlines() if line.startswith("error: ")).removeprefix("error: ")
    return action


def _cli_error(argv: list[str]) -> Callable[[Path], object]:
    """The one error line the command line prints on stderr (without 'eventbt: error: ')."""
    def action(project: Path) -> object:
        import contextlib
        import io

        from eventbt.cli import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 2
        return err.getvalue().strip().splitlines()[-1].removeprefix("eventbt: error: ")
    return action


def _benchmark(rows: str, argv: list[str]) -> Callable[[Path], object]:
    """`eventbt <argv> --benchmark bench.csv:SPY` after a run into runs/x (2021-01-04 .. 2021-01-06), bench.csv
    holding ``rows`` under the header date,SPY."""
    def action(project: Path) -> object:
        _run_x("runs/x", "")
        (project / "bench.csv").write_text("date,SPY\n" + rows)
        return _cli_error([*argv, "--benchmark", "bench.csv:SPY"])(project)
    return action


def _export_to(target: str, *, folder: bool = False) -> Callable[[Path], object]:
    """`eventbt audit export runs/x --to TARGET` after a run into runs/x (TARGET made a folder first if asked)."""
    def action(project: Path) -> object:
        _run_x("runs/x", "")
        if folder:
            (project / target).mkdir()
        return _cli_error(["audit", "export", "runs/x", "--to", target])(project)
    return action


def _pngs_over_a_users_file(project: Path) -> object:
    _run_x("runs/x", "")
    (project / "charts").mkdir()
    (project / "charts" / "equity.png").write_text("mine")
    return _cli_error(["report", "runs/x", "--no-explorer", "--png", "charts"])(project)


def _seedless_resume(project: Path) -> object:
    import json

    from eventbt.sweeps.executors import SerialExecutor
    from eventbt.sweeps.grid import sweep

    grid = ["portfolio.initial_cash=1000,2000,3000"]
    sweep("sc/tiny.toml", grid, random=2, seed=1, executor=SerialExecutor(), out="runs/sweep", heatmap=False)
    manifest = json.loads(Path("runs/sweep/sweep.json").read_text())
    Path("runs/sweep/sweep.json").write_text(json.dumps({**manifest, "seed": None}))
    return sweep("sc/tiny.toml", grid, random=2, executor=SerialExecutor(), out="runs/sweep", resume=True)


def _sweep(grid: list[str] | dict[str, Any], overrides: list[str]) -> Callable[[Path], object]:
    def action(project: Path) -> object:
        from eventbt.sweeps.executors import SerialExecutor
        from eventbt.sweeps.grid import sweep

        return sweep("sc/tiny.toml", grid, overrides=overrides, executor=SerialExecutor(), out="runs/sweep")
    return action


def _sweep_over(project: Path, users_file: str) -> object:
    """A sweep into runs/sweep after the user wrote ``users_file`` (the folder itself, or a file in it)."""
    Path(users_file).parent.mkdir(parents=True, exist_ok=True)
    Path(users_file).write_text("the user's")
    return _sweep(["portfolio.initial_cash=1000,2000"], [])(project)


def _sweep_into_a_run(project: Path) -> object:
    """A sweep into runs/x, the folder of a run."""
    _run_x("runs/x", "")
    from eventbt.sweeps.executors import SerialExecutor
    from eventbt.sweeps.grid import sweep

    return sweep("sc/tiny.toml", ["portfolio.initial_cash=1000,2000"], executor=SerialExecutor(), out="runs/x")


def _doctored(name: str, content: str) -> Callable[[Path], object]:
    """verify_run on a tiny run folder whose ``name`` holds ``content`` (the folder's path left out)."""
    def action(project: Path) -> object:
        import eventbt

        eventbt.run("sc/tiny.toml", out="run")
        Path("run", name).write_text(content)
        try:
            return verify_run("run")
        except EventbtError as exc:
            return str(exc).removeprefix("run/")
    return action


def _verify_disagreement(project: Path) -> object:
    import eventbt

    eventbt.run(Path(__file__).resolve().parents[2] / "scenarios" / "ema_next_open.toml", out="run")
    lines = Path("run/trades.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[6] = "1.01"
    lines[3] = ",".join(cells)
    Path("run/trades.csv").write_text("\n".join(lines) + "\n")
    return str(verify_run("run").disagreement)


def _data_moved(command: str, *data: str) -> Callable[[Path], object]:
    """``command`` (verify or replay) on runs/x after its scenario's folder sc/ was renamed sc_moved/; ``data``
    is verify's --data, under the project."""
    def action(project: Path) -> object:
        import eventbt

        eventbt.run("sc/tiny.toml", out="runs/x")
        Path("sc").rename("sc_moved")
        Path("sc_moved/empty").mkdir()
        if command == "replay":
            return eventbt.replay("runs/x/audit.jsonl")
        return verify_run("runs/x", data_path=data[0] if data else None)
    return action


HOSTILE: list[tuple[str, Callable[[Path], object], str]] = [
    ("audit path out of the run folder", lambda p: _run_x("runs/x", "../victim.txt"),
     "scenarios/x.toml: [audit] path '../victim.txt' leaves the run folder runs/x; expected a path inside it"),
    ("absolute audit path", lambda p: _run_x("runs/x", "/etc/passwd"),
     "scenarios/x.toml: [audit] path '/etc/passwd' is an absolute path; expected a path inside the run folder runs/x"),
    ("audit path out of the scenario's folder", lambda p: _run_x(None, "../victim.txt"),
     "scenarios/x.toml: [audit] path '../victim.txt' leaves the scenario's folder /home/me/project/scenarios; "
     "expected a path inside it"),
    ("audit path through a link", lambda p: (p / "scenarios" / "logs").symlink_to(p) or _run_x(None, "logs/victim.txt"),
     "scenarios/x.toml: [audit] path 'logs/victim.txt' leads out of the scenario's folder "
     "/home/me/project/scenarios (through a symbolic link to /home/me/project/victim.txt); expected a path inside it"),
    ("audit path on the prices", lambda p: _run_x(None, "prices.csv"),
     "scenarios/x.toml: [audit] path 'prices.csv' is a file that is not an eventbt audit log; a run never "
     "overwrites a file it did not write: pick another name"),
    ("audit path on a folder", lambda p: (p / "scenarios" / "data").mkdir() or _run_x(None, "data"),
     "scenarios/x.toml: [audit] path 'data' is a folder; expected a file name for the audit log"),
    ("audit path on the run folder", lambda p: _run_x("runs/x", "."),
     "scenarios/x.toml: [audit] path '.' names the run folder runs/x itself; expected a file inside it"),
    ("audit path on a run file", lambda p: _run_x("runs/x", "summary.json"),
     "scenarios/x.toml: [audit] path 'summary.json' is one of the run's other files; expected another name"),
    ("audit path with a NUL", lambda p: _run_x(None, "a\x00b.jsonl"),
     "scenarios/x.toml: [audit] path 'a\\x00b.jsonl' holds a control character; expected a plain file name inside "
     "the scenario's folder /home/me/project/scenarios"),
    ("out into the scenario's folder", _into_own_folder,
     ".: holds files that are not an eventbt run (prices.csv, x.toml); a run writes only into a new folder, an "
     "empty one, or the folder of an earlier run (one with eventbt-run.json): pick another folder"),
    ("out into a run folder with a note", _twice_with_a_note,
     "runs/x: holds an earlier run and files it did not write (notes.txt); a run replaces an earlier run whole, so "
     "move those files out first"),
    ("out a file", lambda p: _out_under_a_file(p, "runs/x"),
     "runs/x: is a file; a run writes its files into a folder: a new one, an empty one, or the folder of an "
     "earlier run"),
    ("out under a file", lambda p: _out_under_a_file(p, "runs/x/run"),
     "runs/x/run: cannot create the folder: Not a directory"),
    ("untrusted log", _replay,
     "received/audit.jsonl: names code that replaying it would import and run: execution.commission "
     "'tiered:TieredPerShare'; replay a log from someone else only if you trust it, with --trust "
     "(eventbt.replay(..., trust=True))"),
    ("import refused", _guarded,
     "received/audit.jsonl: not trusted (replay --trust): it would import 'tiered:TieredPerShare'"),
    ("log without a scenario", _no_scenario,
     "received/audit.jsonl: its header holds no scenario (a 'scenario' object with a 'data' table); not a log "
     "eventbt can replay"),
    ("module in the working folder", _missing_module,
     "cannot import 'tiered_fees:Tiered': no module named 'tiered_fees' (the working folder holds tiered_fees.py, "
     "but it is not on the import path: set PYTHONPATH=. to import from it, see docs/scenarios.md)"),
    ("break on neither", _shell("break fil"),
     "'fil' is neither an event type nor a symbol of the run's data (did you mean 'fill'?), so a breakpoint on it "
     "would never fire"),
    ("break on a symbol not in the data", _shell("break order aaa"),
     "symbol 'aaa' is not in the run's data (did you mean 'AAA'?), so a breakpoint on it would never fire"),
    ("break on a type without symbols", _shell("break market AAA"),
     "MarketEvent has no symbol, so a breakpoint on MarketEvent AAA would never fire"),
    ("break after the data", _shell("break 2030-01-01"),
     "2030-01-01 is after the data, which ends on 2021-01-06, so a breakpoint on it would never fire"),
    ("break on a date reached", _shell("break 2021-01-04"),
     "the run has already reached 2021-01-04 (next: MarketEvent #1 at 2021-01-04T16:00:00), so a breakpoint on it "
     "would never fire"),
    ("break on a day without a bar", _shell("break fill 2021-01-02"),
     "2021-01-02 is not a date of the data, so no event falls on it and the breakpoint would never fire"),
    ("next -2", _shell("next -2"), "next takes a positive whole number of events (default 1), got '-2'"),
    ("unknown command", _shell("nxt"), "unknown command 'nxt' (did you mean 'next'?) (type help)"),
    ("until the past", _shell("next; until 2020-01-01"),
     "the run is already past 2020-01-01: MarketEvent #1 at 2021-01-04T16:00:00 has been delivered (a run only "
     "goes forward)"),
    ("dump after the data", _cli_error(["debug", "sc/tiny.toml", "--at", "2030-01-01", "--dump"]),
     "--dump --at 2030-01-01: no rebalance on or after it, the data ends on 2021-01-06"),
    ("every combination failed", _cli_error(["sweep", "sc/tiny.toml", "--grid",
                                             "execution.commission.model=nope:X,nope:Y", "--executor", "serial",
                                             "--out", "runs/sweep", "--quiet"]),
     "every combination failed (2); the first: combination 0 (execution.commission.model=nope:X): ScenarioError: "
     "sc/tiny.toml (--set execution.commission.model=nope:X): [execution.commission] cannot import 'nope:X': no "
     "module named 'nope'" + IMPORT_HINT),
    ("resume without a recorded seed", _seedless_resume,
     "--resume: the sweep in runs/sweep drew its random sample without a recorded seed, so the same combinations "
     "cannot be drawn again; start a new sweep (with --seed to make it resumable)"),
    ("sweep with an audit path", _sweep(["portfolio.initial_cash=1000,2000"], ["audit.path=log.jsonl"]),
     "the scenario's [audit] path 'log.jsonl' would have every combination write the same audit log; a sweep keeps "
     "each run's log in memory: add --set audit.path= to clear it"),
    ("sweep over audit.path", _sweep(["audit.path=a.jsonl,b.jsonl"], []),
     "--grid audit.path: a sweep keeps each run's audit log in memory; audit.* cannot be swept"),
    ("sweep with a value given twice", _sweep(["strategy.params.top_n=2,2,3"], []),
     "--grid strategy.params.top_n=2,2,3: value 2 is given 2 times (values 1 and 2 of 3); the same combinations "
     "would run more than once: give each value once"),
    ("Python sweep with a text as values", _sweep({"execution.timing": "next_open"}, []),
     "grid['execution.timing']: expected a list of values, e.g. ['next_open'], got str 'next_open'"),
    ("Python sweep with None among values", _sweep({"strategy.params.top_n": [None, 1]}, []),
     "grid['strategy.params.top_n']: value 1 of 2 is None, which a scenario cannot hold; expected a number, a "
     "boolean, a text, a date or a list of them"),
    ("Python sweep with no values", _sweep({"strategy.params.top_n": []}, []),
     "grid['strategy.params.top_n']: has no values; expected a list of at least one value, e.g. "
     "{'strategy.params.top_n': [1, 2, 3]}"),
    ("sweep into a run's folder", _sweep_into_a_run,
     "--out: runs/x holds an eventbt run (eventbt-run.json); a sweep writes its files into a folder of its own: "
     "pick another --out"),
    ("sweep left with only sweep.json", lambda p: _sweep_over(p, "runs/sweep/sweep.json"),
     "--out: runs/sweep holds sweep.json, which this sweep would overwrite; add --resume to finish the sweep "
     "started there, or pick another --out"),
    ("sweep --top 0", _cli_error(["sweep", "sc/tiny.toml", "--grid", "portfolio.initial_cash=1000,2000", "--top",
                                  "0", "--out", "runs/sweep"]),
     "--top: must be at least 1, got 0"),
    ("sweep into a file", lambda p: _sweep_over(p, "runs/sweep"),
     "--out: runs/sweep is a file; a sweep writes its files into a folder"),
    ("sweep over a user's file", lambda p: _sweep_over(p, "runs/sweep/results.csv"),
     "--out: runs/sweep holds results.csv, which this sweep would overwrite; pick another --out"),
    ("audit export over a run's trades.csv", _export_to("runs/x/trades.csv"),
     "runs/x/trades.csv: exists and is not an export eventbt wrote; --to never overwrites another file (remove it "
     "or name another)"),
    ("audit export into a folder", _export_to("events.csv", folder=True),
     "events.csv: is a folder; --to names the .csv or .parquet file to write"),
    ("report pngs over a user's file", _pngs_over_a_users_file,
     "charts/equity.png: exists and was not written by eventbt; --png never overwrites another file (remove it or "
     "name another folder)"),
    ("benchmark outside the run", _benchmark("2010-01-04,100\n2010-01-05,101\n", ["show", "runs/x"]),
     "bench.csv: benchmark column 'SPY': no date of the benchmark falls in the run's dates (2021-01-04 .. "
     "2021-01-06); its dates run 2010-01-04 .. 2010-01-05"),
    ("benchmark starting after the run", _benchmark("2021-01-05,100\n2021-01-06,101\n", ["report", "runs/x"]),
     "bench.csv: benchmark column 'SPY' starts on 2021-01-05, after the run's first date 2021-01-04; expected a "
     "level on or before it (start the run later with [data] start, or use a longer benchmark)"),
    ("benchmark with a negative level", _benchmark("2021-01-04,100\n2021-01-05,-5\n2021-01-06,0\n",
                                                   ["compare", "runs/x"]),
     "bench.csv: benchmark column 'SPY' on 2021-01-05 is -5.0; expected a positive level"),
    ("benchmark without a number", _benchmark("2021-01-04,n/a\n", ["show", "runs/x"]),
     "bench.csv: benchmark column 'SPY' holds no level (no number in it); expected positive levels by date"),
    ("benchmark with a thousands separator", _benchmark('2021-01-04,"1,005.50"\n', ["show", "runs/x"]),
     "bench.csv: benchmark column 'SPY' on 2021-01-04 (row 1) is '1,005.50'; expected a number (without thousands "
     "separators) or an empty cell for no level"),
    ("benchmark with a date twice", _benchmark("2021-01-04,100\n2021-01-05,101\n2021-01-05,101\n",
                                               ["show", "runs/x"]),
     "bench.csv: benchmark column 'SPY': date 2021-01-05 appears twice (rows 2 and 3); expected one level per date"),
    ("verify: unclosed quote", _doctored("trades.csv", 'date,symbol\n"2012-03-19,AAPL\n'),
     "trades.csv: is not a readable CSV file (Error: unexpected end of data)"),
    ("verify: extra field", _doctored("trades.csv", "date,symbol\n2012-03-19,AAPL,BUY\n"),
     "trades.csv: row 1 has 3 fields; expected 2 like the header"),
    ("verify: empty CSV", _doctored("equity.csv", ""), "equity.csv: is empty; expected a header line and rows"),
    ("verify: bad JSON", _doctored("summary.json", '{"final_value": '),
     "summary.json: is not valid JSON (Expecting value: line 1 column 17 (char 16))"),
    ("verify: JSON not an object", _doctored("summary.json", "[1, 2]"),
     "summary.json: is not a JSON object (found list)"),
    ("verify: log line not an object", _doctored("audit.jsonl", "[1]\n"),
     "audit.jsonl: line 1: is list, not an audit record (a JSON object with a 'record' field)"),
    ("verify: a doctored cell", _verify_disagreement,
     "trades: trades.csv row 3 column commission (fill #238: 2012-03-26 SELL 17 AAPL): expected 1.0, found '1.01'"),
    ("verify: the data moved", _data_moved("verify"),
     "prices.csv: not found in /home/me/project/sc (the scenario's folder when the run was recorded) or runs/x (the "
     "audit log's folder); pass --base-dir DIR, the folder the scenario's data path is relative to, or --data PATH, "
     "the price data itself"),
    ("replay: the data moved", _data_moved("replay"),
     "prices.csv: not found in /home/me/project/sc (the scenario's folder when the run was recorded) or runs/x (the "
     "audit log's folder); pass --base-dir DIR, the folder the scenario's data path is relative to"),
    ("verify: --data a folder without the file", _data_moved("verify", "sc_moved/empty"),
     "sc_moved/empty: is a folder, but the run read one file, 'prices.csv', and the folder does not hold it (no "
     "sc_moved/empty/prices.csv); give --data the price file itself, or the folder that holds it"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project folder of docs/errors.md: scenarios/x.toml and sc/tiny.toml with their prices; the cwd."""
    from tests.eventbt.debug_fixtures import write_tiny

    for name, scenario in (("scenarios", "x.toml"), ("sc", "tiny.toml")):
        (tmp_path / name).mkdir()
        write_tiny(tmp_path / name).rename(tmp_path / name / scenario)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("action", "message"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_each_hostile_input_message_is_exact_and_catalogued(project: Path, action: Callable[[Path], object],
                                                            message: str) -> None:
    """Output paths, received logs, the debugger, sweeps and verify say exactly what docs/errors.md shows."""
    assert _message(action, project) == message
    assert message in DOC


def test_sigterm_has_its_own_catalogued_message() -> None:
    """A SIGTERM inside a run ends it as an interruption with the catalogued message and signal."""
    from eventbt.simulation import _Terminated

    with pytest.raises(RunInterrupted) as caught:
        _run({}, extra=(_Raises(_Terminated()),))
    assert caught.value.signal == "SIGTERM" and caught.value.exit_status == 143
    assert str(caught.value) == "run terminated (SIGTERM); results up to the interruption are incomplete"
    assert str(caught.value) in DOC


def test_a_finish_returning_text_fails_the_run_with_a_footer_naming_the_handler() -> None:
    """finish() returning a string stops the run: a HandlerError, and the audit footer says failed, at finish."""
    prices = PriceData(dates=DATES, symbols=("A", "B"), close=CLOSE)
    config = scripted_config({}, data={"path": "prices.csv"})
    simulation = Simulation(config, prices=prices, extra_handlers=(_Finishing("done"),))
    with pytest.raises(HandlerError) as caught:
        simulation.run()
    assert str(caught.value) == ("handler 'closing': finish() returned str 'done'; finish() returns a list of "
                                 "events or None")
    footer = simulation.audit.records()[-1]
    assert (footer["record"], footer["status"], footer["handler"], footer["event_type"]) == (
        "footer", "failed", "closing", "finish")
