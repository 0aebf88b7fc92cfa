"""ARM's token-bucket throttling: the rate-limit headers on every ARM answer, 429 + Retry-After when a bucket is
empty, the refill, and the real SDK riding it out (https://learn.microsoft.com/azure/azure-resource-manager/management/
request-limits-and-throttling)."""

import os
import time

import pytest
from contract_helpers import arm_token, fetch

pytestmark = pytest.mark.sandbox

API = "api-version=2022-09-01"
READS = "x-ms-ratelimit-remaining-subscription-reads"


@pytest.fixture
def scale(emulator):
    """Set throttle_scale for one test (fresh, full buckets); Azure's sizes again afterwards."""

    def set_scale(value):
        emulator.admin.settings(throttle_scale=value)

    yield set_scale
    emulator.admin.settings(throttle_scale=1.0)


@pytest.fixture
def groups(emulator):
    return f"/subscriptions/{emulator.subscription_id}/resourcegroups"


def test_every_arm_answer_says_what_is_left_of_its_bucket(arm, groups, emulator, scale):
    scale(1.0)
    first = arm("GET", f"{groups}/rg-site-a?{API}")
    second = arm("GET", f"{groups}?{API}")
    assert first.status_code == 200 and second.status_code == 200
    left = int(first.headers[READS])
    assert 240 <= left <= 249 and int(second.headers[READS]) < left
    assert 3740 <= int(first.headers["x-ms-ratelimit-remaining-subscription-global-reads"]) <= 3749
    # Errors after the token check count too; each operation type has its own header.
    assert READS in arm("GET", f"{groups}/rg-absent?{API}").headers
    write = arm("PUT", f"{groups}/rg-throttle-headers?{API}", json={"location": "eastus"})
    assert write.status_code in (200, 201) and int(write.headers["x-ms-ratelimit-remaining-subscription-writes"]) < 200
    assert READS not in write.headers
    delete = arm("DELETE", f"{groups}/rg-throttle-headers?{API}")
    assert "x-ms-ratelimit-remaining-subscription-deletes" in delete.headers
    # Tenant-level requests draw on the tenant's bucket.
    assert "x-ms-ratelimit-remaining-tenant-reads" in arm("GET", f"/subscriptions?{API}").headers
    # Not ARM: no rate-limit headers on sign-in, metadata or the registry; none before the token check.
    for path in ("/metadata/endpoints?api-version=2022-09-01", "/v2/"):
        headers = fetch(emulator, "GET", emulator.url + path).headers
        assert not [h for h in headers if h.lower().startswith("x-ms-ratelimit")], path
    assert READS not in arm("GET", f"{groups}?{API}", token=None).headers


def test_an_empty_bucket_answers_429_with_retry_after_until_it_refills(arm, groups, emulator, scale):
    scale(0.02)  # reads: a bucket of 5, refilling 0.5 a second
    mark = emulator.admin.last_seq()
    answers = [arm("GET", f"{groups}/rg-site-a?{API}") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers[READS] for a in answers] == ["4", "3", "2", "1", "0", "0"]
    throttled = answers[-1]
    retry_after = int(throttled.headers["Retry-After"])
    assert retry_after == 2
    error = throttled.json()["error"]
    assert error["code"] == "SubscriptionRequestsThrottled"
    assert error["message"].startswith(f"Number of 'read' requests for subscription '{emulator.subscription_id}' actor")
    assert f"Please try again after '{retry_after}' seconds" in error["message"]
    assert throttled.headers["x-ms-request-id"]
    # The other operation types are not touched, and the log says which bucket refused and for how long.
    assert arm("PUT", f"{groups}/rg-site-a?{API}", json={"location": "eastus"}).status_code == 200
    entry = next(e for e in emulator.admin.requests(mark) if e["status"] == 429)
    assert entry["throttle"] == {"operation": "reads", "limit": "principal", "retryAfter": 2}
    assert entry["fault"] is None
    time.sleep(retry_after)
    assert arm("GET", f"{groups}/rg-site-a?{API}").status_code == 200


def test_each_principal_has_its_own_bucket(arm, groups, emulator, scale):
    scale(0.004)  # reads: 1 per principal (15 for all of them)
    assert arm("GET", f"{groups}?{API}").status_code == 200
    assert arm("GET", f"{groups}?{API}").status_code == 429
    other = arm("GET", f"/subscriptions/{emulator.subscription_id}?{API}", token=arm_token(emulator, "no-rights"))
    # Throttling comes before authorization: a principal without rights spends a token and is then refused.
    assert other.status_code == 403 and other.headers[READS] == "0"


def test_the_real_sdk_waits_retry_after_and_succeeds(credential, arm_scope, registered, emulator, scale):
    from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient

    client = ConnectedKubernetesClient(
        credential,
        os.environ["AZURE_SUBSCRIPTION_ID"],
        base_url=os.environ["AZURE_CLOUD_ENVIRONMENT"],
        credential_scopes=[arm_scope],
    )
    list(client.connected_cluster.list_by_resource_group("rg-site-a"))  # a token before the buckets shrink
    scale(0.02)
    mark = emulator.admin.last_seq()
    started = time.monotonic()
    for _ in range(7):
        list(client.connected_cluster.list_by_resource_group("rg-site-a"))
    statuses = [e["status"] for e in emulator.admin.requests(mark) if "/connectedClusters" in e["path"]]
    assert statuses.count(429) >= 1 and statuses.count(200) == 7, statuses
    assert time.monotonic() - started >= 2  # the Retry-After was honoured
