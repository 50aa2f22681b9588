"""``python -m rill.serving``."""

import sys

from rill.serving.cli import main

sys.exit(main())
