"""Nodes of the dedicated clusters and small helpers shared by the cluster module tests."""

import json

FOREIGN_TAINT = {"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}
OS_TAINT = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}

MIXED_NODES = [
    {"name": "mixed-lin-1", "os": "linux", "cpu": "8", "memory": "32Gi"},
    {"name": "mixed-lin-2", "os": "linux", "cpu": "2", "memory": "4Gi"},
    {"name": "mixed-win-1", "os": "windows", "cpu": "4", "memory": "16Gi", "taints": [FOREIGN_TAINT]},
    {"name": "mixed-win-2", "os": "windows", "cpu": "4", "memory": "16Gi"},
]
SMALL_NODES = [
    {"name": "small-1", "os": "linux", "cpu": "2", "memory": "4Gi"},
    {"name": "small-arm-1", "os": "linux", "arch": "arm64", "cpu": "16", "memory": "64Gi"},
]
# Can read nodes but holds no other right: only the cluster-admin check can fail for it.
NODE_READER_RBAC = [
    (
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        {
            "metadata": {"name": "it-node-reader"},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}],
        },
    ),
    (
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        {
            "metadata": {"name": "it-node-reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "it-node-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "node-reader"}],
        },
    ),
]


def task(module, **options):
    return {"name": f"Run {module}", f"hci.arc_ml.{module}": options}


def dump(run) -> str:
    return json.dumps(run.results, indent=1) + "\n" + run.output[-4000:]
