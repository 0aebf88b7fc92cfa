"""The Azure ML extension's settings as az k8s-extension create derives them.

Source: https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py
"""

import base64

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.settings import (
    INTERNAL_LB_WARNING,
    SSL_WARNING,
    ClusterFacts,
    complete,
    configure,
    needs_relay,
    requested,
    stale_flags,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec, apply_patch, plan_update

ARC1 = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Kubernetes/connectedClusters/arc1"
HC_ID = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Relay/namespaces/NS/hybridConnections/arc1"
RELAY = (
    "Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;SharedAccessKey=K;EntityPath=arc1",
    HC_ID,
    "arc1",
)
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
INSECURE_LB = {"enableInference": "True", "allowInsecureConnections": "True", "inferenceRouterServiceType": "NodePort"}
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def arc(nodes=1, distribution="aks_workload", cluster_type="connectedClusters"):
    return ClusterFacts(ARC1, "arc1", cluster_type, "EastUS", node_count=nodes, distribution=distribution)


def no_files(path, kind):
    raise AssertionError(f"no file should be read, asked for {path}")


def params(**options):
    return {"configuration_settings": None, "configuration_protected_settings": None, **options}


def test_the_seed_settings_with_a_router_type_give_what_az_sends():
    """The PUT az derives (read from its code): training + HTTP inference + LoadBalancer, 1-node Arc cluster, eastus."""
    settings, protected = requested(
        params(
            training=True, inference=True, allow_insecure_connections=True, inference_router_service_type="LoadBalancer"
        )
    )
    configured = configure(settings, protected, no_files)
    result = complete(configured, arc(nodes=1), RELAY)
    assert {**result.create_only, **result.settings} == {
        "enableTraining": "True",
        "enableInference": "True",
        "allowInsecureConnections": "True",
        "inferenceRouterServiceType": "LoadBalancer",
        "clusterPurpose": "DevTest",
        "inferenceRouterHA": "false",
        "cluster_name": ARC1,
        "domain": "eastus.cloudapp.azure.com",
        "location": "eastus",
        "jobSchedulerLocation": "eastus",
        "cluster_name_friendly": "arc1",
        "servicebus.enabled": "false",
        "relayserver.enabled": "true",
        "nginxIngress.enabled": "false",
        "relayserver.hybridConnectionResourceID": HC_ID,
        "relayserver.hybridConnectionName": "arc1",
        "clusterId": ARC1,
        "prometheus.prometheusSpec.externalLabels.cluster_name": ARC1,
    }
    assert result.create_only == {"clusterPurpose": "DevTest", "inferenceRouterHA": "false"}
    assert result.protected == {"relayServerConnectionString": RELAY[0], "relayserver.relayConnectionString": RELAY[0]}
    assert configured.warnings == [SSL_WARNING]


def test_training_only_defaults_inference_off():
    configured = configure(*requested(params(training=True)), no_files)
    assert configured.settings == {"enableTraining": "True", "enableInference": "False"}
    assert configured.warnings == []


def test_enable_flags_given_as_protected_settings_move_to_settings():
    configured = configure({}, {"enableTraining": "true", "other": "x"}, no_files)
    assert configured.settings == {"enableTraining": "True", "enableInference": "False"}
    assert configured.protected == {"other": "x"}


def test_three_nodes_or_unknown_count_derive_nothing_from_size():
    configured = configure(*requested(params(training=True)), no_files)
    assert complete(configured, arc(nodes=3), RELAY).create_only == {}
    assert complete(configured, arc(nodes=None), RELAY).create_only == {}
    assert complete(configured, arc(nodes=5), RELAY, node_count=2).create_only == {
        "clusterPurpose": "DevTest",
        "inferenceRouterHA": "false",
    }


def test_explicit_purpose_and_ha_win_over_the_node_count():
    configured = configure(
        *requested(params(training=True, cluster_purpose="FastProd", inference_router_ha=True)), no_files
    )
    result = complete(configured, arc(nodes=1), RELAY)
    assert result.create_only == {}
    assert result.settings["clusterPurpose"] == "FastProd"
    assert result.settings["inferenceRouterHA"] == "True"


def test_nodeport_and_internal_load_balancer_flags():
    base = params(inference=True, allow_insecure_connections=True)
    nodeport = configure(*requested({**base, "inference_router_service_type": "NodePort"}), no_files)
    assert nodeport.settings["scoringFe.serviceType.nodePort"] == "True"
    internal = configure(
        *requested(
            {**base, "inference_router_service_type": "LoadBalancer", "internal_load_balancer_provider": "azure"}
        ),
        no_files,
    )
    assert internal.settings["scoringFe.serviceType.internalLoadBalancer"] == "True"
    assert INTERNAL_LB_WARNING in internal.warnings


def test_pem_files_become_base64_protected_settings_and_their_paths_are_not_sent():
    files = {"/tls/cert.pem": CERT, "/tls/key.pem": KEY}
    read = []

    def read_pem(path, kind):
        read.append((path, kind))
        return files[path]

    settings, protected = requested(
        params(
            inference=True,
            inference_router_service_type="NodePort",
            ssl_cert_file="/tls/cert.pem",
            ssl_key_file="/tls/key.pem",
            ssl_cname="ml.contoso.com",
        )
    )
    configured = configure(settings, protected, read_pem)
    assert read == [("/tls/cert.pem", "certificate"), ("/tls/key.pem", "private key")]
    assert configured.protected == {
        "scoringFe.sslCert": base64.b64encode(CERT).decode(),
        "scoringFe.sslKey": base64.b64encode(KEY).decode(),
    }
    assert configured.settings["sslCname"] == "ml.contoso.com"
    assert "scoringFe.sslSecret" not in configured.settings


def test_ssl_secret_is_passed_to_the_scoring_front_end():
    configured = configure(
        *requested(params(inference=True, inference_router_service_type="ClusterIP", ssl_secret="tls", ssl_cname="x")),
        no_files,
    )
    assert configured.settings["scoringFe.sslSecret"] == "tls"


def test_insecure_connections_ignore_the_pem_files():
    settings, protected = requested(
        params(inference=True, allow_insecure_connections=True, ssl_cert_file="/c", ssl_key_file="/k", ssl_cname="x")
    )
    configured = configure({**settings, "inferenceRouterServiceType": "NodePort"}, protected, no_files)
    assert configured.protected == {}


def test_aks_migration():
    request = dict(INSECURE_LB, isAKSMigration="True")
    configured = configure(request, {}, no_files)
    assert configured.settings["scoringFe.namespace"] == "default"
    assert configured.settings["isAKSMigration"] == "true"


def test_aks_defaults_no_relay_and_nginx_on():
    configured = configure(*requested(params(training=True)), no_files)
    assert not needs_relay(configured, "managedClusters")
    result = complete(configured, arc(cluster_type="managedClusters"))
    assert result.settings["relayserver.enabled"] == "false"
    assert result.settings["nginxIngress.enabled"] == "true"
    assert result.protected == {}


def test_relay_disabled_or_brought_as_a_raw_setting_needs_no_relay():
    disabled = configure(*requested(params(training=True), relay_enabled=False), no_files)
    assert disabled.settings["relayserver.enabled"] == "false"
    assert not needs_relay(disabled, "connectedClusters")
    own = configure(
        *requested(params(training=True, configuration_protected_settings={"relayServerConnectionString": "cs"})),
        no_files,
    )
    assert not needs_relay(own, "connectedClusters")
    result = complete(own, arc())
    assert result.protected == {"relayServerConnectionString": "cs", "relayserver.relayConnectionString": "cs"}


def test_openshift_and_a_user_domain():
    configured = configure(*requested(params(training=True, configuration_settings={"domain": "ml.contoso"})), no_files)
    result = complete(configured, arc(distribution="OpenShift"), RELAY)
    assert result.settings["openshift"] == "true"
    assert result.settings["domain"] == "ml.contoso"


def test_node_selector_becomes_dotted_settings():
    settings = requested(params(training=True, node_selector={"pool": "ml", "gpu": True}))[0]
    assert settings["nodeSelector.pool"] == "ml"
    assert settings["nodeSelector.gpu"] == "True"


def test_a_friendly_option_and_a_raw_setting_must_agree():
    settings = requested(params(training=True, configuration_settings={"enableTraining": "true"}))[0]
    assert settings["enableTraining"] == "True"
    with pytest.raises(ArcMLError, match="training and the setting enableTraining disagree"):
        requested(params(training=True, configuration_settings={"enableTraining": "False"}))
    with pytest.raises(ArcMLError, match="ssl_key_file and the setting sslKeyPemFile disagree"):
        requested(params(ssl_key_file="/a", configuration_protected_settings={"sslKeyPemFile": "/b"}))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"servicebus.enabled": "true"}, "does not create Azure Service Bus"),
        ({"logAnalyticsWS": "true"}, "does not create Log Analytics"),
    ],
)
def test_resources_the_module_does_not_create_are_refused(settings, message):
    configured = configure(*requested(params(training=True, configuration_settings=settings)), no_files)
    with pytest.raises(ArcMLError, match=message):
        complete(configured, arc(), RELAY)


# On update, az's __normalize_config writes scoringFe.serviceType.nodePort / .internalLoadBalancer as true or false
# from inferenceRouterServiceType / internalLoadBalancerProvider: a PATCH merges settings key by key, so a flag
# left out stays as it was. stale_flags() names the derived flags stored true that the request now wants false.


def _stored(**settings):
    return {"properties": {"configurationSettings": settings, "provisioningState": "Succeeded"}}


def _configured(**options):
    return configure(*requested(params(inference=True, **options)), no_files)


def test_nodeport_to_load_balancer_rewrites_the_stale_nodeport_flag_false():
    configured = _configured(allow_insecure_connections=True, inference_router_service_type="LoadBalancer")
    current = {"inferenceRouterServiceType": "NodePort", "scoringFe.serviceType.nodePort": "True"}
    assert stale_flags(configured, current) == {"scoringFe.serviceType.nodePort": "False"}


def test_leaving_the_internal_load_balancer_rewrites_its_flag_false():
    configured = _configured(allow_insecure_connections=True, inference_router_service_type="NodePort")
    current = {"internalLoadBalancerProvider": "azure", "scoringFe.serviceType.internalLoadBalancer": "True"}
    assert stale_flags(configured, current) == {"scoringFe.serviceType.internalLoadBalancer": "False"}


def test_https_after_http_rewrites_allow_insecure_connections_false():
    configured = _configured(inference_router_service_type="ClusterIP", ssl_secret="tls", ssl_cname="ml.example")
    assert stale_flags(configured, {"allowInsecureConnections": "True"}) == {"allowInsecureConnections": "False"}


def test_flags_already_false_absent_or_still_wanted_are_left_alone():
    lb = _configured(allow_insecure_connections=True, inference_router_service_type="LoadBalancer")
    assert stale_flags(lb, {}) == {}
    assert stale_flags(lb, {"scoringFe.serviceType.nodePort": "False", "allowInsecureConnections": "True"}) == {}
    nodeport = _configured(allow_insecure_connections=True, inference_router_service_type="NodePort")
    assert stale_flags(nodeport, {"scoringFe.serviceType.nodePort": "true"}) == {}
    internal = _configured(
        allow_insecure_connections=True,
        inference_router_service_type="LoadBalancer",
        internal_load_balancer_provider="azure",
    )
    assert stale_flags(internal, {"scoringFe.serviceType.internalLoadBalancer": "True"}) == {}
    # Training only: the scoring front end is not deployed, its flags are not touched.
    training = configure(*requested(params(training=True)), no_files)
    assert stale_flags(training, {"scoringFe.serviceType.nodePort": "True"}) == {}


def test_the_patch_carries_the_false_flag_and_a_second_run_changes_nothing():
    configured = _configured(allow_insecure_connections=True, inference_router_service_type="LoadBalancer")
    result = complete(configured, arc(nodes=3), RELAY)
    stored = {**result.settings, "inferenceRouterServiceType": "NodePort", "scoringFe.serviceType.nodePort": "True"}
    spec = ExtensionSpec(
        "microsoft.azureml.kubernetes", settings={**result.settings, **stale_flags(configured, stored)}
    )
    plan = plan_update(_stored(**stored), spec)
    assert plan.patch["configurationSettings"] == {
        "inferenceRouterServiceType": "LoadBalancer",
        "scoringFe.serviceType.nodePort": "False",
    }
    after = apply_patch(_stored(**stored), plan.patch)["properties"]["configurationSettings"]
    again = ExtensionSpec(
        "microsoft.azureml.kubernetes", settings={**result.settings, **stale_flags(configured, after)}
    )
    assert not plan_update(_stored(**after), again).needed
