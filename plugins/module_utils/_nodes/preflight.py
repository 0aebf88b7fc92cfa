# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""cluster_preflight's checks: what was observed on the cluster in, one verdict per check out.

Nothing here talks to the cluster, so every rule is unit-tested on plain data. Each check is a dict
{name, status, message}; status is `passed`, `failed`, `warning` (reported, never fatal) or `skipped`
(could not be evaluated because an earlier observation is missing, and that one has failed).
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import (
    QuantityError,
    format_cpu,
    format_memory,
    parse_quantity,
)

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"
REQUIRED_ARCH = "amd64"
# The taint node_taint sets by default; Linux-only workloads do not tolerate it.
OS_TAINT = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}
KEEPS_PODS_OFF = ("NoSchedule", "NoExecute")
# Checks that only warn: they are reported but never count as an unmet prerequisite.
ADVISORY = ("windows_taints",)
# Longest list of nodes a message names before it says "and N more".
MAX_LISTED = 8


def check(name, status, message):
    return {"name": name, "status": status, "message": message}


def listing(items):
    items = list(items)
    if len(items) <= MAX_LISTED:
        return "; ".join(items)
    return "; ".join(items[:MAX_LISTED]) + f"; and {len(items) - MAX_LISTED} more"


def evaluate(observed, min_cpu, min_memory):
    """All checks, in order. `observed` holds what the module read:

    version / version_error: the /version document, or why it could not be read;
    nodes / nodes_error: node_facts() of every node, or why they could not be listed;
    access / access_error: the SelfSubjectAccessReview status for creating clusterrolebindings, or why
    it could not be asked; user: the credentials' user name, when the server says.
    `min_cpu` and `min_memory` are Decimals (vCPU, bytes).
    """
    if observed.get("version_error"):
        checks = [check("api", FAILED, observed["version_error"])]
        not_checked = "not checked: the Kubernetes API did not answer"
        names = ("nodes", "linux_node", "architecture", "cluster_admin", "windows_taints")
        return checks + [check(name, SKIPPED, not_checked) for name in names]

    version = (observed.get("version") or {}).get("gitVersion") or "unknown"
    checks = [check("api", PASSED, f"the Kubernetes API answers; version {version}")]
    nodes = observed.get("nodes")
    if nodes is None:
        checks.append(check("nodes", FAILED, observed.get("nodes_error") or "the nodes could not be listed"))
        not_checked = "not checked: the nodes could not be listed"
        checks += [check(name, SKIPPED, not_checked) for name in ("linux_node", "architecture")]
    else:
        checks.append(check_nodes(nodes))
        checks.append(check_linux_node(nodes, min_cpu, min_memory))
        checks.append(check_architecture(nodes))
    checks.append(check_cluster_admin(observed.get("access"), observed.get("access_error"), observed.get("user")))
    if nodes is None:
        checks.append(check("windows_taints", SKIPPED, "not checked: the nodes could not be listed"))
    else:
        checks.append(check_windows_taints(nodes))
    return checks


def check_nodes(nodes):
    if not nodes:
        return check("nodes", FAILED, "the cluster has no nodes")
    counts = {}
    for node in nodes:
        counts[node["os"]] = counts.get(node["os"], 0) + 1
    parts = ", ".join(f"{count} {os_name}" for os_name, count in sorted(counts.items()))
    return check("nodes", PASSED, f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}: {parts}")


def _allocatable(node, resource):
    raw = node["allocatable"].get(resource, "0")
    try:
        return parse_quantity(raw), None
    except QuantityError:
        return None, f"{node['name']} reports allocatable {resource} {raw!r}, which is not a quantity"


def linux_node_verdict(node, min_cpu, min_memory):
    """(True, summary) when the node can host the Arc and Azure ML components, else (False, why not)."""
    name = node["name"]
    if node["arch"] != REQUIRED_ARCH:
        return False, f"{name} is {node['arch']}, not {REQUIRED_ARCH}"
    if not node["ready"]:
        return False, f"{name} is not Ready"
    if not node["schedulable"]:
        return False, f"{name} is cordoned (unschedulable)"
    cpu, error = _allocatable(node, "cpu")
    if error:
        return False, error
    memory, error = _allocatable(node, "memory")
    if error:
        return False, error
    has = f"{format_cpu(cpu)} and {format_memory(memory)} allocatable"
    shortfalls = []
    if cpu < min_cpu:
        shortfalls.append(format_cpu(min_cpu - cpu))
    if memory < min_memory:
        shortfalls.append(format_memory(min_memory - memory))
    if shortfalls:
        return False, f"{name} has {has}, short by {' and '.join(shortfalls)}"
    return True, f"{name} has {has}"


def check_linux_node(nodes, min_cpu, min_memory):
    need = f"{format_cpu(min_cpu)} and {format_memory(min_memory)}"
    linux = sorted((n for n in nodes if n["os"] == "linux"), key=lambda n: n["name"])
    if not linux:
        others = ", ".join(sorted(n["name"] for n in nodes)) or "none"
        return check(
            "linux_node",
            FAILED,
            f"no Linux node: Azure ML needs at least one Linux node with {need} allocatable (nodes: {others})",
        )
    verdicts = [linux_node_verdict(node, min_cpu, min_memory) for node in linux]
    fitting = [text for ok, text in verdicts if ok]
    if fitting:
        return check("linux_node", PASSED, f"{listing(fitting)} (needs {need})")
    return check(
        "linux_node",
        FAILED,
        f"no Linux node has the {need} allocatable that Azure ML needs (the Arc and Azure ML components take "
        f"about 2 vCPU and 3Gi of it): {listing(text for fits, text in verdicts if not fits)}",
    )


def check_architecture(nodes):
    other = sorted((n for n in nodes if n["arch"] != REQUIRED_ARCH), key=lambda n: n["name"])
    if not other:
        return check("architecture", PASSED, f"every node is {REQUIRED_ARCH}")
    return check(
        "architecture",
        FAILED,
        f"the Arc agents and Azure ML components run on {REQUIRED_ARCH} nodes only: "
        + listing(f"{n['name']} is {n['arch']}" for n in other),
    )


def check_cluster_admin(access, error, user):
    who = f"user {user}" if user else "the credentials in use"
    what = "create clusterrolebindings (rbac.authorization.k8s.io)"
    if error:
        return check("cluster_admin", FAILED, f"could not check whether {who} may {what}: {error}")
    if access and access.get("allowed"):
        return check("cluster_admin", PASSED, f"{who} may {what}")
    reason = (access or {}).get("reason") or (access or {}).get("evaluationError")
    return check(
        "cluster_admin",
        FAILED,
        f"{who} may not {what}{f' ({reason})' if reason else ''}: connecting a cluster to Azure Arc needs "
        "cluster-admin rights; use a kubeconfig or context of a cluster administrator",
    )


def _keeps_linux_pods_off(taint):
    return taint.get("key") == OS_TAINT["key"] and taint.get("effect") in KEEPS_PODS_OFF


def check_windows_taints(nodes):
    windows = sorted(n["name"] for n in nodes if n["os"] == "windows")
    if not windows:
        return check("windows_taints", PASSED, "no Windows nodes")
    untainted = sorted(
        n["name"] for n in nodes if n["os"] == "windows" and not any(_keeps_linux_pods_off(t) for t in n["taints"])
    )
    if not untainted:
        return check("windows_taints", PASSED, f"every Windows node carries a {OS_TAINT['key']} taint")
    return check(
        "windows_taints",
        WARNING,
        f"Windows nodes without a {OS_TAINT['key']} taint: {', '.join(untainted)}; Linux-only Azure ML pods could "
        "be scheduled there and fail. Taint them with hci.arc_ml.node_taint "
        f"({OS_TAINT['key']}={OS_TAINT['value']}:{OS_TAINT['effect']})",
    )


def unmet(checks):
    return [c for c in checks if c["status"] == FAILED]


def failure_message(checks):
    """One line naming every unmet check."""
    failed = unmet(checks)
    counted = [c for c in checks if c["name"] not in ADVISORY]
    details = "; ".join(f"[{c['name']}] {c['message']}" for c in failed)
    return f"Cluster preflight: {len(failed)} of {len(counted)} prerequisites unmet: {details}"
