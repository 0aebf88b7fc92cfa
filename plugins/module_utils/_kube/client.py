# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The one Kubernetes client of the collection: JSON requests to the API server, and their errors.

The requests go over a kubernetes.client.ApiClient's connection pool, with its TLS settings and credentials
(a bearer token, refreshed by its hook for exec and OIDC users), but not through its typed API classes:
importing CoreV1Api or CustomObjectsApi loads the model of every resource, seconds with the pydantic-based
clients, on every run of a module. The domain packages build paths on top of KubeClient.call().

Every failure is one KubernetesError line that names the call, with the server's own message and, where the
caller knows one, a hint of what to do.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import USER_AGENT

# (connect, read) seconds for every call: a silent API server must not hang the task.
REQUEST_TIMEOUT = (10, 60)
JSON = "application/json"
# Keys of a call's `hints` besides HTTP statuses: a 404 because the API server does not know the resource
# type at all (a custom resource whose definition is not installed), and any status without a hint of its own.
UNKNOWN_TYPE = "unknown type"
OTHER = "other"
# A 401 is also what an expired token gets, such as that of a kubeconfig cluster_credentials fetched an hour ago.
CREDENTIALS_HINT = (
    "check the kubeconfig user, client certificate or token, or fetch a fresh kubeconfig with "
    "hci.arc_ml.cluster_credentials"
)


class KubernetesError(ArcMLError):
    """A Kubernetes API call failed; `status` is the HTTP status, or None when the API server did not answer.

    The status is also a key of the failed task's result, so a playbook can tell a refusal from an outage.
    `unknown_type`: the answer was a 404 for the resource type itself, not for one object of it.
    """

    def __init__(self, message, status=None, unknown_type=False):
        super().__init__(message, **({"status": status} if status is not None else {}))
        self.status = status
        self.unknown_type = unknown_type


def send(api_client, method, path, query=None, body=None, content_type=JSON, timeout=None, **options):
    """One JSON request over an ApiClient's connection pool, TLS settings and credentials; the urllib3 response.

    `timeout` is (connect, read) seconds, REQUEST_TIMEOUT by default; `options` may set `retries` (urllib3's).
    Transport failures raise urllib3's HTTPError or OSError; an HTTP error status is the caller's to judge.
    """
    urllib3 = import_optional("urllib3", "urllib3")

    configuration = api_client.configuration
    headers = {"Accept": JSON, "User-Agent": USER_AGENT}
    for setting in (configuration.auth_settings() or {}).values():
        if setting.get("in") == "header" and setting.get("value"):
            headers[setting["key"]] = setting["value"]
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = content_type
    connect, read = timeout or REQUEST_TIMEOUT
    extra = {"retries": options["retries"]} if "retries" in options else {}
    return api_client.rest_client.pool_manager.request(
        method,
        configuration.host.rstrip("/") + path + ("?" + urlencode(query) if query else ""),
        body=data,
        headers=headers,
        timeout=urllib3.Timeout(connect=connect, read=read),
        preload_content=True,
        **extra,
    )


class KubeClient:
    """JSON requests to the API server of one cluster, each failure one KubernetesError line.

    `where`, when given, names the cluster in every message (such as "kubeconfig /path context c");
    `retries` is passed to urllib3 for every request when it is not None.
    """

    def __init__(self, api_client, where=None, retries=None):
        self.api_client = api_client
        self.host = api_client.configuration.host
        self.where = where
        self._transport = {} if retries is None else {"retries": retries}

    def call(
        self,
        what,
        method,
        path,
        body=None,
        query=None,
        content_type=JSON,
        missing_ok=False,
        conflict_ok=False,
        hints=None,
    ):
        """The parsed JSON answer; None for a 404 (missing_ok) or 409 (conflict_ok); KubernetesError otherwise.

        `what` says what the call does, for messages ("list nodes"); `hints` maps an HTTP status, UNKNOWN_TYPE
        or OTHER to what the user should do about that failure of this call.
        """
        urllib3 = import_optional("urllib3", "urllib3")

        try:
            response = send(
                self.api_client, method, path, query=query, body=body, content_type=content_type, **self._transport
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubernetesError(
                f"{self._cannot(what)}: the Kubernetes API at {self.host} did not answer: "
                f"{one_line(_reason(exc), limit=300)}"
            ) from None
        if (response.status == 404 and missing_ok) or (response.status == 409 and conflict_ok):
            return None
        text = response.data.decode("utf-8", "replace") if response.data else ""
        if not 200 <= response.status < 300:
            raise self.error(what, response.status, text, getattr(response, "reason", None), hints)
        try:
            return json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise KubernetesError(
                f"{self._cannot(what)}: the Kubernetes API at {self.host} sent no JSON: {one_line(exc, limit=300)}"
            ) from None

    def error(self, what, status, text, reason=None, hints=None):
        """The KubernetesError for an HTTP error answer (`text`, a Status object usually) to the call `what`."""
        answer = _json_object(text)
        unknown_type = status == 404 and not ((answer or {}).get("details") or {}).get("name")
        hints = hints or {}
        if status == 401:
            return KubernetesError(
                f"{self._cannot(what)}: the Kubernetes API at {self.host} rejected the credentials "
                f"(HTTP 401 Unauthorized): they are wrong or have expired; {hints.get(401, CREDENTIALS_HINT)}",
                status=status,
            )
        message = text if answer is None else answer.get("message")
        if isinstance(message, str) and message.strip():
            detail = one_line(message, limit=400)
        else:
            detail = reason or "no details"
        hint = hints.get(UNKNOWN_TYPE) if unknown_type else None
        hint = hint or hints.get(status) or hints.get(OTHER)
        return KubernetesError(
            f"{self._cannot(what)}: {detail} (HTTP {status})" + (f"; {hint}" if hint else ""),
            status=status,
            unknown_type=unknown_type,
        )

    def _cannot(self, what):
        return f"Cannot {what}" + (f" on the cluster at {self.where}" if self.where else "")


def _json_object(text):
    """The JSON object of an error answer (a Status, usually), or None when the body is not one (text, HTML)."""
    try:
        answer = json.loads(text) if text and text.strip() else None
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _reason(exc):
    """The innermost cause of a urllib3 error (MaxRetryError wraps the real one)."""
    reason = getattr(exc, "reason", None)
    return reason if reason is not None else exc
