"""The secret scan (scan.py): it must find a planted leak in every place it watches, or its zero hits mean nothing.

The first tests feed the matcher text in every form a leak could take. The others plant a real leak in one
place per test through a tiny play on a sandbox of its own, and check that the run fails with the place and
the secret's origin (from the sandbox's secret registry) named, and without the secret in the message:
output and record file (a debug of the client secret), a file left in the run's TMPDIR, the arguments of a
process while it runs (sampled from /proc) and of a helm call (noted by the helm shim), helm's environment,
and a secret the stand-in agents recorded (an onboarding private key), not the emulator. The client secret
reaches the plays through the run's environment (env.sh's AZURE_CLIENT_SECRET), never through a file the
scan watches.

The Azure token cache holds access tokens on purpose: the scan allows them there (and only there), and fails a
cache that holds any other secret or that others could read; a real Azure task leaves one that passes.
"""

import base64
import json
import os
import stat

import pytest
from scan import TOKEN_CACHE, _forms, find_secrets, known_secrets, token_cache_hits
from support import site

from sandbox.cluster_view import ARC_NAMESPACE, PRIVATE_KEY_SECRET
from sandbox.testing import new_onboarding_key, wait_for

PEM_LINE = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
SECRET = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;SharedAccessKey=k3y/+=="
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlX2hlcmU"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_LINE}\nAbC=\n-----END RSA PRIVATE KEY-----"
SECRETS = {SECRET: "relay connection string", PEM: "an onboarding key", TOKEN: "access token of principal p"}
SITE = "scan-a"


@pytest.mark.parametrize(
    "text",
    [
        f"msg: {SECRET}",
        json.dumps({"value": SECRET + "\n"}),
        "encoded " + base64.b64encode(SECRET.encode()).decode(),
        "url ?x="
        + SECRET.replace("/", "%2F").replace(";", "%3B").replace("=", "%3D").replace("+", "%2B").replace(":", "%3A"),
        "-----BEGIN RSA PRIVATE KEY-----\\n" + PEM_LINE + "\\n",
        "Authorization: Bearer " + TOKEN,
        "kubeconfig token: " + base64.b64encode(TOKEN.encode()).decode(),
        "Authorization: Bearer 0paque-T0ken.of-some-other-issuer",
    ],
)
def test_a_planted_secret_is_found_in_every_form(text):
    hits = find_secrets(text, SECRETS)
    assert hits, text
    assert all(SECRET not in excerpt and PEM_LINE not in excerpt for _, excerpt in hits)


def test_a_registered_token_is_named_by_its_origin_and_a_base64_key_by_what_it_decodes_to():
    assert [origin for origin, _ in find_secrets(f"Bearer {TOKEN}", SECRETS)] == ["access token of principal p"]
    assert find_secrets(f"Bearer {TOKEN}", {})[0][0] == "a JWT (not in the registry)"
    client_key_data = base64.b64encode(PEM.encode()).decode()  # as a kubeconfig's client-key-data holds it
    assert find_secrets(f"key: {PEM_LINE}", {client_key_data: "admin client key"})[0][0] == "admin client key"
    assert PEM_LINE in list(_forms(client_key_data))


def test_clean_output_has_no_hits():
    clean = (
        "ok: [site] => changed=false, SharedAccessKey=<redacted> ********\n"
        'WWW-Authenticate: Bearer authorization_uri="https://login/tenant", error="invalid_token"\n'
        "Authorization: Bearer ********"
    )
    assert find_secrets(clean, SECRETS) == []


# Planted leaks: one place each.


@pytest.fixture(scope="module")
def leaky(rel_sandbox_factory):
    return rel_sandbox_factory("scan", [site(SITE)])


def client_secret(sandbox):
    return sandbox.env["AZURE_CLIENT_SECRET"]


def planted(sandbox, tasks, label):
    """Run `tasks`; return the scan's failure message (the run must fail the scan)."""
    with pytest.raises(AssertionError) as failure:
        sandbox.run_tasks(tasks, label=label)
    return str(failure.value)


def assert_names(message, place, origin, secret):
    lines = [line for line in message.splitlines() if place in line]
    assert lines and all(origin in line for line in lines), message
    assert all(form not in message for form in _forms(secret)), "the report shows the secret"


def test_a_clean_run_passes_and_the_scan_had_something_to_look_for(leaky):
    run = leaky.run_tasks([{"ansible.builtin.command": "sleep 0.3"}], label="clean")
    assert run.rc == 0
    assert client_secret(leaky) in known_secrets(leaky.dir) and run.secrets_checked >= 1
    # The sampler saw the run's tree down to the task's own process.
    assert any(line.startswith("sleep 0.3") for line in run.scan.sampler.cmdlines), list(run.scan.sampler.cmdlines)


def test_a_secret_in_the_output_and_the_record_file_fails_the_run(leaky):
    message = planted(
        leaky, [{"ansible.builtin.debug": {"msg": "{{ lookup('env', 'AZURE_CLIENT_SECRET') }}"}}], "leak-out"
    )
    origin = "client secret of principal sandbox-admin"
    assert_names(message, "output:", origin, client_secret(leaky))
    assert_names(message, "record file:", origin, client_secret(leaky))


def test_a_secret_in_a_file_left_in_the_temp_directory_fails_the_run(leaky):
    task = {"ansible.builtin.shell": 'printenv AZURE_CLIENT_SECRET > "$TMPDIR/hci-arc-ml-left-behind.txt"'}
    message = planted(leaky, [task], "leak-tmp")
    assert_names(message, "file left in a temp directory", "client secret of principal", client_secret(leaky))
    assert "hci-arc-ml-left-behind.txt" in message
    assert "output:" not in message and "record file:" not in message


def test_a_secret_in_a_process_argument_fails_the_run(leaky):
    # `sh -c 'sleep; true' SECRET`: the secret is only in the running shell's arguments (two commands: no exec).
    task = {"ansible.builtin.shell": "sh -c 'sleep 1; true' \"$AZURE_CLIENT_SECRET\""}
    message = planted(leaky, [task], "leak-argv")
    assert_names(message, "process arguments (sh, pid", "client secret of principal", client_secret(leaky))
    assert "output:" not in message and "record file:" not in message


def test_a_secret_in_a_helm_argument_fails_the_run_however_short_the_call(leaky):
    # `helm version` returns in milliseconds: the shim, not the sampler, is what cannot miss it.
    task = {"ansible.builtin.shell": 'env -i PATH="$PATH" helm version --kube-token "$AZURE_CLIENT_SECRET"'}
    message = planted(leaky, [task], "leak-helm-argv")
    assert_names(message, "process arguments of helm", "client secret of principal", client_secret(leaky))


def test_a_secret_in_helms_environment_fails_the_run(leaky):
    # A helm started with the controller's whole environment (AZURE_CLIENT_SECRET in it), as the collection's
    # allow-list (module_utils/_kube/helm.py) prevents.
    message = planted(leaky, [{"ansible.builtin.shell": "helm version"}], "leak-helm-env")
    assert_names(message, "environment of helm", "client secret of principal", client_secret(leaky))
    assert "process arguments" not in message


def test_a_secret_the_stand_in_agents_recorded_fails_the_run(leaky, tmp_path):
    api = leaky.cluster(SITE).api()
    pem = new_onboarding_key()[0]
    secrets = f"/api/v1/namespaces/{ARC_NAMESPACE}/secrets"
    api.post("/api/v1/namespaces", {"metadata": {"name": ARC_NAMESPACE}})
    api.post(
        secrets,
        {"metadata": {"name": PRIVATE_KEY_SECRET}, "data": {"privateKey": base64.b64encode(pem.encode()).decode()}},
    )
    origin = f"onboarding private key of {SITE}"
    wait_for(lambda: known_secrets(leaky.dir).get(pem.strip()) == origin, "the agents to record the key", timeout=15)
    # Gone from the cluster: only the agents' registry entry can name it now.
    api.delete(f"{secrets}/{PRIVATE_KEY_SECRET}")
    api.delete(f"/api/v1/namespaces/{ARC_NAMESPACE}")
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem)
    task = {"ansible.builtin.debug": {"msg": f"{{{{ lookup('file', '{key_file}') }}}}"}}
    message = planted(leaky, [task], "leak-agent-key")
    assert_names(message, "output:", origin, pem.strip())


# The token cache: access tokens allowed, nothing else, and the user's alone.

ACCESS = {TOKEN: "access token of principal p for https://management"}
FOREIGN_TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJvdGhlciJ9.c2lnbmF0dXJlX290aGVy"


def cache_file(cache_home, text, file_mode=0o600, directory_mode=0o700):
    directory = cache_home.joinpath(*TOKEN_CACHE)
    directory.mkdir(parents=True)
    directory.chmod(directory_mode)
    path = directory / "cache.json"
    path.write_text(text)
    path.chmod(file_mode)
    return path


def cache_text(**extra):
    return json.dumps({"version": 1, "tokens": {"k": {"token": TOKEN, "expires_on": 1}}, **extra})


def test_a_private_cache_of_access_tokens_has_no_hits(tmp_path):
    cache_file(tmp_path, cache_text())
    assert token_cache_hits(tmp_path, {**SECRETS, **ACCESS}) == []


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        (cache_text(secret=SECRET), "relay connection string"),
        (cache_text(refresh_token="0.AAAA-opaque"), "a refresh token field"),
        (cache_text(other=FOREIGN_TOKEN), "a JWT (not in the registry)"),
    ],
)
def test_a_cache_holding_anything_but_an_issued_access_token_is_a_hit(tmp_path, text, origin):
    cache_file(tmp_path, text)
    hits = token_cache_hits(tmp_path, {**SECRETS, **ACCESS})
    assert [hit.origin for hit in hits] == [origin]
    assert all(SECRET not in str(hit) and TOKEN not in str(hit) for hit in hits)


@pytest.mark.parametrize(
    ("file_mode", "directory_mode", "problem"),
    [(0o644, 0o700, "token cache file with mode 0644"), (0o600, 0o755, "token cache directory with mode 0755")],
)
def test_a_cache_others_could_read_is_a_hit(tmp_path, file_mode, directory_mode, problem):
    cache_file(tmp_path, cache_text(), file_mode, directory_mode)
    (hit,) = token_cache_hits(tmp_path, ACCESS)
    assert hit.origin.startswith(problem)


def test_a_real_run_leaves_a_private_cache_with_its_token_and_no_hit(leaky):
    register = {"hci.arc_ml.resource_provider": {"namespaces": ["Microsoft.Relay"], "wait_sleep": 1}}
    run = leaky.run_tasks([register, register], label="token-cache")
    assert run.rc == 0, run.output[-2000:]
    path = run.scan.cache_home.joinpath(*TOKEN_CACHE, "cache.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == os.geteuid()
    issued = [s for s, origin in known_secrets(leaky.dir).items() if origin.startswith("access token of")]
    assert any(token in path.read_text() for token in issued), "the scan had no access token to allow"


def test_a_client_secret_planted_in_the_token_cache_fails_the_run(leaky):
    directory = '"$XDG_CACHE_HOME/hci-arc-ml/azure-tokens"'
    task = {"ansible.builtin.shell": f"umask 077 && mkdir -p {directory} && printenv AZURE_CLIENT_SECRET > "
                                     f"{directory}/cache.json"}  # fmt: skip
    message = planted(leaky, [task], "leak-token-cache")
    assert_names(message, "token cache file", "client secret of principal", client_secret(leaky))
    assert "output:" not in message and "file left in a temp directory" not in message
