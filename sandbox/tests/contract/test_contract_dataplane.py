"""The Arc config data plane and the OCI registry: where the agent chart is, and helm fetching it from there."""

import itertools
import subprocess

import pytest
import yaml
from contract_helpers import fetch, public_key_certificate

pytestmark = pytest.mark.sandbox

DP_API = "api-version=2024-07-01-preview"


NAMES = itertools.count(1)


@pytest.fixture
def cluster(arm, emulator, registered) -> dict:
    name = f"cc-dp-{next(NAMES)}"
    path = (
        f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a/providers/Microsoft.Kubernetes"
        f"/connectedClusters/{name}"
    )
    body = {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "agentPublicKeyCertificate": public_key_certificate(),
            "arcAgentProfile": {"agentAutoUpgrade": "Disabled"},
        },
    }
    return arm("PUT", path + "?api-version=2024-07-01-preview", json=body).json()


@pytest.fixture
def dp(metadata, arm, emulator):
    """POST to the config data plane named by the metadata, with an ARM token, as az connectedk8s does."""
    endpoint = metadata["dataplaneEndpoints"]["arcConfigEndpoint"]

    def post(operation: str, query: str = "", **kwargs):
        return arm("POST", f"{endpoint[len(emulator.url) :]}/azure-arc-k8sagents/{operation}?{DP_API}{query}", **kwargs)

    return post


def test_health_check(dp):
    response = dp("healthCheck")
    assert response.status_code == 200 and response.text == "Health check passed."


def test_the_data_plane_needs_a_token(dp):
    assert dp("healthCheck", token=None).status_code == 401


def test_helm_settings_name_the_registry_and_the_cluster_values(dp, cluster, emulator):
    settings = dp("GetHelmSettings", "&releaseTrain=stable", json=cluster).json()
    host = emulator.url.split("://", 1)[1]
    # Under a ring and the release train, as the live service answers (azurearck8s/batch1/stable/...).
    assert settings["repositoryPath"] == f"{host}/azurearck8s/batch1/stable/azure-arc-k8sagents:1.26.0"
    values = settings["helmValuesContent"]
    assert values["global.resourceName"] == cluster["name"] and values["global.resourceGroupName"] == "rg-site-a"
    assert values["global.subscriptionId"] == emulator.subscription_id
    assert values["global.tenantId"] == emulator.env["AZURE_TENANT_ID"]
    assert values["systemDefaultValues.azureArcAgents.autoUpdate"] == "False"
    assert dp("GetLatestHelmPackagePath", "&releaseTrain=stable").json()["repositoryPath"] == settings["repositoryPath"]


def test_the_registry_serves_the_chart_as_an_oci_artifact(emulator):
    base = f"{emulator.url}/v2/azurearck8s/stable/v2/azure-arc-k8sagents"
    head = fetch(emulator, "HEAD", f"{base}/manifests/1.26.0")
    assert head.status_code == 200 and head.headers["Docker-Content-Digest"].startswith("sha256:")
    manifest = fetch(emulator, "GET", f"{base}/manifests/1.26.0").json()
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    layer = fetch(emulator, "GET", f"{base}/blobs/{manifest['layers'][0]['digest']}")
    assert layer.status_code == 200 and layer.content[:2] == b"\x1f\x8b"
    assert fetch(emulator, "GET", f"{base}/tags/list").json()["tags"] == ["1.26.0"]
    missing = fetch(emulator, "GET", f"{base}/manifests/9.9.9")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


@pytest.mark.testbed
def test_helm_pulls_and_renders_the_agent_chart(dp, cluster, emulator, testbed_env, tmp_path):
    settings = dp("GetHelmSettings", "&releaseTrain=stable", json=cluster).json()
    location, version = settings["repositoryPath"].rsplit(":", 1)
    registry, chart = location.rsplit("/", 1)
    env = {**testbed_env, "HOME": str(tmp_path)}
    subprocess.run(
        [
            "helm",
            "pull",
            f"oci://{registry}/v2/{chart}",
            "--version",
            version,
            "--untar",
            "--untardir",
            str(tmp_path),
            "--ca-file",
            emulator.ca_bundle,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    chart_dir = tmp_path / "azure-arc-k8sagents"
    values = [f"{k}={v}" for k, v in settings["helmValuesContent"].items()]
    rendered = subprocess.run(
        [
            "helm",
            "template",
            "azure-arc",
            str(chart_dir),
            "--namespace",
            "azure-arc-release",
            "--set",
            ",".join(values),
            "--set",
            "global.onboardingPrivateKey=PEM",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(rendered) if o}
    config = objects[("ConfigMap", "azure-clusterconfig")]["data"]
    assert (
        config["AZURE_RESOURCE_NAME"] == cluster["name"] and config["AZURE_ARC_HELM_NAMESPACE"] == "azure-arc-release"
    )
    assert objects[("Secret", "azure-arc-connect-privatekey")]["stringData"]["privateKey"] == "PEM"
    assert ("Namespace", "azure-arc") in objects
