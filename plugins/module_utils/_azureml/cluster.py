# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The facts about the cluster the Azure ML extension's settings are derived from.

From Azure, as az k8s-extension reads them: location, node count (connectedClusters: totalNodeCount, which
the Arc agents report; managedClusters: the sum of the agent pools), distribution, and, for a warning,
connectivity. Optionally from the Kubernetes API: the number of schedulable Linux nodes, which is what
decides whether the Azure ML components (Linux-only) can run highly available on a mixed Windows/Linux cluster.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import is_absent
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.settings import ClusterFacts
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubeClient, KubernetesError

CLUSTER_API_VERSIONS = {"connectedClusters": "2024-01-01", "managedClusters": "2024-09-01"}
LINUX_SELECTOR = "kubernetes.io/os=linux"


def read_cluster(arm, ref, required=True):
    """ClusterFacts for an _extension.ClusterRef; a missing cluster is an error that says what to do.

    With `required` false a missing cluster is None (check mode, where an earlier task only planned to connect it,
    and where a namespace not registered yet means no cluster: errors.is_absent).
    """
    try:
        cluster = arm.get(ref.path, CLUSTER_API_VERSIONS[ref.cluster_type]) or {}
    except AzureApiError as exc:
        if exc.status != 404 and not is_absent(exc, check_mode=not required):
            raise
        if not required:
            return None
        request = f" (x-ms-request-id: {exc.request_id})" if exc.request_id else ""
        hint = (
            "connect it to Azure Arc first (hci.arc_ml.connected_cluster)"
            if ref.cluster_type == "connectedClusters"
            else "create the AKS cluster first"
        )
        raise ArcMLError(
            f"The cluster {ref.describe()} does not exist in Azure{request}: {hint}, or check cluster_name, "
            "resource_group, cluster_type and subscription_id."
        ) from None
    properties = cluster.get("properties") or {}
    if ref.cluster_type == "managedClusters":
        pools = properties.get("agentPoolProfiles") or []
        counts = [pool.get("count") for pool in pools]
        node_count = sum(counts) if pools and all(isinstance(c, int) for c in counts) else None
    else:
        node_count = properties.get("totalNodeCount")
        node_count = node_count if isinstance(node_count, int) else None
    return ClusterFacts(
        id=ref.id,
        name=ref.cluster_name,
        cluster_type=ref.cluster_type,
        location=cluster.get("location"),
        node_count=node_count,
        distribution=properties.get("distribution"),
        connectivity=properties.get("connectivityStatus"),
    )


def label_selector(node_selector=None):
    """The Linux selector, narrowed by the extension's node selector labels."""
    parts = [LINUX_SELECTOR]
    parts.extend(f"{key}={value}" for key, value in sorted((node_selector or {}).items()))
    return ",".join(parts)


def schedulable_linux_nodes(nodes):
    """How many of `nodes` (Node objects as the API returns them) accept new pods."""
    return sum(1 for node in nodes if not (node.get("spec") or {}).get("unschedulable"))


def linux_node_count(api_client, describe, node_selector=None):
    """The schedulable Linux nodes (matching `node_selector`) of the cluster behind `api_client`."""
    selector = label_selector(node_selector)
    try:
        listed = KubeClient(api_client).call(
            f"list nodes matching {selector!r}", "GET", "/api/v1/nodes", query={"labelSelector": selector}
        )
    except KubernetesError as exc:
        if exc.status is None:
            raise ArcMLError(
                f"Cannot reach the Kubernetes API ({describe}) to count the nodes: {one_line(exc.message, limit=300)}. "
                "Check the kubeconfig options, or set node_count_source: azure."
            ) from None
        raise ArcMLError(
            f"Cannot list the nodes of the cluster ({describe}) to count them: {exc.message}. "
            "The credentials need permission to list nodes, or set node_count_source: azure."
        ) from None
    return schedulable_linux_nodes(listed.get("items") or [])
