"""The onboarding key pair, encoded the way az connectedk8s encodes it."""

import base64

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@pytest.fixture(scope="module")
def key():
    return _arc_keys.generate()


def test_the_public_key_is_base64_pkcs1_der_of_a_4096_bit_key(key):
    certificate = key.public_key_certificate
    assert len(certificate) == 704
    assert certificate.startswith("MIICCgKCAgEA") and certificate.endswith("AwEAAQ==")
    der = base64.b64decode(certificate, validate=True)
    public = serialization.load_der_public_key(der)
    # PKCS#1 RSAPublicKey, not SubjectPublicKeyInfo.
    assert der == public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert public.key_size == 4096 and public.public_numbers().e == 65537


def test_the_private_key_is_an_unencrypted_pkcs1_pem_that_matches(key):
    pem = key.private_key_pem
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert pem.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    assert all(len(line) <= 64 for line in pem.splitlines())
    loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    der = loaded.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert base64.b64encode(der).decode() == key.public_key_certificate


def test_from_pem_gives_back_the_same_pair(key):
    again = _arc_keys.from_pem(key.private_key_pem)
    assert again.public_key_certificate == key.public_key_certificate
    assert _arc_keys.from_pem(key.private_key_pem.encode()).public_key_certificate == key.public_key_certificate


@pytest.mark.parametrize(
    "pem", ["", "not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"]
)
def test_from_pem_of_anything_else_is_none(pem):
    assert _arc_keys.from_pem(pem) is None


def test_a_key_that_is_not_rsa_is_none():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert _arc_keys.from_pem(pem) is None


def test_a_pkcs8_rsa_key_is_read_too():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert _arc_keys.from_pem(pem).public_key_certificate == _arc_keys.public_key_certificate(private.public_key())


def test_secrets_cover_the_pem_and_each_of_its_lines_and_repr_shows_none(key):
    secrets = key.secrets
    assert key.private_key_pem in secrets
    body = [line for line in key.private_key_pem.splitlines() if "-----" not in line]
    assert set(body) <= set(secrets)
    assert body[1] not in repr(key) and "MIICCgKCAgEA" in repr(key)
