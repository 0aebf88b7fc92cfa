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
