"""``python -m eventbt.cli``: the ``eventbt`` command (without the working folder on ``sys.path``, as
``python -m eventbt``; see :func:`eventbt.cli.main.drop_working_folder`)."""

from eventbt.cli.main import drop_working_folder, program

drop_working_folder()
program()
