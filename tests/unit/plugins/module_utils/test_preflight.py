"""cluster_preflight's checks on plain observations: every verdict and every message."""

from decimal import Decimal

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.preflight import (
    check_architecture,
    check_cluster_admin,
    check_linux_node,
    check_windows_taints,
    evaluate,
    failure_message,
    unmet,
)

GI = 2**30
CPU, MEMORY = Decimal(4), Decimal(8 * GI)
OS_TAINT = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}
RBAC = "clusterrolebindings (rbac.authorization.k8s.io)"
NAMES = ["api", "nodes", "linux_node", "architecture", "cluster_admin", "windows_taints"]


def node(name, os="linux", cpu="8", memory="32Gi", arch="amd64", ready=True, schedulable=True, taints=()):
    return {
        "name": name,
        "os": os,
        "arch": arch,
        "ready": ready,
        "schedulable": schedulable,
        "kubelet_version": "v1.31.8",
        "capacity": {"cpu": cpu, "memory": memory},
        "allocatable": {"cpu": cpu, "memory": memory},
        "taints": list(taints),
    }


def observed(nodes, allowed=True, **extra):
    return {"version": {"gitVersion": "v1.31.8"}, "nodes": nodes, "access": {"allowed": allowed}, **extra}


def by_name(checks):
    return {c["name"]: (c["status"], c["message"]) for c in checks}


def test_a_good_cluster_passes_every_check():
    checks = evaluate(observed([node("lin-1"), node("win-1", os="windows", taints=[OS_TAINT])]), CPU, MEMORY)
    assert [c["name"] for c in checks] == NAMES
    assert by_name(checks) == {
        "api": ("passed", "the Kubernetes API answers; version v1.31.8"),
        "nodes": ("passed", "2 nodes: 1 linux, 1 windows"),
        "linux_node": ("passed", "lin-1 has 8 vCPU and 32Gi allocatable (needs 4 vCPU and 8Gi)"),
        "architecture": ("passed", "every node is amd64"),
        "cluster_admin": (
            "passed",
            "the credentials in use may create clusterrolebindings (rbac.authorization.k8s.io)",
        ),
        "windows_taints": ("passed", "every Windows node carries a node.kubernetes.io/os taint"),
    }
    assert unmet(checks) == []


def test_a_too_small_node_is_named_with_the_need_and_the_shortfall():
    status, message = by_name([check_linux_node([node("small-1", cpu="2", memory="4Gi")], CPU, MEMORY)])["linux_node"]
    assert status == "failed"
    assert message == (
        "no Linux node has the 4 vCPU and 8Gi allocatable that Azure ML needs (the Arc and Azure ML components take "
        "about 2 vCPU and 3Gi of it): small-1 has 2 vCPU and 4Gi allocatable, short by 2 vCPU and 4Gi"
    )


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"cpu": "3500m"}, "lin-1 has 3.5 vCPU and 32Gi allocatable, short by 500m vCPU"),
        ({"memory": "7900Mi"}, "lin-1 has 8 vCPU and 7.71Gi allocatable, short by 292Mi"),
        ({"memory": "8G"}, "lin-1 has 8 vCPU and 7.45Gi allocatable, short by 562.61Mi"),
        ({"arch": "arm64"}, "lin-1 is arm64, not amd64"),
        ({"ready": False}, "lin-1 is not Ready"),
        ({"schedulable": False}, "lin-1 is cordoned (unschedulable)"),
        ({"cpu": "lots"}, "lin-1 reports allocatable cpu 'lots', which is not a quantity"),
    ],
)
def test_every_reason_a_linux_node_does_not_qualify(kwargs, why):
    status, message = by_name([check_linux_node([node("lin-1", **kwargs)], CPU, MEMORY)])["linux_node"]
    assert status == "failed"
    assert message.endswith(": " + why)


def test_one_qualifying_linux_node_is_enough_and_the_exact_minimum_qualifies():
    nodes = [node("big", cpu="4", memory="8Gi"), node("tiny", cpu="1", memory="1Gi"), node("w", os="windows")]
    assert by_name([check_linux_node(nodes, CPU, MEMORY)])["linux_node"] == (
        "passed",
        "big has 4 vCPU and 8Gi allocatable (needs 4 vCPU and 8Gi)",
    )


def test_a_cluster_of_windows_nodes_only_has_no_linux_node():
    status, message = by_name([check_linux_node([node("w2", os="windows"), node("w1", os="windows")], CPU, MEMORY)])[
        "linux_node"
    ]
    assert status == "failed"
    assert message == (
        "no Linux node: Azure ML needs at least one Linux node with 4 vCPU and 8Gi allocatable (nodes: w1, w2)"
    )


def test_long_node_lists_are_cut_short():
    nodes = [node(f"small-{i:02}", cpu="1", memory="1Gi") for i in range(12)]
    message = check_linux_node(nodes, CPU, MEMORY)["message"]
    assert "small-07 has" in message and "small-08" not in message
    assert message.endswith("; and 4 more")


def test_architecture_names_every_other_node():
    check = check_architecture([node("a", arch="arm64"), node("b"), node("c", os="windows", arch="unknown")])
    assert check == {
        "name": "architecture",
        "status": "failed",
        "message": "the Arc agents and Azure ML components run on amd64 nodes only: a is arm64; c is unknown",
    }


@pytest.mark.parametrize(
    ("access", "error", "user", "message"),
    [
        ({"allowed": False}, None, "viewer", f"user viewer may not create {RBAC}: connecting a cluster to "
         "Azure Arc needs cluster-admin rights; use a kubeconfig or context of a cluster administrator"),
        ({"allowed": False, "reason": "no RBAC policy matched"}, None, None, "the credentials in use may not create "
         "clusterrolebindings (rbac.authorization.k8s.io) (no RBAC policy matched): connecting"),
        (None, "Cannot check whether ...: boom (HTTP 500)", "viewer", "could not check whether user viewer may create "
         "clusterrolebindings (rbac.authorization.k8s.io): Cannot check whether ...: boom (HTTP 500)"),
    ],
)  # fmt: skip
def test_cluster_admin_failures_say_who_and_what_to_do(access, error, user, message):
    check = check_cluster_admin(access, error, user)
    assert check["status"] == "failed"
    assert check["message"].startswith(message)


@pytest.mark.parametrize(
    ("taints", "status"),
    [
        ([OS_TAINT], "passed"),
        ([dict(OS_TAINT, effect="NoExecute")], "passed"),
        ([dict(OS_TAINT, value="anything")], "passed"),
        ([dict(OS_TAINT, effect="PreferNoSchedule")], "warning"),
        ([{"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}], "warning"),
        ([], "warning"),
    ],
)
def test_windows_nodes_need_an_os_taint_that_keeps_pods_off(taints, status):
    check = check_windows_taints([node("win-1", os="windows", taints=taints), node("lin-1")])
    assert check["status"] == status
    if status == "warning":
        assert check["message"].startswith("Windows nodes without a node.kubernetes.io/os taint: win-1; ")
        assert "hci.arc_ml.node_taint" in check["message"]


def test_no_windows_node_is_fine():
    assert check_windows_taints([node("lin-1")]) == {
        "name": "windows_taints",
        "status": "passed",
        "message": "no Windows nodes",
    }


def test_an_api_that_does_not_answer_skips_everything_else():
    checks = evaluate({"version_error": "Cannot read the Kubernetes version: refused"}, CPU, MEMORY)
    assert by_name(checks)["api"] == ("failed", "Cannot read the Kubernetes version: refused")
    assert {c["name"]: c["status"] for c in checks[1:]} == dict.fromkeys(NAMES[1:], "skipped")
    assert failure_message(checks) == (
        "Cluster preflight: 1 of 5 prerequisites unmet: [api] Cannot read the Kubernetes version: refused"
    )


def test_nodes_that_cannot_be_listed_fail_once_and_skip_what_depends_on_them():
    checks = evaluate(
        {"version": {"gitVersion": "v1.31.8"}, "nodes_error": "Cannot list nodes: forbidden (HTTP 403)",
         "access": {"allowed": False}, "user": "viewer"},
        CPU,
        MEMORY,
    )  # fmt: skip
    statuses = {c["name"]: c["status"] for c in checks}
    assert statuses == {
        "api": "passed",
        "nodes": "failed",
        "linux_node": "skipped",
        "architecture": "skipped",
        "cluster_admin": "failed",
        "windows_taints": "skipped",
    }
    assert failure_message(checks) == (
        "Cluster preflight: 2 of 5 prerequisites unmet: [nodes] Cannot list nodes: forbidden (HTTP 403); "
        "[cluster_admin] user viewer may not create clusterrolebindings (rbac.authorization.k8s.io): connecting a "
        "cluster to Azure Arc needs cluster-admin rights; use a kubeconfig or context of a cluster administrator"
    )


def test_every_unmet_check_is_listed_at_once_and_warnings_are_not_among_them():
    nodes = [node("small-1", cpu="2", memory="4Gi"), node("arm-1", arch="arm64"), node("win-1", os="windows")]
    checks = evaluate(observed(nodes, allowed=False, user="viewer"), CPU, MEMORY)
    assert [c["name"] for c in unmet(checks)] == ["linux_node", "architecture", "cluster_admin"]
    assert by_name(checks)["windows_taints"][0] == "warning"
    message = failure_message(checks)
    assert message.startswith("Cluster preflight: 3 of 5 prerequisites unmet: [linux_node] ")
    assert "arm-1 is arm64, not amd64; small-1 has 2 vCPU and 4Gi allocatable, short by 2 vCPU and 4Gi" in message
    assert "[architecture] " in message and "[cluster_admin] user viewer may not" in message
    assert "windows_taints" not in message


def test_an_empty_cluster_fails_the_node_checks():
    checks = evaluate(observed([]), CPU, MEMORY)
    assert by_name(checks)["nodes"] == ("failed", "the cluster has no nodes")
    assert by_name(checks)["linux_node"][0] == "failed"
