"""Certificates for a testbed cluster: one CA, the API server's serving pair, client pairs.

The keys are EC P-256 (sandbox/certificates.py); kube-apiserver accepts them for service-account token
signing too (ES256).
"""

import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .. import certificates

VALIDITY_DAYS = 365


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


def _name(common_name, organizations=()):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def new_ca(common_name: str) -> KeyPair:
    key = certificates.new_key()
    cert = certificates.self_signed_ca(key, _name(common_name), days=VALIDITY_DAYS)
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), certificates.key_pem(key))


def _issue(ca: KeyPair, subject, usage, sans=None) -> KeyPair:
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    key = certificates.new_key()
    builder = (
        certificates.builder(subject, ca_cert.subject, key.public_key(), VALIDITY_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), certificates.key_pem(key))


def serving_pair(ca: KeyPair, hostnames=("localhost",), ips=("127.0.0.1",)) -> KeyPair:
    sans = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    return _issue(ca, _name(hostnames[0]), ExtendedKeyUsageOID.SERVER_AUTH, sans)


def client_pair(ca: KeyPair, user: str, groups=()) -> KeyPair:
    """A client certificate: Kubernetes reads CN as the user name and O as its groups."""
    return _issue(ca, _name(user, groups), ExtendedKeyUsageOID.CLIENT_AUTH)


def signing_key() -> tuple[bytes, bytes]:
    """A key pair for service-account tokens: (private PEM, public PEM)."""
    key = certificates.new_key()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return certificates.key_pem(key), public
