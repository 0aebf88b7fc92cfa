"""The sites file parser accepts the documented shape and rejects everything else clearly."""

from pathlib import Path

import pytest
import yaml

from sandbox import outputs, sites

DEMO = Path(__file__).resolve().parents[3] / "sandbox" / "sites" / "demo.yml"


def minimal(**site):
    base = {"name": "s1", "location": "eastus", "resource_group": "rg1", "nodes": [{"name": "n1"}]}
    return {"workspace": {"name": "ws", "resource_group": "rg-ml", "location": "eastus"}, "sites": [{**base, **site}]}


def test_demo_has_three_sites_one_with_windows_nodes():
    demo = sites.load(DEMO)
    assert len(demo.sites) == 3
    with_windows = [s.name for s in demo.sites if any(n.os == "windows" for n in s.nodes)]
    assert len(with_windows) == 1
    assert demo.workspace.name


def test_defaults_fill_a_linux_amd64_node():
    parsed = sites.parse(minimal())
    node = parsed.sites[0].nodes[0]
    assert (node.os, node.arch, node.cpu, node.memory) == ("linux", "amd64", "4", "16Gi")
    assert parsed.sites[0].kind == "connected" and not parsed.sites[0].provisioned


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sites": []}, "workspace: missing name"),
        (minimal(name="Bad_Name"), "lower-case"),
        (minimal(kind="aks"), "kind must be one of"),
        (minimal(nodes=[]), "at least one node"),
        (minimal(nodes=[{"name": "n", "gpu": 1}]), "unknown keys"),
        (minimal(nodes=[{"name": "n", "taints": [{"key": "k"}]}]), "needs an effect"),
        (minimal(nodes=[{"name": "n"}, {"name": "n"}]), "used twice"),
        ({**minimal(), "extra": 1}, "unknown top-level keys"),
    ],
)
def test_bad_sites_files_fail_with_the_reason(data, message):
    with pytest.raises(sites.SitesError, match=message):
        sites.parse(data)


def test_duplicate_site_names_are_refused():
    data = minimal()
    data["sites"].append(dict(data["sites"][0]))
    with pytest.raises(sites.SitesError, match="listed twice"):
        sites.parse(data)


def test_inventory_has_one_host_per_site_with_what_site_yml_needs(tmp_path):
    demo = sites.load(DEMO)
    contexts = {s.name: f"admin@{s.name}" for s in demo.sites}
    path = outputs.write_inventory(demo, tmp_path, contexts)
    inventory = yaml.safe_load(path.read_text())
    group = inventory["hci_clusters"]
    assert set(group["hosts"]) == {s.name for s in demo.sites}
    host = group["hosts"][demo.sites[0].name]
    assert host["arcml_kubeconfig"] == str(tmp_path / f"kubeconfig-{demo.sites[0].name}.yaml")
    assert host["arcml_resource_group"] == demo.sites[0].resource_group
    assert group["vars"]["arcml_workspace_name"] == demo.workspace.name
    assert group["vars"]["ansible_connection"] == "local"


def test_env_file_is_private_and_quotes_values(tmp_path):
    path = outputs.write_env(tmp_path, {"AZURE_SECRET": "a b'c", "AZURE_TENANT": "t"}, "/opt/bin")
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "export AZURE_SECRET='a b'\"'\"'c'" in text
    assert 'export PATH=/opt/bin:"$PATH"' in text
