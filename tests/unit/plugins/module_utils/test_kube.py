"""Kubernetes connection settings: K8S_AUTH_* fallbacks, which source wins, the client they build."""

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._kube import connection as _kube
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import (
    KubeConfigError,
    KubeConnection,
    api_client,
    write_kubeconfig,
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


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig-site1.yaml"
    path.write_text(json.dumps(KUBECONFIG))
    return str(path)


def module_params(monkeypatch, environ, args=None):
    for name in [n for n in os.environ if n.startswith("K8S_AUTH_")]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with patch_module_args(args or {}):
        return ArcMLModule({}, kube=True).params


def test_k8s_auth_environment_names_fill_unset_options(monkeypatch, kubeconfig):
    params = module_params(
        monkeypatch,
        {
            "K8S_AUTH_KUBECONFIG": kubeconfig,
            "K8S_AUTH_CONTEXT": "site1-admin",
            "K8S_AUTH_SSL_CA_CERT": "/etc/ca.pem",
            "K8S_AUTH_VERIFY_SSL": "no",
        },
    )
    assert params["kubeconfig"] == kubeconfig
    assert params["context"] == "site1-admin"
    assert params["ca_cert"] == "/etc/ca.pem"
    assert params["validate_certs"] is False


def test_options_win_over_the_environment(monkeypatch, kubeconfig):
    params = module_params(monkeypatch, {"K8S_AUTH_CONTEXT": "other"}, {"context": "site1-admin"})
    assert params["context"] == "site1-admin"


def test_api_key_from_the_environment_is_masked_in_output(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://192.0.2.10:6443")
    monkeypatch.setenv("K8S_AUTH_API_KEY", "env-api-token")
    with patch_module_args({}):
        module = ArcMLModule({}, kube=True)
    assert "env-api-token" in module.ansible.no_log_values
    assert module.kube().mode == "host"


@pytest.mark.parametrize(
    ("params", "in_pod", "mode"),
    [
        ({"host": "https://192.0.2.10:6443", "api_key": "t", "kubeconfig": None}, True, "host"),
        ({"context": "site1-admin"}, True, "kubeconfig"),
        ({}, True, "in_cluster"),
        ({}, False, "kubeconfig"),
    ],
)
def test_which_source_wins(monkeypatch, tmp_path, params, in_pod, mode):
    token = tmp_path / "token"
    token.write_text("sa-token")
    monkeypatch.setattr(_kube, "SERVICE_ACCOUNT_TOKEN", str(token))
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1"} if in_pod else {}
    assert KubeConnection.from_params(params, environ).mode == mode


def test_missing_kubeconfig_file_is_reported():
    with pytest.raises(KubeConfigError, match="kubeconfig /nonexistent/config does not exist"):
        KubeConnection.from_params({"kubeconfig": "/nonexistent/config"}, {})


def test_client_from_kubeconfig_and_context(kubeconfig):
    connection = KubeConnection.from_params({"kubeconfig": kubeconfig, "context": "site1-admin"}, {})
    configuration = api_client(connection).configuration
    assert configuration.host == "https://192.0.2.10:6443"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer kubeconfig-token"
    assert configuration.verify_ssl is False  # the kubeconfig's insecure-skip-tls-verify


def test_explicit_options_outlive_the_kubeconfig_refresh_before_each_request(tmp_path):
    kubeconfig_ca = tmp_path / "kubeconfig-ca.pem"
    kubeconfig_ca.write_text("kubeconfig ca")
    document = json.loads(json.dumps(KUBECONFIG))
    document["clusters"][0]["cluster"] = {
        "server": "https://192.0.2.10:6443",
        "certificate-authority": str(kubeconfig_ca),
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(document))
    connection = KubeConnection.from_params(
        {"kubeconfig": str(path), "context": "site1-admin", "ca_cert": "/etc/site1-ca.pem", "validate_certs": False}, {}
    )
    configuration = api_client(connection).configuration
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer kubeconfig-token"
    # auth_settings() ran the library's refresh hook, which re-applies the kubeconfig's own values
    assert configuration.ssl_ca_cert == "/etc/site1-ca.pem"
    assert configuration.verify_ssl is False


def test_client_from_host_and_token():
    connection = KubeConnection.from_params(
        {"host": "https://192.0.2.10:6443/", "api_key": "host-token", "validate_certs": False}, {}
    )
    configuration = api_client(connection).configuration
    assert configuration.host == "https://192.0.2.10:6443"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer host-token"
    assert configuration.verify_ssl is False


def test_unknown_context_is_one_clear_error(kubeconfig):
    connection = KubeConnection.from_params({"kubeconfig": kubeconfig, "context": "nope"}, {})
    with pytest.raises(KubeConfigError, match=f"Cannot load the Kubernetes connection \\(kubeconfig {kubeconfig}"):
        api_client(connection)


def test_a_kubeconfig_that_is_not_yaml_is_one_clear_error(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nclusters: [ {name: x\n")
    connection = KubeConnection.from_params({"kubeconfig": str(broken)})
    with pytest.raises(KubeConfigError, match=f"^Cannot load the Kubernetes connection \\(kubeconfig {broken}\\): "):
        api_client(connection)


def test_generated_kubeconfig_is_private(tmp_path):
    connection = KubeConnection("host", host="https://192.0.2.10:6443", api_key="tok", validate_certs=False)
    path = write_kubeconfig(connection, str(tmp_path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        document = json.load(handle)
    assert document["clusters"][0]["cluster"] == {"server": "https://192.0.2.10:6443", "insecure-skip-tls-verify": True}
    assert repr(connection) == "KubeConnection(host https://192.0.2.10:6443)"
