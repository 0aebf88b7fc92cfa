"""The Azure Relay the Azure ML extension uses: names as az derives them, found with reads, created when missing,
its keys read (listKeys) only when asked for."""

import hashlib

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import (
    RelayTarget,
    check_relay_names,
    default_namespace,
    ensure_relay,
    read_connection_string,
    valid_name,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

SUB = "22b4a233-756b-403b-a5e1-fd3368f5689a"
KEYS = {
    "primaryConnectionString": "Endpoint=sb://ns/;SharedAccessKeyName=azureml_rw;SharedAccessKey=PRIMARY;EntityPath=c",
    "secondaryConnectionString": "Endpoint=sb://ns/;SharedAccessKeyName=azureml_rw;SharedAccessKey=SECONDARY",
    "primaryKey": "PRIMARY",
    "secondaryKey": "SECONDARY",
}


class FakeArm:
    """ARM for Relay paths: `existing` paths exist; records every call."""

    def __init__(self, existing=()):
        self.existing = set(existing)
        self.calls = []

    def _not_found(self, method, path):
        return AzureApiError(method, path, 404, "NotFound", "not found")

    def post(self, path, api_version, body=None):
        self.calls.append(("POST", path))
        if path.removesuffix("/listKeys") not in self.existing:
            raise self._not_found("POST", path)
        return dict(KEYS)

    def get_or_none(self, path, api_version, check_mode=False):
        """As ArmClient.get_or_none: None for a 404, the resource otherwise."""
        self.calls.append(("GET", path))
        return {"id": path} if path in self.existing else None

    def put(self, path, api_version, body, waiter=None, final_state_via=None):
        self.calls.append(("PUT", path, body, waiter))
        self.existing.add(path)
        return {"id": path}


@pytest.fixture
def target():
    return RelayTarget(SUB, "rg", "ns1", "cluster1")


def all_paths(target):
    return {target.namespace_path, target.hybrid_connection_path, target.rule_path}


def test_short_names_keep_their_letters_and_digits():
    assert valid_name("my-cluster_1") == "mycluster1"


def test_long_names_are_shortened_with_the_md5_of_the_original():
    text = f"cluster-{SUB}-rg-with-a-long-name-relay"
    name = valid_name(text)
    normalized = "".join(c for c in text if c.isalnum())
    assert len(name) == 50
    assert name == normalized[:44] + hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:6]


def test_default_namespace_is_az_s():
    assert default_namespace("ext-small", SUB, "rg-ext") == "extsmall22b4a233756b403ba5e1fd3368f5689argextrelay"


def test_a_name_without_letters_or_digits_is_an_error():
    with pytest.raises(ArcMLError, match=r"relay\.namespace"):
        valid_name("---")


def test_a_found_relay_costs_one_get_of_its_rule_and_no_key(target):
    arm = FakeArm(all_paths(target))
    relay = ensure_relay(arm, target, "eastus")
    assert arm.calls == [("GET", target.rule_path)]
    assert relay.created == []
    assert relay.result()["hybrid_connection_id"] == target.hybrid_connection_id


def test_the_connection_string_is_read_with_listkeys_and_its_keys_protected_at_once(target):
    arm = FakeArm(all_paths(target))
    protected = []
    assert read_connection_string(arm, target, protect=protected.extend) == KEYS["primaryConnectionString"]
    assert arm.calls == [("POST", target.rule_path + "/listKeys")]
    assert set(protected) == set(KEYS.values())


def test_keys_missing_after_the_relay_was_found_are_one_line_saying_to_re_run(target):
    with pytest.raises(ArcMLError, match=r"azureml_rw on hybrid connection .* was found, but its keys could not be "):
        read_connection_string(FakeArm(), target, protect=list)


def test_missing_relay_is_created_in_order_and_no_key_is_read(target):
    arm = FakeArm()
    waiter = object()
    relay = ensure_relay(arm, target, "eastus", waiter=waiter)
    # The rule, then its namespace: both missing, everything is created.
    assert [call[:2] for call in arm.calls if call[0] == "GET"] == [
        ("GET", target.rule_path),
        ("GET", target.namespace_path),
    ]
    writes = [call for call in arm.calls if call[0] == "PUT"]
    assert [call[1] for call in writes] == [target.namespace_path, target.hybrid_connection_path, target.rule_path]
    assert writes[0][2] == {"location": "eastus", "tags": {"created_by": "Azure Arc-enabled ML"}}
    assert writes[0][3] is waiter
    assert writes[1][2] == {"properties": {"requiresClientAuthorization": True}}
    assert writes[2][2] == {"properties": {"rights": ["Manage", "Send", "Listen"]}}
    assert not [call for call in arm.calls if call[0] == "POST"]
    assert relay.created == ["namespace ns1", "hybrid connection cluster1", "authorization rule azureml_rw"]


def test_an_existing_namespace_is_not_written(target):
    arm = FakeArm({target.namespace_path})
    relay = ensure_relay(arm, target, "eastus")
    assert [call[1] for call in arm.calls if call[0] == "PUT"] == [target.hybrid_connection_path, target.rule_path]
    assert relay.created == ["hybrid connection cluster1", "authorization rule azureml_rw"]


def test_a_missing_rule_alone_is_found_with_three_reads_and_created_alone(target):
    arm = FakeArm({target.namespace_path, target.hybrid_connection_path})
    relay = ensure_relay(arm, target, "eastus")
    assert [call[:2] for call in arm.calls] == [
        ("GET", target.rule_path),
        ("GET", target.namespace_path),
        ("GET", target.hybrid_connection_path),
        ("PUT", target.rule_path),
    ]
    assert relay.created == ["authorization rule azureml_rw"]


def test_check_mode_reports_what_it_would_create_and_only_reads(target):
    arm = FakeArm({target.namespace_path})
    relay = ensure_relay(arm, target, "eastus", check_mode=True)
    assert {call[0] for call in arm.calls} == {"GET"}
    assert relay.created == ["hybrid connection cluster1", "authorization rule azureml_rw"]


def test_create_false_names_what_is_missing(target):
    with pytest.raises(ArcMLError, match=r"hybrid connection cluster1, authorization rule azureml_rw not found"):
        ensure_relay(FakeArm({target.namespace_path}), target, "eastus", create=False)


class Forbidden(FakeArm):
    """A caller without the Relay's read or listKeys permission."""

    def get_or_none(self, path, api_version, check_mode=False):
        raise AzureApiError("GET", path, 403, "AuthorizationFailed", "no")

    def post(self, path, api_version, body=None):
        raise AzureApiError("POST", path, 403, "AuthorizationFailed", "no")


def test_other_errors_are_not_taken_for_absence(target):
    with pytest.raises(AzureApiError):
        ensure_relay(Forbidden(), target, "eastus")
    with pytest.raises(AzureApiError):
        read_connection_string(Forbidden(), target, protect=list)


def test_hybrid_connection_id(target):
    assert target.hybrid_connection_id == (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Relay/namespaces/ns1/hybridConnections/cluster1"
    )


def path_breakers(valid, max_length):
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", valid + "/b", "a" * (max_length + 1)]


RELAY_OPTIONS = {
    "resource_group": ("relay.resource_group", "rg-relay", 90),
    "namespace": ("relay.namespace", "hciseattle-relay", 50),
    "hybrid_connection": ("relay.hybrid_connection", "hci-seattle", 50),
    "rule": ("relay.authorization_rule", "azureml_rw", 50),
}


@pytest.mark.parametrize(
    ("key", "value"),
    [(key, value) for key, (_option, valid, top) in RELAY_OPTIONS.items() for value in path_breakers(valid, top)],
)
def test_a_relay_name_that_would_change_the_request_path_is_refused_before_any_request(key, value):
    names = {k: valid for k, (_option, valid, _top) in RELAY_OPTIONS.items()}
    check_relay_names(**names)
    names[key] = value
    with pytest.raises(ArcMLError, match="Nothing was sent to Azure") as failed:
        check_relay_names(**names)
    assert f"{RELAY_OPTIONS[key][0]} {value!r} is not a valid" in str(failed.value)
    target = RelayTarget(SUB, names["resource_group"], names["namespace"], names["hybrid_connection"], names["rule"])
    arm = FakeArm()
    with pytest.raises(ArcMLError, match="Nothing was sent to Azure"):
        ensure_relay(arm, target.check(), "eastus")
    assert arm.calls == []


def test_a_relay_namespace_shorter_than_the_spec_allows_is_refused():
    # namespaceName: minLength 6 (Relay spec); az's derived names are always longer.
    with pytest.raises(ArcMLError, match=r"relay.namespace 'ns1' is not a valid Azure Relay namespace name: 6-50"):
        check_relay_names(namespace="ns1")
    check_relay_names(namespace=default_namespace("c1", SUB, "rg"))
