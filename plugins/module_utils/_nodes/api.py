# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Nodes as the cluster-side modules see them: the API calls, a node's facts, and safe taint changes.

`ClusterApi` makes the few Kubernetes calls cluster_preflight and node_taint need and turns every
failure into one KubeApiError line. `spec.taints` has no patch merge key, so a merge or strategic-merge
patch would replace the whole list and drop taints this task does not own; taint changes are therefore
JSON patches guarded by a `test` of the node's resourceVersion, computed from the node as read, and
recomputed from a fresh read when someone else changed the node in between (a bounded number of times).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import REQUEST_TIMEOUT, send

RBAC_GROUP = "rbac.authorization.k8s.io"


class KubeApiError(ArcMLError):
    """A Kubernetes call failed; `status` is the HTTP status, or None when the API did not answer."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ClusterApi:
    """The Kubernetes calls of the cluster-side modules, on a kubernetes.client.ApiClient; JSON in, JSON out."""

    def __init__(self, api_client):
        self.host = api_client.configuration.host
        # One plain-JSON stand-in for the typed CoreV1Api, VersionApi, AuthorizationV1Api and
        # AuthenticationV1Api (see _JsonApi): the same calls without importing every core model.
        self.core = _JsonApi(api_client)

    def version(self):
        """The server's /version document (gitVersion, major, minor, platform ...)."""
        return self._call("read the Kubernetes version", self.core.get_code)

    def list_nodes(self, label_selector=None):
        """Every node (or those matching `label_selector`) as the API returns them."""
        what = f"list nodes matching {label_selector!r}" if label_selector else "list nodes"
        kwargs = {"label_selector": label_selector} if label_selector else {}
        return self._call(what, self.core.list_node, **kwargs).get("items") or []

    def read_node(self, name):
        """The node called `name`, or None when it no longer exists."""
        try:
            return self._call(f"read node {name}", self.core.read_node, name)
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def patch_node(self, name, operations, dry_run=False):
        """Apply a JSON patch to a node; with `dry_run` the server validates and answers but stores nothing."""
        kwargs = {"dry_run": "All"} if dry_run else {}
        return self._call(
            f"change the taints of node {name}",
            self.core.patch_node,
            name,
            operations,
            _content_type="application/json-patch+json",
            **kwargs,
        )

    def access_review(self, verb, resource, group=""):
        """The SelfSubjectAccessReview status (allowed, denied, reason ...) for the task's credentials."""
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource}},
        }
        answer = self._call(
            f"check whether the credentials may {verb} {resource}",
            self.core.create_self_subject_access_review,
            review,
        )
        return answer.get("status") or {}

    def username(self):
        """Who the API server thinks the credentials are (SelfSubjectReview), or None if it will not say."""
        try:
            answer = self._call(
                "identify the credentials",
                self.core.create_self_subject_review,
                {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
        except KubeApiError:
            return None  # only used to make messages clearer; Kubernetes < 1.28 has no such API
        return ((answer.get("status") or {}).get("userInfo") or {}).get("username")

    def _call(self, what, method, *args, **kwargs):
        return typed_call(what, self.host, method, *args, errors=(api_error, KubeApiError), **kwargs)


def typed_call(what, host, method, *args, errors, **kwargs):
    """Call a kubernetes client method for its raw JSON answer, with the request timeout; one-line errors.

    `errors` is (api_error(what, host, status, reason, body) for an error answer, the error class for
    everything else).
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    to_error, error_class = errors
    try:
        response = method(*args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        return json.loads(response.data or b"{}")
    except ApiException as exc:
        raise to_error(what, host, exc.status, exc.reason, exc.body) from None
    except (HTTPError, OSError) as exc:
        raise error_class(unreachable(what, host, getattr(exc, "reason", None) or exc)) from None
    except ValueError as exc:
        raise error_class(f"Cannot {what}: the Kubernetes API at {host} sent no JSON: {one_line(exc, 300)}") from None


class _JsonApi:
    """The typed-client calls ClusterApi makes, as plain JSON requests (_kube.send).

    The pydantic-based kubernetes clients (32 and later) import the model of every core resource when
    CoreV1Api is imported: about 0.7 s on each run of a module. These methods take the typed calls'
    arguments, send the same requests, return the raw response (`.data`) as the typed calls do with
    _preload_content=False, and raise the same ApiException and urllib3 errors.
    """

    def __init__(self, api_client):
        self._api_client = api_client

    def get_code(self, **options):
        return self._request("GET", "/version", **options)

    def list_node(self, label_selector=None, **options):
        query = {"labelSelector": label_selector} if label_selector else None
        return self._request("GET", "/api/v1/nodes", query=query, **options)

    def read_node(self, name, **options):
        return self._request("GET", "/api/v1/nodes/" + quote(name, safe=""), **options)

    def patch_node(self, name, body, dry_run=None, _content_type="application/json-patch+json", **options):
        query = {"dryRun": dry_run} if dry_run else None
        path = "/api/v1/nodes/" + quote(name, safe="")
        return self._request("PATCH", path, query=query, body=body, content_type=_content_type, **options)

    def create_self_subject_access_review(self, body, **options):
        return self._request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body, **options)

    def create_self_subject_review(self, body, **options):
        return self._request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=body, **options)

    def _request(self, method, path, query=None, body=None, content_type="application/json", **options):
        from kubernetes.client.exceptions import ApiException

        response = send(
            self._api_client, method, path, query=query, body=body, content_type=content_type,
            timeout=options.get("_request_timeout"),
        )  # fmt: skip
        if not 200 <= response.status < 300:
            error = ApiException(status=response.status, reason=response.reason)
            error.body = response.data
            raise error
        return response


def unreachable(what, host, reason):
    return f"Cannot {what}: the Kubernetes API at {host} did not answer: {one_line(reason, 300)}"


def api_error(what, host, status, reason, body):
    """One line for a Kubernetes error answer, with the server's own message when it sent a Status."""
    message = ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            message = json.loads(body).get("message") or ""
        except (ValueError, AttributeError):
            message = body
    if not status:  # the client library's own failure, such as a TLS error
        return KubeApiError(unreachable(what, host, reason))
    if status == 401:
        text = (
            f"Cannot {what}: the Kubernetes API at {host} rejected the credentials (HTTP 401 Unauthorized); "
            "check the kubeconfig user, client certificate or token"
        )
    else:
        detail = one_line(message, 400) if message else (reason or "no details")
        text = f"Cannot {what}: {detail} (HTTP {status})"
    return KubeApiError(text, status=status)


def node_facts(node):
    """What the modules report about a node: OS, architecture, readiness, capacity, allocatable, taints."""
    metadata = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    labels = metadata.get("labels") or {}
    info = status.get("nodeInfo") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return {
        "name": metadata.get("name"),
        "os": labels.get("kubernetes.io/os") or info.get("operatingSystem") or "unknown",
        "arch": labels.get("kubernetes.io/arch") or info.get("architecture") or "unknown",
        "ready": conditions.get("Ready") == "True",
        "schedulable": not spec.get("unschedulable", False),
        "kubelet_version": info.get("kubeletVersion"),
        "capacity": dict(status.get("capacity") or {}),
        "allocatable": dict(status.get("allocatable") or {}),
        "taints": [dict(t) for t in spec.get("taints") or []],
    }
