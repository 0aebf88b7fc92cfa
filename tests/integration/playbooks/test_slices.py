"""site.yml, report.yml and teardown.yml run as AWX job slicing runs them: K=3 concurrent ansible-playbook
processes, each on one slice of the inventory.

AWX gives each slice an inventory with only its hosts and the same awx_workflow_job_id
(https://github.com/ansible/awx/blob/devel/docs/docsite/rst/userguide/job_slices.rst,
https://github.com/ansible/awx/blob/devel/docs/docsite/rst/userguide/job_templates.rst); here each process gets
--limit <its site> and -e awx_workflow_job_id. Three sites share a resource group and a name prefix, so
anything a slice did to another slice's site, or twice, shows in the request log.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playbook_runner import run_playbook
from test_site_playbooks import arm_writes, recap, report_table

from sandbox.testing import FAST_OPERATIONS, ArmSession, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites_slices.yml"
PLAYBOOKS = REPO / "playbooks"
SLICES = ("sl-store-0001", "sl-store-0002", "sl-store-0003")
WORKFLOW_JOB = "4242"


@pytest.fixture(scope="module")
def fleet(testbed_bin, tmp_path_factory):
    with running_sandbox(SITES, tmp_path_factory.mktemp("slices"), **FAST_OPERATIONS) as sandbox:
        yield sandbox.dir, sandbox.env, sandbox.admin


def run_slices(fleet, tmp_path, playbook, *args):
    """`playbook` as three concurrent slices; {site: PlaybookRun}."""
    directory, env, _ = fleet

    def one(site):
        workdir = tmp_path / site
        workdir.mkdir(exist_ok=True)
        return run_playbook(PLAYBOOKS / playbook, env, workdir, "-i", str(directory / "inventory.yml"),
                            "--limit", site, "-e", f"awx_workflow_job_id={WORKFLOW_JOB}", *args)  # fmt: skip

    with ThreadPoolExecutor(len(SLICES)) as pool:
        return dict(zip(SLICES, pool.map(one, SLICES)))


def writes_by_target(admin, since):
    """Counter of ARM writes by method and path (case-folded), the operation polls left out."""
    return Counter(w.lower() for w in arm_writes(admin, since))


def test_three_slices_converge_every_site_once(fleet, tmp_path):
    _, env, admin = fleet
    mark = admin.last_seq()
    runs = run_slices(fleet, tmp_path, "site.yml")
    for site, run in runs.items():
        assert run.rc == 0, (site, run.output[-3000:])
        assert set(recap(run.output)) == {site}, "a slice touched only its own site"
    arm = ArmSession(env)
    for site in SLICES:
        cluster = arm.call("GET", arm.cluster_id("rg-sl-stores", site), "2024-01-01").json()
        assert cluster["properties"]["connectivityStatus"] == "Connected", site
    writes = writes_by_target(admin, mark)
    # Each site's Arc resource, extension and compute were written by one slice, once.
    for site in SLICES:
        mine = {w: n for w, n in writes.items() if f"/connectedclusters/{site}" in w}
        assert mine and all(n == 1 for n in mine.values()), mine
    computes = [w for w in writes if "/computes/" in w]
    assert len(computes) == len(SLICES) and all(writes[w] == 1 for w in computes), computes
    # Every slice registers the providers it needs; Azure treats a second register as a no-op.
    registers = {w: n for w, n in writes.items() if w.endswith("/register")}
    assert registers and all(n <= len(SLICES) for n in registers.values()), registers


def test_three_slices_again_change_nothing(fleet, tmp_path):
    _, _, admin = fleet
    mark = admin.last_seq()
    runs = run_slices(fleet, tmp_path, "site.yml")
    for site, run in runs.items():
        assert run.rc == 0 and recap(run.output)[site]["changed"] == 0, (site, run.output[-3000:])
    assert arm_writes(admin, mark) == []


def test_the_report_of_three_slices_holds_the_whole_fleet(fleet, tmp_path):
    report_dir = tmp_path / "report"
    runs = run_slices(fleet, tmp_path, "report.yml", "-e", f"arcml_report_dir={report_dir}")
    for site, run in runs.items():
        assert run.rc == 0, (site, run.output[-3000:])
    rows = report_table((report_dir / "fleet-report.md").read_text())
    assert sorted(rows) == list(SLICES), rows
    assert all(row["status"] == "ok" and row["last site.yml run"].startswith("unchanged") for row in rows.values())
    html = (report_dir / "fleet-report.html").read_text()
    assert "<!-- arcml-report-sites: 3 -->" in html and all(site in html for site in SLICES)
    assert sorted(p.name for p in (report_dir / "runs" / WORKFLOW_JOB).iterdir()) == [f"{s}.json" for s in SLICES]
    # Without a run id a report is of its own hosts only: a limited run does not pick up the slices' rows.
    alone_dir = tmp_path / "alone"
    directory, env, _ = fleet
    alone = run_playbook(PLAYBOOKS / "report.yml", env, tmp_path, "-i", str(directory / "inventory.yml"),
                         "--limit", SLICES[0], "-e", f"arcml_report_dir={alone_dir}")  # fmt: skip
    assert alone.rc == 0, alone.output[-3000:]
    assert list(report_table((alone_dir / "fleet-report.md").read_text())) == [SLICES[0]]


def test_three_slices_tear_down_every_site(fleet, tmp_path):
    _, env, admin = fleet
    runs = run_slices(fleet, tmp_path, "teardown.yml", "-e", "arcml_teardown_confirm=yes")
    for site, run in runs.items():
        assert run.rc == 0, (site, run.output[-3000:])
    assert admin.clusters() == []
    arm = ArmSession(env)
    workspace = "rg-sl-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-sl"
    computes = arm.call("GET", f"{arm.subscription}/resourceGroups/{workspace}/computes", "2025-12-01").json()
    assert computes["value"] == []
