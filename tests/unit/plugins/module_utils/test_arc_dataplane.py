"""The Arc config data plane calls and the chart location they answer with."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.dataplane import ChartLocation, ConfigDataPlane
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import ArmResponse
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError


class FakeClient:
    """An ArmClient that answers from a table and records every request."""

    def __init__(self, answers):
        self.answers = answers
        self.requests = []

    def request(self, method, path, api_version=None, body=None, params=None):
        self.requests.append({"method": method, "path": path, "api": api_version, "body": body, "params": params})
        return ArmResponse(200, {}, self.answers.get(path.rsplit("/", 1)[-1]))


def test_repository_paths_become_oci_urls_with_v2_before_the_chart():
    location = ChartLocation.parse("mcr.microsoft.com/azurearck8s/batch1/stable/azure-arc-k8sagents:1.8.14")
    assert (location.registry, location.chart, location.version) == (
        "mcr.microsoft.com",
        "azure-arc-k8sagents",
        "1.8.14",
    )
    assert location.oci_url == "oci://mcr.microsoft.com/azurearck8s/batch1/stable/v2/azure-arc-k8sagents"
    local = ChartLocation.parse("127.0.0.1:8443/azurearck8s/stable/azure-arc-k8sagents:1.26.0")
    assert local.registry == "127.0.0.1:8443" and str(local).endswith("/stable/v2/azure-arc-k8sagents:1.26.0")
    assert ChartLocation.parse("registry/chart:1.0").oci_url == "oci://registry/v2/chart"


@pytest.mark.parametrize("bad", ["", "mcr.microsoft.com/azurearck8s/chart", "127.0.0.1:5000/a/chart", "registry:1.0"])
def test_a_repository_path_without_chart_or_version_is_refused(bad):
    with pytest.raises(ArcMLError, match="chart_ref"):
        ChartLocation.parse(bad)


def test_health_check_and_helm_settings_are_called_like_the_cli():
    client = FakeClient(
        {
            "GetHelmSettings": {
                "repositoryPath": "reg/azurearck8s/stable/azure-arc-k8sagents:1.26.0",
                "helmValuesContent": {"global.resourceName": "site-1"},
            }
        }
    )
    dataplane = ConfigDataPlane(client)
    dataplane.health_check()
    cluster = {"id": "/subscriptions/s/x", "location": "eastus", "systemData": {"a": 1}, "properties": {}}
    settings = dataplane.helm_settings(cluster)
    assert settings.chart.version == "1.26.0" and settings.values == {"global.resourceName": "site-1"}
    health, helm = client.requests
    assert (health["method"], health["path"], health["api"]) == (
        "POST",
        "/azure-arc-k8sagents/healthCheck",
        "2024-07-01-preview",
    )
    assert helm["path"] == "/azure-arc-k8sagents/GetHelmSettings" and helm["params"] == {"releaseTrain": "stable"}
    assert helm["body"] == {"id": "/subscriptions/s/x", "location": "eastus", "properties": {}}


def test_an_empty_repository_path_falls_back_to_get_latest_helm_package_path():
    client = FakeClient(
        {
            "GetHelmSettings": {"repositoryPath": "", "helmValuesContent": {}},
            "GetLatestHelmPackagePath": {"repositoryPath": "reg/path/azure-arc-k8sagents:1.8.14"},
        }
    )
    settings = ConfigDataPlane(client).helm_settings({"id": "x"})
    assert settings.chart.version == "1.8.14"
    assert client.requests[-1]["api"] == "2019-11-01-preview" and client.requests[-1]["body"] is None


def test_no_chart_at_all_fails_pointing_at_chart_ref():
    client = FakeClient({"GetHelmSettings": {"helmValuesContent": {}}, "GetLatestHelmPackagePath": {}})
    with pytest.raises(ArcMLError, match="set chart_ref"):
        ConfigDataPlane(client).helm_settings({"id": "x"})


def test_answers_that_are_not_objects_fail_clearly():
    with pytest.raises(ArcMLError, match="without a JSON object"):
        ConfigDataPlane(FakeClient({})).helm_settings({"id": "x"})
    with pytest.raises(ArcMLError, match="helmValuesContent that is not an object"):
        ConfigDataPlane(FakeClient({"GetHelmSettings": {"helmValuesContent": []}})).helm_settings({"id": "x"})


def test_get_helm_settings_gets_the_cluster_as_the_cli_serialises_it_plus_id_and_identity_ids():
    """az connectedk8s: ConnectedCluster.serialize() (read-only fields dropped), then identity.tenantId,
    identity.principalId and id put back; the body the live service got in the CLI's recording."""
    cluster = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/site-1",
        "name": "site-1",
        "type": "microsoft.kubernetes/connectedclusters",
        "location": "eastus",
        "tags": {},
        "kind": None,
        "systemData": {"createdBy": "someone"},
        "identity": {"principalId": "pid", "tenantId": "tid", "type": "SystemAssigned"},
        "properties": {
            "provisioningState": "Succeeded",
            "connectivityStatus": "Connecting",
            "privateLinkState": "Disabled",
            "azureHybridBenefit": "NotApplicable",
            "agentPublicKeyCertificate": "MIIC",
            "aadProfile": {},
            "kubernetesVersion": "1.31.8",
            "totalNodeCount": 3,
            "totalCoreCount": 12,
            "agentVersion": "1.26.0",
            "offering": "AKS",
            "managedIdentityCertificateExpirationTime": "2026-01-01T00:00:00Z",
            "lastConnectivityTime": "2025-06-05T04:53:15.622Z",
            "miscellaneousProperties": {"a": "b"},
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
            "distributionVersion": None,
            "arcAgentProfile": {
                "agentAutoUpgrade": "Disabled",
                "agentState": "Succeeded",
                "agentErrors": [{"message": "m", "severity": "s", "component": "c", "time": "t"}],
                "systemComponents": [{"type": "t", "majorVersion": 1, "currentVersion": "1.2"}],
            },
            "oidcIssuerProfile": {"enabled": True, "issuerUrl": "https://issuer"},
            "arcAgentryConfigurations": [
                {"feature": "extensionSets", "settings": {"versionManagedExtensions": "Disabled"}}
            ],
        },
    }
    client = FakeClient({"GetHelmSettings": {"repositoryPath": "reg/a/stable/azure-arc-k8sagents:1.26.0"}})
    ConfigDataPlane(client).helm_settings(cluster)
    assert client.requests[0]["body"] == {
        "tags": {},
        "location": "eastus",
        "identity": {"type": "SystemAssigned", "tenantId": "tid", "principalId": "pid"},
        "properties": {
            "agentPublicKeyCertificate": "MIIC",
            "provisioningState": "Succeeded",
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
            "privateLinkState": "Disabled",
            "azureHybridBenefit": "NotApplicable",
            "aadProfile": {},
            "arcAgentProfile": {
                "agentAutoUpgrade": "Disabled",
                # AgentError has only read-only fields: the SDK serialiser leaves an empty object per entry.
                "agentErrors": [{}],
                "systemComponents": [{"type": "t", "majorVersion": 1}],
            },
            "oidcIssuerProfile": {"enabled": True},
            "arcAgentryConfigurations": [
                {"feature": "extensionSets", "settings": {"versionManagedExtensions": "Disabled"}}
            ],
        },
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/site-1",
    }
    assert cluster["properties"]["connectivityStatus"] == "Connecting", "the resource itself is left as it was"
