"""python -m sandbox up|down|status — the local Azure + Kubernetes stand-in."""

import sys

from .cli import main

sys.exit(main())
