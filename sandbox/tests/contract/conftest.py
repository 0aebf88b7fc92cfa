"""A running Azure emulator for the contract tests, and clients configured the way env.sh configures them.

One emulator (a subprocess on a free port, state in a temporary directory)
serves the whole session; every test gets the environment `python -m sandbox
up` would export, and nothing else, to build the real Azure clients from.
"""

import os
from pathlib import Path

import pytest
import requests
import yaml
from contract_helpers import arm_token, fetch, start_emulator, wait_for

REGISTER_TIMEOUT = 10.0
NAMESPACES = (
    "Microsoft.Kubernetes",
    "Microsoft.KubernetesConfiguration",
    "Microsoft.ExtendedLocation",
    "Microsoft.Relay",
)

SITES = {
    "workspace": {"name": "mlw-contract", "resource_group": "rg-contract-ml", "location": "eastus"},
    "principals": [{"name": "no-rights", "rights": "none"}],
    "sites": [
        {"name": "site-a", "location": "eastus", "resource_group": "rg-site-a", "nodes": [{"name": "a-1", "cpu": 8}]},
        {
            "name": "site-p",
            "location": "westeurope",
            "resource_group": "rg-site-p",
            "kind": "provisioned",
            "nodes": [{"name": "p-1", "cpu": 4}, {"name": "p-2", "cpu": 4}],
        },
    ],
}


@pytest.fixture(scope="session")
def sites_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sites") / "sites.yml"
    path.write_text(yaml.safe_dump(SITES))
    return path


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, sites_file):
    running = start_emulator(tmp_path_factory.mktemp("azure") / "emulator", sites_file, "--lro-seconds", "0.3")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def registered(emulator):
    """The providers the collection uses, registered in the subscription (as the resource_provider module does)."""
    emulator.admin.settings(provider_registration_seconds=0.2)
    env = emulator.env
    token = arm_token(emulator)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{emulator.url}/subscriptions/{env['AZURE_SUBSCRIPTION_ID']}/providers"
    for namespace in NAMESPACES:
        fetch(
            emulator, "POST", f"{base}/{namespace}/register?api-version=2022-09-01", headers=headers
        ).raise_for_status()

    def all_registered():
        states = [
            fetch(emulator, "GET", f"{base}/{ns}?api-version=2022-09-01", headers=headers).json()["registrationState"]
            for ns in NAMESPACES
        ]
        return all(s == "Registered" for s in states)

    wait_for(all_registered, REGISTER_TIMEOUT, "provider registration")
    return True


@pytest.fixture
def azure_env(emulator, monkeypatch) -> dict:
    """Exactly what env.sh exports, in os.environ."""
    env = emulator.env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture(scope="session")
def metadata(emulator) -> dict:
    response = requests.get(
        f"{emulator.url}/metadata/endpoints?api-version=2022-09-01", verify=emulator.ca_bundle, timeout=10
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def arm_scope(metadata) -> str:
    """The token scope a module derives from the cloud metadata (its first audience)."""
    return metadata["authentication"]["audiences"][0].rstrip("/") + "/.default"


@pytest.fixture
def credential(azure_env):
    from azure.identity import ClientSecretCredential

    # A custom cloud's authority is unknown to Entra ID instance discovery (as for Azure Stack): clients turn it off.
    return ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"],
        os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"],
        disable_instance_discovery=True,
    )


@pytest.fixture
def arm(emulator):
    """Raw ARM calls with requests: arm('GET', path, token=...) -> requests.Response."""
    session = requests.Session()
    default_token = arm_token(emulator)

    def call(method: str, path: str, token=default_token, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(
            method, emulator.url + path, headers=headers, timeout=10, verify=emulator.ca_bundle, **kwargs
        )

    return call


@pytest.fixture
def clean_faults(emulator):
    emulator.admin.clear_faults()
    yield
    emulator.admin.clear_faults()
