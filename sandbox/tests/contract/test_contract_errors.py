"""401, 403, 404, 409 and 400 answers carry ARM's error envelope and the codes the real service uses."""

import time
import uuid

import jwt
import pytest
from contract_helpers import arm_token
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.emulator import tokens
from sandbox.emulator.paths import EmulatorPaths
from sandbox.emulator.pki import ensure_pki

pytestmark = pytest.mark.sandbox


def envelope(response) -> tuple:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"], body
    return response.status_code, body["error"]["code"]


@pytest.fixture
def rg_path(emulator):
    return f"/subscriptions/{emulator.subscription_id}/resourcegroups/rg-site-a?api-version=2022-09-01"


@pytest.fixture
def signed(emulator, metadata):
    """Tokens signed with the emulator's own key, with chosen claims."""
    pki = ensure_pki(EmulatorPaths(emulator.directory))
    admin = emulator.env

    def make(**overrides) -> str:
        now = int(time.time())
        claims = {
            "aud": metadata["authentication"]["audiences"][0],
            "iss": f"{emulator.url}/{admin['AZURE_TENANT_ID']}/",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "appid": admin["AZURE_CLIENT_ID"],
            "tid": admin["AZURE_TENANT_ID"],
            "oid": principal_object_id(emulator, "sandbox-admin"),
        }
        claims.update(overrides)
        return tokens.mint(pki, claims)

    return make


def principal_object_id(emulator, name: str) -> str:
    from sandbox.emulator import principal_credentials

    return principal_credentials(emulator.directory, name)["object_id"]


def test_a_well_formed_token_is_accepted(arm, rg_path, signed):
    assert arm("GET", rg_path, token=signed()).status_code == 200


def test_401_missing_token(arm, rg_path):
    response = arm("GET", rg_path, token=None)
    assert envelope(response) == (401, "AuthenticationFailed")
    assert response.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


def test_401_expired_token(arm, rg_path, signed):
    now = int(time.time())
    assert envelope(arm("GET", rg_path, token=signed(iat=now - 7200, nbf=now - 7200, exp=now - 3600))) == (
        401,
        "ExpiredAuthenticationToken",
    )


def test_401_bad_signature(arm, rg_path, signed):
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = signed()
    header = jwt.get_unverified_header(genuine)
    forged = jwt.encode(
        jwt.decode(genuine, options={"verify_signature": False}),
        forged_key,
        algorithm="RS256",
        headers={"kid": header["kid"]},
    )
    assert envelope(arm("GET", rg_path, token=forged)) == (401, "InvalidAuthenticationToken")
    assert envelope(arm("GET", rg_path, token="not-a-jwt")) == (401, "InvalidAuthenticationToken")


def test_401_wrong_audience(arm, rg_path, signed):
    response = arm("GET", rg_path, token=signed(aud="https://management.azure.com/"))
    assert envelope(response) == (401, "InvalidAuthenticationTokenAudience")


def test_401_wrong_tenant(arm, rg_path, signed):
    assert envelope(arm("GET", rg_path, token=signed(tid=str(uuid.uuid4())))) == (
        401,
        "InvalidAuthenticationTokenTenant",
    )


def test_403_for_a_principal_without_rights(arm, emulator, rg_path):
    token = arm_token(emulator, "no-rights")
    response = arm("GET", rg_path, token=token)
    assert envelope(response) == (403, "AuthorizationFailed")
    assert "Microsoft.Resources/subscriptions/resourceGroups/read" in response.json()["error"]["message"]
    path = (
        f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a/providers/Microsoft.Kubernetes"
        "/connectedClusters/x?api-version=2024-01-01"
    )
    assert envelope(arm("PUT", path, token=token, json={"location": "eastus"})) == (403, "AuthorizationFailed")


def test_404s(arm, emulator, registered):
    sub = emulator.subscription_id
    assert envelope(arm("GET", f"/subscriptions/{sub}/resourcegroups/nope?api-version=2022-09-01")) == (
        404,
        "ResourceGroupNotFound",
    )
    cluster = f"/subscriptions/{sub}/resourceGroups/rg-site-a/providers/Microsoft.Kubernetes/connectedClusters/nope"
    response = arm("GET", cluster + "?api-version=2024-01-01")
    assert envelope(response) == (404, "ResourceNotFound")
    assert "Microsoft.Kubernetes/connectedClusters/nope" in response.json()["error"]["message"]
    other = str(uuid.uuid4())
    assert envelope(arm("GET", f"/subscriptions/{other}/resourcegroups?api-version=2022-09-01")) == (
        404,
        "SubscriptionNotFound",
    )
    assert envelope(arm("GET", f"/subscriptions/{sub}/providers/Microsoft.Nope?api-version=2022-09-01")) == (
        404,
        "InvalidResourceNamespace",
    )


def test_409s(arm, emulator, registered):
    sub = emulator.subscription_id
    providers = f"/subscriptions/{sub}/providers/Microsoft.Kubernetes"
    cluster = (
        f"/subscriptions/{sub}/resourceGroups/rg-site-a/providers/Microsoft.Kubernetes/connectedClusters/c409"
        "?api-version=2024-01-01"
    )
    emulator.admin.settings(provider_registration_seconds=0)
    assert arm("POST", f"{providers}/unregister?api-version=2022-09-01").status_code == 200
    try:
        response = arm("PUT", cluster, json={"location": "eastus", "properties": {"agentPublicKeyCertificate": "QUJD"}})
        assert envelope(response) == (409, "MissingSubscriptionRegistration")
        assert "'Microsoft.Kubernetes'" in response.json()["error"]["message"]
    finally:
        arm("POST", f"{providers}/register?api-version=2022-09-01")
        emulator.admin.settings(provider_registration_seconds=0.2)
    assert arm("GET", f"{providers}?api-version=2022-09-01").json()["registrationState"] == "Registered"

    moved = arm(
        "PUT", f"/subscriptions/{sub}/resourcegroups/rg-site-a?api-version=2022-09-01", json={"location": "westus"}
    )
    assert envelope(moved) == (409, "InvalidResourceGroupLocation")


def test_400s(arm, emulator):
    sub = emulator.subscription_id
    assert envelope(arm("GET", f"/subscriptions/{sub}/resourcegroups")) == (400, "MissingApiVersionParameter")
    cluster = f"/subscriptions/{sub}/resourceGroups/rg-site-a/providers/Microsoft.Kubernetes/connectedClusters/x"
    assert envelope(arm("GET", cluster + "?api-version=2099-01-01")) == (400, "InvalidApiVersionParameter")
    assert envelope(arm("PUT", f"/subscriptions/{sub}/resourcegroups/rg-x?api-version=2022-09-01", data=b"{nope")) == (
        400,
        "InvalidRequestContent",
    )


def test_paths_are_case_insensitive(arm, emulator):
    sub = emulator.subscription_id
    lower = arm("GET", f"/SUBSCRIPTIONS/{sub.upper()}/RESOURCEGROUPS/RG-SITE-A?API-VERSION=2022-09-01")
    assert lower.status_code == 200 and lower.json()["name"] == "rg-site-a"
