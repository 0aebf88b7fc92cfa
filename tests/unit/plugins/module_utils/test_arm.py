"""ARM calls: retries and their budget, LRO polling and its deadline, error normalisation, request headers."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import (
    ArmClient,
    create_pipeline_client,
    resource_path,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import (
    AzureApiError,
    AzureConnectionError,
    api_error,
    retry_after_seconds,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.policies import ArmRetryPolicy, RetrySettings
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Waiter, WaitTimeout
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

ARM = "https://arm.sandbox.local"
CORRELATION = "6d3c1c3e-0f7e-4d7e-9d55-1a2b3c4d5e6f"
CLUSTER = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/site1"


@pytest.fixture
def arm_for(make_transport, fake_clock, fake_credential):
    """An ArmClient over scripted replies; retries sleep on the fake clock, jitter fixed at its midpoint."""

    def build(replies, settings=None):
        transport = make_transport(replies)
        policy = ArmRetryPolicy(
            settings or RetrySettings(), clock=fake_clock, sleep=fake_clock.sleep, jitter=lambda: 0.5
        )
        client = create_pipeline_client(
            ARM,
            CORRELATION,
            credential=fake_credential(),
            scope="https://management.sandbox.local/.default",
            transport=transport,
            retry_policy=policy,
        )
        arm = ArmClient(client, ARM, CORRELATION)
        arm.sent = transport.requests
        return arm

    return build


def waiter(clock, timeout=600, interval=5):
    return Waiter(timeout, interval, clock=clock, sleep=clock.sleep)


# --- retries -------------------------------------------------------------------------------------


def test_a_throttled_request_waits_retry_after_and_a_random_part_of_it_more(arm_for, make_reply, fake_clock):
    # Never sooner than Retry-After; the sites throttled by one bucket are spread over up to as long again (at most
    # 5 s more): jitter at its midpoint gives 7 + 0.5 x 5.
    arm = arm_for([make_reply(429, {}, {"Retry-After": "7"}), make_reply(200, {"ok": True})])
    assert arm.get(CLUSTER, "2024-01-01") == {"ok": True}
    assert fake_clock.sleeps == [9.5]
    assert len(arm.sent) == 2


THROTTLED = {
    "error": {
        "code": "SubscriptionRequestsThrottled",
        "message": "Number of 'write' requests for subscription '0000' actor 'a1' exceeded. Please try again after "
        "'3' seconds after additional tokens are available.",
    }
}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_a_throttled_write_is_sent_again_after_retry_after(arm_for, make_reply, fake_clock, method):
    # ARM's empty token bucket: 429 + Retry-After, and the request was not processed, so any method may go again.
    arm = arm_for([make_reply(429, THROTTLED, {"Retry-After": "3"}), make_reply(200, {"id": CLUSTER})])
    arm.request(method, CLUSTER, "2024-01-01", body=None if method == "DELETE" else {})
    assert fake_clock.sleeps == [4.5]
    assert [r.method for r in arm.sent] == [method, method]


def test_a_throttled_status_poll_is_sent_again_within_the_operation(arm_for, make_reply, fake_clock):
    replies = [
        make_reply(201, {}, {"Azure-AsyncOperation": ASYNC_OP, "Retry-After": "1"}),
        make_reply(429, THROTTLED, {"Retry-After": "2"}),
        make_reply(200, {"status": "Succeeded"}),
        make_reply(200, {"id": CLUSTER, "properties": {"provisioningState": "Succeeded"}}),
    ]
    arm = arm_for(replies)
    assert arm.put(CLUSTER, "2024-01-01", {}, waiter=waiter(fake_clock))["id"] == CLUSTER
    assert fake_clock.sleeps == [1.0, 3.0]  # the operation's Retry-After, then the throttled poll's (2 + 0.5 x 2)
    assert [r.url for r in arm.sent[1:3]] == [ASYNC_OP, ASYNC_OP]


def test_throttling_is_retried_past_max_retries_for_as_long_as_the_budget_lasts(arm_for, make_reply, fake_clock):
    # A fleet sharing one bucket meets many 429s in a row: their count is no reason to give up, the budget is.
    replies = [make_reply(429, THROTTLED, {"Retry-After": "1"})] * 5 + [make_reply(200, {"id": CLUSTER})]
    arm = arm_for(replies, RetrySettings(max_retries=2))
    assert arm.get(CLUSTER, "2024-01-01") == {"id": CLUSTER}
    assert fake_clock.sleeps == [1.5] * 5


def test_throttling_that_outlasts_the_budget_is_one_error_saying_so(arm_for, make_reply, fake_clock):
    arm = arm_for([make_reply(429, THROTTLED, {"Retry-After": "3"})] * 3, RetrySettings(budget=5))
    with pytest.raises(AzureApiError) as caught:
        arm.get(CLUSTER, "2024-01-01")
    assert fake_clock.sleeps == [4.5]
    assert caught.value.status == 429 and caught.value.code == "SubscriptionRequestsThrottled"
    assert "\n" not in caught.value.message and "throttled" in caught.value.message


def test_the_pipeline_retries_with_our_policy_alone():
    """ARMPipelineClient gets our policy list: azure-core's RetryPolicy (no bound on Retry-After) is not in it."""
    from azure.core.pipeline.policies import RetryPolicy

    client = create_pipeline_client(ARM, CORRELATION)
    policies = [getattr(p, "_policy", p) for p in client._pipeline._impl_policies]
    assert sum(isinstance(p, ArmRetryPolicy) for p in policies) == 1
    assert not [p for p in policies if isinstance(p, RetryPolicy)]


def test_server_errors_back_off_exponentially_with_jitter(arm_for, make_reply, fake_clock):
    replies = [make_reply(503), make_reply(500), make_reply(502), make_reply(504), make_reply(200, {})]
    arm = arm_for(replies, RetrySettings(backoff_factor=1.0, backoff_max=30))
    arm.get(CLUSTER, "2024-01-01")
    # ceiling 1, 2, 4, 8; jitter at 0.5 gives three quarters of each
    assert fake_clock.sleeps == [0.75, 1.5, 3.0, 6.0]


RELAY_RULE = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Relay/namespaces/ns/authorizationRules/r"
REGENERATE = RELAY_RULE + "/regenerateKeys"
LIST_KEYS = RELAY_RULE + "/listKeys"


def test_post_is_retried_on_429_but_not_on_500(arm_for, make_reply, fake_clock):
    arm = arm_for([make_reply(429), make_reply(200, {"primaryKey": "k"})])
    assert arm.post(REGENERATE, "2021-11-01")["primaryKey"]
    assert len(arm.sent) == 2

    arm = arm_for([make_reply(500, {"error": {"code": "InternalServerError", "message": "boom"}})])
    with pytest.raises(AzureApiError) as caught:
        arm.post(REGENERATE, "2021-11-01")
    assert caught.value.status == 500
    assert len(arm.sent) == 1


@pytest.mark.parametrize("path", [LIST_KEYS, "/subscriptions/0000/providers/Microsoft.Relay/register"])
def test_posts_that_read_or_can_be_repeated_are_retried_like_gets(arm_for, make_reply, fake_clock, path):
    arm = arm_for([make_reply(500), ServiceResponseError("Connection reset by peer"), make_reply(200, {"x": 1})])
    assert arm.post(path, "2022-09-01") == {"x": 1}
    assert len(arm.sent) == 3


def test_retries_stop_after_max_retries_and_the_last_answer_is_the_error(arm_for, make_reply, fake_clock):
    replies = [make_reply(503, {"error": {"code": "ServiceUnavailable", "message": f"try {i}"}}) for i in range(4)]
    arm = arm_for(replies, RetrySettings(max_retries=3))
    with pytest.raises(AzureApiError) as caught:
        arm.get(CLUSTER, "2024-01-01")
    assert len(arm.sent) == 4
    assert "try 3" in caught.value.message
    assert "server error that persisted through retries" in caught.value.message


def test_retry_after_beyond_the_budget_is_not_slept(arm_for, make_reply, fake_clock):
    arm = arm_for(
        [make_reply(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "3600"})],
        RetrySettings(budget=300),
    )
    with pytest.raises(AzureApiError) as caught:
        arm.get(CLUSTER, "2024-01-01")
    assert fake_clock.sleeps == []
    assert len(arm.sent) == 1
    assert caught.value.status == 429
    assert "throttled" in caught.value.message


def test_budget_is_measured_on_the_monotonic_clock(arm_for, make_reply, fake_clock):
    replies = [make_reply(503, None, {"Retry-After": "40"})] * 5
    arm = arm_for(replies, RetrySettings(max_retries=10, budget=100))
    with pytest.raises(AzureApiError):
        arm.get(CLUSTER, "2024-01-01")
    assert fake_clock.sleeps == [40.0, 40.0]
    assert len(arm.sent) == 3


def test_connection_refused_is_retried_for_any_method(arm_for, make_reply, fake_clock):
    arm = arm_for([ServiceRequestError("[Errno 111] Connection refused"), make_reply(200, {})])
    arm.post("/subscriptions/0000/providers/Microsoft.Relay/register", "2022-09-01")
    assert len(arm.sent) == 2


def test_connection_lost_after_sending_is_retried_only_when_idempotent(arm_for, make_reply, fake_clock):
    arm = arm_for([ServiceResponseError("Connection reset by peer"), make_reply(200, {"id": "x"})])
    assert arm.get(CLUSTER, "2024-01-01") == {"id": "x"}

    arm = arm_for([ServiceResponseError("('Connection aborted.', ConnectionResetError(104))")])
    with pytest.raises(AzureConnectionError) as caught:
        arm.post(REGENERATE, "2021-11-01")
    assert len(arm.sent) == 1
    assert "may or may not have applied it" in caught.value.message


def test_unreachable_endpoint_fails_after_the_retries_with_the_reason(arm_for, fake_clock):
    refused = "HTTPSConnectionPool(host='arm.sandbox.local'): Max retries exceeded ([Errno 111] Connection refused)"
    arm = arm_for([ServiceRequestError(refused)] * 3, RetrySettings(max_retries=2))
    with pytest.raises(AzureConnectionError) as caught:
        arm.get(CLUSTER, "2024-01-01")
    assert len(arm.sent) == 3
    assert caught.value.message.startswith("Could not reach https://arm.sandbox.local for GET " + CLUSTER)
    assert "Connection refused (after 3 attempts" in caught.value.message


def test_tls_verification_failure_is_not_retried_and_says_what_to_set(arm_for):
    import ssl

    cause = ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get local issuer certificate")
    error = ServiceRequestError("SSLError", error=cause)
    arm = arm_for([error])
    with pytest.raises(AzureConnectionError) as caught:
        arm.get(CLUSTER, "2024-01-01")
    assert len(arm.sent) == 1
    assert "TLS verification failed for https://arm.sandbox.local" in caught.value.message
    assert "ca_bundle" in caught.value.message


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "Sun, 29 Nov 2026 10:00:30 GMT"}, 30.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers, seconds):
    import datetime

    now = datetime.datetime(2026, 11, 29, 10, 0, 0, tzinfo=datetime.timezone.utc)
    assert retry_after_seconds(headers, now=now) == seconds


# --- long-running operations ---------------------------------------------------------------------

ASYNC_OP = "https://arm.sandbox.local/providers/Microsoft.Kubernetes/locations/eastus/operationStatuses/op1"


def test_lro_polls_after_retry_after_then_gets_the_resource(arm_for, make_reply, fake_clock):
    replies = [
        make_reply(
            201,
            {"properties": {"provisioningState": "Accepted"}},
            {"Azure-AsyncOperation": ASYNC_OP, "Retry-After": "3"},
        ),
        make_reply(200, {"status": "InProgress"}, {"Retry-After": "4"}),
        make_reply(200, {"status": "Succeeded"}),
        make_reply(200, {"id": CLUSTER, "properties": {"provisioningState": "Succeeded"}}),
    ]
    arm = arm_for(replies)
    result = arm.put(CLUSTER, "2024-01-01", {"location": "eastus"}, waiter=waiter(fake_clock))
    assert result["properties"]["provisioningState"] == "Succeeded"
    # The initial answer's Retry-After is honoured too: azure-core would poll at once, then every 30 s.
    assert fake_clock.sleeps == [3.0, 4.0]
    assert [r.method for r in arm.sent] == ["PUT", "GET", "GET", "GET"]
    assert arm.sent[1].url == ASYNC_OP


def test_lro_without_retry_after_backs_off_to_wait_sleep_not_30s(arm_for, make_reply, fake_clock):
    replies = [make_reply(202, None, {"Location": ASYNC_OP})] * 4 + [make_reply(200, {})]
    arm = arm_for(replies)
    assert arm.delete(CLUSTER, "2024-01-01", waiter=waiter(fake_clock, interval=3)) is True
    assert fake_clock.sleeps == [1.0, 2.0, 3.0, 3.0]  # growing by a second, up to wait_sleep


def test_lro_timeout_fails_with_the_last_observed_state(arm_for, make_reply, fake_clock):
    accepted = make_reply(201, {"properties": {"provisioningState": "Accepted"}}, {"Azure-AsyncOperation": ASYNC_OP})
    replies = [accepted] + [make_reply(200, {"status": "InProgress"})] * 10
    arm = arm_for(replies)
    with pytest.raises(WaitTimeout) as caught:
        arm.put(CLUSTER, "2024-01-01", {}, waiter=waiter(fake_clock, timeout=12, interval=5))
    assert caught.value.last_state == "InProgress"
    assert f"PUT {CLUSTER}" in caught.value.message
    assert sum(fake_clock.sleeps) == 12


def test_failed_lro_becomes_one_azure_error(arm_for, make_reply, fake_clock):
    failed = {
        "status": "Failed",
        "error": {"code": "ResourceOperationFailure", "message": "The agent public key is malformed."},
    }
    replies = [
        make_reply(201, {}, {"Azure-AsyncOperation": ASYNC_OP}),
        make_reply(200, failed, {"x-ms-request-id": "req-42"}),
    ]
    arm = arm_for(replies)
    with pytest.raises(AzureApiError) as caught:
        arm.put(CLUSTER, "2024-01-01", {}, waiter=waiter(fake_clock))
    message = caught.value.message
    assert caught.value.code == "ResourceOperationFailure"
    assert message.startswith(f"Azure PUT {CLUSTER} failed: the operation ended Failed ResourceOperationFailure: ")
    assert "The agent public key is malformed." in message
    assert caught.value.status is None
    assert "x-ms-request-id: req-42" in message


def test_without_a_waiter_the_first_answer_is_returned(arm_for, make_reply):
    arm = arm_for(
        [make_reply(201, {"properties": {"provisioningState": "Accepted"}}, {"Azure-AsyncOperation": ASYNC_OP})]
    )
    assert arm.put(CLUSTER, "2024-01-01", {}, waiter=None)["properties"]["provisioningState"] == "Accepted"
    assert len(arm.sent) == 1


def test_delete_of_an_absent_resource_is_false(arm_for, make_reply):
    arm = arm_for([make_reply(404, {"error": {"code": "ResourceNotFound", "message": "gone"}})])
    assert arm.delete(CLUSTER, "2024-01-01") is False


def test_get_or_none(arm_for, make_reply):
    arm = arm_for([make_reply(404, {"error": {"code": "ResourceNotFound", "message": "not found"}})])
    assert arm.get_or_none(CLUSTER, "2024-01-01") is None
    arm = arm_for([make_reply(404, {"error": {"code": "SubscriptionNotFound", "message": "no sub"}})])
    with pytest.raises(AzureApiError, match="Check subscription_id"):
        arm.get_or_none(CLUSTER, "2024-01-01")


def test_list_follows_next_link(arm_for, make_reply):
    next_link = ARM + "/subscriptions/0000/providers/Microsoft.Kubernetes/connectedClusters?$skiptoken=2"
    arm = arm_for([make_reply(200, {"value": [1, 2], "nextLink": next_link}), make_reply(200, {"value": [3]})])
    assert arm.list("/subscriptions/0000/providers/Microsoft.Kubernetes/connectedClusters", "2024-01-01") == [1, 2, 3]
    assert arm.sent[1].url == next_link


# --- request headers -----------------------------------------------------------------------------


def test_every_request_carries_user_agent_correlation_id_and_its_own_request_id(arm_for, make_reply):
    arm = arm_for([make_reply(503), make_reply(200, {}), make_reply(200, {})])
    arm.get(CLUSTER, "2024-01-01")
    arm.get(CLUSTER, "2024-01-01")
    headers = [r.headers for r in arm.sent]
    assert all(h["User-Agent"].startswith("hci.arc_ml/0.1.0 ") for h in headers)
    assert all(h["x-ms-correlation-request-id"] == CORRELATION for h in headers)
    assert all(h["Authorization"] == "Bearer fake-token" for h in headers)
    assert len({h["x-ms-client-request-id"] for h in headers[1:]}) == 2
    assert arm.sent[0].url == ARM + CLUSTER + "?api-version=2024-01-01"


def test_resource_path_encodes_each_segment():
    assert resource_path("subscriptions", "s", "providers", "Microsoft.Foo/../x?y") == (
        "/subscriptions/s/providers/Microsoft.Foo%2F..%2Fx%3Fy"
    )


def test_default_transport_always_verifies_tls(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    with_bundle = create_pipeline_client(ARM, CORRELATION, ca_bundle=str(bundle))
    without = create_pipeline_client(ARM, CORRELATION)
    assert with_bundle._pipeline._transport.connection_config.verify == str(bundle)
    assert without._pipeline._transport.connection_config.verify is True


# --- error normalisation -------------------------------------------------------------------------


def test_arm_error_envelope_becomes_one_line_with_code_target_request_id_and_next_step():
    body = {
        "error": {
            "code": "AuthorizationFailed",
            "message": "The client 'c1' does not have authorization to perform action\n'Microsoft.Kubernetes/write'.",
            "target": "/subscriptions/0000/resourceGroups/rg",
        }
    }
    error = api_error("PUT", CLUSTER, 403, {"x-ms-request-id": "r-1"}, body, CORRELATION)
    assert "\n" not in error.message
    assert error.message.startswith(f"Azure PUT {CLUSTER} failed: HTTP 403 AuthorizationFailed: The client 'c1'")
    assert "Target: /subscriptions/0000/resourceGroups/rg." in error.message
    assert "Grant the identity a role" in error.message
    assert f"(x-ms-request-id: r-1; correlation id: {CORRELATION})" in error.message
    assert error.details == {
        "status": 403,
        "error_code": "AuthorizationFailed",
        "request_id": "r-1",
        "correlation_id": CORRELATION,
    }


def test_missing_registration_names_the_provider_to_register():
    body = {
        "error": {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.KubernetesConfiguration'.",
        }
    }
    error = api_error("PUT", CLUSTER, 409, {}, body)
    assert "Register Microsoft.KubernetesConfiguration in this subscription (hci.arc_ml.resource_provider)" in (
        error.message
    )


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        (
            {"code": "InvalidResourceNamespace", "message": "The resource namespace 'Foo' is invalid."},
            "InvalidResourceNamespace",
            "The resource namespace 'Foo' is invalid.",
        ),
        ({"error": {"code": "BadRequest", "message": {"value": "OData says no"}}}, "BadRequest", "OData says no"),
        (
            {
                "error": {
                    "code": "DeploymentFailed",
                    "message": "At least one failed.",
                    "details": [{"code": "Conflict", "message": "Quota exceeded"}],
                }
            },
            "DeploymentFailed",
            "At least one failed. (Conflict: Quota exceeded)",
        ),
        ("<html><body>502 Bad Gateway</body></html>", None, "<html><body>502 Bad Gateway</body></html>"),
        ("", None, "no error message in the response"),
    ],
)
def test_error_body_variants(body, code, text):
    error = api_error("GET", CLUSTER, 400, {"X-Ms-Request-Id": "abc"}, body)
    assert error.code == code
    assert text in error.message
    assert error.request_id == "abc"
