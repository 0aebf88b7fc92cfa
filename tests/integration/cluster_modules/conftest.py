"""Dedicated testbed clusters for cluster_preflight and node_taint, and ansible-playbook pointed at them.

The taint tests change nodes, so they get clusters of their own instead of the shared session sandbox:
`mixed` looks like the it-mixed site (two Linux nodes, two Windows nodes, one with a foreign taint), `small`
has only nodes no Azure ML install fits on (one too small, one big but arm64).
"""

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cluster_helpers import MIXED_NODES, NODE_READER_RBAC, SMALL_NODES

from sandbox.k8s.nodes import register_nodes


@dataclass
class TestCluster:
    cluster: object

    @property
    def api(self):
        return self.cluster.api()

    @property
    def kubeconfig(self) -> str:
        return str(self.cluster.kubeconfig)

    def node(self, name) -> dict:
        return self.api.get(f"/api/v1/nodes/{name}")

    def taints(self) -> dict:
        """Every node's taints, by node name."""
        return {n["metadata"]["name"]: n["spec"].get("taints", []) for n in self.api.get("/api/v1/nodes")["items"]}

    def versions(self) -> dict:
        """Every node's resourceVersion: unchanged means nothing was written to it."""
        items = self.api.get("/api/v1/nodes")["items"]
        return {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in items}

    def set_taints(self, name, taints) -> None:
        self.api.patch(f"/api/v1/nodes/{name}", {"spec": {"taints": taints or None}})

    def secrets(self, kubeconfig=None) -> list:
        """The private key of a kubeconfig, as the file holds it and decoded: neither may reach any output."""
        config = yaml.safe_load(Path(kubeconfig or self.kubeconfig).read_text())
        encoded = config["users"][0]["user"]["client-key-data"]
        pem = base64.b64decode(encoded).decode()
        body = "".join(line for line in pem.splitlines() if "-----" not in line)
        return [encoded, body[:40], body[-40:]]


def _start(start_cluster, name, nodes):
    cluster = start_cluster(name)
    register_nodes(cluster.api(), nodes)
    return TestCluster(cluster)


@pytest.fixture(scope="session")
def clusters(start_cluster, tmp_path_factory):
    """Both clusters, started side by side (each start waits mostly on its own processes)."""
    tmp_path_factory.getbasetemp()  # created lazily and not thread-safe: create it before the threads ask
    with ThreadPoolExecutor(max_workers=2) as pool:
        mixed = pool.submit(_start, start_cluster, "ct-mixed", MIXED_NODES)
        small = pool.submit(_start, start_cluster, "ct-small", SMALL_NODES)
        started = {"mixed": mixed.result(), "small": small.result()}
    for path, body in NODE_READER_RBAC:
        started["mixed"].api.post(path, body)
    return started


@pytest.fixture(scope="session")
def mixed(clusters):
    return clusters["mixed"]


@pytest.fixture(scope="session")
def small(clusters):
    return clusters["small"]


@pytest.fixture
def pristine_taints(mixed):
    """Give each test the mixed cluster's original taints, and put them back afterwards."""
    original = {spec["name"]: spec.get("taints", []) for spec in MIXED_NODES}

    def restore():
        current = mixed.taints()
        for name, taints in original.items():
            if current[name] != taints:
                mixed.set_taints(name, taints)

    restore()
    yield mixed
    restore()


@pytest.fixture
def playbook(tmp_path):
    """run(tasks, *ansible_playbook_args, env=None, ignore_errors=True) -> PlaybookRun with `.results`."""
    from playbook_runner import run_tasks

    def run(tasks, *args, **kwargs):
        return run_tasks(tasks, {}, tmp_path, *args, **kwargs)

    return run
