"""Kubernetes connection settings: the three kubeconfig forms, which settings count, one resolved document."""

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.hci.arc_ml.plugins.module_utils._common import scratch
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._kube import connection as _kube
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import (
    InlineKubeconfig,
    KubeConfigError,
    KubeConnection,
    api_client,
)

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "site1", "cluster": {"server": "https://192.0.2.10:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "admin", "user": {"token": "kubeconfig-token"}}],
    "contexts": [
        {"name": "site1-admin", "context": {"cluster": "site1", "user": "admin"}},
        {"name": "other", "context": {"cluster": "site1", "user": "admin", "namespace": "x"}},
    ],
    "current-context": "other",
}


def jwt(expires):
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(expires)}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJl"


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig-site1.yaml"
    path.write_text(json.dumps(KUBECONFIG))
    return str(path)


@pytest.fixture
def no_k8s_environment(monkeypatch):
    for name in [n for n in os.environ if n.startswith("K8S_AUTH_") or n == "KUBECONFIG"]:
        monkeypatch.delenv(name)


def module(args, monkeypatch=None, environ=None):
    for name, value in (environ or {}).items():
        monkeypatch.setenv(name, value)
    with patch_module_args(args):
        return ArcMLModule({}, kube=True)


# --- the three forms of `kubeconfig` ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["path", "text", "json text", "dict"])
def test_kubeconfig_as_a_path_its_text_or_a_dict_reaches_the_same_cluster(kubeconfig, form):
    value = {
        "path": kubeconfig,
        "text": yaml.safe_dump(KUBECONFIG),
        "json text": json.dumps(KUBECONFIG),
        "dict": KUBECONFIG,
    }[form]
    connection = module({"kubeconfig": value, "context": "site1-admin"}).kube()
    assert connection.server == "https://192.0.2.10:6443"
    assert connection.context == "site1-admin"
    configuration = api_client(connection).configuration
    assert configuration.host == "https://192.0.2.10:6443"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer kubeconfig-token"
    expected = f"kubeconfig {kubeconfig}" if form == "path" else "inline kubeconfig"
    assert connection.describe() == f"{expected} context site1-admin"


@pytest.mark.parametrize("value", [yaml.safe_dump(KUBECONFIG), KUBECONFIG])
def test_inline_content_is_never_echoed_even_when_the_options_fail_validation(value, capsys):
    # AnsibleModule fails inside its constructor on a bad option and echoes every option back.
    with patch_module_args({"kubeconfig": value, "validate_certs": "maybe"}), pytest.raises(SystemExit):
        ArcMLModule({}, kube=True)
    output = json.loads(capsys.readouterr().out)
    assert output["failed"] and "validate_certs" in output["msg"]
    assert output["invocation"]["module_args"]["kubeconfig"] == "(inline kubeconfig)"
    assert "kubeconfig-token" not in json.dumps(output)
    assert "192.0.2.10" not in json.dumps(output)


def test_inline_secrets_are_masked_in_any_later_message(kubeconfig):
    key = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKeyLine\n-----END EC PRIVATE KEY-----\n").decode()
    document = json.loads(json.dumps(KUBECONFIG))
    document["users"].append(
        {
            "name": "exec",
            "user": {
                "client-key-data": key,
                "password": "pw-1",
                "auth-provider": {"config": {"access-token": "at-1", "cmd-path": "/bin/x"}},
                "exec": {"env": [{"name": "AZURE_CLIENT_SECRET", "value": "exec-secret"}]},
            },
        }
    )
    masked = module({"kubeconfig": document}).ansible.no_log_values
    assert {"kubeconfig-token", key, "MHcCAQEEIKeyLine", "pw-1", "at-1", "exec-secret"} <= masked
    assert "/bin/x" not in masked


def test_a_path_stays_a_path_and_is_not_masked(kubeconfig):
    ansible_module = module({"kubeconfig": kubeconfig})
    assert ansible_module.params["kubeconfig"] == kubeconfig
    assert not isinstance(ansible_module.params["kubeconfig"], InlineKubeconfig)
    assert kubeconfig not in ansible_module.ansible.no_log_values


def test_relative_file_fields_resolve_against_the_kubeconfig_directory(tmp_path):
    document = json.loads(json.dumps(KUBECONFIG))
    document["clusters"][0]["cluster"] = {"server": "https://192.0.2.10:6443", "certificate-authority": "pki/ca.crt"}
    document["users"][0]["user"] = {"client-certificate": "pki/admin.crt", "client-key": "/abs/admin.key"}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document))
    connection = KubeConnection.from_params({"kubeconfig": str(path)}, {})
    assert connection.document["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "pki/ca.crt")
    assert connection.document["users"][0]["user"] == {
        "client-certificate": str(tmp_path / "pki/admin.crt"),
        "client-key": "/abs/admin.key",
    }


# --- bad kubeconfigs: one line, nothing of the content ------------------------------------------------------------


def test_a_wrong_context_in_a_dict_names_the_contexts_it_has():
    with pytest.raises(KubeConfigError) as error:
        KubeConnection.from_params({"kubeconfig": InlineKubeconfig(KUBECONFIG), "context": "nope"}, {})
    assert error.value.message == "Context nope is not in the inline kubeconfig (its contexts: site1-admin, other)."


def test_text_that_is_not_yaml_says_where_without_quoting_it():
    text = "apiVersion: v1\nusers: [{name: a, user: {token: s3cr3t-t0ken}\n"
    with pytest.raises(KubeConfigError) as error:
        KubeConnection.from_params({"kubeconfig": InlineKubeconfig(text)}, {})
    assert error.value.message.startswith("The inline kubeconfig is not YAML: ")
    assert "line 3" in error.value.message and "s3cr3t" not in error.value.message


def test_yaml_that_is_not_a_kubeconfig_is_refused():
    with pytest.raises(KubeConfigError, match="is not a kubeconfig"):
        KubeConnection.from_params({"kubeconfig": InlineKubeconfig("- just\n- a list\n")}, {})


def test_a_directory_is_not_a_kubeconfig(tmp_path):
    with pytest.raises(KubeConfigError, match=f"^kubeconfig {tmp_path} is a directory; give the path of a kubeconfig"):
        KubeConnection.from_params({"kubeconfig": str(tmp_path)}, {})


def test_missing_kubeconfig_file_is_reported():
    with pytest.raises(KubeConfigError, match="kubeconfig /nonexistent/config does not exist"):
        KubeConnection.from_params({"kubeconfig": "/nonexistent/config"}, {})


def test_no_kubeconfig_at_all_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KubeConfigError, match=r"^No Kubernetes connection: set kubeconfig"):
        KubeConnection.from_params({}, {})


def test_an_expired_token_fails_before_any_request(kubeconfig):
    document = json.loads(json.dumps(KUBECONFIG))
    document["users"][0]["user"]["token"] = jwt(time.time() - 60)
    with pytest.raises(KubeConfigError, match=r"^The token of inline kubeconfig expired at .*cluster_credentials"):
        KubeConnection.from_params({"kubeconfig": InlineKubeconfig(document)}, {})
    document["users"][0]["user"]["token"] = jwt(time.time() + 3600)
    assert KubeConnection.from_params({"kubeconfig": InlineKubeconfig(document)}, {}).server


# --- which settings count ------------------------------------------------------------------------------------------


def test_k8s_auth_variables_are_used_when_the_task_names_no_cluster(kubeconfig):
    environ = {"K8S_AUTH_KUBECONFIG": kubeconfig, "K8S_AUTH_CONTEXT": "site1-admin", "K8S_AUTH_VERIFY_SSL": "yes"}
    connection = KubeConnection.from_params({}, environ)
    assert connection.describe() == f"kubeconfig {kubeconfig} context site1-admin"
    assert connection.verifies_tls  # K8S_AUTH_VERIFY_SSL beats the kubeconfig's insecure-skip-tls-verify


def test_an_explicit_kubeconfig_beats_every_k8s_auth_variable(kubeconfig):
    # An AWX Kubernetes credential on the job must not redirect, or lend its token to, a host's own kubeconfig.
    environ = {
        "K8S_AUTH_HOST": "https://198.51.100.7:6443",
        "K8S_AUTH_API_KEY": "awx-token",
        "K8S_AUTH_CONTEXT": "other",
        "K8S_AUTH_VERIFY_SSL": "no",
    }
    connection = KubeConnection.from_params({"kubeconfig": kubeconfig, "context": "site1-admin"}, environ)
    assert connection.server == "https://192.0.2.10:6443"
    assert connection.context == "site1-admin"
    assert "awx-token" not in json.dumps(connection.document)


def test_an_explicit_context_alone_also_ignores_k8s_auth_host(kubeconfig):
    environ = {"KUBECONFIG": kubeconfig, "K8S_AUTH_HOST": "https://198.51.100.7:6443"}
    assert KubeConnection.from_params({"context": "site1-admin"}, environ).server == "https://192.0.2.10:6443"


def test_task_options_override_k8s_auth_variables_one_by_one(kubeconfig):
    environ = {"K8S_AUTH_HOST": "https://198.51.100.7:6443", "K8S_AUTH_API_KEY": "env-token"}
    connection = KubeConnection.from_params({"validate_certs": False}, environ)
    assert connection.describe() == "host https://198.51.100.7:6443"
    assert connection.document["users"][0]["user"] == {"token": "env-token"}
    assert not connection.verifies_tls


def test_api_key_from_the_environment_is_masked_in_output(monkeypatch, no_k8s_environment):
    ansible_module = module(
        {}, monkeypatch, {"K8S_AUTH_HOST": "https://192.0.2.10:6443", "K8S_AUTH_API_KEY": "env-api-token"}
    )
    assert ansible_module.kube().describe() == "host https://192.0.2.10:6443"
    assert "env-api-token" in ansible_module.ansible.no_log_values


def test_a_k8s_auth_boolean_that_is_not_one_is_an_error():
    with pytest.raises(KubeConfigError, match="K8S_AUTH_VERIFY_SSL='sometimes' is not a boolean"):
        KubeConnection.from_params({}, {"K8S_AUTH_HOST": "https://h:6443", "K8S_AUTH_VERIFY_SSL": "sometimes"})


@pytest.mark.parametrize(
    ("params", "in_pod", "source"),
    [
        ({"host": "https://192.0.2.10:6443", "api_key": "t"}, True, "host https://192.0.2.10:6443"),
        ({"context": "site1-admin"}, True, "kubeconfig"),
        ({}, True, "in-cluster service account"),
        ({}, False, "kubeconfig"),
    ],
)
def test_which_source_wins(monkeypatch, tmp_path, kubeconfig, params, in_pod, source):
    token = tmp_path / "token"
    token.write_text("sa-token")
    monkeypatch.setattr(_kube, "SERVICE_ACCOUNT_TOKEN", str(token))
    environ = {"KUBECONFIG": kubeconfig}
    if in_pod:
        environ.update(KUBERNETES_SERVICE_HOST="10.96.0.1", KUBERNETES_SERVICE_PORT="443")
    assert KubeConnection.from_params(params, environ).describe().startswith(source)


def test_in_cluster_is_the_service_account_token_file_and_ca():
    document = _kube.in_cluster_document({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"})
    assert document["clusters"][0]["cluster"] == {
        "server": "https://[fd00::1]:443",
        "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    }
    assert document["users"][0]["user"] == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}


def test_kubeconfig_variable_lists_merge_like_kubectl(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    other = json.loads(json.dumps(KUBECONFIG))
    other["clusters"][0]["cluster"]["server"] = "https://198.51.100.7:6443"
    other["contexts"].append({"name": "only-b", "context": {"cluster": "site1", "user": "admin"}})
    first.write_text(json.dumps(dict(KUBECONFIG, **{"current-context": ""})))
    second.write_text(json.dumps(dict(other, **{"current-context": "only-b"})))
    connection = KubeConnection.from_params({}, {"KUBECONFIG": f"{first}{os.pathsep}{second}"})
    assert connection.context == "only-b"
    assert connection.server == "https://192.0.2.10:6443"  # the first file's cluster site1 wins


# --- certificate verification ----------------------------------------------------------------------------------


def test_validate_certs_true_overrides_the_kubeconfigs_insecure_skip(kubeconfig):
    connection = KubeConnection.from_params({"kubeconfig": kubeconfig, "validate_certs": True}, {})
    assert connection.verifies_tls
    assert api_client(connection).configuration.verify_ssl is True


def test_validate_certs_false_drops_the_ca_as_client_go_requires(tmp_path):
    document = json.loads(json.dumps(KUBECONFIG))
    document["clusters"][0]["cluster"] = {"server": "https://192.0.2.10:6443", "certificate-authority-data": "Q0E="}
    connection = KubeConnection.from_params({"kubeconfig": InlineKubeconfig(document), "validate_certs": False}, {})
    assert connection.document["clusters"][0]["cluster"] == {
        "server": "https://192.0.2.10:6443",
        "insecure-skip-tls-verify": True,
    }
    assert api_client(connection).configuration.verify_ssl is False


def test_explicit_files_replace_the_kubeconfigs_and_outlive_its_refresh(tmp_path, kubeconfig):
    ca = tmp_path / "site1-ca.pem"
    ca.write_text("site1 ca")
    connection = KubeConnection.from_params(
        {"kubeconfig": kubeconfig, "context": "site1-admin", "ca_cert": str(ca), "validate_certs": True}, {}
    )
    configuration = api_client(connection).configuration
    # auth_settings() runs the library's refresh hook, which re-reads the document: the options are in it.
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer kubeconfig-token"
    assert configuration.ssl_ca_cert == str(ca)
    assert configuration.verify_ssl is True


def test_client_from_host_and_token():
    connection = KubeConnection.from_params(
        {"host": "https://192.0.2.10:6443/", "api_key": "host-token", "validate_certs": False}, {}
    )
    configuration = api_client(connection).configuration
    assert configuration.host == "https://192.0.2.10:6443"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer host-token"
    assert configuration.verify_ssl is False
    assert repr(connection) == "KubeConnection(host https://192.0.2.10:6443)"


# --- the private file helm reads -----------------------------------------------------------------------------------


def test_the_kubeconfig_file_is_private_and_in_the_private_scratch_directory(kubeconfig):
    connection = KubeConnection.from_params({"kubeconfig": kubeconfig, "context": "site1-admin"}, {})
    path = connection.kubeconfig_path()
    assert path == connection.kubeconfig_path()  # written once
    assert os.path.dirname(os.path.dirname(path)) == scratch.scratch_directory()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(path) as handle:
        assert json.load(handle) == connection.document
    assert connection.document["current-context"] == "site1-admin"
    assert [c["name"] for c in connection.document["contexts"]] == ["site1-admin"]


SCRATCH_USER = textwrap.dedent(
    """
    import json, sys, time
    from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import InlineKubeconfig, KubeConnection
    document = json.loads(sys.argv[1])
    connection = KubeConnection.from_params({"kubeconfig": InlineKubeconfig(document)}, {})
    print(connection.kubeconfig_path(), flush=True)
    if sys.argv[2] == "wait":
        time.sleep(60)
    """
)


@pytest.mark.parametrize("ending", ["exit", "SIGTERM", "SIGHUP"])
def test_inline_kubeconfig_files_are_removed_on_exit_and_on_termination(ending):
    process = subprocess.Popen(
        [sys.executable, "-c", SCRATCH_USER, json.dumps(KUBECONFIG), "exit" if ending == "exit" else "wait"],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    path = process.stdout.readline().strip()
    scratch_dir = os.path.dirname(os.path.dirname(path))
    assert path and os.path.basename(scratch_dir).startswith("hci-arc-ml-")
    if ending != "exit":
        assert os.path.exists(path)
        process.send_signal(getattr(signal, ending))
    returncode = process.wait(timeout=30)
    assert not os.path.exists(scratch_dir)
    assert returncode == (0 if ending == "exit" else -getattr(signal, ending))
