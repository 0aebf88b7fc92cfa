"""Stand-in agents: what the Arc agents and the extension manager do in a real cluster.

Arc agents: once the chart is deployed in a site's cluster, the agents reach
Azure only with the values the real agents need (`connection_problem`): the
cloud's name as AZURE_ENVIRONMENT, its Arc config data plane endpoint, the
resource's region and tenant; then they prove the onboarding identity by
holding the private key whose public half ARM keeps. Only then does the
resource turn `Connected`, with the Kubernetes version, node and core counts
read from the cluster. A removed install turns a connected resource `Offline`.

Extension manager: for an extension operation on a connected cluster it
installs, upgrades or uninstalls the extension's helm release (the stand-in
Azure ML chart for Microsoft.AzureML.Kubernetes) and reports the outcome; on
a cluster whose agents are not there it fails the operation with the error
Azure gives when no agent answers.
"""

import base64
import json
import logging
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import requests

from .cluster_view import ARC_NAMESPACE, PRIVATE_KEY_SECRET, arc_install, cluster_facts, public_key_certificate
from .emulator.client import AdminClient
from .emulator.secrets_registry import SecretRegistry
from .k8s.api import KubeApiError

log = logging.getLogger("sandbox.agents")

CHARTS = Path(__file__).resolve().parent / "charts"
AZUREML_TYPE = "microsoft.azureml.kubernetes"
DEFAULT_RELEASE_NAMESPACE = "azureml"
TICK_SECONDS = 0.5
# How long an extension operation waits for agents before it fails (Azure waits about an hour).
AGENT_RESPONSE_TIMEOUT = 10.0
HELM_TIMEOUT = 120
TERMINAL = ("Succeeded", "Failed", "Canceled")
KEPT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
NO_AGENT_ERROR = {
    "code": "ExtensionOperationFailed",
    "message": (
        "The extension operation failed with the following error: Unable to get response from the Agent in "
        "time, please ensure the extension agents on the cluster are able to connect to Azure services."
    ),
}


# global.azureEnvironment (ConfigMap key AZURE_ENVIRONMENT), as az connectedk8s computes it from the az cloud name:
# upper-cased, the public and US Government clouds renamed to the names the agents' Go SDK understands
# (custom.py `send_cloud_telemetry`, _constants.py `Azure_PublicCloudName`, `Azure_USGovCloudName`,
# `Azure_ChinaCloudName`); any other (custom) cloud keeps its own name upper-cased.
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_constants.py
# The Go SDK resolves the name upper-cased and knows only AZUREPUBLICCLOUD, AZUREUSGOVERNMENTCLOUD,
# AZURECHINACLOUD (and AZUREGERMANCLOUD) of the built-in clouds (`EnvironmentFromName`), so "AZURECLOUD" reaches
# nothing: https://github.com/Azure/go-autorest/blob/main/autorest/azure/environments.go
AZURE_ENVIRONMENTS = {
    "AZURECLOUD": "AZUREPUBLICCLOUD",
    "AZUREUSGOVERNMENT": "AZUREUSGOVERNMENTCLOUD",
    "AZURECHINACLOUD": "AZURECHINACLOUD",
}
METADATA_API_VERSION = "2022-09-01"


def azure_environment(cloud_name: str) -> str:
    name = (cloud_name or "AzureCloud").upper()
    return AZURE_ENVIRONMENTS.get(name, name)


def normalize_location(location: str) -> str:
    """ARM's location key: lower-case, spaces removed ("West US 2" is westus2)."""
    return (location or "").replace(" ", "").lower()


@dataclass(frozen=True)
class AgentCloud:
    """What the real Arc agents must be told of the cloud the emulator plays, to reach it.

    Read from the emulator's /metadata/endpoints document, as az connectedk8s reads it: `name` is the cloud
    (AZURE_ENVIRONMENT), `dataplaneEndpoints.arcConfigEndpoint` the Arc config data plane a custom cloud's agents
    must be pointed at (ARC_CONFIG_DP_ENDPOINT_OVERRIDE, from
    `systemDefaultValues.azureArcAgents.config_dp_endpoint_override`; without it the agents use the regional
    public endpoint). `tenant_id`: the subscription's tenant, the tenant of every resource's identity.
    """

    environment: str
    config_endpoint: Optional[str]
    tenant_id: str

    @classmethod
    def from_metadata(cls, metadata: dict, tenant_id: str) -> "AgentCloud":
        endpoint = ((metadata or {}).get("dataplaneEndpoints") or {}).get("arcConfigEndpoint")
        return cls(azure_environment((metadata or {}).get("name")), endpoint or None, tenant_id)

    def helm_values(self) -> dict:
        """The cloud values a client sets on the agent chart for this cloud (az connectedk8s `helm_install_release`)."""
        values = {"global": {"azureEnvironment": self.environment}}
        if self.config_endpoint:
            values["systemDefaultValues"] = {"azureArcAgents": {"config_dp_endpoint_override": self.config_endpoint}}
        return values


def _same_endpoint(a: str, b: str) -> bool:
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def connection_problem(config: dict, arm: dict, cloud: AgentCloud) -> Optional[str]:
    """Why agents configured by ConfigMap azure-clusterconfig `config` cannot reach ARM resource `arm`, or None.

    The values every real client gives the agents besides the resource's name (az connectedk8s
    `execute_arc_agent_install`: `--set global.location=<location> --set global.tenantId=<onboarding tenant>
    --set global.azureEnvironment=<cloud name>`; the custom cloud overrides of `helm_install_release`; the
    Microsoft edge-ai Terraform module: `global.tenantId` = the subscription's tenant, `global.location` = the
    resource's location, `global.azureEnvironment` = "AZUREPUBLICCLOUD"), which the chart renders into the ConfigMap:
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_arc_agent_utils.py
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
    https://github.com/microsoft/edge-ai/blob/main/src/100-edge/100-cncf-cluster/terraform/modules/arc-agents/main.tf
    """
    if (config.get("AZURE_ENVIRONMENT") or "").upper() != cloud.environment:
        # The agents resolve no endpoints for a cloud they do not know.
        return "EnvironmentMismatch"
    override = config.get("ARC_CONFIG_DP_ENDPOINT_OVERRIDE")
    if cloud.config_endpoint and not _same_endpoint(override, cloud.config_endpoint):
        # Without the override they ask the public cloud's regional endpoint, which this cloud does not serve.
        return "ConfigEndpointMismatch"
    if normalize_location(config.get("AZURE_REGION")) != normalize_location(arm.get("location")):
        # The regional data plane of another region knows nothing of the resource.
        return "RegionMismatch"
    if (config.get("AZURE_TENANT_ID") or "").lower() != (cloud.tenant_id or "").lower():
        # Tokens from another tenant are not valid for the resource.
        return "TenantMismatch"
    return None


def _provisioned(arm) -> bool:
    # AKS Arc clusters come with agents that authenticate without an onboarding key.
    return (arm.get("kind") or "").lower() == "provisionedcluster"


def _key_matches(install, arm) -> bool:
    return (
        bool(install.private_key_pem)
        and public_key_certificate(install.private_key_pem) == arm["agentPublicKeyCertificate"]
    )


def _nested(settings: dict) -> dict:
    """Dotted configuration keys become nested helm values, as `--set a.b=c` would."""
    values = {}
    for dotted, value in settings.items():
        node = values
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[leaf] = value
    return values


def run_helm(helm, cluster, *args):
    return subprocess.run(
        [helm, f"--kubeconfig={cluster.kubeconfig}", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=HELM_TIMEOUT,
    )


class Agents:
    def __init__(self, sites, clusters: dict, emulator_info: dict, directory: Path, bin_dir: Path):
        self.sites = sites
        self.clusters = clusters
        self.admin = AdminClient(emulator_info["url"], emulator_info["ca_bundle"])
        self.status_dir = Path(directory) / "agents"
        self.status_dir.mkdir(parents=True, exist_ok=True)
        self.helm = str(Path(bin_dir) / "helm")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stand-in-agents", daemon=True)
        self._waiting_since = {}
        self._emulator = emulator_info
        self._cloud = None
        # The emulator's registry (beside its state file): the agents add the keys they are given.
        self.secrets = SecretRegistry.in_directory(Path(emulator_info["state"]).parent)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("stand-in agents: tick failed; retrying")
            self._stop.wait(TICK_SECONDS)

    def cloud(self) -> AgentCloud:
        """The emulator's cloud, read once: its metadata document and the subscription's tenant."""
        if self._cloud is None:
            url = self._emulator["url"].rstrip("/")
            response = requests.get(
                f"{url}/metadata/endpoints",
                params={"api-version": METADATA_API_VERSION},
                verify=self._emulator["ca_bundle"],
                timeout=10,
            )
            response.raise_for_status()
            tenant_id = self.admin.tenant_id()
            self._cloud = AgentCloud.from_metadata(response.json(), tenant_id)
        return self._cloud

    # One pass over every site.

    def tick(self):
        arm_clusters = {c["id"].lower(): c for c in self.admin.clusters()}
        by_identity = {
            (c["subscriptionId"].lower(), c["resourceGroup"].lower(), c["name"].lower()): c
            for c in arm_clusters.values()
        }
        served = set()
        for site_name, cluster in self.clusters.items():
            arm = self._arc_agents(site_name, cluster, by_identity)
            if arm is not None:
                served.add(arm["id"].lower())
                self._extension_manager(cluster, arm)
        for arm_id, arm in arm_clusters.items():
            if arm_id not in served:
                self._no_agents(arm)

    def _arc_agents(self, site_name, cluster, by_identity):
        """Report the site's cluster to ARM; return the ARM cluster its agents serve, or None."""
        api = cluster.api()
        install = arc_install(api)
        self._record_onboarding_key(site_name, api, install)
        status = {"site": site_name, "connectivity": "NotInstalled"}
        arm = None
        if install is not None:
            arm = by_identity.get(install.resource)
            status.update(release=install.release_status, resource=list(install.resource))
            if arm is None:
                status["connectivity"] = "NoResource"
            elif install.release_status != "deployed":
                status["connectivity"] = "AgentsNotRunning"
                arm = None
            elif problem := connection_problem(install.config, arm, self.cloud()):
                # The agents cannot reach Azure as this resource: it stays Connecting.
                status["connectivity"] = problem
                arm = None
            elif not _provisioned(arm) and not _key_matches(install, arm):
                # The agents cannot authenticate as this resource: it stays Connecting.
                status["connectivity"] = "KeyMismatch"
                arm = None
            else:
                status["connectivity"] = "Connected"
                self._report_connected(api, install, arm)
        self._write_status(site_name, status)
        return arm

    def _record_onboarding_key(self, site_name, api, install):
        """The onboarding private key the agents are given goes to the secret registry as soon as it is there.

        A client writes its Secret before the chart is deployed (arc_install reads it only once the release
        exists), so it is read here on its own as well.
        """
        key = install.private_key_pem if install is not None else None
        if key is None:
            try:
                secret = api.get(f"/api/v1/namespaces/{ARC_NAMESPACE}/secrets/{PRIVATE_KEY_SECRET}")
            except KubeApiError as err:
                if err.status != 404:
                    raise
                return
            encoded = (secret.get("data") or {}).get("privateKey")
            key = base64.b64decode(encoded) if encoded else None
        if key:
            self.secrets.record_secret(key.decode(errors="replace").strip(), f"onboarding private key of {site_name}")

    def _report_connected(self, api, install, arm):
        facts = cluster_facts(api)
        facts["agentVersion"] = install.config.get("AZURE_ARC_AGENT_VERSION") or arm.get("agentVersion")
        reported = {k: arm.get(k) for k in facts}
        if arm.get("connectivityStatus") != "Connected" or reported != facts:
            self.admin.report_cluster(arm["id"], connectivityStatus="Connected", **facts)
            log.info("agents of %s: Connected", arm["id"])

    def _no_agents(self, arm):
        if arm.get("connectivityStatus") == "Connected" and not _provisioned(arm):
            self.admin.report_cluster(arm["id"], connectivityStatus="Offline")
            log.info("agents of %s gone: Offline", arm["id"])
        now = time.monotonic()
        for ext in arm["extensions"]:
            op = ext.get("operation")
            if not op or op["status"] in TERMINAL:
                continue
            if op["action"] == "delete":
                # Deleting needs no agent answer to remove the Azure side.
                self.admin.report_extension(ext["id"], "Deleted")
                continue
            since = self._waiting_since.setdefault(op["id"], now)
            if now - since >= AGENT_RESPONSE_TIMEOUT:
                self.admin.report_extension(ext["id"], "Failed", NO_AGENT_ERROR)
                self._waiting_since.pop(op["id"], None)
                log.info("extension %s: no agent answered, Failed", ext["id"])

    # Extensions.

    def _extension_manager(self, cluster, arm):
        for ext in arm["extensions"]:
            op = ext.get("operation")
            if not op or op["status"] in TERMINAL:
                continue
            namespace = ext.get("releaseNamespace") or DEFAULT_RELEASE_NAMESPACE
            try:
                if op["action"] == "delete":
                    self._helm(cluster, "uninstall", ext["name"], "--namespace", namespace, "--ignore-not-found")
                    self._delete_release_namespace(cluster, namespace)
                    self.admin.report_extension(ext["id"], "Deleted")
                else:
                    version = self._install(cluster, ext, namespace)
                    self.admin.report_extension(ext["id"], "Succeeded", current_version=version)
                log.info("extension %s: %s done", ext["id"], op["action"])
            except subprocess.CalledProcessError as err:
                message = (err.stderr or "").strip().splitlines()[-1:] or ["helm failed"]
                self.admin.report_extension(
                    ext["id"],
                    "Failed",
                    {
                        "code": "ExtensionOperationFailed",
                        "message": f"The extension operation failed with the following error: {message[0]}",
                    },
                )

    def _delete_release_namespace(self, cluster, namespace):
        """The extension manager removes the namespace it created for the release, once no release is left in it."""
        if namespace in KEPT_NAMESPACES:
            return
        api = cluster.api()
        if api.get(f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm")["items"]:
            return
        try:
            api.delete(f"/api/v1/namespaces/{namespace}")
        except KubeApiError as err:
            if err.status != 404:
                raise

    def _install(self, cluster, ext, namespace):
        if ext["extensionType"].lower() != AZUREML_TYPE:
            return ext.get("version") or "1.0.0"
        chart = CHARTS / "azureml"
        values = _nested(ext.get("configurationSettings") or {})
        values["cluster_name"] = ext["id"].split("/providers/Microsoft.KubernetesConfiguration")[0]
        self._install_release(cluster, ext["name"], chart, namespace, values)
        chart_meta = (chart / "Chart.yaml").read_text()
        return next(line.split(":", 1)[1].strip() for line in chart_meta.splitlines() if line.startswith("version:"))

    def _install_release(self, cluster, release, chart, namespace, values):
        fd, path = tempfile.mkstemp(prefix=f"{release}-values-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(values, f)
            run_helm(self.helm, cluster, "upgrade", "--install", release, str(chart), "--namespace", namespace,
                     "--create-namespace", "--values", path)  # fmt: skip
        finally:
            os.unlink(path)

    def _helm(self, cluster, *args):
        return run_helm(self.helm, cluster, *args)

    def preinstall_provisioned(self, site, cluster, subscription_id, tenant_id):
        """AKS Arc clusters are born connected: their agents are already in the cluster."""
        identity = {
            "subscriptionId": subscription_id, "resourceGroupName": site.resource_group, "resourceName": site.name,
            "location": site.location, "tenantId": tenant_id, "kubernetesDistro": "AKS",
            "kubernetesInfra": "azure_stack_hci",
        }  # fmt: skip
        # The platform installs them with the cloud's values too, or they could not connect either.
        values = self.cloud().helm_values()
        values["global"].update(identity)
        self._install_release(cluster, "azure-arc", CHARTS / "azure-arc", "azure-arc-release", values)

    def _write_status(self, site_name, status):
        path = self.status_dir / f"{site_name}.json"
        text = json.dumps(status)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
