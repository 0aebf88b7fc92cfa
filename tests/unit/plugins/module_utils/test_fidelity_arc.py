"""The Microsoft.Kubernetes and resource group requests of connected_cluster(_info), pinned to az connectedk8s's.

az connectedk8s (https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py)
sends the same requests through the hybridkubernetes SDK: `get_connectedk8s` (client.get: GET),
`list_connectedk8s` (client.list_by_resource_group / client.list_by_subscription: GET of the collection),
`create_cc_resource` (client.begin_create_or_replace: PUT) and `delete_cc_resource` (DELETE); a missing location
is the resource group's (`validate_custom_token` in
https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py:
cf_resource_groups(...).get(resource_group_name).location). The operations are those of the REST spec
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
"""

import json
from types import SimpleNamespace

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.onboarding import RESOURCE_GROUP_API_VERSION, Onboarding
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.tasks import read_connected_clusters
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import ArmClient, create_pipeline_client

ARM = "https://arm.sandbox.local"
SUB = "22b4a233-756b-403b-a5e1-fd3368f5689a"
CLUSTERS = f"{ARM}/subscriptions/{SUB}/resourceGroups/rg-site1/providers/Microsoft.Kubernetes/connectedClusters"
API = _arc_resource.API_VERSION


@pytest.fixture
def arm(make_transport, make_reply, fake_credential):
    """An ArmClient that answers 200 with a resource group location and an empty list; `.sent` the requests."""
    transport = make_transport(lambda request: make_reply(200, {"location": "eastus", "value": []}))
    pipeline = create_pipeline_client(
        ARM,
        "corr",
        credential=fake_credential(),
        scope="https://management.sandbox.local/.default",
        transport=transport,
    )
    client = ArmClient(pipeline, ARM, "corr")
    client.sent = lambda: [
        (request.method, request.url, json.loads(request.content) if request.content else None)
        for request in transport.requests
    ]
    return client


def info_module(arm, name=None, resource_group=None):
    return SimpleNamespace(
        params={"name": name, "resource_group": resource_group},
        result={},
        azure=lambda: SimpleNamespace(arm=arm, subscription_id=SUB),
    )


def onboarding(arm):
    """An Onboarding with only what its ARM calls use (no cluster, no options)."""
    task = Onboarding.__new__(Onboarding)
    task.arm, task.azure, task.resource_group = arm, SimpleNamespace(subscription_id=SUB), "rg-site1"
    task.path = _arc_resource.cluster_path(SUB, "rg-site1", "site1")
    task.module = SimpleNamespace(waiter=lambda: None)
    return task


def test_the_api_version_is_the_ga_one_azure_mgmt_hybridkubernetes_defaults_to():
    assert API == "2026-05-01"


def test_info_gets_one_cluster_or_lists_those_of_a_group_or_of_the_subscription(arm):
    read_connected_clusters(info_module(arm, "site1", "rg-site1"))
    read_connected_clusters(info_module(arm, resource_group="rg-site1"))
    read_connected_clusters(info_module(arm))
    assert arm.sent() == [
        ("GET", f"{CLUSTERS}/site1?api-version={API}", None),
        ("GET", f"{CLUSTERS}?api-version={API}", None),
        ("GET", f"{ARM}/subscriptions/{SUB}/providers/Microsoft.Kubernetes/connectedClusters?api-version={API}", None),
    ]


def test_a_missing_location_is_read_from_the_resource_group(arm):
    assert onboarding(arm).resource_group_location() == "eastus"
    assert arm.sent() == [
        ("GET", f"{ARM}/subscriptions/{SUB}/resourcegroups/rg-site1?api-version={RESOURCE_GROUP_API_VERSION}", None)
    ]


def test_the_writes_are_put_patch_and_delete_of_the_cluster(arm):
    task = onboarding(arm)
    put = _arc_resource.Write({}, put={"location": "eastus", "properties": {}})
    patch = _arc_resource.Write({}, patch={"tags": {"site": "1"}})
    task.write_resource(put, wait_for_it=False)
    task.write_resource(patch, wait_for_it=False)
    arm.delete(task.path, API)
    assert arm.sent() == [
        ("PUT", f"{CLUSTERS}/site1?api-version={API}", {"location": "eastus", "properties": {}}),
        ("PATCH", f"{CLUSTERS}/site1?api-version={API}", {"tags": {"site": "1"}}),
        ("DELETE", f"{CLUSTERS}/site1?api-version={API}", None),
    ]
