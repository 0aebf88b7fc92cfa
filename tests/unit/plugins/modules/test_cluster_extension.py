"""cluster_extension end to end up to its first request: secrets in plain configuration settings are refused.

The module runs for real (AnsibleModule, argument spec, ArcMLModule.run); `subscription_id` is not a GUID, so a
run that got past the local checks would fail on that instead, before any network call.
"""

import json

import pytest
from ansible_collections.hci.arc_ml.plugins.modules import cluster_extension
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

RELAY = (
    "Endpoint=sb://relay-ns.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;"
    "SharedAccessKey=Zm9vYmFyYmF6cXV4UmVsYXlLZXkxMjM0NTY3ODkwYWJjZGU=;EntityPath=site-1"
)
STORAGE = (
    "DefaultEndpointsProtocol=https;AccountName=fleetlogs;AccountKey=c3RvcmFnZS1hY2NvdW50LWtleS12YWx1ZS0xMjM0NQ==;"
    "EndpointSuffix=core.windows.net"
)
SAS_URL = (
    "https://fleetlogs.blob.core.windows.net/logs?sv=2022-11-02&ss=b&sp=rw&se=2030-01-01&sig=c2FzLXNpZy12YWx1ZQ%3D"
)
SAS_STRING = "BlobEndpoint=https://fleetlogs.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=abcdEFGH%3D"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAvQkR0c2VjcmV0LXBlbS1ib2R5LWxpbmUtb25lLTEyMzQ1Njc4\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def run(capsys, **options):
    args = {
        "name": "flux",
        "extension_type": "microsoft.flux",
        "cluster_name": "site-1",
        "resource_group": "rg-site-1",
        "subscription_id": "not-a-guid",
        **options,
    }
    return run_module(capsys, cluster_extension, args)


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        # Named by value shape, under keys that say nothing.
        ("relay.conn", RELAY, "SharedAccessKey"),
        ("logs.target", STORAGE, "AccountKey"),
        ("logs.url", SAS_URL, "sig="),
        ("logs.sas", SAS_STRING, "SharedAccessSignature"),
        ("tls.key", PEM, "private key"),
        ("proxy.url", "http://fleet:Pr0xy-Passw0rd@proxy.corp.example:3128", "password"),
        # Named by key: the keys az k8s-extension puts in the protected settings, and secret-shaped names.
        ("relayServerConnectionString", "not-even-a-connection-string", "relayServerConnectionString"),
        ("servicebus.connectionString", "sb-value-without-shape-123", "Service Bus"),
        ("azure_log_analytics.connection_string", "bG9nLWFuYWx5dGljcy1zaGFyZWQta2V5", "Log Analytics"),
        ("omsagent.secret.key", "bG9nLWFuYWx5dGljcy13b3Jrc3BhY2Uta2V5", "Log Analytics"),
        ("sslKeyPemFile", "/etc/ssl/private/site-1.key", "sslKeyPemFile"),
        ("auth.clientSecret", "cl1ent~secret.value_0123", "client secret"),
        ("proxy.password", "Pr0xy-Passw0rd", "password"),
    ],
)
def test_a_secret_in_plain_settings_is_refused_naming_the_key_never_the_value(capsys, key, value, what):
    result = run(capsys, configuration_settings={"keyVaultName": "kv-fleet", key: value})
    assert result["failed"] is True
    message = result["msg"]
    assert f"'{key}'" in message and what.lower() in message.lower(), message
    assert "configuration_protected_settings" in message, message
    assert "not-a-guid" not in message, "refused before anything else is looked at"
    assert "\n" not in message and "exception" not in result
    # Nowhere in the result: not in the message, nor in the module arguments Ansible echoes back (-vvv).
    dumped = json.dumps(result)
    assert value not in dumped
    assert json.dumps(value)[1:-1] not in dumped
    settings = result["invocation"]["module_args"]["configuration_settings"]
    assert settings["keyVaultName"] == "kv-fleet", "what is not a secret stays readable"
    assert result["changed"] is False and result["actions"] == []


def test_every_secret_setting_is_named_at_once(capsys):
    result = run(capsys, configuration_settings={"a.conn": RELAY, "b.password": "s3cret-Value", "c.name": "plain"})
    assert "'a.conn'" in result["msg"] and "'b.password'" in result["msg"]
    assert "'c.name'" not in result["msg"]
    assert RELAY not in json.dumps(result) and "s3cret-Value" not in json.dumps(result)


@pytest.mark.parametrize(
    "settings",
    [
        {"keyVaultName": "kv-fleet", "keyVault.secretName": "relay-key"},
        # The REST spec's own example (CreateExtension.json): the workspace id is a plain setting.
        {"omsagent.secret.wsid": "a38cef99-5a89-52ed-b6db-22095c23664b", "omsagent.env.clusterName": "site-1"},
        {"sslSecret": "azureml-ssl", "tls.secretName": "ingress-tls", "passwordSecretName": "db-password"},
        {"enablePassword": "false", "auth.password": "", "tokenAudience": "api://arc"},
        {
            "blob.url": "https://fleetlogs.blob.core.windows.net/logs?sv=2022-11-02&design=sig",
            "relay.endpoint": "Endpoint=sb://relay-ns.servicebus.windows.net/;SharedAccessKeyName=azureml_rw",
        },
        {"proxy.url": "http://proxy.corp.example:3128", "git.url": "ssh://git@github.com:22/org/repo"},
        {"cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    ],
)
def test_settings_that_only_look_like_secrets_are_not_refused(capsys, settings):
    result = run(capsys, configuration_settings=settings)
    assert result["failed"] is True
    assert "not-a-guid" in result["msg"], "only the subscription id check stops this run: " + result["msg"]


def test_protected_settings_are_where_secrets_belong(capsys):
    result = run(capsys, configuration_protected_settings={"relay.conn": RELAY, "proxy.password": "Pr0xy-Passw0rd"})
    assert "not-a-guid" in result["msg"]
    assert RELAY not in json.dumps(result)


def test_state_absent_does_not_refuse_but_still_masks_the_secret(capsys):
    result = run(capsys, state="absent", configuration_settings={"relay.conn": RELAY})
    assert "not-a-guid" in result["msg"]
    assert RELAY not in json.dumps(result)
