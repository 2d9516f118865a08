"""``python -m mwaa_ops``: the same as the ``mwaa-ops`` command."""

import sys

from mwaa_ops.cli import main

sys.exit(main())
