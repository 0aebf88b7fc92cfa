"""hci.arc_ml.cluster_credentials through ansible-playbook against `sandbox up`, then the kubeconfig it returns in use.

Two sites: an AKS Arc cluster (born connected; `kind: admin` gives its certificate-based kubeconfig) and a plain
cluster onboarded to Arc by hand (`kind: cluster_connect` gives a kubeconfig for the emulator's cluster connect
proxy with an Entra token). Each kubeconfig is written to a file and used by hci.arc_ml.cluster_preflight (until
every module takes the kubeconfig's text), and every -vvvv output is scanned for the credentials it carries.
"""

import base64
import calendar
import json
import re
import time
from pathlib import Path

import pytest
import yaml
from playbook_runner import run_playbook, run_tasks

from sandbox.emulator import tokens
from sandbox.emulator.paths import EmulatorPaths
from sandbox.emulator.pki import ensure_pki
from sandbox.testing import connect_site, running_sandbox

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[3]

SITES = {
    "workspace": {"name": "mlw-cc", "resource_group": "rg-cc-ml", "location": "eastus"},
    "sites": [
        {
            "name": "cc-aks",
            "location": "eastus",
            "resource_group": "rg-cc-aks",
            "kind": "provisioned",
            "nodes": [{"name": "cca-1", "cpu": 8, "memory": "32Gi"}],
        },
        {
            "name": "cc-arc",
            "location": "eastus",
            "resource_group": "rg-cc-arc",
            "nodes": [{"name": "ccc-1", "cpu": 8, "memory": "32Gi"}],
        },
    ],
}
NO_LOG_REFUSAL = (
    "cluster_credentials returns the cluster's kubeconfig, which holds credentials: set no_log: true on this task "
    "so that they can never reach a log. Nothing was asked of Azure."
)


@pytest.fixture(scope="module")
def sandbox(testbed_bin, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster-credentials")
    sites = folder / "sites.yml"
    sites.write_text(yaml.safe_dump(SITES))
    with running_sandbox(sites, folder / "sandbox") as running:
        running.admin.settings(lro_seconds=0.5, retry_after_seconds=1, provider_registration_seconds=0.2)
        connect_site(running, "cc-arc", "rg-cc-arc")
        yield running


@pytest.fixture
def play(sandbox, tmp_path, testbed_env):
    def run(tasks, *args):
        return run_tasks(tasks, sandbox.env, tmp_path, *args, env={"PATH": testbed_env["PATH"]})

    return run


def fetch(cluster, group, kind, no_log=True):
    task = {
        "name": "Fetch the kubeconfig",
        "hci.arc_ml.cluster_credentials": {"cluster_name": cluster, "resource_group": group, "kind": kind},
    }
    return dict(task, no_log=True) if no_log else task


def preflight(kubeconfig, fail_on_unmet=False):
    options = {"kubeconfig": str(kubeconfig), "fail_on_unmet": fail_on_unmet}
    return {"name": "Preflight", "hci.arc_ml.cluster_preflight": options}


@pytest.fixture
def fetch_and_use(sandbox, tmp_path, testbed_env):
    """A play as a user writes it: fetch (no_log), write the kubeconfig to a file (no_log), use it, at -vvvv.

    Returns (the fetch's result without the kubeconfig, the kubeconfig text, the preflight's result, the output).
    """

    def run(cluster, group, kind):
        kubeconfig, facts, checked = tmp_path / "kubeconfig.yaml", tmp_path / "facts.json", tmp_path / "checked.json"
        tasks = [
            dict(fetch(cluster, group, kind), register="fetched"),
            {
                "name": "Write the kubeconfig",
                "ansible.builtin.copy": {
                    "content": "{{ fetched.kubeconfig }}",
                    "dest": str(kubeconfig),
                    "mode": "0600",
                },
                "no_log": True,
            },
            {
                "name": "Keep what is not secret",
                "ansible.builtin.copy": {
                    "content": "{{ fetched | dict2items | rejectattr('key', 'equalto', 'kubeconfig') | items2dict "
                    "| to_json }}",
                    "dest": str(facts),
                },
            },
            dict(preflight(kubeconfig), register="checked", ignore_errors=True),
            {
                "name": "Keep the preflight",
                "ansible.builtin.copy": {"content": "{{ checked | to_json }}", "dest": str(checked)},
            },
        ]
        play = [
            {
                "name": "Fetch and use",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": tasks,
            }
        ]
        playbook = tmp_path / "fetch.yml"
        playbook.write_text(json.dumps(play))
        done = run_playbook(
            playbook, sandbox.env, tmp_path, "-i", "localhost,", "-vvvv", env={"PATH": testbed_env["PATH"]}
        )
        assert facts.exists(), done.output
        return json.loads(facts.read_text()), kubeconfig.read_text(), json.loads(checked.read_text()), done.output

    return run


def user_of(text):
    return yaml.safe_load(text)["users"][0]["user"]


def secret_parts(value):
    """The secret, and its start and end: a scan must also catch it cut or wrapped."""
    return [value, value[:40], value[-40:]]


def test_admin_kubeconfig_of_an_aks_arc_cluster_reaches_its_api_server(sandbox, fetch_and_use):
    result, kubeconfig, checked, output = fetch_and_use("cc-aks", "rg-cc-aks", "admin")
    assert not result.get("failed"), output
    assert result["kind"] == "admin" and result["auth"] == "client_certificate"
    servers = {site["name"]: site["server"] for site in json.loads((sandbox.dir / "ready.json").read_text())["sites"]}
    assert result["server"] == servers["cc-aks"]
    assert not checked.get("failed"), output
    assert [node["name"] for node in checked["nodes"]] == ["cca-1"]
    key = user_of(kubeconfig)["client-key-data"]
    for part in secret_parts(key) + secret_parts(base64.b64decode(key).decode().splitlines()[1]):
        assert part not in output


def test_cluster_connect_kubeconfig_reaches_the_cluster_through_azure(sandbox, fetch_and_use):
    result, kubeconfig, checked, output = fetch_and_use("cc-arc", "rg-cc-arc", "cluster_connect")
    assert not result.get("failed"), output
    assert result["server"].startswith(sandbox.env["AZURE_CLOUD_ENVIRONMENT"].rstrip("/") + "/_clusterconnect/")
    assert result["auth"] == "token"
    expires = calendar.timegm(time.strptime(result["expires_on"], "%Y-%m-%dT%H:%M:%SZ"))
    assert expires > time.time() + 600
    assert not checked.get("failed"), output
    assert [node["name"] for node in checked["nodes"]] == ["ccc-1"]
    for part in secret_parts(user_of(kubeconfig)["token"]):
        assert part not in output


def test_check_mode_fetches_too(play):
    run = play([fetch("cc-arc", "rg-cc-arc", "cluster_connect")], "--check")
    (result,) = run.results
    assert not result.get("failed"), run.output
    assert result["kubeconfig"] and result["changed"] is False


def _resigned(sandbox, token, **changes):
    """The token with `changes` to its claims, signed by the emulator's Entra ID stand-in like the original."""
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return tokens.mint(ensure_pki(EmulatorPaths(sandbox.dir / "azure")), dict(claims, **changes))


@pytest.mark.parametrize("case", ["expired", "not for this cluster's audience"])
def test_a_token_the_cluster_refuses_fails_with_what_to_do(sandbox, play, tmp_path, case):
    (result,) = play([fetch("cc-arc", "rg-cc-arc", "cluster_connect")]).results
    config = yaml.safe_load(result["kubeconfig"])
    token = config["users"][0]["user"]["token"]
    past = int(time.time()) - 60
    refused = {
        # Expired a minute ago: the client sees it before sending, or the proxy answers 401 like kube-apiserver.
        "expired": _resigned(sandbox, token, iat=past - 3600, nbf=past - 3600, exp=past),
        # Valid for another hour but for ARM, not the Arc server application: only the proxy can tell.
        "not for this cluster's audience": _resigned(sandbox, token, aud=sandbox.env["AZURE_CLOUD_ENVIRONMENT"]),
    }[case]
    config["users"][0]["user"]["token"] = refused
    kubeconfig = tmp_path / "refused.yaml"
    kubeconfig.write_text(yaml.safe_dump(config))

    used = play([preflight(kubeconfig, fail_on_unmet=True)], "-vvvv")
    (checked,) = used.results
    assert checked.get("failed"), used.output
    assert "hci.arc_ml.cluster_credentials" in checked["msg"]
    if case == "expired":
        assert "expired" in checked["msg"]
    else:
        assert "rejected the credentials (HTTP 401 Unauthorized): they are wrong or have expired" in checked["msg"]
    for part in secret_parts(refused):
        assert part not in used.output


def test_refuses_without_no_log_before_asking_azure(sandbox, play):
    mark = sandbox.admin.last_seq()
    run = play([fetch("cc-arc", "rg-cc-arc", "cluster_connect", no_log=False)], "-vvvv")
    (result,) = run.results
    assert result["failed"] is True
    assert result["msg"] == NO_LOG_REFUSAL
    assert "kubeconfig" not in result
    assert [e for e in sandbox.admin.requests(since=mark) if "listClusterUserCredential" in e["path"]] == []


def test_site_yml_reaches_sites_without_a_kubeconfig_through_azure(sandbox, tmp_path, testbed_env):
    """The whole job, for hosts that have no arcml_kubeconfig: each fetches one through cluster connect."""
    inventory = yaml.safe_load(sandbox.inventory.read_text())
    for host in inventory["hci_clusters"]["hosts"].values():
        host.pop("arcml_kubeconfig", None)
        host.pop("arcml_kube_context", None)
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    site_yml = REPO / "playbooks" / "site.yml"
    env = {"PATH": testbed_env["PATH"]}

    first = run_playbook(site_yml, sandbox.env, tmp_path, "-i", str(path), "-vvvv", env=env)
    second = run_playbook(site_yml, sandbox.env, tmp_path, "-i", str(path), env=env)
    check = run_playbook(site_yml, sandbox.env, tmp_path, "-i", str(path), "--check", "--diff", env=env)

    assert first.rc == 0, first.output[-4000:]
    for run in (second, check):
        assert run.rc == 0, run.output[-4000:]
        for host in ("cc-aks", "cc-arc"):
            assert re.search(rf"{host}\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", run.output), run.output[
                -2000:
            ]
    for host in ("cc-aks", "cc-arc"):
        assert re.search(rf"{host}\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0", first.output)
    # Each site went through Azure: the emulator served a cluster-connect credential per site and run.
    credentials = [e for e in sandbox.admin.requests() if e["path"].endswith("/listClusterUserCredential")]
    assert {e["path"].split("/")[8] for e in credentials} >= {"cc-aks", "cc-arc"}
    tokens_issued = re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", first.output + second.output + check.output)
    assert tokens_issued == [], "a JWT reached the output"
