"""``python -m switchboard_training`` is ``switchboard-train``."""

import sys

from switchboard_training.cli import main

sys.exit(main())
