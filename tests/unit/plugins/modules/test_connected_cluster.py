"""hci.arc_ml.connected_cluster end to end with Azure, the cluster and helm replaced by fakes that share one event log.

The whole module runs (argument spec, cloud metadata, azure-identity, ARM pipeline, detection, waits); what it
does to Azure, the cluster and helm is recorded in order, so the tests can assert the order of operations, that
check mode writes nothing, and where the private key goes.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import azure.core.pipeline.transport as azure_transport
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import onboarding as _arc_onboarding
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError
from ansible_collections.hci.arc_ml.plugins.modules import connected_cluster, connected_cluster_info
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import FAKE_AUTH, FAKE_SUBSCRIPTION, run_module

ARM = "https://127.0.0.1:8443"
LOGIN = ARM + "/login"
SUBSCRIPTION = FAKE_SUBSCRIPTION
CLUSTER = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-site/providers/Microsoft.Kubernetes/connectedClusters/site-1"
)
AUTH = FAKE_AUTH
COLLECTIONS = Path(__file__).resolve().parents[4] / ".build" / "collections"


@pytest.fixture(scope="module")
def onboarding_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    # A 2048-bit key keeps the tests fast; the 4096-bit generation is tested in test_arc_keys.py.
    return _arc_keys._from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


class World:
    """Azure, the cluster and helm as one story: `events` in the order things happened."""

    def __init__(self, chart_version="1.26.0"):
        self.events = []
        self.resource = None
        self.release = None
        self.config = None
        self.cluster_key = None
        self.leftovers = []
        self.agents_namespace = None  # 'gone' or 'being deleted': what another task did to namespace azure-arc
        self.chart_version = chart_version
        self.helm_values = None
        self.cluster_made = False
        self.unreachable = False
        self.metadata_reads = 0
        self.latest_chart_refused = False

    # Azure

    def azure(self, request, reply):
        path = request.url.split("?")[0][len(ARM) :]
        if "/metadata/endpoints" in request.url:
            self.metadata_reads += 1
            return reply(
                200,
                {
                    "name": "Sandbox",
                    "resourceManager": ARM + "/",
                    "authentication": {"loginEndpoint": LOGIN, "audiences": ["https://management.sandbox.local/"]},
                    "dataplaneEndpoints": {"arcConfigEndpoint": ARM + "/arc-config"},
                },
            )
        if path.startswith("/arc-config/"):
            operation = path.rsplit("/", 1)[-1]
            self.events.append(f"dp {operation}")
            if operation == "healthCheck":
                return reply(200, "Health check passed.", {"Content-Type": "text/plain; charset=utf-8"})
            if operation == "GetLatestHelmPackagePath" and self.latest_chart_refused:
                return reply(400, {"error": {"code": "InvalidReleaseTrain", "message": "no such release train"}})
            # The data plane maps properties.arcAgentProfile.agentAutoUpgrade to autoUpdate (as the emulator does).
            sent = json.loads(request.content) if request.content else {}
            profile = (sent.get("properties") or {}).get("arcAgentProfile") or {}
            auto_update = "False" if profile.get("agentAutoUpgrade") == "Disabled" else "True"
            values = {"global.resourceName": "site-1", "systemDefaultValues.azureArcAgents.autoUpdate": auto_update}
            chart = f"127.0.0.1:8443/azurearck8s/stable/azure-arc-k8sagents:{self.chart_version}"
            return reply(200, {"repositoryPath": chart, "helmValuesContent": values})
        if request.method == "GET" and path.lower() != CLUSTER.lower() and "/connectedclusters/" in path.lower():
            # Another connected cluster (the one an in-cluster ConfigMap names): gone.
            return reply(404, {"error": {"code": "ResourceNotFound", "message": "gone"}})
        assert path.lower() == CLUSTER.lower(), path
        if request.method != "GET":
            query = request.url.split("?", 1)[1] if "?" in request.url else ""
            extra = sorted(p.split("=")[0] for p in query.split("&") if p and not p.startswith("api-version="))
            self.events.append(f"arm {request.method}{''.join(' ' + p for p in extra)}")
        if request.method == "GET":
            return (
                reply(200, self.resource)
                if self.resource
                else reply(404, {"error": {"code": "ResourceNotFound", "message": "gone"}})
            )
        if request.method == "PUT":
            body = json.loads(request.content)
            self.resource = dict(body, id=CLUSTER, name="site-1")
            self.resource["properties"] = dict(
                body["properties"], provisioningState="Succeeded", connectivityStatus="Connecting"
            )
            return reply(200, self.resource)
        if request.method == "PATCH":
            body = json.loads(request.content)
            self.resource.update({k: v for k, v in body.items() if k != "properties"})
            self.resource["properties"].update(body.get("properties") or {})
            return reply(200, self.resource)
        if request.method == "DELETE":
            self.resource = None
            return reply(200, None)
        raise AssertionError(request.method)

    # the cluster

    def make_cluster(self, api_client, where):
        self.cluster_made = True
        if self.unreachable:
            raise KubernetesError(f"Cannot reach the Kubernetes API server of the cluster at {where}: refused.")
        return FakeArcCluster(self)

    # helm

    def connect_agents(self):
        """What the agents do once installed: connect when the key in the cluster matches ARM's."""
        if (
            self.cluster_key
            and self.resource["properties"]["agentPublicKeyCertificate"] == self.cluster_key.public_key_certificate
        ):
            self.resource["properties"]["connectivityStatus"] = "Connected"


class FakeArcCluster:
    def __init__(self, world):
        self.world = world

    def server_version(self):
        return "v1.31.8"

    def cluster_config(self):
        return self.world.config

    def onboarding_key(self):
        return self.world.cluster_key

    def leftovers(self):
        return list(self.world.leftovers)

    def agents_namespace_removed(self):
        self.world.events.append("kube read namespace")
        return self.world.agents_namespace

    def store_onboarding_key(self, key, replace):
        self.world.events.append(f"kube store key{' (replace)' if replace else ''}")
        self.world.cluster_key = key

    def delete_arc_crds(self):
        self.world.events.append("kube delete crds")

    def delete_namespace(self, name):
        self.world.events.append(f"kube delete namespace {name}")

    def wait_removed(self, namespaces, waiter, crds=True):
        self.world.events.append(f"kube wait removed{'' if crds else ' (namespaces)'}")


class FakeHelm:
    def __init__(self, world):
        self.world = world

    def list_releases(self, name=None):
        self.world.events.append("helm list")
        return [dict(self.world.release)] if self.world.release else []

    def run(self, args, json_output=False):
        self.world.events.append(f"helm {' '.join(args[:2]) if args[0] == 'get' else args[0]}")
        if args[:2] == ["get", "values"]:
            assert json_output and args[2:] == ["azure-arc", "--namespace", "azure-arc-release"], args
            return json.loads(json.dumps(self.world.helm_values))
        assert args[0] == "pull"
        target = Path(args[args.index("--untardir") + 1]) / "azure-arc-k8sagents"
        target.mkdir()
        (target / "Chart.yaml").write_text(f"name: azure-arc-k8sagents\nversion: {self.world.chart_version}\n")

    def upgrade_install(self, release, chart, namespace, values=None, wait=True, timeout=600, **kwargs):
        self.world.events.append("helm upgrade")
        self.world.helm_values = values
        # The agent chart creates Secret azure-arc-connect-privatekey from global.onboardingPrivateKey.
        pem = ((values or {}).get("global") or {}).get("onboardingPrivateKey")
        self.world.cluster_key = _arc_keys.from_pem(pem) if pem else None
        revision = int((self.world.release or {}).get("revision") or 0) + 1 if self.world.release else 1
        self.world.release = {"name": release, "namespace": namespace, "status": "deployed", "revision": str(revision)}
        self.world.config = {
            "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
            "AZURE_RESOURCE_GROUP": "rg-site",
            "AZURE_RESOURCE_NAME": "site-1",
        }
        self.world.connect_agents()
        return {
            "name": release,
            "namespace": namespace,
            "revision": revision,
            "status": "deployed",
            "chart_version": self.world.chart_version,
        }

    def uninstall(self, release, namespace, no_hooks=False, wait=True, timeout=300):
        self.world.events.append(f"helm uninstall{' --no-hooks' if no_hooks else ''}")
        self.world.release = None
        return True


@pytest.fixture
def world(monkeypatch, make_transport, make_reply, fake_entra, fake_clock, onboarding_key, tmp_path):
    monkeypatch.setattr(time, "monotonic", fake_clock)
    monkeypatch.setattr(time, "sleep", fake_clock.sleep)
    current = World()
    entra = fake_entra(login=LOGIN)
    transport = make_transport(
        lambda request: entra(request) if entra.handles(request) else current.azure(request, make_reply)
    )
    monkeypatch.setattr(azure_transport, "RequestsTransport", lambda **kwargs: transport)
    monkeypatch.setattr(_arc_onboarding, "ArcCluster", current.make_cluster)
    monkeypatch.setattr(ArcMLModule, "kube_client", lambda self: None)
    monkeypatch.setattr(ArcMLModule, "helm", lambda self: FakeHelm(current))
    monkeypatch.setattr(_arc_keys, "generate", lambda: onboarding_key)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "clusters: [{name: site-1, cluster: {server: 'https://192.0.2.10:6443'}}]\n"
        "users: [{name: admin, user: {token: site-1-admin-token}}]\n"
        "contexts: [{name: site-1, context: {cluster: site-1, user: admin}}]\n"
        "current-context: site-1\n"
    )
    current.kubeconfig = str(kubeconfig)
    return current


def run(capsys, world, module=connected_cluster, **args):
    base = {"name": "site-1", "resource_group": "rg-site", "location": "eastus", "kubeconfig": world.kubeconfig}
    if module is connected_cluster_info:
        base = {}

    return run_module(capsys, module, dict(AUTH, **base, **args))


def test_check_mode_plans_a_fresh_connection_without_any_write(world, capsys):
    result = run(capsys, world, _ansible_check_mode=True, _ansible_diff=True, tags={"site": "1"})

    assert result["changed"] is True
    assert result["detected"] == "not_onboarded"
    assert result["actions"] == [
        "create connected cluster site-1",
        "install the Arc agents (helm release azure-arc in namespace azure-arc-release)",
    ]
    assert world.events == ["helm list"]
    assert result["diff"]["before"] == {}
    after = result["diff"]["after"]
    assert after["id"] == CLUSTER and after["tags"] == {"site": "1"}
    assert after["properties"]["agentPublicKeyCertificate"] == "(a new RSA-4096 public key)"


def kubernetes_not_registered(world, reply_to):
    """ARM refuses every request for Microsoft.Kubernetes, as in a subscription that never registered it."""
    answer = world.azure
    message = (
        "The subscription is not registered to use namespace 'Microsoft.Kubernetes'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    refusal = {"error": {"code": "MissingSubscriptionRegistration", "message": message,
                         "details": [{"code": "MissingSubscriptionRegistration", "target": "Microsoft.Kubernetes",
                                      "message": message}]}}  # fmt: skip

    def azure(request, reply):
        if "/providers/Microsoft.Kubernetes/" in request.url:
            reply_to.append(request.method)
            return reply(409, refusal)
        return answer(request, reply)

    world.azure = azure


def test_check_mode_in_a_subscription_without_microsoft_kubernetes_plans_a_fresh_connection(world, capsys):
    refused = []
    kubernetes_not_registered(world, refused)

    result = run(capsys, world, _ansible_check_mode=True, _ansible_diff=True)

    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["detected"] == "not_onboarded"
    assert result["actions"] == [
        "create connected cluster site-1",
        "install the Arc agents (helm release azure-arc in namespace azure-arc-release)",
    ]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["id"] == CLUSTER
    assert refused == ["GET"] and world.events == ["helm list"]


def test_outside_check_mode_an_unregistered_microsoft_kubernetes_fails_before_anything_is_written(world, capsys):
    refused = []
    kubernetes_not_registered(world, refused)

    result = run(capsys, world)

    assert result["failed"] is True and result["changed"] is False
    assert result["status"] == 409 and result["error_code"] == "MissingSubscriptionRegistration"
    assert "Register Microsoft.Kubernetes in this subscription (hci.arc_ml.resource_provider)" in result["msg"]
    assert refused == ["GET"] and world.events == [] and world.cluster_made is False


def test_a_fresh_connection_writes_azure_then_gives_the_key_to_helm_as_a_value(world, capsys, onboarding_key):
    # New-AzConnectedKubernetes: healthCheck, the ARM PUT, Get-HelmValues, then helm with
    # --set global.onboardingPrivateKey; here through the 0600 values file. Before the PUT the key also goes into
    # the helm-adoptable Secret (as the connectedk8s fork's inject_onboarding_private_key_secret does), so a run
    # stopped before helm can be finished by the next one.
    result = run(capsys, world)

    assert world.events == [
        "helm list",
        "dp healthCheck",
        "kube store key",
        "arm PUT",
        "dp GetHelmSettings",
        "helm pull",
        "helm upgrade",
    ]
    assert result["changed"] is True
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    assert result["helm_release"] == {
        "name": "azure-arc",
        "namespace": "azure-arc-release",
        "status": "deployed",
        "revision": 1,
        "chart_version": "1.26.0",
        "private_key_delivery": "secret_and_value",
    }
    assert world.resource["properties"]["agentPublicKeyCertificate"] == onboarding_key.public_key_certificate
    chart_global = world.helm_values["global"]
    assert chart_global["onboardingPrivateKey"] == onboarding_key.private_key_pem
    assert chart_global["kubernetesDistro"] == "aks_workload" and chart_global["kubernetesInfra"] == "azure_stack_hci"
    assert chart_global["azureEnvironment"] == "SANDBOX"
    overrides = world.helm_values["systemDefaultValues"]
    assert overrides["azureArcAgents"] == {"autoUpdate": True, "config_dp_endpoint_override": ARM + "/arc-config"}
    assert world.metadata_reads == 1, "the cloud's overrides come from the metadata read at login"
    assert not [line for line in onboarding_key.secrets if line in json.dumps(result)]


def test_the_data_plane_health_is_checked_before_the_put_and_the_settings_asked_after_it(world, capsys):
    # New-AzConnectedKubernetes.ps1: Invoke-ConfigDPHealthCheck, then the PUT, then Get-HelmValues with the
    # PUT's answer (az connectedk8s custom.py: PUT, health_check_dp, get_helm_values).
    run(capsys, world)

    order = [event for event in world.events if event.startswith(("arm ", "dp "))]
    assert order == ["dp healthCheck", "arm PUT", "dp GetHelmSettings"]


def test_an_unhealthy_data_plane_stops_the_onboarding_before_azure_is_written(world, capsys, monkeypatch):
    azure = world.azure

    def unhealthy(request, reply):
        if request.url.split("?")[0].endswith("/healthCheck"):
            world.events.append("dp healthCheck")
            return reply(503, {"error": {"code": "ServiceUnavailable", "message": "down"}})
        return azure(request, reply)

    monkeypatch.setattr(world, "azure", unhealthy)

    result = run(capsys, world, wait_timeout=5)

    assert result["failed"] is True
    assert "arm PUT" not in world.events and world.resource is None
    assert "kube store key" not in world.events, "nothing is written into the cluster either"


def test_an_onboarding_stopped_after_the_put_is_finished_by_the_next_run_without_force(world, capsys, monkeypatch):
    # The key Secret was written before the PUT: it proves the resource is this cluster's, so the next run installs
    # the agents with that key (no new key, no PUT) instead of refusing the resource.
    azure = world.azure

    def settings_refused(request, reply):
        if request.url.split("?")[0].endswith("/GetHelmSettings"):
            world.events.append("dp GetHelmSettings")
            return reply(400, {"error": {"code": "BadRequest", "message": "refused"}})
        return azure(request, reply)

    monkeypatch.setattr(world, "azure", settings_refused)
    stopped = run(capsys, world)
    monkeypatch.setattr(world, "azure", azure)

    assert stopped["failed"] is True
    assert world.events == ["helm list", "dp healthCheck", "kube store key", "arm PUT", "dp GetHelmSettings"]
    assert world.resource is not None and world.release is None and world.cluster_key is not None
    public = world.resource["properties"]["agentPublicKeyCertificate"]
    stored = world.cluster_key
    world.events.clear()

    result = run(capsys, world)

    assert result["changed"] is True and result["detected"] == "unfinished_onboarding"
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    assert world.events == ["helm list", "dp healthCheck", "dp GetHelmSettings", "helm pull", "helm upgrade"]
    assert world.resource["properties"]["agentPublicKeyCertificate"] == public
    assert world.helm_values["global"]["onboardingPrivateKey"] == stored.private_key_pem
    assert result["helm_release"]["private_key_delivery"] == "secret_and_value"


def test_an_onboarding_stopped_before_the_put_is_carried_on_with_its_key(world, capsys, onboarding_key):
    # The key Secret stands in the cluster and nothing is in Azure: another task is onboarding this cluster right
    # now, or one stopped between storing its key and its PUT. Its namespace is not a leftover to clean up: the
    # resource is created with that key and helm gets it, so two runs at once converge on one key.
    world.cluster_key = onboarding_key
    world.leftovers = ["namespace azure-arc", "CRD connectedclusters.arc.azure.com"]

    result = run(capsys, world)

    assert result["changed"] is True and result["detected"] == "unfinished_onboarding"
    assert world.events == ["helm list", "dp healthCheck", "arm PUT", "dp GetHelmSettings", "helm pull", "helm upgrade"]
    assert world.resource["properties"]["agentPublicKeyCertificate"] == onboarding_key.public_key_certificate
    assert world.helm_values["global"]["onboardingPrivateKey"] == onboarding_key.private_key_pem
    assert result["connected_cluster"]["connectivity_status"] == "Connected"


def test_the_wait_for_connected_stops_when_another_task_removes_the_agents(world, capsys, monkeypatch):
    # The agents were installed, then their namespace was deleted under them: they will never connect, and the
    # task says so at its first poll instead of waiting out wait_timeout.
    monkeypatch.setattr(world, "connect_agents", lambda: None)
    world.agents_namespace = "being deleted"

    result = run(capsys, world, wait_timeout=600)

    assert result["failed"] is True
    assert result["msg"].startswith("Namespace azure-arc on the cluster at kubeconfig ")
    assert result["msg"].endswith(
        "context site-1 is being deleted while connected cluster site-1 waits for its agents to report Connected: "
        "another task, or someone by hand, removed the Arc agents. Re-run the task when that removal has finished."
    )
    after_helm = world.events[world.events.index("helm upgrade") + 1 :]
    assert after_helm == ["kube read namespace"], "the first poll reads the namespace, then the task fails"


def test_every_chart_version_gets_the_key_as_a_value(world, capsys, onboarding_key):
    world.chart_version = "1.36.0"

    result = run(capsys, world)

    assert result["helm_release"]["private_key_delivery"] == "secret_and_value"
    assert world.helm_values["global"]["onboardingPrivateKey"] == onboarding_key.private_key_pem
    assert result["connected_cluster"]["connectivity_status"] == "Connected"


def test_an_offline_cluster_whose_key_cannot_be_read_is_not_rekeyed(world, capsys):
    run(capsys, world)
    world.resource["properties"]["connectivityStatus"] = "Offline"
    world.cluster_key = None
    world.events.clear()

    result = run(capsys, world, wait=False)

    assert result["changed"] is False and result["detected"] == "onboarded"
    assert world.events == ["helm list"]


def test_a_connected_cluster_is_left_alone(world, capsys):
    run(capsys, world)
    world.events.clear()

    result = run(capsys, world)

    assert result["changed"] is False and result["detected"] == "onboarded"
    assert result["actions"] == []
    assert result["helm_release"] == {
        "name": "azure-arc",
        "namespace": "azure-arc-release",
        "status": "deployed",
        "revision": 1,
    }
    assert world.events == ["helm list"]


def test_a_provisioned_cluster_is_never_looked_into_and_its_disconnect_is_skipped(world, capsys):
    world.resource = {"id": CLUSTER, "name": "site-1", "location": "eastus", "kind": "ProvisionedCluster",
                      "properties": {"connectivityStatus": "Connected", "agentPublicKeyCertificate": ""}}  # fmt: skip

    present = run(capsys, world, tags={"x": "y"})
    absent = run(capsys, world, state="absent")

    assert present["changed"] is False and present["detected"] == "platform_managed"
    assert absent.get("failed") is not True and absent["changed"] is False and absent["actions"] == []
    assert absent["msg"].startswith("Skipped: ") and "owned by AKS Arc" in absent["msg"]
    assert absent["msg"] in str(absent["warnings"]) and absent["connected_cluster"]["platform_managed"] is True
    assert world.events == [] and world.cluster_made is False


def test_disconnect_deletes_in_azure_first_then_removes_the_agents(world, capsys):
    run(capsys, world)
    world.events.clear()

    result = run(capsys, world, state="absent", wait_sleep=1)

    assert result["changed"] is True
    # az connectedk8s delete without --force: ARM DELETE, helm delete (with hooks), the namespaces; the Arc CRDs
    # stay (only --force runs crd_cleanup_force_delete).
    assert world.events == [
        "helm list",
        "arm DELETE",
        "helm uninstall",
        "kube delete namespace azure-arc",
        "kube delete namespace azure-arc-release",
        "kube wait removed (namespaces)",
    ]
    assert world.resource is None
    assert "Arc CRDs" not in result["actions"][1]


def test_a_forced_disconnect_sends_no_force_query_and_removes_the_crds(world, capsys):
    # DELETE connectedClusters in api-version 2026-05-01 takes api-version only: no `force` parameter.
    run(capsys, world)
    world.events.clear()

    result = run(capsys, world, state="absent", force=True, wait_sleep=1)

    assert result["changed"] is True
    assert world.events == [
        "helm list",
        "arm DELETE",
        "helm uninstall --no-hooks",
        "kube delete crds",
        "kube delete namespace azure-arc",
        "kube delete namespace azure-arc-release",
        "kube wait removed",
    ]
    assert result["actions"][1].endswith("Arc CRDs)")


def test_disconnect_in_check_mode_only_reports(world, capsys):
    run(capsys, world)
    world.events.clear()

    result = run(capsys, world, state="absent", _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is True
    assert result["actions"][0] == "delete connected cluster site-1"
    assert result["diff"]["before"]["id"] == CLUSTER and result["diff"]["after"] == {}
    assert world.events == ["helm list"] and world.resource is not None


def test_forced_disconnect_of_an_unreachable_cluster_deletes_the_resource_only(world, capsys):
    run(capsys, world)
    world.events.clear()
    world.unreachable = True

    refused = run(capsys, world, state="absent")
    forced = run(capsys, world, state="absent", force=True)

    assert refused["failed"] is True and refused["msg"].startswith("Cannot reach the Kubernetes API server")
    assert forced["changed"] is True
    assert "only the Azure resource is deleted" in json.dumps(forced["warnings"])
    assert world.events == ["arm DELETE"] and world.resource is None


def test_disconnect_refuses_a_cluster_connected_as_another_resource(world, capsys):
    run(capsys, world)
    world.config = dict(world.config, AZURE_RESOURCE_NAME="other")
    world.events.clear()

    result = run(capsys, world, state="absent")

    assert result["failed"] is True
    assert "connected as connected cluster 'other' in resource group 'rg-site', not as 'site-1'" in result["msg"]
    assert world.events == ["helm list"]


OTHER_CONFIG = {"AZURE_SUBSCRIPTION_ID": SUBSCRIPTION, "AZURE_RESOURCE_GROUP": "rg-a", "AZURE_RESOURCE_NAME": "site-a"}
REMOVALS = ("helm uninstall", "kube delete")


def removals(world):
    return [event for event in world.events if event.startswith(REMOVALS)]


def test_a_connect_never_cleans_up_agents_that_name_another_resource(world, capsys):
    # Connected as site-a, whose resource this run cannot find (deleted, or in a subscription it cannot see):
    # a run for site-1 must not wipe it without force.
    world.release = {"name": "azure-arc", "namespace": "azure-arc-release", "status": "deployed", "revision": "3"}
    world.config = dict(OTHER_CONFIG)

    refused = run(capsys, world)

    assert refused["failed"] is True and refused["detected"] == "stale_release"
    assert "connected cluster 'site-a' in resource group 'rg-a'" in refused["msg"]
    assert "force: true" in refused["msg"] and "nothing was removed" in refused["msg"]
    assert removals(world) == [] and world.resource is None
    assert not [event for event in world.events if event.startswith(("arm", "kube store"))]

    forced = run(capsys, world, force=True, wait_sleep=1)

    assert forced["changed"] is True and forced["detected"] == "stale_release"
    assert removals(world) == ["helm uninstall --no-hooks", "kube delete crds", "kube delete namespace azure-arc"]


def test_a_connect_never_cleans_up_leftovers_that_name_another_resource(world, capsys):
    # No helm release, but namespace azure-arc still holds site-a's ConfigMap.
    world.config = dict(OTHER_CONFIG)
    world.leftovers = ["namespace azure-arc", "CRD connectedclusters.arc.azure.com"]

    refused = run(capsys, world)

    assert refused["failed"] is True and "connected cluster 'site-a' in resource group 'rg-a'" in refused["msg"]
    assert removals(world) == [] and world.resource is None


def test_disconnect_never_removes_agents_whose_configmap_names_another_resource(world, capsys):
    # The key Secret fits site-1 (an onboarding that stopped before helm), yet the ConfigMap names site-a.
    run(capsys, world)
    world.release = None
    world.config = dict(OTHER_CONFIG)
    world.events.clear()

    result = run(capsys, world, state="absent")

    assert removals(world) == []
    assert "connected cluster 'site-a' in resource group 'rg-a'" in json.dumps(result.get("warnings"))


def test_disconnect_of_a_gone_resource_leaves_another_resources_agents_and_says_so(world, capsys):
    world.release = {"name": "azure-arc", "namespace": "azure-arc-release", "status": "deployed", "revision": "3"}
    world.config = dict(OTHER_CONFIG)

    result = run(capsys, world, state="absent")

    assert result["changed"] is False and removals(world) == []
    assert "connected cluster 'site-a' in resource group 'rg-a'" in json.dumps(result.get("warnings"))


def test_disconnect_uninstalls_a_release_in_a_shared_namespace_but_never_deletes_that_namespace(world, capsys):
    # az connectedk8s delete: helm delete azure-arc --namespace <release namespace>, then namespaces azure-arc and
    # azure-arc-release only (delete_arc_agents, cleanup_release_install_namespace_if_exists).
    run(capsys, world)
    world.release = dict(world.release, namespace="kube-system")
    world.events.clear()

    result = run(capsys, world, state="absent", wait_sleep=1)

    assert result["changed"] is True
    assert removals(world) == [
        "helm uninstall",
        "kube delete namespace azure-arc",
        "kube delete namespace azure-arc-release",
    ]
    assert world.release is None


def test_info_reads_one_cluster_or_none(world, capsys):
    run(capsys, world)
    found = run(capsys, world, module=connected_cluster_info, name="site-1", resource_group="rg-site")
    assert [c["name"] for c in found["connected_clusters"]] == ["site-1"]
    world.resource = None
    assert (
        run(capsys, world, module=connected_cluster_info, name="site-1", resource_group="rg-site")["connected_clusters"]
        == []
    )
    missing_group = run(capsys, world, module=connected_cluster_info, name="site-1")
    assert missing_group["failed"] is True and "resource_group" in missing_group["msg"]


def test_info_compares_with_the_newest_agent_version_of_the_region(world, capsys):
    run(capsys, world)
    world.events.clear()
    args = dict(name="site-1", resource_group="rg-site", latest_agent_version=True)
    found = run(capsys, world, module=connected_cluster_info, **args)
    assert found["latest_agent_versions"] == [{"location": "eastus", "version": "1.26.0"}]
    assert world.events == ["dp GetLatestHelmPackagePath"]
    # Without the option nothing more is asked, and the list is not there.
    world.events.clear()
    plain = run(capsys, world, module=connected_cluster_info, name="site-1", resource_group="rg-site")
    assert "latest_agent_versions" not in plain and world.events == []
    # A region whose service refuses gives null and a warning; the clusters are still returned.
    world.latest_chart_refused = True
    refused = run(capsys, world, module=connected_cluster_info, **args)
    assert refused["latest_agent_versions"] == [{"location": "eastus", "version": None}]
    assert refused["connected_clusters"] and not refused.get("failed")
    assert "newest Arc agent version in eastus could not be read" in json.dumps(refused["warnings"]), refused


def test_importing_the_modules_loads_no_sdk():
    arc = sorted(os.listdir(COLLECTIONS / "ansible_collections/hci/arc_ml/plugins/module_utils/_arc"))
    modules = [
        "ansible_collections.hci.arc_ml.plugins.modules.connected_cluster",
        "ansible_collections.hci.arc_ml.plugins.modules.connected_cluster_info",
        *(
            f"ansible_collections.hci.arc_ml.plugins.module_utils._arc.{n[:-3]}"
            for n in arc
            if n.endswith(".py") and n != "__init__.py"
        ),
    ]
    heavy = {"azure", "msal", "kubernetes", "requests", "cryptography", "yaml", "urllib3"}
    probe = (
        f"import sys; sys.path.insert(0, {str(COLLECTIONS)!r})\n"
        + "".join(f"import {name}\n" for name in modules)
        + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    assert len(modules) == 11


def test_a_proxy_password_is_masked_even_when_the_agents_are_not_installed(world, capsys):
    proxy = {"https_proxy": "http://user:s3cret-pw@proxy.example:3128"}
    result = run(capsys, world, _ansible_check_mode=True, proxy=proxy)
    assert result["changed"] is True
    assert "s3cret-pw" not in json.dumps(result)
    assert result["invocation"]["module_args"]["proxy"]["https_proxy"] == "http://user:********@proxy.example:3128"


def test_an_unreadable_proxy_ca_fails_before_anything_is_read_or_written(world, capsys, tmp_path):
    result = run(capsys, world, _ansible_check_mode=True, proxy={"ca_cert": str(tmp_path / "missing.pem")})
    assert result["failed"] is True
    assert "Cannot read proxy.ca_cert" in result["msg"]
    assert world.events == []


PROXY_PASSWORD = "pr0xy-s3cret"
NEW_PROXY = {"https_proxy": f"http://ops:{PROXY_PASSWORD}@proxy.example:3128", "no_proxy": ["10.96.0.0/12", ".svc"]}


def test_a_proxy_change_on_a_connected_cluster_is_applied_as_az_connectedk8s_update_does(world, capsys):
    run(capsys, world)
    key_pem = world.helm_values["global"]["onboardingPrivateKey"]
    world.events.clear()

    planned = run(capsys, world, proxy=NEW_PROXY, _ansible_check_mode=True, _ansible_diff=True)
    assert world.events == ["helm list", "helm get values"]  # check mode reads, writes nothing
    assert planned["changed"] is True and planned["detected"] == "onboarded"
    assert planned["actions"] == [
        "replace connected cluster site-1 (arcAgentryConfigurations)",
        "update the Arc agents (helm upgrade of release azure-arc in namespace azure-arc-release: proxy)",
    ]
    assert planned["diff"]["before"]["agent_proxy"] == {}
    assert planned["diff"]["after"]["agent_proxy"]["isProxyEnabled"] is True
    world.events.clear()

    applied = run(capsys, world, proxy=NEW_PROXY)

    # az connectedk8s update: the re-PUT, GetHelmSettings with its answer, the chart, helm upgrade -f <values>.
    assert world.events == ["helm list", "helm get values", "dp healthCheck", "arm PUT", "dp GetHelmSettings",
                            "helm pull", "helm upgrade"]  # fmt: skip
    assert world.resource["properties"]["arcAgentryConfigurations"] == [{"feature": "proxy", "settings": {}}]
    chart_global = world.helm_values["global"]
    assert chart_global["onboardingPrivateKey"] == key_pem  # the release keeps its values, its key included
    assert chart_global["httpsProxy"] == NEW_PROXY["https_proxy"]
    assert (chart_global["noProxy"], chart_global["isProxyEnabled"]) == ("10.96.0.0/12,.svc", True)
    assert applied["helm_release"]["revision"] == 2
    world.events.clear()

    again = run(capsys, world, proxy=NEW_PROXY)
    assert again["changed"] is False and again["actions"] == []
    assert world.events == ["helm list", "helm get values"]
    for result in (planned, applied, again):
        assert PROXY_PASSWORD not in json.dumps(result)
        assert key_pem.splitlines()[1] not in json.dumps(result)


def test_an_auto_upgrade_change_is_a_re_put_then_a_helm_upgrade_with_the_data_plane_values(world, capsys):
    run(capsys, world)
    world.events.clear()

    result = run(capsys, world, agent_auto_upgrade=False)

    assert result["actions"] == [
        "replace connected cluster site-1 (agentAutoUpgrade)",
        "update the Arc agents (helm upgrade of release azure-arc in namespace azure-arc-release: agentAutoUpgrade)",
    ]
    assert world.events == ["helm list", "dp healthCheck", "arm PUT", "helm get values", "dp GetHelmSettings",
                            "helm pull", "helm upgrade"]  # fmt: skip
    assert world.resource["properties"]["arcAgentProfile"] == {"agentAutoUpgrade": "Disabled"}
    assert world.helm_values["systemDefaultValues"]["azureArcAgents"]["autoUpdate"] is False
    assert "onboardingPrivateKey" in world.helm_values["global"]
    assert run(capsys, world, agent_auto_upgrade=False)["changed"] is False


def test_tags_others_added_stay_in_every_patch_and_put_unless_append_tags_is_false(world, capsys):
    run(capsys, world, tags={"site": "1"})
    world.resource["tags"]["CostCenter"] = "4711"  # added behind the module's back, as Azure Policy does
    world.events.clear()

    kept = run(capsys, world, tags={})  # what the arc_connect role passes by default
    assert kept["changed"] is False and kept["actions"] == [] and world.events == ["helm list"]
    assert kept["connected_cluster"]["tags"] == {"site": "1", "CostCenter": "4711"}

    updated = run(capsys, world, tags={"Site": "2"})  # names without case: updates `site`, adds no `Site`
    assert updated["actions"] == ["update connected cluster site-1 (tags)"]
    assert world.events[-1] == "arm PATCH"
    assert world.resource["tags"] == {"site": "2", "CostCenter": "4711"}  # the PATCH carried the whole set

    re_put = run(capsys, world, tags={"site": "3"}, agent_auto_upgrade=False)
    assert re_put["actions"][0] == "replace connected cluster site-1 (tags, agentAutoUpgrade)"
    assert world.resource["tags"] == {"site": "3", "CostCenter": "4711"}  # so did the re-PUT

    world.events.clear()
    replaced = run(capsys, world, tags={"site": "3"}, append_tags=False, _ansible_check_mode=True, _ansible_diff=True)
    assert replaced["actions"] == ["update connected cluster site-1 (tags)"] and world.events == ["helm list"]
    assert replaced["diff"]["before"]["tags"] == {"site": "3", "CostCenter": "4711"}
    assert replaced["diff"]["after"]["tags"] == {"site": "3"}
    run(capsys, world, tags={}, append_tags=False)
    assert world.resource["tags"] == {}


def test_two_tag_names_azure_takes_as_one_fail_before_any_request(world, capsys):
    result = run(capsys, world, tags={"Env": "a", "env": "b"})
    assert result["failed"] is True and "'Env' and 'env'" in result["msg"]
    assert world.events == [] and world.cluster_made is False


def test_a_re_put_that_would_erase_protected_settings_is_refused_before_any_write(world, capsys):
    run(capsys, world)
    # Set by another tool; GET returns the protected settings without their values.
    world.resource["properties"]["arcAgentryConfigurations"] = [
        {"feature": "logging", "settings": {}, "protectedSettings": {"token": ""}}
    ]
    world.events.clear()

    result = run(capsys, world, agent_auto_upgrade=False)

    assert result["failed"] is True
    assert "would erase the protected settings" in result["msg"] and "'logging'" in result["msg"]
    assert result["protected_features"] == ["logging"]
    assert world.events == ["helm list"]


@pytest.mark.parametrize(
    ("password", "decoded"),
    [
        ("S3cret-pw", None),
        ("pa/ss-w0rd", None),
        ("pa#ss-w0rd", None),
        ("pa?ss-w0rd", None),
        ("p@ss-w0rd", None),
        ("a/b#c?d@e-w0rd", None),
        ("pa%2Fss%23w0rd", "pa/ss#w0rd"),
        ("p%40ss%3Fw0rd", "p@ss?w0rd"),
    ],
)
def test_a_proxy_password_is_masked_when_the_options_fail_validation(world, capsys, password, decoded):
    # AnsibleModule rejects wait_timeout inside its constructor, before the task could register the password.
    proxy = {"https_proxy": f"http://user:{password}@proxy.example:3128", "http_proxy": f"http://u:{password}@p:80"}
    result = run(capsys, world, proxy=proxy, wait_timeout="abc")
    assert result["failed"] is True
    assert "wait_timeout" in result["msg"]
    output = json.dumps(result)
    assert password not in output
    if decoded:
        assert decoded not in output
    assert result["invocation"]["module_args"]["proxy"]["https_proxy"] == "http://user:********@proxy.example:3128"
    assert world.events == [] and world.metadata_reads == 0


def record_arm_requests(world):
    """Every request to an ARM resource path (not cloud metadata or sign-in) the module sends, from now on."""
    sent = []
    answer = world.azure

    def recording(request, reply):
        if "/subscriptions/" in request.url or "/arc-config/" in request.url:
            sent.append(f"{request.method} {request.url}")
        return answer(request, reply)

    world.azure = recording
    return sent


@pytest.mark.parametrize(
    ("option", "value"),
    [("name", "site-1\n"), ("name", ".."), ("resource_group", "rg-site\n"), ("resource_group", "."),
     ("location", "eastus#x"), ("location", "eastus?x"), ("location", "east/us")],
)  # fmt: skip
def test_a_name_that_would_change_a_request_url_fails_before_any_request(world, capsys, option, value):
    sent = record_arm_requests(world)
    args = {**AUTH, "name": "site-1", "resource_group": "rg-site", "location": "eastus", "kubeconfig": world.kubeconfig}
    with patch_module_args({**args, option: value}), pytest.raises(SystemExit):
        connected_cluster.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "\n" not in result["msg"], result["msg"]
    assert repr(value) in result["msg"] and "Nothing was sent" in result["msg"]
    assert sent == [] and world.events == []


@pytest.mark.parametrize(("option", "value"), [("name", "site-1\n"), ("resource_group", "..")])
def test_the_info_module_checks_the_names_before_the_read(world, capsys, option, value):
    sent = record_arm_requests(world)
    names = {"name": "site-1", "resource_group": "rg-site", option: value}
    result = run(capsys, world, module=connected_cluster_info, **names)
    assert result["failed"] is True and f"{option} {value!r}" in result["msg"], result["msg"]
    assert sent == []
