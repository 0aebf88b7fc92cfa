"""The fleet fixture: one emulator with five connected clusters for the inventory tests (inventory_fleet.py)."""

import pytest
import yaml
from inventory_fleet import CONNECTED, SITES, connect, start

from sandbox.testing import ArmSession


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    base = tmp_path_factory.mktemp("inventory-azure")
    sites_file = base / "sites.yml"
    sites_file.write_text(yaml.safe_dump(SITES))
    running = start(base / "emulator", sites_file)
    try:
        arm = ArmSession(running.env)  # Microsoft.Kubernetes is registered: a provisioned site proves it
        for group, name, location, tags, status in CONNECTED:
            connect(running, arm, group, name, location, tags, status)
        yield running
    finally:
        running.stop()
