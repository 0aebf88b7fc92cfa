"""An Azure emulator holding a small fleet for the connected_clusters inventory plugin (conftest.py starts it).

Five clusters in two resource groups: an AKS Arc cluster seeded by the sites file (born Connected), and four Arc
connected clusters created with plain ARM PUTs (as `az connectedk8s connect` sends them) whose agents' reports
come through the emulator's agent hooks. Two of them share the name `hci-edge`, one in each resource group.
"""

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.emulator import client_env
from sandbox.emulator.client import AdminClient
from sandbox.testing import new_onboarding_key

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
API = "2026-05-01"
EAST, WEST = "rg-inv-east", "rg-inv-west"
SITES = {
    "workspace": {"name": "mlw-inv", "resource_group": "rg-inv-ml", "location": "eastus"},
    "sites": [
        {"name": "aks-east-1", "location": "eastus", "resource_group": EAST, "kind": "provisioned",
         "nodes": [{"name": "n1", "cpu": 4}]},
        {"name": "hci-west-1", "location": "westus2", "resource_group": WEST, "nodes": [{"name": "n1", "cpu": 4}]},
    ],
}  # fmt: skip
# (resource group, name, location, tags, what the agents report, or None: they never did)
CONNECTED = (
    (EAST, "hci-east-1", "eastus", {}, "Connected"),
    (EAST, "hci-edge", "eastus", {"workload": "ml"}, "Connected"),
    (WEST, "hci-edge", "westus2", {"workload": "ml"}, "Offline"),
    (WEST, "hci-west-1", "westus2", {"workload": "ml", "tier": "prod"}, None),
)


@dataclass
class Fleet:
    directory: Path
    process: subprocess.Popen
    env: dict
    admin: AdminClient

    @property
    def secrets(self):
        """Every secret the emulator minted or received (its secret registry), and the principal's secret."""
        registry = self.directory / "secrets.jsonl"
        lines = registry.read_text().splitlines() if registry.exists() else []
        values = {json.loads(line)["secret"] for line in lines if line.strip()}
        return sorted(values | {self.env["AZURE_CLIENT_SECRET"]})

    def list_pages_since(self, seq):
        """The connectedClusters list requests after `seq`, as (path, query) pairs."""
        return [
            (entry["path"], entry["query"])
            for entry in self.admin.requests(since=seq)
            if entry["method"] == "GET" and entry["path"].lower().endswith("/microsoft.kubernetes/connectedclusters")
        ]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def start(directory, sites_file):
    log_path = directory.parent / "emulator.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.emulator", "--dir", str(directory), "--port", "0",
             "--sites", str(sites_file), "--lro-seconds", "0.3"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while not (directory / "emulator.json").exists():
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the emulator was not ready within {START_TIMEOUT}s; see {log_path}")
        time.sleep(0.05)
    return Fleet(directory, process, client_env(directory), AdminClient.for_dir(directory))


def connect(fleet, arm, group, name, location, tags, status):
    _, public_key = new_onboarding_key()
    body = {"location": location, "tags": tags, "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public_key, "distribution": "aks_workload",
                           "infrastructure": "azure_stack_hci"}}  # fmt: skip
    cluster_id = arm.cluster_id(group, name)
    arm.call("PUT", cluster_id, API, json=body).raise_for_status()
    if status:
        fleet.admin.report_cluster(cluster_id, connectivityStatus=status, agentVersion="1.26.0",
                                   kubernetesVersion="1.31.4", totalNodeCount=2, totalCoreCount=8)  # fmt: skip
