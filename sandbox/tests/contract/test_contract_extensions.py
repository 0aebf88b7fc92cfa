"""Cluster extensions through the real KubernetesConfigurationExtensionsMgmtClient and its pollers."""

import base64
import os

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from contract_helpers import wait_for

pytestmark = pytest.mark.sandbox

RG = "rg-site-a"
CLUSTER_RP, CLUSTER_TYPE = "Microsoft.Kubernetes", "connectedClusters"
AZUREML = {
    "identity": {"type": "SystemAssigned"},
    "properties": {
        "extensionType": "microsoft.azureml.kubernetes",
        "releaseTrain": "stable",
        "scope": {"cluster": {"releaseNamespace": "azureml"}},
        "configurationSettings": {"enableTraining": "True", "enableInference": "False", "nodeSelector.a": "1"},
        "configurationProtectedSettings": {"relayServerConnectionString": "Endpoint=sb://x/;SharedAccessKey=SECRET-1"},
    },
}


@pytest.fixture
def clients(credential, arm_scope, registered):
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient
    from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient

    common = {"base_url": os.environ["AZURE_CLOUD_ENVIRONMENT"], "credential_scopes": [arm_scope]}
    subscription = os.environ["AZURE_SUBSCRIPTION_ID"]
    return (
        ConnectedKubernetesClient(credential, subscription, **common),
        KubernetesConfigurationExtensionsMgmtClient(credential, subscription, **common),
    )


def make_cluster(clients, emulator, name: str, connected: bool = True) -> str:
    clusters = clients[0]
    key = base64.b64encode(os.urandom(64)).decode()
    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {"agentPublicKeyCertificate": key},
    }
    cluster = clusters.connected_cluster.begin_create_or_replace(RG, name, body).result()
    if connected:
        emulator.admin.report_cluster(cluster.id, connectivityStatus="Connected", totalNodeCount=1)
    return cluster.id


def test_create_patch_merges_settings_list_delete(clients, emulator):
    extensions = clients[1]
    make_cluster(clients, emulator, "cc-ext")
    args = (RG, CLUSTER_RP, CLUSTER_TYPE, "cc-ext")
    seq = emulator.admin.last_seq()

    created = extensions.extensions.begin_create(*args, "azureml", AZUREML).result()
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.current_version
    assert created.properties.configuration_protected_settings == {"relayServerConnectionString": None}
    assert created.identity.principal_id

    # Inference needs a router service type: without one the Azure ML release fails (azureml_release_error).
    inference = {"enableInference": "True", "inferenceRouterServiceType": "LoadBalancer", "x": "y"}
    patched = extensions.extensions.begin_update(
        *args, "azureml", {"properties": {"configurationSettings": inference}}
    ).result()
    assert patched.properties.configuration_settings == {
        "enableTraining": "True",
        "enableInference": "True",
        "nodeSelector.a": "1",
        "inferenceRouterServiceType": "LoadBalancer",
        "x": "y",
    }
    assert patched.properties.configuration_protected_settings == {"relayServerConnectionString": None}

    replaced = extensions.extensions.begin_update(
        *args, "azureml", {"properties": {"configurationProtectedSettings": {"other": "SECRET-2"}}}
    ).result()
    assert replaced.properties.configuration_protected_settings == {"other": None}

    assert [e.name for e in extensions.extensions.list(*args)] == ["azureml"]
    extensions.extensions.begin_delete(*args, "azureml").result()
    with pytest.raises(ResourceNotFoundError):
        extensions.extensions.get(*args, "azureml")

    log = emulator.admin.requests(seq)
    statuses = [e["status"] for e in log if e["method"] in ("PUT", "PATCH", "DELETE")]
    assert statuses == [201, 202, 202, 202]
    text = str(log)
    assert "SECRET-1" not in text and "SECRET-2" not in text


def test_a_patch_that_leaves_a_stale_nodeport_flag_fails_the_azureml_release(clients, emulator):
    """NodePort -> LoadBalancer without writing scoringFe.serviceType.nodePort false: the release fails."""
    extensions = clients[1]
    make_cluster(clients, emulator, "cc-ext-stale")
    args = (RG, CLUSTER_RP, CLUSTER_TYPE, "cc-ext-stale")
    nodeport = {
        "enableInference": "True",
        "allowInsecureConnections": "True",
        "inferenceRouterServiceType": "NodePort",
        "scoringFe.serviceType.nodePort": "True",
    }
    body = {**AZUREML, "properties": {**AZUREML["properties"], "configurationSettings": nodeport}}
    assert extensions.extensions.begin_create(*args, "azureml", body).result().properties.provisioning_state == (
        "Succeeded"
    )
    stale = {"properties": {"configurationSettings": {"inferenceRouterServiceType": "LoadBalancer"}}}
    with pytest.raises(HttpResponseError):
        extensions.extensions.begin_update(*args, "azureml", stale).result()
    failed = extensions.extensions.get(*args, "azureml").properties
    assert failed.provisioning_state == "Failed"
    assert "scoringFe.serviceType.nodePort is True but inferenceRouterServiceType is LoadBalancer" in (
        failed.error_info.message
    )
    fixed = {"properties": {"configurationSettings": {"scoringFe.serviceType.nodePort": "False"}}}
    assert extensions.extensions.begin_update(*args, "azureml", fixed).result().properties.provisioning_state == (
        "Succeeded"
    )
    extensions.extensions.begin_delete(*args, "azureml").result()


def test_a_patch_during_an_operation_conflicts_and_a_noop_patch_answers_200(arm, clients, emulator):
    cid = make_cluster(clients, emulator, "cc-noop")
    path = f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/flux?api-version=2023-05-01"
    created = arm(
        "PUT", path, json={"properties": {"extensionType": "microsoft.flux", "configurationSettings": {"a": "1"}}}
    )
    assert created.status_code == 201
    status_url = created.headers["Azure-AsyncOperation"]
    assert status_url.endswith("api-Version=2023-05-01")  # sic: the service's spelling

    busy = arm("PATCH", path, json={"properties": {"configurationSettings": {"a": "2"}}})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "AnotherOperationInProgress"

    wait_for(lambda: arm("GET", status_url[len(emulator.url) :]).json()["status"] == "Succeeded", 10, "the create")
    unchanged = arm("PATCH", path, json={"properties": {"configurationSettings": {"a": "1"}}})
    assert unchanged.status_code == 200 and "Azure-AsyncOperation" not in unchanged.headers


def test_immutable_fields_and_version_rules_are_enforced(arm, clients, emulator):
    cid = make_cluster(clients, emulator, "cc-immutable")
    path = f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/ml?api-version=2025-03-01"
    assert arm("PUT", path, json=AZUREML).status_code == 201
    emulator.admin.report_extension(f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/ml", "Succeeded")

    changed_type = {**AZUREML, "properties": {**AZUREML["properties"], "extensionType": "microsoft.flux"}}
    response = arm("PUT", path, json=changed_type)
    assert response.status_code == 400 and "extensionType" in response.json()["error"]["message"]
    response = arm("PATCH", path, json={"properties": {"scope": {"cluster": {"releaseNamespace": "other"}}}})
    assert response.status_code == 400
    response = arm("PATCH", path, json={"properties": {"version": "1.1.0", "autoUpgradeMinorVersion": True}})
    assert response.status_code == 400 and "autoUpgradeMinorVersion" in response.json()["error"]["message"]


def test_an_extension_on_a_cluster_whose_agents_are_silent_fails(clients, emulator):
    extensions = clients[1]
    make_cluster(clients, emulator, "cc-offline", connected=False)
    with pytest.raises(HttpResponseError) as failure:
        extensions.extensions.begin_create(RG, CLUSTER_RP, CLUSTER_TYPE, "cc-offline", "azureml", AZUREML).result()
    assert failure.value.error.code == "ExtensionOperationFailed"
    failed = extensions.extensions.get(RG, CLUSTER_RP, CLUSTER_TYPE, "cc-offline", "azureml")
    assert failed.properties.provisioning_state == "Failed"
    assert failed.properties.error_info.code == "ExtensionOperationFailed"


def test_external_agents_finish_extension_operations(arm, clients, emulator):
    cid = make_cluster(clients, emulator, "cc-external")
    ext_id = f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
    emulator.admin.settings(agent_mode="external")
    try:
        created = arm("PUT", ext_id + "?api-version=2023-05-01", json=AZUREML)
        status_path = created.headers["Azure-AsyncOperation"][len(emulator.url) :]
        listed = {c["id"]: c for c in emulator.admin.clusters()}[cid]["extensions"][0]
        assert listed["operation"]["action"] == "create" and listed["releaseNamespace"] == "azureml"
        assert listed["protectedSettingKeys"] == ["relayServerConnectionString"]
        assert "SECRET-1" not in str(listed)
        assert arm("GET", status_path).json()["status"] == "Creating"

        emulator.admin.report_extension(ext_id, "Succeeded", current_version="1.1.61")
        assert arm("GET", status_path).json()["status"] == "Succeeded"
        assert arm("GET", ext_id + "?api-version=2023-05-01").json()["properties"]["currentVersion"] == "1.1.61"

        deleting = arm("DELETE", ext_id + "?api-version=2023-05-01")
        assert deleting.status_code == 202
        emulator.admin.report_extension(ext_id, "Deleted")
        assert arm("GET", ext_id + "?api-version=2023-05-01").status_code == 404
    finally:
        emulator.admin.settings(agent_mode="emulated")


def test_force_delete_removes_the_resource_at_once(arm, clients, emulator):
    cid = make_cluster(clients, emulator, "cc-force")
    ext = f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/flux?api-version=2023-05-01"
    arm("PUT", ext, json={"properties": {"extensionType": "microsoft.flux"}})
    assert arm("DELETE", ext + "&forceDelete=true").status_code == 200
    assert arm("GET", ext).status_code == 404
