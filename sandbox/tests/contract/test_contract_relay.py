"""Microsoft.Relay as az k8s-extension provisions it for the Azure ML extension on Arc."""

import pytest
from contract_helpers import wait_for

pytestmark = pytest.mark.sandbox

API = "?api-version=2017-04-01"
NAMESPACES = "providers/Microsoft.Relay/namespaces"


def test_namespace_hybrid_connection_rule_and_keys(arm, emulator, registered):
    ns = f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a/{NAMESPACES}/relay-site-a"
    seq = emulator.admin.last_seq()
    created = arm("PUT", ns + API, json={"location": "eastus", "tags": {"created_by": "Azure Arc-enabled ML"}})
    assert created.status_code == 201 and created.json()["type"] == "Microsoft.Relay/Namespaces"
    status = created.headers["Azure-AsyncOperation"][len(emulator.url) :]
    wait_for(lambda: arm("GET", status).json()["status"] == "Succeeded", 10, "the namespace")
    assert arm("GET", ns + API).json()["properties"]["provisioningState"] == "Succeeded"

    hc = ns + "/hybridConnections/cc-ml"
    assert arm("PUT", hc + API, json={"properties": {"requiresClientAuthorization": True}}).status_code == 200
    rule = hc + "/authorizationRules/azureml_rw"
    assert arm("PUT", rule + API, json={"properties": {"rights": ["Manage"]}}).status_code == 400
    assert arm("PUT", rule + API, json={"properties": {"rights": ["Manage", "Send", "Listen"]}}).status_code == 200

    keys = arm("POST", rule + "/listKeys" + API).json()
    assert keys["keyName"] == "azureml_rw"
    assert keys["primaryConnectionString"].startswith("Endpoint=sb://relay-site-a.")
    assert keys["primaryConnectionString"].endswith(";EntityPath=cc-ml")
    assert arm("POST", rule + "/listKeys" + API).json()["primaryKey"] == keys["primaryKey"]
    assert keys["primaryKey"] not in str(emulator.admin.requests(seq))

    deleted = arm("DELETE", ns + API)
    assert deleted.status_code == 202
    wait_for(lambda: arm("GET", hc + API).status_code == 404, 10, "the namespace's deletion")


SPEC_API = "?api-version=2021-11-01"


def test_the_reads_that_find_a_relay_answer_as_the_spec_and_404_below_a_missing_parent(arm, emulator, registered):
    """Namespaces_Get, HybridConnections_Get and HybridConnections_GetAuthorizationRule of the Relay REST spec,
    stable 2021-11-01 (specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01 in
    https://github.com/Azure/azure-rest-api-specs): what azureml_extension reads instead of listKeys."""
    ns = f"/subscriptions/{emulator.subscription_id}/resourceGroups/rg-site-a/{NAMESPACES}/relay-site-reads"
    hc = ns + "/hybridConnections/cc-ml"
    rule = hc + "/authorizationRules/azureml_rw"
    # Nothing yet: the rule under a missing namespace is a 404, as the namespace itself is.
    assert arm("GET", rule + SPEC_API).status_code == 404
    assert arm("GET", ns + SPEC_API).status_code == 404
    created = arm("PUT", ns + SPEC_API, json={"location": "eastus", "tags": {"created_by": "Azure Arc-enabled ML"}})
    status = created.headers["Azure-AsyncOperation"][len(emulator.url) :]
    wait_for(lambda: arm("GET", status).json()["status"] == "Succeeded", 10, "the namespace")
    assert arm("GET", hc + SPEC_API).status_code == 404
    assert arm("PUT", hc + SPEC_API, json={"properties": {"requiresClientAuthorization": True}}).status_code == 200
    assert arm("GET", rule + SPEC_API).status_code == 404
    rights = ["Manage", "Send", "Listen"]
    assert arm("PUT", rule + SPEC_API, json={"properties": {"rights": rights}}).status_code == 200

    found = arm("GET", rule + SPEC_API)
    assert found.status_code == 200
    body = found.json()
    # The spec's AuthorizationRule, spelt as its examples spell a hybrid connection's rule; no key in it.
    assert body["type"] == "Microsoft.Relay/Namespaces/Hybridconnections/AuthorizationRules"
    assert body["name"] == "azureml_rw" and body["id"].lower() == rule.lower()
    assert sorted(body["properties"]["rights"]) == sorted(rights)
    keys = arm("POST", rule + "/listKeys" + SPEC_API).json()
    assert all(keys[name] not in found.text for name in ("primaryKey", "secondaryKey", "primaryConnectionString"))
    connection = arm("GET", hc + SPEC_API).json()
    assert connection["type"] == "Microsoft.Relay/Namespaces/HybridConnections"
    assert connection["properties"]["requiresClientAuthorization"] is True

    # Someone deletes the hybrid connection: its rule goes with it, the namespace stays.
    assert arm("DELETE", hc + SPEC_API).status_code == 200
    assert arm("GET", rule + SPEC_API).status_code == 404
    assert arm("GET", hc + SPEC_API).status_code == 404
    assert arm("GET", ns + SPEC_API).status_code == 200
    assert arm("POST", rule + "/listKeys" + SPEC_API).status_code == 404
