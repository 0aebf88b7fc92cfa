"""The stand-in Arc agents connect only with the values the real agents need to reach Azure.

Besides the resource's name and the onboarding key, every real client tells the agents the cloud
(global.azureEnvironment), the region (global.location) and the tenant (global.tenantId), and in a custom cloud
the Arc config data plane endpoint (systemDefaultValues.azureArcAgents.config_dp_endpoint_override); the chart
renders them into ConfigMap azure-arc/azure-clusterconfig as AZURE_ENVIRONMENT, AZURE_REGION, AZURE_TENANT_ID
and ARC_CONFIG_DP_ENDPOINT_OVERRIDE. Sources: az connectedk8s `execute_arc_agent_install`
(https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_arc_agent_utils.py),
`helm_install_release` and `send_cloud_telemetry`
(https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py,
https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py), the
Microsoft edge-ai Terraform module
(https://github.com/microsoft/edge-ai/blob/main/src/100-edge/100-cncf-cluster/terraform/modules/arc-agents/main.tf)
and the Go SDK's cloud names (https://github.com/Azure/go-autorest/blob/main/autorest/azure/environments.go).
"""

import json
from types import SimpleNamespace

import pytest

from sandbox import agents as agents_module
from sandbox.agents import AgentCloud, Agents, azure_environment, connection_problem
from sandbox.cluster_view import ArcInstall
from sandbox.emulator import metadata
from sandbox.emulator.secrets_registry import SecretRegistry

BASE = "https://127.0.0.1:8443"
TENANT = "6f1c2b7e-0d6a-4c55-9a43-1f6b7a1d2e3f"
SANDBOX_CLOUD = AgentCloud("ARCMLSANDBOX", BASE + "/arc-config", TENANT)
ARM = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c",
       "location": "westus2", "agentPublicKeyCertificate": "not-checked-here", "kind": None}  # fmt: skip


def good_config(**changes):
    config = {
        "AZURE_SUBSCRIPTION_ID": "s", "AZURE_RESOURCE_GROUP": "rg", "AZURE_RESOURCE_NAME": "c",
        "AZURE_ENVIRONMENT": "ARCMLSANDBOX", "ARC_CONFIG_DP_ENDPOINT_OVERRIDE": BASE + "/arc-config",
        "AZURE_REGION": "westus2", "AZURE_TENANT_ID": TENANT,
    }  # fmt: skip
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


def test_the_values_every_client_sets_connect():
    assert connection_problem(good_config(), ARM, SANDBOX_CLOUD) is None


def test_the_emulator_plays_a_custom_cloud_named_by_its_metadata_document():
    ctx = SimpleNamespace(base_url=BASE, cloud_name="ArcMLSandbox", login_url=BASE, arm_audiences=[BASE + "/"])
    cloud = AgentCloud.from_metadata(metadata.endpoints(ctx), TENANT)
    assert cloud == SANDBOX_CLOUD
    assert cloud.helm_values() == {
        "global": {"azureEnvironment": "ARCMLSANDBOX"},
        "systemDefaultValues": {"azureArcAgents": {"config_dp_endpoint_override": BASE + "/arc-config"}},
    }


@pytest.mark.parametrize(
    ("cloud_name", "environment"),
    [("AzureCloud", "AZUREPUBLICCLOUD"), ("AzureUSGovernment", "AZUREUSGOVERNMENTCLOUD"),
     ("AzureChinaCloud", "AZURECHINACLOUD"), ("ArcMLSandbox", "ARCMLSANDBOX"), (None, "AZUREPUBLICCLOUD")],
)  # fmt: skip
def test_azure_environment_is_the_cloud_name_as_az_connectedk8s_sends_it(cloud_name, environment):
    assert azure_environment(cloud_name) == environment


@pytest.mark.parametrize(
    "environment",
    [None, "", "AZUREPUBLICCLOUD", "ArcMLSandbox2", "AzureStackCloud"],
    ids=["missing", "empty", "chart-default-public-cloud", "other-cloud", "azure-stack"],
)
def test_agents_told_another_cloud_stay_not_connected(environment):
    assert connection_problem(good_config(AZURE_ENVIRONMENT=environment), ARM, SANDBOX_CLOUD) == "EnvironmentMismatch"


def test_the_cloud_name_is_read_case_insensitively_as_the_go_sdk_upper_cases_it():
    assert connection_problem(good_config(AZURE_ENVIRONMENT="ArcMLSandbox"), ARM, SANDBOX_CLOUD) is None


def test_the_public_cloud_needs_azurepubliccloud_not_the_az_cloud_name():
    public = AgentCloud("AZUREPUBLICCLOUD", None, TENANT)
    assert connection_problem(good_config(AZURE_ENVIRONMENT="AZUREPUBLICCLOUD"), ARM, public) is None
    assert connection_problem(good_config(AZURE_ENVIRONMENT="AZURECLOUD"), ARM, public) == "EnvironmentMismatch"


@pytest.mark.parametrize(
    "endpoint",
    [None, "", "https://westus2.dp.kubernetesconfiguration.azure.com", BASE + "/other"],
    ids=["missing", "empty", "public-regional-endpoint", "other-path"],
)
def test_a_custom_cloud_without_its_config_endpoint_stays_not_connected(endpoint):
    config = good_config(ARC_CONFIG_DP_ENDPOINT_OVERRIDE=endpoint)
    assert connection_problem(config, ARM, SANDBOX_CLOUD) == "ConfigEndpointMismatch"


def test_the_config_endpoint_may_carry_a_trailing_slash():
    config = good_config(ARC_CONFIG_DP_ENDPOINT_OVERRIDE=BASE + "/arc-config/")
    assert connection_problem(config, ARM, SANDBOX_CLOUD) is None


def test_a_cloud_without_a_config_endpoint_needs_no_override():
    public = AgentCloud("AZUREPUBLICCLOUD", None, TENANT)
    config = good_config(AZURE_ENVIRONMENT="AZUREPUBLICCLOUD", ARC_CONFIG_DP_ENDPOINT_OVERRIDE="")
    assert connection_problem(config, ARM, public) is None


@pytest.mark.parametrize("region", [None, "", "eastus", "westus"], ids=["missing", "empty", "other", "prefix"])
def test_agents_of_another_region_stay_not_connected(region):
    assert connection_problem(good_config(AZURE_REGION=region), ARM, SANDBOX_CLOUD) == "RegionMismatch"


@pytest.mark.parametrize("region", ["WestUS2", "West US 2", "westus2"])
def test_the_region_compares_as_arm_normalises_locations(region):
    assert connection_problem(good_config(AZURE_REGION=region), ARM, SANDBOX_CLOUD) is None
    assert connection_problem(good_config(), dict(ARM, location=region), SANDBOX_CLOUD) is None


@pytest.mark.parametrize(
    "tenant", [None, "", "72f988bf-86f1-41af-91ab-2d7cd011db47", "common"], ids=["missing", "empty", "other", "common"]
)
def test_agents_of_another_tenant_stay_not_connected(tenant):
    assert connection_problem(good_config(AZURE_TENANT_ID=tenant), ARM, SANDBOX_CLOUD) == "TenantMismatch"


def test_the_tenant_id_compares_case_insensitively():
    assert connection_problem(good_config(AZURE_TENANT_ID=TENANT.upper()), ARM, SANDBOX_CLOUD) is None


# The stand-in agents' pass over a site: the status names the reason, and ARM hears nothing.


class FakeAdmin:
    def __init__(self):
        self.reports = []

    def report_cluster(self, cluster_id, **fields):
        self.reports.append((cluster_id, fields))


@pytest.fixture
def site(tmp_path, monkeypatch):
    stand_in = Agents.__new__(Agents)
    stand_in.admin = FakeAdmin()
    stand_in.status_dir = tmp_path
    stand_in.secrets = SecretRegistry(tmp_path / "secrets.jsonl")
    stand_in._cloud = SANDBOX_CLOUD
    key = b"-----BEGIN RSA PRIVATE KEY-----\n"
    monkeypatch.setattr(agents_module, "_key_matches", lambda install, arm: install.private_key_pem == key)
    monkeypatch.setattr(agents_module, "cluster_facts", lambda api: {"kubernetesVersion": "1.31.0",
                        "totalNodeCount": 1, "totalCoreCount": 8})  # fmt: skip
    cluster = SimpleNamespace(api=object)
    by_identity = {("s", "rg", "c"): dict(ARM, connectivityStatus="Connecting")}

    def run(config, private_key=key):
        install = ArcInstall("azure-arc-release", "deployed", config, private_key)
        monkeypatch.setattr(agents_module, "arc_install", lambda api: install)
        served = stand_in._arc_agents("site-1", cluster, by_identity)
        status = json.loads((tmp_path / "site-1.json").read_text())
        return served, status["connectivity"], stand_in.admin.reports

    return run


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"AZURE_ENVIRONMENT": "AZUREPUBLICCLOUD"}, "EnvironmentMismatch"),
        ({"ARC_CONFIG_DP_ENDPOINT_OVERRIDE": None}, "ConfigEndpointMismatch"),
        ({"AZURE_REGION": "eastus"}, "RegionMismatch"),
        ({"AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "TenantMismatch"),
    ],
)
def test_a_wrong_value_keeps_the_cluster_connecting_and_the_status_names_why(site, changes, reason):
    served, connectivity, reports = site(good_config(**changes))
    assert connectivity == reason
    assert served is None, "agents that cannot reach Azure serve no extension operation"
    assert reports == [], "nothing may be reported to ARM"


def test_the_right_values_and_key_connect(site):
    served, connectivity, reports = site(good_config())
    assert connectivity == "Connected"
    assert served["id"] == ARM["id"]
    assert reports[0][1]["connectivityStatus"] == "Connected"


def test_right_values_with_the_wrong_key_is_still_a_key_mismatch(site):
    _, connectivity, reports = site(good_config(), private_key=b"other")
    assert connectivity == "KeyMismatch"
    assert reports == []
