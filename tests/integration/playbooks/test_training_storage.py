"""The training_storage role through site.yml and teardown.yml: a site's NFS shares from the inventory.

One sandbox for the module (sites_storage.yml, one AKS Arc site). The tests run in order and build on each other:
site.yml leaves the shares' claims Bound, a second run changes nothing, a check-mode run of the role reports each
claim's phase from the cluster (what the fleet report reads), a namespace the compute does not use fails the site
before any write, and teardown.yml removes the claims and volumes before it detaches the compute.
"""

import json
from pathlib import Path

import pytest
from playbook_runner import run_playbook
from test_site_playbooks import recap

from sandbox.k8s.api import KubeApiError
from sandbox.testing import FAST_OPERATIONS, ArmSession, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites_storage.yml"
PLAYBOOKS = REPO / "playbooks"
SITE = "ts-site"
SHARES = [
    {"name": "training-data", "server": "nfs01.contoso.local", "path": "/srv/training", "capacity": "2Ti",
     "mount_path": "/mnt/training", "mount_options": ["nfsvers=4.1"]},
    {"name": "datasets", "server": "10.20.0.5", "path": "/exports/datasets", "capacity": "500Gi",
     "mount_path": "/mnt/datasets", "access_mode": "ReadOnlyMany", "read_only": True},
]  # fmt: skip


@pytest.fixture(scope="module")
def fleet(testbed_bin, tmp_path_factory):
    with running_sandbox(SITES, tmp_path_factory.mktemp("storage"), **FAST_OPERATIONS) as sandbox:
        # A second inventory source gives the site its shares, as a user's host_vars would.
        shares = sandbox.dir / "shares.yml"
        shares.write_text(json.dumps({"hci_clusters": {"hosts": {SITE: {"training_storage_shares": SHARES}}}}))
        yield sandbox.dir, sandbox.env, sandbox.kube_api(SITE)


def play(fleet, tmp_path, playbook, *args):
    directory, env, _ = fleet
    inventories = ["-i", str(directory / "inventory.yml"), "-i", str(directory / "shares.yml")]
    return run_playbook(playbook, env, tmp_path, *inventories, *args)


def claims(kube, namespace="default"):
    """{claim name: phase} of the claims the collection made in `namespace`."""
    items = kube.get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims")["items"]
    return {c["metadata"]["name"]: c["status"].get("phase") for c in items
            if c["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "hci.arc_ml"}  # fmt: skip


def volumes(kube):
    items = kube.get("/api/v1/persistentvolumes")["items"]
    return {v["metadata"]["name"]: v for v in items}


def test_site_yml_leaves_every_share_bound(fleet, tmp_path):
    _, _, kube = fleet
    run = play(fleet, tmp_path, PLAYBOOKS / "site.yml")
    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)[SITE]["failed"] == 0
    assert claims(kube) == {"training-data": "Bound", "datasets": "Bound"}
    found = volumes(kube)
    assert found["default-datasets"]["spec"]["nfs"] == {"server": "10.20.0.5", "path": "/exports/datasets",
                                                       "readOnly": True}  # fmt: skip
    assert found["default-training-data"]["spec"]["mountOptions"] == ["nfsvers=4.1"]
    claim = kube.get("/api/v1/namespaces/default/persistentvolumeclaims/training-data")
    assert claim["metadata"]["labels"]["ml.azure.com/pvc"] == "true"
    assert claim["metadata"]["annotations"]["ml.azure.com/mountpath"] == "/mnt/training"


def test_a_second_run_changes_nothing(fleet, tmp_path):
    run = play(fleet, tmp_path, PLAYBOOKS / "site.yml")
    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)[SITE]["changed"] == 0, run.output[-3000:]


def test_the_report_shows_the_shares_bound(fleet, tmp_path):
    from test_site_playbooks import report_table

    report_dir = tmp_path / "report"
    run = play(fleet, tmp_path, PLAYBOOKS / "report.yml", "-e", f"arcml_report_dir={report_dir}")
    assert run.rc == 0, run.output[-3000:]
    markdown = (report_dir / "fleet-report.md").read_text()
    row = report_table(markdown)[SITE]
    assert row["storage"] == "ok" and row["status"] == "ok", row
    assert f"| {SITE} |" in markdown and "| 2 of 2 Bound |" in markdown
    assert "training-data: Bound, datasets: Bound" in (report_dir / "fleet-report.html").read_text()


def test_the_role_in_check_mode_reports_each_claims_phase_from_the_cluster(fleet, tmp_path):
    _, _, kube = fleet
    before = {name: v["metadata"]["resourceVersion"] for name, v in volumes(kube).items()}
    playbook = tmp_path / "shares.yml"
    playbook.write_text(json.dumps([{
        "name": "Read the shares", "hosts": "hci_clusters", "connection": "local", "gather_facts": False,
        "roles": ["hci.arc_ml.training_storage"],
        "post_tasks": [{"name": "Show the record", "ansible.builtin.debug": {"var": "training_storage_result"}}],
    }]))  # fmt: skip

    run = play(fleet, tmp_path, playbook, "--check", "--diff")

    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)[SITE]["changed"] == 0, run.output[-3000:]
    record = json.loads(run.output.split('"training_storage_result": ', 1)[1].split("\n}\n", 1)[0])
    assert [(entry["name"], entry["phase"], entry["volume"], entry["state"]) for entry in record] == [
        ("training-data", "Bound", "default-training-data", "present"),
        ("datasets", "Bound", "default-datasets", "present"),
    ]
    assert {name: v["metadata"]["resourceVersion"] for name, v in volumes(kube).items()} == before


def test_a_namespace_the_compute_does_not_use_fails_the_site_before_any_write(fleet, tmp_path):
    _, _, kube = fleet
    run = play(fleet, tmp_path, PLAYBOOKS / "site.yml", "-e", "training_storage_namespace=kube-system")
    assert run.rc != 0
    assert "Namespace kube-system is not the namespace of compute" in run.output, run.output[-3000:]
    assert claims(kube, "kube-system") == {}
    assert "kube-system-training-data" not in volumes(kube)


def test_teardown_removes_the_claims_and_volumes_before_detaching(fleet, tmp_path):
    _, env, kube = fleet
    run = play(fleet, tmp_path, PLAYBOOKS / "teardown.yml", "-e", "arcml_teardown_confirm=yes")
    assert run.rc == 0, run.output[-3000:]
    output = run.output
    assert output.index("TASK [hci.arc_ml.training_storage : ") < output.index("TASK [hci.arc_ml.compute_attach : ")
    assert claims(kube) == {} and not {"default-training-data", "default-datasets"} & set(volumes(kube))
    arm = ArmSession(env)
    workspace = "rg-ts-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-ts"
    computes = arm.call("GET", f"{arm.subscription}/resourceGroups/{workspace}/computes", "2025-12-01").json()
    assert computes["value"] == []
    with pytest.raises(KubeApiError):
        kube.get("/api/v1/namespaces/default/persistentvolumeclaims/datasets")
