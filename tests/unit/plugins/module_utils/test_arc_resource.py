"""The ARM side of a connected cluster: bodies, the smallest write for a drift, and how results show it."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
ID = f"/subscriptions/{SUB}/resourceGroups/RG-Site/providers/Microsoft.Kubernetes/connectedClusters/site-1"
KEY = "MIICCgKCAgEAexisting==AwEAAQ=="


def existing(**properties):
    """A connected cluster as GET returns it, read-only fields included."""
    body = {
        "id": ID,
        "name": "site-1",
        "type": "microsoft.kubernetes/connectedclusters",
        "location": "eastus",
        "tags": {"site": "1"},
        "identity": {"type": "SystemAssigned", "principalId": "p-id", "tenantId": "t-id"},
        "systemData": {"createdBy": "someone"},
        "properties": {
            "agentPublicKeyCertificate": KEY,
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
            "provisioningState": "Succeeded",
            "connectivityStatus": "Connected",
            "kubernetesVersion": "1.31.8",
            "totalNodeCount": 3,
            "totalCoreCount": 12,
            "agentVersion": "1.26.0",
            "lastConnectivityTime": "2026-05-04T10:12:03Z",
            "azureHybridBenefit": "NotApplicable",
            "privateLinkState": "Disabled",
            "arcAgentProfile": {"agentAutoUpgrade": "Enabled", "agentState": "Succeeded", "agentErrors": []},
            "oidcIssuerProfile": {"enabled": True, "issuerUrl": "https://issuer"},
        },
    }
    body["properties"].update(properties)
    return body


def desired(**options):
    defaults = {"name": "site-1", "distribution": "aks_workload", "infrastructure": "azure_stack_hci"}
    return resource.Desired(**{**defaults, **options})


def test_paths_percent_encode_and_use_the_sdk_spelling():
    assert resource.cluster_path(SUB, "rg 1", "c/1") == (
        f"/subscriptions/{SUB}/resourceGroups/rg%201/providers/Microsoft.Kubernetes/connectedClusters/c%2F1"
    )
    assert resource.group_list_path(SUB, "rg").endswith(
        "/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters"
    )
    assert (
        resource.subscription_list_path(SUB) == f"/subscriptions/{SUB}/providers/Microsoft.Kubernetes/connectedClusters"
    )


def test_identity_of_an_id_is_lower_cased_and_tolerates_the_old_spelling():
    assert resource.identity_of_id(ID) == (SUB, "rg-site", "site-1")
    assert resource.identity_of_id(ID.replace("resourceGroups", "resourcegroups")) == (SUB, "rg-site", "site-1")
    assert resource.identity_of_id("/not/an/arm/id") is None


def test_a_new_body_is_what_the_cli_sends():
    body = resource.new_body(desired(tags={"a": 1}), "eastus", KEY)
    assert body == {
        "location": "eastus",
        "tags": {"a": "1"},
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "agentPublicKeyCertificate": KEY,
            "distribution": "aks_workload",
            "infrastructure": "azure_stack_hci",
        },
    }
    with_upgrade = resource.new_body(desired(agent_auto_upgrade=False), "eastus", KEY)
    assert with_upgrade["properties"]["arcAgentProfile"] == {"agentAutoUpgrade": "Disabled"}
    assert with_upgrade["tags"] == {}


def test_writable_drops_every_read_only_field_and_keeps_the_rest():
    body = resource.writable(existing())
    properties = body["properties"]
    for field in ("provisioningState", "connectivityStatus", "kubernetesVersion", "totalNodeCount", "agentVersion"):
        assert field not in properties
    assert properties["arcAgentProfile"] == {"agentAutoUpgrade": "Enabled"}
    assert properties["oidcIssuerProfile"] == {"enabled": True}
    assert properties["agentPublicKeyCertificate"] == KEY and properties["privateLinkState"] == "Disabled"
    assert body["identity"] == {"type": "SystemAssigned"}
    assert "systemData" not in body and "id" not in body


def test_nothing_to_do_when_everything_matches_case_aside():
    update = resource.plan_update(
        existing(distribution="AKS_Workload"), desired(tags={"site": "1"}, location="East US")
    )
    assert not update.needed and update.changes == [] and update.action is None


def test_tags_and_distribution_are_patched():
    update = resource.plan_update(existing(), desired(tags={"site": "2"}, distribution="generic"))
    assert update.changes == ["tags", "distribution"]
    assert update.patch == {"tags": {"site": "2"}, "properties": {"distribution": "generic"}}
    assert update.put is None
    assert update.action == "update connected cluster site-1 (tags, distribution)"
    assert update.after["tags"] == {"site": "2"} and update.after["properties"]["distribution"] == "generic"


def test_tags_left_out_are_left_alone():
    assert not resource.plan_update(existing(), desired()).needed


def policy_tagged(**tags):
    """A connected cluster that Azure Policy (or a person) gave tags of its own besides the task's `site`."""
    body = existing()
    body["tags"] = {"site": "1", "CostCenter": "4711", **tags}
    return body


def test_an_empty_tag_request_merged_changes_nothing_and_keeps_foreign_tags():
    update = resource.plan_update(policy_tagged(), desired(tags={}))
    assert not update.needed and update.after["tags"] == {"site": "1", "CostCenter": "4711"}


def test_a_tag_change_is_a_patch_of_the_whole_merged_set():
    # PATCH replaces the tag set, so it carries the foreign tags too, or it would remove them.
    update = resource.plan_update(policy_tagged(), desired(tags={"site": "2"}))
    assert update.patch == {"tags": {"site": "2", "CostCenter": "4711"}}
    assert update.changes == ["tags"] and update.put is None


def test_replacing_tags_patches_exactly_the_requested_set():
    update = resource.plan_update(policy_tagged(), desired(tags={"site": "1"}, append_tags=False))
    assert update.patch == {"tags": {"site": "1"}}
    assert update.after["tags"] == {"site": "1"}
    assert resource.plan_update(policy_tagged(), desired(tags={}, append_tags=False)).patch == {"tags": {}}


def test_a_tag_name_in_another_case_updates_the_existing_tag():
    update = resource.plan_update(policy_tagged(), desired(tags={"costcenter": "0815"}))
    assert update.patch == {"tags": {"site": "1", "CostCenter": "0815"}}
    assert not resource.plan_update(policy_tagged(), desired(tags={"COSTCENTER": "4711"})).needed


def test_a_re_put_for_another_change_carries_the_merged_tags():
    update = resource.plan_update(policy_tagged(), desired(tags={"site": "2"}, infrastructure="generic"))
    assert update.put["tags"] == {"site": "2", "CostCenter": "4711"}
    untagged = resource.plan_update(policy_tagged(), desired(infrastructure="generic"))
    assert untagged.changes == ["infrastructure"]
    assert untagged.put["tags"] == {"site": "1", "CostCenter": "4711"}
    replaced = resource.plan_update(policy_tagged(), desired(tags={}, append_tags=False, infrastructure="generic"))
    assert replaced.put["tags"] == {}


def test_what_patch_cannot_change_is_a_re_put_that_keeps_the_public_key_and_tags():
    update = resource.plan_update(
        existing(), desired(infrastructure="generic", agent_auto_upgrade=False, tags={"n": "1"})
    )
    assert update.changes == ["tags", "infrastructure", "agentAutoUpgrade"]
    assert update.patch is None
    assert update.action == "replace connected cluster site-1 (tags, infrastructure, agentAutoUpgrade)"
    assert update.put["properties"]["agentPublicKeyCertificate"] == KEY
    assert update.put["properties"]["infrastructure"] == "generic"
    assert update.put["properties"]["arcAgentProfile"] == {"agentAutoUpgrade": "Disabled"}
    assert update.put["tags"] == {"site": "1", "n": "1"}  # merged: the re-PUT keeps the tags it was not told about
    assert "connectivityStatus" not in update.put["properties"]


def test_a_missing_agent_profile_counts_as_the_default_enabled():
    current = existing()
    del current["properties"]["arcAgentProfile"]
    assert not resource.plan_update(current, desired(agent_auto_upgrade=True)).needed
    assert resource.plan_update(current, desired(agent_auto_upgrade=False)).changes == ["agentAutoUpgrade"]


def test_a_new_public_key_is_always_a_re_put():
    update = resource.plan_update(existing(), desired(), public_key_certificate="MIICCgNEW")
    assert update.changes == ["agentPublicKeyCertificate"]
    assert update.put["properties"]["agentPublicKeyCertificate"] == "MIICCgNEW"
    assert update.after["properties"]["agentPublicKeyCertificate"] == "MIICCgNEW"
    assert not resource.plan_update(existing(), desired(), public_key_certificate=KEY).needed


def test_a_new_cluster_is_one_put_of_the_new_body():
    write = resource.plan_create(desired(tags={"a": "1"}), "eastus", KEY, ID)
    assert write.put == resource.new_body(desired(tags={"a": "1"}), "eastus", KEY)
    assert write.patch is None and write.needed
    assert write.after == dict(write.put, id=ID, name="site-1")
    assert write.action == "create connected cluster site-1"


def test_a_connected_cluster_cannot_move():
    with pytest.raises(ArcMLError, match=r"is in location eastus, not westus2: a connected cluster cannot move"):
        resource.plan_update(existing(), desired(location="westus2"))


def test_provisioned_and_connected():
    assert resource.is_provisioned({"kind": "ProvisionedCluster"})
    assert resource.is_provisioned({"kind": "provisionedcluster"})
    assert not resource.is_provisioned(existing()) and not resource.is_provisioned(None)
    assert resource.is_connected(existing())
    assert not resource.is_connected(existing(connectivityStatus="Offline")) and not resource.is_connected(None)


def test_the_summary_is_snake_case_and_the_diff_view_what_a_put_would_send():
    summary = resource.summary(existing())
    assert summary["resource_group"] == "RG-Site" and summary["subscription_id"] == SUB
    assert summary["connectivity_status"] == "Connected" and summary["agent_version"] == "1.26.0"
    assert summary["agent_auto_upgrade"] == "Enabled" and summary["platform_managed"] is False
    assert summary["identity_principal_id"] == "p-id"
    assert resource.summary(None) == {} and resource.diff_view(None) == {}
    view = resource.diff_view(existing())
    assert view["id"] == ID and view["name"] == "site-1"
    assert "connectivityStatus" not in view["properties"]


@pytest.mark.parametrize(
    ("name", "group"),
    [("hci-seattle", "rg-hci"), ("a", "r"), ("site_01", "rg.(prod)_1"), ("x" * 63, "g" * 90)],
)
def test_names_azure_accepts_pass(name, group):
    resource.check_names(name, group)


@pytest.mark.parametrize(
    ("name", "group", "fragment"),
    [
        ("bad_name!", "rg", "cluster name 'bad_name!'"),
        ("a" * 64, "rg", "cluster name"),
        ("-lead", "rg", "cluster name"),
        ("trail_", "rg", "cluster name"),
        ("", "rg", "cluster name"),
        ("ok", "ends.", "resource group 'ends.'"),
        ("ok", "g" * 91, "resource group"),
        ("ok", "has space", "resource group"),
    ],
)
def test_names_azure_refuses_fail_before_any_request(name, group, fragment):
    with pytest.raises(resource.InvalidNameError, match="Nothing was sent") as failed:
        resource.check_names(name, group)
    assert fragment in str(failed.value)


PROTECTED = [
    {"feature": "logging", "settings": {"container_log_path": "/var/log"}, "protectedSettings": {"token": ""}},
    {"feature": "extensionSets", "settings": {"versionManagedExtensions": "Disabled"}},
]


def test_a_re_put_that_would_erase_protected_settings_azure_holds_is_refused():
    # GET names the protected settings without their values: a PUT built from it cannot send them back.
    current = existing(arcAgentryConfigurations=PROTECTED)
    with pytest.raises(ArcMLError) as raised:
        resource.plan_update(current, resource.Desired(name="site-1", agent_auto_upgrade=False))
    assert "protected settings" in raised.value.message and "'logging'" in raised.value.message
    assert raised.value.details == {"protected_features": ["logging"]}
    # What PATCH can carry still goes through: PATCH leaves arcAgentryConfigurations alone.
    write = resource.plan_update(current, resource.Desired(name="site-1", tags={"site": "2"}))
    assert write.patch == {"tags": {"site": "2"}} and write.put is None


def test_a_re_put_never_echoes_the_blank_protected_settings_of_a_get():
    current = existing(arcAgentryConfigurations=[{"feature": "logging", "settings": {}, "protectedSettings": {}}])
    write = resource.plan_update(current, resource.Desired(name="site-1", agent_auto_upgrade=False))
    assert write.put["properties"]["arcAgentryConfigurations"] == [{"feature": "logging", "settings": {}}]
    assert write.put["properties"]["arcAgentProfile"] == {"agentAutoUpgrade": "Disabled"}


def test_the_proxy_feature_is_recorded_as_az_connectedk8s_update_records_it():
    current = existing(arcAgentryConfigurations=PROTECTED[1:])
    proxy = [resource.agentry_configuration(resource.PROXY_FEATURE)]
    write = resource.plan_update(current, resource.Desired(name="site-1"), configurations=proxy)
    assert write.changes == ["arcAgentryConfigurations"] and write.patch is None
    assert write.put["properties"]["arcAgentryConfigurations"] == [
        {"feature": "extensionSets", "settings": {"versionManagedExtensions": "Disabled"}},
        {"feature": "proxy", "settings": {}},
    ]
    assert write.action == "replace connected cluster site-1 (arcAgentryConfigurations)"
    # Recorded already: nothing to write. A proxy feature holding protected settings is the one replaced.
    again = existing(arcAgentryConfigurations=write.put["properties"]["arcAgentryConfigurations"])
    assert not resource.plan_update(again, resource.Desired(name="site-1"), configurations=proxy).needed
    held = existing(
        arcAgentryConfigurations=[
            {"feature": "proxy", "settings": {"x": "1"}, "protectedSettings": {"https_proxy": ""}}
        ]
    )
    replaced = resource.plan_update(held, resource.Desired(name="site-1"), configurations=proxy)
    assert replaced.put["properties"]["arcAgentryConfigurations"] == [{"feature": "proxy", "settings": {}}]


# Names that would change the request path: dot segments (percent-encoding does not help, servers normalise
# %2E%2E), a final newline ('$' with re.match lets it through), '#', '?', '/', and too long.
def path_breakers(valid, max_length):
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", valid + "/b", "a" * (max_length + 1)]


@pytest.mark.parametrize("name", path_breakers("site-1", 63))
def test_a_cluster_name_that_would_change_the_path_is_refused(name):
    with pytest.raises(resource.InvalidNameError, match="Nothing was sent") as failed:
        resource.check_names(name, "rg-site")
    assert f"cluster name {name!r} is not a valid cluster name" in str(failed.value)
    assert "\n" not in str(failed.value)


@pytest.mark.parametrize("group", path_breakers("rg-site", 90))
def test_a_resource_group_that_would_change_the_path_is_refused(group):
    with pytest.raises(resource.InvalidNameError, match="Nothing was sent") as failed:
        resource.check_names("site-1", group)
    assert f"resource group {group!r} is not a valid resource group name" in str(failed.value)


@pytest.mark.parametrize("location", [*path_breakers("eastus", 64), "east  us"])
def test_a_location_that_would_change_the_data_plane_url_is_refused(location):
    # The location names the host of the regional config data plane (https://<location>.dp.kubernetesconfiguration...).
    with pytest.raises(resource.InvalidNameError, match="Nothing was sent") as failed:
        resource.check_names("site-1", "rg-site", location)
    assert f"location {location!r} is not a valid Azure location" in str(failed.value)
    with pytest.raises(resource.InvalidNameError):
        resource.Desired(name="site-1", location=location)


@pytest.mark.parametrize("location", ["eastus", "East US", "westeurope", "usgovvirginia"])
def test_locations_azure_has_pass(location):
    resource.check_names("site-1", "rg-site", location)
    assert resource.Desired(name="site-1", location=location).location == location


@pytest.mark.parametrize(
    ("option", "values"),
    [
        ("name", {"name": "site-1\n"}),
        ("resource_group", {"resource_group": ".."}),
        ("subscription_id", {"subscription_id": SUB + "\n"}),
    ],
)
def test_the_info_names_are_checked_before_the_read(option, values):
    names = {"subscription_id": SUB, "name": "site-1", "resource_group": "rg-site", **values}
    with pytest.raises(resource.InvalidNameError, match="Nothing was sent") as failed:
        resource.check_info_names(names["subscription_id"], names["name"], names["resource_group"])
    assert f"{option} {values[option]!r}" in str(failed.value)
    with pytest.raises(resource.InvalidNameError):
        resource.cluster_path(SUB + "\n", "rg-site", "site-1")
