# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Arc onboarding key pair.

ARM keeps only the public half, as `properties.agentPublicKeyCertificate`: standard base64 of the DER
PKCS#1 RSAPublicKey (not SubjectPublicKeyInfo, not a certificate, despite the name). The private half goes
into the cluster as an unencrypted PKCS#1 PEM, where the agents prove the onboarding identity with it.

The private key is a secret: callers mask it (ArcMLModule.protect) as soon as they hold it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import import_optional

KEY_SIZE = 4096
PUBLIC_EXPONENT = 65537


@dataclass(repr=False)
class OnboardingKey:
    """An RSA key pair: `private_key_pem` (str, secret) and `public_key_certificate` (str, for ARM)."""

    private_key_pem: str = field(repr=False)
    public_key_certificate: str

    def __repr__(self):
        # Never the private key, even in a debugger or a traceback.
        return f"OnboardingKey(public_key_certificate={self.public_key_certificate[:16]}...)"

    @property
    def secrets(self):
        """The strings to mask: the PEM, and each of its base64 lines in case a tool quotes one of them."""
        lines = [line for line in self.private_key_pem.splitlines() if line and not line.startswith("-----")]
        return [self.private_key_pem, self.private_key_pem.strip(), *lines]


def generate():
    """A fresh RSA-4096 key pair."""
    import_optional("cryptography", "cryptography")
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    return _from_private_key(key)


def from_pem(private_key_pem):
    """The key pair of a PKCS#1 (or PKCS#8) PEM private key; None when it is not a readable RSA key."""
    import_optional("cryptography", "cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(private_key_pem, str):
        private_key_pem = private_key_pem.encode("ascii", "replace")
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    return _from_private_key(key)


def public_key_certificate(public_key):
    """`agentPublicKeyCertificate` for an RSA public key: base64 of its PKCS#1 DER encoding."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return base64.b64encode(der).decode("ascii")


def _from_private_key(key):
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    return OnboardingKey(pem, public_key_certificate(key.public_key()))
