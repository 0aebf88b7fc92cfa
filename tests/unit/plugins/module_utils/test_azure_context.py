"""AzureContext: cloud metadata, authentication up front, then ARM calls with the same correlation id."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import (
    AzureContext,
    AzureCredentialsError,
    plan_credentials,
    token_owner,
)
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


def test_a_foreign_login_endpoint_in_the_metadata_sends_nothing_but_the_metadata_request(make_transport, make_reply):
    foreign = dict(METADATA, authentication={"loginEndpoint": "https://login.evil.example", "audiences": [ARM + "/"]})
    transport = make_transport(lambda request: make_reply(200, foreign))
    with pytest.raises(ArcMLError) as caught:
        AzureContext.from_params(params(), environ={}, transport=transport)
    assert "login.evil.example" in caught.value.message and "trusted_login_hosts" in caught.value.message
    assert [r.url for r in transport.requests] == [ARM + "/metadata/endpoints?api-version=2022-09-01"]
    assert "sandbox-secret" not in caught.value.message


def test_trusted_login_hosts_lets_the_foreign_login_endpoint_be_used(fake_entra, make_transport, make_reply):
    entra = fake_entra(login="https://adfs.hub.example/adfs")
    foreign = dict(METADATA, authentication={"loginEndpoint": entra.login, "audiences": [ARM + "/"]})

    def handle(request):
        if entra.handles(request):
            return entra(request)
        return make_reply(200, foreign)

    context = AzureContext.from_params(
        params(trusted_login_hosts=["adfs.hub.example"]), environ={}, transport=make_transport(handle)
    )
    assert context.cloud.login_endpoint == "https://adfs.hub.example/adfs"
    assert entra.token_requests[0]["client_secret"] == "sandbox-secret"


def test_a_profile_s_subscription_and_cloud_apply_when_options_set_none(fake_azure, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text(
        f"[default]\nsubscription_id = {SUBSCRIPTION}\ncloud_environment = {ARM}\nclient_id = {CLIENT}\n"
        f"tenant = {TENANT}\nsecret = file-secret\n"
    )
    transport = fake_azure()
    context = AzureContext.from_params(
        params(subscription_id=None, cloud_environment=None, client_id=None, tenant=None, secret=None),
        environ={},
        transport=transport,
    )
    assert context.subscription_id == SUBSCRIPTION
    assert context.cloud.resource_manager == ARM
    assert transport.entra.token_requests[0]["client_secret"] == "file-secret"
    explicit = AzureContext.from_params(
        params(subscription_id="00000000-0000-4000-8000-000000000000", client_id=None, tenant=None, secret=None),
        environ={},
        transport=fake_azure(),
    )
    assert explicit.subscription_id == "00000000-0000-4000-8000-000000000000"


# The token cache (token_cache.py): what a later module process of the run asks Azure


def cached(**overrides):
    return params(token_cache=True, **overrides)


def test_with_the_token_cache_a_later_process_asks_only_arm(fake_azure):
    AzureContext.from_params(cached(), environ={}, transport=fake_azure())
    later = fake_azure()
    context = AzureContext.from_params(cached(), environ={}, transport=later)
    context.arm.get(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relay", "2022-09-01")
    assert [r.url for r in later.requests] == [
        f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relay?api-version=2022-09-01"
    ]
    assert later.requests[0].headers["Authorization"] == "Bearer entra-token"


def test_a_different_secret_for_the_same_client_is_not_handed_the_cached_token(fake_azure):
    AzureContext.from_params(cached(), environ={}, transport=fake_azure())
    wrong = fake_azure(reject="AADSTS7000215: Invalid client secret provided.")
    with pytest.raises(AzureCredentialsError, match="Azure rejected the credentials"):
        AzureContext.from_params(cached(secret="wrong-secret"), environ={}, transport=wrong)
    assert [form["client_secret"] for form in wrong.entra.token_requests] == ["wrong-secret"]
    assert not [r for r in wrong.requests if "/subscriptions/" in r.url]


def test_without_the_token_cache_nothing_is_written_and_every_process_signs_in(fake_azure, tmp_path):
    for _process in range(2):
        transport = fake_azure()
        AzureContext.from_params(params(token_cache=False), environ={}, transport=transport)
        assert len(transport.entra.token_requests) == 1
        assert "/metadata/endpoints" in transport.requests[0].url
    assert not (tmp_path / "xdg-cache").exists()


def test_cached_metadata_is_held_to_this_run_s_trusted_hosts(fake_entra, make_transport, make_reply):
    entra = fake_entra(login="https://adfs.hub.example/adfs")
    foreign = dict(METADATA, authentication={"loginEndpoint": entra.login, "audiences": [ARM + "/"]})

    def handle(request):
        return entra(request) if entra.handles(request) else make_reply(200, foreign)

    trusted = cached(trusted_login_hosts=["adfs.hub.example"])
    AzureContext.from_params(trusted, environ={}, transport=make_transport(handle))
    untrusted = make_transport(handle)
    with pytest.raises(ArcMLError, match="trusted_login_hosts"):
        AzureContext.from_params(cached(), environ={}, transport=untrusted)
    assert untrusted.requests == []


def plan_of(**values):
    return plan_credentials({"auth_source": "parameters", **values}, environ={})


CLOUD = type("CloudStub", (), {"resource_manager": ARM, "login_endpoint": LOGIN})()


def test_a_certificate_s_tokens_are_bound_to_the_file_and_its_password(tmp_path):
    pem = tmp_path / "sp.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nkey one\n-----END PRIVATE KEY-----\n")
    plan = plan_of(client_id=CLIENT, tenant=TENANT, certificate_path=str(pem), certificate_password="pw")
    owner = token_owner(plan, CLOUD)
    assert owner.kind == "client certificate" and b"key one" in owner.proof and owner.proof.endswith(b"pw")
    pem.write_text("-----BEGIN PRIVATE KEY-----\nkey two\n-----END PRIVATE KEY-----\n")
    assert token_owner(plan, CLOUD).proof != owner.proof


def test_a_federated_token_s_and_a_user_s_tokens_are_bound_to_what_they_hold(tmp_path):
    assertion = tmp_path / "token"
    assertion.write_text("service-account-token")
    federated = token_owner(plan_of(client_id=CLIENT, tenant=TENANT, federated_token_file=str(assertion)), CLOUD)
    assert federated.kind == "federated token file" and federated.proof.startswith(b"service-account-token")
    user = token_owner(plan_of(ad_user="ops@contoso.example", password="user-password"), CLOUD)
    assert (user.kind, user.username, user.proof) == ("user password", "ops@contoso.example", b"user-password")


@pytest.mark.parametrize("source", ["msi", "cli"])
def test_managed_identity_and_cli_tokens_are_not_cached(source):
    assert token_owner(plan_credentials({"auth_source": source}, environ={}), CLOUD) is None


def test_an_unreadable_federated_token_file_is_left_to_the_credential_to_report(tmp_path):
    plan = plan_of(client_id=CLIENT, tenant=TENANT, federated_token_file=str(tmp_path / "missing"))
    assert token_owner(plan, CLOUD) is None
