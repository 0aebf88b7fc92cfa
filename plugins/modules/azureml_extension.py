#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: azureml_extension
short_description: Install, update or remove the Azure Machine Learning extension on an Arc-enabled or AKS cluster
version_added: 0.1.0
description:
  - Manages the C(Microsoft.AzureML.Kubernetes) cluster extension the way
    C(az k8s-extension create --extension-type Microsoft.AzureML.Kubernetes) builds it, idempotently and without
    the Azure CLI.
  - Checks the settings with every rule and message of C(az k8s-extension) before anything is written. Notably,
    inference needs O(inference_router_service_type), which the command in older guides
    (C(enableTraining=True enableInference=True allowInsecureConnections=True)) lacks.
  - Adds the settings C(az) derives from the cluster (its id, location and name, C(clusterPurpose=DevTest) and
    C(inferenceRouterHA=false) on clusters of fewer than three nodes, C(openshift)), and on Arc-enabled clusters finds
    or creates the Azure Relay namespace, hybrid connection and authorization rule the extension talks through
    (or uses one you bring), keeping the connection string a protected setting.
  - Installs into the release namespace C(azureml) at cluster scope, as C(az) does. Creating, comparing, patching and
    re-creating work as in M(hci.arc_ml.cluster_extension).
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The extension's name, also the name of its helm release in the cluster.
    type: str
    default: azureml
  training:
    description:
      - Enable Azure ML training jobs (C(enableTraining)). At least one of O(training) and O(inference) must be true.
      - When neither this option nor the setting C(enableTraining) is set, training is disabled.
    type: bool
  inference:
    description:
      - Enable Azure ML online endpoints (C(enableInference)); needs O(inference_router_service_type) and either
        HTTPS (O(ssl_cert_file) and O(ssl_key_file), or O(ssl_secret), with O(ssl_cname)) or
        O(allow_insecure_connections=true).
      - When neither this option nor the setting C(enableInference) is set, inference is disabled.
    type: bool
  inference_router_service_type:
    description:
      - The Kubernetes service type of the inference router C(azureml-fe) (C(inferenceRouterServiceType)).
        Required with inference.
    type: str
    choices: [LoadBalancer, NodePort, ClusterIP]
  internal_load_balancer_provider:
    description:
      - V(azure) for an internal load balancer (AKS only; C(internalLoadBalancerProvider)). Not with V(NodePort).
    type: str
    choices: [azure]
  allow_insecure_connections:
    description:
      - Serve inference endpoints over HTTP (C(allowInsecureConnections)), for development and test.
    type: bool
  ssl_cert_file:
    description:
      - A PEM certificate file (with its chain) for HTTPS inference endpoints, read on the host the task runs on
        (the controller with C(connection=local)); its base64 contents become the protected setting
        C(scoringFe.sslCert). Goes with O(ssl_key_file) and O(ssl_cname).
    type: path
  ssl_key_file:
    description:
      - The certificate's PEM private key file, not encrypted; its base64 contents become the protected setting
        C(scoringFe.sslKey). Never shown in output.
    type: path
  ssl_secret:
    description:
      - Instead of the files, the name of a Kubernetes secret in namespace C(azureml) holding C(cert.pem) and
        C(key.pem) (C(sslSecret)).
    type: str
  ssl_cname:
    description:
      - The host name of the HTTPS inference endpoints, as in the certificate (C(sslCname)).
    type: str
  inference_router_ha:
    description:
      - Run the inference router with three replicas (C(inferenceRouterHA)). When not set, the extension's default
        (true), except that a new extension on a cluster of fewer than three nodes gets false.
    type: bool
  cluster_purpose:
    description:
      - C(clusterPurpose). When not set, the extension's default (V(FastProd)), except that a new extension on a
        cluster of fewer than three nodes gets V(DevTest).
    type: str
    choices: [DevTest, FastProd]
  node_count_source:
    description:
      - Where the node count that decides O(cluster_purpose) and O(inference_router_ha) for a new extension comes from.
      - V(azure) uses the count Azure reports for the cluster (the Arc agents' C(totalNodeCount), or the AKS agent
        pools), as C(az) does.
      - V(kubernetes) counts the schedulable Linux nodes (matching O(node_selector)) through the Kubernetes API, using
        the Kubernetes connection options. On clusters with Windows workers this is the count that matters, since
        the Azure ML components run on Linux only.
    type: str
    choices: [azure, kubernetes]
    default: azure
  node_selector:
    description:
      - Node labels the Azure ML components are scheduled onto (C(nodeSelector.<label>) settings). The service cannot
        remove a node selector label once set.
    type: dict
  install_nvidia_device_plugin:
    description:
      - Install the NVIDIA device plugin (C(installNvidiaDevicePlugin)).
    type: bool
  install_prom_op:
    description:
      - Install the Prometheus operator (C(installPromOp)); set false to use one already in the cluster.
    type: bool
  install_volcano:
    description:
      - Install the Volcano scheduler (C(installVolcano)); set false to use one already in the cluster.
    type: bool
  install_dcgm_exporter:
    description:
      - Install the NVIDIA DCGM exporter (C(installDcgmExporter)).
    type: bool
  configuration_settings:
    description:
      - Further configuration settings, with the names C(az k8s-extension) takes in C(--configuration-settings).
        A setting that one of the options above also sets must agree with it.
      - Values are sent as strings (booleans as V(True) or V(False)); boolean words are compared without regard to case.
    type: dict
  configuration_protected_settings:
    description:
      - Further protected settings, with the names C(az) takes in C(--configuration-protected-settings), for example
        C(relayServerConnectionString) (which skips the Relay provisioning, as in C(az)) or C(sslCertPemFile) and
        C(sslKeyPemFile) (file paths, as O(ssl_cert_file) and O(ssl_key_file)). Never shown in output.
      - They are sent together with the ones the module derives (Relay connection string, SSL certificate and key),
        as one complete map; see O(protected_settings_update) for when.
    type: dict
  protected_settings_update:
    description:
      - When to send the protected settings (Relay connection string, SSL certificate and key,
        O(configuration_protected_settings)) to an existing extension; Azure never returns their values.
      - V(when_changed) stores a salted PBKDF2-SHA256 fingerprint of the complete map in the configuration setting
        C(hciArcMlProtectedSettingsFingerprint) whenever it sends the map, and sends the map again only when the
        fingerprint no longer matches (for example after the Relay key was regenerated or the certificate renewed).
      - V(always) sends them on every run (always a change); V(on_create) only when the extension is created.
    type: str
    choices: [when_changed, always, on_create]
    default: when_changed
  relay:
    description:
      - The Azure Relay hybrid connection the extension on an Arc-enabled cluster talks to Azure through.
      - By default, as C(az) does, the namespace C(<cluster><subscription><resource group>relay) (letters and digits,
        shortened to 50 characters with a hash suffix) in the cluster's resource group and location, the hybrid
        connection named after the cluster, and its rule C(azureml_rw) are found, or created when missing. Existing
        ones are never modified. Removing the extension leaves them in place, as C(az) does.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether the extension uses Azure Relay (C(relayserver.enabled)). When not set, true on
            C(connectedClusters) and false on C(managedClusters), as in C(az).
        type: bool
      namespace:
        description:
          - The Relay namespace's name, instead of the derived one.
        type: str
      resource_group:
        description:
          - The Relay namespace's resource group, instead of the cluster's.
        type: str
      hybrid_connection:
        description:
          - The hybrid connection's name, instead of the cluster's name.
        type: str
      authorization_rule:
        description:
          - The hybrid connection's authorization rule (rights Manage, Send and Listen) whose primary connection
            string the extension gets.
        type: str
        default: azureml_rw
      create:
        description:
          - Create the namespace, hybrid connection and rule when they are missing. With V(false), a missing one is
            an error (for a Relay managed elsewhere).
        type: bool
        default: true
      connection_string:
        description:
          - To bring your own Relay, the hybrid connection's connection string. The module then makes no Relay call.
            Needs O(relay.hybrid_connection_id). Never shown in output.
        type: str
      hybrid_connection_id:
        description:
          - With O(relay.connection_string), the ARM id of the hybrid connection.
        type: str
  release_train:
    description:
      - The release train of automatic upgrades. A new extension gets V(stable), as C(az) sets it; afterwards it is
        compared only when set.
    type: str
  version:
    description:
      - Pin the extension to this version; needs O(auto_upgrade_minor_version=false) (implied when not set).
    type: str
  auto_upgrade_minor_version:
    description:
      - Whether the extension upgrades its minor version by itself. When not set, the service's default (true) on
        create, and not compared afterwards.
    type: bool
  state:
    description:
      - V(present) creates or updates the extension; V(absent) deletes it and, with O(wait=true), confirms that it
        is gone (the cluster's agents uninstall the release).
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - Delete and create the extension again when a change needs it (an existing extension in a release namespace
        other than C(azureml)), instead of failing. Needs O(wait=true).
    type: bool
    default: false
  repair_failed:
    description:
      - When Azure reports the extension as C(Failed), delete and create it again instead of failing with Azure's
        error. Needs O(wait=true).
    type: bool
    default: false
  force_delete:
    description:
      - Delete only the Azure resource (C(forceDelete=true)); the agents uninstall the release when they reconnect.
      - Applies to O(state=absent), and to the delete before a re-create (O(recreate), O(repair_failed)).
    type: bool
    default: false
extends_documentation_fragment:
  - hci.arc_ml.extension_cluster
  - hci.arc_ml.azure_auth
  - hci.arc_ml.kube_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE_KUBERNETES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - The Kubernetes connection options are used only with O(node_count_source=kubernetes).
  - The settings C(clusterPurpose) and C(inferenceRouterHA) that the node count decides are set when the extension is
    created and not revisited (a node down for maintenance must not reconfigure a running extension); set
    O(cluster_purpose) and O(inference_router_ha) to manage them.
  - Creating the Relay namespace is always waited for, within O(wait_timeout), because the hybrid connection needs it.
  - Unlike C(az k8s-extension) 1.6.1, a C(domain) setting you give is kept, the local PEM file paths are not sent to
    Azure, and Azure Service Bus and Log Analytics resources are not created (supply their connection strings).
  - Register C(Microsoft.KubernetesConfiguration) and C(Microsoft.Relay) first (M(hci.arc_ml.resource_provider)).
seealso:
  - module: hci.arc_ml.cluster_extension
  - module: hci.arc_ml.cluster_extension_info
  - name: Deploy the Azure Machine Learning extension on AKS or Arc Kubernetes
    description: The settings and their meaning.
    link: https://learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension
"""

EXAMPLES = r"""
- name: Training and HTTP inference, as the seed procedure wants it (plus the router service type it lacks)
  hci.arc_ml.azureml_extension:
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    training: true
    inference: true
    allow_insecure_connections: true
    inference_router_service_type: LoadBalancer

- name: HTTPS inference with a certificate from the controller, on Linux nodes only
  hci.arc_ml.azureml_extension:
    name: azureml
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    inference: true
    inference_router_service_type: NodePort
    ssl_cert_file: files/scoring.pem
    ssl_key_file: files/scoring-key.pem
    ssl_cname: scoring.contoso.com
    node_count_source: kubernetes
    kubeconfig: "{{ inventory_dir }}/kubeconfig-hci-seattle.yaml"

- name: Bring your own Relay
  hci.arc_ml.azureml_extension:
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    training: true
    relay:
      hybrid_connection_id: "{{ relay_hc_id }}"
      connection_string: "{{ relay_connection_string }}"

- name: Remove the extension (and its release in the cluster)
  hci.arc_ml.azureml_extension:
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    state: absent
"""

RETURN = r"""
extension:
  description:
    - The extension after the task; in check mode, as it would be. Empty when it does not exist.
    - The same fields as RV(hci.arc_ml.cluster_extension#module:extension); protected settings by key only.
  returned: always
  type: dict
  sample:
    name: azureml
    extension_type: microsoft.azureml.kubernetes
    scope: cluster
    release_namespace: azureml
    provisioning_state: Succeeded
    current_version: 1.1.61
    configuration_settings:
      enableTraining: "True"
      enableInference: "True"
      inferenceRouterServiceType: LoadBalancer
      clusterPurpose: DevTest
    configuration_protected_setting_keys: [relayServerConnectionString, relayserver.relayConnectionString]
changes:
  description: One line per difference applied (or, in check mode, to apply). Protected values are never shown.
  returned: always
  type: list
  elements: str
  sample: ["configurationSettings.installNvidiaDevicePlugin: 'False' -> 'True'"]
node_count:
  description:
    - The schedulable Linux nodes counted through the Kubernetes API, which decided C(clusterPurpose) and
      C(inferenceRouterHA) for the new extension.
  returned: when O(node_count_source=kubernetes) and the extension is created or re-created
  type: int
  sample: 2
relay:
  description: The Azure Relay hybrid connection the extension uses; empty when it uses none or brings its own.
  returned: with O(state=present)
  type: dict
  contains:
    namespace:
      description: The Relay namespace.
      type: str
      returned: when a Relay is used
    resource_group:
      description: Its resource group.
      type: str
      returned: when a Relay is used
    hybrid_connection:
      description: The hybrid connection.
      type: str
      returned: when a Relay is used
    hybrid_connection_id:
      description: The hybrid connection's ARM id.
      type: str
      returned: when a Relay is used
    authorization_rule:
      description: The authorization rule whose connection string the extension holds.
      type: str
      returned: when a Relay is used
    created:
      description: What the task created (or, in check mode, would create).
      type: list
      elements: str
      returned: when a Relay is used
      sample: ["namespace hcisea...relay", "hybrid connection hci-seattle", "authorization rule azureml_rw"]
"""

import base64

from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import relay as _relay
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import rules as _azureml_rules
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import settings as _azureml_settings
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.cluster import linux_node_count, read_cluster
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.options import (
    cluster_argument_spec,
    extension_client,
    lifecycle_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.task import ExtensionTask

PEM_MARKERS = {"certificate": "-----BEGIN CERTIFICATE-----", "private key": "PRIVATE KEY-----"}


def read_pem(module, path, kind):
    """A PEM file's bytes; its contents are masked in all output from here on."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ArcMLError(f"Cannot read the SSL {kind} file {path}: {exc.strerror or exc}.") from None
    text = data.decode("ascii", errors="replace")
    module.protect([text, text.strip(), base64.b64encode(data).decode("ascii")])
    if kind == "private key":
        module.protect(line for line in text.splitlines() if len(line) >= 16 and not line.startswith("-----"))
    if PEM_MARKERS[kind] not in text:
        raise ArcMLError(f"The SSL {kind} file {path} is not a PEM {kind} (no '{PEM_MARKERS[kind]}' line).")
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text or "Proc-Type: 4,ENCRYPTED" in text:
        raise ArcMLError(f"The SSL {kind} file {path} is encrypted: the extension needs a key without a passphrase.")
    return data


def provide_relay(module, client, cluster, options):
    """(connection string, hybrid connection id, hybrid connection name), finding or creating the Relay."""
    if options["connection_string"]:
        module.protect([options["connection_string"]])
        hybrid_connection_id = options["hybrid_connection_id"]
        if "/hybridconnections/" not in hybrid_connection_id.lower():
            raise ArcMLError(
                f"relay.hybrid_connection_id {hybrid_connection_id!r} is not the ARM id of a hybrid connection "
                "(/subscriptions/.../providers/Microsoft.Relay/namespaces/<ns>/hybridConnections/<name>)."
            )
        return options["connection_string"], hybrid_connection_id, hybrid_connection_id.rstrip("/").split("/")[-1]
    ref = client.cluster
    resource_group = options["resource_group"] or ref.resource_group
    target = _relay.RelayTarget(
        ref.subscription_id,
        resource_group,
        options["namespace"] or _relay.default_namespace(ref.cluster_name, ref.subscription_id, ref.resource_group),
        options["hybrid_connection"] or ref.cluster_name,
        options["authorization_rule"],
    )
    relay = _relay.ensure_relay(
        client.arm,
        target,
        cluster.location,
        create=options["create"],
        check_mode=module.check_mode,
        waiter=module.waiter(required=True),  # the Relay must exist before the extension can use it
        protect=module.protect,
    )
    module.result["relay"] = relay.result()
    if relay.created:
        module.set_changed()
    # Without a connection string (check mode, Relay still to be created) a stand-in marks the protected
    # settings as changing; check mode sends nothing.
    connection_string = _relay.NOT_YET_CREATED if relay.connection_string is None else relay.connection_string
    return connection_string, target.hybrid_connection_id, target.hybrid_connection


def ensure_azureml(module):
    params = module.params
    if params["state"] == "absent":
        ExtensionTask(module, extension_client(module, params["name"])).absent(force=params["force_delete"])
        return
    relay_options = params["relay"]
    # Everything az checks and reads locally comes first: an invalid request writes nothing.
    settings, protected = _azureml_settings.requested(params, relay_options["enabled"])
    _azureml_rules.validate(
        settings,
        protected,
        version=params["version"],
        auto_upgrade_minor_version=params["auto_upgrade_minor_version"],
    )
    configured = _azureml_settings.configure(settings, protected, lambda path, kind: read_pem(module, path, kind))

    client = extension_client(module, params["name"])
    task = ExtensionTask(module, client, params["protected_settings_update"])
    current = task.current()
    cluster = read_cluster(client.arm, client.cluster)
    if cluster.cluster_type == "connectedClusters" and cluster.connectivity not in (None, "Connected"):
        module.warn(
            f"The cluster {client.cluster.describe()} is {cluster.connectivity}, not Connected: its agents may not "
            "carry out the extension operation, which then fails."
        )
    node_count = None
    identity = ExtensionSpec(
        _azureml_settings.EXTENSION_TYPE, scope="cluster", release_namespace=_azureml_rules.RELEASE_NAMESPACE
    )
    creating = task.creates(current, identity, params["recreate"], params["repair_failed"])
    if creating and params["node_count_source"] == "kubernetes":
        node_count = linux_node_count(module.kube_client(), module.kube().describe(), params["node_selector"])
        module.result["node_count"] = node_count
    relay = None
    module.result["relay"] = {}
    if _azureml_settings.needs_relay(configured, cluster.cluster_type):
        relay = provide_relay(module, client, cluster, relay_options)
    completed = _azureml_settings.complete(configured, cluster, relay, node_count)
    if creating:
        for warning in configured.warnings:
            module.warn(warning)
    spec = ExtensionSpec(
        extension_type=_azureml_settings.EXTENSION_TYPE,
        scope="cluster",
        release_namespace=_azureml_rules.RELEASE_NAMESPACE,
        auto_upgrade_minor_version=params["auto_upgrade_minor_version"],
        release_train=params["release_train"],
        default_release_train=_azureml_settings.DEFAULT_RELEASE_TRAIN,
        version=params["version"],
        settings=completed.settings,
        create_only_settings=completed.create_only,
        protected=completed.protected,
        identity={"type": "SystemAssigned"},
        case_insensitive_keys=_azureml_settings.CASE_INSENSITIVE_KEYS,
    )
    task.present(
        spec,
        recreate=params["recreate"],
        repair_failed=params["repair_failed"],
        force_delete=params["force_delete"],
        current=current,
    )


def main():
    argument_spec = dict(
        name=dict(type="str", default="azureml"),
        training=dict(type="bool"),
        inference=dict(type="bool"),
        inference_router_service_type=dict(type="str", choices=["LoadBalancer", "NodePort", "ClusterIP"]),
        internal_load_balancer_provider=dict(type="str", choices=["azure"]),
        allow_insecure_connections=dict(type="bool"),
        ssl_cert_file=dict(type="path"),
        ssl_key_file=dict(type="path", no_log=False),
        ssl_secret=dict(type="str", no_log=False),
        ssl_cname=dict(type="str"),
        inference_router_ha=dict(type="bool"),
        cluster_purpose=dict(type="str", choices=["DevTest", "FastProd"]),
        node_count_source=dict(type="str", choices=["azure", "kubernetes"], default="azure"),
        node_selector=dict(type="dict"),
        install_nvidia_device_plugin=dict(type="bool"),
        install_prom_op=dict(type="bool"),
        install_volcano=dict(type="bool"),
        install_dcgm_exporter=dict(type="bool"),
        relay=dict(
            type="dict",
            apply_defaults=True,
            options=dict(
                enabled=dict(type="bool"),
                namespace=dict(type="str"),
                resource_group=dict(type="str"),
                hybrid_connection=dict(type="str"),
                authorization_rule=dict(type="str", default=_relay.RULE_NAME),
                create=dict(type="bool", default=True),
                connection_string=dict(type="str", no_log=True),
                hybrid_connection_id=dict(type="str"),
            ),
            required_together=[("connection_string", "hybrid_connection_id")],
        ),
    )
    argument_spec.update(cluster_argument_spec())
    argument_spec.update(lifecycle_argument_spec())
    module = ArcMLModule(
        argument_spec,
        azure=True,
        kube=True,
        wait=True,
        required_together=[("ssl_cert_file", "ssl_key_file")],
    )
    module.run(ensure_azureml)


if __name__ == "__main__":
    main()
