#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_extension
short_description: Install, update or remove a cluster extension on an Arc-enabled or AKS cluster
version_added: 0.1.0
description:
  - Manages one C(Microsoft.KubernetesConfiguration/extensions) resource on an Azure Arc-enabled Kubernetes cluster
    (C(connectedClusters)) or an AKS cluster (C(managedClusters)), as C(az k8s-extension create/update/delete) do.
  - An extension that does not exist is created. An existing one is compared with the options and only what
    differs is sent, in one PATCH that names exactly the changed fields and setting keys.
  - The extension type, the scope and the release or target namespace cannot change on an existing extension;
    such a change fails with the reason unless O(recreate=true), which deletes the extension and creates it again.
  - An extension that Azure reports as C(Failed) makes the task fail with Azure's error, unless the task changes
    its settings (which starts a new operation) or sets O(repair_failed=true).
  - For the Azure Machine Learning extension use M(hci.arc_ml.azureml_extension), which adds the settings, checks
    and Azure Relay resources C(az k8s-extension) adds for it.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The extension's name. For the extension types that install a helm release, also the release name.
    type: str
    required: true
  extension_type:
    description:
      - The extension type, for example V(microsoft.flux) or V(Microsoft.AzureML.Kubernetes). Compared without
        regard to case.
      - Required with O(state=present).
    type: str
  scope:
    description:
      - V(cluster) installs the extension once for the whole cluster, into O(release_namespace);
        V(namespace) installs it into O(target_namespace) only.
      - When not set, a new extension gets cluster scope and an existing one keeps its scope.
    type: str
    choices: [cluster, namespace]
  release_namespace:
    description:
      - With cluster scope, the namespace of the extension's release; created if missing. When not set, the
        extension type's default.
      - Cannot change on an existing extension (see O(recreate)).
    type: str
  target_namespace:
    description:
      - With O(scope=namespace), the namespace to install into. When not set, the service's default.
      - Cannot change on an existing extension (see O(recreate)).
    type: str
  release_train:
    description:
      - The release train the extension follows when it upgrades itself, for example V(stable) or V(preview).
        Compared without regard to case. When not set, the service's default (V(Stable)) on create, and not
        compared afterwards.
    type: str
  configuration_settings:
    description:
      - Configuration settings, a map of names to values. Values are sent as strings; booleans as V(True) or
        V(False), as C(az) sends them.
      - Only the keys given here are compared and sent; keys the extension has and this map does not are left
        alone (the service cannot remove a setting). Boolean words are compared without regard to case.
      - Secrets are refused here, before any request, with a message that names the key (never the value).
        Azure returns configuration settings to anyone with read access to the extension and passes them to
        its Helm chart as values. Put them in O(configuration_protected_settings). A setting is taken for a
        secret by its value (a connection string with C(SharedAccessKey=), C(AccountKey=),
        C(SharedAccessSignature=) or C(Password=); a URL with C(sig=) in its query or a password before its
        host; a PEM private key, also base64-encoded), or by its key (one C(az k8s-extension) keeps in the
        protected settings, such as C(relayServerConnectionString), C(servicebus.connectionString),
        C(azure_log_analytics.connection_string), C(omsagent.secret.key) or C(sslKeyPemFile); or a key whose
        last dotted part ends with C(password), C(passphrase), C(clientSecret), C(connectionString),
        C(accountKey), C(accessKey), C(secretKey), C(sharedKey), C(workspaceKey), C(privateKey), C(apiKey),
        C(sasToken) or C(accessToken), unless its value is empty, V(true) or V(false)). Names such as
        C(keyVaultName), C(sslSecret) or C(passwordSecretName) are not secrets.
    type: dict
  configuration_protected_settings:
    description:
      - Protected configuration settings (secrets), a map of names to string values. Never shown in output,
        logs or diffs.
      - Azure does not return them, so they are compared as O(protected_settings_update) says.
      - When not set, the extension's protected settings are not managed.
    type: dict
  recreate:
    description:
      - Delete and create the extension again when the extension type, scope or namespace must change, instead
        of failing. The extension's workloads are removed and installed again. Needs O(wait=true).
    type: bool
    default: false
extends_documentation_fragment:
  - hci.arc_ml.extension_cluster
  - hci.arc_ml.extension_lifecycle
  - hci.arc_ml.azure_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.MUTATING_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
notes:
  - Uses the C(Microsoft.KubernetesConfiguration) API version 2024-11-01. Register the resource provider first
    (M(hci.arc_ml.resource_provider)).
  - Extension operations on an Arc-enabled cluster are carried out by the cluster's agents; on a cluster that is not
    connected they fail after a while with Azure's error, which the task reports.
seealso:
  - module: hci.arc_ml.cluster_extension_info
  - module: hci.arc_ml.azureml_extension
"""

EXAMPLES = r"""
- name: Install Flux on an Arc-enabled cluster
  hci.arc_ml.cluster_extension:
    name: flux
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    extension_type: microsoft.flux
    release_namespace: flux-system
    configuration_settings:
      multiTenancy.enforce: false

- name: Pin an extension to a version
  hci.arc_ml.cluster_extension:
    name: flux
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    extension_type: microsoft.flux
    version: 1.14.1

- name: An extension with a secret, sent again only when it changes
  hci.arc_ml.cluster_extension:
    name: monitoring
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
    extension_type: microsoft.azuremonitor.containers
    configuration_settings:
      logAnalyticsWorkspaceResourceID: "{{ workspace_id }}"
    configuration_protected_settings:
      omsagent.secret.key: "{{ workspace_key }}"

- name: Remove an extension and wait until it is gone
  hci.arc_ml.cluster_extension:
    name: flux
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
    - update extension flux (configurationSettings.multiTenancy.enforce)
extension:
  description:
    - The extension after the task; in check mode, as it would be. Empty when it does not exist.
    - Protected settings are listed by key only.
  returned: always
  type: dict
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
  description:
    - One line per difference the task applied (or, in check mode, would apply). Protected values are never shown.
  returned: always
  type: list
  elements: str
  sample:
    - "configurationSettings.multiTenancy.enforce: 'True' -> 'False'"
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.options import (
    extension_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.tasks import ensure_extension


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        extension_type=dict(type="str"),
        scope=dict(type="str", choices=["cluster", "namespace"]),
        release_namespace=dict(type="str"),
        target_namespace=dict(type="str"),
    )
    spec.update(extension_argument_spec())
    return spec


def main():
    ArcMLModule(
        argument_spec(),
        azure=True,
        wait=True,
        mutating=True,
        required_if=[("state", "present", ("extension_type",))],
    ).run(ensure_extension)


if __name__ == "__main__":
    main()
