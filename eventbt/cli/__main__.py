"""``python -m eventbt.cli``: the ``eventbt`` command (without the working folder on ``sys.path``, as
``python -m eventbt``; see :func:`eventbt.cli.main.drop_working_folder`)."""

import sys

from eventbt.cli.main import drop_working_folder, main

drop_working_folder()
sys.exit(main())
