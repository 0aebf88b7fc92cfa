"""`python -m sandbox up` end to end: real clusters, the emulator and the stand-in agents together.

The agents must behave like the real ones where the collection relies on it:
a cluster turns Connected only when the chart installed in it holds the
private key whose public half ARM keeps and the values the real agents need to
reach the emulator's cloud (its name, its Arc config endpoint, the resource's
region and tenant); an Azure ML extension on a connected cluster becomes a
helm release in namespace azureml; on a cluster without agents it fails with
Azure's error.
"""

import json
import os
import time

import pytest
import requests

from sandbox.testing import ARC_CHART, ArmSession, new_onboarding_key, read_env_file, sandbox_cli, wait_for

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def clients(sandbox):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient
    from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient

    env = sandbox.env
    metadata = requests.get(
        f"{env['AZURE_CLOUD_ENVIRONMENT']}/metadata/endpoints?api-version=2022-09-01",
        verify=env["REQUESTS_CA_BUNDLE"],
        timeout=10,
    ).json()
    scope = metadata["authentication"]["audiences"][0].rstrip("/") + "/.default"
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=env["REQUESTS_CA_BUNDLE"],
    )
    ArmSession(env).register("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration")
    common = {
        "base_url": env["AZURE_CLOUD_ENVIRONMENT"],
        "credential_scopes": [scope],
        "connection_verify": env["REQUESTS_CA_BUNDLE"],
        "polling_interval": 0.2,
    }
    return (
        ConnectedKubernetesClient(credential, env["AZURE_SUBSCRIPTION_ID"], **common),
        KubernetesConfigurationExtensionsMgmtClient(credential, env["AZURE_SUBSCRIPTION_ID"], **common),
    )  # fmt: skip


def cloud_values(sandbox):
    """What az connectedk8s sets for the cloud it reads from /metadata/endpoints (a custom cloud here):
    global.azureEnvironment, the cloud's name upper-cased, and the metadata's arcConfigEndpoint as
    systemDefaultValues.azureArcAgents.config_dp_endpoint_override (custom.py, _utils.py `helm_install_release`)."""
    env = sandbox.env
    metadata = requests.get(f"{env['AZURE_CLOUD_ENVIRONMENT']}/metadata/endpoints?api-version=2022-09-01",
                            verify=env["REQUESTS_CA_BUNDLE"], timeout=10).json()  # fmt: skip
    override = {"config_dp_endpoint_override": metadata["dataplaneEndpoints"]["arcConfigEndpoint"]}
    return {
        "global": {"azureEnvironment": metadata["name"].upper()},
        "systemDefaultValues": {"azureArcAgents": override},
    }


def install_arc_chart(sandbox, site, resource_group, name, private_key_pem, tmp_path, with_cloud=True):
    values = cloud_values(sandbox) if with_cloud else {"global": {}}
    values["global"].update({
        "subscriptionId": sandbox.env["AZURE_SUBSCRIPTION_ID"], "resourceGroupName": resource_group,
        "resourceName": name, "location": "eastus", "tenantId": sandbox.env["AZURE_TENANT_ID"],
        "onboardingPrivateKey": private_key_pem,
    })  # fmt: skip
    path = tmp_path / f"values-{site}.json"
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    import subprocess

    subprocess.run(
        ["helm", f"--kubeconfig={sandbox.kubeconfig(site)}", "upgrade", "--install", "azure-arc", str(ARC_CHART),
         "--namespace", "azure-arc-release", "--create-namespace", "--values", str(path)],
        env=sandbox.process_env(), check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def put_cluster(cc, resource_group, name, public_key):
    from azure.mgmt.hybridkubernetes.models import ConnectedCluster, ConnectedClusterIdentity

    body = ConnectedCluster(
        location="eastus", identity=ConnectedClusterIdentity(type="SystemAssigned"),
        agent_public_key_certificate=public_key, distribution="aks_workload", infrastructure="azure_stack_hci",
    )  # fmt: skip
    return cc.connected_cluster.begin_create_or_replace(resource_group, name, body).result()


def test_cluster_connects_only_with_the_matching_private_key(sandbox, clients, tmp_path):
    cc, _ = clients
    right_pem, right_public = new_onboarding_key()
    wrong_pem, _ = new_onboarding_key()
    created = put_cluster(cc, "rg-it-linux", "it-linux", right_public)
    assert created.connectivity_status == "Connecting"

    # The right key, but the chart's defaults for the cloud (the public cloud, no config endpoint): the agents
    # cannot reach the emulator's cloud.
    install_arc_chart(sandbox, "it-linux", "rg-it-linux", "it-linux", right_pem, tmp_path, with_cloud=False)
    time.sleep(1.5)  # three agent ticks: long enough for a wrong decision to show
    assert cc.connected_cluster.get("rg-it-linux", "it-linux").connectivity_status == "Connecting"
    status = json.loads(sandbox_cli("status", "--dir", str(sandbox.dir), "--json").stdout)
    assert {s["name"]: s for s in status["sites"]}["it-linux"]["connectivity"] == "EnvironmentMismatch"

    install_arc_chart(sandbox, "it-linux", "rg-it-linux", "it-linux", wrong_pem, tmp_path)
    time.sleep(1.5)
    assert cc.connected_cluster.get("rg-it-linux", "it-linux").connectivity_status == "Connecting"

    install_arc_chart(sandbox, "it-linux", "rg-it-linux", "it-linux", right_pem, tmp_path)
    connected = wait_for(
        lambda: (c := cc.connected_cluster.get("rg-it-linux", "it-linux")).connectivity_status == "Connected" and c,
        "Connected",
    )
    assert connected.total_node_count == 1
    assert connected.total_core_count == 8
    assert connected.kubernetes_version.startswith("1.")
    assert connected.agent_version

    status = json.loads(sandbox_cli("status", "--dir", str(sandbox.dir), "--json").stdout)
    by_site = {s["name"]: s for s in status["sites"]}
    assert by_site["it-linux"]["connectivity"] == "Connected"


def test_azureml_extension_becomes_a_release_in_namespace_azureml(sandbox, clients):
    from azure.mgmt.kubernetesconfiguration.extensions.models import Extension

    cc, ext = clients
    wait_for(lambda: cc.connected_cluster.get("rg-it-linux", "it-linux").connectivity_status == "Connected",
             "it-linux Connected (previous test)")  # fmt: skip
    body = Extension(
        extension_type="Microsoft.AzureML.Kubernetes", auto_upgrade_minor_version=True, release_train="stable",
        configuration_settings={"enableTraining": "True", "enableInference": "False", "relayserver.enabled": "True"},
        scope={"cluster": {"release_namespace": "azureml"}},
    )  # fmt: skip
    result = ext.extensions.begin_create(
        "rg-it-linux", "Microsoft.Kubernetes", "connectedClusters", "it-linux", "azureml", body
    ).result()
    assert result.provisioning_state == "Succeeded"
    api = sandbox.kube_api("it-linux")
    settings = api.get("/api/v1/namespaces/azureml/configmaps/azureml-extension-settings")["data"]
    assert settings["trainingEnabled"] == "true"
    assert settings["relayEnabled"] == "true"
    assert api.exists("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/instancetypes.amlarc.azureml.com")

    ext.extensions.begin_delete(
        "rg-it-linux", "Microsoft.Kubernetes", "connectedClusters", "it-linux", "azureml"
    ).result()
    secrets = api.get("/api/v1/namespaces/azureml/secrets?labelSelector=owner%3Dhelm%2Cname%3Dazureml")["items"]
    assert secrets == [], "the release must be uninstalled with the extension"
    wait_for(lambda: not api.exists("/api/v1/namespaces/azureml"), "namespace azureml deleted with the extension")


def test_extension_on_a_cluster_without_agents_fails_with_the_azure_error(sandbox, clients):
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.kubernetesconfiguration.extensions.models import Extension

    cc, ext = clients
    _, public = new_onboarding_key()
    put_cluster(cc, "rg-it-small", "it-small", public)
    body = Extension(extension_type="Microsoft.AzureML.Kubernetes", configuration_settings={"enableTraining": "True"})
    poller = ext.extensions.begin_create("rg-it-small", "Microsoft.Kubernetes", "connectedClusters", "it-small",
                                         "azureml", body)  # fmt: skip
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert "Unable to get response from the Agent in time" in str(failed.value)


def test_provisioned_cluster_is_born_connected_with_agents_in_the_cluster(sandbox, clients):
    cc, _ = clients
    cluster = cc.connected_cluster.get("rg-it-aksarc", "it-aksarc")
    assert cluster.kind.lower() == "provisionedcluster"
    assert cluster.connectivity_status == "Connected"
    config = sandbox.kube_api("it-aksarc").get("/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig")
    assert config["data"]["AZURE_RESOURCE_NAME"] == "it-aksarc"


def _sandbox_pids(directory):
    pids = [int((directory / "supervisor.pid").read_text()), int((directory / "azure" / "emulator.pid").read_text())]
    for cluster_dir in (directory / "clusters").iterdir():
        pids += json.loads((cluster_dir / "pids.json").read_text()).values()
    return pids


def test_down_leaves_no_process_and_state_survives_a_restart(testbed_bin, tmp_path):

    from sandbox.k8s.controlplane import _pid_alive

    sites = tmp_path / "sites.yml"
    sites.write_text(
        "workspace: {name: ws, resource_group: rg-ws, location: eastus}\n"
        "sites:\n  - {name: solo, location: eastus, resource_group: rg-solo, nodes: [{name: solo-1}]}\n"
    )
    directory = tmp_path / "sbx"
    started = time.monotonic()
    sandbox_cli("up", "--sites", str(sites), "--dir", str(directory))
    assert time.monotonic() - started < 60, "up must be ready in under a minute with a warm testbed cache"
    assert sandbox_cli("up", "--sites", str(sites), "--dir", str(directory)).stdout.startswith(
        "sandbox: already running"
    )
    env = read_env_file(directory / "env.sh")
    api_url = env["ARCML_SANDBOX_URL"]
    kubeconfig = directory / "kubeconfig-solo.yaml"
    import subprocess

    subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "create", "namespace", "survivor"],
                   env={**os.environ, **env}, check=True, capture_output=True, timeout=60)  # fmt: skip
    pids = _sandbox_pids(directory)
    assert all(_pid_alive(p) for p in pids)

    sandbox_cli("down", "--dir", str(directory))
    assert not any(_pid_alive(p) for p in pids), "down must stop every process of the sandbox"
    assert sandbox_cli("status", "--dir", str(directory), check=False).returncode == 3

    sandbox_cli("up", "--sites", str(sites), "--dir", str(directory))
    try:
        env = read_env_file(directory / "env.sh")
        assert env["ARCML_SANDBOX_URL"] == api_url, "the emulator keeps its port so a sourced env.sh stays valid"
        out = subprocess.run(
            ["kubectl", f"--kubeconfig={kubeconfig}", "get", "namespace", "survivor", "-o", "name"],
            env={**os.environ, **env}, check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.stdout.strip() == "namespace/survivor"
        state = json.loads((directory / "azure" / "azure-state.json").read_text())
        assert state["subscription"]["id"] == env["AZURE_SUBSCRIPTION_ID"]
    finally:
        sandbox_cli("down", "--dir", str(directory))
