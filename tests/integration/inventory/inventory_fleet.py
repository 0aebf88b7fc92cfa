"""An Azure emulator holding a small fleet for the connected_clusters inventory plugin (conftest.py starts it).

Five clusters in two resource groups: an AKS Arc cluster seeded by the sites file (born Connected), and four Arc
connected clusters created with plain ARM PUTs (as `az connectedk8s connect` sends them) whose agents' reports
come through the emulator's agent hooks. Two of them share the name `hci-edge`, one in each resource group.
"""

import json

from sandbox.testing import RunningEmulator, new_onboarding_key

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


class Fleet(RunningEmulator):
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


def start(directory, sites_file):
    """The fleet's emulator, seeded from `sites_file`, its operations taking 0.3 s."""
    return Fleet.start(directory, sites_file, lro_seconds=0.3)


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
