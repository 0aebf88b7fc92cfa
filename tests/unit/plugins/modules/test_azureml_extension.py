"""azureml_extension's own steps: PEM files read on the controller and masked at once, and the Relay's actions."""

import base64
from types import SimpleNamespace

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import settings, tasks
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import NOT_YET_CREATED
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.tasks import protected_reason, provide_relay, read_pem
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import ClusterRef

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
    """An ARM where the Relay namespace does not exist: listKeys and every GET answer 404."""

    def post(self, path, api_version):
        raise AzureApiError("POST", path, 404, "NotFound", "not found")

    def get_or_none(self, path, api_version):
        return None


def test_check_mode_lists_each_relay_resource_it_would_create_as_an_action():
    module = RelayModule()
    client = SimpleNamespace(arm=NoRelayYet(), cluster=ClusterRef("sub", "rg", "connectedClusters", "c1"))
    options = dict.fromkeys(("connection_string", "resource_group", "namespace", "hybrid_connection"))
    options.update(authorization_rule="azureml_rw", create=True)
    connection_string, _hybrid_connection_id, name = provide_relay(
        module, client, SimpleNamespace(location="eastus"), options
    )
    assert name == "c1"
    assert connection_string == NOT_YET_CREATED
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
