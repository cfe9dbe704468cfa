"""``python -m eventbt``: the ``eventbt`` command."""

import sys

from eventbt.cli.main import main

sys.exit(main())
