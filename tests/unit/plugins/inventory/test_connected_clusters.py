"""The connected_clusters inventory plugin: host variables, filters, host names, groups and cache, without Azure."""

import os
from types import SimpleNamespace

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins import inventory as ansible_inventory
from ansible.plugins.doc_fragments import constructed, inventory_cache
from ansible.utils.plugin_docs import merge_fragment
from ansible_collections.hci.arc_ml.plugins.doc_fragments import azure_auth
from ansible_collections.hci.arc_ml.plugins.inventory import connected_clusters as plugin_module
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import azure_auth_argument_spec
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

SUB = "0b8d3c5e-1111-4a4a-9c9c-000000000001"
OTHER_SUB = "0b8d3c5e-2222-4a4a-9c9c-000000000002"
SECRET = "s3cr3t-Value-That-Must-Not-Show"
NAME = "hci.arc_ml.connected_clusters"
FRAGMENTS = {
    "constructed": constructed.ModuleDocFragment,
    "inventory_cache": inventory_cache.ModuleDocFragment,
    "hci.arc_ml.azure_auth": azure_auth.ModuleDocFragment,
}


def documented_options():
    """The plugin's options merged with its doc fragments', as Ansible's plugin loader merges them."""
    doc = yaml.safe_load(plugin_module.DOCUMENTATION)
    assert doc["extends_documentation_fragment"] == list(FRAGMENTS)
    options = doc["options"]
    for fragment in FRAGMENTS.values():
        merge_fragment(options, yaml.safe_load(fragment.DOCUMENTATION)["options"])
    return options


def new_plugin():
    """The plugin with its option definitions registered, as the plugin loader would hand it out."""
    plugin = plugin_module.InventoryModule()
    plugin._load_name = plugin_module.__name__
    plugin.ansible_name = NAME
    C.config.initialize_plugin_configuration_definitions("inventory", plugin._load_name, documented_options())
    return plugin


def resource(name, group="rg-east", subscription=SUB, kind=None, status="Connected", location="eastus", tags=None):
    provider = "providers/Microsoft.Kubernetes/connectedClusters"
    body = {
        "id": f"/subscriptions/{subscription}/resourceGroups/{group}/{provider}/{name}",
        "name": name,
        "type": "microsoft.kubernetes/connectedclusters",
        "location": location,
        "tags": tags or {},
        "identity": {"type": "SystemAssigned", "principalId": "p"},
        "properties": {
            "agentPublicKeyCertificate": "MIIC",
            "connectivityStatus": status,
            "agentVersion": "1.26.0",
            "lastConnectivityTime": "2026-01-02T03:04:05Z",
            "distribution": "AKS",
            "infrastructure": "azure_stack_hci",
            "kubernetesVersion": "1.31.4",
            "totalNodeCount": 3,
            "provisioningState": "Succeeded",
        },
    }
    if kind:
        body["kind"] = kind
    return body


def clusters(*resources):
    return [plugin_module.host_vars(r) for r in resources]


# Host variables


def test_host_vars_of_a_connected_cluster():
    variables = plugin_module.host_vars(resource("hci-a", tags={"site": "seattle"}))
    assert variables == {
        "arcml_cluster_name": "hci-a",
        "arcml_resource_group": "rg-east",
        "arcml_subscription_id": SUB,
        "arcml_location": "eastus",
        "arcml_cluster_id": f"/subscriptions/{SUB}/resourceGroups/rg-east/providers/Microsoft.Kubernetes/"
        "connectedClusters/hci-a",
        "arcml_cluster_kind": "connected",
        "arcml_connectivity_status": "Connected",
        "arcml_agent_version": "1.26.0",
        "arcml_last_connectivity_time": "2026-01-02T03:04:05Z",
        "arcml_distribution": "AKS",
        "arcml_infrastructure": "azure_stack_hci",
        "arcml_kubernetes_version": "1.31.4",
        "arcml_total_node_count": 3,
        "arcml_provisioning_state": "Succeeded",
        "arcml_tags": {"site": "seattle"},
    }


def test_an_aks_arc_cluster_is_provisioned_and_nothing_of_its_key_or_identity_is_a_variable():
    variables = plugin_module.host_vars(resource("aks-1", kind="ProvisionedCluster"))
    assert variables["arcml_cluster_kind"] == "provisioned"
    assert "MIIC" not in repr(variables) and "principalId" not in repr(variables)


def test_a_cluster_azure_has_not_finished_describing_has_empty_variables():
    bare = {"id": f"/subscriptions/{SUB.upper()}/resourceGroups/RG-Case/providers/Microsoft.Kubernetes/"
                  "connectedClusters/new", "name": "new", "location": "westus2"}  # fmt: skip
    variables = plugin_module.host_vars(bare)
    assert variables["arcml_subscription_id"] == SUB and variables["arcml_resource_group"] == "RG-Case"
    assert variables["arcml_connectivity_status"] is None and variables["arcml_tags"] == {}


# Filters


def test_kinds_statuses_and_tags_select_clusters():
    fleet = clusters(
        resource("a", tags={"Workload": "ml"}),
        resource("b", kind="ProvisionedCluster", status="Offline", tags={"workload": "ml", "tier": "prod"}),
        resource("c", status="Connecting"),
    )

    def names(chosen):
        return [c["arcml_cluster_name"] for c in chosen]

    assert names(plugin_module.select(fleet, ["connected", "provisioned"], [], {})) == ["a", "b", "c"]
    assert names(plugin_module.select(fleet, ["provisioned"], [], {})) == ["b"]
    assert names(plugin_module.select(fleet, ["connected", "provisioned"], ["connected", "OFFLINE"], {})) == ["a", "b"]
    assert names(plugin_module.select(fleet, ["connected", "provisioned"], [], {"WORKLOAD": "ml"})) == ["a", "b"]
    assert names(plugin_module.select(fleet, ["connected", "provisioned"], [], {"workload": "ML"})) == []
    assert names(plugin_module.select(fleet, ["connected", "provisioned"], [], {"tier": None})) == ["b"]


# Host names


def test_names_are_the_cluster_names_when_they_are_unique():
    fleet = clusters(resource("a"), resource("b", group="rg-west"))
    assert plugin_module.unique_host_names(["a", "b"], fleet) == (["a", "b"], [])


def test_a_name_in_two_resource_groups_names_both_with_their_group_and_drops_neither():
    fleet = clusters(resource("site", group="RG-East"), resource("site", group="rg-west"), resource("other"))
    names, renamed = plugin_module.unique_host_names(["site", "site", "other"], fleet)
    assert names == ["site_rg-east", "site_rg-west", "other"]
    assert len(renamed) == 2 and all(" as site_rg-" in line for line in renamed)
    # The listing order does not change who gets which name.
    again = plugin_module.unique_host_names(["other", "site", "site"], [fleet[2], fleet[1], fleet[0]])[0]
    assert again == ["other", "site_rg-west", "site_rg-east"]


def test_the_same_group_and_name_in_two_subscriptions_adds_the_subscription():
    fleet = clusters(resource("site", subscription=SUB), resource("site", subscription=OTHER_SUB))
    names = plugin_module.unique_host_names(["site", "site"], fleet)[0]
    assert names == [f"site_rg-east_{SUB}", f"site_rg-east_{OTHER_SUB}"]


# Requests


def test_the_list_paths_are_the_subscription_or_each_resource_group():
    assert plugin_module.list_paths([SUB], []) == [
        f"/subscriptions/{SUB}/providers/Microsoft.Kubernetes/connectedClusters"
    ]
    assert plugin_module.list_paths([SUB, OTHER_SUB], ["rg-a"]) == [
        f"/subscriptions/{SUB}/resourceGroups/rg-a/providers/Microsoft.Kubernetes/connectedClusters",
        f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-a/providers/Microsoft.Kubernetes/connectedClusters",
    ]


def test_a_resource_group_name_azure_refuses_is_refused_before_any_request():
    with pytest.raises(ArcMLError, match=r"resource_group '\.\./x'"):
        plugin_module.list_paths([SUB], ["../x"])


class Plan:
    def __init__(self, subscription_id=None):
        self.subscription_id = subscription_id


def test_subscriptions_default_to_the_subscription_option_then_the_profile():
    assert plugin_module.subscriptions_of([], {"subscription_id": SUB.upper()}, Plan()) == [SUB]
    assert plugin_module.subscriptions_of([], {"subscription_id": None}, Plan(OTHER_SUB)) == [OTHER_SUB]
    assert plugin_module.subscriptions_of([SUB, SUB.upper(), OTHER_SUB], {}, Plan()) == [SUB, OTHER_SUB]
    with pytest.raises(ArcMLError, match="No subscription to list connected clusters in"):
        plugin_module.subscriptions_of([], {"subscription_id": None}, Plan())
    with pytest.raises(ArcMLError, match="not a subscription GUID"):
        plugin_module.subscriptions_of(["prod"], {}, Plan())


# The plugin in Ansible's inventory machinery (no request: the listing is replaced)


@pytest.fixture
def plugin(tmp_path):
    loaded = new_plugin()
    loaded.loader = DataLoader()
    loaded._vars = {}
    loaded.config_path = tmp_path / "fleet.connected_clusters.yml"
    return loaded


def populate(plugin, fleet, **options):
    """`options` read from an inventory file (whose templates Ansible trusts), then `fleet` added."""
    plugin.config_path.write_text(yaml.safe_dump({"plugin": NAME, **options}))
    plugin.inventory = InventoryData()
    plugin._read_config_data(str(plugin.config_path))
    plugin._populate(fleet)
    return plugin.inventory


def test_every_cluster_is_a_host_of_hci_clusters_with_its_variables(plugin):
    inventory = populate(plugin, clusters(resource("a"), resource("b", kind="ProvisionedCluster")))
    assert sorted(h.name for h in inventory.groups["hci_clusters"].get_hosts()) == ["a", "b"]
    assert inventory.get_host("b").vars["arcml_cluster_kind"] == "provisioned"
    assert inventory.get_host("a").vars["arcml_resource_group"] == "rg-east"


def test_keyed_groups_groups_and_compose(plugin):
    fleet = clusters(resource("a", location="eastus"), resource("b", location="westus2", kind="ProvisionedCluster"))
    inventory = populate(
        plugin,
        fleet,
        keyed_groups=[{"prefix": "location", "key": "arcml_location"}, {"prefix": "kind", "key": "arcml_cluster_kind"}],
        groups={"aks_arc": "arcml_cluster_kind == 'provisioned'"},
        compose={"arcml_kube_context": "arcml_cluster_name ~ '-ctx'"},
    )
    members = {name: sorted(h.name for h in group.get_hosts()) for name, group in inventory.groups.items()}
    assert members["location_eastus"] == ["a"] and members["location_westus2"] == ["b"]
    assert members["kind_connected"] == ["a"] and members["kind_provisioned"] == ["b"]
    assert members["aks_arc"] == ["b"]
    assert inventory.get_host("a").vars["arcml_kube_context"] == "a-ctx"


def test_filters_leave_hosts_out(plugin):
    fleet = clusters(resource("a"), resource("b", status="Offline"), resource("c", kind="ProvisionedCluster"))
    inventory = populate(plugin, fleet, kinds=["connected"], connectivity_statuses=["Connected"])
    assert [h.name for h in inventory.groups["hci_clusters"].get_hosts()] == ["a"]


def test_hostnames_expressions_then_the_cluster_name(plugin):
    fleet = clusters(resource("a", tags={"fqdn": "a.example"}), resource("b"))
    inventory = populate(plugin, fleet, hostnames=["arcml_tags.fqdn | default('')", "undefined_variable"])
    assert sorted(inventory.hosts) == ["a.example", "b"]
    with pytest.raises(Exception, match="undefined_variable"):
        populate(plugin, fleet, hostnames=["undefined_variable"], strict=True)


def test_clusters_sharing_a_name_are_both_hosts_with_a_warning(plugin, monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, "warning", warnings.append)
    inventory = populate(plugin, clusters(resource("site", group="rg-a"), resource("site", group="rg-b")))
    assert sorted(inventory.hosts) == ["site_rg-a", "site_rg-b"]
    assert inventory.get_host("site_rg-a").vars["arcml_cluster_name"] == "site"
    assert len(warnings) == 1 and "site_rg-b" in warnings[0]


@pytest.fixture
def config(tmp_path, monkeypatch):
    """An inventory file, a service principal in the environment, and the listing replaced by a counter."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "ARCML_", "ANSIBLE_AZURE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_TENANT", "tenant")
    monkeypatch.setenv("AZURE_SECRET", SECRET)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    calls = []

    def listed(params, plan, paths):
        calls.append(paths)
        return clusters(resource("a"))

    monkeypatch.setattr(plugin_module, "list_clusters", listed)
    # A cache that outlives each plugin instance, as a jsonfile cache outlives each ansible-inventory run (the
    # integration test uses the real one).
    shared_cache = {}
    monkeypatch.setattr(ansible_inventory, "get_cache_plugin", lambda name, **options: shared_cache)
    path = tmp_path / "fleet.connected_clusters.yml"

    def write(**options):
        path.write_text(yaml.safe_dump({"plugin": "hci.arc_ml.connected_clusters", **options}))
        return str(path)

    return SimpleNamespace(write=write, calls=calls)


def parse(path, cache=True):
    plugin = new_plugin()
    plugin.parse(InventoryData(), DataLoader(), path, cache=cache)
    return plugin


def test_only_connected_clusters_files_are_taken(config):
    plugin = new_plugin()
    assert plugin.verify_file(config.write())
    assert not plugin.verify_file(config.write().replace("connected_clusters.yml", "hosts.yml"))


def test_the_cache_answers_a_second_parse_without_listing(config):
    write, calls = config.write, config.calls
    path = write(cache=True)
    assert sorted(parse(path).inventory.hosts) == ["a"]
    assert sorted(parse(path).inventory.hosts) == ["a"]
    assert len(calls) == 1
    parse(path, cache=False)  # --flush-cache
    assert len(calls) == 2
    write(cache=True, resource_groups=["rg-east"])
    parse(path)  # other sources: the cached clusters are not theirs
    assert len(calls) == 3 and calls[-1] == plugin_module.list_paths([SUB], ["rg-east"])


def test_without_cache_every_parse_lists(config):
    write, calls = config.write, config.calls
    path = write()
    parse(path)
    parse(path)
    assert len(calls) == 2


def test_an_azure_error_is_one_line_without_the_secret(config, monkeypatch):
    write = config.write

    def failing(params, plan, paths):
        raise ArcMLError(f"Azure rejected the credentials: client secret {SECRET} is wrong.\nCheck it.")

    monkeypatch.setattr(plugin_module, "list_clusters", failing)
    with pytest.raises(AnsibleParserError) as raised:
        parse(write())
    message = str(raised.value)
    assert SECRET not in message and "\n" not in message.strip()
    assert "Azure rejected the credentials" in message and "connected_clusters.yml" in message


def test_the_environment_names_are_the_modules_fallbacks():
    """The plugin documents the same variables the modules' argument spec falls back to."""
    options = documented_options()
    for name, spec in azure_auth_argument_spec().items():
        if "fallback" in spec:
            assert [entry["name"] for entry in options[name].get("env", [])] == list(spec["fallback"][1]), name


def test_what_azure_holds_is_never_evaluated_as_a_template(plugin):
    fleet = clusters(resource("a", tags={"note": "{{ 6 * 7 }}"}))
    inventory = populate(plugin, fleet, compose={"arcml_note": "arcml_tags.note"})
    assert inventory.get_host("a").vars["arcml_note"] == "{{ 6 * 7 }}"


def test_a_host_name_from_azure_is_never_evaluated_as_a_template(plugin):
    fleet = clusters(resource("a", tags={"fqdn": "{{ 6 * 7 }}"}))
    inventory = populate(plugin, fleet, hostnames=["arcml_tags.fqdn"])
    assert list(inventory.hosts) == ["{{ 6 * 7 }}"]
