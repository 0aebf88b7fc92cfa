"""A sandbox of their own for the connected_cluster tests, and ansible-playbook pointed at it.

These tests connect, break and disconnect clusters, so they do not share the session sandbox's sites with
other modules' tests: `sites.yml` here has a plain cluster and an AKS Arc cluster.
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from arc_onboarding_helpers import ARM_API, ClusterView, HelmRecorder, Site

from sandbox.testing import REPO, ArmSession, Sandbox, read_env_file, sandbox_cli

SITES = Path(__file__).resolve().parent / "sites.yml"


class ArcSandbox(Sandbox):
    """The running sandbox plus what these tests need from it."""

    def view(self, site: Site) -> ClusterView:
        return ClusterView(self.kube_api(site.name))

    def arm(self) -> ArmSession:
        return ArmSession(self.env)

    def resource(self, site: Site, name=None):
        """The ARM resource (plain GET), or None when ARM answers 404."""
        arm = self.arm()
        response = arm.call("GET", arm.cluster_id(site.resource_group, name or site.name), ARM_API)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def mark(self) -> int:
        return self.admin.last_seq()

    def log_since(self, mark: int) -> list:
        return self.admin.requests(since=mark)


@pytest.fixture(scope="session")
def arc_sandbox(testbed_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("connected-cluster") / "sandbox"
    sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory))
    try:
        running = ArcSandbox(directory, read_env_file(directory / "env.sh"))
        # Short operations, polled every second (wait_sleep 1 in the tasks): no test waits on a fixed sleep.
        running.admin.settings(lro_seconds=0.5, retry_after_seconds=1, provider_registration_seconds=0.2)
        running.arm().register("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration")
        yield running
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


@pytest.fixture(scope="session")
def helm_recorder(arc_sandbox, tmp_path_factory):
    real = shutil.which("helm", path=arc_sandbox.env["PATH"])
    assert real, "the testbed's helm is not on the sandbox PATH"
    return HelmRecorder(tmp_path_factory.mktemp("helm-shim"), real)


@pytest.fixture
def play(arc_sandbox, helm_recorder, tmp_path):
    """run(tasks, *ansible_playbook_args, env=None): one play on localhost with the sandbox's env.sh.

    The recording helm comes first on PATH and TMPDIR is a directory of the test's own. Every task runs with
    ignore_errors; their registered results are saved by one last task (not one per task, which would double
    the playbook's time), in order, in `.results`.
    """
    from playbook_runner import PlaybookRun, run_playbook

    def run(tasks, *args, env=None):
        helm_recorder.clear()
        saved = tmp_path / "results.json"
        saved.unlink(missing_ok=True)
        names = ", ".join(f"result_{index}" for index in range(len(tasks)))
        steps = [dict(task, register=f"result_{index}", ignore_errors=True) for index, task in enumerate(tasks)]
        steps.append(
            {
                "name": "Save the results",
                "ansible.builtin.copy": {"content": f"{{{{ [{names}] | to_json }}}}", "dest": str(saved)},
                "check_mode": False,
                "diff": False,
                "no_log": True,
            }
        )
        playbook = tmp_path / "playbook.yml"
        play = {"name": "Integration test", "hosts": "localhost", "connection": "local", "gather_facts": False}
        playbook.write_text(json.dumps([dict(play, tasks=steps)]))
        extra = {"PATH": helm_recorder.path_env(arc_sandbox.env["PATH"]), "TMPDIR": str(scratch)}
        extra.update(env or {})
        done = run_playbook(playbook, arc_sandbox.env, tmp_path, "-i", "localhost,", *args, env=extra)
        results = json.loads(saved.read_text()) if saved.exists() else []
        return PlaybookRun(done.rc, done.output, results)

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run.scratch = scratch
    return run


@pytest.fixture(scope="session")
def newer_chart(tmp_path_factory):
    """The sandbox's agent chart as version 1.36.0: it, too, gets the key as global.onboardingPrivateKey."""
    chart = tmp_path_factory.mktemp("charts") / "azure-arc-k8sagents"
    shutil.copytree(REPO / "sandbox" / "charts" / "azure-arc", chart)
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    metadata.update(version="1.36.0", appVersion="1.36.0")
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    return chart
