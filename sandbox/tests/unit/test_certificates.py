"""The sandbox's certificates: both CAs come from sandbox/certificates.py and sign what their users need."""

import datetime
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from sandbox.emulator.paths import EmulatorPaths
from sandbox.emulator.pki import ensure_pki
from sandbox.k8s import pki


def _cert(pem):
    return x509.load_pem_x509_certificate(pem)


def test_a_testbed_ca_signs_serving_and_client_pairs_that_verify():
    ca = pki.new_ca("arcml-testbed-ca")
    ca_cert = _cert(ca.cert_pem)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    now = datetime.datetime.now(datetime.timezone.utc)
    assert ca_cert.not_valid_before_utc < now < ca_cert.not_valid_after_utc

    serving = _cert(pki.serving_pair(ca).cert_pem)
    client = _cert(pki.client_pair(ca, "viewer", ("team",)).cert_pem)
    for leaf in (serving, client):
        leaf.verify_directly_issued_by(ca_cert)
    usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert "O=team" in client.subject.rfc4514_string() and "CN=viewer" in client.subject.rfc4514_string()


def test_the_emulator_ca_signs_its_server_certificate_and_is_reused(tmp_path):
    paths = EmulatorPaths(tmp_path)
    paths.root.mkdir(parents=True, exist_ok=True)
    first = ensure_pki(paths)
    ca_cert = _cert(paths.ca_cert.read_bytes())
    _cert(paths.server_cert.read_bytes()).verify_directly_issued_by(ca_cert)
    ssl.create_default_context(cafile=str(paths.ca_cert))  # a CA Python's TLS accepts

    second = ensure_pki(paths)
    assert paths.ca_cert.read_bytes() == ca_cert.public_bytes(serialization.Encoding.PEM)
    assert second.token_kid == first.token_kid
