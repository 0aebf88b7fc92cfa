#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ml_compute_info
short_description: Read the compute targets of an Azure Machine Learning workspace
version_added: 0.1.0
description:
  - Reads one compute target of an Azure Machine Learning workspace by name, or all of them.
  - Attached Kubernetes clusters (see M(hci.arc_ml.ml_compute)) come with their cluster, namespace, instance types and
    identity; the service's connection strings are never returned.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The compute target to read. Without it, every compute target of the workspace is returned.
    type: str
  workspace_name:
    description:
      - The name of the Azure Machine Learning workspace. Requires O(resource_group).
      - Either this or O(workspace_config) is required.
    type: str
  resource_group:
    description:
      - The resource group of the workspace.
    type: str
  workspace_config:
    description:
      - The workspace's C(config.json) (or a directory to search from), found and read as azureml-core's
        C(Workspace.from_config) does; see M(hci.arc_ml.ml_compute).
    type: path
extends_documentation_fragment:
  - hci.arc_ml.azure_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.INFO_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
seealso:
  - module: hci.arc_ml.ml_compute
"""

EXAMPLES = r"""
- name: Read the compute target a site is attached as
  hci.arc_ml.ml_compute_info:
    name: arccompute
    workspace_name: mlw-prod
    resource_group: rg-ml
  register: arccompute

- name: Fail when it is not attached and Succeeded
  ansible.builtin.assert:
    that:
      - arccompute.computes | length == 1
      - arccompute.computes[0].provisioning_state == 'Succeeded'

- name: List every compute target of the workspace named in config.json
  hci.arc_ml.ml_compute_info:
    workspace_config: "{{ playbook_dir }}/config.json"
  register: all_computes
"""

RETURN = r"""
computes:
  description:
    - The compute targets, in the order Azure lists them; empty when O(name) does not exist.
    - Each has the keys of RV(hci.arc_ml.ml_compute#module:compute); the Kubernetes-only keys are null for other
      compute types.
  returned: always
  type: list
  elements: dict
  sample:
    - name: arccompute
      compute_type: Kubernetes
      provisioning_state: Succeeded
      cluster_resource_id: /subscriptions/.../providers/Microsoft.Kubernetes/connectedClusters/hci-seattle
      namespace: default
workspace:
  description: The workspace that was read.
  returned: always
  type: dict
  contains:
    subscription_id:
      description: Its subscription.
      type: str
      returned: always
    resource_group:
      description: Its resource group.
      type: str
      returned: always
    name:
      description: Its name.
      type: str
      returned: always
    config_file:
      description: The config.json it was read from, if any.
      type: str
      returned: always
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import ComputeClient
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import compute_facts
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import workspace_from_params


def read_computes(module):
    workspace = workspace_from_params(module.params)
    module.result["workspace"] = workspace.facts()
    azure = module.azure(require_subscription=not workspace.config_file)
    computes = ComputeClient(azure.arm, workspace)
    name = module.params.get("name")
    if name:
        compute = computes.get(name)
        if compute is None:
            # A missing compute and a missing workspace both answer 404: only the second is an error.
            computes.read_workspace()
        found = [compute] if compute is not None else []
    else:
        found = computes.list()
    module.result["computes"] = [compute_facts(c) for c in found]


def main():
    module = ArcMLModule(
        dict(
            name=dict(type="str"),
            workspace_name=dict(type="str"),
            resource_group=dict(type="str"),
            workspace_config=dict(type="path"),
        ),
        azure=True,
        mutually_exclusive=[("workspace_config", "workspace_name"), ("workspace_config", "resource_group")],
        required_one_of=[("workspace_name", "workspace_config")],
        required_together=[("workspace_name", "resource_group")],
    )
    module.run(read_computes)


if __name__ == "__main__":
    main()
