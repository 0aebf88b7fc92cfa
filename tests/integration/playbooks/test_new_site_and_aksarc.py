"""site.yml --check on a site nothing has touched yet, and teardown.yml on an AKS Arc cluster.

One sandbox for the module (sites_new_and_aksarc.yml): nk-new is a cluster never connected to Azure Arc, nk-aksarc
an AKS Arc cluster (kind ProvisionedCluster) the platform connected. The resource providers are registered first, as
in a subscription where site.yml has run for other sites.
"""

import json
from pathlib import Path

import pytest
from playbook_runner import run_playbook
from test_site_playbooks import arm_writes, recap

from sandbox.testing import FAST_OPERATIONS, ArmSession, Sandbox, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites_new_and_aksarc.yml"
PLAYBOOKS = REPO / "playbooks"
PROVIDERS = ("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.ExtendedLocation",
             "Microsoft.MachineLearningServices", "Microsoft.Relay")  # fmt: skip
STEPS = (
    "Connect the cluster to Azure Arc",
    "Taint the Windows nodes so Linux-only workloads never land there",
    "Install the Azure ML extension on the cluster",
    "Attach the cluster to the Azure ML workspace",
)
EXTENSION_API = "2024-11-01"


@pytest.fixture(scope="module")
def sandbox(testbed_bin, tmp_path_factory):
    with running_sandbox(SITES, tmp_path_factory.mktemp("new-and-aksarc"), **FAST_OPERATIONS) as running:
        ArmSession(running.env).register(*PROVIDERS)
        yield running.dir, running.env, running.admin


def play(sandbox, tmp_path, name, *args):
    directory, env, _ = sandbox
    return run_playbook(PLAYBOOKS / name, env, tmp_path, "-i", str(directory / "inventory.yml"), *args)


def step_outcomes(output, host):
    """{task name: the first result line of `host` after the task's header}."""
    outcomes = {}
    for block in output.split("\nTASK [")[1:]:
        name = block.split("]", 1)[0].split(" : ", 1)[-1]
        line = next((ln for ln in block.splitlines() if ln.endswith(f"[{host}]") or f"[{host}]:" in ln), "")
        outcomes[name] = line.split(":", 1)[0]
    return outcomes


def cluster_state(api):
    """The namespaces and every Node's resourceVersion: what a write to the cluster would change."""
    namespaces = sorted(n["metadata"]["name"] for n in api.get("/api/v1/namespaces")["items"])
    nodes = {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in api.get("/api/v1/nodes")["items"]}
    return namespaces, nodes


def extension_path(arm, resource_group, site):
    return arm.cluster_id(resource_group, site) + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml"


def test_check_diff_on_a_new_site_reports_each_step_and_writes_nothing(sandbox, tmp_path):
    directory, env, admin = sandbox
    api = Sandbox(directory, env).kube_api("nk-new")
    before = cluster_state(api)
    mark = admin.last_seq()

    run = play(sandbox, tmp_path, "site.yml", "--check", "--diff", "--limit", "nk-new")

    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)["nk-new"]["failed"] == 0
    outcomes = step_outcomes(run.output, "nk-new")
    assert {step: outcomes.get(step) for step in STEPS} == dict.fromkeys(STEPS, "changed"), outcomes
    assert '"extension_type": "microsoft.azureml.kubernetes"' in run.output
    assert arm_writes(admin, mark) == []
    assert cluster_state(api) == before
    arm = ArmSession(env)
    assert arm.call("GET", arm.cluster_id("rg-nk-new", "nk-new"), "2024-01-01").status_code == 404


def test_a_new_site_still_fails_outside_check_mode_when_the_cluster_is_missing(sandbox, tmp_path):
    # The extension step alone, on a cluster never connected: outside check mode the missing cluster is an error.
    _, _, admin = sandbox
    mark = admin.last_seq()
    run = play(sandbox, tmp_path, "site.yml", "--limit", "nk-new", "-e", json.dumps({"arc_connect_state": "absent"}))
    assert run.rc != 0
    assert "The cluster connectedClusters nk-new (resource group rg-nk-new) does not exist in Azure" in run.output
    assert arm_writes(admin, mark) == []


def test_teardown_of_an_aks_arc_site_keeps_its_arc_connection(sandbox, tmp_path):
    directory, env, _ = sandbox
    converge = play(sandbox, tmp_path, "site.yml", "--limit", "nk-aksarc")
    assert converge.rc == 0, converge.output[-3000:]

    run = play(sandbox, tmp_path, "teardown.yml", "--limit", "nk-aksarc", "-e", "arcml_teardown_confirm=yes")

    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)["nk-aksarc"]["failed"] == 0
    assert "Skipped: connected cluster nk-aksarc in resource group rg-nk-aksarc is owned by AKS Arc" in run.output
    arm = ArmSession(env)
    cluster = arm.call("GET", arm.cluster_id("rg-nk-aksarc", "nk-aksarc"), "2024-01-01").json()
    assert cluster["kind"] == "ProvisionedCluster" and cluster["properties"]["connectivityStatus"] == "Connected"
    assert arm.call("GET", extension_path(arm, "rg-nk-aksarc", "nk-aksarc"), EXTENSION_API).status_code == 404
    workspace = "rg-nk-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-nk"
    computes = arm.call("GET", f"{arm.subscription}/resourceGroups/{workspace}/computes", "2025-12-01").json()
    assert computes["value"] == []
    namespaces = {n["metadata"]["name"] for n in Sandbox(directory, env).kube_api("nk-aksarc").get(
        "/api/v1/namespaces")["items"]}  # fmt: skip
    # The platform's Arc agents stay.
    assert {"azure-arc", "azure-arc-release"} <= namespaces, namespaces
