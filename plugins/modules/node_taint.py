#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_taint
short_description: Add or remove taints on the Kubernetes nodes that match a label selector
version_added: 0.1.0
description:
  - Adds (O(state=present)) or removes (O(state=absent)) exactly the given taints on every node that matches
    O(label_selector), and keeps every other taint of those nodes as it is.
  - By default it taints the Windows nodes with C(node.kubernetes.io/os=windows:NoSchedule), so that Linux-only
    workloads such as the Azure Arc agents and the Azure Machine Learning components are never scheduled there
    (the C(kubectl taint) step of setting up Azure ML on AKS on Azure Stack HCI).
  - A node carries at most one taint per key and effect. With O(state=present), a taint with the same key and effect
    but another value gets the new value.
  - Safe against concurrent changes of the same node. Each change is a JSON patch that applies only if the node has
    not changed since it was read; when it has, the node is read again and the change recomputed, a few times at most.
  - No matching node is not an error (a site without Windows nodes is normal); the task then changes nothing and says
    so in RV(msg).
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  label_selector:
    description:
      - The Kubernetes label selector of the nodes to change, for example V(kubernetes.io/os=windows) or
        V(node-role.example.com/gpu in (a100,h100\)).
      - An empty string selects every node.
    type: str
    default: kubernetes.io/os=windows
  taints:
    description:
      - The taints to add or remove.
    type: list
    elements: dict
    default: [{key: node.kubernetes.io/os, value: windows, effect: NoSchedule}]
    suboptions:
      key:
        description:
          - The taint key, a qualified name such as V(node.kubernetes.io/os).
        type: str
        required: true
      value:
        description:
          - The taint value.
          - With O(state=present), omit it for a taint without a value.
          - With O(state=absent), a taint is removed only if its value matches; omit it to remove the key and effect
            whatever the value (like C(kubectl taint nodes NAME key:Effect-)).
        type: str
      effect:
        description:
          - The taint effect.
        type: str
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
        default: NoSchedule
  state:
    description:
      - V(present) makes sure every matching node carries the taints.
      - V(absent) removes them, and only them.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - hci.arc_ml.kube_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_KUBERNETES
attributes:
  check_mode:
    support: full
    details:
      - In check mode the patch is sent as a server-side dry run, so the API server validates and authorizes it but
        stores nothing.
  diff_mode:
    support: full
    details:
      - One diff per changed node, of its taints.
  idempotent:
    support: full
seealso:
  - module: hci.arc_ml.cluster_preflight
  - name: Taints and tolerations
    description: How taints keep pods off nodes.
    link: https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
"""

EXAMPLES = r"""
- name: Keep Linux-only workloads off the Windows nodes
  hci.arc_ml.node_taint:
    kubeconfig: "{{ hci_kubeconfig }}"

- name: Reserve the GPU nodes for Azure ML jobs
  hci.arc_ml.node_taint:
    label_selector: accelerator=nvidia
    taints:
      - key: example.com/dedicated
        value: azureml
        effect: NoSchedule

- name: Remove the Windows taint again, whatever else the nodes carry
  hci.arc_ml.node_taint:
    state: absent

- name: Set the kubeconfig once for every cluster-side task
  module_defaults:
    group/hci.arc_ml.kubernetes:
      kubeconfig: "{{ hci_kubeconfig }}"
  block:
    - name: Taint the Windows nodes
      hci.arc_ml.node_taint:
      register: taint

    - name: Show what changed
      ansible.builtin.debug:
        msg: "{{ taint.changed_nodes | map(attribute='name') }}"
"""

RETURN = r"""
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample: ["taint node moc-win-1: add node.kubernetes.io/os=windows:NoSchedule"]
msg:
  description: What the task did (or, in check mode, would do), including when no node matched.
  returned: always
  type: str
  sample: Tainted 2 of 2 nodes matching kubernetes.io/os=windows.
matched_nodes:
  description: The names of the nodes that match O(label_selector).
  returned: always
  type: list
  elements: str
  sample: [moc-win-1, moc-win-2]
changed_nodes:
  description: The nodes whose taints changed (in check mode, would change).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The node name.
      returned: always
      type: str
      sample: moc-win-1
    added:
      description: The taints added, in C(key=value:Effect) notation.
      returned: always
      type: list
      elements: str
      sample: ["node.kubernetes.io/os=windows:NoSchedule"]
    removed:
      description: The taints removed, in C(key=value:Effect) notation.
      returned: always
      type: list
      elements: str
      sample: []
    taints:
      description: All of the node's taints afterwards.
      returned: always
      type: list
      elements: dict
      sample: [{key: example.com/maintenance, value: "true", effect: NoSchedule},
               {key: node.kubernetes.io/os, value: windows, effect: NoSchedule}]
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.preflight import OS_TAINT
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.taints import EFFECTS
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.tasks import taint_nodes


def argument_spec():
    return dict(
        label_selector=dict(type="str", default="kubernetes.io/os=windows"),
        taints=dict(
            type="list",
            elements="dict",
            default=[dict(OS_TAINT)],
            options=dict(
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str"),
                effect=dict(type="str", choices=list(EFFECTS), default="NoSchedule"),
            ),
        ),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    ArcMLModule(argument_spec(), kube=True, mutating=True).run(taint_nodes)


if __name__ == "__main__":
    main()
