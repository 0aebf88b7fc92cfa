"""ARM's 409 MissingSubscriptionRegistration: what it names, and when a read may take it for "nothing exists yet".

Only in check mode, and only for the namespace of the resource read: every other 409, the same answer outside check
mode, and the answer naming another namespace stay errors.
"""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import ArmClient, create_pipeline_client
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import (
    AzureApiError,
    api_error,
    is_absent,
    is_unregistered_namespace,
    namespace_of,
    unregistered_namespace,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.policies import ArmRetryPolicy, RetrySettings

ARM = "https://arm.sandbox.local"
CORRELATION = "6d3c1c3e-0f7e-4d7e-9d55-1a2b3c4d5e6f"
GROUP = "/subscriptions/0000/resourceGroups/rg/providers"
CLUSTER = f"{GROUP}/Microsoft.Kubernetes/connectedClusters/site1"
EXTENSION = f"{CLUSTER}/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
COMPUTE = f"{GROUP}/Microsoft.MachineLearningServices/workspaces/mlw/computes/site1"
RELAY_KEYS = f"{GROUP}/Microsoft.Relay/namespaces/ns/hybridConnections/site1/authorizationRules/azureml_rw/listKeys"


def not_registered(namespace):
    """ARM's answer for a namespace the subscription is not registered to use (the message and details[].target
    as https://github.com/Azure/msrestazure-for-python/issues/53 quotes them)."""
    message = (
        f"The subscription is not registered to use namespace '{namespace}'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    details = [{"code": "MissingSubscriptionRegistration", "target": namespace, "message": message}]
    return {"error": {"code": "MissingSubscriptionRegistration", "message": message, "details": details}}


def refused(path, namespace, status=409, method="GET"):
    return api_error(method, path, status, {"x-ms-request-id": "r-1"}, not_registered(namespace))


@pytest.mark.parametrize(
    ("path", "namespace"),
    [
        (CLUSTER, "Microsoft.Kubernetes"),
        (EXTENSION, "Microsoft.KubernetesConfiguration"),
        (COMPUTE, "Microsoft.MachineLearningServices"),
        (RELAY_KEYS, "Microsoft.Relay"),
        ("/subscriptions/0000/resourceGroups/rg", None),
    ],
)
def test_the_namespace_of_a_path_is_the_one_after_its_last_providers_segment(path, namespace):
    assert namespace_of(path) == namespace


@pytest.mark.parametrize(
    ("path", "namespace"),
    [
        (CLUSTER, "Microsoft.Kubernetes"),
        (EXTENSION, "Microsoft.KubernetesConfiguration"),
        (RELAY_KEYS, "Microsoft.Relay"),
        (CLUSTER, "microsoft.kubernetes"),  # namespaces compare without case, as ARM's do
    ],
)
def test_in_check_mode_the_unregistered_namespace_of_the_resource_read_means_absent(path, namespace):
    error = refused(path, namespace)
    assert unregistered_namespace(error) == namespace
    assert is_unregistered_namespace(error)
    assert is_absent(error, check_mode=True)


def test_outside_check_mode_it_stays_an_error_that_says_what_to_register():
    error = refused(CLUSTER, "Microsoft.Kubernetes")
    assert not is_absent(error)
    assert not is_absent(error, check_mode=False)
    assert "HTTP 409 MissingSubscriptionRegistration" in error.message
    assert "Register Microsoft.Kubernetes in this subscription (hci.arc_ml.resource_provider) and re-run." in (
        error.message
    )


def test_a_refusal_naming_another_namespace_than_the_resource_s_stays_an_error_in_check_mode():
    # The extension's own namespace is Microsoft.KubernetesConfiguration: a refusal for its cluster's namespace
    # says nothing about whether the extension exists.
    error = refused(EXTENSION, "Microsoft.Kubernetes")
    assert unregistered_namespace(error) == "Microsoft.Kubernetes"
    assert not is_unregistered_namespace(error)
    assert not is_absent(error, check_mode=True)


@pytest.mark.parametrize(
    "error",
    [
        api_error("GET", CLUSTER, 409, {}, {"error": {"code": "Conflict", "message": "Another operation is running."}}),
        # The code without the status, and the status without the code, are not ARM's answer.
        refused(CLUSTER, "Microsoft.Kubernetes", status=400),
        api_error(
            "GET",
            CLUSTER,
            409,
            {},
            {"error": {"code": "OperationNotAllowed", "message": "namespace 'Microsoft.Kubernetes' is busy."}},
        ),
        # No namespace named: nothing to compare with the resource's.
        api_error("GET", CLUSTER, 409, {}, {"error": {"code": "MissingSubscriptionRegistration", "message": "No."}}),
        # A failed long-running operation has no HTTP status.
        AzureApiError("PUT", CLUSTER, None, "MissingSubscriptionRegistration", "namespace 'Microsoft.Kubernetes'"),
    ],
)
def test_other_answers_are_never_taken_for_absent(error):
    assert not is_unregistered_namespace(error)
    assert not is_absent(error, check_mode=True)


def test_the_older_wording_names_the_namespace_not_the_state():
    # The older message quotes the registration state first:
    # https://github.com/Azure/azure-sdk-for-node/issues/2305
    message = (
        "The subscription registration is in 'Unregistered' state. The subscription must be registered to use "
        "namespace 'Microsoft.KubernetesConfiguration'. See https://aka.ms/rps-not-found for how to register "
        "subscriptions."
    )
    error = api_error(
        "GET", EXTENSION, 409, {}, {"error": {"code": "MissingSubscriptionRegistration", "message": message}}
    )
    assert unregistered_namespace(error) == "Microsoft.KubernetesConfiguration"
    assert is_absent(error, check_mode=True)
    assert "Register Microsoft.KubernetesConfiguration in this subscription" in error.message


@pytest.fixture
def arm_answering(make_transport, make_reply, fake_clock, fake_credential):
    """An ArmClient whose every request is answered `status` with `body`."""

    def build(status, body):
        transport = make_transport(lambda request: make_reply(status, body))
        policy = ArmRetryPolicy(RetrySettings(), clock=fake_clock, sleep=fake_clock.sleep, jitter=lambda: 0.5)
        client = create_pipeline_client(
            ARM, CORRELATION, credential=fake_credential(), scope="https://management.sandbox.local/.default",
            transport=transport, retry_policy=policy,
        )  # fmt: skip
        arm = ArmClient(client, ARM, CORRELATION)
        arm.sent = transport.requests
        return arm

    return build


def test_get_or_none_through_the_pipeline_only_in_check_mode(arm_answering):
    arm = arm_answering(409, not_registered("Microsoft.Kubernetes"))
    assert arm.get_or_none(CLUSTER, "2024-01-01", check_mode=True) is None
    with pytest.raises(AzureApiError) as raised:
        arm.get_or_none(CLUSTER, "2024-01-01")
    assert raised.value.status == 409 and raised.value.code == "MissingSubscriptionRegistration"
    # One request each: a 409 is never retried, and nothing is registered behind the caller's back.
    assert [(r.method, r.url.split("?")[0]) for r in arm.sent] == [("GET", ARM + CLUSTER)] * 2
