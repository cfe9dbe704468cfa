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

from eventbt.errors import AccountingError, DataError, EventbtError, HandlerError, RunInterrupted, ScenarioError
from eventbt.events import MarketEvent
from eventbt.handler import Handler
from eventbt.portfolio import Portfolio
from eventbt.prices import PriceData
from eventbt.replays.verify import verify_run
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
    ("split of shares not held",
     lambda: Portfolio(("A",), 100.0).apply_split(0, 2.0, 100, 200, 0.0, 0.0, date="2020-01-03T09:00:00"),
     AccountingError, "a split of A on 2020-01-03T09:00:00 for 100 shares, but 0 are held"),
    ("next_open without opens", lambda: _run({}, execution={"timing": "next_open"}), ScenarioError,
     "[execution] timing = 'next_open' needs open prices, but prices.csv has none (use a long or per-symbol "
     "file with an open column)"),
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
