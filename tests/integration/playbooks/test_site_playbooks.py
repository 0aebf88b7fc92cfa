"""playbooks/site.yml, report.yml and teardown.yml across a small fleet, as a user runs them.

One sandbox for the module: converge, converge again (nothing changes), check-mode drift of one
setting (shown, not written), the report, a failing site that does not stop the other, teardown.
The tests run in order and build on each other, like the user's session they stand for.
"""

import json
import re
from pathlib import Path

import pytest
from playbook_runner import run_playbook

from sandbox.testing import ArmSession, read_env_file, sandbox_cli

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites.yml"
PLAYBOOKS = REPO / "playbooks"
WRITES = ("PUT", "PATCH", "DELETE", "POST")


@pytest.fixture(scope="module")
def fleet(testbed_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("fleet")
    sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory))
    env = read_env_file(directory / "env.sh")
    from sandbox.emulator.client import AdminClient

    admin = AdminClient(env["ARCML_SANDBOX_URL"], env["REQUESTS_CA_BUNDLE"])
    admin.settings(lro_seconds=0.5, provider_registration_seconds=0.5)
    try:
        yield directory, env, admin
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


def play(fleet, tmp_path, name, *args):
    directory, env, _ = fleet
    return run_playbook(PLAYBOOKS / name, env, tmp_path, "-i", str(directory / "inventory.yml"), *args)


def recap(output):
    """{host: {ok, changed, failed, rescued, ...}} from the PLAY RECAP of the last play."""
    rows = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        rows[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return rows


def computes_path(arm):
    workspace = "rg-pb-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-pb"
    return f"{arm.subscription}/resourceGroups/{workspace}/computes"


def arm_writes(admin, since):
    return [f"{r['method']} {r['path']}" for r in admin.requests(since=since) if r["method"] in WRITES
            and not r["path"].endswith("/listKeys") and "/oauth2/" not in r["path"]]  # fmt: skip


def test_site_converges_every_site(fleet, tmp_path):
    run = play(fleet, tmp_path, "site.yml")
    assert run.rc == 0, run.output[-3000:]
    rows = recap(run.output)
    assert set(rows) == {"pb-mixed", "pb-linux"}
    assert all(r["failed"] == 0 and r["changed"] > 0 for r in rows.values()), rows
    directory, env, _ = fleet
    arm = ArmSession(env)
    for site, rg in (("pb-mixed", "rg-pb-mixed"), ("pb-linux", "rg-pb-linux")):
        cluster = arm.call("GET", arm.cluster_id(rg, site), "2024-01-01").json()
        assert cluster["properties"]["connectivityStatus"] == "Connected"
        extension = arm.call("GET", arm.cluster_id(rg, site) + "/providers/Microsoft.KubernetesConfiguration/"
                             "extensions/azureml", "2024-11-01").json()  # fmt: skip
        assert extension["properties"]["provisioningState"] == "Succeeded"
        # Secure by default: the roles' defaults ask for training only, never for HTTP scoring endpoints.
        settings = {k.lower(): str(v).lower() for k, v in extension["properties"]["configurationSettings"].items()}
        assert settings.get("enabletraining") == "true" and settings.get("enableinference", "false") == "false"
        assert settings.get("allowinsecureconnections", "false") == "false", settings
    computes = arm.call("GET", computes_path(arm), "2025-12-01").json()
    # Each site's compute carries its default name (unique per cluster) and points at its own cluster.
    from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name

    owners = {c["name"]: c["properties"]["resourceId"].lower() for c in computes["value"]}
    expected = {
        arm.cluster_id(rg, site).lower() for site, rg in (("pb-mixed", "rg-pb-mixed"), ("pb-linux", "rg-pb-linux"))
    }
    assert set(owners.values()) == expected, owners
    assert all(name == default_compute_name(owner) for name, owner in owners.items()), owners
    from sandbox.testing import Sandbox

    taints = Sandbox(directory, env).kube_api("pb-mixed").get("/api/v1/nodes/pbm-win-1")["spec"]["taints"]
    assert {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"} in taints


def test_second_run_changes_nothing_and_writes_nothing(fleet, tmp_path):
    _, _, admin = fleet
    mark = admin.last_seq()
    run = play(fleet, tmp_path, "site.yml")
    assert run.rc == 0, run.output[-3000:]
    assert all(r["changed"] == 0 for r in recap(run.output).values()), recap(run.output)
    assert arm_writes(admin, mark) == []


def test_check_diff_shows_one_change_and_writes_nothing(fleet, tmp_path):
    _, _, admin = fleet
    mark = admin.last_seq()
    run = play(fleet, tmp_path, "site.yml", "--check", "--diff", "--limit", "pb-linux",
               "-e", json.dumps({"arc_connect_tags": {"owner": "ml-platform"}}))  # fmt: skip
    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)["pb-linux"]["changed"] == 1
    assert '+        "owner": "ml-platform"' in run.output
    assert arm_writes(admin, mark) == []


def test_report_shows_the_fleet(fleet, tmp_path):
    report_dir = tmp_path / "report"
    run = play(fleet, tmp_path, "report.yml", "-e", f"arcml_report_dir={report_dir}")
    assert run.rc == 0, run.output[-3000:]
    markdown = (report_dir / "fleet-report.md").read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| pb-")]
    assert len(rows) == 2
    assert all("Connected" in r and r.count("Succeeded") == 2 and r.endswith("| none |") for r in rows), rows
    assert "1 of 1" in next(r for r in rows if r.startswith("| pb-mixed"))
    html = (report_dir / "fleet-report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "pb-mixed" in html


def test_a_failing_site_does_not_stop_the_other(fleet, tmp_path):
    # A second inventory source points one site at a kubeconfig without a cluster; the other site must still run.
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    override = tmp_path / "override.yml"
    override.write_text(json.dumps({"hci_clusters": {"hosts": {"pb-linux": {"arcml_kubeconfig": str(broken)}}}}))
    run = play(fleet, tmp_path, "site.yml", "-i", str(override))
    assert run.rc != 0
    rows = recap(run.output)
    assert rows["pb-linux"]["failed"] == 1 and rows["pb-mixed"]["failed"] == 0, rows
    assert rows["pb-mixed"]["changed"] == 0
    assert "1 of 2 site(s) failed: ['pb-linux']" in run.output
    assert "Traceback" not in run.output


def test_teardown_without_confirmation_deletes_nothing(fleet, tmp_path):
    _, _, admin = fleet
    mark = admin.last_seq()
    run = play(fleet, tmp_path, "teardown.yml")
    assert run.rc != 0
    assert "Nothing was changed: confirm with -e arcml_teardown_confirm=yes" in run.output
    assert "pb-linux" in run.output and "pb-mixed" in run.output
    assert arm_writes(admin, mark) == [] and len(admin.clusters()) == 2


def test_teardown_removes_everything(fleet, tmp_path):
    directory, env, admin = fleet
    run = play(fleet, tmp_path, "teardown.yml", "-e", "arcml_teardown_confirm=yes")
    assert run.rc == 0, run.output[-3000:]
    assert admin.clusters() == []
    arm = ArmSession(env)
    computes = arm.call("GET", computes_path(arm), "2025-12-01").json()
    assert computes["value"] == []
    from sandbox.testing import Sandbox

    api = Sandbox(directory, env).kube_api("pb-mixed")
    namespaces = {n["metadata"]["name"] for n in api.get("/api/v1/namespaces")["items"]}
    assert not namespaces & {"azure-arc", "azure-arc-release", "azureml"}, namespaces
    assert not api.get("/api/v1/nodes/pbm-win-1")["spec"].get("taints")
    again = play(fleet, tmp_path, "teardown.yml", "-e", "arcml_teardown_confirm=yes")
    assert all(r["changed"] == 0 for r in recap(again.output).values()), recap(again.output)
