"""The credential chain: each source, their precedence, and the one-line errors (module_utils/_azure.py).

Credentials are built for real with azure-identity and exercised against a fake Entra ID, so each test
sees what would go over the wire.
"""

import base64
import datetime
import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import (
    AzureCredentialsError,
    authenticate,
    build_credential,
    plan_credentials,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud import Cloud
from azure.identity import AzureCliCredential, ChainedTokenCredential, ManagedIdentityCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLOUD = Cloud(
    "SandboxCloud",
    "https://arm.sandbox.local",
    "https://login.sandbox.local",
    ["https://management.sandbox.local/"],
    custom=True,
)
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def entra(fake_entra):
    return fake_entra()


@pytest.fixture
def token_for(entra, make_transport):
    """Plan from (params, environ), build the credential, get a token; return the token request sent."""

    def run(params, environ):
        plan = plan_credentials(params, environ)
        credential = build_credential(plan, CLOUD, transport=make_transport(entra))
        authenticate(plan, credential, CLOUD)
        assert len(entra.token_requests) == 1
        return plan, entra.token_requests[0]

    return run


@pytest.fixture
def certificate(tmp_path):
    """Write a self-signed certificate with its key (plain and password-protected PEM); return the paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hci-arc-ml-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)

    def write(filename, encryption):
        path = tmp_path / filename
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        path.write_bytes(key_pem + cert_pem)
        return str(path)

    return {
        "plain": write("sp.pem", serialization.NoEncryption()),
        "protected": write("sp-protected.pem", serialization.BestAvailableEncryption(b"pem-pass")),
    }


def jwt_parts(token):
    def decode(part):
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    if isinstance(token, bytes):
        token = token.decode()
    header, payload, _signature = token.split(".")
    return decode(header), decode(payload)


def test_module_options_with_a_client_secret(token_for, entra):
    plan, sent = token_for({"client_id": CLIENT, "tenant": TENANT, "secret": "option-secret"}, {})
    assert entra.token_headers[0]["User-Agent"].startswith("hci.arc_ml/")
    assert sent["client_secret"] == "option-secret"
    assert sent["client_id"] == CLIENT
    assert sent["scope"] == "https://management.sandbox.local/.default"
    assert plan.service_principal.origin == "module options"
    assert plan.secrets == ["option-secret"]


def test_awx_environment_names(token_for):
    environ = {"AZURE_CLIENT_ID": CLIENT, "AZURE_SECRET": "awx-secret", "AZURE_TENANT": TENANT}
    plan, sent = token_for({}, environ)
    assert sent["client_secret"] == "awx-secret"
    assert "AZURE_SECRET" in plan.describe()


def test_azure_identity_environment_names(token_for):
    environ = {"AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": "identity-secret", "AZURE_TENANT_ID": TENANT}
    plan, sent = token_for({}, environ)
    assert sent["client_secret"] == "identity-secret"
    assert "azure-identity" in plan.describe()


def test_certificate_from_module_options_signs_a_client_assertion(token_for, certificate):
    params = {"client_id": CLIENT, "tenant": TENANT, "certificate_path": certificate["plain"]}
    plan, sent = token_for(params, {})
    assert "client_secret" not in sent
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header, payload = jwt_parts(sent["client_assertion"])
    assert "x5t" in header or "x5t#S256" in header
    assert payload["iss"] == payload["sub"] == CLIENT
    assert payload["aud"].startswith("https://login.sandbox.local/")
    assert plan.service_principal.kind == "client certificate"


def test_password_protected_certificate_from_azure_identity_environment(token_for, certificate):
    environ = {
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_CERTIFICATE_PATH": certificate["protected"],
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pem-pass",
    }
    plan, sent = token_for({}, environ)
    assert jwt_parts(sent["client_assertion"])[1]["sub"] == CLIENT
    assert plan.secrets == ["pem-pass"]


def test_wrong_certificate_password_fails_clearly_without_the_password(certificate):
    params = {
        "client_id": CLIENT,
        "tenant": TENANT,
        "certificate_path": certificate["protected"],
        "certificate_password": "wrong-pem-pass",
    }
    plan = plan_credentials(params, {})
    with pytest.raises(AzureCredentialsError) as caught:
        build_credential(plan, CLOUD)
    assert "client certificate" in caught.value.message
    assert "wrong-pem-pass" not in caught.value.message


@pytest.mark.parametrize("source", ["options", "environment"])
def test_federated_token_file_is_sent_as_the_client_assertion(token_for, tmp_path, source):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.federated.token")
    if source == "options":
        params, environ = {"client_id": CLIENT, "tenant": TENANT, "federated_token_file": str(token_file)}, {}
    else:
        params = {}
        environ = {"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    plan, sent = token_for(params, environ)
    assert sent["client_assertion"] == "eyJ.federated.token"
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert plan.service_principal.kind == "federated token file"


def test_missing_federated_token_file_fails_naming_the_method(tmp_path):
    params = {"client_id": CLIENT, "tenant": TENANT, "federated_token_file": str(tmp_path / "absent")}
    plan = plan_credentials(params, {})
    credential = build_credential(plan, CLOUD)
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, credential, CLOUD)
    assert "federated token file" in caught.value.message
    assert CLIENT in caught.value.message


ALL_SOURCES = {
    "params": {"client_id": CLIENT, "tenant": TENANT, "secret": "from-options"},
    "environ": {
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_SECRET": "from-awx",
        "AZURE_TENANT": TENANT,
        "AZURE_CLIENT_SECRET": "from-identity",
        "AZURE_TENANT_ID": TENANT,
    },
}


def test_module_options_win_over_both_environment_sets(token_for):
    _plan, sent = token_for(ALL_SOURCES["params"], ALL_SOURCES["environ"])
    assert sent["client_secret"] == "from-options"


def test_awx_names_win_over_azure_identity_names(token_for):
    _plan, sent = token_for({}, ALL_SOURCES["environ"])
    assert sent["client_secret"] == "from-awx"


def test_azure_identity_names_are_used_when_the_awx_set_is_absent(token_for):
    environ = {k: v for k, v in ALL_SOURCES["environ"].items() if k not in ("AZURE_SECRET", "AZURE_TENANT")}
    _plan, sent = token_for({}, environ)
    assert sent["client_secret"] == "from-identity"


@pytest.mark.parametrize(
    ("params", "environ", "named"),
    [
        ({"secret": "s"}, {}, "tenant and client_id not set"),
        ({"client_id": CLIENT, "tenant": TENANT}, {}, "secret, certificate_path or federated_token_file not set"),
        ({}, {"AZURE_SECRET": "s", "AZURE_CLIENT_ID": CLIENT}, "AZURE_TENANT not set"),
        ({}, {"AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": CLIENT}, "AZURE_TENANT_ID not set"),
        ({}, {"AZURE_CLIENT_CERTIFICATE_PATH": "/sp.pem", "AZURE_TENANT_ID": TENANT}, "AZURE_CLIENT_ID not set"),
    ],
)
def test_a_half_configured_source_is_an_error_not_a_fall_through(params, environ, named):
    with pytest.raises(AzureCredentialsError) as caught:
        plan_credentials(params, environ)
    assert named in caught.value.message
    assert "s" not in caught.value.message.split()


def test_two_credentials_in_one_source_are_ambiguous(certificate):
    params = {"client_id": CLIENT, "tenant": TENANT, "secret": "s", "certificate_path": certificate["plain"]}
    with pytest.raises(AzureCredentialsError, match="Ambiguous"):
        plan_credentials(params, {})


def test_nothing_configured_means_managed_identity_then_azure_cli():
    plan = plan_credentials({"auth_source": "auto"}, {})
    credential = build_credential(plan, CLOUD)
    assert isinstance(credential, ChainedTokenCredential)
    assert [type(c) for c in credential.credentials] == [ManagedIdentityCredential, AzureCliCredential]
    assert plan.describe() == "managed identity, then Azure CLI login"


def test_tenant_and_client_id_without_a_credential_are_hints_not_a_service_principal():
    plan = plan_credentials({}, {"AZURE_TENANT_ID": TENANT, "AZURE_TENANT": TENANT, "AZURE_CLIENT_ID": CLIENT})
    assert plan.method == "ambient"
    assert plan.managed_identity_client_id == CLIENT


def test_client_id_alone_names_a_user_assigned_managed_identity():
    plan = plan_credentials({"client_id": CLIENT}, {})
    assert plan.method == "ambient"
    assert plan.managed_identity_client_id == CLIENT


def test_auth_source_pins_one_source():
    environ = ALL_SOURCES["environ"]
    assert plan_credentials(dict(ALL_SOURCES["params"], auth_source="env"), environ).service_principal.secret == (
        "from-awx"
    )
    assert plan_credentials({"auth_source": "msi"}, environ).method == "msi"
    assert plan_credentials({"auth_source": "cli", "tenant": TENANT}, environ).method == "cli"
    assert isinstance(build_credential(plan_credentials({"auth_source": "cli"}, {}), CLOUD), AzureCliCredential)
    msi = build_credential(plan_credentials({"auth_source": "msi", "client_id": CLIENT}, {}), CLOUD)
    assert isinstance(msi, ManagedIdentityCredential)


@pytest.mark.parametrize(("source", "named"), [("parameters", "module options"), ("env", "environment")])
def test_a_pinned_source_without_credentials_fails(source, named):
    with pytest.raises(AzureCredentialsError) as caught:
        plan_credentials({"auth_source": source}, {})
    assert named in caught.value.message


def test_rejected_secret_is_one_line_naming_method_tenant_and_client_but_not_the_secret(fake_entra, make_transport):
    secret = "Wr0ng~Secret.Value"
    entra = fake_entra(
        reject=(
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID ({secret}).\r\nTrace ID: 0d1e Correlation ID: 9f2a "
            "Timestamp: 2026-11-29 10:00:00Z"
        )
    )
    plan = plan_credentials({"client_id": CLIENT, "tenant": TENANT, "secret": secret}, {})
    credential = build_credential(plan, CLOUD, transport=make_transport(entra))
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, credential, CLOUD)
    message = caught.value.message
    assert "\n" not in message
    assert secret not in message
    assert "Azure rejected the credentials" in message
    assert "service principal with client secret from module options" in message
    assert TENANT in message and CLIENT in message
    assert "AADSTS7000215" in message
    assert "Trace ID" not in message


def test_no_credentials_anywhere_lists_what_was_tried(fake_credential):
    from azure.identity import CredentialUnavailableError

    plan = plan_credentials({}, {})
    unavailable = fake_credential(CredentialUnavailableError("ChainedTokenCredential failed: no managed identity"))
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, unavailable, CLOUD)
    message = caught.value.message
    assert message.startswith("No Azure credentials found. Tried: module options; environment AZURE_CLIENT_ID")
    assert "managed identity, then Azure CLI login" in message
    assert "az login" in message


def test_an_expired_cli_login_is_rejected_not_missing(fake_credential):
    from azure.core.exceptions import ClientAuthenticationError

    plan = plan_credentials({}, {})
    expired = fake_credential(ClientAuthenticationError("AzureCliCredential: AADSTS700082: The refresh token expired"))
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, expired, CLOUD)
    assert caught.value.message.startswith("Azure rejected the credentials: managed identity, then Azure CLI login")
    assert "AADSTS700082" in caught.value.message


def test_a_pinned_managed_identity_that_is_not_there_is_unavailable(fake_credential):
    from azure.identity import CredentialUnavailableError

    plan = plan_credentials({"auth_source": "msi", "client_id": CLIENT}, {})
    absent = fake_credential(CredentialUnavailableError("ManagedIdentityCredential authentication unavailable."))
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, absent, CLOUD)
    assert caught.value.message.startswith(f"Azure credentials unavailable: managed identity (client id {CLIENT})")


# User accounts (AWX's username/password Azure credential, azure.azcollection's ad_user/password) and the
# credentials file profile (~/.azure/credentials).

USER = "ops@contoso.onmicrosoft.com"
PASSWORD = "Pa55~word.for-ops"
CLI_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class FakeUserEntra:
    """Entra ID for the resource owner password credentials grant, as MSAL drives it.

    MSAL asks the user realm first (GET /common/userrealm/{user}), then posts grant_type=password. `error` is
    (AADSTS code, description) to answer the token request with, HTTP 400 invalid_grant as Entra does.
    """

    def __init__(self, make_reply, error=None):
        self.reply = make_reply
        self.error = error
        self.token_requests = []
        self.token_urls = []
        self.realm_requests = []

    def __call__(self, request):
        login, path = CLOUD.login_endpoint, request.url[len(CLOUD.login_endpoint) :]
        if path.startswith("/common/userrealm/"):
            self.realm_requests.append(request.url)
            return self.reply(200, {"ver": "1.0", "account_type": "Managed", "domain_name": "contoso.onmicrosoft.com"})
        tenant = path.split("/")[1]
        if path.endswith("/.well-known/openid-configuration"):
            base = f"{login}/{tenant}"
            return self.reply(200, {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"})  # fmt: skip
        assert request.method == "POST" and path.endswith("/oauth2/v2.0/token"), request.url
        form = dict(request.data)
        self.token_requests.append(form)
        self.token_urls.append(request.url)
        if self.error:
            code, description = self.error
            body = {"error": "invalid_grant", "error_description": f"AADSTS{code}: {description}\r\nTrace ID: 1f2e",
                    "error_codes": [code]}  # fmt: skip
            return self.reply(400, body)
        claims = {"iss": f"{login}/{TENANT}/v2.0", "aud": form["client_id"], "tid": TENANT, "oid": "0a1b", "sub": "s",
                  "preferred_username": form["username"], "exp": 4102444800, "iat": 1700000000}  # fmt: skip
        return self.reply(200, {
            "token_type": "Bearer", "expires_in": 3599, "access_token": "user-token", "refresh_token": "rt",
            "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
            "client_info": _b64({"uid": "0a1b", "utid": TENANT}),
        })  # fmt: skip


@pytest.fixture
def user_entra(make_reply, make_transport):
    """sign_in(params, environ, error=None) -> (plan, entra): plan, build and authenticate against FakeUserEntra."""

    def sign_in(params, environ, error=None):
        entra = FakeUserEntra(make_reply, error)
        plan = plan_credentials(params, environ)
        credential = build_credential(plan, CLOUD, transport=make_transport(entra))
        authenticate(plan, credential, CLOUD)
        return plan, entra

    return sign_in


def test_awx_username_and_password_sign_in_with_the_password_grant(user_entra):
    environ = {"AZURE_AD_USER": USER, "AZURE_PASSWORD": PASSWORD, "AZURE_SUBSCRIPTION_ID": "s"}
    plan, entra = user_entra({}, environ)
    (sent,) = entra.token_requests
    assert sent["grant_type"] == "password"
    assert (sent["username"], sent["password"]) == (USER, PASSWORD)
    assert sent["client_id"] == CLI_CLIENT
    assert "https://management.sandbox.local/.default" in sent["scope"].split()
    assert "client_secret" not in sent
    assert entra.token_urls[0] == f"{CLOUD.login_endpoint}/organizations/oauth2/v2.0/token"
    assert plan.method == "user" and plan.secrets == [PASSWORD]
    assert plan.describe() == (
        f"user {USER} with password from environment (AZURE_AD_USER, AZURE_PASSWORD) (tenant organizations, "
        f"client id {CLI_CLIENT})"
    )


def test_ad_user_and_password_options_with_tenant_and_client_id(user_entra):
    params = {"ad_user": USER, "password": PASSWORD, "tenant": TENANT, "client_id": CLIENT}
    plan, entra = user_entra(params, {})
    assert entra.token_requests[0]["client_id"] == CLIENT
    assert entra.token_urls[0] == f"{CLOUD.login_endpoint}/{TENANT}/oauth2/v2.0/token"
    assert plan.user.origin == "module options"


def test_a_wrong_password_is_rejected_naming_the_user_but_not_the_password(user_entra):
    with pytest.raises(AzureCredentialsError) as caught:
        user_entra({}, {"AZURE_AD_USER": USER, "AZURE_PASSWORD": PASSWORD}, error=(50126, "Error validating "
                   "credentials due to invalid username or password."))  # fmt: skip
    message = caught.value.message
    assert message.startswith(f"Azure rejected the credentials: user {USER} with password from environment")
    assert "AADSTS50126" in message and "Check the user name, password, tenant" in message
    assert PASSWORD not in message and "\n" not in message


@pytest.mark.parametrize("code", [50076, 50079, 50158])
def test_an_mfa_answer_says_to_use_a_service_principal(user_entra, code):
    description = (
        "Due to a configuration change made by your administrator, or because you moved to a new location, you "
        "must use multi-factor authentication to access 'https://management.sandbox.local/'."
    )
    with pytest.raises(AzureCredentialsError) as caught:
        user_entra({"ad_user": USER, "password": PASSWORD}, {}, error=(code, description))
    message = caught.value.message
    assert message.startswith(f"Azure requires multifactor authentication of user {USER} (AADSTS{code})")
    assert "mandatory MFA" in message and "service principal" in message and "AWX" in message
    assert "rejected the credentials" not in message
    assert PASSWORD not in message and "\n" not in message


def test_only_a_user_in_the_environment_is_a_user_plan_not_managed_identity_then_cli():
    # Before user accounts were supported this fell through to managed identity and the CLI.
    plan = plan_credentials({}, {"AZURE_AD_USER": USER, "AZURE_PASSWORD": PASSWORD})
    assert plan.method == "user"


def test_service_principals_come_before_user_accounts():
    environ = {**ALL_SOURCES["environ"], "AZURE_AD_USER": USER, "AZURE_PASSWORD": PASSWORD}
    assert plan_credentials({"ad_user": USER, "password": "p"}, environ).service_principal.secret == "from-awx"
    user_only = {"AZURE_AD_USER": USER, "AZURE_PASSWORD": PASSWORD}
    assert plan_credentials({"ad_user": "a@b.c", "password": "p"}, user_only).user.username == "a@b.c"
    assert plan_credentials({"auth_source": "env", "ad_user": "a@b.c", "password": "p"}, user_only).user.password == (
        PASSWORD
    )
    assert plan_credentials({"auth_source": "parameters", "ad_user": "a@b.c", "password": "p"}, {}).method == "user"


@pytest.mark.parametrize(
    ("params", "environ", "named"),
    [
        ({"ad_user": USER}, {}, "Incomplete user credentials in module options: password not set"),
        ({"password": PASSWORD}, {}, "ad_user not set"),
        ({}, {"AZURE_PASSWORD": PASSWORD}, "AZURE_AD_USER not set"),
        (ALL_SOURCES["params"], {"AZURE_AD_USER": USER}, "AZURE_PASSWORD not set"),
    ],
)
def test_a_half_configured_user_is_an_error_even_when_a_principal_would_win(params, environ, named):
    with pytest.raises(AzureCredentialsError) as caught:
        plan_credentials(params, environ)
    assert named in caught.value.message
    assert PASSWORD not in caught.value.message


def test_no_credentials_lists_every_supported_type(fake_credential):
    from azure.identity import CredentialUnavailableError

    plan = plan_credentials({}, {})
    with pytest.raises(AzureCredentialsError) as caught:
        authenticate(plan, fake_credential(CredentialUnavailableError("no managed identity")), CLOUD)
    message = caught.value.message
    assert "environment AZURE_AD_USER + AZURE_PASSWORD" in message
    assert "credentials file" in message
    assert "ad_user and password" in message and "service principal" in message


PROFILES = f"""\
[default]
subscription_id = 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b
client_id = {CLIENT}
secret = file-secret%with-percent
tenant = {TENANT}

[ops]
subscription_id = 0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d
ad_user = {USER}
password = {PASSWORD}
cloud_environment = AzureUSGovernment

[cert]
client_id = {CLIENT}
tenant = {TENANT}
x509_certificate_path = /sp.pem
thumbprint = 00ff
"""


class Home:
    def __init__(self, path):
        self.path = path
        self.credentials = path / ".azure" / "credentials"

    def write(self, text=PROFILES):
        self.credentials.parent.mkdir(exist_ok=True)
        self.credentials.write_text(text)
        return self.credentials


@pytest.fixture
def home(tmp_path, monkeypatch):
    """HOME pointed at an empty directory; .write(text) puts text into ~/.azure/credentials."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return Home(tmp_path)


def test_the_default_profile_is_used_when_nothing_else_is_configured(home):
    path = home.write()
    plan = plan_credentials({}, {})
    assert plan.service_principal.secret == "file-secret%with-percent"
    assert plan.service_principal.origin == f"credentials file {path} [default]"
    assert plan.subscription_id == "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert plan.secrets == ["file-secret%with-percent"]


def test_a_named_profile_wins_and_carries_its_subscription_and_cloud(home):
    home.write()
    for params, environ in (({"profile": "ops"}, ALL_SOURCES["environ"]), ({}, {"AZURE_PROFILE": "ops"})):
        plan = plan_credentials(params, environ)
        assert (plan.method, plan.user.username, plan.user.password) == ("user", USER, PASSWORD)
        assert plan.subscription_id == "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"
        assert plan.cloud_environment == "AzureUSGovernment"
    pinned = plan_credentials({"auth_source": "credential_file"}, ALL_SOURCES["environ"])
    assert pinned.service_principal.secret == "file-secret%with-percent"


def test_the_default_profile_comes_after_principals_and_users(home):
    home.write()
    assert plan_credentials({}, ALL_SOURCES["environ"]).service_principal.secret == "from-awx"
    assert plan_credentials({}, {"AZURE_AD_USER": USER, "AZURE_PASSWORD": "env-pass"}).user.password == "env-pass"


@pytest.mark.parametrize(
    ("params", "write", "message"),
    [
        ({"profile": "ops"}, False, "Azure credentials file {path} not found, but profile 'ops' is asked for"),
        ({"auth_source": "credential_file"}, False, "Azure credentials file {path} not found"),
        ({"profile": "prod"}, True, "Profile [prod] not found in Azure credentials file {path} (it has: default, ops"),
        ({"profile": "cert"}, True, "holds no credentials it can use: set client_id, secret and tenant, or ad_user"),
    ],
)
def test_a_named_profile_that_is_not_there_is_one_clear_line(home, params, write, message):
    path = home.credentials
    if write:
        home.write()
    with pytest.raises(AzureCredentialsError) as caught:
        plan_credentials(params, {})
    assert message.format(path=path) in caught.value.message
    assert "\n" not in caught.value.message


def test_a_profile_with_a_certificate_names_what_is_not_read(home):
    home.write()
    with pytest.raises(AzureCredentialsError, match=r"It holds x509_certificate_path, thumbprint, which hci\.arc_ml"):
        plan_credentials({"profile": "cert"}, {})


def test_an_unparsable_credentials_file_never_quotes_its_lines(home):
    home.write(f"[default]\nsecret = {PASSWORD}\nthis line has no equals {PASSWORD}\n")
    with pytest.raises(AzureCredentialsError) as caught:
        plan_credentials({}, {})
    assert "Cannot parse Azure credentials file" in caught.value.message
    assert "line 3" in caught.value.message
    assert PASSWORD not in caught.value.message


def test_no_file_and_nothing_else_is_managed_identity_then_cli(home):
    plan = plan_credentials({}, {})
    assert plan.method == "ambient"
    assert f"credentials file {home.credentials} [default]" in plan.tried
