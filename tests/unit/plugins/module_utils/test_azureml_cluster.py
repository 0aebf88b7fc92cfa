"""The cluster facts the Azure ML settings are derived from: from Azure, and nodes from Kubernetes."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.cluster import (
    label_selector,
    read_cluster,
    schedulable_linux_nodes,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import ClusterRef


class FakeArm:
    def __init__(self, body=None, error=None):
        self.body = body
        self.error = error
        self.requests = []

    def get(self, path, api_version):
        self.requests.append((path, api_version))
        if self.error:
            raise self.error
        return self.body


def ref(cluster_type="connectedClusters"):
    return ClusterRef("sub", "rg", cluster_type, "c1")


def test_arc_cluster_facts():
    properties = {"totalNodeCount": 2, "distribution": "OpenShift", "connectivityStatus": "Connected"}
    arm = FakeArm({"location": "WestEurope", "properties": properties})
    facts = read_cluster(arm, ref())
    cluster_id = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1"
    assert arm.requests == [(cluster_id, "2024-01-01")]
    assert facts.id == cluster_id
    assert (facts.location, facts.node_count, facts.distribution, facts.connectivity) == (
        "westeurope",
        2,
        "OpenShift",
        "Connected",
    )


def test_aks_node_count_is_the_sum_of_the_agent_pools():
    arm = FakeArm({"location": "eastus", "properties": {"agentPoolProfiles": [{"count": 1}, {"count": 1}]}})
    facts = read_cluster(arm, ref("managedClusters"))
    assert facts.node_count == 2
    assert arm.requests[0][0].endswith("/providers/Microsoft.ContainerService/managedClusters/c1")


def test_an_unknown_node_count_stays_unknown():
    assert read_cluster(FakeArm({"location": "eastus", "properties": {}}), ref()).node_count is None


def test_a_missing_cluster_says_to_connect_it_first():
    error = AzureApiError("GET", "/c1", 404, "ResourceNotFound", "not found", request_id="rid-9")
    with pytest.raises(ArcMLError) as raised:
        read_cluster(FakeArm(error=error), ref())
    assert "does not exist in Azure (x-ms-request-id: rid-9)" in str(raised.value)
    assert "hci.arc_ml.connected_cluster" in str(raised.value)


def test_other_errors_pass_through():
    error = AzureApiError("GET", "/c1", 403, "AuthorizationFailed", "no")
    with pytest.raises(AzureApiError):
        read_cluster(FakeArm(error=error), ref())


def test_the_node_selector_narrows_the_linux_selector():
    assert label_selector() == "kubernetes.io/os=linux"
    assert label_selector({"pool": "ml", "a": "b"}) == "kubernetes.io/os=linux,a=b,pool=ml"


def test_cordoned_nodes_do_not_count():
    nodes = [{"spec": {"unschedulable": flag}} for flag in (None, False, True)]
    nodes.append({"spec": {}})
    nodes.append({})
    assert schedulable_linux_nodes(nodes) == 4


def test_a_missing_cluster_is_none_when_not_required():
    # Check mode on a new site: the connected cluster is only planned by the task before.
    arm = FakeArm(error=AzureApiError("GET", "/x", 404, "ResourceNotFound", "not found"))
    assert read_cluster(arm, ref(), required=False) is None
    with pytest.raises(ArcMLError, match="does not exist in Azure"):
        read_cluster(arm, ref())
