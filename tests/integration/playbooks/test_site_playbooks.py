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

from sandbox.testing import FAST_OPERATIONS, ArmSession, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites.yml"
PLAYBOOKS = REPO / "playbooks"
WRITES = ("PUT", "PATCH", "DELETE", "POST")


@pytest.fixture(scope="module")
def fleet(testbed_bin, tmp_path_factory):
    with running_sandbox(SITES, tmp_path_factory.mktemp("fleet"), **FAST_OPERATIONS) as sandbox:
        yield sandbox.dir, sandbox.env, sandbox.admin


def play(fleet, tmp_path, name, *args, env=None):
    directory, sandbox_env, _ = fleet
    return run_playbook(PLAYBOOKS / name, sandbox_env, tmp_path, "-i", str(directory / "inventory.yml"), *args, env=env)


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


def report_table(markdown):
    """{site: {column: cell}} from the first table of fleet-report.md, in the report's order."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header) or cells[0] == "site":
            break
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def test_report_shows_the_fleet(fleet, tmp_path):
    from report_view import assert_report_painted, screenshot

    report_dir = tmp_path / "report"
    run = play(fleet, tmp_path, "report.yml", "-e", f"arcml_report_dir={report_dir}")
    assert run.rc == 0, run.output[-3000:]
    rows = report_table((report_dir / "fleet-report.md").read_text())
    assert list(rows) == ["pb-linux", "pb-mixed"]
    for site, row in rows.items():
        assert row["status"] == "ok" and row["problems"] == "none", row
        assert [row[s] for s in ("connect", "extension", "compute")] == ["ok"] * 3, row
        assert row["compute name"].startswith(site[:7]) and row["Arc last seen"].endswith("min ago"), row
        # The last site.yml run (the second converge) changed nothing; the check-mode run is not recorded.
        assert row["last site.yml run"].startswith("unchanged "), row
        assert row["agent (newest)"] == "1.26.0", row
    assert rows["pb-mixed"]["taint"] == "ok" and rows["pb-linux"]["taint"] == "na"
    html = report_dir / "fleet-report.html"
    assert "<script" not in html.read_text()
    states = assert_report_painted(screenshot(html, tmp_path), ["ok"])
    assert states["failed"] < 400 and states["drift"] < 400, f"only the legend's swatches: {states}"


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


def test_report_puts_trouble_first_and_publishes_a_summary(fleet, tmp_path):
    """After the failed run: pb-linux's last run failed, and pb-mixed's agents fall behind the newest."""
    from report_view import assert_report_painted, screenshot

    from sandbox.testing import Sandbox, wait_for

    directory, env, _ = fleet
    arm = ArmSession(env)
    # The agents report the version their release was installed with (azure-clusterconfig), as Arc's do.
    Sandbox(directory, env).kube_api("pb-mixed").patch(
        "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig", {"data": {"AZURE_ARC_AGENT_VERSION": "1.20.0"}}
    )
    cluster_id = arm.cluster_id("rg-pb-mixed", "pb-mixed")
    wait_for(lambda: arm.call("GET", cluster_id, "2024-01-01").json()["properties"]["agentVersion"] == "1.20.0",
             "the agents of pb-mixed to report 1.20.0", interval=0.5)  # fmt: skip
    report_dir = tmp_path / "report"
    run = play(fleet, tmp_path, "report.yml", "-e", f"arcml_report_dir={report_dir}",
               env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})  # fmt: skip
    assert run.rc == 0, run.output[-3000:]
    rows = report_table((report_dir / "fleet-report.md").read_text())
    assert list(rows) == ["pb-linux", "pb-mixed"]
    linux = rows["pb-linux"]
    assert linux["status"] == "failed" and linux["last site.yml run"].startswith("failed "), linux
    assert "last site.yml run: " in linux["problems"], linux
    assert rows["pb-mixed"]["agent (newest)"] == "1.20.0 (1.26.0)", rows["pb-mixed"]
    # set_stats: what AWX shows on the job.
    stats = json.loads(re.search(r"CUSTOM STATS: \*+\s*\n\s*RUN: (\{.*\})", run.output).group(1))
    summary = stats["arcml_report"]
    assert summary["sites"] == 2 and summary["failed"] == 1 and summary["failed_sites"] == ["pb-linux"], summary
    assert summary["agents_behind"] == 1 and summary["report"] == f"{report_dir}/fleet-report.html", summary
    assert_report_painted(screenshot(report_dir / "fleet-report.html", tmp_path), ["ok"])


def test_a_bad_variable_of_a_late_step_fails_the_site_before_any_step_runs(fleet, tmp_path):
    # site.yml checks every step's variables against the roles' argument specs in one task, first: a typo for the
    # compute attach (the fifth step) stops the site before its preflight, connect or extension step runs.
    _, _, admin = fleet
    override = tmp_path / "override.yml"
    override.write_text(json.dumps({"hci_clusters": {"hosts": {"pb-linux": {"compute_attach_state": "detached"}}}}))
    mark = admin.last_seq()
    run = play(fleet, tmp_path, "site.yml", "-i", str(override))
    assert run.rc != 0
    assert "1 of 2 site(s) failed: ['pb-linux']" in run.output
    assert "compute_attach_state" in run.output and "detached" in run.output
    lines = run.output.splitlines()
    fatal = next(i for i, line in enumerate(lines) if line.startswith("fatal: [pb-linux]"))
    failed_task = next(line for line in reversed(lines[:fatal]) if line.startswith("TASK ["))
    assert "Check the variables of every step" in failed_task, failed_task
    assert not re.search(r"TASK \[hci\.arc_ml\.\w+ : Validating arguments", run.output), "one check, not one per role"
    assert arm_writes(admin, mark) == []


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
