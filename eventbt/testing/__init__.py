"""Helpers for testing code that plugs into eventbt, the way eventbt tests its own.

- :class:`EventFactory`: events with ids, times and causes filled in;
- :class:`RecordingHandler`, :func:`bind`, :func:`deliver`: run one handler on chosen events, or see what
  reached a handler in a real run;
- :func:`fixed_clock`: freeze the wall clock that run metadata records (freezegun);
- :func:`check_commission_model`, :func:`check_slippage_model`: the cost-model contract.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from eventbt.testing.cost_model_contract import check_commission_model, check_slippage_model
from eventbt.testing.factories import EventFactory
from eventbt.testing.recording import RecordingHandler, bind, deliver

__all__ = [
    "EventFactory",
    "RecordingHandler",
    "bind",
    "check_commission_model",
    "check_slippage_model",
    "deliver",
    "fixed_clock",
]


@contextlib.contextmanager
def fixed_clock(when: str = "2024-01-02T00:00:00") -> Iterator[None]:
    """Freeze the wall clock (for the ``wall_clock`` fields of an audit log) inside the block.

    Needs freezegun (``pip install freezegun``; it comes with eventbt's ``test`` extra). pandas, which a run
    imports only when it first needs it, is imported before the clock is frozen: freezegun swaps ``datetime``'s
    classes, and pandas' compiled parts first imported under them crashed the process (a first run inside the
    block, in a fresh process).
    """
    import pandas  # noqa: F401  (imported before freezing; see above)
    from freezegun import freeze_time

    with freeze_time(when):
        yield
