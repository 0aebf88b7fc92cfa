"""connectedClusters through the real ConnectedKubernetesClient and its pollers."""

import os

import pytest
from azure.core.exceptions import ResourceNotFoundError
from contract_helpers import public_key_certificate, wait_for

pytestmark = pytest.mark.sandbox

RG = "rg-site-a"
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"


@pytest.fixture
def client(credential, arm_scope, registered):
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient

    return ConnectedKubernetesClient(
        credential,
        os.environ["AZURE_SUBSCRIPTION_ID"],
        base_url=os.environ["AZURE_CLOUD_ENVIRONMENT"],
        credential_scopes=[arm_scope],
    )


def test_create_read_update_list_delete(client, emulator):
    seq = emulator.admin.last_seq()
    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "tags": {"site": "a"},
        "properties": {
            "agentPublicKeyCertificate": public_key_certificate(),
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
        },
    }
    created = client.connected_cluster.begin_create_or_replace(RG, "cc-crud", body).result()
    assert created.provisioning_state == "Succeeded"
    assert created.connectivity_status == "Connecting"  # only the agents make it Connected
    assert created.type == "microsoft.kubernetes/connectedclusters"
    assert created.identity.principal_id and created.identity.tenant_id == os.environ["AZURE_TENANT_ID"]
    assert created.properties.azure_hybrid_benefit == "NotApplicable"
    assert created.properties.arc_agent_profile.agent_auto_upgrade == "Enabled"

    put = [e for e in emulator.admin.requests(seq) if e["method"] == "PUT"]
    assert put[0]["status"] == 201

    fetched = client.connected_cluster.get(RG, "cc-crud")
    assert fetched.properties.agent_public_key_certificate == body["properties"]["agentPublicKeyCertificate"]

    patched = client.connected_cluster.begin_update_async(
        RG, "cc-crud", {"tags": {"site": "a", "owner": "ml"}, "properties": {"distribution": "aks_management"}}
    ).result()
    assert patched.tags == {"site": "a", "owner": "ml"}
    assert patched.properties.distribution == "aks_management"
    assert patched.properties.infrastructure == "azure_stack_hci"

    assert "cc-crud" in [c.name for c in client.connected_cluster.list_by_resource_group(RG)]
    assert "cc-crud" in [c.name for c in client.connected_cluster.list_by_subscription()]

    assert client.connected_cluster.begin_delete(RG, "cc-crud").result() is None
    with pytest.raises(ResourceNotFoundError, match="ResourceNotFound"):
        client.connected_cluster.get(RG, "cc-crud")


def test_lro_headers_and_operation_status_like_the_service(arm, registered, emulator):
    # Lower-case 'resourcegroups', as older clients send it.
    path = f"/subscriptions/{emulator.subscription_id}/resourcegroups/{RG}/{CLUSTERS}/cc-headers"
    body = {"location": "eastus", "properties": {"agentPublicKeyCertificate": public_key_certificate()}}
    created = arm("PUT", path + "?api-version=2024-01-01", json=body)
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Accepted"
    assert "Location" not in created.headers and created.headers["Retry-After"]
    status_url = created.headers["Azure-AsyncOperation"]
    assert "/providers/Microsoft.Kubernetes/locations/EASTUS/operationStatuses/" in status_url
    assert created.headers["x-ms-request-id"] and created.headers["x-ms-correlation-request-id"]

    status = arm("GET", status_url[len(emulator.url) :]).json()
    assert status["status"] in ("Accepted", "Succeeded") and status["resourceId"].endswith("/cc-headers")

    deleted = arm("DELETE", path + "?api-version=2024-01-01")
    assert deleted.status_code == 202
    assert deleted.headers["Location"] == deleted.headers["Azure-AsyncOperation"]
    assert arm("DELETE", path.replace("cc-headers", "never-was") + "?api-version=2024-01-01").status_code == 204


def test_a_patch_on_an_older_api_version_is_synchronous(arm, registered, emulator):
    path = f"/subscriptions/{emulator.subscription_id}/resourceGroups/{RG}/{CLUSTERS}/cc-sync"
    created = arm(
        "PUT",
        path + "?api-version=2024-01-01",
        json={"location": "eastus", "properties": {"agentPublicKeyCertificate": public_key_certificate()}},
    )
    busy = arm("PATCH", path + "?api-version=2024-01-01", json={"tags": {"x": "y"}})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "AnotherOperationInProgress"
    status = created.headers["Azure-AsyncOperation"][len(emulator.url) :]
    wait_for(lambda: arm("GET", status).json()["status"] == "Succeeded", 10, "the PUT")

    patched = arm("PATCH", path + "?api-version=2024-01-01", json={"tags": {"x": "y"}})
    assert patched.status_code == 200 and patched.json()["tags"] == {"x": "y"}
    rejected = arm("PATCH", path + "?api-version=2024-01-01", json={"properties": {"privateLinkState": "Enabled"}})
    assert rejected.status_code == 400


def test_agents_report_connectivity_through_the_hooks(client, emulator):
    created = client.connected_cluster.begin_create_or_replace(
        RG,
        "cc-agents",
        {
            "location": "eastus",
            "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public_key_certificate()},
        },
    ).result()
    listed = {c["id"]: c for c in emulator.admin.clusters()}
    assert listed[created.id]["agentPublicKeyCertificate"] == created.properties.agent_public_key_certificate

    emulator.admin.report_cluster(
        created.id,
        connectivityStatus="Connected",
        kubernetesVersion="1.36.3",
        totalNodeCount=3,
        totalCoreCount=12,
        agentVersion="1.26.0",
    )
    connected = client.connected_cluster.get(RG, "cc-agents")
    assert connected.connectivity_status == "Connected"
    assert (connected.kubernetes_version, connected.total_node_count, connected.agent_version) == (
        "1.36.3",
        3,
        "1.26.0",
    )
    assert connected.last_connectivity_time is not None


def test_provisioned_sites_are_preseeded_as_connected_aks_arc_clusters(client):
    cluster = client.connected_cluster.get("rg-site-p", "site-p")
    assert cluster.kind == "ProvisionedCluster"
    assert cluster.connectivity_status == "Connected"
    assert cluster.total_node_count == 2 and cluster.total_core_count == 8
