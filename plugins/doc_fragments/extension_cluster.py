# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cluster an extension belongs to (_extension/options.py cluster_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  cluster_name:
    description:
      - The name of the cluster resource in Azure.
    type: str
    required: true
  resource_group:
    description:
      - The resource group of the cluster.
    type: str
    required: true
  cluster_type:
    description:
      - V(connectedClusters) for an Azure Arc-enabled cluster (C(Microsoft.Kubernetes)), V(managedClusters) for AKS
        (C(Microsoft.ContainerService)).
    type: str
    choices: [connectedClusters, managedClusters]
    default: connectedClusters
"""
