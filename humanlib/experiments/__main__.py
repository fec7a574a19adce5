"""``python -m humanlib.experiments experiment ...``: the experiments' commands before they are wired into ``humanlib``."""

import sys

from humanlib.experiments.runner import main

sys.exit(main())
