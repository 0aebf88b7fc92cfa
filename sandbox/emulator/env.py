"""The environment that points clients at a running emulator (what env.sh exports)."""

from __future__ import annotations

import json
from pathlib import Path

from .paths import EmulatorPaths
from .seed import DEFAULT_PRINCIPAL


def read_info(directory) -> dict:
    """emulator.json of a running emulator: url, port, pid, ca_bundle."""
    return json.loads(EmulatorPaths(Path(directory)).info.read_text())


def principal_credentials(directory, name: str = DEFAULT_PRINCIPAL) -> dict:
    """tenant_id, client_id, client_secret and object_id of the principal called `name`."""
    state = json.loads(EmulatorPaths(Path(directory)).state.read_text())
    for record in state["principals"].values():
        if record["name"] == name:
            return {
                "tenant_id": state["tenant_id"],
                "client_id": record["client_id"],
                "client_secret": record["secret"],
                "object_id": record["object_id"],
            }
    raise KeyError(f"no principal {name!r} in {directory}")


def client_env(directory, principal: str = DEFAULT_PRINCIPAL, sandbox_dir=None) -> dict:
    """AZURE_* and ARCML_* variables for the running emulator whose directory is `directory`.

    ARCML_SANDBOX_DIR is `sandbox_dir` when the emulator's directory lies inside a bigger sandbox directory.
    """
    directory = Path(directory).resolve()
    info = read_info(directory)
    state = json.loads(EmulatorPaths(directory).state.read_text())
    credentials = principal_credentials(directory, principal)
    url, ca_bundle = info["url"], info["ca_bundle"]
    return {
        "AZURE_CLOUD_ENVIRONMENT": url,
        "AZURE_AUTHORITY_HOST": info["login_url"],
        "AZURE_TENANT": credentials["tenant_id"],
        "AZURE_TENANT_ID": credentials["tenant_id"],
        "AZURE_CLIENT_ID": credentials["client_id"],
        "AZURE_SECRET": credentials["client_secret"],
        "AZURE_CLIENT_SECRET": credentials["client_secret"],
        "AZURE_SUBSCRIPTION_ID": state["subscription"]["id"],
        "REQUESTS_CA_BUNDLE": ca_bundle,
        "ARCML_CA_BUNDLE": ca_bundle,
        "ARCML_SANDBOX_URL": url,
        "ARCML_SANDBOX_DIR": str(Path(sandbox_dir).resolve() if sandbox_dir else directory),
    }
