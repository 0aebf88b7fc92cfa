"""ansible-playbook killed with SIGKILL half-way, then run again: it converges and nothing is duplicated.

The whole process tree goes (the controller, its workers, which Ansible starts in sessions of their own,
the module processes and helm), as when an AWX job's container dies. Kill points: while the Azure ML
extension is being installed (its PUT has been accepted), and while the cluster is being connected to Arc
(the connected cluster's PUT has been accepted, helm not yet run).
"""

import signal
import threading
import time

import pytest
from support import assert_site_converged, resources_of_site, site

from bench.measure import kill_tree

KILL_POINTS = {
    # site: (what the run must have started when it is killed: method, path fragment)
    "rel-kill-ext": ("PUT", "/providers/microsoft.kubernetesconfiguration/extensions/azureml"),
    "rel-kill-arc": ("PUT", "/providers/microsoft.kubernetes/connectedclusters/rel-kill-arc"),
}
WATCH_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def killable(rel_sandbox_factory):
    # Long enough operations that the kill lands while the operation still runs.
    return rel_sandbox_factory("kill", [site(name, windows=True) for name in KILL_POINTS], lro_seconds=4.0)


def kill_when(sandbox, method, fragment, killed):
    """on_start hook: SIGKILL the run's process tree once the emulator has accepted `method` on `fragment`."""
    admin = sandbox.admin
    since = admin.last_seq()

    def watch(proc):
        nonlocal since
        deadline = time.monotonic() + WATCH_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            entries = admin.requests(since=since)
            if entries:
                since = entries[-1]["seq"]
            if any(e["method"] == method and fragment in e["path"].lower() and e["status"] in (200, 201)
                   for e in entries):  # fmt: skip
                killed.set()
                kill_tree(proc.pid)
                return
            time.sleep(0.1)

    def on_start(proc):
        threading.Thread(target=watch, args=(proc,), daemon=True).start()

    return on_start


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KILL_POINTS))
def test_a_run_killed_half_way_converges_on_the_next_run(killable, name):
    method, fragment = KILL_POINTS[name]
    killed = threading.Event()
    first = killable.run_site("--limit", name, label=f"killed-{name}",
                              on_start=kill_when(killable, method, fragment, killed))  # fmt: skip
    assert killed.is_set(), f"the run ended before {method} {fragment}: {first.output[-2000:]}"
    assert first.rc == -signal.SIGKILL

    second = killable.run_site("--limit", name, label=f"rerun-{name}")
    assert second.rc == 0, second.output[-3000:]
    assert not second.failed()
    assert_site_converged(killable, name)
    kinds = resources_of_site(killable.state(), killable.sites[name])
    counts = {k: len(v) for k, v in kinds.items()}
    assert counts == {**counts, "connectedCluster": 1, "extension": 1, "relayNamespace": 1, "mlCompute": 1}

    third = killable.run_site("--limit", name, label=f"noop-{name}")
    assert third.rc == 0 and third.changed() == [] and third.arm_writes() == [] and third.kube_writes() == []
