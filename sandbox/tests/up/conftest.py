"""The whole sandbox (`python -m sandbox up` on sites.yml), shared by the tests of this directory."""

from pathlib import Path

import pytest

from sandbox.testing import running_sandbox

SITES = Path(__file__).resolve().parent / "sites.yml"


@pytest.fixture(scope="session")
def sandbox(testbed_bin, tmp_path_factory):
    """The sandbox on sites.yml, stopped at the end of the session."""
    with running_sandbox(SITES, tmp_path_factory.mktemp("sandbox")) as running:
        yield running
