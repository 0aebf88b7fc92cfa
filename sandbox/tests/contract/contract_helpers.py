"""Helpers shared by the emulator contract tests (importable: pytest puts this directory on sys.path)."""

import base64
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.emulator import client_env
from sandbox.emulator.client import AdminClient

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class RunningEmulator:
    directory: Path
    process: subprocess.Popen
    url: str
    ca_bundle: str
    admin: AdminClient

    @property
    def env(self) -> dict:
        return client_env(self.directory)

    @property
    def subscription_id(self) -> str:
        return self.env["AZURE_SUBSCRIPTION_ID"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def start_emulator(directory: Path, sites_file: Path, *extra: str, port: int = 0) -> RunningEmulator:
    info = directory / "emulator.json"
    log = open(directory.parent / f"{directory.name}.log", "ab")  # noqa: SIM115 - the child writes to it
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.emulator",
            "--dir",
            str(directory),
            "--port",
            str(port),
            "--sites",
            str(sites_file),
            *extra,
        ],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while not info.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}; log in {log.name}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the emulator was not ready within {START_TIMEOUT}s; log in {log.name}")
        time.sleep(0.05)
    details = json.loads(info.read_text())
    return RunningEmulator(
        directory, process, details["url"], details["ca_bundle"], AdminClient(details["url"], details["ca_bundle"])
    )


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
