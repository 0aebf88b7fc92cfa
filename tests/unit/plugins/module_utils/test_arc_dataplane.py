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
