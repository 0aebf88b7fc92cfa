"""Test doubles shared by the unit tests: a scripted HTTP transport, a fake clock, a fake credential; run_module."""

import io
import json
import time

import pytest
import requests
from ansible.module_utils.testing import patch_module_args
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport import RequestsTransportResponse as LegacyResponse
from azure.core.rest import HttpRequest as RestRequest
from azure.core.rest._requests_basic import RestRequestsTransportResponse


def run_module(capsys, module, args):
    """Run `module.main()` with `args` as its module arguments; return the result it printed, parsed.

    A module ends by exiting, with code 1 when its result says failed and 0 otherwise; that is checked here.
    Test modules import this as ansible_collections.hci.arc_ml.tests.unit.plugins.conftest: the bare name
    `conftest` is each conftest.py in turn, whichever pytest loaded last.
    """
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert exited.value.code == (1 if result.get("failed") else 0), result
    return result


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds


def reply(status=200, body=None, headers=None):
    """A scripted answer: status, JSON-able body (or raw str), headers."""
    return {"status": status, "body": body, "headers": headers or {}}


class FakeTransport(HttpTransport):
    """Answers requests from a handler `handler(request) -> reply(...)` (or raises), and records them.

    A list of replies is served in order instead, one per request.
    """

    def __init__(self, handler):
        self._handler = handler if callable(handler) else self._from_list(list(handler))
        self.requests = []
        self.slept = []

    @staticmethod
    def _from_list(replies):
        def serve(request):
            assert replies, f"unexpected request {request.method} {request.url}"
            answer = replies.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return serve

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def sleep(self, duration):
        self.slept.append(duration)

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self._handler(request)
        body = answer["body"]
        if body is None:
            content = b""
        elif isinstance(body, (str, bytes)):
            content = body.encode() if isinstance(body, str) else body
        else:
            content = json.dumps(body).encode()
            answer["headers"].setdefault("Content-Type", "application/json")
        raw = requests.Response()
        raw.status_code = answer["status"]
        raw._content = content
        raw._content_consumed = True
        raw.raw = io.BytesIO(content)
        raw.headers.update(answer["headers"])
        raw.reason = "scripted"
        raw.url = request.url
        if isinstance(request, RestRequest):
            response = RestRequestsTransportResponse(request=request, internal_response=raw)
            response.read()
            return response
        return LegacyResponse(request, raw)


class FakeEntra:
    """Answers OIDC discovery and client-credentials token requests the way Entra ID does.

    `reject` is an error description to answer every token request with (HTTP 401, invalid_client).
    """

    def __init__(self, login="https://login.sandbox.local", reject=None):
        self.login = login
        self.reject = reject
        self.token_requests = []
        self.token_headers = []

    def handles(self, request):
        return request.url.startswith(self.login)

    def __call__(self, request):
        if request.url.endswith("/.well-known/openid-configuration"):
            tenant = request.url[len(self.login) + 1 :].split("/")[0]
            base = f"{self.login}/{tenant}"
            return reply(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            )
        assert request.method == "POST" and request.url.endswith("/oauth2/v2.0/token"), request.url
        form = dict(request.data)
        self.token_requests.append(form)
        self.token_headers.append(dict(request.headers))
        if self.reject:
            return reply(401, {"error": "invalid_client", "error_description": self.reject, "error_codes": [7000215]})
        return reply(200, {"access_token": "entra-token", "expires_in": 3600, "token_type": "Bearer"})


class FakeCredential:
    """A TokenCredential that records the scopes asked for, or raises `error`."""

    def __init__(self, error=None):
        self.error = error
        self.scopes = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.extend(scopes)
        if self.error:
            raise self.error
        return AccessToken("fake-token", int(time.time()) + 3600)


@pytest.fixture
def fake_clock():
    return FakeClock()


@pytest.fixture
def make_transport():
    return FakeTransport


@pytest.fixture
def make_reply():
    return reply


@pytest.fixture
def fake_entra():
    return FakeEntra


@pytest.fixture
def fake_credential():
    return FakeCredential


@pytest.fixture(autouse=True)
def ansible_process(monkeypatch):
    """Run the test as the kind of process its code runs in: a module's, not the controller's.

    Importing any controller code of ansible-core (an inventory plugin's test does) marks the whole test process
    as the controller for good, and a module's warnings then go to the controller's display instead of its
    result. Modules never run in the controller process, so their tests undo that; the inventory plugin's tests
    override this fixture (tests/unit/plugins/inventory/conftest.py).
    """
    from ansible.module_utils import _internal

    monkeypatch.setattr(_internal, "is_controller", False)


@pytest.fixture(autouse=True)
def own_cache_home(monkeypatch, tmp_path):
    """Each test its own XDG_CACHE_HOME: the Azure token cache of one test never answers another's, nor the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


# The custom cloud the module tests sign in to: its ARM endpoint and its login endpoint.
FAKE_ARM = "https://127.0.0.1:8443"
FAKE_LOGIN = FAKE_ARM + "/login"
# The service principal and subscription the module tests sign in with.
FAKE_SUBSCRIPTION = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
FAKE_AUTH = {
    "subscription_id": FAKE_SUBSCRIPTION,
    "client_id": "11111111-2222-3333-4444-555555555555",
    "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "secret": "sandbox-client-secret",
    "cloud_environment": FAKE_ARM,
}


@pytest.fixture
def fake_azure(monkeypatch, make_transport, make_reply, fake_entra, fake_clock):
    """Install a fake Azure behind every HTTP client and a fake clock behind every wait; return `install`.

    `install(arm, reject=None)`: Entra ID (FakeEntra at FAKE_LOGIN, `reject` as it takes it) and the cloud's
    metadata document answer their requests; every other request goes to `arm(request, make_reply)`. Returns arm.
    """
    monkeypatch.setattr(time, "monotonic", fake_clock)
    monkeypatch.setattr(time, "sleep", fake_clock.sleep)
    metadata = {
        "name": "Sandbox",
        "resourceManager": FAKE_ARM,
        "authentication": {"loginEndpoint": FAKE_LOGIN, "audiences": ["https://management.sandbox.local/"]},
    }

    def install(arm, reject=None):
        entra = fake_entra(login=FAKE_LOGIN, reject=reject)

        def handle(request):
            if entra.handles(request):
                return entra(request)
            if "/metadata/endpoints" in request.url:
                return make_reply(200, metadata)
            return arm(request, make_reply)

        transport = make_transport(handle)
        import azure.core.pipeline.transport as azure_transport

        monkeypatch.setattr(azure_transport, "RequestsTransport", lambda **kwargs: transport)
        return arm

    return install
