"""Tokens: what ARM accepts and the 401 codes for what it does not."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.emulator import tokens
from sandbox.emulator.arm import ArmError
from sandbox.emulator.paths import EmulatorPaths
from sandbox.emulator.pki import ensure_pki
from sandbox.emulator.rbac import Principal

LOGIN = "https://127.0.0.1:8443"
AUDIENCES = ["https://management.core.example.invalid/", "https://127.0.0.1:8443/"]
TENANT = str(uuid.uuid4())
PRINCIPAL = Principal("p", str(uuid.uuid4()), str(uuid.uuid4()), "secret")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_pki(EmulatorPaths(tmp_path_factory.mktemp("pki")))


def token(pki, audience=AUDIENCES[0], **overrides):
    claims = tokens.app_token_claims(PRINCIPAL, TENANT, LOGIN, audience, 3600)
    claims.update(overrides)
    return tokens.mint(pki, claims)


def code_of(pki, raw):
    with pytest.raises(ArmError) as err:
        tokens.validate(pki, raw, AUDIENCES, TENANT, LOGIN)
    assert err.value.status == 401
    return err.value.code


def test_a_token_for_either_audience_is_accepted_with_or_without_trailing_slash(pki):
    assert tokens.validate(pki, token(pki), AUDIENCES, TENANT, LOGIN)["oid"] == PRINCIPAL.object_id
    assert tokens.validate(pki, token(pki, "https://127.0.0.1:8443"), AUDIENCES, TENANT, LOGIN)


def test_expired_tokens_beyond_the_clock_skew(pki):
    now = int(time.time())
    within_skew = token(pki, exp=now - 60)
    assert tokens.validate(pki, within_skew, AUDIENCES, TENANT, LOGIN)
    assert code_of(pki, token(pki, exp=now - 3600)) == "ExpiredAuthenticationToken"


def test_wrong_audience_tenant_signature_and_garbage(pki):
    assert code_of(pki, token(pki, "https://management.azure.com/")) == "InvalidAuthenticationTokenAudience"
    assert code_of(pki, token(pki, tid=str(uuid.uuid4()))) == "InvalidAuthenticationTokenTenant"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"aud": AUDIENCES[0]}, other, algorithm="RS256", headers={"kid": pki.token_kid})
    assert code_of(pki, forged) == "InvalidAuthenticationToken"
    assert code_of(pki, "garbage") == "InvalidAuthenticationToken"
    unsigned = jwt.encode({"aud": AUDIENCES[0]}, "k" * 32, algorithm="HS256")
    assert code_of(pki, unsigned) == "InvalidAuthenticationToken"


def test_the_signing_key_and_its_kid_survive_a_reload(pki):
    again = ensure_pki(pki.paths)
    assert again.token_kid == pki.token_kid
    assert tokens.validate(again, token(pki), AUDIENCES, TENANT, LOGIN)


def test_jwks_publishes_the_signing_key(pki):
    key = pki.jwks()["keys"][0]
    assert key["kid"] == pki.token_kid and key["kty"] == "RSA"
    public = jwt.PyJWK(key).key
    assert jwt.decode(token(pki), public, algorithms=["RS256"], audience=AUDIENCES[0])["tid"] == TENANT
