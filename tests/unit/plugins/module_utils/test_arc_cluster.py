"""The Arc objects in the cluster, over a fake API server behind the kubernetes client's connection pool."""

import base64
import json

import pytest
import urllib3
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import cluster as _arc_cluster
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.cluster import ArcCluster
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Waiter, WaitTimeout
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError

HOST = "https://10.0.0.1:6443"
TOKEN = "Bearer kube-token"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


class Answer:
    def __init__(self, status, body=None):
        self.status = status
        self.data = b"" if body is None else json.dumps(body).encode()


class FakeApiServer:
    """Namespaces, ConfigMaps, Secrets and CRDs in memory; records every request."""

    def __init__(self):
        self.objects = {}
        self.requests = []
        self.deny = None
        self.sticky_crds = False  # CRDs that stay Terminating until their finalizers are removed
        self.namespace_deletes_pending = 0

    def put(self, path, body):
        self.objects[path] = body

    def request(self, method, url, body=None, headers=None, **kwargs):
        assert url.startswith(HOST)
        path = url[len(HOST) :]
        self.requests.append(
            {"method": method, "path": path, "headers": dict(headers), "body": body, "retries": kwargs.get("retries")}
        )
        if self.deny:
            return Answer(403, {"kind": "Status", "message": self.deny})
        payload = json.loads(body) if body else None
        if path == "/version":
            return Answer(200, {"gitVersion": "v1.31.8"})
        if path == CRDS and method == "GET":
            return Answer(200, {"items": [o for p, o in self.objects.items() if p.startswith(CRDS + "/")]})
        if method == "GET":
            found = self.objects.get(path)
            return Answer(200, found) if found is not None else Answer(404, {"message": "not found"})
        if method == "POST":
            item = f"{path}/{payload['metadata']['name']}"
            if item in self.objects:
                return Answer(409, {"message": "already exists"})
            self.objects[item] = payload
            return Answer(201, payload)
        if method == "PUT":
            self.objects[path] = payload
            return Answer(200, payload)
        if method == "PATCH":
            target = self.objects.get(path)
            if target is None:
                return Answer(404, {"message": "not found"})
            metadata = target.setdefault("metadata", {})
            for key, value in payload["metadata"].items():
                if value is None:
                    metadata.pop(key, None)
                    if key == "finalizers" and path.startswith(CRDS):
                        self.objects.pop(path)
                else:
                    metadata.setdefault(key, {}).update(value)
            return Answer(200, target)
        if method == "DELETE":
            if path not in self.objects:
                return Answer(404, {"message": "not found"})
            if path.startswith(CRDS) and self.sticky_crds:
                self.objects[path]["metadata"]["finalizers"] = ["customresourcecleanup.apiextensions.k8s.io"]
                return Answer(200, {})
            self.objects.pop(path)
            for key in [k for k in self.objects if k.startswith(path + "/")]:
                self.objects.pop(key)
            return Answer(200, {})
        raise AssertionError(f"unexpected {method} {path}")


class FakeConfiguration:
    host = HOST

    def auth_settings(self):
        return {"BearerToken": {"in": "header", "key": "authorization", "value": TOKEN}}


class FakeApiClient:
    def __init__(self, server):
        self.configuration = FakeConfiguration()
        self.rest_client = type("Rest", (), {"pool_manager": server})()


@pytest.fixture
def server():
    return FakeApiServer()


@pytest.fixture
def cluster(server):
    return ArcCluster(FakeApiClient(server), "kubeconfig /k context c")


@pytest.fixture(scope="module")
def key():
    return _arc_keys.generate()


def test_requests_carry_the_clients_credentials_and_a_timeout(server, cluster):
    assert cluster.server_version() == "v1.31.8"
    (request,) = server.requests
    assert request["headers"]["authorization"] == TOKEN
    assert request["headers"]["User-Agent"].startswith("hci.arc_ml/")
    assert request["retries"] is False


def test_missing_objects_read_as_none(cluster):
    assert cluster.cluster_config() is None
    assert cluster.onboarding_key() is None
    assert cluster.leftovers() == []


def test_the_cluster_config_and_the_key_secret_are_read(server, cluster, key):
    server.put("/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig", {"data": {"AZURE_RESOURCE_NAME": "c1"}})
    encoded = base64.b64encode(key.private_key_pem.encode()).decode()
    server.put("/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey", {"data": {"privateKey": encoded}})
    assert cluster.cluster_config() == {"AZURE_RESOURCE_NAME": "c1"}
    assert cluster.onboarding_key().public_key_certificate == key.public_key_certificate
    server.put("/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey", {"data": {"privateKey": "!!"}})
    assert cluster.onboarding_key() is None


def test_the_key_goes_into_a_secret_in_a_namespace_helm_can_adopt(server, cluster, key):
    cluster.store_onboarding_key(key, replace=False)
    namespace = server.objects["/api/v1/namespaces/azure-arc"]
    secret = server.objects["/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey"]
    for obj in (namespace, secret):
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "Helm"}
        assert obj["metadata"]["annotations"] == {
            "meta.helm.sh/release-name": "azure-arc",
            "meta.helm.sh/release-namespace": "azure-arc-release",
        }
    assert secret["stringData"] == {"privateKey": key.private_key_pem} and secret["type"] == "Opaque"
    # Only the request bodies hold the key: never a path, a header or a query.
    for request in server.requests:
        assert key.private_key_pem not in request["path"] and key.private_key_pem not in json.dumps(request["headers"])


def test_an_existing_secret_is_replaced_and_an_unlabelled_namespace_is_labelled(server, cluster, key):
    server.put("/api/v1/namespaces/azure-arc", {"metadata": {"name": "azure-arc", "labels": {"team": "x"}}})
    server.put(
        "/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey", {"stringData": {"privateKey": "old"}}
    )
    cluster.store_onboarding_key(key, replace=True)
    methods = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in server.requests]
    assert ("PATCH", "azure-arc") in methods and ("PUT", "azure-arc-connect-privatekey") in methods
    patch = next(r for r in server.requests if r["method"] == "PATCH")
    assert patch["headers"]["Content-Type"] == "application/merge-patch+json"
    namespace = server.objects["/api/v1/namespaces/azure-arc"]["metadata"]
    assert namespace["labels"] == {"team": "x", "app.kubernetes.io/managed-by": "Helm"}
    assert server.objects["/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey"]["stringData"] == {
        "privateKey": key.private_key_pem
    }


def test_a_namespace_being_deleted_is_not_written_into(server, cluster, key):
    server.put("/api/v1/namespaces/azure-arc", {"metadata": {"name": "azure-arc", "deletionTimestamp": "now"}})
    with pytest.raises(KubernetesError, match="being deleted; re-run the task"):
        cluster.store_onboarding_key(key, replace=True)


def test_a_secret_that_appears_during_a_fresh_onboarding_stops_it(server, cluster, key):
    server.put("/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey", {"stringData": {"privateKey": "B"}})
    with pytest.raises(KubernetesError, match="another task is onboarding this cluster"):
        cluster.store_onboarding_key(key, replace=False)
    assert server.objects["/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey"]["stringData"] == {
        "privateKey": "B"
    }


def test_forbidden_calls_say_cluster_admin_is_needed(server, cluster):
    server.deny = 'configmaps "azure-clusterconfig" is forbidden: User "dev" cannot get resource'
    with pytest.raises(KubernetesError) as failure:
        cluster.cluster_config()
    message = failure.value.message
    assert message.startswith("Cannot read configmap azure-arc/azure-clusterconfig on the cluster at kubeconfig /k")
    assert "HTTP 403" in message and "cannot get resource" in message and "cluster-admin" in message
    assert TOKEN.split()[1] not in message
    assert failure.value.details == {"status": 403}


def test_an_unreachable_api_server_is_one_clear_line():
    class Unreachable:
        def request(self, *args, **kwargs):
            raise urllib3.exceptions.NewConnectionError(
                None, "Failed to establish a new connection: [Errno 111] Connection refused"
            )

    cluster = ArcCluster(FakeApiClient(Unreachable()), "host https://10.0.0.1:6443")
    with pytest.raises(
        KubernetesError,
        match=r"^Cannot read the Kubernetes version on the cluster at host https://10\.0\.0\.1:6443: "
        r"the Kubernetes API at https://10\.0\.0\.1:6443 did not answer: .*Connection refused",
    ) as failure:
        cluster.server_version()
    assert failure.value.status is None


def test_leftovers_name_the_namespace_and_the_arc_crds(server, cluster):
    server.put("/api/v1/namespaces/azure-arc", {"metadata": {"name": "azure-arc"}})
    server.put(f"{CRDS}/connectedclusters.arc.azure.com", {"metadata": {"name": "connectedclusters.arc.azure.com"}})
    server.put(f"{CRDS}/widgets.example.com", {"metadata": {"name": "widgets.example.com"}})
    assert cluster.leftovers() == ["namespace azure-arc", "CRD connectedclusters.arc.azure.com"]


def test_the_agents_namespace_is_reported_gone_or_being_deleted(server, cluster):
    assert cluster.agents_namespace_removed() == "gone"
    server.put("/api/v1/namespaces/azure-arc", {"metadata": {"name": "azure-arc"}})
    assert cluster.agents_namespace_removed() is None
    server.put(
        "/api/v1/namespaces/azure-arc",
        {"metadata": {"name": "azure-arc", "deletionTimestamp": "2026-12-06T04:30:00Z"}},
    )
    assert cluster.agents_namespace_removed() == "being deleted"
    assert [r["method"] for r in server.requests] == ["GET", "GET", "GET"]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_removal_waits_for_namespaces_and_crds_and_unsticks_crds_after_the_grace(server, cluster):
    clock = Clock()
    server.sticky_crds = True
    for name in ("connectedclusters.arc.azure.com", "extensionconfigs.clusterconfig.azure.com"):
        server.put(f"{CRDS}/{name}", {"metadata": {"name": name}})
    assert cluster.delete_arc_crds() == ["connectedclusters.arc.azure.com", "extensionconfigs.clusterconfig.azure.com"]
    waiter = Waiter(120, 5, clock=clock, sleep=clock.sleep)

    cluster.wait_removed(["azure-arc"], waiter, clock=clock)

    patches = [r for r in server.requests if r["method"] == "PATCH"]
    assert len(patches) == 2 and json.loads(patches[0]["body"]) == {"metadata": {"finalizers": None}}
    # Unstuck at the first poll once the grace has passed: less than one wait_sleep after it.
    assert _arc_cluster.CRD_DELETE_GRACE <= clock.now - 100.0 < _arc_cluster.CRD_DELETE_GRACE + 5
    assert cluster.existing_arc_crds() == []


def test_removal_gives_up_at_the_deadline_naming_what_is_left(server, cluster):
    clock = Clock()
    server.put("/api/v1/namespaces/azure-arc", {"metadata": {"name": "azure-arc"}})
    with pytest.raises(WaitTimeout, match="still present: namespace azure-arc"):
        cluster.wait_removed(["azure-arc"], Waiter(10, 5, clock=clock, sleep=clock.sleep), clock=clock)


def test_removal_without_the_crds_waits_for_the_namespaces_only(server, cluster):
    # az connectedk8s delete without --force leaves the Arc CRDs (helm does not delete a chart's crds/):
    # the wait must not hang on them.
    clock = Clock()
    server.put(f"{CRDS}/connectedclusters.arc.azure.com", {"metadata": {"name": "connectedclusters.arc.azure.com"}})

    cluster.wait_removed(["azure-arc"], Waiter(10, 5, clock=clock, sleep=clock.sleep), clock=clock, crds=False)

    assert cluster.existing_arc_crds() == ["connectedclusters.arc.azure.com"]
    assert not [r for r in server.requests if r["method"] in ("PATCH", "DELETE")]


@pytest.mark.parametrize("namespace", ["kube-system", "default", "monitoring"])
def test_only_the_arc_namespaces_are_ever_deleted_or_waited_for(server, cluster, namespace):
    # The release may sit in a shared namespace (helm reports it): it is uninstalled there, the namespace stays.
    server.put(f"/api/v1/namespaces/{namespace}", {"metadata": {"name": namespace}})
    with pytest.raises(ValueError, match=f"namespace {namespace}.*azure-arc and azure-arc-release"):
        cluster.delete_namespace(namespace)
    with pytest.raises(ValueError, match=f"namespace {namespace}"):
        cluster.wait_removed([namespace], Waiter(10, 5), crds=False)
    assert server.requests == [] and cluster.namespace_exists(namespace)


def test_the_arc_namespaces_are_deleted(server, cluster):
    for name in ("azure-arc", "azure-arc-release"):
        server.put(f"/api/v1/namespaces/{name}", {"metadata": {"name": name}})
        assert cluster.delete_namespace(name) is True
        assert not cluster.namespace_exists(name)
