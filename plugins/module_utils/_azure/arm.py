# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure Resource Manager calls: a client on azure-mgmt-core's ARMPipelineClient.

The pipeline: a fresh x-ms-client-request-id per request, one x-ms-correlation-request-id per module run,
User-Agent `hci.arc_ml/<version>`, our retry policy (see policies.ArmRetryPolicy for what it fixes in
azure-core's), then the bearer token. Every HTTP error becomes one AzureApiError line (errors.py) with the
ARM error code, message, target resource, x-ms-request-id and what to do next.

azure-core and azure-mgmt-core are imported only when a client is built.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import (
    AzureApiError,
    api_error,
    is_absent,
    retry_after_seconds,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.policies import ArmRetryPolicy, deadline_polling
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import USER_AGENT

# Per try; the retry policy bounds the total time of one request separately.
CONNECTION_TIMEOUT = 20
READ_TIMEOUT = 120


def resource_path(*segments):
    """An ARM path from raw segments, each percent-encoded: resource_path('subscriptions', sub, 'providers', ns)."""
    if not segments:
        raise ValueError("resource_path needs at least one segment")
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def new_correlation_id():
    return str(uuid.uuid4())


@dataclass
class ArmResponse:
    """Status, headers and parsed JSON body (None when empty) of one ARM response."""

    status: int
    headers: dict
    body: object

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

    def get_or_none(self, path, api_version, check_mode=False):
        """The resource, or None when ARM says it does not exist (404; see errors.is_absent for check mode)."""
        try:
            return self.get(path, api_version)
        except AzureApiError as exc:
            if is_absent(exc, check_mode=check_mode):
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

    def post(self, path, api_version, body=None, waiter=None, final_state_via="azure-async-operation"):
        """An action; with a waiter, a long-running one is followed to its end and its final body returned."""
        return self._long_running("POST", path, api_version, body, waiter, final_state_via)

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
        polling = deadline_polling(waiter, f"{method} {_resource_of(path)}", final_state_via=final_state_via)
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
    from azure.core.pipeline.policies import ContentDecodePolicy, HeadersPolicy, RequestIdPolicy, UserAgentPolicy
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    policies = [
        RequestIdPolicy(),
        HeadersPolicy(base_headers={"x-ms-correlation-request-id": correlation_id}),
        UserAgentPolicy(user_agent=USER_AGENT),
        ContentDecodePolicy(),
        retry_policy or ArmRetryPolicy(),
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
