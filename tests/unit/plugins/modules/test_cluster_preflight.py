"""hci.arc_ml.cluster_preflight with the Kubernetes API replaced: thresholds, facts, fail_on_unmet, calls made."""

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes import tasks as _nodes_tasks
from ansible_collections.hci.arc_ml.plugins.modules import cluster_preflight
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module


def api_node(name, os_name="linux", cpu="8", memory="32Gi", arch="amd64", taints=None):
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/os": os_name, "kubernetes.io/arch": arch}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.31.8"},
        },
    }


class FakeCluster:
    def __init__(self, nodes, allowed=True, version_error=None, nodes_error=None):
        self.nodes = nodes
        self.allowed = allowed
        self.version_error = version_error
        self.nodes_error = nodes_error
        self.calls = []

    def version(self):
        self.calls.append("version")
        if self.version_error:
            raise KubernetesError(self.version_error)
        return {"gitVersion": "v1.31.8", "major": "1", "minor": "31"}

    def list_nodes(self, label_selector=None):
        self.calls.append("list_nodes")
        if self.nodes_error:
            raise KubernetesError(self.nodes_error, 403)
        return self.nodes

    def access_review(self, verb, resource, group=""):
        self.calls.append(f"access_review {verb} {group}/{resource}")
        return {"allowed": self.allowed}

    def username(self):
        self.calls.append("username")
        return "viewer"


@pytest.fixture
def install(monkeypatch):
    def install_cluster(fake):
        monkeypatch.setattr(ArcMLModule, "kube_client", lambda self: object())
        monkeypatch.setattr(_nodes_tasks, "ClusterApi", lambda api_client: fake)
        return fake

    return install_cluster


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Ansible keeps warnings in a process-wide registry; each test starts with an empty one."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})


def run(capsys, **args):
    return run_module(capsys, cluster_preflight, args)


def warnings(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def test_a_good_cluster_passes_with_facts_and_three_reads(install, capsys):
    cluster = install(FakeCluster([api_node("lin-1"), api_node("win-1", "windows")]))

    result = run(capsys, _ansible_check_mode=True)

    assert not result.get("failed")
    assert result["changed"] is False and "actions" not in result
    assert result["passed"] is True and result["unmet"] == []
    assert result["kubernetes_version"] == "v1.31.8"
    assert [n["name"] for n in result["nodes"]] == ["lin-1", "win-1"]
    assert result["nodes"][0]["allocatable"] == {"cpu": "8", "memory": "32Gi", "pods": "110"}
    assert cluster.calls == [
        "version",
        "list_nodes",
        "access_review create rbac.authorization.k8s.io/clusterrolebindings",
    ]
    assert warnings(result) == [
        "Windows nodes without a node.kubernetes.io/os taint: win-1; Linux-only Azure ML pods could be scheduled there "
        "and fail. Taint them with hci.arc_ml.node_taint (node.kubernetes.io/os=windows:NoSchedule)"
    ]


def test_unmet_checks_fail_in_one_line_and_keep_the_facts(install, capsys):
    cluster = install(FakeCluster([api_node("small-1", cpu="2", memory="4Gi")], allowed=False))

    result = run(capsys)

    assert result["failed"] is True
    assert result["msg"].startswith(
        "Cluster preflight: 2 of 5 prerequisites unmet: [linux_node] no Linux node has the 4 vCPU and 8Gi allocatable"
    )
    assert "small-1 has 2 vCPU and 4Gi allocatable, short by 2 vCPU and 4Gi" in result["msg"]
    assert "[cluster_admin] user viewer may not create clusterrolebindings" in result["msg"]
    assert result["unmet"] == ["linux_node", "cluster_admin"]
    assert result["nodes"][0]["name"] == "small-1"
    assert cluster.calls[-1] == "username"


def test_fail_on_unmet_false_reports_and_warns(install, capsys):
    install(FakeCluster([api_node("small-1", cpu="2", memory="4Gi")]))

    result = run(capsys, fail_on_unmet=False)

    assert not result.get("failed")
    assert result["passed"] is False
    assert result["unmet"] == ["linux_node"]
    assert warnings(result)[0].startswith("Preflight check linux_node unmet: no Linux node has the 4 vCPU and 8Gi")


@pytest.mark.parametrize(
    ("cpu", "memory", "passes"),
    [(2, "4Gi", True), ("2000m", 4294967296, True), (2.5, "4Gi", False), (2, "4097Mi", False), (0, 0, True)],
)
def test_thresholds_accept_numbers_and_quantities(install, capsys, cpu, memory, passes):
    install(FakeCluster([api_node("small-1", cpu="2", memory="4Gi")]))

    result = run(capsys, min_linux_cpu=cpu, min_linux_memory=memory, fail_on_unmet=False)

    assert result["passed"] is passes
    assert not [w for w in warnings(result) if "was converted" in w]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_linux_memory": "8GB"}, "min_linux_memory: '8GB' is not a Kubernetes quantity"),
        ({"min_linux_cpu": "-1"}, "min_linux_cpu must not be negative, got '-1'"),
        ({"min_linux_cpu": [4]}, "min_linux_cpu: [4] is not a Kubernetes quantity"),
    ],
)
def test_bad_thresholds_fail_before_any_call(install, capsys, args, message):
    cluster = install(FakeCluster([]))
    result = run(capsys, **args)
    assert result["failed"] is True
    assert result["msg"].startswith(message)
    assert cluster.calls == []


def test_an_api_that_does_not_answer_is_the_only_read(install, capsys):
    error = "Cannot read the Kubernetes version: the Kubernetes API at https://h did not answer: refused"
    cluster = install(FakeCluster([], version_error=error))

    result = run(capsys)

    assert result["failed"] is True
    assert result["msg"] == f"Cluster preflight: 1 of 5 prerequisites unmet: [api] {error}"
    assert cluster.calls == ["version"]
    assert "nodes" not in result and "kubernetes_version" not in result


def test_a_kubeconfig_that_does_not_exist_is_a_task_error(capsys, tmp_path):
    result = run(capsys, kubeconfig=str(tmp_path / "missing.yaml"))
    assert result["failed"] is True
    assert result["msg"] == f"kubeconfig {tmp_path / 'missing.yaml'} does not exist or is not a file."
