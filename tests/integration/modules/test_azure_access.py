"""Azure access the way fleets hold credentials, through ansible-playbook against the Azure emulator.

- AWX's username/password Azure credential: only AZURE_AD_USER, AZURE_PASSWORD and AZURE_SUBSCRIPTION_ID set;
- azure.azcollection's credentials file: only ~/.azure/credentials (HOME pointed at a temporary directory);
- a custom cloud whose metadata names a foreign login endpoint or a Microsoft Graph audience: refused, and the
  emulator's request log shows that nothing but the metadata request was sent.

The emulator here is seeded with user accounts (sites file below), so this module starts its own.
"""

import json

import pytest
from playbook_runner import run_tasks

from sandbox.emulator.paths import EmulatorPaths
from sandbox.testing import RunningEmulator

pytestmark = pytest.mark.sandbox

FATAL = "fatal: [localhost]: FAILED! => "
OPS = "ops@arcmlsandbox.onmicrosoft.com"
MFA = "admin@arcmlsandbox.onmicrosoft.com"
SITES = {
    "workspace": {"name": "mlw-access", "resource_group": "rg-access-ml", "location": "eastus"},
    "users": [{"name": OPS, "rights": "contributor"}, {"name": MFA, "rights": "contributor", "mfa": True}],
    "sites": [{"name": "site-x", "location": "eastus", "resource_group": "rg-site-x", "nodes": [{"name": "x-1"}]}],
}
# What env.sh exports for the service principal: left out wherever a test gives only one other source.
PRINCIPAL_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_CLIENT_SECRET", "AZURE_TENANT", "AZURE_TENANT_ID")


class Emulator(RunningEmulator):
    def user_password(self, name):
        """The user's generated password, kept only in the emulator's state file."""
        return json.loads(EmulatorPaths(self.directory).state.read_text())["users"][name.lower()]["password"]

    def requests_since(self, seq):
        return self.admin.requests(since=seq)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    directory = tmp_path_factory.mktemp("azure-access") / "emulator"
    with Emulator.start(directory, SITES, lro_seconds=0.5, provider_registration_seconds=0.5) as running:
        yield running


def without_principal(env):
    return {k: v for k, v in env.items() if k not in PRINCIPAL_VARIABLES}


def register(namespace, **options):
    return {
        "name": "Ensure a resource provider",
        "hci.arc_ml.resource_provider": {"namespaces": [namespace], "wait_sleep": 1, "wait_timeout": 60, **options},
    }


def failure(run):
    """The one failed result ansible-playbook printed at -vvvv."""
    assert run.output.count(FATAL) == 1, run.output
    result, _end = json.JSONDecoder().raw_decode(run.output, run.output.index(FATAL) + len(FATAL))
    return result


def token_requests(entries):
    return [e for e in entries if e["method"] == "POST" and e["path"].endswith("/token")]


def subscription_requests(entries):
    return [e for e in entries if e["path"].startswith("/subscriptions/")]


def test_awx_username_and_password_only(emulator, tmp_path):
    password = emulator.user_password(OPS)
    env = {**without_principal(emulator.env), "AZURE_AD_USER": OPS, "AZURE_PASSWORD": password}
    mark = emulator.admin.last_seq()

    run = run_tasks([register("Microsoft.Relay")], env, tmp_path, "-vvvv")

    (result,) = run.results
    assert not result.get("failed"), run.output
    assert result["providers"][0]["registration_state"] == "Registered"
    entries = emulator.requests_since(mark)
    (token,) = token_requests(entries)
    assert token["path"] == "/organizations/oauth2/v2.0/token"
    assert token["body"]["grant_type"] == "password" and token["body"]["username"] == OPS
    assert token["body"]["client_id"] == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    assert [e for e in entries if e["method"] == "POST" and e["path"].endswith("/Microsoft.Relay/register")]
    assert password not in run.output


def test_a_user_who_must_pass_mfa_is_told_to_use_a_service_principal(emulator, tmp_path):
    password = emulator.user_password(MFA)
    env = {**without_principal(emulator.env), "AZURE_AD_USER": MFA, "AZURE_PASSWORD": password}
    mark = emulator.admin.last_seq()

    run = run_tasks([register("Microsoft.Relay")], env, tmp_path, "-vvvv", ignore_errors=False)

    message = failure(run)["msg"]
    assert message.startswith(f"Azure requires multifactor authentication of user {MFA} (AADSTS50076)")
    assert "service principal" in message and "AWX" in message and "\n" not in message
    assert password not in run.output and "Traceback" not in run.output
    assert subscription_requests(emulator.requests_since(mark)) == []


def test_a_wrong_password_is_rejected_naming_the_user(emulator, tmp_path):
    wrong = "Not-the-password~42"
    env = {**without_principal(emulator.env), "AZURE_AD_USER": OPS, "AZURE_PASSWORD": wrong}

    run = run_tasks([register("Microsoft.Relay")], env, tmp_path, "-vvvv", ignore_errors=False)

    message = failure(run)["msg"]
    assert message.startswith(f"Azure rejected the credentials: user {OPS} with password from environment")
    assert "AADSTS50126" in message
    assert wrong not in run.output


def credentials_file(home, text):
    (home / ".azure").mkdir(parents=True)
    (home / ".azure" / "credentials").write_text(text)


def test_a_credentials_file_only(emulator, tmp_path):
    env = emulator.env
    home = tmp_path / "home"
    credentials_file(
        home,
        f"[default]\nsubscription_id = {env['AZURE_SUBSCRIPTION_ID']}\ncloud_environment = "
        f"{env['AZURE_CLOUD_ENVIRONMENT']}\nclient_id = {env['AZURE_CLIENT_ID']}\nsecret = {env['AZURE_SECRET']}\n"
        f"tenant = {env['AZURE_TENANT']}\n\n[ops]\nad_user = {OPS}\npassword = {emulator.user_password(OPS)}\n"
        f"subscription_id = {env['AZURE_SUBSCRIPTION_ID']}\ncloud_environment = {env['AZURE_CLOUD_ENVIRONMENT']}\n",
    )
    # Nothing Azure in the environment but the CA to trust: the file says everything else.
    only_ca = {"REQUESTS_CA_BUNDLE": env["REQUESTS_CA_BUNDLE"], "HOME": str(home)}

    run = run_tasks(
        [register("Microsoft.ExtendedLocation"), register("Microsoft.Kubernetes", profile="ops")],
        only_ca,
        tmp_path,
        "-vvvv",
    )

    assert [bool(r.get("failed")) for r in run.results] == [False, False], run.output
    assert env["AZURE_SECRET"] not in run.output
    assert emulator.user_password(OPS) not in run.output


@pytest.mark.parametrize(
    ("variant", "fragment"),
    [
        ("foreign-login", "names the login endpoint https://login.arcml-hostile.invalid on host"),
        ("graph-audience", "for a token to the audience https://graph.microsoft.com/"),
        ("http-login", "has no https 'authentication.loginEndpoint'"),
    ],
)
def test_hostile_metadata_is_refused_before_any_secret_or_token_is_sent(emulator, tmp_path, variant, fragment):
    cloud = f"{emulator.env['AZURE_CLOUD_ENVIRONMENT']}/variants/{variant}"
    mark = emulator.admin.last_seq()

    run = run_tasks([register("Microsoft.Relay")], {**emulator.env, "AZURE_CLOUD_ENVIRONMENT": cloud}, tmp_path,
                    "-vvvv", ignore_errors=False)  # fmt: skip

    message = failure(run)["msg"]
    assert fragment in message and "\n" not in message
    sent = [f"{e['method']} {e['path']}" for e in emulator.requests_since(mark)]
    assert sent == [f"GET /variants/{variant}/metadata/endpoints"]
    assert emulator.env["AZURE_SECRET"] not in run.output
