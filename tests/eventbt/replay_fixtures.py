"""A user's replacement execution handler, named by import path in the --handler what-if tests."""

from __future__ import annotations

from typing import Any

from eventbt.costs import ZeroCommission
from handlers.execution import ExecutionHandler


class FreeExecution(ExecutionHandler):
    """The built-in execution with every commission waived (a broker promotion, say)."""

    def __init__(self, *, commission: Any, **arguments: Any) -> None:
        super().__init__(commission=ZeroCommission(), **arguments)


class NotAHandler:
    """Not a Handler subclass: --handler must refuse it."""
