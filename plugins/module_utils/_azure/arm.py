# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure Resource Manager calls: a client on azure-mgmt-core's ARMPipelineClient, and its errors.

The pipeline: a fresh x-ms-client-request-id per request, one x-ms-correlation-request-id per module run,
User-Agent `hci.arc_ml/<version>`, our retry policy (see _arm_policies.ArmRetryPolicy for what it fixes in
azure-core's), then the bearer token. Every HTTP error becomes one AzureApiError line with the ARM error
code, message, target resource, x-ms-request-id and what to do next.

azure-core and azure-mgmt-core are imported only when a client is built.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import re
import uuid
from urllib.parse import quote, urlsplit

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line

# Per try; the retry policy bounds the total time of one request separately.
CONNECTION_TIMEOUT = 20
READ_TIMEOUT = 120

# A 404 with one of these codes means the request itself is wrong, not that the resource is absent.
_NOT_ABSENT_CODES = frozenset(("subscriptionnotfound", "invalidresourcenamespace", "invalidresourcetype"))


def is_absent(error):
    """Whether an AzureApiError says the resource does not exist (rather than that the request is wrong)."""
    return error.status == 404 and (error.code or "").lower() not in _NOT_ABSENT_CODES


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
        quoted = re.search(r"'([A-Za-z0-9.]+)'", message or "")
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


def resource_path(*segments):
    """An ARM path from raw segments, each percent-encoded: resource_path('subscriptions', sub, 'providers', ns)."""
    if not segments:
        raise ValueError("resource_path needs at least one segment")
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def new_correlation_id():
    return str(uuid.uuid4())


class ArmResponse:
    """Status, headers and parsed JSON body (None when empty) of one ARM response."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def retry_after(self):
        return retry_after_seconds(self.headers)


class ArmClient:
    """Thin ARM REST calls over an azure-mgmt-core pipeline client.

    `path` arguments are ARM paths (`/subscriptions/...`) relative to the cloud's resource manager, or
    absolute https URLs (nextLink, operation URLs). Every method raises AzureApiError on an HTTP error.
    """

    def __init__(self, pipeline_client, base_url, correlation_id, on_auth_error=None):
        self._client = pipeline_client
        self.base_url = base_url.rstrip("/")
        self.correlation_id = correlation_id
        self._on_auth_error = on_auth_error

    def url(self, path):
        """The absolute URL of an ARM path (absolute URLs pass through)."""
        if urlsplit(path).scheme:
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method, path, api_version=None, body=None, params=None):
        """Send one request; return an ArmResponse for a status below 400."""
        pipeline_response = self._send(method, path, api_version, body, params)
        return _arm_response(pipeline_response.http_response)

    def get(self, path, api_version):
        return self.request("GET", path, api_version).body

    def get_or_none(self, path, api_version):
        """The resource, or None when ARM says it does not exist (404)."""
        try:
            return self.get(path, api_version)
        except AzureApiError as exc:
            if is_absent(exc):
                return None
            raise

    def list(self, path, api_version):
        """Every item of a list operation, following nextLink."""
        items = []
        page = self.request("GET", path, api_version).body or {}
        while True:
            items.extend(page.get("value") or [])
            next_link = page.get("nextLink")
            if not next_link:
                return items
            page = self.request("GET", next_link).body or {}

    def post(self, path, api_version, body=None):
        return self.request("POST", path, api_version, body).body

    def put(self, path, api_version, body, waiter=None, final_state_via="azure-async-operation"):
        """Create or replace; with a waiter, follow the LRO to its end and return the final resource."""
        return self._long_running("PUT", path, api_version, body, waiter, final_state_via)

    def patch(self, path, api_version, body, waiter=None, final_state_via="location"):
        return self._long_running("PATCH", path, api_version, body, waiter, final_state_via)

    def delete(self, path, api_version, waiter=None):
        """Delete; False when the resource was already absent (404), else True."""
        try:
            self._long_running("DELETE", path, api_version, None, waiter, "location")
        except AzureApiError as exc:
            if is_absent(exc):
                return False
            raise
        return True

    def _long_running(self, method, path, api_version, body, waiter, final_state_via):
        pipeline_response = self._send(method, path, api_version, body, None)
        if waiter is None:
            return _arm_response(pipeline_response.http_response).body
        from ansible_collections.hci.arc_ml.plugins.module_utils._azure import policies as _arm_policies

        polling = _arm_policies.DeadlinePolling(
            waiter, f"{method} {_resource_of(path)}", final_state_via=final_state_via
        )
        polling.initialize(self._client, pipeline_response, _json_body_of_pipeline_response)
        exceptions = import_optional("azure.core.exceptions", "azure-core")
        try:
            polling.run()
        except exceptions.ClientAuthenticationError as exc:
            self._raise_auth_error(exc)
        except exceptions.HttpResponseError as exc:
            response = exc.response if exc.response is not None else pipeline_response.http_response
            failed_http = response.status_code >= 400
            raise api_error(
                method,
                _resource_of(path),
                response.status_code if failed_http else None,
                response.headers,
                _text_of(response),
                self.correlation_id,
                outcome=None if failed_http else polling.status(),
            ) from None
        return polling.resource()

    def _send(self, method, path, api_version, body, params):
        rest = import_optional("azure.core.rest", "azure-core")
        exceptions = import_optional("azure.core.exceptions", "azure-core")
        query = dict(params or {})
        if api_version:
            query["api-version"] = api_version
        request = rest.HttpRequest(method, self.url(path), params=query or None, json=body)
        try:
            pipeline_response = self._client.send_request(request, _return_pipeline_response=True)
        except exceptions.ClientAuthenticationError as exc:
            self._raise_auth_error(exc)
        response = pipeline_response.http_response
        if response.status_code >= 400:
            raise api_error(
                method,
                _resource_of(path),
                response.status_code,
                response.headers,
                _text_of(response),
                self.correlation_id,
            )
        return pipeline_response

    def _raise_auth_error(self, exc):
        if self._on_auth_error is not None:
            raise self._on_auth_error(exc) from None
        raise ArcMLError(f"Azure authentication failed: {one_line(exc.message, limit=400)}") from None


def _resource_of(path):
    """The resource id (the path, no query) of an ARM path or URL, for messages."""
    return urlsplit(path).path or path


def _text_of(http_response):
    try:
        return http_response.text()
    except Exception:
        return ""


def _json_or_none(text):
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _arm_response(http_response):
    return ArmResponse(http_response.status_code, dict(http_response.headers), _json_or_none(_text_of(http_response)))


def _json_body_of_pipeline_response(pipeline_response):
    return _json_or_none(_text_of(pipeline_response.http_response))


def create_pipeline_client(
    base_url,
    correlation_id,
    ca_bundle=None,
    credential=None,
    scope=None,
    transport=None,
    retry_policy=None,
):
    """An ARMPipelineClient with our policies; unauthenticated when `credential` is None.

    `transport` and `retry_policy` replace the network and the retry timing in tests.
    """
    import_optional("azure.core", "azure-core")
    import_optional("azure.mgmt.core", "azure-mgmt-core")
    from ansible_collections.hci.arc_ml.plugins.module_utils._azure import policies as _arm_policies
    from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import USER_AGENT
    from azure.core.pipeline.policies import ContentDecodePolicy, HeadersPolicy, RequestIdPolicy, UserAgentPolicy
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    policies = [
        RequestIdPolicy(),
        HeadersPolicy(base_headers={"x-ms-correlation-request-id": correlation_id}),
        UserAgentPolicy(user_agent=USER_AGENT),
        ContentDecodePolicy(),
        retry_policy or _arm_policies.ArmRetryPolicy(),
    ]
    if credential is not None:
        policies.append(ARMChallengeAuthenticationPolicy(credential, scope))
    if transport is None:
        from azure.core.pipeline.transport import RequestsTransport

        # TLS is always verified: with a CA bundle against it, otherwise against the system store.
        transport = RequestsTransport(
            connection_verify=ca_bundle or True, connection_timeout=CONNECTION_TIMEOUT, read_timeout=READ_TIMEOUT
        )
    # Passing `policies` also leaves out ARMAutoResourceProviderRegistrationPolicy: registering a provider
    # is a write that check mode must see coming, and it polls with a fixed 10 s sleep and no deadline.
    return ARMPipelineClient(base_url=base_url, policies=policies, transport=transport)


def fetch_json(url, correlation_id, ca_bundle=None, transport=None):
    """GET a public JSON document (ARM metadata) with the same retries and TLS settings as ARM calls."""
    base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    client = create_pipeline_client(base, correlation_id, ca_bundle=ca_bundle, transport=transport)
    arm = ArmClient(client, base, correlation_id)
    response = arm.request("GET", url)
    if response.body is None:
        raise ArcMLError(f"{_resource_of(url)} did not answer with a JSON document.")
    return response.body
