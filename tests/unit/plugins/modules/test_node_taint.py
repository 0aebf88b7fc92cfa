"""hci.arc_ml.node_taint with the Kubernetes API replaced by an in-memory cluster: options, results, diff."""

import copy

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes import tasks as _nodes_tasks
from ansible_collections.hci.arc_ml.plugins.modules import node_taint
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

OURS = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}
FOREIGN = {"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}


class FakeCluster:
    """Nodes in memory, behind the ClusterApi calls node_taint makes."""

    def __init__(self, nodes):
        self.nodes = {}
        for name, os_name, taints in nodes:
            self.nodes[name] = {
                "metadata": {"name": name, "resourceVersion": "1", "labels": {"kubernetes.io/os": os_name}},
                "spec": {"taints": list(taints)} if taints else {},
            }
        self.patches = []
        self.selectors = []

    def list_nodes(self, label_selector=None):
        self.selectors.append(label_selector)
        if label_selector == "bad((":
            raise KubernetesError("Cannot list nodes matching 'bad((': unable to parse requirement (HTTP 400)", 400)
        key, value = (label_selector or "=").split("=", 1)
        return [copy.deepcopy(n) for n in self.nodes.values() if not key or n["metadata"]["labels"].get(key) == value]

    def read_node(self, name):
        return copy.deepcopy(self.nodes.get(name))

    def patch_node(self, name, operations, dry_run=False):
        self.patches.append((name, dry_run))
        node = copy.deepcopy(self.nodes[name])
        guard, change = operations
        assert guard == {
            "op": "test",
            "path": "/metadata/resourceVersion",
            "value": node["metadata"]["resourceVersion"],
        }
        node["spec"] = {"taints": change["value"]} if change["op"] == "add" else {}
        if not dry_run:
            node["metadata"]["resourceVersion"] = str(int(node["metadata"]["resourceVersion"]) + 1)
            self.nodes[name] = node
        return copy.deepcopy(node)

    def taints(self):
        return {name: n["spec"].get("taints", []) for name, n in self.nodes.items()}


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster(
        [("lin-1", "linux", []), ("win-1", "windows", [FOREIGN]), ("win-2", "windows", [])],
    )
    monkeypatch.setattr(ArcMLModule, "kube_client", lambda self: object())
    monkeypatch.setattr(_nodes_tasks, "ClusterApi", lambda api_client: fake)
    return fake


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Ansible keeps warnings in a process-wide registry; each test starts with an empty one."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})


def run(capsys, **args):
    return run_module(capsys, node_taint, args)


def warnings(result):
    """The warning texts (ansible-core 2.19 returns each as a WarningSummary with an event)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def test_defaults_taint_the_windows_nodes_only(cluster, capsys):
    result = run(capsys)

    assert cluster.selectors == ["kubernetes.io/os=windows"]
    assert result["changed"] is True
    assert result["matched_nodes"] == ["win-1", "win-2"]
    assert result["changed_nodes"] == [
        {"name": "win-1", "added": ["node.kubernetes.io/os=windows:NoSchedule"], "removed": [],
         "taints": [FOREIGN, OURS]},
        {"name": "win-2", "added": ["node.kubernetes.io/os=windows:NoSchedule"], "removed": [], "taints": [OURS]},
    ]  # fmt: skip
    assert result["msg"] == "Tainted 2 of 2 nodes matching kubernetes.io/os=windows."
    assert result["actions"] == [
        "taint node win-1: add node.kubernetes.io/os=windows:NoSchedule",
        "taint node win-2: add node.kubernetes.io/os=windows:NoSchedule",
    ]
    assert cluster.taints() == {"lin-1": [], "win-1": [FOREIGN, OURS], "win-2": [OURS]}
    assert "diff" not in result


def test_a_second_run_changes_nothing(cluster, capsys):
    run(capsys)
    cluster.patches.clear()

    result = run(capsys)

    assert result["changed"] is False
    assert result["changed_nodes"] == [] and result["actions"] == []
    assert cluster.patches == []
    assert result["msg"] == "All 2 nodes matching kubernetes.io/os=windows already carry the taints: nothing to change."


def test_check_mode_with_diff_predicts_per_node_and_stores_nothing(cluster, capsys):
    result = run(capsys, _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is True
    assert cluster.patches == [("win-1", True), ("win-2", True)]
    assert cluster.taints() == {"lin-1": [], "win-1": [FOREIGN], "win-2": []}
    assert result["msg"] == "Would taint 2 of 2 nodes matching kubernetes.io/os=windows."
    assert len(result["actions"]) == 2 and result["actions"][0].startswith("taint node win-1: add ")
    assert result["diff"] == [
        {"before_header": "node/win-1 taints", "after_header": "node/win-1 taints",
         "before": {"taints": [FOREIGN]}, "after": {"taints": [FOREIGN, OURS]}},
        {"before_header": "node/win-2 taints", "after_header": "node/win-2 taints",
         "before": {"taints": []}, "after": {"taints": [OURS]}},
    ]  # fmt: skip


def test_absent_removes_ours_and_keeps_the_rest(cluster, capsys):
    cluster.nodes["win-1"]["spec"]["taints"] = [FOREIGN, OURS]
    cluster.nodes["win-2"]["spec"]["taints"] = [OURS]

    result = run(capsys, state="absent", _ansible_check_mode=True)
    assert result["msg"] == "Would remove the taints from 2 of 2 nodes matching kubernetes.io/os=windows."

    result = run(capsys, state="absent")
    assert result["msg"] == "Removed the taints from 2 of 2 nodes matching kubernetes.io/os=windows."
    assert [n["removed"] for n in result["changed_nodes"]] == [["node.kubernetes.io/os=windows:NoSchedule"]] * 2
    assert result["actions"] == [
        "taint node win-1: remove node.kubernetes.io/os=windows:NoSchedule",
        "taint node win-2: remove node.kubernetes.io/os=windows:NoSchedule",
    ]
    assert cluster.taints() == {"lin-1": [], "win-1": [FOREIGN], "win-2": []}

    again = run(capsys, state="absent")
    assert again["changed"] is False
    assert again["msg"] == "All 2 nodes matching kubernetes.io/os=windows carry none of the taints: nothing to change."


def test_no_matching_node_is_reported_not_failed(cluster, capsys):
    result = run(capsys, label_selector="kubernetes.io/os=plan9")

    assert not result.get("failed")
    assert result["changed"] is False
    assert result["matched_nodes"] == [] and result["changed_nodes"] == []
    assert result["msg"] == "No node matches the label selector 'kubernetes.io/os=plan9': nothing to change."


def test_an_empty_selector_means_every_node(cluster, capsys):
    result = run(capsys, label_selector="", taints=[{"key": "example.com/drain"}])
    assert result["matched_nodes"] == ["lin-1", "win-1", "win-2"]
    assert result["msg"] == "Tainted 3 of 3 nodes."
    assert cluster.taints()["lin-1"] == [{"key": "example.com/drain", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"taints": []}, "taints is empty: give at least one taint to add or remove"),
        ({"taints": [{"key": "a b"}]}, "Taint key 'a b' is not valid"),
        ({"taints": [{"key": "a", "effect": "Sometimes"}]}, "value of effect must be one of"),
        ({"taints": [{"value": "x"}]}, "missing required arguments: key"),
        ({"label_selector": "bad(("}, "Cannot list nodes matching 'bad((': unable to parse requirement (HTTP 400)"),
    ],
)
def test_bad_input_fails_with_one_line_and_touches_nothing(cluster, capsys, args, message):
    result = run(capsys, **args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "\n" not in result["msg"]
    assert cluster.patches == []


def test_a_failure_on_a_later_node_still_reports_the_earlier_change(cluster, capsys, monkeypatch):
    original = cluster.patch_node

    def fail_on_win_2(name, operations, dry_run=False):
        if name == "win-2":
            raise KubernetesError("Cannot change the taints of node win-2: forbidden (HTTP 403)", 403)
        return original(name, operations, dry_run)

    monkeypatch.setattr(cluster, "patch_node", fail_on_win_2)
    result = run(capsys)

    assert result["failed"] is True
    assert result["msg"] == "Cannot change the taints of node win-2: forbidden (HTTP 403)"
    assert result["changed"] is True
    assert [n["name"] for n in result["changed_nodes"]] == ["win-1"]
    assert result["actions"] == ["taint node win-1: add node.kubernetes.io/os=windows:NoSchedule"]


def test_a_node_deleted_while_running_is_a_warning(cluster, capsys, monkeypatch):
    def deleted(name, operations, dry_run=False):
        del cluster.nodes[name]
        raise KubernetesError("not found", 404)

    monkeypatch.setattr(cluster, "patch_node", deleted)
    result = run(capsys, label_selector="kubernetes.io/os=linux")

    assert result["changed"] is False
    assert warnings(result) == ["Node lin-1 was deleted while this task ran; it was skipped."]
