"""Helpers shared by the emulator contract tests (importable: pytest puts this directory on sys.path)."""

import base64
import time

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.testing import RunningEmulator

# start_emulator(directory, sites_file, *options, port=0): a bare emulator, stopped by its stop().
start_emulator = RunningEmulator.start


def wait_for(predicate, timeout: float, what: str):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def public_key_certificate(bits: int = 2048) -> str:
    """An agentPublicKeyCertificate as az connectedk8s computes it: base64 of the PKCS#1 DER public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return base64.b64encode(der).decode()


def fetch(emulator, method: str, url: str, **kwargs) -> requests.Response:
    """One HTTPS request to the emulator, trusting its CA (per request: REQUESTS_CA_BUNDLE would win otherwise)."""
    return requests.request(method, url, verify=emulator.ca_bundle, timeout=10, **kwargs)


def arm_token(emulator, principal: str = "sandbox-admin") -> str:
    """A token for ARM straight from the token endpoint with plain HTTP (no SDK involved)."""
    from sandbox.emulator import principal_credentials

    creds = principal_credentials(emulator.directory, principal)
    metadata = fetch(emulator, "GET", f"{emulator.url}/metadata/endpoints?api-version=2022-09-01").json()
    response = fetch(
        emulator,
        "POST",
        f"{emulator.url}/{creds['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "scope": metadata["resourceManager"] + ".default",
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]
