# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""What ARM answers mean: its errors as one line each, and the headers that say when to ask again.

Both the ARM client (arm.py) and its retry and polling policies (policies.py) read these; here, policies.py
has them without importing arm.py, which imports policies.py. No SDK is needed.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import re

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line

# A 404 with one of these codes means the request itself is wrong, not that the resource is absent.
_NOT_ABSENT_CODES = frozenset(("subscriptionnotfound", "invalidresourcenamespace", "invalidresourcetype"))

# ARM's answer to any request for a resource of a provider namespace the subscription is not registered to use:
# HTTP 409, code MissingSubscriptionRegistration, message "The subscription is not registered to use namespace
# 'Microsoft.Kubernetes'. See https://aka.ms/rps-not-found ..." (details[0].target names the namespace too).
# azure-mgmt-core's ARMAutoResourceProviderRegistrationPolicy reads the 409 and the code the same way:
# https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/core/azure-mgmt-core/azure/mgmt/core/policies/_base.py
# https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/azure-resource-manager/troubleshooting/error-register-resource-provider.md
_UNREGISTERED_CODE = "missingsubscriptionregistration"
# "... registered to use namespace 'X'", also in the older "The subscription registration is in 'Unregistered'
# state. The subscription must be registered to use namespace 'X'", where X is not the first quoted word.
_UNREGISTERED_NAMESPACE = re.compile(r"namespace '([A-Za-z0-9.]+)'")


def is_absent(error, check_mode=False):
    """Whether an AzureApiError says the resource does not exist (rather than that the request is wrong).

    With `check_mode`, for the read before a write that check mode only plans: ARM's refusal to serve a
    namespace the subscription is not registered to use also means absent, since nothing of that namespace can
    exist in the subscription yet (the play's resource_provider step, itself only planned in check mode, registers
    it before the write). Outside check mode that refusal stays an error that says what to register.
    """
    if check_mode and is_unregistered_namespace(error):
        return True
    return error.status == 404 and (error.code or "").lower() not in _NOT_ABSENT_CODES


def is_unregistered_namespace(error):
    """Whether ARM refused the request because the subscription is not registered to use the namespace of the
    resource it names (409 MissingSubscriptionRegistration naming that namespace, not another one)."""
    namespace = unregistered_namespace(error)
    return namespace is not None and namespace.lower() == (namespace_of(error.resource) or "").lower()


def unregistered_namespace(error):
    """The namespace a 409 MissingSubscriptionRegistration says the subscription is not registered to use, or None."""
    if error.status != 409 or (error.code or "").lower() != _UNREGISTERED_CODE:
        return None
    named = _UNREGISTERED_NAMESPACE.search(error.service_message or "")
    return named.group(1) if named else None


def namespace_of(resource):
    """The provider namespace of an ARM resource path (the segment after its last `providers`), or None.

    An extension's path names two: /.../providers/Microsoft.Kubernetes/connectedClusters/c/providers/
    Microsoft.KubernetesConfiguration/extensions/e belongs to the last.
    """
    segments = [segment for segment in (resource or "").split("/") if segment]
    positions = [i for i, segment in enumerate(segments[:-1]) if segment.lower() == "providers"]
    return segments[positions[-1] + 1] if positions else None


class AzureApiError(ArcMLError):
    """ARM answered with an HTTP error, or a long-running operation ended Failed or Canceled.

    `status` is the HTTP status of the error answer; for an operation that ended badly it is None and
    `outcome` names its final state.
    """

    def __init__(
        self,
        method,
        resource,
        status,
        code,
        message,
        request_id=None,
        correlation_id=None,
        target=None,
        outcome=None,
    ):
        self.method = method
        self.resource = resource
        self.status = status
        self.code = code
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.target = target
        # The service's own error text, for callers that add guidance for a specific error.
        self.service_message = message
        message = message.rstrip(".")
        answer = f"HTTP {status}" if status else f"the operation ended {outcome or 'Failed'}"
        text = f"Azure {method} {resource} failed: {answer}{' ' + code if code else ''}: {message}."
        if target and target != resource:
            text += f" Target: {target}."
        text += " " + _next_step(status, code, message)
        ids = []
        if request_id:
            ids.append(f"x-ms-request-id: {request_id}")
        if correlation_id:
            ids.append(f"correlation id: {correlation_id}")
        if ids:
            text += " ({})".format("; ".join(ids))
        details = dict(status=status, error_code=code, request_id=request_id, correlation_id=correlation_id)
        super().__init__(one_line(text, limit=1200), **{k: v for k, v in details.items() if v is not None})


class AzureConnectionError(ArcMLError):
    """ARM could not be reached (after retries), or its TLS certificate did not verify."""


def _next_step(status, code, message):
    code_key = (code or "").lower()
    if code_key == "missingsubscriptionregistration":
        quoted = _UNREGISTERED_NAMESPACE.search(message or "") or re.search(r"'([A-Za-z0-9.]+)'", message or "")
        namespace = quoted.group(1) if quoted else "the resource provider it names"
        return f"Register {namespace} in this subscription (hci.arc_ml.resource_provider) and re-run."
    if code_key in ("authorizationfailed", "linkedauthorizationfailed") or status == 403:
        return "Grant the identity a role that allows this action on that scope (for example Contributor) and re-run."
    if code_key.startswith("invalidauthenticationtoken") or code_key == "expiredauthenticationtoken" or status == 401:
        return "Check tenant, subscription_id and cloud_environment: the token must be from the subscription's tenant."
    if code_key == "subscriptionnotfound":
        return "Check subscription_id, and that the identity can see that subscription in this cloud."
    if code_key == "invalidsubscriptionid":
        return "subscription_id must be a subscription GUID."
    if code_key == "resourcegroupnotfound":
        return "Create the resource group first, or check its name."
    if code_key == "invalidresourcenamespace":
        return "Check the resource provider namespace (for example Microsoft.Kubernetes)."
    status = status or 0
    if status == 404:
        return "Check the resource names and the subscription."
    if status == 409:
        return "Another operation on this resource may be in progress; re-run the task when it has finished."
    if status == 429:
        return "Azure throttled the requests; re-run later, or run fewer hosts at once (forks, throttle)."
    if status >= 500:
        return "Azure reported a server error that persisted through retries; re-run the task later."
    return "Check the task's options against this message."


def api_error(method, resource, status, headers, body, correlation_id=None, outcome=None):
    """The AzureApiError for an ARM error response: `body` is its text or parsed JSON, `resource` its path."""
    code, message, target = _parse_error_body(body)
    if not message:
        message = "no error message in the response"
    request_id = _header(headers, "x-ms-request-id")
    correlation_id = _header(headers, "x-ms-correlation-request-id") or correlation_id
    return AzureApiError(method, resource, status, code, message, request_id, correlation_id, target, outcome)


def _parse_error_body(body):
    """(code, message, target) from the ARM error envelope and its variants."""
    if isinstance(body, (bytes, str)):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            body = json.loads(text)
        except ValueError:
            return None, one_line(text, limit=300), None
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    code = error.get("code")
    message = error.get("message")
    if isinstance(message, dict):  # OData style: {"message": {"value": "..."}}
        message = message.get("value")
    details = error.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
        first = details[0]
        detail_code = f"{first['code']}: " if first.get("code") else ""
        message = f"{message or ''} ({detail_code}{first['message']})".strip()
    code = str(code) if code else None
    return code, one_line(message, limit=800) if message else None, error.get("target")


def _header(headers, name):
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def retry_after_seconds(headers, now=None):
    """The server's requested delay in seconds, or None.

    Reads Retry-After (delta-seconds or an HTTP date), then retry-after-ms and x-ms-retry-after-ms.
    """
    value = _header(headers, "retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            now = now or datetime.datetime.now(datetime.timezone.utc)
            return max(0.0, (when - now).total_seconds())
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = _header(headers, name)
        if value:
            try:
                return max(0.0, float(value) / 1000.0)
            except ValueError:
                return None
    return None
