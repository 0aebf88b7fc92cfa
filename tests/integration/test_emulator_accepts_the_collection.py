"""The emulator's request-body rules (sandbox/emulator/schema.py) accept what the collection really sends.

Kept apart from the sandbox's own unit tests, which do not import the collection.
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import TAGS
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec, create_body

from sandbox.emulator import schema

CLUSTER_VERSION = "2026-05-01"
EXTENSION_VERSION = "2024-11-01"
RELAY_VERSION = "2021-11-01"
CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1"
KEY = "TUlJQkNnS0NBUUVB"


def test_the_connected_cluster_bodies_the_collection_sends_are_accepted():
    desired = resource.Desired(name="c1", location="eastus", distribution="aks_workload", agent_auto_upgrade=True)
    body = resource.new_body(desired, "eastus", KEY)
    assert schema.connected_cluster_put(body, CLUSTER_VERSION) == body


def test_the_re_put_of_a_read_back_cluster_is_accepted():
    # The cluster as a GET returns it: read-only fields included.
    desired = resource.Desired(name="c1", location="eastus", distribution="aks_workload", agent_auto_upgrade=True)
    current = resource.new_body(desired, "eastus", KEY)
    current.update(id=CLUSTER, name="c1", type="microsoft.kubernetes/connectedclusters", systemData={"createdBy": "me"})
    current["properties"].update(connectivityStatus="Connected", totalNodeCount=3, provisioningState="Succeeded")
    current["identity"].update(principalId="p", tenantId="t")
    body = resource.writable(current)
    assert schema.connected_cluster_put(body, CLUSTER_VERSION)["properties"]["agentPublicKeyCertificate"] == KEY


def test_the_extension_body_the_collection_sends_is_accepted():
    spec = ExtensionSpec(
        "microsoft.azureml.kubernetes",
        scope="cluster",
        release_namespace="azureml",
        settings={"enableInference": "True"},
        protected={"sslKey": "x"},
        identity={"type": "SystemAssigned"},
    )
    body = create_body(spec, "connectedClusters")
    assert schema.extension_put(body, EXTENSION_VERSION) == body


def test_the_relay_bodies_the_collection_sends_are_accepted():
    namespace = {"location": "eastus", "tags": dict(TAGS)}
    assert schema.relay_put(namespace, schema.RELAY_NAMESPACE_PUT, RELAY_VERSION) == namespace
    connection = {"properties": {"requiresClientAuthorization": True}}
    assert schema.relay_put(connection, schema.RELAY_HYBRID_CONNECTION_PUT, RELAY_VERSION) == connection
    rule = {"properties": {"rights": ["Listen", "Send"]}}
    assert schema.relay_put(rule, schema.RELAY_AUTHORIZATION_RULE_PUT, RELAY_VERSION) == rule
