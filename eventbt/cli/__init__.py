"""The ``eventbt`` command line: :func:`main` (in :mod:`eventbt.cli.main`) and one module per sub-command in
:mod:`eventbt.cli.commands`. To add a command, drop a module there with ``add_arguments(parser)`` and
``execute(args) -> int``: it is found by name."""

from eventbt.cli.main import main

__all__ = ["main"]
