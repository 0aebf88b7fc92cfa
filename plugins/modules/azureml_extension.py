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
      - Secrets are refused here, before any request, with a message that names the key (never the value), by
        the rule of M(hci.arc_ml.cluster_extension)'s O(hci.arc_ml.cluster_extension#module:configuration_settings),
        for example the Relay or Service Bus connection strings (C(relayServerConnectionString),
        C(relayserver.relayConnectionString), C(serviceBusConnectionString), C(servicebus.connectionString)),
        the Log Analytics key C(azure_log_analytics.connection_string) and C(sslKeyPemFile), which C(az) keeps in
        the protected settings, or any value shaped like a connection string with its key, a SAS token or a
        private key. Put them in O(configuration_protected_settings), or the Relay's in O(relay.connection_string).
    type: dict
  configuration_protected_settings:
    description:
      - Further protected settings, with the names C(az) takes in C(--configuration-protected-settings), for example
        C(relayServerConnectionString) (which skips the Relay provisioning, as in C(az)) or C(sslCertPemFile) and
        C(sslKeyPemFile) (file paths, as O(ssl_cert_file) and O(ssl_key_file)). Never shown in output.
      - They are sent together with the ones the module derives (Relay connection string, SSL certificate and key),
        as one complete map; see O(protected_settings_update) for when. With V(when_changed), the map is sent
        again when its keys change or when the module creates the Relay; Azure does not return the values, so after
        the Relay key was regenerated or the certificate renewed (same keys), run once with V(always).
    type: dict
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
  recreate:
    description:
      - Delete and create the extension again when a change needs it (an existing extension in a release namespace
        other than C(azureml)), instead of failing. Needs O(wait=true).
    type: bool
    default: false
extends_documentation_fragment:
  - hci.arc_ml.extension_cluster
  - hci.arc_ml.extension_lifecycle
  - hci.arc_ml.azure_auth
  - hci.arc_ml.kube_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.MUTATING_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE_KUBERNETES
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
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample:
    - create relay namespace hcisea...relay
    - create relay hybrid connection hci-seattle
    - create relay authorization rule azureml_rw
    - create extension azureml
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
  contains:
    id:
      description: The ARM id of the extension.
      type: str
      returned: when the extension exists
      sample: /subscriptions/.../connectedClusters/hci-seattle/providers/Microsoft.KubernetesConfiguration/extensions/x
    name:
      description: The extension's name.
      type: str
      returned: when the extension exists
    extension_type:
      description: The extension type.
      type: str
      returned: when the extension exists
      sample: microsoft.flux
    scope:
      description: V(cluster) or V(namespace).
      type: str
      returned: when the extension exists
    release_namespace:
      description: The release namespace, for cluster scope.
      type: str
      returned: when the extension exists
    target_namespace:
      description: The target namespace, for namespace scope.
      type: str
      returned: when the extension exists
    auto_upgrade_minor_version:
      description: Whether the extension upgrades its minor version by itself.
      type: bool
      returned: when the extension exists
    release_train:
      description: The release train.
      type: str
      returned: when the extension exists
    version:
      description: The pinned version, if any.
      type: str
      returned: when the extension exists
    current_version:
      description: The installed version, once installed.
      type: str
      returned: when the extension exists
      sample: 1.14.1
    provisioning_state:
      description: C(Creating), C(Updating), C(Deleting), C(Succeeded), C(Failed) or C(Canceled).
      type: str
      returned: when the extension exists
      sample: Succeeded
    configuration_settings:
      description: >-
        The configuration settings (without C(hciArcMlProtectedSettingsFingerprint), the setting earlier
        versions of this collection wrote; see O(hci.arc_ml.cluster_extension#module:protected_settings_update)).
      type: dict
      returned: when the extension exists
    configuration_protected_setting_keys:
      description: The keys of the protected settings (their values are never returned by Azure).
      type: list
      elements: str
      returned: when the extension exists
    protected_settings_fingerprint:
      description: >-
        Whether the extension still holds C(hciArcMlProtectedSettingsFingerprint), the fingerprint setting
        earlier versions of this collection wrote; the module no longer writes it, and removes it (see
        O(hci.arc_ml.cluster_extension#module:protected_settings_update)).
      type: bool
      returned: when the extension exists
    error:
      description: Azure's error for a failed extension (code, message), else null.
      type: dict
      returned: when the extension exists
    statuses:
      description: Status messages reported by the extension.
      type: list
      elements: dict
      returned: when the extension exists
    identity_principal_id:
      description: The principal id of the extension's system-assigned identity, if any.
      type: str
      returned: when the extension exists
    is_system_extension:
      description: Whether it is a system extension.
      type: bool
      returned: when the extension exists
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

from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import RULE_NAME
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.tasks import ensure_azureml
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.options import (
    extension_argument_spec,
)


def argument_spec():
    spec = dict(
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
                authorization_rule=dict(type="str", default=RULE_NAME),
                create=dict(type="bool", default=True),
                connection_string=dict(type="str", no_log=True),
                hybrid_connection_id=dict(type="str"),
            ),
            required_together=[("connection_string", "hybrid_connection_id")],
        ),
    )
    spec.update(extension_argument_spec())
    return spec


def main():
    ArcMLModule(
        argument_spec(),
        azure=True,
        kube=True,
        wait=True,
        mutating=True,
        required_together=[("ssl_cert_file", "ssl_key_file")],
    ).run(ensure_azureml)


if __name__ == "__main__":
    main()
