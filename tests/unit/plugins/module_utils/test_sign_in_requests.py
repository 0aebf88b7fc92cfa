"""How many requests one ansible run sends to sign in, with the token cache, in the public and in a custom cloud.

Every task of a run is a module process of its own. Each process here is a fork that builds its Azure context
the way `ArcMLModule.azure()` does (`AzureContext.from_params`: cloud, credential plan, `CachedCredential` around
azure-identity's `ClientSecretCredential`, one token up front), then asks once more for the ARM token as the ARM
pipeline does. All of them share one `XDG_CACHE_HOME` (the `own_cache_home` fixture) and log every HTTP request
azure-core's transport is handed to one file.

What MSAL sends on a miss (msal 1.39, azure-identity 1.27 in .venv):
- `Authority._initialize_entra_authority` reads `{login}/{tenant}/v2.0/.well-known/openid-configuration` when the
  application is built (azure-identity `MsalCredential._get_app`), and asks the instance discovery endpoint
  (`/common/discovery/instance`) first only for a host that is neither one of its WELL_KNOWN_AUTHORITY_HOSTS (such
  as login.microsoftonline.com) nor has instance discovery turned off (as auth.py does for a custom cloud):
  https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/authority.py
  https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/identity/azure-identity/azure/identity/_internal/msal_credentials.py
- `ConfidentialClientApplication.acquire_token_for_client` then posts the client credentials grant to the token
  endpoint that document names. Only when that answer is an error does `_acquire_token_silent_with_error` look
  for the authority's aliases (`_get_authority_aliases`), which for a public cloud's host is an instance
  discovery request:
  https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/application.py
"""

import json
import multiprocessing

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure import token_cache
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import (
    AzureContext,
    AzureCredentialsError,
    azure_auth_argument_spec,
)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"
SECRET = "sign-in-count-secret"
SUBSCRIPTION = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
PUBLIC_LOGIN = "https://login.microsoftonline.com"
# AzureCloud's first management audience (cloud.py KNOWN_CLOUDS) as a scope.
PUBLIC_SCOPE = "https://management.core.windows.net/.default"
# Each known cloud of cloud.py: its login endpoint (one of MSAL's WELL_KNOWN_AUTHORITY_HOSTS) and ARM scope.
KNOWN_CLOUDS = {
    "AzureCloud": (PUBLIC_LOGIN, PUBLIC_SCOPE),
    "AzureUSGovernment": ("https://login.microsoftonline.us", "https://management.core.usgovcloudapi.net/.default"),
    "AzureChinaCloud": ("https://login.chinacloudapi.cn", "https://management.core.chinacloudapi.cn/.default"),
}
CUSTOM_ARM = "https://127.0.0.1:8443"
CUSTOM_LOGIN = CUSTOM_ARM + "/login"
CUSTOM_SCOPE = "https://management.sandbox.local/.default"
CUSTOM_METADATA = {
    "name": "Sandbox",
    "resourceManager": CUSTOM_ARM + "/",
    "authentication": {"loginEndpoint": CUSTOM_LOGIN, "audiences": ["https://management.sandbox.local/"]},
}
MODULE_PROCESSES = 5
PROCESS_TIMEOUT = 60


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch):
    """The key derivation's cost is not what these tests are about (as in test_token_cache.py)."""
    monkeypatch.setattr(token_cache, "KDF_ITERATIONS", 1000)


@pytest.fixture(autouse=True)
def no_region(monkeypatch):
    """No regional authority: with one, MSAL would also probe IMDS for the region (not what is counted here)."""
    monkeypatch.delenv("AZURE_REGIONAL_AUTHORITY_NAME", raising=False)
    monkeypatch.delenv("MSAL_FORCE_REGION", raising=False)


def module_params(cloud_environment, **overrides):
    """A module's azure_auth options as AnsibleModule hands them over (defaults filled in), with a client secret."""
    values = {name: spec.get("default") for name, spec in azure_auth_argument_spec().items()}
    values.update(
        subscription_id=SUBSCRIPTION,
        client_id=CLIENT,
        tenant=TENANT,
        secret=SECRET,
        cloud_environment=cloud_environment,
    )
    values.update(overrides)
    return values


@pytest.fixture
def azure_for(fake_entra, make_transport, make_reply):
    """`build(login, log_path, reject=None)`: a transport that logs each request to `log_path` (one JSON line:
    method, URL and, for a token request, its grant type and scope) and answers it the way Azure would."""

    def build(login, log_path, reject=None):
        entra = fake_entra(login=login, reject=reject)

        def handle(request):
            form = dict(request.data or {}) if request.method == "POST" else {}
            line = {"method": request.method, "url": request.url}
            line.update({key: form[key] for key in ("grant_type", "scope") if key in form})
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
            if "/common/discovery/instance" in request.url:
                return make_reply(200, instance_discovery(login))
            if entra.handles(request):
                return entra(request)
            if request.url == f"{CUSTOM_ARM}/metadata/endpoints?api-version=2022-09-01":
                return make_reply(200, CUSTOM_METADATA)
            return make_reply(404, {"error": {"code": "NotFound", "message": f"no route for {request.url}"}})

        return make_transport(handle)

    return build


def instance_discovery(login):
    """Entra ID's instance discovery answer, with the fields MSAL reads (`tenant_discovery_endpoint`, and the
    alias groups under `metadata` in `_get_instance_metadata`). Only sent if MSAL asks, which is what is measured."""
    host = login.split("://", 1)[1]
    return {
        "tenant_discovery_endpoint": f"{login}/{TENANT}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }


def _module_process(params, transport, start):
    """One task: authenticate up front (from_params), then the ARM pipeline's own token request."""
    if start is not None:
        start.wait(PROCESS_TIMEOUT)
    context = AzureContext.from_params(params, environ={}, transport=transport)
    context.credential.get_token(context.cloud.arm_scope)


def run_module_processes(params, transport, at_once=False, count=MODULE_PROCESSES):
    """Fork `count` module processes, one after another (a run's tasks) or all at once (a run's forks)."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(count) if at_once else None
    processes = [context.Process(target=_module_process, args=(params, transport, start)) for _process in range(count)]
    for process in processes:
        process.start()
        if not at_once:
            process.join(PROCESS_TIMEOUT)
    for process in processes:
        process.join(PROCESS_TIMEOUT)
    return [process.exitcode for process in processes]


def logged(log_path):
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines()]


def openid_configuration(login):
    return {"method": "GET", "url": f"{login}/{TENANT}/v2.0/.well-known/openid-configuration"}


def token_request(login, scope):
    return {
        "method": "POST",
        "url": f"{login}/{TENANT}/oauth2/v2.0/token",
        "grant_type": "client_credentials",
        "scope": scope,
    }


@pytest.mark.parametrize("at_once", [False, True], ids=["one-after-another", "all-at-once"])
@pytest.mark.parametrize("cloud", list(KNOWN_CLOUDS))
def test_a_public_cloud_run_signs_in_with_2_requests(azure_for, tmp_path, cloud, at_once):
    login, scope = KNOWN_CLOUDS[cloud]
    log_path = tmp_path / "requests.jsonl"
    transport = azure_for(login, log_path)
    exit_codes = run_module_processes(module_params(cloud), transport, at_once=at_once)
    assert exit_codes == [0] * MODULE_PROCESSES
    # No metadata read (a known cloud comes from cloud.py's table) and no instance discovery (MSAL knows the host).
    assert logged(log_path) == [openid_configuration(login), token_request(login, scope)]


@pytest.mark.parametrize("at_once", [False, True], ids=["one-after-another", "all-at-once"])
def test_a_custom_cloud_run_signs_in_with_3_requests(azure_for, tmp_path, at_once):
    log_path = tmp_path / "requests.jsonl"
    transport = azure_for(CUSTOM_LOGIN, log_path)
    exit_codes = run_module_processes(module_params(CUSTOM_ARM), transport, at_once=at_once)
    assert exit_codes == [0] * MODULE_PROCESSES
    assert logged(log_path) == [
        {"method": "GET", "url": f"{CUSTOM_ARM}/metadata/endpoints?api-version=2022-09-01"},
        openid_configuration(CUSTOM_LOGIN),
        token_request(CUSTOM_LOGIN, CUSTOM_SCOPE),
    ]


def test_without_the_token_cache_every_process_of_a_public_cloud_run_signs_in(azure_for, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    transport = azure_for(PUBLIC_LOGIN, log_path)
    exit_codes = run_module_processes(module_params("AzureCloud", token_cache=False), transport)
    assert exit_codes == [0] * MODULE_PROCESSES
    one_sign_in = [openid_configuration(PUBLIC_LOGIN), token_request(PUBLIC_LOGIN, PUBLIC_SCOPE)]
    assert logged(log_path) == one_sign_in * MODULE_PROCESSES


def test_a_rejected_secret_in_the_public_cloud_also_costs_an_instance_discovery(azure_for, tmp_path):
    """MSAL looks for the authority's aliases after an error answer (see the module notes): a third request."""
    log_path = tmp_path / "requests.jsonl"
    transport = azure_for(PUBLIC_LOGIN, log_path, reject="AADSTS7000215: Invalid client secret provided.")
    with pytest.raises(AzureCredentialsError, match="Azure rejected the credentials") as caught:
        AzureContext.from_params(module_params("AzureCloud"), environ={}, transport=transport)
    assert SECRET not in caught.value.message
    requests = logged(log_path)
    assert requests[:2] == [openid_configuration(PUBLIC_LOGIN), token_request(PUBLIC_LOGIN, PUBLIC_SCOPE)]
    assert [(r["method"], r["url"].split("?")[0]) for r in requests[2:]] == [
        ("GET", f"{PUBLIC_LOGIN}/common/discovery/instance")
    ]
