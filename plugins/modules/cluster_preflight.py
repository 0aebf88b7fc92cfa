#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_preflight
short_description: Check that a Kubernetes cluster meets the prerequisites of Azure Arc and Azure Machine Learning
version_added: 0.1.0
description:
  - Reads the cluster and checks the prerequisites of connecting it to Azure Arc and installing the Azure Machine
    Learning extension. It changes nothing and always reports C(changed=false).
  - The checks are C(api) (the Kubernetes API answers; its version is returned), C(nodes) (the nodes can be listed),
    C(linux_node) (at least one Ready, schedulable amd64 Linux node has O(min_linux_cpu) vCPU and O(min_linux_memory)
    memory allocatable; the Arc and Azure ML components take about 2 vCPU and 3 GiB of it), C(architecture) (every
    node is amd64) and C(cluster_admin) (the credentials may create clusterrolebindings, asked with a
    SelfSubjectAccessReview; connecting to Azure Arc needs cluster-admin rights).
  - The C(windows_taints) check only warns, when a Windows node has no C(node.kubernetes.io/os) taint with effect
    C(NoSchedule) or C(NoExecute) to keep Linux-only pods off it (see M(hci.arc_ml.node_taint)).
  - With O(fail_on_unmet=true) the task fails with one message naming every unmet check, for example the node, what
    Azure ML needs and the shortfall. The facts (nodes, checks) are returned either way.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  min_linux_cpu:
    description:
      - The allocatable vCPU at least one Linux node must have, as a number (V(4), V(3.5)) or a Kubernetes CPU
        quantity (V(3500m)).
    type: raw
    default: 4
  min_linux_memory:
    description:
      - The allocatable memory that Linux node must also have, as a Kubernetes quantity (V(8Gi), V(8G)) or a number
        of bytes.
    type: raw
    default: 8Gi
  fail_on_unmet:
    description:
      - Whether the task fails when a check is unmet.
      - With V(false), unmet checks are returned and shown as warnings, and the task succeeds.
    type: bool
    default: true
extends_documentation_fragment:
  - hci.arc_ml.kube_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_KUBERNETES
  - hci.arc_ml.attributes.INFO_MODULE
seealso:
  - module: hci.arc_ml.node_taint
"""

EXAMPLES = r"""
- name: Check the cluster before connecting it to Azure Arc
  hci.arc_ml.cluster_preflight:
    kubeconfig: "{{ hci_kubeconfig }}"

- name: Check against larger nodes and only report
  hci.arc_ml.cluster_preflight:
    kubeconfig: "{{ hci_kubeconfig }}"
    min_linux_cpu: 8
    min_linux_memory: 32Gi
    fail_on_unmet: false
  register: preflight

- name: Show the Linux nodes' allocatable resources
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.allocatable.cpu }} CPU, {{ item.allocatable.memory }}"
  loop: "{{ preflight.nodes | selectattr('os', 'equalto', 'linux') }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
kubernetes_version:
  description: The API server's version (C(gitVersion) of C(/version)).
  returned: when the API answered
  type: str
  sample: v1.31.8
passed:
  description: Whether every check except the warning-only C(windows_taints) passed.
  returned: always
  type: bool
  sample: true
unmet:
  description: The names of the checks that failed.
  returned: always
  type: list
  elements: str
  sample: [linux_node]
checks:
  description: Every check, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(api), C(nodes), C(linux_node), C(architecture), C(cluster_admin) or C(windows_taints).
      returned: always
      type: str
      sample: linux_node
    status:
      description:
        - V(passed), V(failed), V(warning) (C(windows_taints) only) or V(skipped) (it could not be evaluated because
          the API or the node list was unavailable, which is reported by its own failed check).
      returned: always
      type: str
      sample: failed
    message:
      description: What was found, and for a failed check what is missing.
      returned: always
      type: str
      sample: "no Linux node has the 4 vCPU and 8Gi allocatable that Azure ML needs (the Arc and Azure ML components
        take about 2 vCPU and 3Gi of it): small-1 has 2 vCPU and 4Gi allocatable, short by 2 vCPU and 4Gi"
nodes:
  description: Every node of the cluster.
  returned: when the nodes could be listed
  type: list
  elements: dict
  contains:
    name:
      description: The node name.
      returned: always
      type: str
      sample: moc-lnx-1
    os:
      description: The operating system (label C(kubernetes.io/os)).
      returned: always
      type: str
      sample: linux
    arch:
      description: The CPU architecture (label C(kubernetes.io/arch)).
      returned: always
      type: str
      sample: amd64
    ready:
      description: Whether the node's C(Ready) condition is C(True).
      returned: always
      type: bool
      sample: true
    schedulable:
      description: Whether the node is not cordoned.
      returned: always
      type: bool
      sample: true
    kubelet_version:
      description: The kubelet version the node reports.
      returned: always
      type: str
      sample: v1.31.8
    capacity:
      description: The node's capacity as Kubernetes quantities (C(cpu), C(memory), C(pods) ...).
      returned: always
      type: dict
      sample: {cpu: "8", memory: 32Gi, pods: "110"}
    allocatable:
      description: What the node can give to pods, as Kubernetes quantities.
      returned: always
      type: dict
      sample: {cpu: "7910m", memory: 30852Mi, pods: "110"}
    taints:
      description: The node's taints.
      returned: always
      type: list
      elements: dict
      sample: [{key: node.kubernetes.io/os, value: windows, effect: NoSchedule}]
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.tasks import check_cluster


def argument_spec():
    return dict(
        min_linux_cpu=dict(type="raw", default=4),
        min_linux_memory=dict(type="raw", default="8Gi"),
        fail_on_unmet=dict(type="bool", default=True),
    )


def main():
    ArcMLModule(argument_spec(), kube=True).run(check_cluster)


if __name__ == "__main__":
    main()
