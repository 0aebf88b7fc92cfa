"""The Arc config data plane of the emulator: what GetHelmSettings needs in its body, and where the chart is."""

import pytest

from sandbox.emulator import dataplane
from sandbox.emulator.arm import ArmError

CLUSTER_ID = (
    "/subscriptions/6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/resourceGroups/rg-site/providers"
    "/Microsoft.Kubernetes/connectedClusters/site-1"
)
STORED = {
    "id": CLUSTER_ID,
    "name": "site-1",
    "type": "microsoft.kubernetes/connectedclusters",
    "location": "eastus",
    "identity": {"type": "SystemAssigned", "principalId": "pid", "tenantId": "tid"},
    "properties": {"agentPublicKeyCertificate": "MIIC"},
}


def request(**changes):
    """The body az connectedk8s sends: the cluster serialised without read-only fields, plus the ids."""
    body = {
        "tags": {},
        "location": "eastus",
        "identity": {"type": "SystemAssigned", "tenantId": "tid", "principalId": "pid"},
        "properties": {"agentPublicKeyCertificate": "MIIC", "provisioningState": "Succeeded"},
        "id": CLUSTER_ID,
    }
    body.update(changes)
    return body


def test_the_body_az_connectedk8s_sends_is_accepted():
    dataplane.check_helm_settings_body(request(), STORED)


@pytest.mark.parametrize(
    ("body", "needed"),
    [
        (request(identity={"type": "SystemAssigned"}), "identity.principalId"),
        (request(identity={"type": "SystemAssigned", "principalId": "pid"}), "identity.tenantId"),
        (request(identity={"type": "SystemAssigned", "tenantId": "tid", "principalId": "other"}), "principalId"),
        (request(identity=None), "identity"),
        (request(location=None), "location"),
        (request(properties={}), "agentPublicKeyCertificate"),
    ],
)
def test_a_body_without_what_the_cli_puts_in_is_refused(body, needed):
    with pytest.raises(ArmError) as err:
        dataplane.check_helm_settings_body(body, STORED)
    assert err.value.status == 400 and needed in err.value.message


def test_a_cluster_without_a_managed_identity_needs_no_identity_ids():
    stored = {**STORED, "identity": {"type": "None"}}
    dataplane.check_helm_settings_body(request(identity={"type": "None"}), stored)


def test_the_chart_is_answered_under_a_ring_and_a_release_train_as_azure_does():
    # Live answers: mcr.microsoft.com/azurearck8s/batch1/stable/... and .../azurearck8s/canary/stable/...
    assert dataplane.repository() == "azurearck8s/batch1/stable/v2/azure-arc-k8sagents"
    assert dataplane.repository_path("127.0.0.1:8443", "1.26.0") == (
        "127.0.0.1:8443/azurearck8s/batch1/stable/azure-arc-k8sagents:1.26.0"
    )
