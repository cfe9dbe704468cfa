"""The replays wing: reproduce a recorded run and say where another run differs from it.

- :mod:`eventbt.replays.replayer`: ``eventbt replay`` (re-run a log's scenario, compare event by event,
  what-if runs with ``--set`` and ``--handler``) and ``eventbt diff`` (two finished logs);
- :mod:`eventbt.replays.in_memory`: the prices of a run that held them in memory, given again and checked
  against the recorded digest, for ``replay`` and ``verify``;
- :mod:`eventbt.replays.divergence`: the comparison itself: the first differing record, its causal chain,
  the end results side by side.

The wing is not called ``replay``: :func:`eventbt.replay` is a public function, and a package of that name
would shadow it.
"""
