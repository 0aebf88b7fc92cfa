"""The secret registry (secrets_registry.py): each secret the emulator mints or receives is there once it exists."""

import pytest
from contract_helpers import arm_token
from test_contract_extensions import clients, make_cluster  # noqa: F401 -- clients: a fixture

from sandbox.emulator import principal_credentials
from sandbox.emulator.secrets_registry import SecretRegistry, read_secrets

pytestmark = pytest.mark.sandbox

RELAY_API = "?api-version=2017-04-01"
EXTENSION_API = "?api-version=2023-05-01"


def registry(emulator) -> dict:
    return read_secrets(SecretRegistry.in_directory(emulator.directory).path)


def test_client_secrets_tokens_relay_keys_and_protected_settings_are_recorded(arm, clients, emulator, registered):  # noqa: F811
    for name in ("sandbox-admin", "no-rights"):
        secret = principal_credentials(emulator.directory, name)["client_secret"]
        assert registry(emulator)[secret] == f"client secret of principal {name}"
    token = arm_token(emulator)
    assert registry(emulator)[token].startswith("access token of principal sandbox-admin for ")

    group = f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a"
    ns = f"{group}/providers/Microsoft.Relay/namespaces/rr-scan"
    assert arm("PUT", ns + RELAY_API, json={"location": "eastus"}).status_code == 201
    rule = ns + "/authorizationRules/scan_rw"
    assert arm("PUT", rule + RELAY_API, json={"properties": {"rights": ["Listen"]}}).status_code == 200
    keys = arm("POST", rule + "/listKeys" + RELAY_API).json()
    recorded = registry(emulator)
    for name in ("primaryKey", "secondaryKey", "primaryConnectionString", "secondaryConnectionString"):
        assert keys[name] in recorded, name

    path = (
        f"{make_cluster(clients, emulator, 'cc-secrets')}/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    )
    body = {"properties": {"extensionType": "microsoft.flux", "configurationProtectedSettings": {"pw": "put-pw-1"}}}
    assert arm("PUT", path + EXTENSION_API, json=body).status_code == 201
    # A body the service refuses still brought its secret.
    refused = {"properties": {"extensionType": "other", "configurationProtectedSettings": {"pw": "refused-pw-2"}}}
    assert arm("PUT", path + EXTENSION_API, json=refused).status_code in (400, 409)
    recorded = registry(emulator)
    assert recorded["put-pw-1"] == f"protected setting pw of {path}"
    assert recorded["refused-pw-2"] == f"protected setting pw of {path}"
    assert oct(SecretRegistry.in_directory(emulator.directory).path.stat().st_mode & 0o777) == "0o600"


def test_each_value_is_appended_once_and_a_torn_line_is_skipped(tmp_path):
    first, second = SecretRegistry(tmp_path / "r.jsonl"), SecretRegistry(tmp_path / "r.jsonl")
    first.record_secret("s3cret-value-1", "a")
    first.record_secret("s3cret-value-1", "a again")
    second.record_secret("s3cret-value-2", "b")
    SecretRegistry(tmp_path / "r.jsonl").record_secret("s3cret-value-1", "after a restart")
    with open(tmp_path / "r.jsonl", "a") as handle:
        handle.write('{"secret": "torn')
    assert read_secrets(tmp_path / "r.jsonl") == {"s3cret-value-1": "a", "s3cret-value-2": "b"}
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3
