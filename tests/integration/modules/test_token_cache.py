"""One sign-in per run (issue 19), through ansible-playbook against the Azure emulator.

A play shaped like playbooks/site.yml (each site's Arc cluster, its extensions, the workspace's computes, and the
resource providers once) runs on one to five sites with one service principal, five forks at once. Every task
is a module process of its own; the emulator's request log shows how many of them read the cloud metadata and
asked the token endpoint:
- with the token cache (the default) the whole run reads the metadata once and asks for one token, whatever the
  number of sites, and a second run within the token's lifetime asks for neither;
- with a different secret for the same client the cached token is not handed out: the token endpoint is asked,
  and refuses;
- with the opt-out (ARCML_TOKEN_CACHE=false) every module process signs in, as before, and no cache file exists;
- no access token reaches the -vvvv output, and the cache file is the user's alone.
"""

import json
import os
import re
import stat

import pytest
from playbook_runner import run_tasks

from sandbox.emulator.secrets_registry import SecretRegistry, read_secrets
from sandbox.testing import RunningEmulator

pytestmark = pytest.mark.sandbox

SITE_NAMES = [f"tc-site-{n}" for n in range(1, 6)]
WORKSPACE = {"name": "mlw-token-cache", "resource_group": "rg-token-cache-ml", "location": "eastus"}
SITES = {
    "workspace": WORKSPACE,
    "sites": [
        {"name": name, "location": "eastus", "resource_group": f"rg-{name}", "kind": "provisioned",
         "nodes": [{"name": f"{name}-n1"}]}
        for name in SITE_NAMES
    ],
}  # fmt: skip
# Module processes per run of the play below on n sites: three per site, and the providers once.
AZURE_TASKS_PER_SITE = 3
CACHE_FILE = ("hci-arc-ml", "azure-tokens", "cache.json")


class Emulator(RunningEmulator):
    def access_tokens(self):
        """Every access token the emulator has issued (its secret registry records each one)."""
        secrets = read_secrets(SecretRegistry.in_directory(self.directory).path)
        return [secret for secret, origin in secrets.items() if origin.startswith("access token of")]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    directory = tmp_path_factory.mktemp("token-cache") / "emulator"
    with Emulator.start(directory, SITES, lro_seconds=0.5, provider_registration_seconds=0.2) as running:
        yield running


def site_play():
    """Tasks like site.yml's Azure steps; the first one runs on every site at once, before anything is cached."""
    site = {"cluster_name": "{{ inventory_hostname }}", "resource_group": "rg-{{ inventory_hostname }}"}
    return [
        {"name": "Read the site's Arc cluster",
         "hci.arc_ml.connected_cluster_info": {"name": "{{ inventory_hostname }}",
                                               "resource_group": "rg-{{ inventory_hostname }}"}},
        {"name": "Register the resource providers once", "run_once": True,
         "hci.arc_ml.resource_provider": {"namespaces": ["Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration"],
                                          "wait_sleep": 1, "wait_timeout": 60}},
        {"name": "Read the site's extensions", "hci.arc_ml.cluster_extension_info": site},
        {"name": "Read the workspace's computes",
         "hci.arc_ml.ml_compute_info": {"workspace_name": WORKSPACE["name"],
                                        "resource_group": WORKSPACE["resource_group"]}},
    ]  # fmt: skip


def module_processes(sites):
    return AZURE_TASKS_PER_SITE * sites + 1


def run_site_play(emulator, tmp_path, sites, env=None, cache_home=None):
    """The play on the first `sites` sites at -vvvv; (run, [request log entries of the run])."""
    hosts = SITE_NAMES[:sites]
    mark = emulator.admin.last_seq()
    environment = {"XDG_CACHE_HOME": str(cache_home or tmp_path / "cache"), **(env or {})}
    run = run_tasks(site_play(), emulator.env, tmp_path, "-vvvv", "--forks", "5", env=environment,
                    ignore_errors=False, hosts="all", inventory=",".join(hosts) + ",")  # fmt: skip
    return run, emulator.admin.requests(since=mark)


def metadata_requests(entries):
    return [e for e in entries if e["path"].startswith("/metadata/endpoints")]


def token_requests(entries):
    return [e for e in entries if e["method"] == "POST" and e["path"].endswith("/token")]


def arm_requests(entries):
    return [e for e in entries if e["path"].startswith(("/subscriptions/", "/providers/"))]


def assert_succeeded(run, sites):
    assert run.rc == 0, run.output[-4000:]
    recap = re.findall(r"^(tc-site-\d+)\s+: ok=\d+ .*failed=0 ", run.output, re.MULTILINE)
    assert sorted(recap) == SITE_NAMES[:sites], run.output[-2000:]


@pytest.mark.parametrize("sites", [1, 5])
def test_a_run_reads_the_metadata_once_and_signs_in_once_whatever_the_number_of_sites(emulator, tmp_path, sites):
    run, entries = run_site_play(emulator, tmp_path, sites)

    assert_succeeded(run, sites)
    assert len(metadata_requests(entries)) + len(token_requests(entries)) <= 2
    assert (len(metadata_requests(entries)), len(token_requests(entries))) == (1, 1)
    # Every module process did call ARM, with the one token.
    assert len(arm_requests(entries)) >= module_processes(sites)
    for secret in [emulator.env["AZURE_SECRET"], *emulator.access_tokens()]:
        assert secret not in run.output
    cache_file = tmp_path.joinpath("cache", *CACHE_FILE)
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600 and cache_file.stat().st_uid == os.geteuid()
    assert stat.S_IMODE(cache_file.parent.stat().st_mode) == 0o700
    text = cache_file.read_text()
    assert emulator.env["AZURE_SECRET"] not in text and "refresh_token" not in text

    again, entries = run_site_play(emulator, tmp_path, sites)

    assert_succeeded(again, sites)
    assert metadata_requests(entries) == [] and token_requests(entries) == []


def test_a_different_secret_for_the_same_client_misses_the_cache(emulator, tmp_path):
    run, _ = run_site_play(emulator, tmp_path, 1)
    assert_succeeded(run, 1)
    wrong = "Not-the-client-secret~19"

    run, entries = run_site_play(emulator, tmp_path, 1, env={"AZURE_SECRET": wrong, "AZURE_CLIENT_SECRET": wrong})

    assert run.rc != 0
    assert "Azure rejected the credentials" in run.output and "AADSTS7000215" in run.output
    assert len(token_requests(entries)) == 1
    assert metadata_requests(entries) == []  # the metadata is public: a cached document serves any credential
    assert arm_requests(entries) == []
    assert wrong not in run.output


def test_with_the_opt_out_every_process_signs_in_and_nothing_is_written(emulator, tmp_path):
    run, entries = run_site_play(emulator, tmp_path, 5, env={"ARCML_TOKEN_CACHE": "false"})

    assert_succeeded(run, 5)
    assert len(token_requests(entries)) == module_processes(5)
    assert len(metadata_requests(entries)) == module_processes(5)
    assert not (tmp_path / "cache" / "hci-arc-ml").exists()


def test_the_cache_file_holds_only_access_tokens_and_metadata(emulator, tmp_path):
    run, _ = run_site_play(emulator, tmp_path, 1)
    assert_succeeded(run, 1)

    content = json.loads(tmp_path.joinpath("cache", *CACHE_FILE).read_text())

    assert set(content) == {"version", "salt", "tokens", "metadata"}
    assert [set(entry) for entry in content["tokens"].values()] == [{"token", "expires_on"}]
    (token,) = [entry["token"] for entry in content["tokens"].values()]
    assert token in emulator.access_tokens()
    cloud = emulator.env["AZURE_CLOUD_ENVIRONMENT"]
    assert list(content["metadata"]) == [f"{cloud}/metadata/endpoints?api-version=2022-09-01"]
