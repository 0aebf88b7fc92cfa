"""python -m bench [--sizes 1,5,10] ...: the fleet benchmark (see bench/fleet.py and docs/benchmark.md)."""

import sys

from .fleet import main

sys.exit(main())
