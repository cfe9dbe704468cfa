"""Cost models that see the order: the built-in sec_fee and spread_by_symbol, worked by hand, and what a model of
the richer form is given, when sizing and when filling."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import eventbt.costs.contract as contract
from eventbt.costs import SecFeeCommission, SpreadBySymbolSlippage
from eventbt.prices import PriceData
from eventbt.protocols import OrderContext
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation

ROOT = Path(__file__).resolve().parents[2]
SELL = OrderContext(side=-1, symbol="KO", bar=13, date="2013-01-22", reason="manual", order_id=55)
BUY = OrderContext(side=1, symbol="KO", bar=13, date="2013-01-22", reason="manual", order_id=56)


def test_sec_fee_charges_sales_only_at_the_published_rate() -> None:
    """USD 20.60 per million: selling 1,000 at 20.00 pays 0.0000206 x 20,000 = 0.412; the buy pays nothing."""
    model = SecFeeCommission()
    assert model.commission(1_000, 20_000.0, SELL) == pytest.approx(0.412, abs=1e-12)
    assert model.commission(1_000, 20_000.0, BUY) == 0.0
    assert model.commission(0, 0.0, SELL) == 0.0
    # The FY2024 rate, USD 27.80 per million: 0.0000278 x 20,000 = 0.556
    assert SecFeeCommission(rate=0.0000278).commission(1_000, 20_000.0, SELL) == pytest.approx(0.556, abs=1e-12)


def test_spread_by_symbol_moves_each_symbol_by_half_its_own_spread() -> None:
    """KO 4 bps: f = 0.0002, a buy at 37.20 fills at 37.20 x 1.0002 = 37.20744, a sale at 37.19256; a symbol not
    listed pays half the 10 bps default: 100 x 1.0005 = 100.05."""
    model = SpreadBySymbolSlippage(spread_bps={"KO": 4.0, "AAPL": 1.0}, default_spread_bps=10.0)
    assert model.fill_price(1, 37.2, 100, BUY) == pytest.approx(37.20744, abs=1e-12)
    assert model.fill_price(-1, 37.2, 100, SELL) == pytest.approx(37.19256, abs=1e-12)
    other = OrderContext(side=1, symbol="MSFT")
    assert model.fill_price(1, 100.0, 1, other) == pytest.approx(100.05, abs=1e-12)
    assert model == SpreadBySymbolSlippage(spread_bps={"AAPL": 1, "KO": 4}, default_spread_bps=10)


@pytest.mark.parametrize(("spreads", "message"), [
    ({"KO": -1.0}, "spread_bps['KO'] must be >= 0 and < 10000 (1 bp = 0.01%), got -1.0"),
    ({"KO": "4"}, "spread_bps['KO'] must be a number, got str '4'"),
    ("KO", "spread_bps must be a table of symbol = basis points, got str 'KO'"),
])
def test_spread_by_symbol_checks_its_table(spreads: Any, message: str) -> None:
    """Each spread a number of basis points in [0, 10000), named by its symbol in the message."""
    with pytest.raises((TypeError, ValueError)) as caught:
        SpreadBySymbolSlippage(spread_bps=spreads)
    assert str(caught.value) == message


def _two_symbols(commission: dict[str, Any], slippage: dict[str, Any], events: list[dict[str, Any]] | None = None,
                 weights: dict[str, float] | None = None) -> Simulation:
    """A and B at 10.00 on three days, 10,000 cash; bought at the first close, sold at the last."""
    dates = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[ns]")
    prices = PriceData(dates=dates, symbols=("A", "B"), close=np.full((3, 2), 10.0))
    raw: dict[str, Any] = {
        "data": {"path": "unused.csv"}, "portfolio": {"initial_cash": 10_000.0},
        "strategy": {"name": "static_weights", "params": {"weights": weights or {"A": 0.5, "B": 0.5}}},
        "schedule": {"dates": ["2024-01-02"]},
        "execution": {"commission": commission, "slippage": slippage},
    }
    if events:
        raw["events"] = events
    simulation = Simulation(ScenarioConfig.from_dict(raw, base_dir=ROOT), prices=prices)
    simulation.run()
    return simulation


def test_the_rebalance_sizes_each_buy_with_its_own_spread() -> None:
    """5,000 for each at 10.00: A with a 200 bps spread is sized at 10.00 x 1.01 = 10.10, floor(5,000 / 10.10) = 495
    shares; B, unlisted (0 bps), floor(5,000 / 10.00) = 500. Filled at 10.10 and 10.00."""
    simulation = _two_symbols({"model": "zero"}, {"model": "spread_by_symbol", "spread_bps": {"A": 200.0}})
    trades = simulation.result().trades
    assert list(zip(trades.symbol, trades.quantity, trades.price, strict=True)) == [
        ("A", 495, pytest.approx(10.1)), ("B", 500, 10.0)]


def test_a_run_with_sec_fee_charges_the_sales_only() -> None:
    """Bought 500 A and 500 B (no fee), then a manual sale of 200 A at 10.00: 0.0000206 x 2,000 = 0.0412."""
    events = [{"date": "2024-01-03", "type": "order", "symbol": "A", "side": "sell", "quantity": 200}]
    simulation = _two_symbols({"model": "sec_fee"}, {"model": "zero"}, events)
    trades = simulation.result().trades
    assert list(zip(trades.side, trades.quantity, trades.commission, strict=True)) == [
        ("BUY", 500, 0.0), ("BUY", 500, 0.0), ("SELL", 200, pytest.approx(0.0412, abs=1e-12))]


class Recorder:
    """A commission model of the richer form that charges nothing and keeps every order it is shown."""

    seen: ClassVar[list[OrderContext]] = []

    def commission(self, quantity: int, value: float, order: OrderContext) -> float:
        Recorder.seen.append(order)
        return 0.0


def test_the_order_a_model_sees_when_sizing_and_when_filling() -> None:
    """Sizing: the signal bar, its date and the rebalance's type, no id; filling: the fill bar, the order's id and
    type (a limit order here, filled the next day)."""
    Recorder.seen = []
    scenario = ScenarioConfig.from_toml(ROOT / "scenarios" / "order_types.toml",
                                        [f"execution.commission.model={__name__}:Recorder"])
    simulation = Simulation(scenario, audit=False)
    simulation.run()
    sizing = [o for o in Recorder.seen if o.order_id is None]
    assert {(o.bar, o.date, o.order_type, o.reason, o.side) for o in sizing} == {
        (0, "2013-01-02", "limit", "rebalance", 1)}
    assert {o.symbol for o in sizing} == {"AAPL", "IBM", "KO", "MSFT"}
    filled = [o for o in Recorder.seen if o.order_id is not None]
    aapl = next(o for o in filled if o.symbol == "AAPL")
    assert (aapl.bar, aapl.date, aapl.order_type, aapl.side, aapl.order_id) == (1, "2013-01-03", "limit", 1, 3)
    stop = next(o for o in filled if o.symbol == "KO" and o.side < 0)
    assert (stop.date, stop.order_type, stop.reason) == ("2013-01-22", "stop", "manual")


def test_the_form_is_read_once_per_class_not_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole run with two order-aware models asks the signature twice (once per model class), however many
    fills and sizings it makes."""
    calls: list[object] = []
    real = contract.accepts_order

    def counting(method: object, positional: int) -> bool:
        calls.append(method)
        return real(method, positional)

    monkeypatch.setattr(contract, "accepts_order", counting)
    monkeypatch.setattr(contract, "_TAKES_ORDER", {})
    events = [{"date": "2024-01-03", "type": "order", "symbol": "A", "side": "sell", "quantity": 200}]
    simulation = _two_symbols({"model": "sec_fee"}, {"model": "spread_by_symbol", "spread_bps": {"A": 10.0}}, events)
    assert len(simulation.result().trades) == 3
    assert len(calls) == 2
