"""User accounts: the resource owner password credentials grant, as azure-identity's UsernamePasswordCredential
(MSAL) drives it, with Entra's errors, and tokens that ARM authorizes by the user's role assignments.

Its own emulator: the sites file here declares the users.
"""

import json
import warnings

import jwt
import pytest
import requests
import yaml
from azure.core.exceptions import ClientAuthenticationError
from contract_helpers import fetch, start_emulator

from sandbox.emulator.paths import EmulatorPaths

pytestmark = pytest.mark.sandbox

CLI_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
OPS = "ops@arcmlsandbox.onmicrosoft.com"
READER = "viewer@arcmlsandbox.onmicrosoft.com"
MFA = "admin@arcmlsandbox.onmicrosoft.com"
SITES = {
    "workspace": {"name": "mlw-users", "resource_group": "rg-users-ml", "location": "eastus"},
    "users": [
        {"name": OPS, "rights": "contributor"},
        {"name": READER, "rights": "none"},
        {"name": MFA, "rights": "contributor", "mfa": True},
    ],
    "sites": [{"name": "site-u", "location": "eastus", "resource_group": "rg-site-u", "nodes": [{"name": "u-1"}]}],
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    sites_file = tmp_path_factory.mktemp("users-sites") / "sites.yml"
    sites_file.write_text(yaml.safe_dump(SITES))
    running = start_emulator(tmp_path_factory.mktemp("users-azure") / "emulator", sites_file)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def scope(emulator):
    metadata = fetch(emulator, "GET", f"{emulator.url}/metadata/endpoints?api-version=2022-09-01").json()
    return metadata["authentication"]["audiences"][0].rstrip("/") + "/.default"


def user_record(emulator, name):
    """The user as the state file holds it (the only place its generated password is kept)."""
    return json.loads(EmulatorPaths(emulator.directory).state.read_text())["users"][name.lower()]


class UserRealmOnTheEmulatorPort:
    """MSAL asks the user realm at https://{host}/common/userrealm/..., dropping the authority's port
    (msal/authority.py user_realm_discovery); the emulator is not on 443, so the port is put back here."""

    def __new__(cls, url, ca_bundle):
        from azure.core.pipeline.transport import HttpTransport, RequestsTransport

        host = url.split("://", 1)[1].split(":", 1)[0]
        portless, inner = f"https://{host}/common/userrealm/", RequestsTransport(connection_verify=ca_bundle)

        class Transport(HttpTransport):
            def send(self, request, **kwargs):
                if request.url.startswith(portless):
                    request.url = f"{url}/common/userrealm/" + request.url[len(portless) :]
                return inner.send(request, **kwargs)

            def open(self):
                inner.open()

            def close(self):
                inner.close()

            def __exit__(self, *args):
                inner.__exit__(*args)

        return Transport()


def sign_in(emulator, name, password=None, tenant="organizations"):
    from azure.identity import UsernamePasswordCredential

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return UsernamePasswordCredential(
            CLI_CLIENT,
            name,
            password or user_record(emulator, name)["password"],
            tenant_id=tenant,
            authority=emulator.url,
            disable_instance_discovery=True,
            connection_verify=emulator.ca_bundle,
            transport=UserRealmOnTheEmulatorPort(emulator.url, emulator.ca_bundle),
        )


def get_token(credential, scope):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return credential.get_token(scope)


def test_a_user_gets_a_token_carrying_its_object_id(emulator, scope):
    token = get_token(sign_in(emulator, OPS), scope)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["oid"] == user_record(emulator, OPS)["object_id"]
    assert (claims["upn"], claims["appid"], claims["idtyp"]) == (OPS, CLI_CLIENT, "user")
    assert claims["aud"] == scope[: -len("/.default")]


@pytest.mark.parametrize("tenant", ["organizations", "tenant id"])
def test_arm_authorizes_the_user_by_its_role_assignments(emulator, scope, tenant):
    tenant = emulator.admin.tenant_id() if tenant == "tenant id" else tenant
    groups = f"{emulator.url}/subscriptions/{emulator.subscription_id}/resourcegroups?api-version=2022-09-01"
    for name, status in ((OPS, 200), (READER, 403)):
        token = get_token(sign_in(emulator, name, tenant=tenant), scope).token
        response = fetch(emulator, "GET", groups, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == "AuthorizationFailed"


@pytest.mark.parametrize(
    ("name", "password", "code"),
    [(OPS, "not-the-password", "AADSTS50126"), ("nobody@arcmlsandbox.onmicrosoft.com", "x", "AADSTS50034")],
)
def test_a_wrong_password_or_user_is_refused_like_entra(emulator, scope, name, password, code):
    with pytest.raises(ClientAuthenticationError, match=code):
        get_token(sign_in(emulator, name, password), scope)


def test_a_user_who_must_pass_mfa_gets_50076_after_the_right_password(emulator, scope):
    with pytest.raises(ClientAuthenticationError, match="AADSTS50076"):
        get_token(sign_in(emulator, MFA), scope)
    with pytest.raises(ClientAuthenticationError, match="AADSTS50126"):
        get_token(sign_in(emulator, MFA, "wrong"), scope)


def password_grant(emulator, tenant, **form):
    password = user_record(emulator, OPS)["password"]
    data = {"grant_type": "password", "client_id": CLI_CLIENT, "username": OPS, "password": password, **form}
    return fetch(emulator, "POST", f"{emulator.url}/{tenant}/oauth2/v2.0/token", data=data)


def test_the_raw_grant_answers_as_the_identity_platform_documents(emulator, scope):
    mark = emulator.admin.last_seq()
    answer = password_grant(emulator, "organizations", scope=f"{scope} openid profile offline_access")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert {"access_token", "id_token", "client_info"} <= set(body)
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert (id_token["aud"], id_token["preferred_username"]) == (CLI_CLIENT, OPS)
    (logged,) = [e for e in emulator.admin.requests(since=mark) if e["path"].endswith("/token")]
    assert logged["body"]["password"] == "<redacted>"
    assert logged["body"]["username"] == OPS


@pytest.mark.parametrize(
    ("tenant", "form", "status", "code"),
    [
        ("common", {}, 400, 9001023),
        ("consumers", {}, 400, 9001023),
        ("organizations", {"client_id": "11111111-2222-3333-4444-555555555555"}, 400, 700016),
        ("organizations", {"password": ""}, 400, 900144),
        ("organizations", {"scope": "https://graph.microsoft.com/.default"}, 400, 500011),
    ],
)
def test_the_raw_grant_refuses_what_entra_refuses(emulator, scope, tenant, form, status, code):
    form.setdefault("scope", scope)
    answer = password_grant(emulator, tenant, **form)
    assert answer.status_code == status
    assert answer.json()["error_codes"] == [code]
    assert answer.json()["error_description"].startswith(f"AADSTS{code}: ")


def test_the_user_realm_is_managed_for_the_directory_s_domain(emulator):
    def realm(user):
        url = f"{emulator.url}/common/userrealm/{user}?api-version=1.0"
        return requests.get(url, verify=emulator.ca_bundle, timeout=10).json()["account_type"]

    assert realm(OPS) == "Managed"
    assert realm("someone@elsewhere.example") == "Unknown"


def test_the_hostile_metadata_variants(emulator):
    def variant(name):
        return fetch(emulator, "GET", f"{emulator.url}/variants/{name}/metadata/endpoints?api-version=2022-09-01")

    foreign = variant("foreign-login").json()
    assert foreign["authentication"]["loginEndpoint"] == "https://login.arcml-hostile.invalid/"
    assert foreign["resourceManager"] == f"{emulator.url}/variants/foreign-login/"
    assert variant("http-login").json()["authentication"]["loginEndpoint"].startswith("http://127.0.0.1:")
    assert variant("graph-audience").json()["authentication"]["audiences"] == ["https://graph.microsoft.com/"]
    assert variant("nope").status_code == 404


def test_seeding_again_keeps_the_users_and_their_passwords(emulator):
    """Seeding is idempotent for users as for principals."""
    from sandbox import sites
    from sandbox.emulator.server import build

    # A second build on the same directory (what a restart does) must not mint new passwords.
    first = build(emulator.directory.parent / "copy", sites.parse(SITES)).store.data["users"]
    again = build(emulator.directory.parent / "copy", sites.parse(SITES)).store.data["users"]
    assert again == first
    assert sorted(u["name"] for u in again.values()) == sorted(u["name"] for u in SITES["users"])
