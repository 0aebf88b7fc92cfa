"""The sandbox's own tests: make `sandbox` importable and provide the Kubernetes testbed fixtures."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sandbox.testing import start_cluster, testbed_bin, testbed_env  # noqa: E402, F401 -- pytest fixtures
