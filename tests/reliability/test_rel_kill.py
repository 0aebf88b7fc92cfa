"""ansible-playbook killed with SIGKILL half-way, then run again: it converges, nothing is duplicated, and no file
of ours is left on disk.

The whole process tree goes (the controller, its workers, which Ansible starts in sessions of their own,
the module processes and helm), as when an AWX job's container dies. Kill points:
- while the cluster is being connected to Arc (the connected cluster's PUT has been accepted, helm not yet run);
- while helm installs the Arc agents (helm has applied the release and is still the module's child);
- while the Azure ML extension is being installed (its PUT has been accepted, its operation runs on);
- while the compute is being attached (the ml compute's PUT has been accepted, its operation runs on).

The killed run and the next one share one temp directory (TMPDIR, ANSIBLE_LOCAL_TEMP, ANSIBLE_REMOTE_TEMP), as
two runs on one controller share /tmp and ~/.ansible/tmp. SIGKILL runs no exit handler: the private scratch
directory of a killed module process (module_utils/_common/scratch.py: the kubeconfig helm reads, helm's
values with the onboarding private key, the kubernetes library's certificate files) stays behind until the
next run's modules sweep it. After the next run, the directory holds nothing of ours; Ansible's own per-task
directories of the killed run (AnsiballZ payloads), which Ansible never removes after a SIGKILL, may remain,
and the next run's secret scan (support.RelSandbox.run_playbook) looks through them like through the rest.
"""

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.scratch import PREFIX as OUR_PREFIX
from support import assert_site_converged, resources_of_site, site

from bench.measure import kill_tree, tree_pids

WATCH_TIMEOUT = 300.0
# How long the held `helm upgrade` waits for the kill at most.
HELM_HOLD_SECONDS = 300
# The site's steps in site.yml order (their modules): which ones a killed run finished, which one it was in.
CONNECT, TAINT, EXTENSION, COMPUTE = STEPS = tuple(
    f"hci.arc_ml.{module}" for module in ("connected_cluster", "node_taint", "azureml_extension", "ml_compute")
)
# Ansible's own temp directories, which Ansible removes when a task or the run ends, never after a SIGKILL (the
# temp directory's relative path, how many of its parts name the directory): the module payload AnsiballZ
# unpacks in TMPDIR, <ANSIBLE_LOCAL_TEMP>/ansible-local-*, <ANSIBLE_REMOTE_TEMP>/ansible-tmp-*.
ANSIBLE_TEMP_ROOTS = ("ansible-local", "ansible-remote")
ANSIBLE_TEMP = (
    (re.compile(r"ansible_[\w.]+_payload_\w+"), 1),
    (re.compile(r"ansible-local/ansible-local-\w+"), 2),
    (re.compile(r"ansible-remote/ansible-tmp-[\w.-]+"), 2),
)


def arm_accepted(method, fragment):
    """Kill point: the emulator has accepted `method` on a path holding `fragment`; its operation still runs."""

    def arm(sandbox, _name):
        admin = sandbox.admin
        since = admin.last_seq()

        def reached(_proc):
            nonlocal since
            entries = admin.requests(since=since)
            if entries:
                since = entries[-1]["seq"]
            return any(e["method"] == method and fragment in e["path"].lower() and e["status"] in (200, 201)
                       for e in entries)  # fmt: skip

        return {}, reached

    return arm


def helm_upgrade_held(sandbox, name):
    """Kill point: `helm upgrade` of the Arc agents has applied the release and is still a process of the run.

    A helm wrapper first on the run's PATH runs the real helm's upgrade, writes its own pid to a marker file,
    then holds (at most HELM_HOLD_SECONDS) until the kill: a real helm is over too soon to be caught reliably,
    and killing it half-way would leave a pending-install release, which the next run refuses on purpose
    (module_utils/_arc/detect.py, release_busy). Every other helm command goes straight to the real helm.
    """
    hold = sandbox.work / f"hold-helm-{name}"
    shutil.rmtree(hold, ignore_errors=True)
    (hold / "bin").mkdir(parents=True)
    marker, fifo = hold / "upgraded.pid", hold / "hold.fifo"
    os.mkfifo(fifo)
    path_variable = sandbox.env.get("PATH") or os.environ["PATH"]
    real = shutil.which("helm", path=path_variable)
    assert real, f"no helm on the sandbox's PATH {path_variable}"
    wrapper = hold / "bin" / "helm"
    wrapper.write_text(
        "#!/bin/bash\n"
        "# tests/reliability/test_rel_kill.py: hold `helm upgrade` after it ran until the test kills the run.\n"
        'if [ "$1" = upgrade ]; then\n'
        f'  "{real}" "$@"; status=$?\n'
        f'  echo $$ > "{marker}.new" && mv "{marker}.new" "{marker}"\n'
        f'  read -r -t {HELM_HOLD_SECONDS} _ <> "{fifo}"\n'
        "  exit $status\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o700)

    def reached(proc):
        try:
            pid = int(marker.read_text())
        except (FileNotFoundError, ValueError):
            return False
        return pid in tree_pids(proc.pid)

    return {"PATH": f"{wrapper.parent}{os.pathsep}{path_variable}"}, reached


KILL_POINTS = {
    # site: (the step in flight when the run is killed, the kill point, that step's status in the next run: None
    # when its Azure operation was accepted and may have ended on its own meanwhile)
    "rel-kill-arc": (
        CONNECT,
        arm_accepted("PUT", "/providers/microsoft.kubernetes/connectedclusters/rel-kill-arc"),
        "changed",  # the agents are still to be installed
    ),
    "rel-kill-helm": (CONNECT, helm_upgrade_held, "ok"),  # helm installed them: the agents connect on their own
    "rel-kill-ext": (
        EXTENSION,
        arm_accepted("PUT", "/providers/microsoft.kubernetesconfiguration/extensions/azureml"),
        None,
    ),
    "rel-kill-compute": (
        COMPUTE,
        arm_accepted("PUT", "/providers/microsoft.machinelearningservices/workspaces/mlw-rel/computes/"),
        None,
    ),
}


@pytest.fixture(scope="module")
def killable(rel_sandbox_factory):
    # Long enough operations that the kill lands while the operation still runs.
    return rel_sandbox_factory("kill", [site(name, windows=True) for name in KILL_POINTS], lro_seconds=4.0)


def kill_when(reached, killed):
    """on_start hook: SIGKILL the run's process tree once `reached(proc)`."""

    def watch(proc):
        deadline = time.monotonic() + WATCH_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if reached(proc):
                killed.set()
                kill_tree(proc.pid)
                return
            time.sleep(0.1)

    def on_start(proc):
        threading.Thread(target=watch, args=(proc,), daemon=True).start()

    return on_start


def step_status(run, name):
    """{step: 'changed' | 'ok' | 'failed' | ...} of the site's steps the run got a result for."""
    return {r["action"]: r["status"] for r in run.results if r["host"] == name and r["action"] in STEPS}


def ansible_own(parts) -> bool:
    if len(parts) == 1 and parts[0] in ANSIBLE_TEMP_ROOTS:
        return True
    return any(len(parts) >= depth and pattern.fullmatch("/".join(parts[:depth])) for pattern, depth in ANSIBLE_TEMP)


def left_in(temp_dir: Path) -> list:
    """The files and empty directories under `temp_dir` besides Ansible's own temp directories, and any of ours
    wherever it is (a name starting with the scratch directories' prefix)."""
    left = []
    for path in sorted(temp_dir.rglob("*")):
        parts = path.relative_to(temp_dir).parts
        ours = any(part.startswith(OUR_PREFIX) for part in parts)
        if (ours or not ansible_own(parts)) and not (path.is_dir() and any(path.iterdir())):
            left.append(str(path))
    return left


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KILL_POINTS))
def test_a_run_killed_half_way_converges_on_the_next_run_and_leaves_no_file_of_ours(killable, name):
    in_flight, kill_point, in_flight_next = KILL_POINTS[name]
    temp_dir = killable.work / f"temp-{name}"
    shutil.rmtree(temp_dir, ignore_errors=True)
    temp_dir.mkdir(mode=0o700)
    env, reached = kill_point(killable, name)
    killed = threading.Event()
    first = killable.run_site("--limit", name, label=f"killed-{name}", env=env, temp_dir=temp_dir,
                              on_start=kill_when(reached, killed))  # fmt: skip
    assert killed.is_set(), f"{name}: the run ended before its kill point: {first.output[-2000:]}"
    assert first.rc == -signal.SIGKILL
    left_by_the_kill = left_in(temp_dir)
    if kill_point is helm_upgrade_held:
        # The kill landed while helm had its files: the next run has them to sweep.
        names = {Path(path).name for path in left_by_the_kill}
        assert {"values.json", "kubeconfig.json"} <= names, f"{name}: the kill left {left_by_the_kill}"
    finished = STEPS[: STEPS.index(in_flight)]
    statuses = step_status(first, name)
    assert set(statuses) == set(finished), f"{name}: killed in {in_flight}, but the steps that ended: {statuses}"

    second = killable.run_site("--limit", name, label=f"rerun-{name}", temp_dir=temp_dir)
    assert second.rc == 0, second.output[-3000:]
    assert not second.failed()
    assert_site_converged(killable, name)
    kinds = resources_of_site(killable.state(), killable.sites[name])
    counts = {k: len(v) for k, v in kinds.items()}
    assert counts == {**counts, "connectedCluster": 1, "extension": 1, "relayNamespace": 1, "mlCompute": 1}
    # Changed only where needed: the steps the killed run finished are done; the ones it never reached are not.
    statuses = step_status(second, name)
    assert [step for step in finished if statuses[step] != "ok"] == [], f"{name}: after the kill: {statuses}"
    not_reached = STEPS[STEPS.index(in_flight) + 1 :]
    assert [step for step in not_reached if statuses[step] != "changed"] == [], f"{name}: after the kill: {statuses}"
    assert statuses[in_flight] in ([in_flight_next] if in_flight_next else ("ok", "changed")), statuses
    left = left_in(temp_dir)
    assert left == [], (
        f"{name}: left after the killed run and the next one: {left} (after the kill: {left_by_the_kill})"
    )

    third = killable.run_site("--limit", name, label=f"noop-{name}")
    assert third.rc == 0 and third.changed() == [] and third.arm_writes() == [] and third.kube_writes() == []
