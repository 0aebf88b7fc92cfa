"""ARM's token buckets: sizes and refill rates per operation type, principal and global buckets, headers, 429s."""

import pytest

from sandbox.emulator.throttle import Throttle, operation_of

SUB = "6f1c3b3e-0000-4000-8000-00000000c0de"
TENANT = "8d2a4c5e-0000-4000-8000-00000000beef"
ADMIN = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def throttle(clock):
    return Throttle(now=clock)


def admit(throttle, method="GET", principal=ADMIN, scale=1.0, subscription=SUB):
    return throttle.admit(scale, method, principal, subscription, TENANT)


@pytest.mark.parametrize(
    ("method", "operation"),
    [("GET", "reads"), ("HEAD", "reads"), ("PUT", "writes"), ("PATCH", "writes"), ("POST", "writes"),
     ("DELETE", "deletes")],
)  # fmt: skip
def test_methods_count_as_arm_s_operation_types(method, operation):
    assert operation_of(method) == operation


def test_one_read_of_a_full_bucket_leaves_249_and_3749_global(throttle):
    decision = admit(throttle)
    assert decision.error is None
    assert decision.headers == {
        "x-ms-ratelimit-remaining-subscription-reads": "249",
        "x-ms-ratelimit-remaining-subscription-global-reads": "3749",
    }


@pytest.mark.parametrize(("method", "name", "left"), [("PUT", "writes", 199), ("DELETE", "deletes", 199)])
def test_writes_and_deletes_have_buckets_of_200(throttle, method, name, left):
    headers = admit(throttle, method).headers
    assert headers == {
        f"x-ms-ratelimit-remaining-subscription-{name}": str(left),
        f"x-ms-ratelimit-remaining-subscription-global-{name}": "2999",
    }


def test_a_drained_bucket_answers_429_with_retry_after_and_takes_no_token(throttle):
    for _ in range(250):
        assert admit(throttle).error is None
    refused = admit(throttle)
    error = refused.error
    assert (error.status, error.code) == (429, "SubscriptionRequestsThrottled")
    # 25 reads a second: the next token is 0.04 s away; Retry-After is whole seconds, at least 1.
    assert error.headers["Retry-After"] == "1"
    assert error.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    assert error.message == (
        f"Number of 'read' requests for subscription '{SUB}' actor '{ADMIN}' exceeded. Please try again after '1' "
        "seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional "
        "information."
    )
    assert refused.log_entry() == {"operation": "reads", "limit": "principal", "retryAfter": 1}
    # Other operation types have buckets of their own.
    assert admit(throttle, "PUT").error is None


def test_the_bucket_refills_at_its_rate_up_to_its_size(throttle, clock):
    for _ in range(200):
        admit(throttle, "PUT")
    assert admit(throttle, "PUT").error is not None
    clock.now += 0.1  # 10 writes a second: one token
    assert admit(throttle, "PUT").headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert admit(throttle, "PUT").error is not None
    clock.now += 3600
    assert admit(throttle, "PUT").headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"


def test_retry_after_is_the_time_until_a_token_is_back(throttle, clock):
    scale = 0.01  # writes: a bucket of 2, refilling 0.1 a second
    assert admit(throttle, "PUT", scale=scale).headers["x-ms-ratelimit-remaining-subscription-writes"] == "1"
    admit(throttle, "PUT", scale=scale)
    assert admit(throttle, "PUT", scale=scale).error.headers["Retry-After"] == "10"
    clock.now += 7.5
    assert admit(throttle, "PUT", scale=scale).error.headers["Retry-After"] == "3"
    clock.now += 2.5
    assert admit(throttle, "PUT", scale=scale).error is None


def test_each_principal_has_its_buckets_and_all_share_the_global_one(throttle):
    scale = 0.02  # reads: 5 per principal, 75 global
    for _ in range(5):
        admit(throttle, scale=scale)
    assert admit(throttle, scale=scale).error is not None
    other = admit(throttle, principal=OTHER, scale=scale)
    assert other.error is None
    assert other.headers == {
        "x-ms-ratelimit-remaining-subscription-reads": "4",
        "x-ms-ratelimit-remaining-subscription-global-reads": "69",
    }


def test_an_empty_global_bucket_throttles_every_principal(throttle):
    scale = 0.004  # reads: 1 per principal, 15 global
    for index in range(15):
        assert admit(throttle, principal=f"principal-{index}", scale=scale).error is None
    refused = admit(throttle, principal="principal-15", scale=scale)
    assert refused.error.code == "SubscriptionRequestsThrottled" and refused.log_entry()["limit"] == "global"
    assert "actor" not in refused.error.message


def test_tenant_requests_draw_on_the_tenant_bucket(throttle):
    decision = admit(throttle, subscription=None, scale=0.004)
    assert decision.headers == {"x-ms-ratelimit-remaining-tenant-reads": "0"}
    refused = admit(throttle, subscription=None, scale=0.004)
    assert (refused.error.status, refused.error.code) == (429, "TenantRequestsThrottled")
    assert admit(throttle, scale=0.004).error is None  # the subscription's buckets are others


def test_a_new_scale_starts_full_buckets_and_zero_turns_throttling_off(throttle):
    for _ in range(5):
        admit(throttle, scale=0.02)
    assert admit(throttle, scale=0.02).error is not None
    assert admit(throttle, scale=0.04).headers["x-ms-ratelimit-remaining-subscription-reads"] == "9"
    off = admit(throttle, scale=0)
    assert off.error is None and off.headers == {}
