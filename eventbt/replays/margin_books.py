"""The books of a margin account rebuilt from its audit log: its fees and margin calls recomputed, one by one.

:func:`eventbt.replays.books.rebuild_books` books the fills of a margin account with signed positions (see
``docs/long-short.md``); :class:`MarginChecks` recomputes, independently of the handlers that made them, what
such a run must have published, and raises :class:`~eventbt.replays.books.BooksError` where the log differs:

- ``fees``: at each ``MarketEvent``, the ``financing`` fee ``-min(cash, 0) * financing_rate * days /
  day_count`` on the cash of the previous bar's end, and one ``borrow`` fee per short position ``-q * close *
  rate * days / day_count`` on the positions and closes of the previous bar's end (``days``: calendar days
  since the previous bar, 0 at the first tradable bar); every such fee is in the log with that amount, and
  no other fee of those models;
- ``margin``: at each ``MarketEvent``, equity ``E = cash + sum(q * p)`` and gross exposure ``G = sum(|q| *
  p)`` at the bar's closes; a ``MarginCallEvent`` caused by that bar exactly when ``G > 0`` and ``E < m * G``,
  with that equity and exposure, the scenario's ``maintenance_margin`` and ``margin_call``; for a
  liquidation, its ``fraction`` is ``1`` when ``E <= 0``, else ``min(1, 1 - (E - C) / (m * G))`` with ``C``
  its ``expected_costs`` (recomputed from the built-in cost models when the scenario names those), its
  ``quantities`` are ``ceil(fraction * |q| - 1e-9)`` shares of each position with a price at the bar (at
  most ``|q|``), and its orders (by ``margin``, reason ``liquidate``) are exactly those.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eventbt.orders import SHARE_TOLERANCE
from eventbt.replays.books import BooksError, near

__all__ = ["MarginChecks", "built_in_models"]


class MarginChecks:
    """The fee and margin-call checks of one margin account (see the module docstring).

    ``account`` is the scenario's ``[portfolio]`` (a :class:`~eventbt.scenario.config.PortfolioConfig`);
    ``models`` the ``(commission, slippage)`` models that recompute a liquidation's expected costs, or ``None``
    (the costs the log recorded are then taken as they are).
    """

    def __init__(self, account: Any, prices: Any, models: tuple[Any, Any] | None = None) -> None:
        self.account = account
        self.symbols = list(prices.symbols)
        self._index = {symbol: j for j, symbol in enumerate(self.symbols)}
        self.close = prices.close
        dates = np.asarray(prices.dates).astype("datetime64[ns]")
        days = (np.diff(dates, prepend=dates[:1]) / np.timedelta64(1, "D")).tolist() if len(dates) else []
        first = int(getattr(prices, "warmup_bars", 0))
        if 0 < first < len(days):
            days[first] = 0.0
        self.days: list[float] = days
        self.models = models
        self._cash: float | None = None  # the cash at the previous bar's end
        self._shorts: list[tuple[int, int, float]] = []  # (symbol index, shares, close) at the previous bar's end
        self._fees: list[tuple[str, str | None, float]] = []  # (model, symbol, amount) due at this bar
        self._call: tuple[int, float, float] | None = None  # (market id, equity, gross) of a call due at this bar
        self._positions = np.zeros(0, dtype=np.int64)
        self._marks = np.zeros(0)
        self._bar = -1
        self._time = ""  # the bar's close time as the log has it (an order-aware model sees it)
        self._orders: dict[str, int] = {}  # symbol -> signed shares a call's orders must still trade
        self._call_id: int | None = None

    # -- at each bar ----------------------------------------------------------------------------------------
    def at_market(self, record: Mapping[str, Any], bar: int, positions: np.ndarray, marks: np.ndarray,
                  cash: float) -> None:
        """A ``MarketEvent``, after its marks: what the bar must publish (the previous bar's must be done)."""
        self.settle()
        self._bar = bar
        self._time = str(record.get("time") or "")
        account = self.account
        days = self.days[bar] if bar < len(self.days) else 0.0
        fees: list[tuple[str, str | None, float]] = []
        if days > 0 and self._cash is not None:
            if account.financing_rate and self._cash < 0:
                fees.append(("financing", None, -self._cash * account.financing_rate * days / account.day_count))
            for j, shares, price in self._shorts:
                symbol = self.symbols[j]
                rate = account.borrow_rates.get(symbol, account.borrow_rate)
                amount = -shares * price * rate * days / account.day_count
                if amount != 0:
                    fees.append(("borrow", symbol, amount))
        self._fees = fees
        self._call = None
        if account.maintenance_margin is not None and positions.any():
            held = np.flatnonzero(positions)
            values = np.multiply(positions[held].astype(float), marks[held]).tolist()
            equity, gross = cash + math.fsum(values), math.fsum(abs(value) for value in values)
            if gross > 0 and equity < account.maintenance_margin * gross:
                self._call = (int(record["id"]), equity, gross)
                self._positions, self._marks = positions.copy(), marks.copy()

    def at_bar_end(self, cash: float, positions: np.ndarray, marks: np.ndarray) -> None:
        """A ``BarEndEvent``: the cash and the shorts the next bar's fees are charged on."""
        self._cash = cash
        self._shorts = [(j, int(positions[j]), float(marks[j])) for j in np.flatnonzero(positions < 0).tolist()]

    def settle(self) -> None:
        """Everything due at the bar checked so far must have come (called at the next bar and at the end)."""
        if self._fees:
            model, symbol, amount = self._fees[0]
            raise BooksError(f"audit.jsonl bar {self._bar}: the {model} fee{f' on {symbol}' if symbol else ''}",
                             f"a FeeEvent of {amount!r}", "none", check="fees")
        if self._call is not None:
            raise self._missing_call()
        if self._orders:
            symbol, shares = next(iter(self._orders.items()))
            raise BooksError(f"audit.jsonl MarginCallEvent #{self._call_id} order for {symbol}",
                             f"{shares:+d} shares", "none", check="margin")

    def _missing_call(self) -> BooksError:
        assert self._call is not None
        market, equity, gross = self._call
        return BooksError(f"audit.jsonl MarketEvent #{market}: equity {equity:,.2f} is below "
                          f"{self.account.maintenance_margin:g} x the gross exposure {gross:,.2f}",
                          "a MarginCallEvent", "none", check="margin")

    # -- the log's records --------------------------------------------------------------------------------
    def fee(self, record: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """A ``FeeEvent`` by ``financing`` or ``borrow``: one of those due at this bar, with its amount."""
        model, symbol, amount = str(data["model"]), data.get("symbol"), float(data["amount"])
        where = f"audit.jsonl FeeEvent #{record['id']} ({model}{f' on {symbol}' if symbol else ''})"
        for index, (due_model, due_symbol, due) in enumerate(self._fees):
            if due_model == model and due_symbol == symbol:
                if not near(due, amount):
                    raise BooksError(f"{where} amount", due, amount, check="fees")
                del self._fees[index]
                return
        raise BooksError(f"{where}", "no such fee at this bar (none due)", amount, check="fees")

    def call(self, record: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """A ``MarginCallEvent``: due at this bar, its figures and its liquidation as the rule gives them."""
        where = f"audit.jsonl MarginCallEvent #{record['id']}"
        account = self.account
        if self._call is None or record.get("cause") != self._call[0]:
            raise BooksError(f"{where}", "no margin call (equity at or above the maintenance margin)",
                             f"a call caused by #{record.get('cause')}", check="margin")
        _, equity, gross = self._call
        self._call = None
        for name, expected in (("equity", equity), ("gross_exposure", gross)):
            if not near(expected, float(data[name])):
                raise BooksError(f"{where} {name}", expected, data[name], check="margin")
        for name, expected in (("maintenance_margin", account.maintenance_margin), ("response", account.margin_call)):
            if data.get(name) != expected:
                raise BooksError(f"{where} {name}", expected, data.get(name), check="margin")
        if account.margin_call != "liquidate":
            return
        m = account.maintenance_margin
        fraction, costs = float(data["fraction"]), float(data["expected_costs"])
        expected_fraction = 1.0 if equity <= 0 else min(1.0, 1.0 - (equity - costs) / (m * gross))
        if not near(expected_fraction, fraction):
            raise BooksError(f"{where} fraction (1 - (equity - expected_costs) / (maintenance_margin x gross))",
                             expected_fraction, fraction, check="margin")
        quantities = self._liquidation(fraction)
        recorded = {str(symbol): int(n) for symbol, n in (data.get("quantities") or {}).items()}
        if recorded != quantities:
            raise BooksError(f"{where} quantities (ceil(fraction x shares) of each position)", quantities, recorded,
                             check="margin")
        if self.models is not None:
            recomputed = self._costs(quantities)
            if not near(recomputed, costs):
                raise BooksError(f"{where} expected_costs (commission and slippage of its orders)", recomputed, costs,
                                 check="margin")
        self._orders = dict(quantities)
        self._call_id = int(record["id"])

    def order(self, record: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """An ``OrderEvent`` by ``margin``: one of its call's orders."""
        if self._call is not None:  # an order before the call it belongs to: the call is missing
            raise self._missing_call()
        symbol = str(data["symbol"])
        where = f"audit.jsonl OrderEvent #{record['id']} ({data.get('side')} {data.get('quantity')} {symbol})"
        shares = int(data["quantity"]) * (1 if data.get("side") == "BUY" else -1)
        if record.get("cause") != self._call_id or self._orders.get(symbol) != shares \
                or data.get("reason") != "liquidate":
            raise BooksError(f"{where}", f"an order of MarginCallEvent #{self._call_id} with reason 'liquidate'",
                             f"{shares:+d} shares caused by #{record.get('cause')}, reason {data.get('reason')!r}",
                             check="margin")
        del self._orders[symbol]

    # -- the liquidation, recomputed ------------------------------------------------------------------------
    def _liquidation(self, fraction: float) -> dict[str, int]:
        row = self.close[self._bar]
        shares: dict[str, int] = {}
        for j in np.flatnonzero(self._positions).tolist():
            q = int(self._positions[j])
            if row[j] != row[j] or self._marks[j] <= 0:
                continue
            n = min(abs(q), math.ceil(fraction * abs(q) - SHARE_TOLERANCE))
            if n > 0:
                shares[self.symbols[j]] = n if q < 0 else -n
        return dict(sorted(shares.items()))

    def _costs(self, quantities: Mapping[str, int]) -> float:
        from eventbt.costs.contract import fill_costs, order_context_needed
        from eventbt.protocols import OrderContext

        assert self.models is not None
        commission, slippage = self.models
        aware = order_context_needed(commission, slippage)
        time_ns = int(np.datetime64(self._time, "ns").astype(np.int64)) if aware and self._time else 0
        costs: list[float] = []
        for symbol, shares in quantities.items():
            price, n, side = float(self._marks[self._index[symbol]]), abs(shares), 1 if shares > 0 else -1
            # As the margin handler sizes it: a market order of the call's bar, reason liquidate.
            order = OrderContext(side=side, symbol=symbol, bar=self._bar, date=self._time[:10], time_ns=time_ns,
                                 reason="liquidate") if aware else None
            fill, charge = fill_costs(commission, slippage, side, price, n, order, symbol=symbol)
            costs.append(abs(fill - price) * n + charge)
        return math.fsum(costs)


def built_in_models(execution: Any) -> tuple[Any, Any] | None:
    """The scenario's commission and slippage models when both are built-in ones (registered names: no code of
    the user's is run to verify a log), else ``None``."""
    from eventbt.scenario import plugins

    specs: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = (
        ("commission", execution.commission, plugins.COMMISSION_MODELS),
        ("slippage", execution.slippage, plugins.SLIPPAGE_MODELS))
    if any(spec.get("model") not in registry for _, spec, registry in specs):
        return None
    commission, slippage = (plugins.build_model(kind, spec, path=None, table=f"execution.{kind}")
                            for kind, spec, _ in specs)
    return commission, slippage
