"""``python -m navigator.cli``."""

import sys

from navigator.cli.main import main

sys.exit(main())
