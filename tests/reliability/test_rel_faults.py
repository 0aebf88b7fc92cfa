"""site.yml through a hostile Azure: 30% of ARM requests throttled (429 + Retry-After), 5% 503, dropped connections.

Every site converges, nothing is created twice, and a clean re-run afterwards changes nothing.
"""

import pytest
from support import assert_site_converged, resources_of_site, site

ARM_PATHS = "^/(subscriptions|providers)/"
SITES = ("rel-fault-a", "rel-fault-b")
# Rules are tried in order, each with its own draw: 30% of all ARM requests answer 429, 5% 503, 2% are reset.
# Two resets are certain: on a POST that only reads (listKeys) and on a GET of a compute.
FAULTS = (
    {"method": "POST", "path": "/listkeys$", "reset": True, "count": 1},
    {"method": "GET", "path": "/computes/", "reset": True, "count": 1},
    {"method": "*", "path": ARM_PATHS, "status": 429, "retry_after": 1, "rate": 0.30, "seed": 1101},
    {"method": "*", "path": ARM_PATHS, "status": 503, "rate": 0.05 / 0.70},
    {"method": "*", "path": ARM_PATHS, "reset": True, "rate": 0.02 / (0.70 * 0.95)},
)


@pytest.fixture(scope="module")
def faulty(rel_sandbox_factory):
    return rel_sandbox_factory("faults", [site(SITES[0], windows=True), site(SITES[1])])


@pytest.mark.slow
def test_every_site_converges_through_throttling_server_errors_and_resets(faulty):
    faulty.admin.add_faults(*FAULTS)
    try:
        run = faulty.run_site(label="faults")
    finally:
        faulty.admin.clear_faults()
    faults = [e for e in run.arm if e.get("fault")]
    statuses = {e["status"] for e in faults}
    # The faults really happened, in the proportions asked for, and the run went through them.
    assert len(faults) >= 0.25 * len(run.arm), (len(faults), len(run.arm))
    resets = [e for e in faults if e["outcome"] == "reset"]
    assert 429 in statuses and 503 in statuses and len(resets) >= 2, (statuses, len(resets))
    assert run.rc == 0, run.output[-3000:]
    assert not run.failed()
    for name in SITES:
        assert_site_converged(faulty, name)

    # Nothing was created twice: no second relay namespace, extension or compute appeared, and the retries
    # of a create never made a second resource (each PUT that answered 201 named a resource once).
    state = faulty.state()
    for name in SITES:
        kinds = resources_of_site(state, faulty.sites[name])
        assert {k: len(v) for k, v in kinds.items() if k in ("relayNamespace", "extension", "mlCompute")} == {
            "relayNamespace": 1,
            "extension": 1,
            "mlCompute": 1,
        }
    created = [e["path"].lower() for e in run.arm if e["method"] == "PUT" and e["status"] == 201]
    assert len(created) == len(set(created)), created


@pytest.mark.slow
def test_a_clean_run_after_the_faults_changes_nothing(faulty):
    run = faulty.run_site(label="after-faults")
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() == []
    assert run.arm_writes() == []
    assert run.kube_writes() == []
