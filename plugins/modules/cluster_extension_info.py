#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_extension_info
short_description: Read the cluster extensions of an Arc-enabled or AKS cluster
version_added: 0.1.0
description:
  - Returns one cluster extension (with O(name)) or every extension of a cluster, as
    C(az k8s-extension show/list) do, including the provisioning state and Azure's error for a failed one.
  - Protected settings are returned by key only; Azure never returns their values.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The extension to read. When not set, every extension of the cluster is returned.
    type: str
extends_documentation_fragment:
  - hci.arc_ml.extension_cluster
  - hci.arc_ml.azure_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.INFO_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
seealso:
  - module: hci.arc_ml.cluster_extension
"""

EXAMPLES = r"""
- name: Read the Azure ML extension
  hci.arc_ml.cluster_extension_info:
    name: azureml
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
  register: azureml

- name: Fail when it is not healthy
  ansible.builtin.assert:
    that: azureml.extensions | map(attribute='provisioning_state') | list == ['Succeeded']

- name: List every extension of a cluster
  hci.arc_ml.cluster_extension_info:
    cluster_name: hci-seattle
    resource_group: rg-hci-seattle
"""

RETURN = r"""
extensions:
  description:
    - The extensions found; empty when the named extension, or the cluster, does not exist.
    - Each has the fields M(hci.arc_ml.cluster_extension) returns in RV(hci.arc_ml.cluster_extension#module:extension).
  returned: always
  type: list
  elements: dict
  sample:
    - name: azureml
      extension_type: microsoft.azureml.kubernetes
      scope: cluster
      release_namespace: azureml
      provisioning_state: Succeeded
      current_version: 1.1.61
      configuration_settings: {enableTraining: "True"}
      configuration_protected_setting_keys: [relayServerConnectionString]
      error: null
  contains:
    id:
      description: The ARM id of the extension.
      type: str
      returned: always
      sample: /subscriptions/.../connectedClusters/hci-seattle/providers/Microsoft.KubernetesConfiguration/extensions/x
    name:
      description: The extension's name.
      type: str
      returned: always
    extension_type:
      description: The extension type.
      type: str
      returned: always
      sample: microsoft.flux
    scope:
      description: V(cluster) or V(namespace).
      type: str
      returned: always
    release_namespace:
      description: The release namespace, for cluster scope.
      type: str
      returned: always
    target_namespace:
      description: The target namespace, for namespace scope.
      type: str
      returned: always
    auto_upgrade_minor_version:
      description: Whether the extension upgrades its minor version by itself.
      type: bool
      returned: always
    release_train:
      description: The release train.
      type: str
      returned: always
    version:
      description: The pinned version, if any.
      type: str
      returned: always
    current_version:
      description: The installed version, once installed.
      type: str
      returned: always
      sample: 1.14.1
    provisioning_state:
      description: C(Creating), C(Updating), C(Deleting), C(Succeeded), C(Failed) or C(Canceled).
      type: str
      returned: always
      sample: Succeeded
    configuration_settings:
      description: >-
        The configuration settings (without C(hciArcMlProtectedSettingsFingerprint), the setting earlier
        versions of this collection wrote; see O(hci.arc_ml.cluster_extension#module:protected_settings_update)).
      type: dict
      returned: always
    configuration_protected_setting_keys:
      description: The keys of the protected settings (their values are never returned by Azure).
      type: list
      elements: str
      returned: always
    protected_settings_fingerprint:
      description: >-
        Whether the extension still holds C(hciArcMlProtectedSettingsFingerprint), the fingerprint setting
        earlier versions of this collection wrote; the module no longer writes it, and removes it (see
        O(hci.arc_ml.cluster_extension#module:protected_settings_update)).
      type: bool
      returned: always
    error:
      description: Azure's error for a failed extension (code, message), else null.
      type: dict
      returned: always
    statuses:
      description: Status messages reported by the extension.
      type: list
      elements: dict
      returned: always
    identity_principal_id:
      description: The principal id of the extension's system-assigned identity, if any.
      type: str
      returned: always
    is_system_extension:
      description: Whether it is a system extension.
      type: bool
      returned: always
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.options import cluster_argument_spec
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.tasks import read_extensions


def argument_spec():
    spec = dict(name=dict(type="str"))
    spec.update(cluster_argument_spec())
    return spec


def main():
    ArcMLModule(argument_spec(), azure=True).run(read_extensions)


if __name__ == "__main__":
    main()
