"""AzureContext: cloud metadata, authentication up front, then ARM calls with the same correlation id."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import AzureContext, AzureCredentialsError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

ARM = "https://127.0.0.1:8443"
LOGIN = "https://127.0.0.1:8443/login"
SUBSCRIPTION = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"
METADATA = {
    "name": "Sandbox",
    "resourceManager": ARM + "/",
    "authentication": {"loginEndpoint": LOGIN, "audiences": ["https://management.sandbox.local/"]},
}


@pytest.fixture
def fake_azure(fake_entra, make_transport, make_reply):
    """One transport for metadata, Entra ID and ARM; ARM answers every GET with a provider."""

    def build(reject=None):
        entra = fake_entra(login=LOGIN, reject=reject)

        def handle(request):
            if entra.handles(request):
                return entra(request)
            if "/metadata/endpoints" in request.url:
                return make_reply(200, METADATA)
            return make_reply(200, {"namespace": "Microsoft.Relay", "registrationState": "Registered"})

        transport = make_transport(handle)
        transport.entra = entra
        return transport

    return build


def params(**overrides):
    values = {
        "auth_source": "auto",
        "subscription_id": SUBSCRIPTION,
        "client_id": CLIENT,
        "tenant": TENANT,
        "secret": "sandbox-secret",
        "cloud_environment": ARM,
        "ca_bundle": None,
    }
    values.update(overrides)
    return values


def test_metadata_then_token_then_arm_with_one_correlation_id(fake_azure):
    transport = fake_azure()
    context = AzureContext.from_params(params(), environ={}, transport=transport)
    body = context.arm.get(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relay", "2022-09-01")
    assert body["registrationState"] == "Registered"

    urls = [r.url for r in transport.requests]
    assert urls[0] == ARM + "/metadata/endpoints?api-version=2022-09-01"
    assert urls[-1] == f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relay?api-version=2022-09-01"
    assert transport.entra.token_requests[0]["scope"] == "https://management.sandbox.local/.default"
    arm_request = transport.requests[-1]
    assert arm_request.headers["Authorization"] == "Bearer entra-token"
    assert transport.requests[0].headers["x-ms-correlation-request-id"] == context.correlation_id
    assert arm_request.headers["x-ms-correlation-request-id"] == context.correlation_id
    assert "Authorization" not in transport.requests[0].headers


def test_rejected_credentials_fail_before_any_arm_request(fake_azure):
    transport = fake_azure(reject="AADSTS7000215: Invalid client secret provided.")
    with pytest.raises(AzureCredentialsError) as caught:
        AzureContext.from_params(params(secret="wrong-secret"), environ={}, transport=transport)
    assert "wrong-secret" not in caught.value.message
    assert f"authority {LOGIN}" in caught.value.message
    assert not [r for r in transport.requests if "/subscriptions/" in r.url]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subscription_id": None}, "subscription_id is required"),
        ({"subscription_id": "my-subscription"}, "is not a subscription GUID"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle /nonexistent/ca.pem is not a readable file"),
    ],
)
def test_bad_settings_fail_before_any_request(fake_azure, overrides, message):
    transport = fake_azure()
    with pytest.raises(ArcMLError, match=message):
        AzureContext.from_params(params(**overrides), environ={}, transport=transport)
    assert transport.requests == []
