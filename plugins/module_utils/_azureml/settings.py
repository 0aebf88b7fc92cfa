# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Azure ML extension's settings, built the way `az k8s-extension create` builds them (no I/O).

Source: `Create` in az k8s-extension's
https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py.
Three steps:
1. requested(): the module's friendly options and raw settings, merged into the CLI's keys;
2. configure(): after validation, what az derives from the request alone: training/inference flags,
   the scoring front end's service type, SSL (PEM files read and base64-encoded into protected settings);
3. complete(): what it derives from the cluster (id, location, node count, distribution) and the Azure Relay,
   then the "dereference" copies.
Deliberate differences from az 1.6.1: a `domain` the user sets is kept (az overwrites it, reading the misspelt
key `doamin`); the local PEM file paths are not sent to Azure (az sends them along with the contents); Service
Bus and Log Analytics resources are not created (supply their connection strings instead).
"""

from __future__ import annotations

import base64

from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.rules import is_true, lookup, ssl_files_given
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import normalize_settings, same_value

# The extension type as Microsoft documents it. Azure compares extension types without regard to case; az
# k8s-extension sends them in lower case, and so does azureml_extension (EXTENSION_TYPE.lower()).
EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
DEFAULT_RELEASE_TRAIN = "stable"
SMALL_CLUSTER_NODES = 3
# Settings holding ARM ids or locations: compared without regard to case.
CASE_INSENSITIVE_KEYS = (
    "cluster_name",
    "clusterId",
    "prometheus.prometheusSpec.externalLabels.cluster_name",
    "relayserver.hybridConnectionResourceID",
    "servicebus.resourceID",
    "location",
    "jobSchedulerLocation",
    "domain",
)
# Friendly option -> configuration setting key.
FRIENDLY_SETTINGS = (
    ("training", "enableTraining"),
    ("inference", "enableInference"),
    ("allow_insecure_connections", "allowInsecureConnections"),
    ("inference_router_service_type", "inferenceRouterServiceType"),
    ("internal_load_balancer_provider", "internalLoadBalancerProvider"),
    ("ssl_secret", "sslSecret"),
    ("ssl_cname", "sslCname"),
    ("inference_router_ha", "inferenceRouterHA"),
    ("cluster_purpose", "clusterPurpose"),
    ("install_nvidia_device_plugin", "installNvidiaDevicePlugin"),
    ("install_prom_op", "installPromOp"),
    ("install_volcano", "installVolcano"),
    ("install_dcgm_exporter", "installDcgmExporter"),
)
# Friendly option -> protected setting key (the CLI's names for the PEM file paths).
FRIENDLY_PROTECTED = (("ssl_cert_file", "sslCertPemFile"), ("ssl_key_file", "sslKeyPemFile"))
# (source key, copies az adds when absent), per map.
DEREFERENCE = (
    ("relayServerConnectionString", ("relayserver.relayConnectionString",)),
    ("serviceBusConnectionString", ("servicebus.connectionString",)),
    ("cluster_name", ("clusterId", "prometheus.prometheusSpec.externalLabels.cluster_name")),
)
SSL_WARNING = "SSL is not enabled. Allowing insecure connections to the deployed services."
INTERNAL_LB_WARNING = "Internal load balancer only supported on AKS and AKS Engine Clusters."


def _put(target, origin, key, value, option):
    """Set `key` from a friendly option, unless the raw settings already say something else."""
    if key in origin and not same_value(origin[key], value):
        raise ArcMLError(
            f"{option} and the setting {key} disagree ({value!r} and {origin[key]!r}): set only one of them."
        )
    target[key] = value


def requested(params, relay_enabled=None):
    """(settings, protected): the raw maps with the friendly options merged in, every value a string."""
    settings = normalize_settings(params.get("configuration_settings")) or {}
    protected = normalize_settings(params.get("configuration_protected_settings"), "configuration_protected_settings")
    protected = protected or {}
    both = {**protected, **settings}
    for option, key in FRIENDLY_SETTINGS:
        if params.get(option) is not None:
            _put(settings, both, key, normalize_settings({key: params[option]})[key], option)
    for label, value in sorted((params.get("node_selector") or {}).items()):
        key = f"nodeSelector.{label}"
        _put(settings, both, key, normalize_settings({key: value}, "node_selector")[key], "node_selector")
    for option, key in FRIENDLY_PROTECTED:
        if params.get(option):
            _put(protected, both, key, params[option], option)
    if relay_enabled is not None:
        _put(settings, both, "relayserver.enabled", "true" if relay_enabled else "false", "relay.enabled")
    return settings, protected


class Configured:
    """The request after az's validation-time derivations; `warnings` are az's notices."""

    def __init__(self, settings, protected, warnings):
        self.settings = settings
        self.protected = protected
        self.warnings = warnings


def configure(settings, protected, read_pem):
    """What az derives from the request alone. `read_pem(path, kind)` returns a PEM file's bytes.

    Call after _azureml_rules.validate(): it assumes a valid combination.
    """
    settings = dict(settings)
    protected = dict(protected)
    warnings = []
    training = is_true(lookup("enableTraining", settings, protected))
    inference = is_true(lookup("enableInference", settings, protected))
    if inference:
        if is_true(lookup("isAKSMigration", settings, protected)):
            settings["scoringFe.namespace"] = "default"
            settings["isAKSMigration"] = "true"
        service_type = str(lookup("inferenceRouterServiceType", settings, protected)).lower()
        if service_type == "nodeport":
            settings["scoringFe.serviceType.nodePort"] = "True"
        elif str(lookup("internalLoadBalancerProvider", settings, protected)).lower() == "azure":
            settings["scoringFe.serviceType.internalLoadBalancer"] = "True"
            warnings.append(INTERNAL_LB_WARNING)
        if is_true(lookup("allowInsecureConnections", settings, protected)):
            warnings.append(SSL_WARNING)
        elif ssl_files_given(protected):
            # The PEM contents go to the cluster; the controller's file paths are of no use there.
            protected["scoringFe.sslCert"] = _b64(read_pem(protected.pop("sslCertPemFile"), "certificate"))
            protected["scoringFe.sslKey"] = _b64(read_pem(protected.pop("sslKeyPemFile"), "private key"))
        else:
            settings["scoringFe.sslSecret"] = lookup("sslSecret", settings, protected)
    settings.setdefault("enableTraining", "True" if training else "False")
    settings.setdefault("enableInference", "True" if inference else "False")
    protected.pop("enableTraining", None)
    protected.pop("enableInference", None)
    # Paths of files az would read only for HTTPS: not needed, and not sent.
    protected.pop("sslCertPemFile", None)
    protected.pop("sslKeyPemFile", None)
    return Configured(settings, protected, warnings)


def _b64(data):
    return base64.b64encode(data).decode("ascii")


class ClusterFacts:
    """What az reads from the cluster resource: id (as az writes it), name, type, location, nodes, distribution."""

    def __init__(self, id, name, cluster_type, location, node_count=None, distribution=None, connectivity=None):
        self.id = id
        self.name = name
        self.cluster_type = cluster_type
        self.location = (location or "").lower()
        self.node_count = node_count
        self.distribution = distribution
        self.connectivity = connectivity


def stale_flags(configured, current_settings):
    """{key: "False"} for the scoring front end's boolean settings stored true that this request wants false.

    An extension PATCH merges configurationSettings key by key, so a flag the request leaves out keeps its stored
    value. az k8s-extension update therefore writes the derived flags explicitly, true or false
    (`__normalize_config` in AzureMLKubernetes.py,
    https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py:
    `scoringFe.serviceType.nodePort = inferenceRouterServiceType == nodeport`,
    `scoringFe.serviceType.internalLoadBalancer = internalLoadBalancerProvider == azure`). The same holds for
    allowInsecureConnections once HTTPS is configured (az: insecure connections win over the certificate).
    Only a stored true is rewritten: on create az sends no false flag, and an absent flag is false to the chart,
    so an extension this module created is left as it is (no change on the next run).
    """
    settings, protected = configured.settings, configured.protected
    if not is_true(lookup("enableInference", settings, protected)):
        return {}
    wanted_false = []
    if not is_true(settings.get("scoringFe.serviceType.nodePort")):
        wanted_false.append("scoringFe.serviceType.nodePort")
    if not is_true(settings.get("scoringFe.serviceType.internalLoadBalancer")):
        wanted_false.append("scoringFe.serviceType.internalLoadBalancer")
    if lookup("allowInsecureConnections", settings, protected) is None:
        wanted_false.append("allowInsecureConnections")
    current_settings = current_settings or {}
    return {key: "False" for key in wanted_false if is_true(current_settings.get(key))}


def relay_enabled(settings, cluster_type):
    """Whether the extension uses Azure Relay: az's default is on for Arc and off for AKS."""
    value = settings.get("relayserver.enabled")
    if value is None:
        return cluster_type != "managedClusters"
    return str(value).lower() != "false"


def needs_relay(configured, cluster_type):
    """Whether the module must find or create the Relay resources (az: enabled and no connection string given)."""
    return relay_enabled(configured.settings, cluster_type) and not lookup(
        "relayServerConnectionString", configured.settings, configured.protected
    )


class Completed:
    """The extension's settings: compared `settings`, `create_only` ones, and the complete `protected` map."""

    def __init__(self, settings, create_only, protected):
        self.settings = settings
        self.create_only = create_only
        self.protected = protected


def complete(configured, cluster, relay=None, node_count=None):
    """Add what az derives from the cluster and the Relay. `relay` is (connection string, hybrid connection id,
    hybrid connection name) when needs_relay(); `node_count` overrides the cluster's reported count.

    clusterPurpose=DevTest and inferenceRouterHA=false for a cluster of fewer than 3 nodes are create-only:
    they describe the cluster at install time, and a node down for maintenance must not reconfigure a running
    extension. Set cluster_purpose / inference_router_ha to manage them.
    """
    settings = dict(configured.settings)
    protected = dict(configured.protected)
    create_only = {}
    count = cluster.node_count if node_count is None else node_count
    if count is not None and count < SMALL_CLUSTER_NODES:
        if lookup("clusterPurpose", settings, protected) is None:
            create_only["clusterPurpose"] = "DevTest"
        if lookup("inferenceRouterHA", settings, protected) is None:
            create_only["inferenceRouterHA"] = "false"
    if (cluster.distribution or "").lower() == "openshift":
        settings["openshift"] = "true"
    settings.setdefault("cluster_name", cluster.id)
    settings.setdefault("domain", f"{cluster.location}.cloudapp.azure.com")
    settings.setdefault("location", cluster.location)
    settings.setdefault("jobSchedulerLocation", cluster.location)
    settings.setdefault("cluster_name_friendly", cluster.name)
    settings.setdefault("servicebus.enabled", "false")
    aks = cluster.cluster_type == "managedClusters"
    settings.setdefault("relayserver.enabled", "false" if aks else "true")
    settings.setdefault("nginxIngress.enabled", "true" if aks else "false")
    _refuse_uncreated_resources(settings, protected)
    if needs_relay(Configured(settings, protected, []), cluster.cluster_type):
        if relay is None:
            raise ValueError("the Relay connection is needed")
        connection_string, hybrid_connection_id, hybrid_connection_name = relay
        protected["relayServerConnectionString"] = connection_string
        settings["relayserver.hybridConnectionResourceID"] = hybrid_connection_id
        settings["relayserver.hybridConnectionName"] = hybrid_connection_name
    for target in (settings, protected):
        for source, copies in DEREFERENCE:
            if source in target:
                for copy in copies:
                    target.setdefault(copy, target[source])
    return Completed(settings, create_only, protected)


def _refuse_uncreated_resources(settings, protected):
    if str(settings.get("servicebus.enabled")).lower() != "false" and not lookup(
        "serviceBusConnectionString", settings, protected
    ):
        raise ArcMLError(
            "servicebus.enabled is true, but this module does not create Azure Service Bus resources: leave "
            "servicebus.enabled false (the default), or create the namespace yourself and set "
            "serviceBusConnectionString in configuration_protected_settings and servicebus.resourceID in "
            "configuration_settings."
        )
    if is_true(settings.get("logAnalyticsWS")) and not lookup(
        "azure_log_analytics.connection_string", settings, protected
    ):
        raise ArcMLError(
            "logAnalyticsWS is true, but this module does not create Log Analytics workspaces: create one yourself "
            "and set azure_log_analytics.enabled and azure_log_analytics.customer_id in configuration_settings and "
            "azure_log_analytics.connection_string (its shared key) in configuration_protected_settings."
        )
