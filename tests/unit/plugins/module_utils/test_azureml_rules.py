"""Every check az k8s-extension runs for Microsoft.AzureML.Kubernetes, with its exact message.

The expected texts are copied from az k8s-extension 1.6.1,
https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py,
including the missing spaces, so that editing a message in the module makes these tests fail.
"""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.rules import AzureMLConfigError, validate

TSG = "https://aka.ms/arcmltsg"
CLI_MESSAGES = {
    "scope": f"Invalid scope 'namespace'.  This extension can't be installed only at 'cluster' scope. Check {TSG} for "
    "more information.",
    "duplicate_keys": f"Duplicate keys found.Check {TSG} for more information.",
    "no_workload": "To create Microsoft.AzureML.Kubernetes extension, either enable Machine Learning training or "
    "inference by specifying '--configuration-settings enableTraining=true' or '--configuration-settings "
    f"enableInference=true'.Please check {TSG} for more information.",
    "https": "To enable HTTPs endpoint, either provide sslCertPemFile and sslKeyPemFile to "
    "--configuration-protected-settings, or provide sslSecret(kubernetes secret name) in --configuration-settings "
    "containing both ssl cert and ssl key under azureml namespace. Otherwise, to enable HTTP endpoint, explicitly set "
    "allowInsecureConnections=true.",
    "ssl_cname": "To enable HTTPs endpoint, please specify sslCname parameter in --configuration-settings. Check "
    f"{TSG} for more information.",
    "router_service_type": "To use inference, please specify inferenceRouterServiceType=ClusterIP or "
    "inferenceRouterServiceType=NodePort or inferenceRouterServiceType=LoadBalancer in --configuration-settings and "
    "also set internalLoadBalancerProvider=azure if your aks only supports internal load balancer.Check "
    f"{TSG} for more information.",
    "nodeport_with_internal_lb": "When using nodePort as inferenceRouterServiceType, no need to specify "
    f"internalLoadBalancerProvider.Check {TSG} for more information.",
    "version_with_auto_upgrade": "To pin to specific version, auto-upgrade-minor-version must be set to 'false'.",
}
INSECURE_INFERENCE = {"enableInference": "True", "allowInsecureConnections": "True"}
PEM_FILES = {"sslCertPemFile": "/c.pem", "sslKeyPemFile": "/k.pem"}

# (rule, settings, protected, extra validate() arguments)
VIOLATIONS = [
    ("scope", {"enableTraining": "True"}, {}, {"scope": "namespace"}),
    ("duplicate_keys", {"enableTraining": "True", "x": "1"}, {"x": "2"}, {}),
    ("no_workload", {}, {}, {}),
    ("no_workload", {"enableTraining": "False", "enableInference": "no"}, {}, {}),
    ("https", {"enableInference": "True", "inferenceRouterServiceType": "LoadBalancer"}, {}, {}),
    ("https", {"enableInference": "true"}, {"sslCertPemFile": "/c.pem"}, {}),
    ("ssl_cname", {"enableInference": "True", "sslSecret": "tls"}, {}, {}),
    ("ssl_cname", {"enableInference": "True", "allowInsecureConnections": "true"}, PEM_FILES, {}),
    ("router_service_type", {"enableTraining": "True", **INSECURE_INFERENCE}, {}, {}),
    ("router_service_type", {**INSECURE_INFERENCE, "inferenceRouterServiceType": "Ingress"}, {}, {}),
    (
        "nodeport_with_internal_lb",
        {**INSECURE_INFERENCE, "inferenceRouterServiceType": "nodePort", "internalLoadBalancerProvider": "Azure"},
        {},
        {},
    ),
    (
        "version_with_auto_upgrade",
        {"enableTraining": "True"},
        {},
        {"version": "1.1.61", "auto_upgrade_minor_version": True},
    ),
]


@pytest.mark.parametrize(("rule", "settings", "protected", "extra"), VIOLATIONS)
def test_each_rule_fails_with_the_cli_message_first(rule, settings, protected, extra):
    with pytest.raises(AzureMLConfigError) as raised:
        validate(settings, protected, **extra)
    assert raised.value.rule == rule
    assert raised.value.message.startswith(CLI_MESSAGES[rule] + " ")
    assert "\n" not in raised.value.message


def test_every_rule_is_covered():
    assert {violation[0] for violation in VIOLATIONS} == set(CLI_MESSAGES)


def test_the_seed_command_fails_and_the_message_says_how_to_fix_it():
    seed = {"enableTraining": "True", "enableInference": "True", "allowInsecureConnections": "True"}
    with pytest.raises(AzureMLConfigError) as raised:
        validate(seed, {})
    message = raised.value.message
    assert raised.value.rule == "router_service_type"
    assert "set inference_router_service_type to LoadBalancer, NodePort or ClusterIP" in message
    assert "since version 1.2.0" in message


def test_duplicate_keys_are_named():
    with pytest.raises(AzureMLConfigError, match=r"\(counting the ones this module's options set\): a, b\."):
        validate({"enableTraining": "True", "a": "1", "b": "2"}, {"a": "x", "b": "y"})


@pytest.mark.parametrize(
    ("settings", "protected"),
    [
        ({"enableTraining": "True"}, {}),
        ({"enableTraining": "TRUE"}, {}),
        ({}, {"enableTraining": "true"}),
        ({**INSECURE_INFERENCE, "inferenceRouterServiceType": "LoadBalancer"}, {}),
        (
            {**INSECURE_INFERENCE, "inferenceRouterServiceType": "clusterip", "internalLoadBalancerProvider": "azure"},
            {},
        ),
        ({"enableInference": "True", "inferenceRouterServiceType": "NodePort", "sslCname": "x.example"}, PEM_FILES),
        ({"enableInference": "True", "inferenceRouterServiceType": "NodePort", "sslSecret": "s", "sslCname": "x"}, {}),
        ({**INSECURE_INFERENCE, "inferenceRouterServiceType": "NodePort"}, {"sslCertPemFile": "/only-cert.pem"}),
    ],
)
def test_valid_configurations_pass(settings, protected):
    validate(settings, protected, version="1.1.61", auto_upgrade_minor_version=False)
