"""A second, deliberately plain implementation of the backtest behaviour, used as a test oracle.

It is written only from the product specification (rebalance arithmetic, execution and costs,
portfolio accounting, the EMA allocation strategy and the rebalance schedule) and imports nothing
from the project's own packages, so that agreement between the engine and this module is evidence
that both follow the specification rather than sharing a bug.

Style on purpose: one loop over the bars, plain dicts for positions, explicit arithmetic, no
vectorisation (except pandas ``ewm(span=k, adjust=False)`` for the EMA). Speed is not a goal.

Interpretations this module had to choose where the specification leaves room (each one is also
noted next to the code that implements it):

* EMA strategy, "no opinion" versus "all cash": if no symbol is eligible yet (fewer than
  ``slow_span`` closes, or no close on the bar), the strategy has no opinion and returns ``None``:
  no signal is recorded and nothing trades. If at least one symbol is eligible but no eligible
  symbol has a score > 0, the targets are empty, i.e. all cash (everything held and tradable is
  sold). The first rebalance is therefore the first scheduled bar with at least one eligible symbol.
* A symbol with no close on a bar is neither eligible nor tradable on that bar; if held it keeps
  its shares and is valued at its last known close (forward fill), both for the portfolio value V
  of a rebalance and for the end-of-bar mark-to-market.
* EMA history: the closes of a symbol up to and including bar t with missing values dropped, so
  the EMA starts at the first available close.
* Schedule: the last bar of the data counts as the last bar of its week/month/quarter even if the
  calendar period continues beyond the data. Explicit dates that are not bars of the data are
  ignored.
* ``next_open``: a sell or a buy whose symbol has no open on the fill bar is cancelled (with a
  note). Orders still pending when the data ends are cancelled (with a note).
* ``weights`` history: with ``same_close`` it is keyed by the rebalance bar (end-of-bar snapshot,
  after that bar's fills); with ``next_open`` it is keyed by the bar on which the rebalance's orders
  were processed (the next bar, end-of-bar snapshot after those fills). A rebalance on the last bar
  under ``next_open`` has no weights entry (its orders are cancelled).
* Expected sell proceeds and buy costs are computed as ``n * fill`` with ``fill = p * (1 -/+ s)``,
  exactly as the fills themselves are, so that the cash check of the sizing step and the cash
  actually spent agree to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

BUY = "BUY"
SELL = "SELL"

TRADE_COLUMNS = [
    "date",
    "symbol",
    "side",
    "quantity",
    "price",
    "reference_price",
    "commission",
    "slippage",
    "realized_pnl",
]


@dataclass
class ReferenceResult:
    """What a reference run produces.

    trades   -- one row per fill, in fill order (columns: TRADE_COLUMNS)
    values   -- total portfolio value at the end of every bar
    cash     -- cash at the end of every bar
    signals  -- rebalance date -> target weights the strategy returned on that date
    weights  -- date -> actual weights after the rebalance's fills (see the module docstring)
    notes    -- orders cancelled or reduced at fill time under next_open, with the reason
    positions -- final shares per symbol (only symbols still held)
    realized_pnl -- total realized P&L at the end of the run
    """

    trades: pd.DataFrame
    values: pd.Series
    cash: pd.Series
    signals: dict[pd.Timestamp, dict[str, float]]
    weights: dict[pd.Timestamp, dict[str, float]]
    notes: list[dict[str, object]] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    realized_pnl: float = 0.0


# ---------------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------------


def commission_for(model: dict, quantity: int, value: float) -> float:
    """Commission of one fill of ``quantity`` shares with traded value ``value``."""
    if quantity == 0:
        # A zero-quantity fill costs nothing, whatever the model.
        return 0.0
    name = model["model"]
    if name == "zero":
        return 0.0
    if name == "percentage":
        return model["rate"] * value
    if name == "fixed":
        return float(model["amount"])
    if name == "per_share":
        per_share = model["per_share"]
        minimum = model.get("minimum", 0.0)
        max_pct = model.get("max_pct")
        amount = max(minimum, per_share * quantity)
        if max_pct is not None:
            amount = min(amount, max_pct * value)
        return amount
    raise ValueError(f"unknown commission model {name!r}")


def slippage_fraction(model: dict) -> float:
    """The fraction s by which a buy fills above (and a sell below) the reference price."""
    name = model["model"]
    if name == "zero":
        return 0.0
    if name == "fixed_bps":
        return model["bps"] / 10000.0
    raise ValueError(f"unknown slippage model {name!r}")


def buy_fill_price(reference_price: float, s: float) -> float:
    return reference_price * (1 + s)


def sell_fill_price(reference_price: float, s: float) -> float:
    return reference_price * (1 - s)


def buy_cost(commission: dict, quantity: int, fill_price: float) -> float:
    """Cash a buy of ``quantity`` shares at ``fill_price`` needs, commission included."""
    value = quantity * fill_price
    return value + commission_for(commission, quantity, value)


def sell_proceeds(commission: dict, quantity: int, fill_price: float) -> float:
    """Cash a sell of ``quantity`` shares at ``fill_price`` brings in, net of commission."""
    value = quantity * fill_price
    return value - commission_for(commission, quantity, value)


# ---------------------------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------------------------


def last_bar_positions(keys: list) -> set[int]:
    """Positions of the last bar of each run of equal consecutive keys.

    The last bar of the data is always the last bar of its period: a period that continues beyond
    the data is treated as ending with the data (the simple rule the specification implies with
    "in the data").
    """
    positions = set()
    for i in range(len(keys)):
        is_last_bar = i == len(keys) - 1
        if is_last_bar or keys[i + 1] != keys[i]:
            positions.add(i)
    return positions


def rebalance_bar_positions(index: pd.DatetimeIndex, schedule: dict) -> set[int]:
    """Bar positions (0-based) on which the schedule asks for a rebalance."""
    n_bars = len(index)
    if "rebalance" in schedule:
        kind = schedule["rebalance"]
        if kind == "daily":
            return set(range(n_bars))
        if kind == "weekly":
            keys = []
            for date in index:
                iso = date.isocalendar()
                keys.append((iso[0], iso[1]))  # ISO year and ISO week
            return last_bar_positions(keys)
        if kind == "monthly":
            keys = [(date.year, date.month) for date in index]
            return last_bar_positions(keys)
        if kind == "quarterly":
            keys = [(date.year, (date.month - 1) // 3 + 1) for date in index]
            return last_bar_positions(keys)
        raise ValueError(f"unknown rebalance frequency {kind!r}")
    if "every_n_bars" in schedule:
        step = int(schedule["every_n_bars"])
        if step < 1:
            raise ValueError("every_n_bars must be >= 1")
        # Bars 0, N, 2N, ... counted from the first bar of the data.
        return set(range(0, n_bars, step))
    if "dates" in schedule:
        wanted = set()
        for date in schedule["dates"]:
            wanted.add(pd.Timestamp(date))
        positions = set()
        for i, date in enumerate(index):
            if date in wanted:
                positions.add(i)
        # Dates that are not bars of the data are ignored.
        return positions
    raise ValueError(f"schedule needs 'rebalance', 'every_n_bars' or 'dates': {schedule!r}")


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


def ema_last(closes: pd.Series, span: int) -> float:
    """EMA with span ``span`` (alpha = 2 / (span + 1)) of ``closes``, at the last value.

    Started at the first value: pandas ewm(span=span, adjust=False).
    """
    return float(closes.ewm(span=span, adjust=False).mean().iloc[-1])


def ema_scores(close: pd.DataFrame, t: int, fast_span: int, slow_span: int) -> dict[str, float]:
    """score = EMA_fast / EMA_slow - 1 for each symbol eligible at bar position ``t``.

    Eligible: the symbol has a close on bar t and at least ``slow_span`` closes up to and including
    bar t. Only prices up to bar t are looked at.
    """
    scores = {}
    for symbol in sorted(close.columns):
        today = close[symbol].iloc[t]
        if pd.isna(today):
            continue
        history = close[symbol].iloc[: t + 1].dropna()
        if len(history) < slow_span:
            continue
        ema_fast = ema_last(history, fast_span)
        ema_slow = ema_last(history, slow_span)
        scores[symbol] = ema_fast / ema_slow - 1
    return scores


def ema_allocation_targets(close: pd.DataFrame, t: int, params: dict) -> dict[str, float] | None:
    """Target weights of the EMA allocation strategy at bar position ``t``.

    Returns None ("no opinion": nothing happens) while no symbol is eligible yet; once at least one
    symbol is eligible it returns a dict, which is empty (all cash) when no eligible symbol has a
    score > 0.
    """
    scores = ema_scores(close, t, params["fast_span"], params["slow_span"])
    if len(scores) == 0:
        return None
    positive = []
    for symbol in sorted(scores):
        if scores[symbol] > 0:
            positive.append((symbol, scores[symbol]))
    # Highest score first; equal scores keep sorted symbol order.
    positive.sort(key=lambda item: (-item[1], item[0]))
    picks = positive[: params["top_n"]]
    if len(picks) == 0:
        return {}
    weighting = params.get("weighting", "equal")
    weights = {}
    if weighting == "equal":
        for symbol, _score in picks:
            weights[symbol] = 1.0 / len(picks)
    elif weighting == "score":
        total_score = 0.0
        for _symbol, score in picks:
            total_score += score
        for symbol, score in picks:
            weights[symbol] = score / total_score
    else:
        raise ValueError(f"unknown weighting {weighting!r}")
    max_weight = params.get("max_weight")
    if max_weight is not None:
        for symbol in weights:
            # The excess over the cap stays in cash; it is not handed to the other picks.
            weights[symbol] = min(weights[symbol], max_weight)
    return weights


def strategy_targets(close: pd.DataFrame, t: int, strategy: dict) -> dict[str, float] | None:
    name = strategy["name"]
    if name == "ema_allocation":
        return ema_allocation_targets(close, t, strategy)
    if name == "equal_weight":
        listed = []
        for symbol in sorted(close.columns):
            if not pd.isna(close[symbol].iloc[t]):
                listed.append(symbol)
        if len(listed) == 0:
            return None
        return {symbol: 1.0 / len(listed) for symbol in listed}
    if name == "static_weights":
        weights = {}
        for symbol, weight in strategy["weights"].items():
            weights[symbol] = float(weight)
        return weights
    raise ValueError(f"unknown strategy {name!r}")


def check_targets(targets: dict[str, float], symbols: list[str], date: pd.Timestamp) -> None:
    total = 0.0
    for symbol, weight in targets.items():
        if symbol not in symbols:
            raise ValueError(f"{date.date()}: target weight for unknown symbol {symbol!r}")
        if weight < 0:
            raise ValueError(f"{date.date()}: negative target weight {weight} for {symbol!r}")
        total += weight
    if total > 1 + 1e-9:
        raise ValueError(f"{date.date()}: target weights sum to {total}, more than 1")


# ---------------------------------------------------------------------------------------------
# Rebalance sizing (specification section 4)
# ---------------------------------------------------------------------------------------------


def plan_rebalance(
    targets: dict[str, float],
    prices: dict[str, float],
    shares: dict[str, int],
    cash: float,
    last_close: dict[str, float],
    *,
    cash_buffer: float,
    min_trade_value: float,
    s: float,
    commission: dict,
) -> list[dict]:
    """Orders for one rebalance: sells first, then buys, each in sorted symbol order.

    ``prices`` holds the closes of the tradable symbols (those with a close on the bar); held
    symbols without a close on the bar are valued at ``last_close`` and are not traded.
    Each order is a dict: side, symbol, quantity, reference_price.
    """
    # 1. Portfolio value.
    portfolio_value = cash
    for symbol in sorted(shares):
        portfolio_value += shares[symbol] * last_close[symbol]

    sells = []
    buys = []
    for symbol in sorted(prices):
        p = prices[symbol]
        q = shares.get(symbol, 0)
        w = targets.get(symbol, 0.0)
        # 2. Target value, 3. dollar change.
        target_value = w * portfolio_value * (1 - cash_buffer)
        d = target_value - q * p
        # 4. Skip small changes.
        if abs(d) < min_trade_value:
            continue
        if d < 0:
            # 5. Sell: everything if the target is zero, else the whole shares the change covers.
            # whole shares, allowing 1e-9 of a share for floating-point rounding (25 * p / p < 25)
            n = q if w == 0 else min(q, math.floor(abs(d) / p + 1e-9))
            if n > 0:
                sells.append({"side": SELL, "symbol": symbol, "quantity": n, "reference_price": p})
        elif d > 0:
            # 6. Buy: the whole shares the change buys at the slipped price.
            n = math.floor(d / buy_fill_price(p, s) + 1e-9)
            if n > 0:
                buys.append({"side": BUY, "symbol": symbol, "quantity": n, "reference_price": p})

    # 7. Cash constraint.
    available = cash
    kept_sells = []
    for order in sells:
        proceeds = sell_proceeds(commission, order["quantity"], sell_fill_price(order["reference_price"], s))
        if proceeds < 0 and available + proceeds < 0:
            # A commission larger than the sale brings in, with no cash to pay it: cash may never go
            # negative (SPEC section 6), so the sale is not made.
            continue
        kept_sells.append(order)
        available += proceeds
    sells = kept_sells

    def expected_cost(order: dict) -> float:
        return buy_cost(commission, order["quantity"], buy_fill_price(order["reference_price"], s))

    def total_buy_cost() -> float:
        total = 0.0
        for order in buys:
            total += expected_cost(order)
        return total

    total_cost = total_buy_cost()
    if total_cost > available:
        # Scale every buy by f = A / K. If A <= 0 (sell commissions larger than everything the
        # portfolio has in cash and proceeds) no buy can be afforded: f = 0.
        f = available / total_cost if available > 0 else 0.0
        for order in buys:
            order["quantity"] = math.floor(order["quantity"] * f)
        total_cost = total_buy_cost()
        # Then take one share at a time off the buy with the largest expected cost; on equal
        # costs the later symbol in sorted order gives up the share.
        while total_cost > available:
            largest = None
            largest_cost = 0.0
            for order in buys:  # buys are in sorted symbol order
                if order["quantity"] == 0:
                    continue
                cost = expected_cost(order)
                if largest is None or cost >= largest_cost:
                    largest = order
                    largest_cost = cost
            if largest is None:
                break  # nothing left to trim
            largest["quantity"] -= 1
            total_cost = total_buy_cost()

    kept_buys = []
    for order in buys:
        if order["quantity"] > 0:
            kept_buys.append(order)
    # 8. Sells first, then buys, each in sorted symbol order (both lists were built sorted).
    return sells + kept_buys


# ---------------------------------------------------------------------------------------------
# The backtest loop
# ---------------------------------------------------------------------------------------------


class _Book:
    """Cash, positions and the trade log (specification section 6)."""

    def __init__(self, initial_cash: float, commission: dict, s: float) -> None:
        self.cash = float(initial_cash)
        self.shares: dict[str, int] = {}
        self.avg_cost: dict[str, float] = {}
        self.realized_pnl = 0.0
        self.commission = commission
        self.s = s
        self.trades: list[dict] = []

    def fill(self, date: pd.Timestamp, side: str, symbol: str, quantity: int, reference_price: float) -> None:
        if side == BUY:
            price = buy_fill_price(reference_price, self.s)
        else:
            price = sell_fill_price(reference_price, self.s)
        value = quantity * price
        commission = commission_for(self.commission, quantity, value)
        q = self.shares.get(symbol, 0)
        if side == BUY:
            self.cash -= value + commission
            old_avg = self.avg_cost.get(symbol, 0.0)
            self.avg_cost[symbol] = (q * old_avg + quantity * price) / (q + quantity)
            self.shares[symbol] = q + quantity
            pnl = 0.0
        else:
            if quantity > q:
                raise AssertionError(f"{date.date()}: selling {quantity} {symbol} but only {q} held")
            self.cash += value - commission
            pnl = (price - self.avg_cost[symbol]) * quantity - commission
            self.realized_pnl += pnl
            if q - quantity == 0:
                # The position is closed.
                del self.shares[symbol]
                del self.avg_cost[symbol]
            else:
                self.shares[symbol] = q - quantity
        self.trades.append(
            {
                "date": date,
                "symbol": symbol,
                "side": side,
                "quantity": int(quantity),
                "price": price,
                "reference_price": reference_price,
                "commission": commission,
                "slippage": abs(price - reference_price) * quantity,
                "realized_pnl": pnl,
            }
        )

    def market_values(self, last_close: dict[str, float]) -> dict[str, float]:
        values = {}
        for symbol in sorted(self.shares):
            values[symbol] = self.shares[symbol] * last_close[symbol]
        return values

    def total_value(self, last_close: dict[str, float]) -> float:
        total = self.cash
        for value in self.market_values(last_close).values():
            total += value
        return total

    def weights(self, last_close: dict[str, float]) -> dict[str, float]:
        total = self.total_value(last_close)
        weights = {}
        if total <= 0:
            return weights
        for symbol, value in self.market_values(last_close).items():
            weights[symbol] = value / total
        return weights


def _fill_pending_at_open(
    book: _Book, pending: list[dict], date: pd.Timestamp, opens: dict[str, float], notes: list
) -> None:
    """Fill the previous bar's orders at this bar's open, in publication order (sells first)."""
    for order in pending:
        symbol = order["symbol"]
        quantity = order["quantity"]
        open_price = opens.get(symbol, math.nan)
        if pd.isna(open_price):
            # No open for this symbol today: the order cannot fill and is cancelled.
            notes.append(
                {
                    "date": date,
                    "symbol": symbol,
                    "side": order["side"],
                    "requested": quantity,
                    "filled": 0,
                    "reason": "no open price",
                }
            )
            continue
        if order["side"] == SELL:
            book.fill(date, SELL, symbol, quantity, open_price)
            continue
        # A buy is re-checked against the cash available now, after the sells before it.
        fill_price = buy_fill_price(open_price, book.s)
        if buy_cost(book.commission, quantity, fill_price) > book.cash:
            # Largest whole number of shares whose cost with commission fits in the cash.
            fitting = min(quantity, math.floor(book.cash / fill_price)) if book.cash > 0 else 0
            while fitting > 0 and buy_cost(book.commission, fitting, fill_price) > book.cash:
                fitting -= 1
            notes.append(
                {
                    "date": date,
                    "symbol": symbol,
                    "side": BUY,
                    "requested": quantity,
                    "filled": fitting,
                    "reason": "reduced to the cash available at the open",
                }
            )
            quantity = fitting
        if quantity > 0:
            book.fill(date, BUY, symbol, quantity, open_price)


def reference_backtest(
    close: pd.DataFrame,
    *,
    open_: pd.DataFrame | None = None,
    initial_cash: float,
    strategy: dict,
    schedule: dict,
    cash_buffer: float = 0.0,
    min_trade_value: float = 0.0,
    timing: str = "same_close",
    commission: dict,
    slippage: dict,
) -> ReferenceResult:
    """Run the plain reference backtest. See the module docstring for the choices it makes."""
    if not isinstance(close.index, pd.DatetimeIndex):
        raise ValueError("close must have a DatetimeIndex")
    if not close.index.is_monotonic_increasing or not close.index.is_unique:
        raise ValueError("close dates must be unique and increasing")
    if timing not in ("same_close", "next_open"):
        raise ValueError(f"unknown timing {timing!r}")
    if timing == "next_open" and open_ is None:
        raise ValueError("timing 'next_open' needs open prices")

    symbols = sorted(close.columns)
    close = close[symbols]
    if open_ is not None:
        open_ = open_.reindex(index=close.index, columns=symbols)

    s = slippage_fraction(slippage)
    book = _Book(initial_cash, commission, s)
    rebalance_bars = rebalance_bar_positions(close.index, schedule)

    last_close: dict[str, float] = {}
    pending: list[dict] | None = None  # next_open: the previous rebalance's orders
    signals: dict[pd.Timestamp, dict[str, float]] = {}
    weights_history: dict[pd.Timestamp, dict[str, float]] = {}
    notes: list[dict[str, object]] = []
    values = []
    cash_history = []

    for t, date in enumerate(close.index):
        today_close = {}
        for symbol in symbols:
            price = close[symbol].iloc[t]
            if not pd.isna(price):
                today_close[symbol] = float(price)
                last_close[symbol] = float(price)

        # next_open: the previous rebalance's orders fill at this bar's open.
        filled_pending_today = False
        if pending is not None:
            assert open_ is not None
            opens = {}
            for symbol in symbols:
                opens[symbol] = float(open_[symbol].iloc[t])
            _fill_pending_at_open(book, pending, date, opens, notes)
            pending = None
            filled_pending_today = True

        # Strategy and rebalance on scheduled bars, with prices up to and including this bar.
        rebalanced_today = False
        if t in rebalance_bars:
            targets = strategy_targets(close, t, strategy)
            if targets is not None:
                check_targets(targets, symbols, date)
                signals[date] = dict(targets)
                orders = plan_rebalance(
                    targets,
                    today_close,
                    book.shares,
                    book.cash,
                    last_close,
                    cash_buffer=cash_buffer,
                    min_trade_value=min_trade_value,
                    s=s,
                    commission=commission,
                )
                if timing == "same_close":
                    for order in orders:
                        book.fill(
                            date, order["side"], order["symbol"], order["quantity"], order["reference_price"]
                        )
                    rebalanced_today = True
                else:
                    pending = orders

        # Mark to market after this bar's fills.
        values.append(book.total_value(last_close))
        cash_history.append(book.cash)
        if rebalanced_today or filled_pending_today:
            weights_history[date] = book.weights(last_close)

    if pending is not None:
        # Orders still pending when the data ends are cancelled.
        for order in pending:
            notes.append(
                {
                    "date": close.index[-1],
                    "symbol": order["symbol"],
                    "side": order["side"],
                    "requested": order["quantity"],
                    "filled": 0,
                    "reason": "cancelled at the end of the data",
                }
            )

    trades = pd.DataFrame(book.trades, columns=TRADE_COLUMNS)
    trades["quantity"] = trades["quantity"].astype("int64")
    return ReferenceResult(
        trades=trades,
        values=pd.Series(values, index=close.index, name="value", dtype="float64"),
        cash=pd.Series(cash_history, index=close.index, name="cash", dtype="float64"),
        signals=signals,
        weights=weights_history,
        notes=notes,
        positions=dict(book.shares),
        realized_pnl=book.realized_pnl,
    )
