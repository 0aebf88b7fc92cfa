"""connectedClusters lists in pages: the real ConnectedKubernetesClient follows the emulator's nextLink."""

import os

import pytest
from contract_helpers import public_key_certificate

pytestmark = pytest.mark.sandbox

RG = "rg-paging"
API = "api-version=2026-05-01"
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"
NAMES = ("cc-page-1", "cc-page-2", "cc-page-3")


@pytest.fixture
def client(credential, arm_scope, registered):
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient

    return ConnectedKubernetesClient(
        credential,
        os.environ["AZURE_SUBSCRIPTION_ID"],
        base_url=os.environ["AZURE_CLOUD_ENVIRONMENT"],
        credential_scopes=[arm_scope],
    )


@pytest.fixture(scope="module")
def three_clusters(emulator, registered):
    """Three connected clusters in their own resource group, created once for the module."""
    from contract_helpers import arm_token, fetch

    headers = {"Authorization": f"Bearer {arm_token(emulator)}"}
    group = f"{emulator.url}/subscriptions/{emulator.subscription_id}/resourcegroups/{RG}"
    fetch(emulator, "PUT", f"{group}?api-version=2022-09-01", headers=headers, json={"location": "eastus"})
    body = {"location": "eastus", "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public_key_certificate()}}  # fmt: skip
    for name in NAMES:
        url = f"{group}/{CLUSTERS}/{name}?{API}"
        fetch(emulator, "PUT", url, headers=headers, json=body).raise_for_status()
    return NAMES


@pytest.fixture
def pages_of_two(emulator):
    emulator.admin.settings(list_page_size=2)
    yield
    emulator.admin.settings(list_page_size=0)


def list_requests(emulator, seq, scope):
    return [e for e in emulator.admin.requests(seq) if e["method"] == "GET" and e["path"].lower() == scope.lower()]


def test_the_sdk_follows_next_link_through_every_page(client, emulator, three_clusters, pages_of_two):
    seq = emulator.admin.last_seq()
    listed = [c.name for c in client.connected_cluster.list_by_resource_group(RG)]
    assert listed == sorted(three_clusters)
    scope = f"/subscriptions/{emulator.subscription_id}/resourceGroups/{RG}/{CLUSTERS}"
    pages = list_requests(emulator, seq, scope)
    assert len(pages) == 2
    assert "$skiptoken" not in pages[0]["query"] and "$skiptoken" in pages[1]["query"]
    assert all(page["status"] == 200 for page in pages)


def test_the_subscription_list_pages_over_every_resource_group(client, emulator, three_clusters, pages_of_two):
    everything = emulator.admin.clusters()
    seq = emulator.admin.last_seq()
    listed = [c.id.lower() for c in client.connected_cluster.list_by_subscription()]
    assert sorted(listed) == sorted(c["id"].lower() for c in everything)
    assert len(set(listed)) == len(listed)
    pages = list_requests(emulator, seq, f"/subscriptions/{emulator.subscription_id}/{CLUSTERS}")
    assert len(pages) == (len(everything) + 1) // 2


def test_a_page_is_value_and_an_absolute_next_link(arm, emulator, three_clusters, pages_of_two):
    path = f"/subscriptions/{emulator.subscription_id}/resourceGroups/{RG}/{CLUSTERS}"
    first = arm("GET", f"{path}?{API}").json()
    assert set(first) == {"value", "nextLink"} and len(first["value"]) == 2
    assert first["nextLink"].startswith(f"{emulator.url}{path}?{API}&$skiptoken=")
    last = arm("GET", first["nextLink"][len(emulator.url) :]).json()
    assert set(last) == {"value"} and [c["name"] for c in last["value"]] == [NAMES[2]]


def test_a_skip_token_the_service_did_not_issue_is_refused(arm, emulator, three_clusters):
    path = f"/subscriptions/{emulator.subscription_id}/resourceGroups/{RG}/{CLUSTERS}"
    answer = arm("GET", f"{path}?{API}&$skiptoken=not-ours")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidSkipToken"
