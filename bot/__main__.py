"""``python -m bot`` is ``partnerpulse``."""

import sys

from bot.cli import main

sys.exit(main())
