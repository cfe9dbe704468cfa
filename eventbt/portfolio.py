"""The book: cash, whole-share positions, average cost, realized P&L, costs, and marks.

Arrays are indexed like the run's sorted symbols. The portfolio handler owns the one :class:`Portfolio` of a
run and is the only writer; every other handler reads it through :class:`~eventbt.handler.Context`.

Accounting (the project's rules, see ``docs/results.md``):

- BUY n at f with commission c: ``cash -= n*f + c``; ``avg = (q*avg + n*f) / (q + n)``.
- SELL n at f with commission c: ``cash += n*f - c``; ``realized += (f - avg)*n - c``; ``q -= n``.
- Cost basis is the fill price; commissions and slippage are totalled separately.
- Cash may not go below zero and a sale may not exceed the shares held: either is an
  :class:`~eventbt.errors.AccountingError`.
"""

from __future__ import annotations

import math

import numpy as np

from eventbt.errors import AccountingError
from eventbt.exact import dot

__all__ = ["Portfolio"]


def _on(date: str) -> str:
    """``"on <date> "`` for a message, or nothing: the bus's HandlerError names the event's date anyway."""
    return f"on {date} " if date else ""

# Cash is allowed to dip this far below zero from floating-point rounding (1e-7 of a cent on a
# 1e9 book would still pass); anything more is an accounting error.
_CASH_TOLERANCE = 1e-6


class Portfolio:
    """Cash and positions of one run."""

    def __init__(self, symbols: tuple[str, ...], initial_cash: float) -> None:
        if not math.isfinite(initial_cash) or initial_cash <= 0:
            raise ValueError(f"initial_cash must be a finite number > 0, got {initial_cash!r}")
        n = len(symbols)
        self.symbols = symbols
        self.index = {symbol: i for i, symbol in enumerate(symbols)}
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.positions = np.zeros(n, dtype=np.int64)
        self.average_cost = np.zeros(n)
        self.realized_pnl = np.zeros(n)
        self.marks = np.zeros(n)  # last known close per symbol (0 before the first one)
        self.total_commission = 0.0
        self.total_slippage = 0.0
        self.fills = 0
        self.external_flows = 0.0  # deposits (+) and withdrawals (-), fees booked outside fills
        self.fees_owed: dict[str, float] = {}  # fee model -> amount charged but not yet paid (no cash)
        self._held: np.ndarray | None = None  # indices of the non-zero positions (None: recompute)

    # -- writes ---------------------------------------------------------------------------------------
    def update_marks(self, close: np.ndarray) -> None:
        """Take this bar's closes as marks where a symbol has one (others keep their last close)."""
        np.copyto(self.marks, close, where=close == close)

    def apply_fill(self, i: int, side: int, quantity: int, price: float, commission: float,
                   slippage: float = 0.0, *, date: str = "") -> float:
        """Book a fill of ``quantity`` shares of symbol ``i``; returns its realized P&L."""
        held = int(self.positions[i])
        realized = 0.0
        if side > 0:
            cash = self.cash - quantity * price - commission
            if cash < -_CASH_TOLERANCE:
                raise AccountingError(
                    f"buying {quantity} {self.symbols[i]} at {price:.6g} with commission {commission:.2f} "
                    f"{_on(date)}needs {quantity * price + commission:.2f} but cash is {self.cash:.2f}",
                    symbol=self.symbols[i], date=date,
                )
            new = held + quantity
            self.average_cost[i] = (held * self.average_cost[i] + quantity * price) / new
            self.positions[i] = new
        else:
            if quantity > held:
                raise AccountingError(
                    f"selling {quantity} {self.symbols[i]} {_on(date)}but only {held} are held",
                    symbol=self.symbols[i], date=date,
                )
            cash = self.cash + quantity * price - commission
            if cash < -_CASH_TOLERANCE:
                raise AccountingError(
                    f"selling {quantity} {self.symbols[i]} at {price:.6g} {_on(date)}brings in "
                    f"{quantity * price:.2f} but costs {commission:.2f} in commission; cash is {self.cash:.2f}",
                    symbol=self.symbols[i], date=date,
                )
            realized = (price - self.average_cost[i]) * quantity - commission
            self.realized_pnl[i] += realized
            left = held - quantity
            self.positions[i] = left
            if left == 0:
                self.average_cost[i] = 0.0
        self.cash = cash
        self._held = None
        self.total_commission += commission
        self.total_slippage += slippage
        self.fills += 1
        return float(realized)

    def apply_cash_flow(self, amount: float, *, reason: str, date: str = "") -> None:
        """A deposit (amount > 0), withdrawal or fee (amount < 0) outside any fill."""
        if self.cash + amount < -_CASH_TOLERANCE:
            raise AccountingError(
                f"{reason} of {amount:.2f} {_on(date)}would leave cash at {self.cash + amount:.2f}", date=date
            )
        self.cash += amount
        self.external_flows += amount

    def apply_fee(self, model: str, amount: float, *, date: str = "") -> float:
        """Book a fee of ``model`` (``amount`` > 0 charged, < 0 credited); returns what was paid now.

        A charge never takes cash below zero: what the cash cannot cover (with anything the same model
        already owes) stays in :attr:`fees_owed` and is paid first from that model's next fee.
        """
        if amount < 0:
            self.apply_cash_flow(-amount, reason=f"{model} credit", date=date)
            return amount
        due = self.fees_owed.get(model, 0.0) + amount
        paid = min(due, max(self.cash, 0.0))
        self.fees_owed[model] = due - paid
        self.cash -= paid
        self.external_flows -= paid
        return paid

    # -- reads ----------------------------------------------------------------------------------------
    def held_index(self) -> np.ndarray:
        """Indices of the symbols with a non-zero position, in symbol order."""
        held = self._held
        if held is None:
            held = self._held = np.flatnonzero(self.positions)
        return held

    def positions_value(self) -> float:
        """``sum(q * mark)`` over held positions, exactly rounded (:mod:`eventbt.exact`): the same bits on
        every machine, where a BLAS dot product's last bit depends on the CPU."""
        held = self.held_index()
        return dot(self.positions[held], self.marks[held])

    def total_value(self) -> float:
        return self.cash + self.positions_value()

    def weights(self) -> np.ndarray:
        """Market value per symbol / total value, at the current marks."""
        total = self.total_value()
        values = self.positions * self.marks
        return values / total if total > 0 else np.zeros_like(values)

    def position(self, symbol: str) -> int:
        return int(self.positions[self.index[symbol]])

    def unrealized_pnl(self) -> float:
        held = self.held_index()
        return dot(self.positions[held], self.marks[held] - self.average_cost[held])

    def held(self) -> dict[str, int]:
        """Non-zero positions, in symbol order."""
        return {self.symbols[i]: int(q) for i, q in enumerate(self.positions) if q}
