"""The step debugger: stop a run at a date, walk a rebalance event by event, see what each handler did.

:class:`Debugger` (in :mod:`eventbt.debug.debugger`) drives a run; :mod:`eventbt.debug.records` holds what a
step returns, :mod:`eventbt.debug.views` what the debugger shows, :mod:`eventbt.debug.render` the text and
HTML tables, and :mod:`eventbt.debug.prompt` the ``eventbt debug`` prompt. See ``docs/debugging.md``.
"""

from eventbt.debug.debugger import Breakpoint, Debugger, Steppable, day_start_ns, event_class
from eventbt.debug.records import PositionChange, StepList, StepRecord

__all__ = ["Breakpoint", "Debugger", "PositionChange", "StepList", "StepRecord", "Steppable", "day_start_ns",
           "event_class"]
