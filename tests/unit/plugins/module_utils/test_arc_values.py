"""The agents' helm values: GetHelmSettings' dotted keys typed as `--set` types them, plus the client's own."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import values

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIJKQIBAAKCAgEA\n-----END RSA PRIVATE KEY-----\n"
SETTINGS = {
    "global.subscriptionId": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "global.resourceGroupName": "rg-site",
    "global.resourceName": "site-1",
    "global.location": "eastus",
    "global.tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "global.extensionBundleFeatureFlag": "Disabled",
    "systemDefaultValues.azureArcAgents.autoUpdate": "False",
}


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("0123", "0123"),
        ("1.26.0", "1.26.0"),
        ("eastus", "eastus"),
        ("", ""),
        (5, 5),
    ],
)
def test_set_value_types_like_helm_set(text, typed):
    assert values.set_value(text) == typed
    assert type(values.set_value(text)) is type(typed)


def test_nest_turns_dotted_keys_into_a_tree_and_a_later_key_wins_over_a_leaf():
    assert values.nest({"a.b.c": "1", "a.d": "x", "e": "true"}) == {"a": {"b": {"c": 1}, "d": "x"}, "e": True}
    assert values.nest({"a": "leaf", "a.b": "2"}) == {"a": {"b": 2}}


def test_merge_is_deep_and_the_override_wins():
    assert values.merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "e": 4}) == {
        "a": {"b": 3, "c": 2},
        "d": 1,
        "e": 4,
    }


@pytest.mark.parametrize(
    ("cloud_name", "environment"),
    [
        # az connectedk8s send_cloud_telemetry(): the az cloud name upper-cased, two of them renamed.
        ("AzureCloud", "AZUREPUBLICCLOUD"),
        ("azurecloud", "AZUREPUBLICCLOUD"),
        (None, "AZUREPUBLICCLOUD"),
        ("AzureUSGovernment", "AZUREUSGOVERNMENTCLOUD"),
        ("AzureChinaCloud", "AZURECHINACLOUD"),
        # A custom cloud (Azure Stack Hub, disconnected Azure Local, the sandbox): its name, upper-cased.
        ("AzureStackUser", "AZURESTACKUSER"),
        ("sandbox", "SANDBOX"),
    ],
)
def test_azure_environment_is_what_az_connectedk8s_sends_for_each_cloud(cloud_name, environment):
    assert values.azure_environment(cloud_name) == environment


def test_the_data_plane_values_win_over_the_client_defaults_and_the_cloud_overrides():
    settings = {
        **SETTINGS,
        "global.kubernetesDistro": "from-dp",
        "global.azureEnvironment": "AZUREFROMDP",
        "systemDefaultValues.clusterconnect-agent.enabled": "false",
        "systemDefaultValues.azureArcAgents.config_dp_endpoint_override": "https://dp.example/arc",
    }
    overrides = {
        "systemDefaultValues.azureArcAgents.config_dp_endpoint_override": "https://metadata.example/arc",
        "systemDefaultValues.activeDirectoryEndpoint": "https://login.example/",
    }
    proxy = values.Proxy(https_proxy="http://proxy:3128")
    tree = values.agent_values(
        settings,
        "aks_workload",
        "azure_stack_hci",
        "AzureCloud",
        private_key_pem=PEM,
        proxy=proxy,
        cloud_overrides=overrides,
    )
    assert tree["global"]["kubernetesDistro"] == "from-dp"
    assert tree["global"]["azureEnvironment"] == "AZUREFROMDP"
    assert tree["global"]["kubernetesInfra"] == "azure_stack_hci"  # not in the answer: the client's
    assert tree["systemDefaultValues"]["clusterconnect-agent"]["enabled"] is False
    agents = tree["systemDefaultValues"]["azureArcAgents"]
    assert agents["config_dp_endpoint_override"] == "https://dp.example/arc"
    assert agents["autoUpdate"] is False
    assert tree["systemDefaultValues"]["activeDirectoryEndpoint"] == "https://login.example/"
    # The module's own options and the key still come last.
    assert tree["global"]["httpsProxy"] == "http://proxy:3128"
    assert tree["global"]["onboardingPrivateKey"] == PEM


def test_agent_values_combine_the_data_plane_and_the_client_and_hold_the_key_only_when_asked():
    tree = values.agent_values(SETTINGS, "aks_workload", "azure_stack_hci", "AzureCloud", private_key_pem=PEM)
    assert tree["global"]["resourceName"] == "site-1"
    assert tree["global"]["kubernetesDistro"] == "aks_workload"
    assert tree["global"]["kubernetesInfra"] == "azure_stack_hci"
    assert tree["global"]["azureEnvironment"] == "AZUREPUBLICCLOUD"
    assert tree["global"]["onboardingPrivateKey"] == PEM
    assert tree["systemDefaultValues"]["spnOnboarding"] is False
    assert tree["systemDefaultValues"]["clusterconnect-agent"]["enabled"] is True
    assert tree["systemDefaultValues"]["azureArcAgents"]["autoUpdate"] is False
    without = values.agent_values(SETTINGS, "aks_workload", "azure_stack_hci", "AzureCloud")
    assert "onboardingPrivateKey" not in without["global"]


def test_a_pem_that_looks_like_a_number_stays_text():
    tree = values.agent_values({}, "generic", "generic", "AzureCloud", private_key_pem="12345")
    assert tree["global"]["onboardingPrivateKey"] == "12345"


def test_proxy_values_and_the_password_in_a_proxy_url():
    proxy = values.Proxy(
        https_proxy="http://user:s3cr3t@proxy:3128",
        http_proxy="http://proxy:3128",
        no_proxy=["10.96.0.0/12", "kubernetes.default.svc"],
        ca_cert="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    assert proxy.secrets == ["s3cr3t"]
    tree = values.agent_values({}, "generic", "generic", "AzureCloud", proxy=proxy)["global"]
    assert tree["isProxyEnabled"] is True and tree["isCustomCert"] is True
    assert tree["httpsProxy"] == "http://user:s3cr3t@proxy:3128"
    assert tree["noProxy"] == "10.96.0.0/12,kubernetes.default.svc"  # one value, no --set escaping needed
    assert tree["proxyCert"].startswith("-----BEGIN CERTIFICATE-----")
    assert values.Proxy().values() == {} and values.Proxy().secrets == []


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("http://user:pa/ss-w0rd@proxy:3128", ["pa/ss-w0rd"]),
        ("http://user:pa#ss-w0rd@proxy:3128", ["pa#ss-w0rd"]),
        ("http://user:pa?ss-w0rd@proxy:3128", ["pa?ss-w0rd"]),
        ("http://user:p@ss-w0rd@proxy:3128", ["p@ss-w0rd"]),
        ("http://user:pa%2Fss%40w0rd@proxy:3128", ["pa%2Fss%40w0rd", "pa/ss@w0rd"]),
    ],
)
def test_a_proxy_password_with_url_delimiters_is_a_secret_whole_and_decoded(url, secrets):
    assert values.Proxy(https_proxy=url).secrets == secrets
    assert values.Proxy(http_proxy=url).secrets == secrets


def test_a_cloud_with_its_own_arc_endpoint_gets_the_endpoint_overrides():
    metadata = {
        "resourceManager": "https://arm.local/",
        "authentication": {"loginEndpoint": "https://login.local/"},
        "suffixes": {"relayEndpointSuffix": "servicebus.local"},
        "dataplaneEndpoints": {
            "arcConfigEndpoint": "https://arm.local/arc-config",
            "arcGlobalNotificationServiceEndpoint": "https://arm.local/notify",
            "arcHybridIdentityServiceEndpoint": "https://arm.local/his/",
        },
    }
    cluster = {"identity": {"principalId": "pid"}}
    overrides = values.custom_cloud_values(metadata, cluster, "eastus", "registry.local:5000")
    assert overrides == {
        "systemDefaultValues.azureResourceManagerEndpoint": "https://arm.local",
        "systemDefaultValues.azureArcAgents.config_dp_endpoint_override": "https://arm.local/arc-config",
        "systemDefaultValues.activeDirectoryEndpoint": "https://login.local/",
        "systemDefaultValues.image.repository": "registry.local:5000",
        "global.kubeAadEndpoint": "pid.k8sproxysvc.connectrp.azs",
        "systemDefaultValues.clusterconnect-agent.notification_dp_endpoint_override": "https://arm.local/notify",
        "systemDefaultValues.clusterconnect-agent.relay_endpoint_suffix_override": "servicebus.local",
        "systemDefaultValues.clusteridentityoperator.his_endpoint_override": (
            "https://arm.local/his/discovery?location=eastus&api-version=1.0-preview"
        ),
    }
    assert (
        values.custom_cloud_values({"resourceManager": "https://management.azure.com/"}, cluster, "eastus", "mcr") == {}
    )


def test_is_proxy_enabled_is_set_exactly_when_a_proxy_or_no_proxy_is_given():
    # az connectedk8s update: --set global.isProxyEnabled=True "if https_proxy or http_proxy or no_proxy";
    # --proxy-cert alone sets global.proxyCert and global.isCustomCert only.
    only_no_proxy = values.Proxy(no_proxy=["10.96.0.0/12", ".svc"]).values()["global"]
    assert only_no_proxy == {"noProxy": "10.96.0.0/12,.svc", "isProxyEnabled": True}
    only_ca = values.Proxy(ca_cert="-----BEGIN CERTIFICATE-----\n").values()["global"]
    assert only_ca == {"proxyCert": "-----BEGIN CERTIFICATE-----\n", "isCustomCert": True}
    assert values.Proxy().values() == {}


def test_proxy_drift_compares_what_the_task_sets_with_the_release_values():
    proxy = values.Proxy(https_proxy="http://user:pw@proxy:3128", no_proxy=["10.96.0.0/12"])
    chart_global = {"httpsProxy": "http://user:pw@proxy:3128", "noProxy": "10.96.0.0/12", "isProxyEnabled": True}
    installed = {"global": {**chart_global, "httpProxy": "http://other:3128", "onboardingPrivateKey": "PEM"}}
    assert proxy.drift(installed) == []
    assert proxy.drift({"global": {"httpsProxy": "http://old:3128"}}) == ["httpsProxy", "noProxy", "isProxyEnabled"]
    assert proxy.drift({"global": {**installed["global"], "isProxyEnabled": "true"}}) == []  # helm's typing
    assert values.Proxy().drift({}) == []


def test_an_update_reuses_the_release_values_then_the_data_plane_then_the_proxy():
    current = {"global": {"onboardingPrivateKey": "PEM", "kubernetesDistro": "aks_workload", "httpsProxy": "http://old"},
               "systemDefaultValues": {"azureArcAgents": {"autoUpdate": True}}}  # fmt: skip
    settings = {"systemDefaultValues.azureArcAgents.autoUpdate": "False", "global.resourceName": "site-1"}
    tree = values.update_values(current, settings, values.Proxy(https_proxy="http://new:3128"))
    assert tree["global"]["onboardingPrivateKey"] == "PEM"  # the release keeps its key
    assert tree["global"]["kubernetesDistro"] == "aks_workload"
    assert tree["systemDefaultValues"]["azureArcAgents"]["autoUpdate"] is False  # the data plane wins
    assert tree["global"]["httpsProxy"] == "http://new:3128" and tree["global"]["isProxyEnabled"] is True
    assert values.release_secrets(tree) == ["PEM"]
    assert values.release_secrets({"global": {"httpProxy": "http://u:pw@p:1"}}) == ["pw"]
