"""Attach and detach a Kubernetes compute with plain azure-mgmt-core (ARMPipelineClient + ARMPolling)."""

import base64
import os

import pytest
from azure.core.configuration import Configuration
from azure.core.pipeline import policies
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from azure.mgmt.core.polling.arm_polling import ARMPolling

pytestmark = pytest.mark.sandbox

API = "2025-12-01"
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"
WORKSPACE = "/resourceGroups/rg-contract-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-contract"


@pytest.fixture
def pipeline(credential, arm_scope, registered):
    config = Configuration()
    config.headers_policy = policies.HeadersPolicy()
    config.user_agent_policy = policies.UserAgentPolicy("arcml-contract-tests")
    config.proxy_policy = policies.ProxyPolicy()
    config.redirect_policy = policies.RedirectPolicy()
    config.retry_policy = policies.RetryPolicy()
    config.custom_hook_policy = policies.CustomHookPolicy()
    config.logging_policy = policies.NetworkTraceLoggingPolicy()
    config.authentication_policy = ARMChallengeAuthenticationPolicy(credential, arm_scope)
    return ARMPipelineClient(base_url=os.environ["AZURE_CLOUD_ENVIRONMENT"], config=config)


def call(pipeline, method: str, path: str, body=None):
    url = f"{os.environ['AZURE_CLOUD_ENVIRONMENT']}/subscriptions/{os.environ['AZURE_SUBSCRIPTION_ID']}{path}"
    url += ("&" if "?" in url else "?") + f"api-version={API}"
    return pipeline.send_request(HttpRequest(method, url, json=body), _return_pipeline_response=True)


def wait(pipeline, initial):
    return LROPoller(
        pipeline, initial, lambda r: r.http_response.json() if r.http_response.content else None, ARMPolling(1)
    ).result(timeout=30)


def connected_cluster_with_extension(arm, emulator, name: str, extension_state: str | None = "Succeeded") -> str:
    cid = f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a/{CLUSTERS}/{name}"
    key = base64.b64encode(os.urandom(32)).decode()
    arm(
        "PUT",
        cid + "?api-version=2024-01-01",
        json={"location": "eastus", "properties": {"agentPublicKeyCertificate": key}},
    )
    emulator.admin.report_cluster(cid, connectivityStatus="Connected")
    if extension_state:
        ext = f"{cid}/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
        body = {
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "extensionType": "Microsoft.AzureML.Kubernetes",
                "configurationSettings": {"enableTraining": "True"},
            },
        }
        assert arm("PUT", ext + "?api-version=2023-05-01", json=body).status_code == 201
        emulator.admin.report_extension(ext, extension_state)
    return cid


def compute_body(cluster_id: str) -> dict:
    return {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": cluster_id,
            "description": "sandbox",
            "properties": {"namespace": "azureml-workloads", "defaultInstanceType": "defaultinstancetype"},
        },
    }


def test_attach_read_list_detach(pipeline, arm, emulator):
    cluster_id = connected_cluster_with_extension(arm, emulator, "cc-ml")
    assert call(pipeline, "GET", WORKSPACE).http_response.json()["location"] == "eastus"

    initial = call(pipeline, "PUT", f"{WORKSPACE}/computes/k8s-ml", compute_body(cluster_id))
    assert initial.http_response.status_code == 201
    assert "/computeOperationsStatus/" in initial.http_response.headers["Azure-AsyncOperation"]
    attached = wait(pipeline, initial)
    assert attached["properties"]["provisioningState"] == "Succeeded"
    assert attached["properties"]["isAttachedCompute"] is True
    assert attached["properties"]["properties"]["namespace"] == "azureml-workloads"
    assert attached["properties"]["properties"]["extensionInstanceReleaseTrain"] == "stable"

    listed = call(pipeline, "GET", f"{WORKSPACE}/computes").http_response.json()["value"]
    assert [c["name"] for c in listed] == ["k8s-ml"]

    # Updating an attached Kubernetes compute appears to succeed but does not:
    # https://learn.microsoft.com/azure/machine-learning/known-issues/inferencing-updating-kubernetes-compute-appears-to-succeed
    changed = compute_body(cluster_id)
    changed["properties"]["properties"]["namespace"] = "elsewhere"
    again = call(pipeline, "PUT", f"{WORKSPACE}/computes/k8s-ml", changed)
    assert again.http_response.status_code == 200
    assert wait(pipeline, again)["properties"]["properties"]["namespace"] == "azureml-workloads"

    detach = call(pipeline, "DELETE", f"{WORKSPACE}/computes/k8s-ml?underlyingResourceAction=Detach")
    assert detach.http_response.status_code == 202
    assert detach.http_response.headers["Location"]
    wait(pipeline, detach)
    assert call(pipeline, "GET", f"{WORKSPACE}/computes/k8s-ml").http_response.status_code == 404
    gone = call(pipeline, "DELETE", f"{WORKSPACE}/computes/k8s-ml?underlyingResourceAction=Detach")
    assert gone.http_response.status_code == 204


def test_compute_names_follow_the_service_rule(pipeline, arm, emulator):
    cluster_id = connected_cluster_with_extension(arm, emulator, "cc-ml-names")
    for name in ("1abc", "a", "ab-", "way-too-long-compute-name"):
        response = call(pipeline, "PUT", f"{WORKSPACE}/computes/{name}", compute_body(cluster_id)).http_response
        assert response.status_code == 400, name
        assert response.json()["error"]["message"].startswith("Compute name is invalid"), name
    assert (
        call(pipeline, "PUT", f"{WORKSPACE}/computes/ok-name-2", compute_body(cluster_id)).http_response.status_code
        == 201
    )


def test_attach_needs_a_succeeded_azureml_extension(pipeline, arm, emulator):
    without = connected_cluster_with_extension(arm, emulator, "cc-ml-none", extension_state=None)
    response = call(pipeline, "PUT", f"{WORKSPACE}/computes/k8s-none", compute_body(without)).http_response
    assert response.status_code == 400 and "extension not installed" in response.json()["error"]["message"]

    failed = connected_cluster_with_extension(arm, emulator, "cc-ml-failed", extension_state="Failed")
    response = call(pipeline, "PUT", f"{WORKSPACE}/computes/k8s-failed", compute_body(failed)).http_response
    assert response.status_code == 400 and "extension not installed" in response.json()["error"]["message"]


def test_detach_needs_underlying_resource_action(pipeline):
    response = call(pipeline, "DELETE", f"{WORKSPACE}/computes/whatever").http_response
    assert response.status_code == 400
    assert "underlyingResourceAction" in response.json()["error"]["message"]
