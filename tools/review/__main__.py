"""``python -m tools.review``: the change review's command line."""

import sys

from tools.review.cli import main

sys.exit(main())
