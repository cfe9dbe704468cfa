"""The sweeps wing: one scenario run over many parameter combinations, ranked; walk-forward windows.

- :mod:`eventbt.sweeps.grid`: :func:`sweep` (grid or random combinations, ``--resume``, ranking, results
  files, the heatmap);
- :mod:`eventbt.sweeps.executors`: where the combinations run (serial, local processes, a Dask cluster);
- :mod:`eventbt.sweeps.walkforward`: train on one window, test the best combination on the next, stitch.

The wing is not called ``sweep``: :func:`eventbt.sweep` is a public function, and a package of that name
would shadow it. ``from eventbt.sweeps import sweep`` keeps working.
"""

from eventbt.sweeps.grid import Executor, SweepResult, sweep
from eventbt.sweeps.walkforward import WalkForwardResult, walk_forward

__all__ = ["Executor", "SweepResult", "WalkForwardResult", "sweep", "walk_forward"]
