"""The emulator's own CA, its TLS server certificate and the token-signing key.

Everything is created on first start and reused afterwards, so clients that
trust ca.pem keep trusting the emulator across restarts and tokens it issued
stay valid.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .. import certificates
from .paths import EmulatorPaths, write_private

CA_NAME = "hci.arc_ml sandbox CA"
CA_YEARS = 10
SERVER_DAYS = 825
RENEW_BEFORE = datetime.timedelta(days=30)
SERVER_HOSTS = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1", "::1")


@dataclass
class Pki:
    paths: EmulatorPaths
    token_key: rsa.RSAPrivateKey
    token_cert: x509.Certificate

    @property
    def token_kid(self) -> str:
        """Entra ID uses the certificate thumbprint (base64url SHA-1) as kid and x5t."""
        digest = hashlib.sha1(self.token_cert.public_bytes(serialization.Encoding.DER)).digest()  # noqa: S324
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def jwks(self) -> dict:
        numbers = self.token_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.token_kid,
                    "x5t": self.token_kid,
                    "n": _b64url_int(numbers.n),
                    "e": _b64url_int(numbers.e),
                    "x5c": [base64.b64encode(self.token_cert.public_bytes(serialization.Encoding.DER)).decode()],
                }
            ]
        }

    def server_ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.paths.server_cert, self.paths.server_key)
        return context


def _b64url_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _load_cert(path):
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _load_key(path):
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None


def _still_valid(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - RENEW_BEFORE > _utcnow()


def _ensure_ca(paths: EmulatorPaths):
    cert, key = _load_cert(paths.ca_cert), _load_key(paths.ca_key)
    if cert is not None and key is not None and _still_valid(cert):
        return cert, key
    key = certificates.new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    cert = certificates.self_signed_ca(key, name, days=365 * CA_YEARS)
    write_private(paths.ca_key, certificates.key_pem(key))
    paths.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # A new CA invalidates everything it signed before.
    paths.server_cert.unlink(missing_ok=True)
    paths.token_key.unlink(missing_ok=True)
    paths.token_cert.unlink(missing_ok=True)
    return cert, key


def _issue(ca_cert, ca_key, subject: str, public_key, extensions, days: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        certificates.builder(name, ca_cert.subject, public_key, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(ca_key, hashes.SHA256())


def _ensure_server_cert(paths: EmulatorPaths, ca_cert, ca_key) -> None:
    cert, key = _load_cert(paths.server_cert), _load_key(paths.server_key)
    if cert is not None and key is not None and _still_valid(cert) and cert.issuer == ca_cert.subject:
        return
    key = certificates.new_key()
    names = [x509.DNSName(h) for h in SERVER_HOSTS] + [
        x509.IPAddress(ipaddress.ip_address(a)) for a in SERVER_ADDRESSES
    ]
    cert = _issue(
        ca_cert,
        ca_key,
        "127.0.0.1",
        key.public_key(),
        [
            (x509.SubjectAlternativeName(names), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
        SERVER_DAYS,
    )
    write_private(paths.server_key, certificates.key_pem(key))
    paths.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ensure_token_key(paths: EmulatorPaths, ca_cert, ca_key):
    key, cert = _load_key(paths.token_key), _load_cert(paths.token_cert)
    if isinstance(key, rsa.RSAPrivateKey) and cert is not None and cert.public_key() == key.public_key():
        return key, cert
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # The certificate gives the key its thumbprint (kid, x5t) and the x5c that Entra ID publishes.
    cert = _issue(ca_cert, ca_key, "sandbox token signing", key.public_key(), [], 365 * CA_YEARS)
    write_private(paths.token_key, certificates.key_pem(key))
    paths.token_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def ensure_pki(paths: EmulatorPaths) -> Pki:
    paths.root.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _ensure_ca(paths)
    _ensure_server_cert(paths, ca_cert, ca_key)
    token_key, token_cert = _ensure_token_key(paths, ca_cert, ca_key)
    return Pki(paths, token_key, token_cert)
