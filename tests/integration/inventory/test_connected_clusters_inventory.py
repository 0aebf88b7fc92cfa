"""The connected_clusters inventory plugin against the Azure emulator, through ansible-inventory and ansible-playbook.

The emulator serves its lists two clusters a page, so listing five clusters follows nextLink twice.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from inventory_fleet import EAST, WEST
from playbook_runner import PLAYBOOK_TIMEOUT, playbook_env, run_playbook

pytestmark = pytest.mark.sandbox

ANSIBLE_INVENTORY = Path(sys.executable).with_name("ansible-inventory")
REPO = Path(__file__).resolve().parents[3]
PLUGIN = "hci.arc_ml.connected_clusters"
CLUSTERS = "providers/Microsoft.Kubernetes/connectedClusters"
ALL_HOSTS = {"aks-east-1", "hci-east-1", f"hci-edge_{EAST}", f"hci-edge_{WEST}", "hci-west-1"}
# A bearer token or any JWT: three base64url parts, the first a JSON header.
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


@pytest.fixture(autouse=True)
def pages_of_two(fleet):
    fleet.admin.settings(list_page_size=2)


def inventory_file(tmp_path, name="fleet", **options):
    path = tmp_path / f"{name}.connected_clusters.yml"
    path.write_text(yaml.safe_dump({"plugin": PLUGIN, **options}))
    return path


def ansible_inventory(fleet, tmp_path, path, *args, env=None):
    completed = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(path), "--list", *args],
        env=playbook_env(fleet.env, tmp_path, env), cwd=tmp_path, capture_output=True, text=True,
        timeout=PLAYBOOK_TIMEOUT, check=False,
    )  # fmt: skip
    return completed


def listed(completed):
    """ansible-inventory's JSON, with the values it marks as unsafe (all that came from Azure) as plain values."""
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout, object_hook=plain)


def plain(mapping):
    return mapping["__ansible_unsafe"] if set(mapping) == {"__ansible_unsafe"} else mapping


def members(inventory, group):
    return set(inventory.get(group, {}).get("hosts", []))


def assert_no_secret(fleet, text):
    shown = [secret[:4] + "..." for secret in fleet.secrets if secret in text]
    assert not shown, f"secrets in the output: {shown}"
    assert not JWT.search(text), "a token in the output"


def test_every_cluster_is_a_host_with_its_variables_groups_and_composed_vars(fleet, tmp_path):
    path = inventory_file(
        tmp_path,
        keyed_groups=[{"prefix": "location", "key": "arcml_location"}, {"prefix": "kind", "key": "arcml_cluster_kind"}],
        groups={"offline": "arcml_connectivity_status == 'Offline'"},
        compose={"arcml_kube_context": "arcml_resource_group ~ '/' ~ arcml_cluster_name"},
    )
    seq = fleet.admin.last_seq()
    inventory = listed(ansible_inventory(fleet, tmp_path, path))

    assert members(inventory, "hci_clusters") == ALL_HOSTS
    assert members(inventory, "location_eastus") == {"aks-east-1", "hci-east-1", f"hci-edge_{EAST}"}
    assert members(inventory, "location_westus2") == {f"hci-edge_{WEST}", "hci-west-1"}
    assert members(inventory, "kind_provisioned") == {"aks-east-1"}
    assert members(inventory, "kind_connected") == ALL_HOSTS - {"aks-east-1"}
    assert members(inventory, "offline") == {f"hci-edge_{WEST}"}

    hostvars = inventory["_meta"]["hostvars"]
    edge = hostvars[f"hci-edge_{WEST}"]
    assert edge["arcml_cluster_name"] == "hci-edge" and edge["arcml_resource_group"] == WEST
    assert edge["arcml_cluster_id"].endswith(f"/resourceGroups/{WEST}/{CLUSTERS}/hci-edge")
    assert edge["arcml_subscription_id"] == fleet.env["AZURE_SUBSCRIPTION_ID"].lower()
    assert edge["arcml_kube_context"] == f"{WEST}/hci-edge"
    assert edge["arcml_tags"] == {"workload": "ml"}
    aks = hostvars["aks-east-1"]
    assert aks["arcml_cluster_kind"] == "provisioned" and aks["arcml_connectivity_status"] == "Connected"
    assert aks["arcml_agent_version"] and aks["arcml_last_connectivity_time"] and aks["arcml_distribution"] == "AKS"
    assert hostvars["hci-east-1"]["arcml_agent_version"] == "1.26.0"
    assert hostvars["hci-west-1"]["arcml_connectivity_status"] == "Connecting"

    pages = fleet.list_pages_since(seq)
    assert len(pages) == 3, pages  # five clusters, two a page: the first page and two nextLinks
    assert "$skiptoken" not in pages[0][1] and all("$skiptoken" in query for _, query in pages[1:])


def test_resource_groups_and_filters_choose_the_clusters(fleet, tmp_path):
    seq = fleet.admin.last_seq()
    path = inventory_file(tmp_path, resource_groups=[WEST], connectivity_statuses=["Connecting", "Connected"])
    assert members(listed(ansible_inventory(fleet, tmp_path, path)), "hci_clusters") == {"hci-west-1"}
    assert {p for p, _ in fleet.list_pages_since(seq)} == {
        f"/subscriptions/{fleet.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{WEST}/{CLUSTERS}"
    }
    path = inventory_file(tmp_path, kinds=["connected"], tags={"workload": "ml", "tier": None})
    assert members(listed(ansible_inventory(fleet, tmp_path, path)), "hci_clusters") == {"hci-west-1"}


def test_a_resource_group_that_does_not_exist_fails_the_source(fleet, tmp_path):
    path = inventory_file(tmp_path, resource_groups=["rg-inv-missing"])
    completed = ansible_inventory(fleet, tmp_path, path, env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert completed.returncode != 0
    assert "ResourceGroupNotFound" in completed.stderr and "rg-inv-missing" in completed.stderr


def test_the_cache_answers_the_second_run_without_any_request(fleet, tmp_path):
    path = inventory_file(
        tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache")
    )
    first = listed(ansible_inventory(fleet, tmp_path, path))
    seq = fleet.admin.last_seq()
    second = listed(ansible_inventory(fleet, tmp_path, path))
    assert fleet.admin.requests(since=seq) == []  # no sign-in, no metadata, no list
    assert second == first and members(second, "hci_clusters") == ALL_HOSTS
    cached = "\n".join(p.read_text() for p in (tmp_path / "cache").iterdir())
    assert_no_secret(fleet, cached)

    seq = fleet.admin.last_seq()
    listed(ansible_inventory(fleet, tmp_path, path, "--flush-cache"))
    assert len(fleet.list_pages_since(seq)) == 3


def test_a_playbook_on_hci_clusters_reads_each_cluster_from_azure_and_shows_no_secret(fleet, tmp_path):
    path = inventory_file(tmp_path)
    playbook = tmp_path / "fleet.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Every cluster of the fleet",
        "hosts": "hci_clusters",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "Read the cluster", "hci.arc_ml.connected_cluster_info": {
                "name": "{{ arcml_cluster_name }}", "resource_group": "{{ arcml_resource_group }}"},
             "register": "read"},
            {"name": "The inventory names the cluster Azure holds", "ansible.builtin.assert": {"that": [
                "read.connected_clusters | length == 1",
                "read.connected_clusters[0].id == arcml_cluster_id",
                "read.connected_clusters[0].connectivity_status == arcml_connectivity_status"]}},
        ],
    }]))  # fmt: skip
    run = run_playbook(playbook, fleet.env, tmp_path, "-i", str(path), "-vvvv")
    assert run.rc == 0, run.output[-3000:]
    for host in ALL_HOSTS:
        assert re.search(rf"^{re.escape(host)}\s+: ok=2 .*failed=0", run.output, re.MULTILINE), host
    assert_no_secret(fleet, run.output)


def test_a_secret_in_the_inventory_file_never_shows_even_when_azure_rejects_it(fleet, tmp_path):
    wrong = "Wr0ng-Client-Secret-For-The-Scan"
    path = inventory_file(
        tmp_path, auth_source="parameters", client_id=fleet.env["AZURE_CLIENT_ID"],
        tenant=fleet.env["AZURE_TENANT_ID"], secret=wrong,
    )  # fmt: skip
    completed = ansible_inventory(fleet, tmp_path, path, "-vvvv", env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "Azure rejected the credentials" in output and "AADSTS7000215" in output
    assert wrong not in output
    assert_no_secret(fleet, output)

    path = inventory_file(
        tmp_path, auth_source="parameters", client_id=fleet.env["AZURE_CLIENT_ID"],
        tenant=fleet.env["AZURE_TENANT_ID"], secret=fleet.env["AZURE_CLIENT_SECRET"],
    )  # fmt: skip
    written = tmp_path / "inventory.json"
    completed = ansible_inventory(fleet, tmp_path, path, "-vvvv", "--output", str(written))
    assert completed.returncode == 0, completed.stderr
    assert members(json.loads(written.read_text()), "hci_clusters") == ALL_HOSTS
    assert_no_secret(fleet, completed.stdout + completed.stderr + written.read_text())


def test_the_example_inventory_takes_the_connected_clusters(fleet, tmp_path):
    example = yaml.safe_load((REPO / "playbooks" / "inventory" / "azure.connected_clusters.yml").read_text())
    example["cache_connection"] = str(tmp_path / "cache")
    inventory = listed(ansible_inventory(fleet, tmp_path, inventory_file(tmp_path, name="azure", **example)))
    # The offline hci-edge is left out, so the connected one keeps its plain name.
    assert members(inventory, "hci_clusters") == {"aks-east-1", "hci-east-1", "hci-edge"}
    assert members(inventory, "kind_provisioned") == {"aks-east-1"}
    assert members(inventory, "location_eastus") == {"aks-east-1", "hci-east-1", "hci-edge"}
