"""The emulator's state lives in its directory: a restart keeps every resource, principal and setting."""

import pytest
import requests
from contract_helpers import arm_token, fetch, start_emulator

pytestmark = pytest.mark.sandbox


def test_state_survives_a_restart(tmp_path, sites_file):
    directory = tmp_path / "restarted"
    first = start_emulator(directory, sites_file)
    try:
        sub = first.subscription_id
        token = arm_token(first)
        path = f"/subscriptions/{sub}/resourcegroups/rg-kept?api-version=2022-09-01"
        created = fetch(
            first, "PUT", first.url + path, json={"location": "eastus"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201
        first.admin.settings(lro_seconds=0.5)
        env_before = first.env
    finally:
        first.stop()
    assert not (directory / "emulator.json").exists()

    # Restarted on its port, the emulator keeps its URLs (and so its token audiences) stable.
    port = int(first.url.rsplit(":", 1)[1])
    second = start_emulator(directory, sites_file, port=port)
    try:
        env_after = second.env
        for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
            assert env_after[name] == env_before[name]
        # A token from before the restart is still good: the signing key is kept too.
        kept = requests.get(
            second.url + path, headers={"Authorization": f"Bearer {token}"}, verify=second.ca_bundle, timeout=10
        )
        assert kept.status_code == 200 and kept.json()["name"] == "rg-kept"
        assert second.admin.settings()["lro_seconds"] == 0.5
    finally:
        second.stop()
