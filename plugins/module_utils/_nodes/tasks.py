# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of cluster_preflight (check_cluster) and node_taint (taint_nodes), each run by an ArcMLModule."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import QuantityError, parse_quantity
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.api import RBAC_GROUP, ClusterApi, node_facts
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.preflight import (
    WARNING,
    evaluate,
    failure_message,
    unmet,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.taints import (
    change_taints,
    describe_taint,
    normalize_taints,
)

# (state, check mode) -> how node_taint's message starts.
TAINT_MESSAGES = {
    ("present", False): "Tainted",
    ("present", True): "Would taint",
    ("absent", False): "Removed the taints from",
    ("absent", True): "Would remove the taints from",
}


# cluster_preflight


def threshold(module, name):
    value = module.params[name]
    try:
        amount = parse_quantity(value)
    except QuantityError as exc:
        raise ArcMLError(f"{name}: {exc}") from None
    if amount < 0:
        raise ArcMLError(f"{name} must not be negative, got {value!r}")
    return amount


def observe(api):
    """Read what the checks need; a failed read is recorded for its check, not raised."""
    observed = {}
    try:
        observed["version"] = api.version()
    except KubernetesError as exc:
        observed["version_error"] = exc.message
        return observed
    try:
        observed["nodes"] = sorted((node_facts(n) for n in api.list_nodes()), key=lambda n: n["name"] or "")
    except KubernetesError as exc:
        observed["nodes_error"] = exc.message
    try:
        observed["access"] = api.access_review("create", "clusterrolebindings", RBAC_GROUP)
    except KubernetesError as exc:
        observed["access_error"] = exc.message
    if not (observed.get("access") or {}).get("allowed"):
        observed["user"] = api.username()  # only to say who lacks the rights
    return observed


def check_cluster(module):
    """cluster_preflight: observe the cluster, evaluate every check, fail or warn on the unmet ones."""
    min_cpu = threshold(module, "min_linux_cpu")
    min_memory = threshold(module, "min_linux_memory")
    observed = observe(ClusterApi(module.kube_client()))

    checks = evaluate(observed, min_cpu, min_memory)
    failed = unmet(checks)
    result = module.result
    if observed.get("version"):
        result["kubernetes_version"] = observed["version"].get("gitVersion")
    if observed.get("nodes") is not None:
        result["nodes"] = observed["nodes"]
    result["checks"] = checks
    result["unmet"] = [c["name"] for c in failed]
    result["passed"] = not failed

    for item in checks:
        if item["status"] == WARNING:
            module.warn(item["message"])
    if failed and module.params["fail_on_unmet"]:
        module.fail(failure_message(checks))
    for item in failed:
        module.warn(f"Preflight check {item['name']} unmet: {item['message']}")


# node_taint


def taint_delta(before, after):
    """(added, removed) in kubectl notation."""
    before_names = [describe_taint(t) for t in before]
    after_names = [describe_taint(t) for t in after]
    return [t for t in after_names if t not in before_names], [t for t in before_names if t not in after_names]


def taint_action(name, added, removed):
    """The `actions` line of one node's change, such as "taint node win-1: add key=value:NoSchedule"."""
    changes = [f"add {', '.join(added)}"] if added else []
    changes += [f"remove {', '.join(removed)}"] if removed else []
    return f"taint node {name}: {'; '.join(changes) or 'reorder its taints'}"


def taint_nodes(module):
    """node_taint: bring the taints of every node matching the label selector to the requested state."""
    wanted = normalize_taints(module.params["taints"])
    if not wanted:
        raise ArcMLError("taints is empty: give at least one taint to add or remove")
    state = module.params["state"]
    selector = module.params["label_selector"]
    api = ClusterApi(module.kube_client())

    nodes = sorted(api.list_nodes(selector), key=lambda n: n["metadata"]["name"])
    scope = f"nodes matching {selector}" if selector else "nodes"
    result = module.result
    result.update(matched_nodes=[n["metadata"]["name"] for n in nodes], changed_nodes=[])
    if module.diff_mode:
        result["diff"] = []
    if not nodes:
        result["msg"] = f"No node matches the label selector {selector!r}: nothing to change."
        return

    for node in nodes:
        name = node["metadata"]["name"]
        outcome = change_taints(api, node, wanted, state, dry_run=module.check_mode)
        if outcome is None:
            module.warn(f"Node {name} was deleted while this task ran; it was skipped.")
            continue
        before, after, changed = outcome
        if not changed:
            continue
        added, removed = taint_delta(before, after)
        result["changed_nodes"].append({"name": name, "added": added, "removed": removed, "taints": after})
        module.act(taint_action(name, added, removed))
        if module.diff_mode:
            result["diff"].append(
                {
                    "before_header": f"node/{name} taints",
                    "after_header": f"node/{name} taints",
                    "before": {"taints": before},
                    "after": {"taints": after},
                }
            )

    count = len(result["changed_nodes"])
    if count:
        result["msg"] = f"{TAINT_MESSAGES[(state, module.check_mode)]} {count} of {len(nodes)} {scope}."
    else:
        have = "already carry" if state == "present" else "carry none of"
        result["msg"] = f"All {len(nodes)} {scope} {have} the taints: nothing to change."
