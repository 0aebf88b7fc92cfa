#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: connected_cluster_info
short_description: Read Azure Arc connected clusters
version_added: 0.1.0
description:
  - Returns one Azure Arc connected cluster (C(Microsoft.Kubernetes/connectedClusters)), every one in a resource
    group, or every one in the subscription, with connectivity status and agent version.
  - Reads Azure only; the clusters themselves are not contacted.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of one connected cluster; needs O(resource_group).
      - Without it, every connected cluster in O(resource_group), or in the subscription, is returned.
    type: str
  resource_group:
    description:
      - The resource group to look in. Without it (and without O(name)), the whole subscription.
    type: str
  latest_agent_version:
    description:
      - Also ask the Arc configuration service of each cluster's region for the newest agent version it offers
        (the version C(az connectedk8s connect) would install).
      - Returned as RV(latest_agent_versions).
      - One request per region. A region whose service cannot be read gives null and a warning.
    type: bool
    default: false
extends_documentation_fragment:
  - hci.arc_ml.azure_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
  - hci.arc_ml.attributes.INFO_MODULE
seealso:
  - module: hci.arc_ml.connected_cluster
"""

EXAMPLES = r"""
- name: Read one connected cluster
  hci.arc_ml.connected_cluster_info:
    name: hci-site-07
    resource_group: rg-hci-clusters
  register: arc

- name: Fail unless it is connected
  ansible.builtin.assert:
    that: arc.connected_clusters[0].connectivity_status == 'Connected'

- name: Compare the agents with the newest version Azure offers
  hci.arc_ml.connected_cluster_info:
    name: hci-site-07
    resource_group: rg-hci-clusters
    latest_agent_version: true
  register: arc_versions

- name: Say whether the agents are behind
  ansible.builtin.debug:
    msg: >-
      {{ arc_versions.connected_clusters[0].agent_version }} against
      {{ arc_versions.latest_agent_versions[0].version }}

- name: Every connected cluster in the subscription
  hci.arc_ml.connected_cluster_info:
  register: fleet
"""

RETURN = r"""
connected_clusters:
  description:
    - The connected clusters found, sorted by resource ID; empty when O(name) does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The ARM resource ID.
      type: str
      sample: /subscriptions/<subscription>/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1
    name:
      description: The resource name.
      type: str
      sample: site-1
    subscription_id:
      description: The subscription.
      type: str
      sample: 00000000-0000-0000-0000-000000000000
    resource_group:
      description: The resource group.
      type: str
      sample: rg-hci-clusters
    location:
      description: The Azure region.
      type: str
      sample: eastus
    tags:
      description: The resource's tags.
      type: dict
      sample: {site: site-1}
    kind:
      description: V(ProvisionedCluster) for an AKS cluster enabled by Azure Arc, else null.
      type: str
      sample: null
    platform_managed:
      description: Whether the cluster is an AKS Arc C(ProvisionedCluster), which the platform manages.
      type: bool
      sample: false
    provisioning_state:
      description: The resource's provisioning state.
      type: str
      sample: Succeeded
    connectivity_status:
      description: V(Connecting), V(Connected), V(Offline), V(Expired) or V(AgentNotInstalled).
      type: str
      sample: Connected
    last_connectivity_time:
      description: When the agents last reached Azure.
      type: str
      sample: "2026-05-04T10:12:03Z"
    agent_version:
      description: The version of the Arc agents, as they report it.
      type: str
      sample: 1.26.0
    agent_auto_upgrade:
      description: V(Enabled) or V(Disabled); null when Azure did not report it.
      type: str
      sample: Enabled
    kubernetes_version:
      description: The cluster's Kubernetes version, as the agents report it.
      type: str
      sample: 1.31.8
    total_node_count:
      description: The cluster's node count, as the agents report it.
      type: int
      sample: 3
    total_core_count:
      description: The cluster's CPU core count, as the agents report it.
      type: int
      sample: 12
    distribution:
      description: The recorded Kubernetes distribution.
      type: str
      sample: aks_workload
    infrastructure:
      description: The recorded infrastructure.
      type: str
      sample: azure_stack_hci
    identity_principal_id:
      description: The object ID of the resource's system-assigned identity.
      type: str
      sample: 5e3f1c0d-9f0b-4f0e-8c4b-1f2e3d4c5b6a
latest_agent_versions:
  description:
    - The newest agent version the Arc configuration service offers in each region of the clusters returned.
  returned: when O(latest_agent_version=true)
  type: list
  elements: dict
  contains:
    location:
      description: The region, lower case without spaces, as ARM compares locations.
      type: str
      sample: eastus
    version:
      description: The newest agent version offered there; null when the service could not be read.
      type: str
      sample: 1.27.1
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._arc.tasks import read_connected_clusters
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule


def argument_spec():
    return dict(
        name=dict(type="str"), resource_group=dict(type="str"), latest_agent_version=dict(type="bool", default=False)
    )


def main():
    ArcMLModule(argument_spec(), azure=True, required_by={"name": "resource_group"}).run(read_connected_clusters)


if __name__ == "__main__":
    main()
