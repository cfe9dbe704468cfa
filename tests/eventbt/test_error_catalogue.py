"""docs/errors.md, case by case: each bad input or fault gives exactly the documented error or behaviour.

Every message in this file must also appear verbatim in docs/errors.md (checked below), so the catalogue
cannot drift from what eventbt says. The price-file cases are the table of tests/eventbt/test_data_validation.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from eventbt.events import MarketEvent
from eventbt.handler import Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import PriceData
from eventbt.replays.verify import verify_run
from eventbt.scenario import ScenarioConfig
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


class _Raises(Handler):
    name = "faulty"
    subscribes = (MarketEvent,)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def on_market(self, event: MarketEvent) -> None:
        raise self.error


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


def _cause(error: BaseException) -> BaseException:
    return error.__cause__ if isinstance(error, HandlerError) and error.__cause__ is not None else error


SIGNAL = "strategy 'my_strategy' on 2020-01-02: "
# id, what to do, the error class eventbt raises (the cause, for errors raised inside a handler), message
RAISING: list[tuple[str, Callable[[], object], type[EventbtError], str]] = [
    ("negative weight", lambda: _run({0: {"A": -0.1}}), HandlerError,
     SIGNAL + "weight for 'A' is -0.1; expected a finite number >= 0"),
    ("NaN weight", lambda: _run({0: {"A": NAN}}), HandlerError,
     SIGNAL + "weight for 'A' is nan; expected a finite number >= 0"),
    ("weight not a number", lambda: _run({0: {"A": "half"}}), HandlerError,
     SIGNAL + "weight for 'A' is 'half', not a number"),
    ("weights above 1", lambda: _run({0: {"A": 0.7, "B": 0.4}}), HandlerError,
     SIGNAL + "weights sum to 1.1; expected at most 1 (the rest is cash)"),
    ("symbol with no data", lambda: _run({0: {"TSLA": 0.1}}), HandlerError,
     SIGNAL + "target weight for 'TSLA', a symbol with no data"),
    ("targets not a mapping", lambda: _run({0: [["A", 0.5]]}), HandlerError,
     SIGNAL + "target weights must be a mapping of symbol to weight, got list"),
    ("interior gap under missing = error", lambda: _run({}, data={"path": "prices.csv", "missing": "error"}),
     DataError, "prices.csv: close for 'B' is missing on 2020-01-03 (1 bars missing inside its series); "
     "expected no gap, or [data] missing = 'ffill'"),
    ("delisting under delisting = error",
     lambda: _run({0: {"B": 0.5}}, data={"path": "prices.csv", "delisting": "error"}), HandlerError,
     "prices.csv: prices for 'B' end on 2020-01-06 while 2500 shares are held; expected prices to the end of "
     "the data, or [data] delisting = 'liquidate' to sell at the last price"),
    ("handler error", lambda: _run({}, extra=(_Raises(ZeroDivisionError("division by zero")),)), HandlerError,
     "handler 'faulty' raised ZeroDivisionError: division by zero while handling MarketEvent #1 at "
     "2020-01-02T16:00:00; causal chain: MarketEvent#1"),
    ("interrupted", lambda: _run({}, extra=(_Raises(KeyboardInterrupt()),)), RunInterrupted,
     "run interrupted; results up to the interruption are incomplete"),
    ("buy beyond cash", lambda: Portfolio(("A",), 100.0).apply_fill(0, 1, 20, 10.0, 1.0, date="2020-01-02"),
     AccountingError, "buying 20 A at 10 with commission 1.00 on 2020-01-02 needs 201.00 but cash is 100.00"),
    ("sell more than held", lambda: Portfolio(("A",), 100.0).apply_fill(0, -1, 5, 10.0, 0.0, date="2020-01-02"),
     AccountingError, "selling 5 A on 2020-01-02 but only 0 are held"),
    ("next_open without opens", lambda: _run({}, execution={"timing": "next_open"}), ScenarioError,
     "[execution] timing = 'next_open' needs open prices, but prices.csv has none (use a long or per-symbol "
     "file with an open column)"),
    # Plug-ins that break their contract (ContractError, inside the handler that called them).
    # 0.5 of 100,000 at A's 10.00: 5,000 shares worth 50,000.00.
    ("negative commission", lambda: _run({0: {"A": 0.5}}, **_costs(commission="my_costs:Rebate")), HandlerError,
     "commission model 'my_costs:Rebate' returned -1.0 for 5,000 shares worth 50,000.00; expected a finite number "
     ">= 0"),
    ("commission model raises", lambda: _run({0: {"A": 0.5}}, **_costs(commission="my_costs:Broken")), HandlerError,
     "commission model 'my_costs:Broken' raised RuntimeError: rate table not loaded when called as "
     "commission(5000, 50000.0); expected commission(quantity, value) returning a finite number >= 0"),
    ("fill price on the wrong side", lambda: _run({0: {"A": 0.5}}, **_costs(slippage="my_costs:Better")),
     HandlerError, "slippage model 'my_costs:Better' returned 9.9 for a buy of 1 share at reference price 10.0; "
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
     "commission(order), which cannot be called as commission(quantity, value) (too many positional arguments)"),
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
     "benchmark file not found (expected FILE[:COLUMN]): nope.csv:SPY"),
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
    ("bar-aware slippage without volumes",
     lambda: _run({}, execution={"slippage": {"model": "sqrt_impact"}}), ScenarioError,
     "[execution.slippage] model 'sqrt_impact' needs volumes, but prices.csv has none (use a file with those "
     "columns, or a model that needs no bar such as fixed_bps)"),
]


@pytest.mark.parametrize(("action", "kind", "message"), [c[1:] for c in RAISING], ids=[c[0] for c in RAISING])
def test_each_catalogued_error_has_its_exact_message(action: Callable[[], object], kind: type[EventbtError],
                                                     message: str) -> None:
    """The action raises the catalogued class with the catalogued message (for handler errors, the cause's)."""
    with pytest.raises(EventbtError) as caught:
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
