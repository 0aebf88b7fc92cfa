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
