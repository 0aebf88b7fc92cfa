# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The checks `az k8s-extension create` runs for Microsoft.AzureML.Kubernetes, with its exact messages.

Source: the extension's validation in az k8s-extension 1.6.1,
https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py.
Every check runs before any Azure call. Each error
starts with the CLI's text, verbatim (its missing spaces included, so that a search for the message finds
Microsoft's troubleshooting pages), followed by what to set in this module. Values are looked up in the
configuration settings first, then in the protected settings; booleans are "true" in any case, as in az.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

TSG = "https://aka.ms/arcmltsg"
RELEASE_NAMESPACE = "azureml"
SERVICE_TYPES = ("nodeport", "loadbalancer", "clusterip")

# rule id -> (the CLI's message, what to do with this module)
RULES = {
    "scope": (
        "Invalid scope '{scope}'.  This extension can't be installed only at 'cluster' scope. "
        f"Check {TSG} for more information.",
        "This module installs the extension at cluster scope.",
    ),
    "duplicate_keys": (
        f"Duplicate keys found.Check {TSG} for more information.",
        "These keys are both configuration settings and protected settings (counting the ones this module's "
        "options set): {keys}. Keep each key in one of them.",
    ),
    "no_workload": (
        "To create Microsoft.AzureML.Kubernetes extension, either enable Machine Learning training or inference by "
        "specifying '--configuration-settings enableTraining=true' or '--configuration-settings "
        f"enableInference=true'.Please check {TSG} for more information.",
        "With this module, set training: true and/or inference: true.",
    ),
    "https": (
        "To enable HTTPs endpoint, either provide sslCertPemFile and sslKeyPemFile to "
        "--configuration-protected-settings, or provide sslSecret(kubernetes secret name) in "
        f"--configuration-settings containing both ssl cert and ssl key under {RELEASE_NAMESPACE} namespace. "
        "Otherwise, to enable HTTP endpoint, explicitly set allowInsecureConnections=true.",
        "With this module, set ssl_cert_file and ssl_key_file (or ssl_secret) together with ssl_cname, or set "
        "allow_insecure_connections: true for HTTP endpoints.",
    ),
    "ssl_cname": (
        f"To enable HTTPs endpoint, please specify sslCname parameter in --configuration-settings. Check {TSG} for "
        "more information.",
        "With this module, set ssl_cname to the host name the certificate is issued for.",
    ),
    "router_service_type": (
        "To use inference, please specify inferenceRouterServiceType=ClusterIP or "
        "inferenceRouterServiceType=NodePort or inferenceRouterServiceType=LoadBalancer in --configuration-settings "
        "and also set internalLoadBalancerProvider=azure if your aks only supports internal load balancer.Check "
        f"{TSG} for more information.",
        "With this module, set inference_router_service_type to LoadBalancer, NodePort or ClusterIP: az "
        "k8s-extension requires it for inference since version 1.2.0, so a command without it (enableTraining=True "
        "enableInference=True allowInsecureConnections=True) fails on a current CLI too.",
    ),
    "nodeport_with_internal_lb": (
        "When using nodePort as inferenceRouterServiceType, no need to specify internalLoadBalancerProvider."
        f"Check {TSG} for more information.",
        "With this module, remove internal_load_balancer_provider, or use inference_router_service_type LoadBalancer.",
    ),
    "version_with_auto_upgrade": (
        "To pin to specific version, auto-upgrade-minor-version must be set to 'false'.",
        "With this module, set auto_upgrade_minor_version: false together with version, or leave version unset.",
    ),
}


class AzureMLConfigError(ArcMLError):
    """A settings combination az k8s-extension refuses; `rule` names the row of RULES."""

    def __init__(self, rule, **values):
        cli_message, hint = RULES[rule]
        super().__init__(f"{cli_message.format(**values)} {hint.format(**values)}", rule=rule)
        self.rule = rule


def lookup(key, settings, protected):
    """The value of `key`: configuration settings first, then protected settings (as az looks it up)."""
    if key in settings:
        return settings[key]
    return protected.get(key)


def is_true(value):
    return str(value).lower() == "true"


def ssl_files_given(protected):
    return bool(protected.get("sslCertPemFile") and protected.get("sslKeyPemFile"))


def validate(settings, protected, scope="cluster", version=None, auto_upgrade_minor_version=None):
    """Raise AzureMLConfigError for the first rule the configuration breaks, in the order az checks them."""
    if version and auto_upgrade_minor_version:
        raise AzureMLConfigError("version_with_auto_upgrade")
    if scope == "namespace":
        raise AzureMLConfigError("scope", scope=scope)
    duplicates = sorted(set(settings) & set(protected))
    if duplicates:
        raise AzureMLConfigError("duplicate_keys", keys=", ".join(duplicates))
    training = is_true(lookup("enableTraining", settings, protected))
    inference = is_true(lookup("enableInference", settings, protected))
    if not inference:
        if not training:
            raise AzureMLConfigError("no_workload")
        return
    ssl_enabled = ssl_files_given(protected) or bool(lookup("sslSecret", settings, protected))
    if not ssl_enabled and not is_true(lookup("allowInsecureConnections", settings, protected)):
        raise AzureMLConfigError("https")
    if ssl_enabled and not lookup("sslCname", settings, protected):
        raise AzureMLConfigError("ssl_cname")
    service_type = lookup("inferenceRouterServiceType", settings, protected)
    if not service_type or str(service_type).lower() not in SERVICE_TYPES:
        raise AzureMLConfigError("router_service_type")
    internal_lb = str(lookup("internalLoadBalancerProvider", settings, protected)).lower() == "azure"
    if str(service_type).lower() == "nodeport" and internal_lb:
        raise AzureMLConfigError("nodeport_with_internal_lb")
