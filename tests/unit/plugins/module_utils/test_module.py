"""The module wrapper: shared options, result and diff, and failures that are one line with no secret."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import COLLECTION_VERSION, USER_AGENT
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module as run_module_main

REPO = Path(__file__).resolve().parents[4]


def run_module(capsys, main, args=None, **options):
    """Build an ArcMLModule with `args`, run `main`, return the parsed result."""
    module = SimpleNamespace(main=lambda: ArcMLModule({"name": {"type": "str"}}, **options).run(main))
    return run_module_main(capsys, module, args or {})


def test_result_and_changed(capsys):
    def main(module):
        module.set_changed()
        module.result["thing"] = {"name": module.params["name"]}

    result = run_module(capsys, main, {"name": "site1"})
    assert not result.get("failed")
    assert result["changed"] is True
    assert result["thing"] == {"name": "site1"}


@pytest.mark.parametrize("diff", [True, False])
def test_diff_is_returned_only_in_diff_mode(capsys, diff):
    def main(module):
        module.set_diff({"state": "NotRegistered"}, {"state": "Registered"})

    result = run_module(capsys, main, {"_ansible_diff": diff})
    assert ("diff" in result) is diff
    if diff:
        assert result["diff"] == {"before": {"state": "NotRegistered"}, "after": {"state": "Registered"}}


def test_expected_error_is_one_line_with_its_details_and_what_changed(capsys):
    def main(module):
        module.set_changed()
        raise ArcMLError("Azure said no.\nTry again later.", request_id="r-1")

    result = run_module(capsys, main)
    assert result["failed"] is True
    assert result["msg"] == "Azure said no. Try again later."
    assert result["request_id"] == "r-1"
    assert result["changed"] is True
    assert "exception" not in result


def test_secrets_from_the_environment_never_reach_the_output(capsys, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "env-client-secret-value")
    monkeypatch.setenv("AZURE_SECRET", "env-awx-secret-value")

    def main(module):
        raise ArcMLError("token request with env-client-secret-value and env-awx-secret-value failed")

    result = run_module(capsys, main)
    assert "secret-value" not in json.dumps(result)
    assert result["msg"] == "token request with ******** and ******** failed"


def test_a_bug_still_ends_as_one_masked_line(capsys, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "leaky-secret-value")

    def main(module):
        raise KeyError("leaky-secret-value")

    result = run_module(capsys, main)
    assert result["failed"] is True
    assert result["msg"].startswith("Unexpected KeyError in ")
    assert "This is a bug in hci.arc_ml" in result["msg"]
    assert "leaky-secret-value" not in json.dumps(result)


def test_missing_library_names_the_pip_package(capsys):
    def main(module):
        import_optional("azure.does_not_exist", "azure-does-not-exist")

    result = run_module(capsys, main)
    assert result["failed"] is True
    assert "azure-does-not-exist" in result["msg"]
    assert "Failed to import the required Python library" in result["msg"]


def test_option_groups_are_added_on_request():
    with patch_module_args({}):
        plain = ArcMLModule({})
    with patch_module_args({}):
        everything = ArcMLModule({}, azure=True, kube=True, wait=True)
    assert set(plain.params) == set()
    assert {"subscription_id", "secret", "cloud_environment", "ca_bundle"} <= set(everything.params)
    assert {"kubeconfig", "context", "api_key", "validate_certs"} <= set(everything.params)
    assert (everything.params["wait"], everything.params["wait_timeout"], everything.params["wait_sleep"]) == (
        True,
        600,
        5,
    )


def test_waiter_follows_the_wait_option():
    with patch_module_args({"wait": False}):
        assert ArcMLModule({}, wait=True).waiter() is None
    with patch_module_args({"wait_timeout": 30, "wait_sleep": 2}):
        module = ArcMLModule({}, wait=True)
    assert module.waiter() is module.waiter()
    assert (module.waiter().timeout, module.waiter().interval) == (30, 2)


def test_a_required_waiter_exists_even_without_wait_and_keeps_its_settings():
    with patch_module_args({"wait": False, "wait_timeout": 30, "wait_sleep": 2}):
        module = ArcMLModule({}, wait=True)
    required = module.waiter(required=True)
    assert (required.timeout, required.interval) == (30, 2)
    assert module.waiter(required=True) is required
    assert module.waiter() is None


def test_user_agent_version_matches_galaxy_yml():
    version = re.search(r"^version:\s*(\S+)", (REPO / "galaxy.yml").read_text(), re.MULTILINE).group(1)
    assert version == COLLECTION_VERSION
    assert f"hci.arc_ml/{version}" == USER_AGENT


def test_a_multi_line_secret_is_masked_before_the_message_is_joined_into_one_line(capsys):
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"

    def main(module):
        module.protect([key])
        raise ArcMLError(f"helm said: bad value {key}")

    result = run_module(capsys, main)
    assert result["msg"] == "helm said: bad value ********"


# Proxy URL passwords of every shape: the raw form as written and, where it differs, the percent-decoded form.
URL_PASSWORDS = [
    ("http://user:S3cret-pw@proxy:3128", ["S3cret-pw"]),
    ("http://user:pa/ss-w0rd@proxy:3128", ["pa/ss-w0rd"]),
    ("http://user:pa#ss-w0rd@proxy:3128", ["pa#ss-w0rd"]),
    ("http://user:pa?ss-w0rd@proxy:3128", ["pa?ss-w0rd"]),
    ("http://user:p@ss-w0rd@proxy:3128", ["p@ss-w0rd"]),
    ("http://user:a/b#c?d@e-w0rd@proxy.example:3128/", ["a/b#c?d@e-w0rd"]),
    ("http://user:pa%2Fss%23w0rd@proxy:3128", ["pa%2Fss%23w0rd", "pa/ss#w0rd"]),
    ("https://user:p%40ss%3Fw0rd@proxy:3128", ["p%40ss%3Fw0rd", "p@ss?w0rd"]),
]


@pytest.mark.parametrize(("url", "passwords"), URL_PASSWORDS)
def test_the_password_of_a_url_is_found_whatever_it_holds(url, passwords):
    from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import url_passwords

    assert url_passwords(url) == passwords
    assert url_passwords({"proxy": {"list": [7, None, url]}}) == passwords


@pytest.mark.parametrize(
    "text",
    ["http://proxy:3128", "https://user@proxy:3128", "user:password", "no url here", "http://user:@proxy:3128", ""],
)
def test_a_url_without_a_password_gives_none(text):
    from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import url_passwords

    assert url_passwords(text) == []


@pytest.mark.parametrize(("url", "passwords"), URL_PASSWORDS)
def test_a_url_password_is_masked_even_when_the_arguments_fail_validation(capsys, url, passwords):
    # AnsibleModule fails inside its constructor, before any task could tell it what to mask.
    spec = {
        "name": {"type": "str"},
        "endpoint": {"type": "str"},
        "nested": {"type": "list", "elements": "dict", "options": {"url": {"type": "str"}}},
    }
    args = {"name": url, "endpoint": url, "nested": [{"url": url}], "wait_timeout": "abc"}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        ArcMLModule(spec, wait=True).run(lambda module: None)
    assert exited.value.code == 1
    output = capsys.readouterr().out
    result = json.loads(output)
    assert result["failed"] is True and "wait_timeout" in result["msg"]
    for password in passwords:
        assert password not in output
    assert result["invocation"]["module_args"]["endpoint"].startswith("http")
    assert "********" in result["invocation"]["module_args"]["endpoint"]


def test_a_url_password_in_an_option_the_module_does_not_know_is_masked_too(capsys):
    args = {"name": "site-1", "unknown": {"deep": ["http://u:n0t-an-0ption@proxy:3128"]}}
    with patch_module_args(args), pytest.raises(SystemExit):
        ArcMLModule({"name": {"type": "str"}}).run(lambda module: None)
    output = capsys.readouterr().out
    assert json.loads(output)["failed"] is True
    assert "n0t-an-0ption" not in output
