"""The one Kubernetes client: the request it sends, what it returns, and the one line for each failure."""

import json

import pytest
import urllib3
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import (
    OTHER,
    REQUEST_TIMEOUT,
    UNKNOWN_TYPE,
    KubeClient,
    KubernetesError,
    send,
)

HOST = "https://192.0.2.1:6443"
TOKEN = "Bearer s3cret-token"


class Answer:
    def __init__(self, status, data=b"", reason="Reason"):
        self.status, self.reason = status, reason
        self.data = data.encode() if isinstance(data, str) else data


class Pool:
    """The ApiClient's urllib3 pool: records each request, answers (or raises) from a list."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, body=None, headers=None, timeout=None, preload_content=True, **options):
        self.requests.append(dict(method=method, url=url, body=body, headers=headers, timeout=timeout, **options))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Configuration:
    host = HOST

    def auth_settings(self):
        return {"BearerToken": {"in": "header", "key": "authorization", "value": TOKEN}}


class ApiClient:
    def __init__(self, pool):
        self.configuration = Configuration()
        self.rest_client = type("Rest", (), {"pool_manager": pool})()


def client(*answers, **options):
    pool = Pool(*answers)
    return KubeClient(ApiClient(pool), **options), pool


def status(message, code, name=None):
    details = {"name": name, "kind": "things"} if name else {}
    return json.dumps({"kind": "Status", "message": message, "details": details, "code": code})


def test_send_is_one_json_request_with_the_clients_credentials_and_the_timeout():
    pool = Pool(Answer(200, "{}"))
    send(ApiClient(pool), "PATCH", "/api/v1/nodes/a%20b", query={"dryRun": "All"}, body=[{"op": "test"}],
         content_type="application/json-patch+json")  # fmt: skip
    (request,) = pool.requests
    assert request["method"] == "PATCH"
    assert request["url"] == HOST + "/api/v1/nodes/a%20b?dryRun=All"
    assert json.loads(request["body"]) == [{"op": "test"}]
    assert request["headers"]["authorization"] == TOKEN
    assert request["headers"]["Content-Type"] == "application/json-patch+json"
    assert request["headers"]["Accept"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("hci.arc_ml/")
    assert (request["timeout"].connect_timeout, request["timeout"].read_timeout) == REQUEST_TIMEOUT
    assert "retries" not in request


def test_a_request_without_a_body_has_no_content_type():
    pool = Pool(Answer(200, "{}"))
    send(ApiClient(pool), "GET", "/version")
    assert pool.requests[0]["body"] is None and "Content-Type" not in pool.requests[0]["headers"]


def test_retries_are_passed_only_when_the_client_sets_them():
    kube, pool = client(Answer(200, "{}"), retries=False)
    kube.call("read the Kubernetes version", "GET", "/version")
    assert pool.requests[0]["retries"] is False


def test_the_answer_is_parsed_json_and_an_empty_one_is_an_empty_dict():
    kube = client(Answer(200, '{"gitVersion": "v1.31.8"}'), Answer(200, ""))[0]
    assert kube.call("read the Kubernetes version", "GET", "/version") == {"gitVersion": "v1.31.8"}
    assert kube.call("delete namespace x", "DELETE", "/api/v1/namespaces/x") == {}


def test_missing_ok_and_conflict_ok_answer_none():
    kube = client(Answer(404, status("gone", 404, "x")), Answer(409, status("exists", 409, "x")))[0]
    assert kube.call("read namespace x", "GET", "/api/v1/namespaces/x", missing_ok=True) is None
    assert kube.call("create namespace x", "POST", "/api/v1/namespaces", {}, conflict_ok=True) is None


def test_an_error_answer_names_the_call_the_server_message_and_the_status():
    kube = client(Answer(403, status('nodes is forbidden: User "viewer" cannot list', 403)))[0]
    with pytest.raises(KubernetesError) as failure:
        kube.call("list nodes", "GET", "/api/v1/nodes")
    assert failure.value.message == 'Cannot list nodes: nodes is forbidden: User "viewer" cannot list (HTTP 403)'
    assert failure.value.status == 403 and failure.value.details == {"status": 403}
    assert failure.value.unknown_type is False


def test_the_cluster_is_named_when_the_client_has_a_where():
    kube = client(Answer(500, status("etcd timeout", 500)), where="kubeconfig /k context c")[0]
    with pytest.raises(KubernetesError, match=r"^Cannot read secret a/b on the cluster at kubeconfig /k context c: "):
        kube.call("read secret a/b", "GET", "/api/v1/namespaces/a/secrets/b")


def test_hints_by_status_then_any_other():
    hints = {403: "grant the right to get things", OTHER: "re-run the task"}
    kube = client(Answer(403, status("no", 403)), Answer(500, status("boom", 500)))[0]
    with pytest.raises(KubernetesError, match=r"^Cannot read thing a: no \(HTTP 403\); grant the right to get things$"):
        kube.call("read thing a", "GET", "/apis/x/v1/things/a", hints=hints)
    with pytest.raises(KubernetesError, match=r"^Cannot read thing a: boom \(HTTP 500\); re-run the task$"):
        kube.call("read thing a", "GET", "/apis/x/v1/things/a", hints=hints)


def test_a_404_that_names_no_object_is_an_unknown_type_with_its_own_hint():
    hints = {UNKNOWN_TYPE: "install the things CRD", 404: "the thing is gone"}
    kube = client(Answer(404, "404 page not found\n"), Answer(404, status('things.x "a" not found', 404, "a")))[0]
    with pytest.raises(KubernetesError) as unknown:
        kube.call("read thing a", "GET", "/apis/x/v1/things/a", hints=hints)
    assert unknown.value.unknown_type is True
    assert unknown.value.message == "Cannot read thing a: 404 page not found (HTTP 404); install the things CRD"
    with pytest.raises(KubernetesError) as missing:
        kube.call("read thing a", "GET", "/apis/x/v1/things/a", hints=hints)
    assert missing.value.unknown_type is False
    assert missing.value.message.endswith("(HTTP 404); the thing is gone")


def test_401_says_to_check_the_kubeconfig_user_and_never_shows_the_token():
    kube = client(Answer(401, '{"message": "Unauthorized"}'))[0]
    with pytest.raises(KubernetesError) as failure:
        kube.call("list nodes", "GET", "/api/v1/nodes")
    assert failure.value.message == (
        f"Cannot list nodes: the Kubernetes API at {HOST} rejected the credentials (HTTP 401 Unauthorized): they are "
        "wrong or have expired; check the kubeconfig user, client certificate or token, or fetch a fresh kubeconfig "
        "with hci.arc_ml.cluster_credentials"
    )
    assert "s3cret" not in failure.value.message


def test_an_unreachable_server_did_not_answer_and_has_no_status():
    refused = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    kube = client(urllib3.exceptions.MaxRetryError(None, "/version", refused), OSError("network is unreachable"))[0]
    for _attempt in range(2):
        with pytest.raises(KubernetesError) as failure:
            kube.call("read the Kubernetes version", "GET", "/version")
        assert failure.value.message.startswith(f"Cannot read the Kubernetes version: the Kubernetes API at {HOST} ")
        assert " did not answer: " in failure.value.message
        assert failure.value.status is None and failure.value.details == {}


def test_an_answer_that_is_not_json_is_one_line():
    kube = client(Answer(200, "<html>\nlogin</html>"))[0]
    with pytest.raises(KubernetesError, match=r"^Cannot list nodes: the Kubernetes API at .* sent no JSON: "):
        kube.call("list nodes", "GET", "/api/v1/nodes")


def test_a_body_without_a_message_falls_back_to_the_reason():
    kube = client(Answer(503, '{"kind": "Status"}', reason="Service Unavailable"), Answer(502, ""))[0]
    with pytest.raises(KubernetesError, match=r"^Cannot list nodes: Service Unavailable \(HTTP 503\)$"):
        kube.call("list nodes", "GET", "/api/v1/nodes")
    with pytest.raises(KubernetesError, match=r"^Cannot list nodes: Reason \(HTTP 502\)$"):
        kube.call("list nodes", "GET", "/api/v1/nodes")
