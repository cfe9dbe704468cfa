"""Sub-commands of the ``eventbt`` command line, one module each (see :mod:`eventbt.cli`)."""
