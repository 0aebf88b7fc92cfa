"""playbooks/site.yml converges a fresh fleet although ARM's buckets run dry (issue 19).

The sandbox's ARM throttles as Azure documents it (token buckets per subscription, principal and operation type,
sandbox/emulator/throttle.py); here at 3% of Azure's sizes and refill rates (reads: 8, refilling 0.75 a second;
writes: 6, refilling 0.3 a second), so the provider registration, the onboarding and the extension install of two
sites run them dry (the write bucket is emptied just before the run: on a loaded machine the run is slow enough for
the refill to keep up with two sites' writes). Every site must still converge, and the request log must show the
429s and, after each, the same request sent again no sooner than its Retry-After.
"""

import datetime
from pathlib import Path

import pytest
from playbook_runner import run_playbook
from test_site_playbooks import computes_path, recap

from sandbox.testing import FAST_OPERATIONS, ArmSession, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites.yml"
THROTTLE_SCALE = 0.03
SITE_GROUPS = (("pb-mixed", "rg-pb-mixed"), ("pb-linux", "rg-pb-linux"))


@pytest.fixture(scope="module")
def fleet(testbed_bin, tmp_path_factory):
    settings = dict(FAST_OPERATIONS, throttle_scale=THROTTLE_SCALE)
    with running_sandbox(SITES, tmp_path_factory.mktemp("throttled-fleet"), **settings) as sandbox:
        yield sandbox.dir, sandbox.env, sandbox.admin


def logged_at(entry) -> datetime.datetime:
    # The log writes seven fractional digits (as ARM does); Python reads six.
    return datetime.datetime.fromisoformat(entry["time"][:26])


def retries_of(entries):
    """For each throttled entry: (the 429, the next attempt of the same method and path)."""
    pairs = []
    for index, entry in enumerate(entries):
        if entry["status"] != 429:
            continue
        later = (e for e in entries[index + 1 :] if (e["method"], e["path"]) == (entry["method"], entry["path"]))
        pairs.append((entry, next(later, None)))
    return pairs


def drain_the_write_bucket(env):
    """Spend the principal's write tokens, so that the run meets a dry write bucket whatever the machine's speed.

    Two sites' writes alone may not outrun the refill when a loaded machine makes the run slow. The POSTs register
    a provider site.yml registers anyway (idempotent); throttled, they change nothing.
    """
    arm = ArmSession(env)
    for _attempt in range(50):
        answer = arm.call("POST", f"{arm.subscription}/providers/Microsoft.Relay/register", "2022-09-01")
        if answer.status_code == 429:
            return
    raise AssertionError("the write bucket never ran dry")


def test_every_site_converges_through_the_429s(fleet, tmp_path):
    directory, env, admin = fleet
    drain_the_write_bucket(env)
    mark = admin.last_seq()
    run = run_playbook(REPO / "playbooks" / "site.yml", env, tmp_path, "-i", str(directory / "inventory.yml"))
    assert run.rc == 0, run.output[-3000:]
    rows = recap(run.output)
    assert set(rows) == {site for site, _ in SITE_GROUPS}
    assert all(r["failed"] == 0 and r["changed"] > 0 for r in rows.values()), rows
    assert "SubscriptionRequestsThrottled" not in run.output

    # The checks below read ARM without retries, as the same principal: with the buckets still dry they would be
    # throttled themselves. The request log of the run is kept.
    admin.settings(throttle_scale=0)
    arm = ArmSession(env)
    for site, group in SITE_GROUPS:
        cluster = arm.call("GET", arm.cluster_id(group, site), "2024-01-01").json()
        assert cluster["properties"]["connectivityStatus"] == "Connected"
        extension = arm.call("GET", arm.cluster_id(group, site) + "/providers/Microsoft.KubernetesConfiguration/"
                             "extensions/azureml", "2024-11-01").json()  # fmt: skip
        assert extension["properties"]["provisioningState"] == "Succeeded"
    computes = arm.call("GET", computes_path(arm), "2025-12-01").json()["value"]
    owners = {c["properties"]["resourceId"].lower() for c in computes}
    assert owners == {arm.cluster_id(group, site).lower() for site, group in SITE_GROUPS}

    entries = admin.requests(mark)
    pairs = retries_of(entries)
    # The buckets did run dry, for reads and for writes, and it was the throttle (no injected fault) that said so.
    assert len(pairs) >= 3, [f"{e['method']} {e['path']}" for e, _ in pairs]
    assert {throttled["throttle"]["operation"] for throttled, _ in pairs} >= {"reads", "writes"}
    assert all(throttled["fault"] is None and throttled["throttle"]["retryAfter"] >= 1 for throttled, _ in pairs)
    for throttled, retry in pairs:
        what = f"{throttled['method']} {throttled['path']}"
        assert retry is not None, f"{what} was throttled and never sent again"
        waited = (logged_at(retry) - logged_at(throttled)).total_seconds()
        # Sent again once Retry-After had passed, not before (a few ms of logging granularity aside).
        assert waited >= throttled["throttle"]["retryAfter"] - 0.05, (what, waited, throttled["throttle"])
