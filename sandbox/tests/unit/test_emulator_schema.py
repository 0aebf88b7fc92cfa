"""The emulator checks request bodies against the REST spec of their api-version (sandbox/emulator/schema.py).

Specs:
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json
Read-only properties in a PUT are ignored, not refused (armapi-review.instructions.md, OAPI021).
"""

import pytest

from sandbox.emulator import ml, schema
from sandbox.emulator.arm import ArmError

CLUSTER_VERSION = "2026-05-01"
EXTENSION_VERSION = "2024-11-01"
CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1"
KEY = "TUlJQkNnS0NBUUVB"


def cluster_body(**changes):
    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "agentPublicKeyCertificate": KEY,
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
        },
    }
    body.update(changes)
    return body


def refused(call, *args):
    with pytest.raises(ArmError) as err:
        call(*args)
    assert err.value.status == 400
    return err.value


# --- connectedClusters 2026-05-01 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "target"),
    [
        (cluster_body(identity=None), "identity"),
        (cluster_body(identity={}), "identity.type"),
        (cluster_body(properties=None), "properties"),
        (cluster_body(properties={"distribution": "aks"}), "properties.agentPublicKeyCertificate"),
        (cluster_body(location=None), "location"),
    ],
)
def test_a_cluster_without_what_the_spec_requires_is_refused(body, target):
    error = refused(schema.connected_cluster_put, body, CLUSTER_VERSION)
    assert error.code == "InvalidRequestContent"
    assert error.extra["target"] == target
    assert f"'{target}' is required" in error.message


@pytest.mark.parametrize(
    ("body", "target"),
    [
        (cluster_body(identity={"type": "UserAssigned"}), "identity.type"),
        (cluster_body(kind="AKS"), "kind"),
        (
            cluster_body(properties={"agentPublicKeyCertificate": KEY, "privateLinkState": "On"}),
            "properties.privateLinkState",
        ),
        (
            cluster_body(
                properties={"agentPublicKeyCertificate": KEY, "arcAgentProfile": {"agentAutoUpgrade": "true"}}
            ),
            "properties.arcAgentProfile.agentAutoUpgrade",
        ),
    ],
)
def test_a_cluster_enum_outside_the_spec_is_refused(body, target):
    assert refused(schema.connected_cluster_put, body, CLUSTER_VERSION).extra["target"] == target


def test_enum_values_compare_case_insensitively():
    body = cluster_body(identity={"type": "systemassigned"})
    assert schema.connected_cluster_put(body, CLUSTER_VERSION) == body


def test_read_only_cluster_properties_in_a_put_are_ignored_not_refused():
    body = cluster_body(id=CLUSTER, systemData={})
    body["properties"].update(connectivityStatus="Connected", kubernetesVersion="1.30.4", agentVersion="1.0")
    body["identity"]["principalId"] = "p"
    checked = schema.connected_cluster_put(body, CLUSTER_VERSION)
    assert checked == cluster_body()
    assert body["properties"]["connectivityStatus"] == "Connected"  # the caller's body is left as it was


def test_a_cluster_patch_enum_is_checked():
    error = refused(schema.connected_cluster_patch, {"properties": {"azureHybridBenefit": "Yes"}}, CLUSTER_VERSION)
    assert error.extra["target"] == "properties.azureHybridBenefit"
    patch = {"tags": {"a": "b"}, "properties": {"azureHybridBenefit": "True"}}
    assert schema.connected_cluster_patch(patch, CLUSTER_VERSION) == patch


def test_other_api_versions_keep_the_handlers_checks():
    body = cluster_body(identity=None)
    assert schema.connected_cluster_put(body, "2024-01-01") is body


# --- extensions 2024-11-01 ------------------------------------------------------------------------------


def test_read_only_extension_properties_in_a_put_are_ignored():
    body = {
        "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
        "properties": {
            "extensionType": "microsoft.azureml.kubernetes",
            "currentVersion": "1.1.61",
            "provisioningState": "Succeeded",
            "isSystemExtension": False,
            "packageUri": None,
            "aksAssignedIdentity": {"type": "SystemAssigned", "principalId": "p"},
        },
    }
    assert schema.extension_put(body, EXTENSION_VERSION) == {
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "extensionType": "microsoft.azureml.kubernetes",
            "aksAssignedIdentity": {"type": "SystemAssigned"},
        },
    }


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"identity": {"type": "UserAssigned"}, "properties": {}}, "identity.type"),
        ({"plan": {"name": "p", "publisher": "x"}, "properties": {}}, "plan.product"),
        ({"properties": {"scope": "cluster"}}, "properties.scope"),
        ({"properties": {"aksAssignedIdentity": {"type": "Workload"}}}, "properties.aksAssignedIdentity.type"),
    ],
)
def test_an_extension_body_outside_the_spec_is_refused(body, target):
    assert refused(schema.extension_put, body, EXTENSION_VERSION).extra["target"] == target


# --- ML computes 2025-12-01 (check_compute_body folded into the rule table) ----------------------------


def test_read_only_compute_properties_in_a_put_are_ignored():
    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned", "principalId": "p"},
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": CLUSTER,
            "provisioningState": "Succeeded",
            "isAttachedCompute": True,
            "createdOn": "2026-01-01T00:00:00Z",
        },
    }
    assert ml.check_compute_body(body) == {"computeType": "Kubernetes", "resourceId": CLUSTER}


def test_compute_identity_type_is_the_spec_enum():
    body = {"properties": {"computeType": "Kubernetes", "resourceId": CLUSTER}, "identity": {"type": "Managed"}}
    error = refused(ml.check_compute_body, body)
    assert error.code == "UserError"
    assert "identity.type" in error.message


# --- Relay 2021-11-01 -----------------------------------------------------------------------------------

RELAY_VERSION = "2021-11-01"


@pytest.mark.parametrize(
    ("body", "spec", "target"),
    [
        ({"location": "eastus", "sku": {"tier": "Standard"}}, schema.RELAY_NAMESPACE_PUT, "sku.name"),
        ({"location": "eastus", "sku": {"name": "Premium"}}, schema.RELAY_NAMESPACE_PUT, "sku.name"),
        (
            {"location": "eastus", "properties": {"publicNetworkAccess": "Off"}},
            schema.RELAY_NAMESPACE_PUT,
            "properties.publicNetworkAccess",
        ),
        ({"properties": {}}, schema.RELAY_AUTHORIZATION_RULE_PUT, "properties.rights"),
    ],
)
def test_a_relay_body_outside_the_spec_is_refused(body, spec, target):
    assert refused(schema.relay_put, body, spec, RELAY_VERSION).extra["target"] == target


def test_read_only_relay_properties_in_a_put_are_ignored():
    body = {"properties": {"requiresClientAuthorization": True, "listenerCount": 1, "createdAt": "x"}}
    checked = schema.relay_put(body, schema.RELAY_HYBRID_CONNECTION_PUT, RELAY_VERSION)
    assert checked == {"properties": {"requiresClientAuthorization": True}}
