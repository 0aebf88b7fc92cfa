"""Injected faults: the real SDK rides out throttling, server errors and dropped connections, and the request
log shows every attempt."""

import os
import time

import pytest
from contract_helpers import public_key_certificate

pytestmark = pytest.mark.sandbox

RG = "rg-site-a"


@pytest.fixture
def client(credential, arm_scope, registered):
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient

    return ConnectedKubernetesClient(
        credential,
        os.environ["AZURE_SUBSCRIPTION_ID"],
        base_url=os.environ["AZURE_CLOUD_ENVIRONMENT"],
        credential_scopes=[arm_scope],
    )


def test_throttling_server_errors_and_resets_are_retried(client, emulator, clean_faults):
    name = "cc-faults"
    client.connected_cluster.list_by_resource_group(RG)  # a token before the faults start
    emulator.admin.add_faults(
        {"method": "PUT", "path": f"/connectedClusters/{name}$", "status": 429, "retry_after": 1, "count": 3},
        {"method": "GET", "path": "/operationStatuses/", "status": 503, "count": 1},
        {"method": "GET", "path": f"/connectedClusters/{name}$", "reset": True, "count": 1},
    )
    seq = emulator.admin.last_seq()
    started = time.monotonic()

    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {"agentPublicKeyCertificate": public_key_certificate()},
    }
    cluster = client.connected_cluster.begin_create_or_replace(RG, name, body).result()

    assert cluster.provisioning_state == "Succeeded"
    assert time.monotonic() - started >= 3  # three Retry-After: 1 honoured
    log = emulator.admin.requests(seq)
    puts = [e for e in log if e["method"] == "PUT"]
    assert [e["status"] for e in puts] == [429, 429, 429, 201]
    assert all(e["fault"] for e in puts[:3]) and puts[3]["fault"] is None
    polls = [e for e in log if "/operationStatuses/" in e["path"]]
    assert polls[0]["status"] == 503 and polls[-1]["status"] == 200
    final = [e for e in log if e["method"] == "GET" and e["path"].endswith(f"/connectedClusters/{name}")]
    assert [(e["outcome"], e["status"]) for e in final] == [("reset", None), ("response", 200)]
    assert [rule["hits"] for rule in emulator.admin.faults()] == [3, 1, 1]


def test_added_latency_shows_in_the_log(client, emulator, clean_faults):
    emulator.admin.add_faults({"method": "GET", "path": "/connectedClusters$", "latency": 0.3, "count": 1})
    seq = emulator.admin.last_seq()
    list(client.connected_cluster.list_by_resource_group(RG))
    listed = [e for e in emulator.admin.requests(seq) if e["path"].endswith("/connectedClusters")]
    assert listed[0]["status"] == 200 and listed[0]["durationMs"] >= 300


def test_the_admin_api_rejects_bad_rules(emulator, clean_faults):
    import requests

    response = requests.post(
        f"{emulator.url}/_sandbox/faults", json={"status": 200}, verify=emulator.ca_bundle, timeout=10
    )
    assert response.status_code == 400
    assert emulator.admin.faults() == []
