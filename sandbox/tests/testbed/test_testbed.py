"""The Kubernetes testbed behaves like a real cluster where the collection looks at it."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from sandbox.k8s import pki
from sandbox.k8s.api import KubeApi, KubeApiError
from sandbox.k8s.controlplane import _pid_alive
from sandbox.k8s.nodes import register_nodes

pytestmark = pytest.mark.testbed

CHART = Path(__file__).parent / "charts" / "demo"

SITES = {
    "alpha": [
        {"name": "alpha-linux-1", "cpu": "8", "memory": "32Gi", "labels": {"topology.kubernetes.io/zone": "a"}},
        {
            "name": "alpha-win-1",
            "os": "windows",
            "cpu": "4",
            "memory": "16Gi",
            "taints": [{"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}],
        },
    ],
    "beta": [{"name": "beta-linux-1", "cpu": "4", "memory": "8Gi"}],
    "gamma": [{"name": "gamma-arm-1", "arch": "arm64", "cpu": "2", "memory": "4Gi"}],
}


@pytest.fixture(scope="module")
def clusters(start_cluster):
    started = {name: start_cluster(name) for name in SITES}
    for name, cluster in started.items():
        register_nodes(cluster.api(), SITES[name])
    return started


def kubectl(cluster, env, *args):
    return subprocess.run(
        ["kubectl", f"--kubeconfig={cluster.kubeconfig}", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def helm(cluster, env, *args, check=True):
    return subprocess.run(
        ["helm", f"--kubeconfig={cluster.kubeconfig}", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_three_clusters_answer_on_distinct_ports(clusters):
    servers = {c.server for c in clusters.values()}
    assert len(servers) == 3
    for cluster in clusters.values():
        assert cluster.api().get("/version")["gitVersion"].startswith("v1.")
        assert cluster.api().request("GET", "/readyz") == "ok"


def test_nodes_show_requested_labels_capacity_and_taints(clusters, testbed_env):
    listed = json.loads(kubectl(clusters["alpha"], testbed_env, "get", "nodes", "-o", "json"))["items"]
    by_name = {n["metadata"]["name"]: n for n in listed}
    assert set(by_name) == {"alpha-linux-1", "alpha-win-1"}

    linux, windows = by_name["alpha-linux-1"], by_name["alpha-win-1"]
    assert linux["metadata"]["labels"]["kubernetes.io/os"] == "linux"
    assert linux["metadata"]["labels"]["topology.kubernetes.io/zone"] == "a"
    assert linux["status"]["allocatable"]["cpu"] == "8"
    assert linux["status"]["capacity"]["memory"] == "32Gi"
    assert windows["metadata"]["labels"]["kubernetes.io/os"] == "windows"
    assert windows["spec"]["taints"] == [{"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}]
    ready = {c["type"]: c["status"] for c in windows["status"]["conditions"]}
    assert ready["Ready"] == "True"

    gamma = clusters["gamma"].api().get("/api/v1/nodes/gamma-arm-1")
    assert gamma["metadata"]["labels"]["kubernetes.io/arch"] == "arm64"
    table = kubectl(clusters["alpha"], testbed_env, "get", "nodes")
    assert "alpha-win-1" in table and "Ready" in table


def test_merge_patch_replaces_taints_but_json_patch_appends(clusters):
    """The real server's semantics the taint module must respect.

    `spec.taints` has no patch merge key, so a merge patch (and a strategic
    merge patch) replaces the whole list and would drop taints we do not own;
    a JSON patch guarded by a resourceVersion test appends safely.
    """
    api = clusters["beta"].api()
    path = "/api/v1/nodes/beta-linux-1"
    existing = {"key": "example.com/owner", "value": "someone-else", "effect": "NoSchedule"}
    ours = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}

    api.patch(path, {"spec": {"taints": [existing]}})
    api.patch(path, {"spec": {"taints": [ours]}}, "application/strategic-merge-patch+json")
    assert api.get(path)["spec"]["taints"] == [ours], "strategic merge must replace the list"

    api.patch(path, {"spec": {"taints": [existing]}})
    version = api.get(path)["metadata"]["resourceVersion"]
    api.patch(
        path,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": version},
            {"op": "add", "path": "/spec/taints/-", "value": ours},
        ],
        "application/json-patch+json",
    )
    assert api.get(path)["spec"]["taints"] == [existing, ours]

    with pytest.raises(KubeApiError) as stale:
        api.patch(
            path,
            [
                {"op": "test", "path": "/metadata/resourceVersion", "value": version},
                {"op": "add", "path": "/spec/taints/-", "value": ours},
            ],
            "application/json-patch+json",
        )
    assert stale.value.status in (409, 422), "a stale resourceVersion must be refused"
    assert api.get(path)["spec"]["taints"] == [existing, ours]


def test_helm_install_shows_deployed_and_uninstall_removes(clusters, testbed_env):
    cluster = clusters["alpha"]
    api = cluster.api()
    out = helm(
        cluster,
        testbed_env,
        "upgrade",
        "--install",
        "demo",
        str(CHART),
        "--namespace",
        "demo-ns",
        "--create-namespace",
        "--set",
        "greeting=hi",
        "-o",
        "json",
    )
    release = json.loads(out.stdout)
    assert release["info"]["status"] == "deployed"
    config = api.get("/api/v1/namespaces/demo-ns/configmaps/demo-config")
    assert config["data"]["greeting"] == "hi"
    assert config["data"]["kubeVersion"] == api.get("/version")["gitVersion"]
    assert api.exists("/api/v1/namespaces/demo-ns/secrets/demo-secret")

    listed = json.loads(helm(cluster, testbed_env, "list", "-n", "demo-ns", "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in listed] == [("demo", "deployed")]

    helm(cluster, testbed_env, "uninstall", "demo", "-n", "demo-ns")
    assert not api.exists("/api/v1/namespaces/demo-ns/configmaps/demo-config")
    assert not api.exists("/api/v1/namespaces/demo-ns/secrets/demo-secret")
    assert json.loads(helm(cluster, testbed_env, "list", "-n", "demo-ns", "-o", "json").stdout) == []


def test_namespace_deletion_completes(clusters):
    api = clusters["gamma"].api()
    api.post("/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    api.post("/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "c"}, "data": {"k": "v"}})
    api.delete("/api/v1/namespaces/doomed")
    deadline = time.monotonic() + 60
    while api.exists("/api/v1/namespaces/doomed"):
        assert time.monotonic() < deadline, "namespace stuck in Terminating: is the namespace controller running?"
        time.sleep(0.2)


def test_a_user_without_rights_is_forbidden(clusters):
    cluster = clusters["beta"]
    kubeconfig = cluster.user_kubeconfig("viewer")
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    ca = pki.KeyPair(cluster.pki("ca.crt"), cluster.pki("ca.key"))
    pair = pki.client_pair(ca, "viewer")
    api = KubeApi(cluster.server, ca.cert_pem, pair.cert_pem, pair.key_pem)
    with pytest.raises(KubeApiError) as denied:
        api.get("/api/v1/nodes")
    assert denied.value.status == 403


def test_stopping_leaves_no_process(start_cluster):
    cluster = start_cluster("ephemeral")
    pids = list(cluster.pids().values())
    assert len(pids) == 3 and all(_pid_alive(p) for p in pids)
    cluster.stop()
    assert not any(_pid_alive(p) for p in pids)
    assert not any(str(cluster.dir) in _cmdline(p) for p in _all_pids())


def test_restart_on_the_same_directory_keeps_state(start_cluster, testbed_bin):
    from sandbox.k8s.controlplane import start_cluster as start

    cluster = start_cluster("durable")
    cluster.api().post("/api/v1/namespaces", {"metadata": {"name": "kept"}})
    cluster.stop()
    restarted = start("durable", cluster.dir, testbed_bin)
    try:
        assert restarted.server == cluster.server
        assert restarted.api().exists("/api/v1/namespaces/kept")
    finally:
        restarted.stop()


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""
