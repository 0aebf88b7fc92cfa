"""Cluster credentials: listAdminKubeconfig / listUserKubeconfig (AKS Arc) and listClusterUserCredential, then the
kubeconfigs they hand out used against a real testbed API server, directly (admin) or through the emulator's
cluster connect proxy (Entra token).
"""

import base64
import json
import tempfile
import time

import pytest
import requests
import yaml
from contract_helpers import arm_token, wait_for

from sandbox.emulator import cluster_access, tokens
from sandbox.emulator.paths import EmulatorPaths
from sandbox.emulator.pki import ensure_pki

KUBERNETES = "2026-05-01"
HYBRID = "2024-01-01"
CLUSTER_CONFIG = "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig"


@pytest.fixture(scope="module")
def sites(emulator, start_cluster):
    """The contract sites' clusters, running, and made known to the emulator as `sandbox up` does."""
    clusters = {"site-a": start_cluster("site-a"), "site-p": start_cluster("site-p")}
    groups = {"site-a": "rg-site-a", "site-p": "rg-site-p"}
    cluster_access.write(
        emulator.directory,
        [
            {
                "resource_group": groups[name],
                "name": name,
                "server": cluster.server,
                "ca_cert": cluster.dir / "pki" / "ca.crt",
                "admin_cert": cluster.dir / "pki" / "admin.crt",
                "admin_key": cluster.dir / "pki" / "admin.key",
            }
            for name, cluster in clusters.items()
        ],
    )
    return clusters


def _cluster_path(emulator, group, name):
    sub = emulator.subscription_id
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Kubernetes/connectedClusters/{name}"


def _instance_action(emulator, action, group="rg-site-p", name="site-p"):
    instance = "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"
    return f"{_cluster_path(emulator, group, name)}{instance}/{action}?api-version={HYBRID}"


def _decoded(credentials):
    return base64.b64decode(credentials[0]["value"]).decode()


def _kubeconfig_files(text):
    """(server, CA file, client cert file, client key file, token) of a one-context kubeconfig."""
    config = yaml.safe_load(text)
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    folder = tempfile.mkdtemp()

    def write(name, data):
        path = f"{folder}/{name}"
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    ca = write("ca.crt", cluster["certificate-authority-data"])
    cert = write("tls.crt", user["client-certificate-data"]) if "client-certificate-data" in user else None
    key = write("tls.key", user["client-key-data"]) if "client-key-data" in user else None
    return cluster["server"], ca, cert, key, user.get("token")


def _set_cluster_connect(cluster, enabled):
    api = cluster.api()
    if api.exists(CLUSTER_CONFIG):
        api.request("DELETE", CLUSTER_CONFIG)
    if enabled is None:
        return
    if not api.exists("/api/v1/namespaces/azure-arc"):
        api.request(
            "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "azure-arc"}}
        )
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "azure-clusterconfig", "namespace": "azure-arc"},
        "data": {"CLUSTER_CONNECT_AGENT_ENABLED": enabled},
    }
    api.request("POST", "/api/v1/namespaces/azure-arc/configmaps", body)


def test_admin_kubeconfig_is_a_long_running_post_whose_status_carries_the_kubeconfig(emulator, registered, arm, sites):
    started = arm("POST", _instance_action(emulator, "listAdminKubeconfig"))
    assert started.status_code == 202
    status_url = started.headers["Azure-AsyncOperation"]
    assert started.headers["Location"]
    token = arm_token(emulator)

    def done():
        body = requests.get(
            status_url, headers={"Authorization": f"Bearer {token}"}, verify=emulator.ca_bundle, timeout=10
        ).json()
        return body if body["status"] in ("Succeeded", "Failed") else None

    body = wait_for(done, 10, "listAdminKubeconfig")
    assert body["status"] == "Succeeded"
    assert body["resourceId"].endswith("/provisionedClusterInstances/default")
    server, ca, cert, key, _ = _kubeconfig_files(_decoded(body["properties"]["kubeconfigs"]))
    assert server == sites["site-p"].server
    answer = requests.get(server + "/api/v1/namespaces/default", cert=(cert, key), verify=ca, timeout=10)
    assert answer.status_code == 200


def test_user_kubeconfig_runs_kubelogin_for_the_arc_server_app(emulator, registered, arm, sites):
    started = arm("POST", _instance_action(emulator, "listUserKubeconfig"))
    token = arm_token(emulator)
    status_url = started.headers["Azure-AsyncOperation"]

    def done():
        body = requests.get(
            status_url, headers={"Authorization": f"Bearer {token}"}, verify=emulator.ca_bundle, timeout=10
        ).json()
        return body if body["status"] == "Succeeded" else None

    config = yaml.safe_load(_decoded(wait_for(done, 10, "listUserKubeconfig")["properties"]["kubeconfigs"]))
    execution = config["users"][0]["user"]["exec"]
    assert execution["command"] == "kubelogin"
    assert "6256c85f-0aad-4d50-b960-e6e9b21efe35" in execution["args"]


def test_a_plain_connected_cluster_has_no_provisioned_cluster_instance(emulator, registered, arm, sites):
    arm(
        "PUT",
        _cluster_path(emulator, "rg-site-a", "site-a") + f"?api-version={KUBERNETES}",
        json={
            "location": "eastus",
            "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": base64.b64encode(b"key").decode()},
        },
    ).raise_for_status()
    answer = arm("POST", _instance_action(emulator, "listAdminKubeconfig", "rg-site-a", "site-a"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "ResourceNotFound"


def _user_credential(arm, emulator, body, token=None):
    path = _cluster_path(emulator, "rg-site-p", "site-p") + f"/listClusterUserCredential?api-version={KUBERNETES}"
    return arm("POST", path, json=body, **({"token": token} if token else {}))


@pytest.mark.parametrize(
    "body, target",
    [
        ({"authenticationMethod": "AAD"}, "clientProxy"),
        ({"clientProxy": False}, "authenticationMethod"),
        ({"authenticationMethod": "Password", "clientProxy": False}, "authenticationMethod"),
    ],
)
def test_user_credential_body_follows_the_spec(emulator, registered, arm, sites, body, target):
    answer = _user_credential(arm, emulator, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidRequestContent"
    assert answer.json()["error"]["target"] == target


def test_cluster_connect_is_refused_unless_its_agent_is_enabled(emulator, registered, arm, sites):
    for enabled in (None, "false"):
        _set_cluster_connect(sites["site-p"], enabled)
        answer = _user_credential(arm, emulator, {"authenticationMethod": "AAD", "clientProxy": False})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "ClusterConnectNotEnabled"


def test_a_principal_without_rights_gets_no_credentials(emulator, registered, arm, sites):
    _set_cluster_connect(sites["site-p"], "true")
    token = arm_token(emulator, "no-rights")
    answer = _user_credential(arm, emulator, {"authenticationMethod": "AAD", "clientProxy": False}, token=token)
    assert answer.status_code == 403
    assert "listClusterUserCredential/action" in answer.json()["error"]["message"]


@pytest.fixture
def connect_kubeconfig(emulator, registered, arm, sites):
    _set_cluster_connect(sites["site-p"], "true")
    answer = _user_credential(arm, emulator, {"authenticationMethod": "AAD", "clientProxy": False})
    assert answer.status_code == 200, answer.text
    assert list(answer.json()) == ["kubeconfigs"]
    return _kubeconfig_files(_decoded(answer.json()["kubeconfigs"]))


def test_cluster_connect_kubeconfig_reaches_the_site_through_the_emulator(emulator, connect_kubeconfig, sites):
    server, ca, _, _, token = connect_kubeconfig
    assert server.startswith(emulator.url + "/_clusterconnect/")
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == "6256c85f-0aad-4d50-b960-e6e9b21efe35"
    assert claims["exp"] > time.time() + 600
    answer = requests.get(
        server + "/api/v1/namespaces/default", headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["metadata"]["name"] == "default"
    created = requests.post(
        server + "/api/v1/namespaces",
        json={"metadata": {"name": "through-the-proxy"}},
        headers={"Authorization": f"Bearer {token}"},
        verify=ca,
        timeout=10,
    )
    assert created.status_code == 201
    assert sites["site-p"].api().exists("/api/v1/namespaces/through-the-proxy")


def test_watches_stream_through_the_proxy(emulator, connect_kubeconfig):
    server, ca, _, _, token = connect_kubeconfig
    started = time.monotonic()
    with requests.get(
        server + "/api/v1/namespaces?watch=1&timeoutSeconds=20",
        headers={"Authorization": f"Bearer {token}"},
        verify=ca,
        stream=True,
        timeout=30,
    ) as watch:
        first = json.loads(next(watch.iter_lines()))
    # The first event arrives long before the watch ends: nothing buffers the stream.
    assert first["type"] == "ADDED"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("case", ["no token", "garbage", "arm audience", "expired"])
def test_the_proxy_answers_401_like_kube_apiserver(emulator, connect_kubeconfig, case):
    server, ca, _, _, token = connect_kubeconfig
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    pki = ensure_pki(EmulatorPaths(emulator.directory))
    bearer = {
        "no token": None,
        "garbage": "not-a-jwt",
        "arm audience": arm_token(emulator),
        # Signed by the emulator's Entra stand-in exactly like the real one, but expired a minute ago.
        "expired": tokens.mint(
            pki, dict(claims, iat=claims["iat"] - 7200, nbf=claims["nbf"] - 7200, exp=int(time.time()) - 60)
        ),
    }[case]
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    answer = requests.get(server + "/api/v1/namespaces", headers=headers, verify=ca, timeout=10)
    assert answer.status_code == 401
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_the_proxy_refuses_with_the_body_of_kube_apiserver(emulator, connect_kubeconfig, sites):
    server, ca, _, _, _ = connect_kubeconfig
    site = sites["site-p"]
    headers = {"Authorization": "Bearer not-a-token"}
    direct = requests.get(
        site.server + "/api/v1/namespaces", headers=headers, verify=str(site.dir / "pki" / "ca.crt"), timeout=10
    )
    proxied = requests.get(server + "/api/v1/namespaces", headers=headers, verify=ca, timeout=10)
    assert (proxied.status_code, proxied.json()) == (direct.status_code, direct.json()) == (401, direct.json())
