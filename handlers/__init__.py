"""The bus handlers of the pipeline, one module per stage (see ``eventbt/pipeline.py`` for their order).

``data_feed`` (the bus's source), ``strategy``, ``rebalance``, ``execution``, ``portfolio``, ``delisting``,
``injected`` (a scenario's ``[[events]]``) and ``fees`` (the fee handlers). Handlers never import each other:
they talk only through events. The cost models that used to live here as ``handlers.costs`` and
``handlers.impact`` are now :mod:`eventbt.costs`; the old paths still resolve, with a deprecation warning,
for one release (see ``eventbt.MOVED_MODULES``).
"""

import eventbt as _eventbt  # installs the import aliases of the moved modules, so `import handlers.costs` works first

del _eventbt
