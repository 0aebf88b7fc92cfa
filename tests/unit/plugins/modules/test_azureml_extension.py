"""azureml_extension's own steps: PEM files read on the controller and masked at once, and the Relay's actions."""

import base64
import json
from types import SimpleNamespace

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import settings, tasks
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import NOT_READ
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.tasks import protected_reason, provide_relay, read_pem
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import ClusterRef, ExtensionClient
from ansible_collections.hci.arc_ml.plugins.modules import azureml_extension
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA\n"
    "-----END PRIVATE KEY-----\n"
)


class Masks:
    def __init__(self):
        self.values = set()

    def protect(self, values):
        self.values.update(values)


def test_a_key_is_returned_and_masked_in_every_form(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(KEY)
    module = Masks()
    assert read_pem(module, str(path), "private key") == KEY.encode()
    assert KEY in module.values
    assert base64.b64encode(KEY.encode()).decode() in module.values
    assert "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA" in module.values


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (KEY, "certificate", "is not a PEM certificate"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----\n", "private key", "encrypt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc\n", "private key", "encrypted"),
    ],
)
def test_wrong_or_encrypted_files_are_refused_before_anything_is_sent(tmp_path, text, kind, message):
    path = tmp_path / "file.pem"
    path.write_text(text)
    module = Masks()
    with pytest.raises(ArcMLError, match=message):
        read_pem(module, str(path), kind)
    assert text in module.values, "even a refused file is masked first"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ArcMLError, match=r"Cannot read the SSL certificate file .*missing\.pem: No such file"):
        read_pem(Masks(), str(tmp_path / "missing.pem"), "certificate")


class RelayModule(Masks):
    check_mode = True

    def __init__(self):
        super().__init__()
        self.result = {"changed": False, "actions": []}

    def waiter(self, required=False):
        return None

    def act(self, action):
        self.result["actions"].append(action)
        self.result["changed"] = True


class NoRelayYet:
    """An ARM where the Relay namespace does not exist: every GET answers 404; no key is asked for."""

    def post(self, path, api_version):
        raise AssertionError(f"POST {path}: finding the Relay reads no key")

    def get_or_none(self, path, api_version, check_mode=False):
        return None


def test_check_mode_lists_each_relay_resource_it_would_create_as_an_action():
    module = RelayModule()
    client = SimpleNamespace(arm=NoRelayYet(), cluster=ClusterRef("sub", "rg", "connectedClusters", "c1"))
    options = dict.fromkeys(("connection_string", "resource_group", "namespace", "hybrid_connection"))
    options.update(authorization_rule="azureml_rw", create=True)
    (connection_string, _hybrid_connection_id, name), target = provide_relay(
        module, client, SimpleNamespace(location="eastus"), options
    )
    assert name == "c1" and target.hybrid_connection == "c1"
    assert connection_string == NOT_READ
    namespace = module.result["relay"]["namespace"]
    assert module.result["actions"] == [
        f"create relay namespace {namespace}",
        "create relay hybrid connection c1",
        "create relay authorization rule azureml_rw",
    ]
    assert module.result["changed"] is True


def test_the_extension_type_is_sent_in_lower_case_as_az_sends_it():
    assert tasks.EXTENSION_TYPE == "microsoft.azureml.kubernetes"
    assert settings.EXTENSION_TYPE == "Microsoft.AzureML.Kubernetes"


def test_a_relay_created_by_the_run_sends_the_protected_settings_again():
    # Azure lists the protected keys only: the new connection string under the same key is known only here.
    assert protected_reason({"created": ["namespace ns", "hybrid connection c1"]}) == (
        "the Azure Relay was created, with a new connection string"
    )
    assert protected_reason({"created": []}) is None
    assert protected_reason({}) is None


RELAY_STRING = (
    "Endpoint=sb://relay-ns.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;"
    "SharedAccessKey=UmVsYXlLZXlGb3JBenVyZU1MMDEyMzQ1Njc4OWFiY2RlZg=;EntityPath=site-1"
)


def run_azureml(capsys, **options):
    args = {"cluster_name": "site-1", "resource_group": "rg-site-1", "subscription_id": "not-a-guid", **options}
    return run_module(capsys, azureml_extension, args)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("relayServerConnectionString", "relay-string-without-its-usual-shape"),
        ("relayserver.relayConnectionString", RELAY_STRING),
        ("RelayConnectionString", RELAY_STRING),
    ],
)
def test_a_relay_connection_string_in_plain_settings_is_refused_before_anything_else(capsys, key, value):
    # The settings are otherwise wrong too (no training nor inference): the secret is named first, alone.
    result = run_azureml(capsys, configuration_settings={key: value, "installPromOp": False})
    message = result["msg"]
    assert result["failed"] is True and f"'{key}'" in message, message
    assert "configuration_protected_settings" in message and "relay.connection_string" in message, message
    assert "enableTraining" not in message and "not-a-guid" not in message
    assert value not in json.dumps(result)
    assert result["changed"] is False and result["actions"] == []


def test_a_log_analytics_key_in_plain_settings_is_refused_without_the_relay_hint(capsys):
    secret = "bG9nLWFuYWx5dGljcy1zaGFyZWQta2V5LXZhbHVl"
    result = run_azureml(
        capsys, training=True, configuration_settings={"azure_log_analytics.connection_string": secret}
    )
    assert "'azure_log_analytics.connection_string'" in result["msg"] and "Log Analytics" in result["msg"]
    assert "relay.connection_string" not in result["msg"]
    assert secret not in json.dumps(result)


def test_the_relay_connection_string_where_it_belongs_is_accepted(capsys):
    result = run_azureml(
        capsys,
        training=True,
        configuration_settings={"relayserver.hybridConnectionResourceID": "/subscriptions/x/hybridConnections/site-1"},
        configuration_protected_settings={"relayServerConnectionString": RELAY_STRING},
    )
    assert "not-a-guid" in result["msg"], result["msg"]


class NoArm:
    """An ARM that must not be called: the Relay's names are checked before its first request."""

    def __getattr__(self, name):
        raise AssertionError(f"ARM {name} called before the Relay names were checked")


@pytest.mark.parametrize(
    ("cluster_name", "option", "value", "fragment"),
    [
        ("c1", "namespace", "..", "relay.namespace '..'"),
        ("c1", "hybrid_connection", "c1\n", "relay.hybrid_connection 'c1\\n'"),
        ("c1", "authorization_rule", "azureml_rw#x", "relay.authorization_rule 'azureml_rw#x'"),
        ("c1", "resource_group", "rg/x", "relay.resource_group 'rg/x'"),
        # az's derived namespace starts with the cluster name's first letter or digit; Azure wants a letter.
        ("1site", None, None, "relay.namespace '1site"),
    ],
)
def test_relay_names_are_checked_before_the_relay_is_looked_up(cluster_name, option, value, fragment):
    module = RelayModule()
    cluster = ClusterRef("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "rg", "connectedClusters", cluster_name)
    options = dict.fromkeys(("connection_string", "resource_group", "namespace", "hybrid_connection"))
    options.update(authorization_rule="azureml_rw", create=True)
    if option:
        options[option] = value
    with pytest.raises(ArcMLError, match="Nothing was sent to Azure") as failed:
        provide_relay(
            module, SimpleNamespace(arm=NoArm(), cluster=cluster), SimpleNamespace(location="eastus"), options
        )
    assert fragment in str(failed.value)
    assert module.result["actions"] == []


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"relay": {"namespace": ".."}}, "relay.namespace '..' is not a valid Azure Relay namespace name"),
        ({"relay": {"authorization_rule": "azureml_rw\n"}}, "relay.authorization_rule 'azureml_rw\\n' is not a valid"),
        ({"cluster_name": "site-1?api-version=1"}, "cluster_name 'site-1?api-version=1' is not a valid cluster name"),
        ({"resource_group": "."}, "resource_group '.' is not a valid resource group name"),
        ({"name": "azureml#x"}, "name 'azureml#x' is not a valid extension name"),
    ],
)
def test_the_names_of_the_request_paths_are_checked_before_sign_in(capsys, options, fragment):
    # subscription_id "not-a-guid" fails at sign-in: a message without it was given before anything was sent.
    result = run_azureml(capsys, training=True, **options)
    assert result["failed"] is True and fragment in result["msg"], result["msg"]
    assert "not-a-guid" not in result["msg"] and "\n" not in result["msg"]
    assert result["changed"] is False and result["actions"] == []


class NoClusterYet:
    """An ARM without the connected cluster: the extension and the cluster both answer 404, and nothing is written."""

    def __init__(self):
        self.requests = []

    def request(self, method, path, api_version):
        self.requests.append((method, path))
        raise AzureApiError(method, path, 404, "ResourceNotFound", "not found")

    def get(self, path, api_version):
        return self.request("GET", path, api_version)


@pytest.fixture
def no_cluster_yet(monkeypatch):
    arm = NoClusterYet()
    cluster = ClusterRef("sub", "rg-site-1", "connectedClusters", "site-1")
    monkeypatch.setattr(
        tasks, "extension_client", lambda module, name: ExtensionClient(arm, cluster, name), raising=True
    )
    return arm


def test_check_mode_on_a_cluster_not_connected_yet_plans_the_install(capsys, no_cluster_yet):
    result = run_azureml(capsys, training=True, _ansible_check_mode=True, _ansible_diff=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["actions"] == [
        "install extension azureml (after the cluster is connected)",
        "find or create the Azure Relay of extension azureml (after the cluster is connected)",
    ]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["extension_type"] == tasks.EXTENSION_TYPE
    assert {method for method, _path in no_cluster_yet.requests} == {"GET"}


def test_outside_check_mode_a_missing_cluster_stays_an_error(capsys, no_cluster_yet):
    result = run_azureml(capsys, training=True)
    assert result["failed"] is True and "does not exist in Azure" in result["msg"]
    assert {method for method, _path in no_cluster_yet.requests} == {"GET"}
