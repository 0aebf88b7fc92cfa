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
import re
import time
from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._errors import ArcMLError, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._kube import REQUEST_TIMEOUT, send

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Reads and patches of one node before giving up when other writers keep changing it.
CONFLICT_ATTEMPTS = 5
CONFLICT_PAUSE = 0.02
RBAC_GROUP = "rbac.authorization.k8s.io"

# A taint key is a qualified name (an optional DNS subdomain prefix and "/", then a name of at most
# 63 characters); a value is a label value (at most 63 characters).
_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
_NAME_PATTERN = re.compile(_NAME)
_PREFIX_PATTERN = re.compile(_PREFIX)
_MAX_PREFIX = 253


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


# Taints ---------------------------------------------------------------------------------------------


def describe_taint(taint):
    """kubectl's notation: key=value:Effect, or key:Effect without a value."""
    value = taint.get("value")
    return "{}{}:{}".format(taint.get("key"), f"={value}" if value else "", taint.get("effect"))


def normalize_taints(taints):
    """The `taints` option checked and in API form ({key, value?, effect}); ArcMLError on a bad entry."""
    normalized = []
    seen = {}
    for entry in taints:
        key, value, effect = entry.get("key"), entry.get("value"), entry.get("effect") or "NoSchedule"
        if not valid_taint_key(key):
            raise ArcMLError(
                f"Taint key {key!r} is not valid: it must be a name of at most 63 letters, digits, '-', '_' or '.' "
                "(starting and ending with a letter or digit), optionally prefixed by a DNS subdomain and '/'"
            )
        if value and not _NAME_PATTERN.fullmatch(value):
            raise ArcMLError(
                f"Taint value {value!r} of key {key} is not valid: at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
        if effect not in EFFECTS:
            raise ArcMLError(f"Taint effect {effect!r} of key {key} is not one of {', '.join(EFFECTS)}")
        taint = {"key": key, "effect": effect}
        if value is not None:
            taint["value"] = value
        identity = (key, effect)
        if identity in seen and seen[identity].get("value") != taint.get("value"):
            raise ArcMLError(
                f"The taints {describe_taint(seen[identity])} and {describe_taint(taint)} have the same key and "
                "effect; a node can carry only one of them"
            )
        if identity not in seen:
            seen[identity] = taint
            normalized.append(taint)
    return normalized


def valid_taint_key(key):
    """Whether `key` is a qualified name, as Kubernetes requires of taint keys."""
    if not isinstance(key, str) or not key:
        return False
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= _MAX_PREFIX and _PREFIX_PATTERN.fullmatch(prefix)):
        return False
    return bool(_NAME_PATTERN.fullmatch(name))


def _api_form(taint):
    """A taint as the API stores it: no `value` key when the value is empty."""
    return {k: v for k, v in taint.items() if k != "value" or v}


def _same_identity(a, b):
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def _value(taint):
    return taint.get("value") or ""


def plan_taints(current, wanted, state):
    """The node's taint list after adding (state present) or removing (absent) the `wanted` taints.

    Every other taint stays as it is, in its place. A node holds at most one taint per key and effect:
    `present` replaces the value of a taint with the same key and effect in place and appends the rest.
    `absent` removes taints with the same key and effect, and the same value when the wanted taint has one
    (without a value, any value matches, like `kubectl taint node NAME key:Effect-`).
    """
    result = [dict(t) for t in current]
    for taint in wanted:
        if state == "present":
            for index, existing in enumerate(result):
                if _same_identity(existing, taint):
                    if _value(existing) != _value(taint):
                        result[index] = _api_form(taint)
                    break
            else:
                result.append(_api_form(taint))
        else:
            result = [
                existing
                for existing in result
                if not (
                    _same_identity(existing, taint)
                    and (taint.get("value") is None or _value(existing) == _value(taint))
                )
            ]
    return result


def taint_patch(resource_version, new_taints):
    """A JSON patch that sets the node's taints to `new_taints`, only if the node is still at `resource_version`."""
    guard = {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}
    if new_taints:
        return [guard, {"op": "add", "path": "/spec/taints", "value": new_taints}]
    return [guard, {"op": "remove", "path": "/spec/taints"}]


def change_taints(api, node, wanted, state, dry_run=False, attempts=CONFLICT_ATTEMPTS, sleep=time.sleep):
    """Bring one node's taints to the plan: (before, after, changed), or None if the node was deleted meanwhile.

    `node` is the node as listed. When the patch is refused because the node changed since it was read
    (409, or 422 from the failed resourceVersion test), the node is read again and the plan recomputed,
    at most `attempts` times in all. With `dry_run` the server checks the patch and stores nothing.
    """
    name = node["metadata"]["name"]
    for attempt in range(1, attempts + 1):
        current = (node.get("spec") or {}).get("taints") or []
        desired = plan_taints(current, wanted, state)
        if desired == current:
            return current, current, False
        tested = node["metadata"]["resourceVersion"]
        try:
            updated = api.patch_node(name, taint_patch(tested, desired), dry_run=dry_run)
        except KubeApiError as exc:
            if exc.status not in (404, 409, 422):
                raise
            node = api.read_node(name)
            if node is None:
                return None
            if exc.status == 422 and node["metadata"]["resourceVersion"] == tested:
                raise  # the server refused the taints themselves, not a stale read
            if attempt < attempts:
                sleep(CONFLICT_PAUSE * attempt)
            continue
        return current, (updated.get("spec") or {}).get("taints") or [], True
    raise KubeApiError(
        f"Node {name} kept changing while its taints were being updated ({attempts} attempts, each refused because "
        "another client had changed the node since it was read); run the task again",
        status=409,
    )
