"""Every name that reaches an ARM request path: the shared rules, matched whole, each with its spec's bounds."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as rid


def bad_values(valid, max_length):
    """What must never reach a request path: dot segments, a final newline, '#', '?', '/', and too long."""
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", valid + "/b", "a" * (max_length + 1)]


RULES = [
    (rid.SUBSCRIPTION_ID, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", 36),
    (rid.RESOURCE_GROUP, "rg.(prod)_1", 90),
    (rid.CLUSTER_NAME, "hci-seattle_1", 63),
    (rid.EXTENSION_NAME, "azureml", 253),
    (rid.RELAY_NAMESPACE, "hciseattle-relay", 50),
    (rid.RELAY_CHILD, "azureml_rw", 50),
    (rid.WORKSPACE_NAME, "mlw-prod", 33),
    (rid.PROVIDER_NAMESPACE, "Microsoft.Kubernetes", 128),
    (rid.LOCATION, "East US", 64),
]


@pytest.mark.parametrize(("rule", "valid", "_max"), RULES, ids=[r[0].what for r in RULES])
def test_a_valid_name_passes(rule, valid, _max):
    assert rule.problem("option", valid) is None


@pytest.mark.parametrize(
    ("rule", "value"),
    [(rule, value) for rule, valid, max_length in RULES for value in bad_values(valid, max_length)],
)
def test_a_name_that_would_change_the_request_path_fails_with_the_option_the_value_and_the_rule(rule, value):
    problem = rule.problem("the_option", value)
    assert problem is not None
    assert problem.startswith(f"the_option {value!r} is not a valid {rule.what}: {rule.text}")
    assert "\n" not in problem


def test_the_longest_names_the_specs_allow_pass():
    assert rid.RESOURCE_GROUP.problem("resource_group", "g" * 90) is None
    assert rid.CLUSTER_NAME.problem("cluster_name", "c" * 63) is None
    assert rid.RELAY_NAMESPACE.problem("relay.namespace", "n" * 50) is None
    assert rid.RELAY_NAMESPACE.problem("relay.namespace", "n" * 5) is not None  # namespaceName minLength 6


def test_check_names_raises_one_line_naming_every_bad_option_and_skips_options_not_given():
    rid.check_names(("resource_group", None, rid.RESOURCE_GROUP))
    with pytest.raises(rid.InvalidNameError) as failed:
        rid.check_names(
            ("resource_group", "..", rid.RESOURCE_GROUP),
            ("name", "ok", rid.EXTENSION_NAME),
            ("location", "eastus#x", rid.LOCATION),
            what="extension request",
        )
    message = str(failed.value)
    assert message.startswith("Invalid extension request: resource_group '..' is not a valid resource group name")
    assert "location 'eastus#x' is not a valid Azure location" in message
    assert "'ok'" not in message and message.endswith("Nothing was sent to Azure.")
