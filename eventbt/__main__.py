"""``python -m eventbt``: the ``eventbt`` command.

Python puts the working folder first on ``sys.path`` for ``-m``; the ``eventbt`` command does not, and
neither does this: a ``module:Class`` a scenario or an audit log names is not imported from whatever folder
the command happens to run in. ``PYTHONPATH=.`` (or ``EVENTBT_IMPORT_CWD=1``) asks for the working folder.
"""

from eventbt.cli.main import drop_working_folder, program

drop_working_folder()
program()
