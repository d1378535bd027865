"""``python -m linear_pg``: the command line (see :mod:`linear_pg.cli`)."""

import sys

from .cli import main

sys.exit(main())
