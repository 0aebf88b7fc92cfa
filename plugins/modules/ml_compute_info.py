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
extends_documentation_fragment:
  - hci.arc_ml.ml_workspace
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
  contains:
    id:
      description: The compute's resource ID.
      type: str
      returned: always
    name:
      description: The compute's name.
      type: str
      returned: always
    location:
      description: The compute's Azure region.
      type: str
      returned: always
    compute_type:
      description: C(Kubernetes) for an attached cluster.
      type: str
      returned: always
      sample: Kubernetes
    provisioning_state:
      description: C(Creating), C(Succeeded), C(Failed), C(Deleting) ...
      type: str
      returned: always
      sample: Succeeded
    provisioning_errors:
      description: The errors of a failed provisioning, each with C(code) and C(message).
      type: list
      elements: dict
      returned: always
    cluster_resource_id:
      description: The attached cluster's resource ID.
      type: str
      returned: always
    description:
      description: The compute's description.
      type: str
      returned: always
    is_attached_compute:
      description: Whether the compute was attached (rather than created by Azure ML).
      type: bool
      returned: always
    created_on:
      description: When the compute was attached.
      type: str
      returned: always
    modified_on:
      description: When the compute was last changed.
      type: str
      returned: always
    identity:
      description:
        - The compute's managed identity (C(type), C(principal_id), C(tenant_id), C(user_assigned_identities)), or null.
      type: dict
      returned: always
    namespace:
      description: The Kubernetes namespace workloads run in.
      type: str
      returned: always
      sample: default
    default_instance_type:
      description: The default instance type, if set.
      type: str
      returned: always
    instance_types:
      description:
        - The instance types recorded on the compute, by name, each with C(node_selector), C(requests), C(limits).
      type: dict
      returned: always
    extension_instance_release_train:
      description: The release train of the cluster's Azure ML extension, as the service reports it.
      type: str
      returned: always
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
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.options import (
    WORKSPACE_MUTUALLY_EXCLUSIVE,
    WORKSPACE_REQUIRED_ONE_OF,
    WORKSPACE_REQUIRED_TOGETHER,
    workspace_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.tasks import read_computes


def argument_spec():
    spec = dict(name=dict(type="str"))
    spec.update(workspace_argument_spec())
    return spec


def main():
    ArcMLModule(
        argument_spec(),
        azure=True,
        mutually_exclusive=WORKSPACE_MUTUALLY_EXCLUSIVE,
        required_one_of=WORKSPACE_REQUIRED_ONE_OF,
        required_together=WORKSPACE_REQUIRED_TOGETHER,
    ).run(read_computes)


if __name__ == "__main__":
    main()
