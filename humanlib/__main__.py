"""``python -m humanlib ...`` is the ``humanlib`` command (useful where scripts are not on PATH)."""

import sys

from humanlib.cli import main

sys.exit(main())
