"""Taint arithmetic, the resourceVersion-guarded patch loop, node facts, the nodes API and its error lines."""

import copy
import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import (
    REQUEST_TIMEOUT,
    KubeClient,
    KubernetesError,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.api import ClusterApi, node_facts
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.taints import (
    CONFLICT_ATTEMPTS,
    change_taints,
    describe_taint,
    normalize_taints,
    plan_taints,
    taint_patch,
    valid_taint_key,
)

OURS = {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule"}
FOREIGN = {"key": "example.com/maintenance", "value": "true", "effect": "NoSchedule"}
EVICTING = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "2026-11-29T10:00:00Z"}


# Taint options ----------------------------------------------------------------------------------------


def test_taint_options_get_the_default_effect_and_lose_exact_duplicates():
    assert normalize_taints([{"key": "a"}, {"key": "b", "value": "1", "effect": "NoExecute"}, {"key": "a"}]) == [
        {"key": "a", "effect": "NoSchedule"},
        {"key": "b", "value": "1", "effect": "NoExecute"},
    ]


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"key": ""}, "Taint key '' is not valid"),
        ({"key": "bad key"}, "Taint key 'bad key' is not valid"),
        ({"key": "-start"}, "is not valid"),
        ({"key": "Upper.Case/name"}, "is not valid"),
        ({"key": "a" * 64}, "is not valid"),
        ({"key": "ok", "value": "no spaces"}, "Taint value 'no spaces' of key ok is not valid"),
        ({"key": "ok", "value": "v" * 64}, "is not valid"),
        ({"key": "ok", "effect": "NoEntry"}, "Taint effect 'NoEntry' of key ok is not one of NoSchedule"),
    ],
)
def test_bad_taint_options_are_refused_before_any_call(entry, error):
    with pytest.raises(ArcMLError, match=error):
        normalize_taints([entry])


def test_two_values_for_one_key_and_effect_are_refused():
    with pytest.raises(ArcMLError, match="a=1:NoSchedule and a=2:NoSchedule have the same key and effect"):
        normalize_taints([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}])


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("node.kubernetes.io/os", True),
        ("example.com/a_b.c-d", True),
        ("dedicated", True),
        ("a" * 63, True),
        (("d" * 63 + ".") * 3 + "d" * 61 + "/x", True),
        (("d" * 63 + ".") * 3 + "d" * 62 + "/x", False),
        ("Example.com/x", False),
        ("/x", False),
        ("x/", False),
        ("a/b/c", False),
        (None, False),
    ],
)
def test_taint_keys_are_qualified_names(key, valid):
    assert valid_taint_key(key) is valid


def test_kubectl_notation():
    assert describe_taint(OURS) == "node.kubernetes.io/os=windows:NoSchedule"
    assert describe_taint({"key": "spot", "effect": "PreferNoSchedule"}) == "spot:PreferNoSchedule"


# Plans --------------------------------------------------------------------------------------------------


def test_present_appends_and_keeps_every_other_taint_in_place():
    assert plan_taints([FOREIGN, EVICTING], [OURS], "present") == [FOREIGN, EVICTING, OURS]


def test_present_is_a_no_op_when_the_taint_is_there():
    current = [OURS, FOREIGN]
    assert plan_taints(current, [OURS], "present") == current


def test_present_replaces_the_value_of_the_same_key_and_effect_in_place():
    linux = dict(OURS, value="linux")
    assert plan_taints([linux, FOREIGN], [OURS], "present") == [OURS, FOREIGN]


def test_present_adds_the_same_key_with_another_effect():
    prefer = dict(OURS, effect="PreferNoSchedule")
    assert plan_taints([prefer], [OURS], "present") == [prefer, OURS]


def test_a_taint_without_value_matches_an_empty_value_and_is_stored_without_one():
    assert plan_taints([], [{"key": "spot", "value": "", "effect": "NoSchedule"}], "present") == [
        {"key": "spot", "effect": "NoSchedule"}
    ]
    stored = [{"key": "spot", "effect": "NoSchedule"}]
    assert plan_taints(stored, [{"key": "spot", "value": "", "effect": "NoSchedule"}], "present") == stored


def test_absent_removes_only_the_same_key_effect_and_value():
    prefer = dict(OURS, effect="PreferNoSchedule")
    other_value = dict(OURS, value="linux")
    assert plan_taints([FOREIGN, OURS, prefer], [OURS], "absent") == [FOREIGN, prefer]
    assert plan_taints([other_value], [OURS], "absent") == [other_value]


def test_absent_without_a_value_removes_any_value_of_that_key_and_effect():
    wildcard = {"key": "node.kubernetes.io/os", "effect": "NoSchedule"}
    assert plan_taints([FOREIGN, dict(OURS, value="linux")], [wildcard], "absent") == [FOREIGN]


def test_plans_do_not_modify_the_node_they_were_given():
    current = [dict(OURS, value="linux")]
    kept = copy.deepcopy(current)
    plan_taints(current, [OURS], "present")
    assert current == kept


def test_the_patch_is_guarded_by_the_resource_version():
    assert taint_patch("42", [FOREIGN, OURS]) == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
        {"op": "add", "path": "/spec/taints", "value": [FOREIGN, OURS]},
    ]
    assert taint_patch("43", []) == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "43"},
        {"op": "remove", "path": "/spec/taints"},
    ]


# The patch loop -----------------------------------------------------------------------------------------


class FakeServer:
    """One node behind the three calls change_taints makes, with the API server's patch semantics.

    `interfere(node)` runs before each patch is applied, standing in for another client's write.
    """

    def __init__(self, taints, interfere=None, refuse=None):
        self.node = {"metadata": {"name": "win-1", "resourceVersion": "1"}, "spec": {"taints": list(taints)}}
        self.interfere = interfere
        self.refuse = refuse
        self.patches = []
        self.reads = 0

    def write(self, taints):
        self.node["spec"]["taints"] = taints
        self.node["metadata"]["resourceVersion"] = str(int(self.node["metadata"]["resourceVersion"]) + 1)

    def listed(self):
        return copy.deepcopy(self.node)

    def read_node(self, name):
        self.reads += 1
        return None if self.node is None else copy.deepcopy(self.node)

    def patch_node(self, name, operations, dry_run=False):
        self.patches.append((operations, dry_run))
        if self.interfere:
            self.interfere(self)
        if self.node is None:
            raise KubernetesError("not found", status=404)
        guard, change = operations
        if guard["value"] != self.node["metadata"]["resourceVersion"]:
            raise KubernetesError("the server rejected our request due to an error in our request", status=422)
        if self.refuse:
            raise KubernetesError(self.refuse, status=422)
        taints = change["value"] if change["op"] == "add" else []
        if dry_run:
            return {"metadata": self.node["metadata"], "spec": {"taints": taints}}
        self.write(taints)
        return copy.deepcopy(self.node)


def no_sleep(seconds):
    assert 0 <= seconds < 1


def test_a_node_that_needs_nothing_gets_no_patch():
    server = FakeServer([FOREIGN, OURS])
    assert change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep) == (
        [FOREIGN, OURS],
        [FOREIGN, OURS],
        False,
    )
    assert server.patches == []


def test_a_change_is_one_guarded_patch():
    server = FakeServer([FOREIGN])
    before, after, changed = change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep)
    assert (before, after, changed) == ([FOREIGN], [FOREIGN, OURS], True)
    assert server.patches == [(taint_patch("1", [FOREIGN, OURS]), False)]
    assert server.node["spec"]["taints"] == [FOREIGN, OURS]


def test_check_mode_sends_a_dry_run_and_stores_nothing():
    server = FakeServer([FOREIGN])
    assert change_taints(server, server.listed(), [OURS], "present", dry_run=True, sleep=no_sleep)[1:] == (
        [FOREIGN, OURS],
        True,
    )
    assert server.patches[0][1] is True
    assert server.node["spec"]["taints"] == [FOREIGN]


def test_a_concurrent_write_is_kept_and_ours_applied_after_a_fresh_read():
    added_meanwhile = {"key": "example.com/other", "effect": "NoSchedule"}

    def another_client(server):
        if len(server.patches) == 1:
            server.write([*server.node["spec"]["taints"], added_meanwhile])

    server = FakeServer([FOREIGN], interfere=another_client)
    before, after, changed = change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep)
    assert changed is True
    assert before == [FOREIGN, added_meanwhile]
    assert after == server.node["spec"]["taints"] == [FOREIGN, added_meanwhile, OURS]
    assert [ops[0]["value"] for ops, dry_run in server.patches if not dry_run] == ["1", "2"]
    assert server.reads == 1


def test_a_409_conflict_is_retried_the_same_way():
    class Conflicting(FakeServer):
        def patch_node(self, name, operations, dry_run=False):
            if not self.patches:
                self.patches.append((operations, dry_run))
                self.write(list(self.node["spec"]["taints"]))
                raise KubernetesError("Operation cannot be fulfilled", status=409)
            return super().patch_node(name, operations, dry_run)

    server = Conflicting([])
    assert change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep)[1:] == ([OURS], True)


def test_when_someone_else_already_made_the_change_nothing_is_reported_as_changed():
    def another_client(server):
        if len(server.patches) == 1:
            server.write([OURS])

    server = FakeServer([], interfere=another_client)
    assert change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep) == ([OURS], [OURS], False)
    assert len(server.patches) == 1


def test_a_node_that_keeps_changing_fails_after_a_bounded_number_of_attempts():
    pauses = []
    server = FakeServer([], interfere=lambda s: s.write(list(s.node["spec"]["taints"])))
    with pytest.raises(KubernetesError, match=r"Node win-1 kept changing .* \(5 attempts, .*run the task again"):
        change_taints(server, server.listed(), [OURS], "present", sleep=pauses.append)
    assert len(server.patches) == CONFLICT_ATTEMPTS
    assert len(pauses) == CONFLICT_ATTEMPTS - 1
    assert sum(pauses) < 1


def test_a_taint_the_server_refuses_is_an_error_not_a_conflict():
    refusal = 'Node "win-1" is invalid: metadata.taints[0].effect: Unsupported value (HTTP 422)'
    server = FakeServer([], refuse=refusal)
    with pytest.raises(KubernetesError, match="is invalid"):
        change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep)
    assert len(server.patches) == 1


def test_a_node_deleted_meanwhile_is_skipped():
    def delete(server):
        server.node = None

    server = FakeServer([], interfere=delete)
    assert change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep) is None


def test_other_errors_are_not_retried():
    class Forbidden(FakeServer):
        def patch_node(self, name, operations, dry_run=False):
            self.patches.append(operations)
            raise KubernetesError("forbidden", status=403)

    server = Forbidden([])
    with pytest.raises(KubernetesError, match="forbidden"):
        change_taints(server, server.listed(), [OURS], "present", sleep=no_sleep)
    assert len(server.patches) == 1 and server.reads == 0


# Node facts ---------------------------------------------------------------------------------------------


def test_node_facts_from_labels_status_and_spec():
    node = {
        "metadata": {"name": "win-1", "labels": {"kubernetes.io/os": "windows", "kubernetes.io/arch": "amd64"}},
        "spec": {"taints": [FOREIGN], "unschedulable": True},
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi"},
            "allocatable": {"cpu": "3800m", "memory": "15Gi"},
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.31.8", "operatingSystem": "windows", "architecture": "amd64"},
        },
    }
    assert node_facts(node) == {
        "name": "win-1",
        "os": "windows",
        "arch": "amd64",
        "ready": True,
        "schedulable": False,
        "kubelet_version": "v1.31.8",
        "capacity": {"cpu": "4", "memory": "16Gi"},
        "allocatable": {"cpu": "3800m", "memory": "15Gi"},
        "taints": [FOREIGN],
    }


def test_node_facts_fall_back_to_node_info_and_survive_a_bare_node():
    node = {"metadata": {"name": "old"}, "status": {"nodeInfo": {"operatingSystem": "linux", "architecture": "arm64"}}}
    facts = node_facts(node)
    assert (facts["os"], facts["arch"], facts["ready"], facts["schedulable"]) == ("linux", "arm64", False, True)
    assert node_facts({"metadata": {"name": "bare"}})["os"] == "unknown"


# Errors ---------------------------------------------------------------------------------------------


def status_body(message, code):
    return json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": code})


class ApiClientAt:
    """What KubeClient needs of an ApiClient to phrase an error: the host."""

    def __init__(self, host):
        self.configuration = type("Configuration", (), {"host": host})()


def api_error(what, host, status, reason, body):
    return KubeClient(ApiClientAt(host)).error(what, status, body, reason)


def test_a_403_names_the_server_message():
    body = status_body('nodes is forbidden: User "viewer" cannot list resource "nodes"', 403)
    error = api_error("list nodes", "https://h:6443", 403, "Forbidden", body)
    assert (
        error.message == 'Cannot list nodes: nodes is forbidden: User "viewer" cannot list resource "nodes" (HTTP 403)'
    )
    assert error.status == 403


def test_a_401_says_the_credentials_were_rejected():
    error = api_error("list nodes", "https://h:6443", 401, "Unauthorized", '{"message":"Unauthorized"}')
    assert error.message.startswith("Cannot list nodes: the Kubernetes API at https://h:6443 rejected the credentials")
    assert error.message.endswith(
        "(HTTP 401 Unauthorized): they are wrong or have expired; check the kubeconfig user, client certificate or "
        "token, or fetch a fresh kubeconfig with hci.arc_ml.cluster_credentials"
    )


def test_a_body_that_is_not_a_status_is_shown_as_text_and_a_missing_one_by_its_reason():
    assert api_error("x", "h", 502, "Bad Gateway", "<html>\n proxy error</html>").message == (
        "Cannot x: <html> proxy error</html> (HTTP 502)"
    )
    assert api_error("x", "h", 500, "Internal Server Error", "").message == (
        "Cannot x: Internal Server Error (HTTP 500)"
    )


def test_a_client_side_failure_says_the_api_did_not_answer(cluster_api):
    from urllib3.exceptions import SSLError

    cluster_api.kube.api_client.rest_client.pool_manager = RecordingPool(
        SSLError("SSLError\ncertificate verify failed")
    )
    with pytest.raises(KubernetesError) as error:
        cluster_api.list_nodes()
    assert error.value.message == (
        "Cannot list nodes: the Kubernetes API at https://192.0.2.1:6443 did not answer: SSLError certificate verify "
        "failed"
    )
    assert error.value.status is None


@pytest.fixture
def cluster_api():
    from kubernetes import client

    return ClusterApi(client.ApiClient(client.Configuration(host="https://192.0.2.1:6443")))


def test_calls_get_a_timeout_and_raw_json(cluster_api):
    pool = RecordingPool((200, b'{"gitVersion": "v1.31.8"}'))
    cluster_api.kube.api_client.rest_client.pool_manager = pool
    assert cluster_api.version() == {"gitVersion": "v1.31.8"}
    timeout = pool.requests[0]["timeout"]
    assert (timeout.connect_timeout, timeout.read_timeout) == REQUEST_TIMEOUT


def test_library_errors_become_one_line(cluster_api):
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    pool = RecordingPool((403, status_body("no", 403).encode()), MaxRetryError(None, "/api/v1/nodes", reason))
    cluster_api.kube.api_client.rest_client.pool_manager = pool

    with pytest.raises(KubernetesError, match=r"^Cannot list nodes: no \(HTTP 403\)$"):
        cluster_api.list_nodes()
    with pytest.raises(KubernetesError) as unreachable:
        cluster_api.list_nodes()
    message = unreachable.value.message
    assert message.startswith("Cannot list nodes: the Kubernetes API at https://192.0.2.1:6443 did not answer: ")
    assert message.endswith("Failed to establish a new connection: [Errno 111] Connection refused")
    assert unreachable.value.status is None


def test_a_missing_node_reads_as_none(cluster_api):
    not_found = status_body('nodes "gone" not found', 404).encode()
    cluster_api.kube.api_client.rest_client.pool_manager = RecordingPool((404, not_found))
    assert cluster_api.read_node("gone") is None


class RecordingPool:
    """Stands in for the ApiClient's urllib3 pool: records each request, answers (or raises) from a list."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, body=None, headers=None, timeout=None, preload_content=True):
        self.requests.append({"method": method, "url": url, "body": json.loads(body) if body else None,
                              "headers": headers, "timeout": timeout})  # fmt: skip
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, data = answer

        class Response:
            pass

        response = Response()
        response.status, response.reason, response.data = status, "Reason", data
        return response


def test_calls_are_plain_json_requests_with_the_clients_credentials(cluster_api):
    cluster_api.kube.api_client.configuration.api_key = {"authorization": "Bearer t0ken"}
    pool = RecordingPool(
        (200, b'{"items": [{"metadata": {"name": "w1"}}]}'),
        (200, b'{"spec": {}}'),
        (201, b'{"status": {"allowed": true}}'),
        (201, b'{"status": {"userInfo": {"username": "admin"}}}'),
    )
    cluster_api.kube.api_client.rest_client.pool_manager = pool
    assert cluster_api.list_nodes("kubernetes.io/os=windows") == [{"metadata": {"name": "w1"}}]
    cluster_api.patch_node("w 1", [{"op": "test"}], dry_run=True)
    assert cluster_api.access_review("patch", "nodes") == {"allowed": True}
    assert cluster_api.username() == "admin"
    sent = [(r["method"], r["url"].split("6443", 1)[1], r["body"]) for r in pool.requests]
    assert sent == [
        ("GET", "/api/v1/nodes?labelSelector=kubernetes.io%2Fos%3Dwindows", None),
        ("PATCH", "/api/v1/nodes/w%201?dryRun=All", [{"op": "test"}]),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
         {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
          "spec": {"resourceAttributes": {"verb": "patch", "group": "", "resource": "nodes"}}}),
        ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
         {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    ]  # fmt: skip
    assert all(r["headers"]["authorization"] == "Bearer t0ken" for r in pool.requests)
    assert pool.requests[1]["headers"]["Content-Type"] == "application/json-patch+json"
    assert pool.requests[0]["timeout"].connect_timeout == REQUEST_TIMEOUT[0]


def test_an_error_answer_is_one_kubernetes_error_line(cluster_api):
    forbidden = RecordingPool((403, status_body("nodes is forbidden", 403).encode()))
    cluster_api.kube.api_client.rest_client.pool_manager = forbidden
    with pytest.raises(KubernetesError, match=r"^Cannot list nodes: nodes is forbidden \(HTTP 403\)$") as error:
        cluster_api.list_nodes()
    assert error.value.status == 403


def test_cluster_api_does_not_import_the_typed_core_client():
    import subprocess
    import sys
    from pathlib import Path

    collections = Path(__file__).resolve().parents[4] / ".build" / "collections"
    probe = (
        f"import sys; sys.path.insert(0, {str(collections)!r})\n"
        "from kubernetes import client\n"
        "from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.api import ClusterApi\n"
        "ClusterApi(client.ApiClient(client.Configuration(host='https://192.0.2.1:6443')))\n"
        "print(sorted(m for m in sys.modules if m.startswith('kubernetes.client.api.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
