"""Names and helpers shared by the compute integration tests (fixtures are in conftest.py)."""

import json

WORKSPACE = {"workspace_name": "mlw-compute", "resource_group": "rg-compute-ml"}
READY = {"site": "ml-ready", "resource_group": "rg-compute-ready"}
BARE = {"site": "ml-bare", "resource_group": "rg-compute-bare"}
EXTENSION_API = "2023-05-01"
CLUSTER_API = "2024-01-01"
ML_API = "2025-12-01"
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")


def cluster_id(arm, site):
    return arm.cluster_id(site["resource_group"], site["site"])


def arm_log(sandbox, since):
    """ARM requests after `since` as (method, path, query) tuples, without the login and metadata calls."""
    return [
        (entry["method"], entry["path"], entry.get("query") or {})
        for entry in sandbox.admin.requests(since=since)
        if entry["path"].lower().startswith("/subscriptions/")
    ]


def writes(log):
    return [entry for entry in log if entry[0] in WRITE_METHODS]


def dump(run):
    """Everything a failing assertion needs: the task results and the tail of the output."""
    return json.dumps(run.results, indent=1)[:6000] + "\n" + run.output[-4000:]
