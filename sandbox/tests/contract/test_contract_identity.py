"""Entra ID stand-in: azure-identity gets tokens the way it does from Entra ID, and rejects what Entra rejects."""

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError

pytestmark = pytest.mark.sandbox


def test_metadata_names_login_audiences_and_arc_config_endpoint(emulator, metadata):
    assert metadata["resourceManager"] == emulator.url + "/"
    assert metadata["authentication"]["loginEndpoint"].rstrip("/") == emulator.env["AZURE_AUTHORITY_HOST"]
    assert metadata["authentication"]["identityProvider"] == "AAD"
    assert len(metadata["authentication"]["audiences"]) >= 1
    assert metadata["dataplaneEndpoints"]["arcConfigEndpoint"].startswith(emulator.url)
    assert metadata["suffixes"]["relayEndpointSuffix"]


def test_env_is_the_env_sh_contract(azure_env, emulator):
    assert azure_env["AZURE_CLOUD_ENVIRONMENT"] == azure_env["ARCML_SANDBOX_URL"] == emulator.url
    assert azure_env["AZURE_TENANT"] == azure_env["AZURE_TENANT_ID"]
    assert azure_env["AZURE_SECRET"] == azure_env["AZURE_CLIENT_SECRET"]
    assert azure_env["REQUESTS_CA_BUNDLE"] == azure_env["ARCML_CA_BUNDLE"]
    assert azure_env["ARCML_SANDBOX_DIR"] == str(emulator.directory)


def test_client_secret_credential_gets_a_signed_arm_token(credential, arm_scope, azure_env, emulator):
    token = credential.get_token(arm_scope)

    keys = requests.get(
        f"{emulator.url}/{azure_env['AZURE_TENANT_ID']}/discovery/v2.0/keys", verify=emulator.ca_bundle, timeout=10
    ).json()
    key = jwt.PyJWK(keys["keys"][0]).key
    claims = jwt.decode(token.token, key, algorithms=["RS256"], audience=arm_scope[: -len("/.default")])
    assert claims["tid"] == azure_env["AZURE_TENANT_ID"]
    assert claims["appid"] == azure_env["AZURE_CLIENT_ID"]
    assert token.expires_on > claims["iat"] + 3000


def test_a_wrong_secret_is_rejected_like_entra_id(azure_env, arm_scope):
    from azure.identity import ClientSecretCredential

    wrong = ClientSecretCredential(
        azure_env["AZURE_TENANT_ID"], azure_env["AZURE_CLIENT_ID"], "not-the-secret", disable_instance_discovery=True
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        wrong.get_token(arm_scope)


def test_an_unknown_resource_is_rejected(credential):
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        credential.get_token("https://management.azure.com/.default")


def test_an_unknown_tenant_fails_discovery(emulator):
    response = requests.get(
        f"{emulator.url}/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration",
        verify=emulator.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 400
    assert "AADSTS90002" in response.json()["error_description"]
