#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_type
short_description: Manage Azure Machine Learning instance types in a Kubernetes cluster
version_added: 0.1.0
description:
  - Creates, updates or deletes an C(InstanceType) custom resource (C(amlarc.azureml.com/v1alpha1)), which tells Azure
    Machine Learning on which nodes, and with which CPU, memory and GPU requests and limits, the pods of jobs and
    deployments that choose this instance type run.
  - The custom resource definition C(instancetypes.amlarc.azureml.com) comes with the Azure Machine Learning extension;
    without the extension the task fails and says so (see M(hci.arc_ml.azureml_extension)).
  - An instance type named C(defaultinstancetype) replaces the default one Azure ML creates when the cluster is
    attached (requests 100m CPU and 2Gi memory, limits 2 CPU and 2Gi memory).
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The instance type's name, unique in the cluster (a Kubernetes object name, such as V(gpu-large)). Jobs and
        deployments select it by this name.
    type: str
    required: true
  node_selector:
    description:
      - Node labels the instance type's pods must run on, as a map of label key to value.
      - Not set means any node (within the node selector of the extension, if it has one).
    type: dict
  requests:
    description:
      - The resources each pod requests. Required with O(state=present).
    type: dict
    suboptions:
      cpu:
        description:
          - CPU, a non-zero Kubernetes quantity such as V(700m) or V(2).
        type: raw
        required: true
      memory:
        description:
          - Memory, a non-zero Kubernetes quantity such as V(1500Mi) or V(4Gi).
        type: raw
        required: true
  limits:
    description:
      - The most resources each pod may use; each at least its request. Required with O(state=present).
    type: dict
    suboptions:
      cpu:
        description:
          - CPU, a non-zero Kubernetes quantity.
        type: raw
        required: true
      memory:
        description:
          - Memory, a non-zero Kubernetes quantity.
        type: raw
        required: true
      gpu:
        description:
          - The number of NVIDIA GPUs (C(nvidia.com/gpu)). GPUs are only ever limits.
        type: int
  state:
    description:
      - V(present) creates the instance type, or replaces its node selector and resources with these.
      - V(absent) deletes it. Without the custom resource definition there is nothing to delete, and the task
        reports no change.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - hci.arc_ml.kube_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.MUTATING_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_KUBERNETES
notes:
  - Quantities compare by value, so changing V(1) to V(1000m) is not a change.
  - Other fields of the resource's C(spec), labels and annotations are kept.
seealso:
  - module: hci.arc_ml.ml_compute
  - name: Create and manage instance types
    description: The rules instance types follow, and how jobs and deployments select them.
    link: https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types
"""

EXAMPLES = r"""
- name: A GPU instance type on the nodes labelled for it
  hci.arc_ml.instance_type:
    kubeconfig: "{{ kubeconfig_path }}"
    name: gpu-large
    node_selector:
      accelerator: nvidia
    requests:
      cpu: "4"
      memory: 16Gi
    limits:
      cpu: "8"
      memory: 32Gi
      gpu: 1

- name: Replace Azure ML's default instance type with a bigger one
  hci.arc_ml.instance_type:
    name: defaultinstancetype
    requests: {cpu: "1", memory: 4Gi}
    limits: {cpu: "2", memory: 8Gi}

- name: Remove an instance type
  hci.arc_ml.instance_type:
    name: gpu-large
    state: absent
"""

RETURN = r"""
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample: ["update instance type gpu-large (limits.memory 16Gi -> 32Gi)"]
msg:
  description: What the task did (or, in check mode, would do), including when there was nothing to do.
  returned: always
  type: str
  sample: Updated InstanceType gpu-large.
instance_type:
  description:
    - The InstanceType resource as the cluster returns it after the task (without C(metadata.managedFields)).
    - In check mode, as it would be. Null when it does not exist.
  returned: always
  type: dict
  contains:
    apiVersion:
      description: C(amlarc.azureml.com/v1alpha1).
      returned: when it exists
      type: str
      sample: amlarc.azureml.com/v1alpha1
    kind:
      description: C(InstanceType).
      returned: when it exists
      type: str
      sample: InstanceType
    metadata:
      description: The object's metadata (C(name), C(resourceVersion), C(uid), ...) without C(managedFields).
      returned: when it exists
      type: dict
      sample: {name: gpu-large, resourceVersion: "4711"}
    spec:
      description:
        - C(nodeSelector) and C(resources) (C(requests), C(limits)) as the task set them, and any other spec field
          the object already had.
      returned: when it exists
      type: dict
      sample:
        nodeSelector: {accelerator: nvidia}
        resources:
          requests: {cpu: "4", memory: 16Gi}
          limits: {cpu: "8", memory: 32Gi, nvidia.com/gpu: 1}
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import instance_type_options
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.tasks import ensure_instance_type


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **instance_type_options(),
    )


def main():
    ArcMLModule(
        argument_spec(), kube=True, mutating=True, required_if=[("state", "present", ("requests", "limits"))]
    ).run(ensure_instance_type)


if __name__ == "__main__":
    main()
