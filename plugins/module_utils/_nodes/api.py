# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Nodes as the cluster-side modules see them: the API calls and a node's facts.

`ClusterApi` builds the few Kubernetes requests cluster_preflight and node_taint make on the collection's
one client (_kube.client), which turns every failure into one KubernetesError line.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubeClient, KubernetesError

RBAC_GROUP = "rbac.authorization.k8s.io"
NODES_PATH = "/api/v1/nodes"
JSON_PATCH = "application/json-patch+json"


class ClusterApi:
    """The Kubernetes calls of the cluster-side modules, on a kubernetes.client.ApiClient; JSON in, JSON out."""

    def __init__(self, api_client):
        self.kube = KubeClient(api_client)

    def version(self):
        """The server's /version document (gitVersion, major, minor, platform ...)."""
        return self.kube.call("read the Kubernetes version", "GET", "/version")

    def list_nodes(self, label_selector=None):
        """Every node (or those matching `label_selector`) as the API returns them."""
        what = f"list nodes matching {label_selector!r}" if label_selector else "list nodes"
        query = {"labelSelector": label_selector} if label_selector else None
        return self.kube.call(what, "GET", NODES_PATH, query=query).get("items") or []

    def read_node(self, name):
        """The node called `name`, or None when it no longer exists."""
        return self.kube.call(f"read node {name}", "GET", _node_path(name), missing_ok=True)

    def patch_node(self, name, operations, dry_run=False):
        """Apply a JSON patch to a node; with `dry_run` the server validates and answers but stores nothing."""
        return self.kube.call(
            f"change the taints of node {name}",
            "PATCH",
            _node_path(name),
            operations,
            query={"dryRun": "All"} if dry_run else None,
            content_type=JSON_PATCH,
        )

    def access_review(self, verb, resource, group=""):
        """The SelfSubjectAccessReview status (allowed, denied, reason ...) for the task's credentials."""
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource}},
        }
        answer = self.kube.call(
            f"check whether the credentials may {verb} {resource}",
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            review,
        )
        return answer.get("status") or {}

    def username(self):
        """Who the API server thinks the credentials are (SelfSubjectReview), or None if it will not say."""
        try:
            answer = self.kube.call(
                "identify the credentials",
                "POST",
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
        except KubernetesError:
            return None  # only used to make messages clearer; Kubernetes < 1.28 has no such API
        return ((answer.get("status") or {}).get("userInfo") or {}).get("username")


def _node_path(name):
    return f"{NODES_PATH}/{quote(name, safe='')}"


def node_facts(node):
    """What the modules report about a node: OS, architecture, readiness, capacity, allocatable, taints."""
    metadata = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    labels = metadata.get("labels") or {}
    info = status.get("nodeInfo") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return {
        "name": metadata.get("name"),
        "os": labels.get("kubernetes.io/os") or info.get("operatingSystem") or "unknown",
        "arch": labels.get("kubernetes.io/arch") or info.get("architecture") or "unknown",
        "ready": conditions.get("Ready") == "True",
        "schedulable": not spec.get("unschedulable", False),
        "kubelet_version": info.get("kubeletVersion"),
        "capacity": dict(status.get("capacity") or {}),
        "allocatable": dict(status.get("allocatable") or {}),
        "taints": [dict(t) for t in spec.get("taints") or []],
    }
