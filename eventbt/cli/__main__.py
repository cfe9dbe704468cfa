"""``python -m eventbt.cli``: the ``eventbt`` command."""

import sys

from eventbt.cli.main import main

sys.exit(main())
