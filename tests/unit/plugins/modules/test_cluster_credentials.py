"""hci.arc_ml.cluster_credentials against a scripted Azure: the credential actions, their bodies and answers.

The whole stack runs (argument spec, azure-identity, the ARM pipeline, LRO polling); only the network and the
clock are fake.
"""

import base64
import json

import pytest
import yaml
from ansible_collections.hci.arc_ml.plugins.module_utils._cluster_access import facts
from ansible_collections.hci.arc_ml.plugins.modules import cluster_credentials
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import FAKE_AUTH, FAKE_SUBSCRIPTION, run_module

ARM = "https://127.0.0.1:8443"
LOGIN = ARM + "/login"
SUBSCRIPTION = FAKE_SUBSCRIPTION
AUTH = FAKE_AUTH
CLUSTER = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-hci/providers/Microsoft.Kubernetes/connectedClusters/site-1"
INSTANCE = CLUSTER + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"
EXPIRES = 1893456000  # 2030-01-01T00:00:00Z
TOKEN_PAYLOAD = base64.urlsafe_b64encode(json.dumps({"exp": EXPIRES}).encode()).decode().rstrip("=")
TOKEN = f"eyJhbGciOiJSUzI1NiJ9.{TOKEN_PAYLOAD}.c2lnbmF0dXJl"
KEY = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ=="


def kubeconfig(server, user):
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "site-1", "cluster": {"server": server, "certificate-authority-data": "Q0E="}}],
            "users": [{"name": "clusterUser_rg-hci_site-1", "user": user}],
            "contexts": [{"name": "site-1", "context": {"cluster": "site-1", "user": "clusterUser_rg-hci_site-1"}}],
            "current-context": "site-1",
        }
    )


CONNECT_KUBECONFIG = kubeconfig("https://proxy.example/_clusterconnect/site-1", {"token": TOKEN})
ADMIN_KUBECONFIG = kubeconfig("https://10.0.0.10:6443", {"client-certificate-data": "Q0VSVA==", "client-key-data": KEY})


def encoded(text):
    return [{"name": "credentialName1", "value": base64.b64encode(text.encode()).decode()}]


class FakeArm:
    """listClusterUserCredential (200) and the provisioned instance's list*Kubeconfig (202, then status polls)."""

    def __init__(self, polls=1, connect_answer=None, status=None):
        self.polls = polls
        self.connect_answer = connect_answer or (200, {"kubeconfigs": encoded(CONNECT_KUBECONFIG)})
        self.status = status
        self.log = []

    def __call__(self, request, reply):
        path, _sep, query = request.url[len(ARM) :].partition("?")
        body = json.loads(request.content) if request.content else None
        self.log.append((request.method, path, query, body))
        if path == CLUSTER + "/listClusterUserCredential":
            return reply(*self.connect_answer)
        if path.startswith(INSTANCE + "/list"):
            return reply(202, None, {"Azure-AsyncOperation": ARM + "/status/op-1?api-version=2024-01-01"})
        if path == "/status/op-1":
            self.polls -= 1
            if self.polls > 0:
                return reply(200, {"status": "Accepted"}, {"Retry-After": "1"})
            done = {"id": "/providers/x/op-1", "name": "op-1", "resourceId": INSTANCE, "status": "Succeeded"}
            return reply(200, self.status or dict(done, properties={"kubeconfigs": encoded(ADMIN_KUBECONFIG)}))
        raise AssertionError(f"unexpected {request.method} {path}")


def run(capsys, no_log=True, **args):
    arguments = {**AUTH, "cluster_name": "site-1", "resource_group": "rg-hci", "_ansible_no_log": no_log, **args}
    return run_module(capsys, cluster_credentials, arguments)


def test_refuses_to_run_without_no_log_and_asks_azure_nothing(fake_azure, capsys):
    arm = fake_azure(FakeArm())
    result = run(capsys, no_log=False)
    assert result["failed"] is True
    assert result["msg"] == (
        "cluster_credentials returns the cluster's kubeconfig, which holds credentials: set no_log: true on this "
        "task so that they can never reach a log. Nothing was asked of Azure."
    )
    assert arm.log == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_cluster_connect_posts_aad_without_client_proxy_and_returns_the_kubeconfig(fake_azure, capsys, check_mode):
    arm = fake_azure(FakeArm())
    result = run(capsys, _ansible_check_mode=check_mode)
    assert not result.get("failed"), result
    assert arm.log == [
        (
            "POST",
            CLUSTER + "/listClusterUserCredential",
            "api-version=2026-05-01",
            {"authenticationMethod": "AAD", "clientProxy": False},
        )
    ]
    assert result["kubeconfig"] == CONNECT_KUBECONFIG
    assert result["changed"] is False
    assert "actions" not in result
    assert {k: result[k] for k in ("kind", "server", "context", "auth", "exec_command", "expires_on")} == {
        "kind": "cluster_connect",
        "server": "https://proxy.example/_clusterconnect/site-1",
        "context": "site-1",
        "auth": "token",
        "exec_command": None,
        "expires_on": "2030-01-01T00:00:00Z",
    }
    assert result["cluster_id"] == CLUSTER


@pytest.mark.parametrize("kind, action", [("admin", "listAdminKubeconfig"), ("user", "listUserKubeconfig")])
def test_provisioned_kubeconfig_follows_the_long_running_post_to_its_status(
    fake_azure, capsys, fake_clock, kind, action
):
    arm = fake_azure(FakeArm(polls=2))
    result = run(capsys, kind=kind, wait_sleep=3)
    assert not result.get("failed"), result
    assert arm.log[0] == ("POST", f"{INSTANCE}/{action}", "api-version=2024-01-01", None)
    # No final GET: a POST's result is the operation status itself (final-state-via azure-async-operation).
    assert [entry[1] for entry in arm.log[1:]] == ["/status/op-1", "/status/op-1"]
    assert result["kubeconfig"] == ADMIN_KUBECONFIG
    assert result["auth"] == "client_certificate"
    assert result["expires_on"] is None
    # Each status answer says Retry-After: 1; the pauses still grow (1, 2... up to wait_sleep).
    assert fake_clock.sleeps == [1, 2]


def test_a_bad_cluster_name_fails_before_any_request(fake_azure, capsys):
    arm = fake_azure(FakeArm())
    result = run(capsys, cluster_name="../site-1")
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid cluster credentials request: cluster_name '../site-1' is not a valid")
    assert result["msg"].endswith("Nothing was sent to Azure.")
    assert arm.log == []


def test_an_azure_refusal_is_one_azure_error_line(fake_azure, capsys):
    refusal = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization."}}
    fake_azure(FakeArm(connect_answer=(403, refusal)))
    result = run(capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"Azure POST {CLUSTER}/listClusterUserCredential failed: HTTP 403")
    assert "\n" not in result["msg"]


def test_an_answer_without_a_kubeconfig_is_one_clear_line(fake_azure, capsys):
    fake_azure(FakeArm(connect_answer=(200, {"kubeconfigs": []})))
    result = run(capsys)
    assert result["msg"] == (
        f"Azure answered POST {CLUSTER}/listClusterUserCredential without a kubeconfig; try again, or ask "
        "Microsoft support."
    )


def test_a_failed_operation_names_azures_error(fake_azure, capsys):
    failed = {"status": "Failed", "error": {"code": "ProvisionedClusterUnreachable", "message": "No answer."}}
    fake_azure(FakeArm(status=failed))
    result = run(capsys, kind="admin")
    assert result["failed"] is True
    assert "ProvisionedClusterUnreachable" in result["msg"]
    assert KEY not in json.dumps(result)


def test_facts_never_include_a_credential():
    described = facts.describe(ADMIN_KUBECONFIG, "admin")
    assert KEY not in json.dumps(described)
    assert facts.describe(CONNECT_KUBECONFIG, "cluster_connect")["expires_on"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize("token", [None, "", "opaque-service-account-token", "a.%%%.c", "a.e30.c"])
def test_tokens_without_a_readable_expiry_have_none(token):
    assert facts.token_expiry(token) is None


def test_exec_users_name_their_plugin():
    text = kubeconfig("https://10.0.0.10:6443", {"exec": {"command": "kubelogin", "args": ["get-token"]}})
    described = facts.describe(text, "user")
    assert (described["auth"], described["exec_command"]) == ("exec", "kubelogin")


def test_a_kubeconfig_that_is_not_yaml_is_refused_without_quoting_it():
    with pytest.raises(facts.KubeconfigFormatError) as caught:
        facts.describe("secret-token: [", "admin")
    assert "secret-token" not in caught.value.message
