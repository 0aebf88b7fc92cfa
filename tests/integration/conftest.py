"""Fixtures shared by the integration tests: the Kubernetes testbed (sandbox/testing.py)."""

from sandbox.testing import start_cluster, testbed_bin, testbed_env  # noqa: F401 -- pytest fixtures
