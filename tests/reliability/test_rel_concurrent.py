"""Two site.yml runs at once against the same sites.

Each run has its own identities (its ARM calls carry its own User-Agent through AZURE_HTTP_USER_AGENT, its
Kubernetes calls come from its own audited user), so every change a run reports can be checked against the
writes that run itself made. The end state must be right, and a third run must find nothing to change.
"""

import threading

import pytest
from support import RUN_USERS, assert_site_converged, site

from bench.measure import header

SITES = ("rel-twin-a", "rel-twin-b")
# Which writes prove that a task's change was made by the run that reports it.
ARM_TARGETS = {
    "hci.arc_ml.resource_provider": lambda host: "/register",
    "hci.arc_ml.connected_cluster": lambda host: f"/connectedclusters/{host}",
    "hci.arc_ml.azureml_extension": lambda host: f"/resourcegroups/rg-{host}/",
    "hci.arc_ml.ml_compute": None,  # the site's default compute name: see RelSandbox.compute_name
}
KUBE_TARGETS = {"hci.arc_ml.connected_cluster", "hci.arc_ml.node_taint"}


@pytest.fixture(scope="module")
def twins(rel_sandbox_factory):
    return rel_sandbox_factory("twins", [site(SITES[0], windows=True), site(SITES[1], windows=True)])


@pytest.mark.slow
def test_two_runs_at_once_end_right_and_claim_only_their_own_changes(twins):
    runs = {}

    def run(user, agent):
        runs[agent] = twins.run_site(user=user, env={"AZURE_HTTP_USER_AGENT": agent}, label=agent)

    threads = [threading.Thread(target=run, args=(user, f"twin-{user[-1]}")) for user in RUN_USERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1200)
    assert len(runs) == 2, "a run did not finish"

    for agent, result in runs.items():
        arm_writes = [e for e in result.arm_writes() if agent in (header(e, "user-agent") or "")]
        for record in result.changed():
            action, host = record["action"], record["host"]
            if action in ARM_TARGETS:
                target = ARM_TARGETS[action](host) if ARM_TARGETS[action] else f"/computes/{twins.compute_name(host)}"
                arm = [e for e in arm_writes if target in e["path"].lower()]
            else:
                arm = []
            kube = [e for e in result.kube.get(host, []) if e.get("verb") in ("create", "update", "patch", "delete")
                    and (e.get("objectRef") or {}).get("resource") not in ("selfsubjectaccessreviews",)]  # fmt: skip
            made = arm or (action in KUBE_TARGETS and kube)
            assert made, f"{agent} reported '{record['task']}' changed on {host} without a write of its own"

    # Every site was brought up by at least one of the runs, and whatever failed said why in one line.
    for name in SITES:
        clean = [a for a, r in runs.items() if not [f for f in r.failed() if f["host"] == name]]
        assert clean, {a: [(f["task"], f["msg"]) for f in r.failed() if f["host"] == name] for a, r in runs.items()}
    for result in runs.values():
        for failure in result.failed():
            assert failure["msg"] and "\n" not in failure["msg"] and "Traceback" not in failure["msg"], failure
    for name in SITES:
        assert_site_converged(twins, name)

    third = twins.run_site(label="after-twins")
    assert third.rc == 0, third.output[-3000:]
    assert third.changed() == [] and third.arm_writes() == [] and third.kube_writes() == []
