"""azureml_extension and its Azure Relay, the whole module against a scripted ARM: which requests each run sends.

A run whose extension needs no write finds the Relay with reads (GET) and fetches no key: listKeys is a POST, which
ARM counts against the caller's write bucket, and the connection string it returns is only needed by a write that
carries the protected settings. A Relay someone deleted is still found missing, created again, and its new
connection string sent to the extension.
"""

import base64
import hashlib
import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.relay import default_namespace
from ansible_collections.hci.arc_ml.plugins.modules import azureml_extension
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import (
    FAKE_ARM,
    FAKE_AUTH,
    FAKE_SUBSCRIPTION,
    run_module,
)

SUBSCRIPTION = FAKE_SUBSCRIPTION
AUTH = FAKE_AUTH
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-site"
CLUSTER = GROUP + "/providers/Microsoft.Kubernetes/connectedClusters/site-1"
EXTENSION = CLUSTER + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
NAMESPACE = GROUP + "/providers/Microsoft.Relay/namespaces/" + default_namespace("site-1", SUBSCRIPTION, "rg-site")
HYBRID_CONNECTION = NAMESPACE + "/hybridConnections/site-1"
RULE = HYBRID_CONNECTION + "/authorizationRules/azureml_rw"
LIST_KEYS = RULE + "/listKeys"
CONNECTED = {
    "id": CLUSTER,
    "name": "site-1",
    "location": "eastus",
    "properties": {"totalNodeCount": 3, "distribution": "AKS", "connectivityStatus": "Connected"},
}
RELAY_KEYS = ("relayServerConnectionString", "relayserver.relayConnectionString")


class Azure:
    """ARM holding resources by path, as the services answer them: a PUT stores (the extension Succeeded at once,
    its protected values hidden as Azure hides them), a PATCH merges, listKeys answers the keys a rule was created
    with (a rule created again has new ones), a missing resource is a 404. Every request is recorded."""

    def __init__(self):
        self.resources = {CLUSTER.lower(): CONNECTED}
        self.keys = {}
        self.log = []

    def __call__(self, request, reply):
        path = request.url[len(FAKE_ARM) :].partition("?")[0]
        body = json.loads(request.content) if request.content else None
        self.log.append((request.method, path, body))
        key = path.lower()
        if request.method == "GET":
            found = self.resources.get(key)
            return reply(200, found) if found else self.not_found(reply, path)
        if request.method == "POST" and key.endswith("/listkeys"):
            rule = key.removesuffix("/listkeys")
            return reply(200, self.keys[rule]) if rule in self.resources else self.not_found(reply, path)
        if request.method == "PUT":
            return reply(200, self.put(path, body))
        if request.method == "PATCH":
            return reply(200, self.patch(key, body))
        return reply(400, {"error": {"code": "Unexpected", "message": f"{request.method} {path}"}})

    @staticmethod
    def not_found(reply, path):
        return reply(404, {"error": {"code": "ResourceNotFound", "message": f"{path} was not found."}})

    def put(self, path, body):
        stored = {"id": path, "name": path.rsplit("/", 1)[-1], **body}
        properties = stored["properties"] = dict(body.get("properties") or {})
        properties["provisioningState"] = "Succeeded"
        if "configurationProtectedSettings" in properties:
            properties["configurationProtectedSettings"] = dict.fromkeys(properties["configurationProtectedSettings"])
        if path.lower().endswith("/authorizationrules/azureml_rw"):
            self.keys[path.lower()] = self.new_keys()
        self.resources[path.lower()] = stored
        return stored

    def patch(self, key, body):
        properties = self.resources[key]["properties"]
        changes = body["properties"]
        for field, value in changes.items():
            if field == "configurationSettings":
                properties[field] = {**properties.get(field, {}), **value}
            elif field == "configurationProtectedSettings":
                properties[field] = dict.fromkeys(value)
            else:
                properties[field] = value
        return self.resources[key]

    def new_keys(self):
        primary, secondary = (
            base64.b64encode(hashlib.sha256(f"relay key {len(self.keys)}{which}".encode()).digest()).decode()
            for which in "ps"
        )
        endpoint = (
            f"Endpoint=sb://{NAMESPACE.rsplit('/', 1)[-1]}.servicebus.windows.net/;SharedAccessKeyName=azureml_rw"
        )
        return {
            "primaryConnectionString": f"{endpoint};SharedAccessKey={primary};EntityPath=site-1",
            "secondaryConnectionString": f"{endpoint};SharedAccessKey={secondary};EntityPath=site-1",
            "primaryKey": primary,
            "secondaryKey": secondary,
            "keyName": "azureml_rw",
        }

    def delete_relay(self):
        """What someone deleting the Relay namespace leaves: nothing below it."""
        for key in [k for k in self.resources if k.startswith(NAMESPACE.lower())]:
            del self.resources[key]

    def secrets(self):
        return [value for keys in self.keys.values() for name, value in keys.items() if name != "keyName"]

    def since(self, mark):
        return [(method, path) for method, path, _body in self.log[mark:]]

    def writes_since(self, mark):
        return [(method, path, body) for method, path, body in self.log[mark:] if method != "GET"]


def run(capsys, **args):
    return run_module(
        capsys, azureml_extension, {**AUTH, "cluster_name": "site-1", "resource_group": "rg-site", **args}
    )


@pytest.fixture
def installed(fake_azure, capsys):
    """Azure after a first run: Relay namespace, hybrid connection, rule and extension created."""
    azure = fake_azure(Azure())
    result = run(capsys, training=True)
    assert result.get("failed") is not True and result["changed"] is True, result
    return azure


def sent_connection_strings(body):
    protected = body["properties"]["configurationProtectedSettings"]
    return {key: protected[key] for key in RELAY_KEYS}


def test_the_install_creates_the_relay_then_sends_the_connection_string_listkeys_returned(installed):
    assert installed.since(0) == [
        ("GET", EXTENSION),
        ("GET", CLUSTER),
        ("GET", RULE),
        ("GET", NAMESPACE),
        ("PUT", NAMESPACE),
        ("PUT", HYBRID_CONNECTION),
        ("PUT", RULE),
        ("POST", LIST_KEYS),
        ("PUT", EXTENSION),
    ]
    (put,) = [body for method, path, body in installed.log if method == "PUT" and path == EXTENSION]
    primary = installed.keys[RULE.lower()]["primaryConnectionString"]
    assert sent_connection_strings(put) == dict.fromkeys(RELAY_KEYS, primary)


def test_a_run_that_changes_nothing_reads_the_relay_and_fetches_no_key(installed, capsys):
    mark = len(installed.log)

    result = run(capsys, training=True)

    assert result.get("failed") is not True and result["changed"] is False, result
    # Only reads: the extension, the cluster, and the Relay's rule (which exists only if its parents do).
    assert installed.since(mark) == [("GET", EXTENSION), ("GET", CLUSTER), ("GET", RULE)]
    assert result["relay"]["created"] == [] and result["relay"]["authorization_rule"] == "azureml_rw"


def test_a_check_run_that_changes_nothing_sends_no_post_either(installed, capsys):
    mark = len(installed.log)

    result = run(capsys, training=True, _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is False and result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert installed.since(mark) == [("GET", EXTENSION), ("GET", CLUSTER), ("GET", RULE)]


def test_a_change_of_plain_settings_patches_them_without_fetching_a_key(installed, capsys):
    mark = len(installed.log)

    result = run(capsys, training=True, install_nvidia_device_plugin=True)

    assert result["changed"] is True
    assert installed.writes_since(mark) == [
        ("PATCH", EXTENSION, {"properties": {"configurationSettings": {"installNvidiaDevicePlugin": "True"}}})
    ]


def test_protected_settings_sent_again_carry_the_connection_string_listkeys_returned(installed, capsys):
    mark = len(installed.log)

    result = run(capsys, training=True, protected_settings_update="always")

    assert result["changed"] is True
    writes = installed.writes_since(mark)
    assert [(method, path) for method, path, _body in writes] == [("POST", LIST_KEYS), ("PATCH", EXTENSION)]
    primary = installed.keys[RULE.lower()]["primaryConnectionString"]
    assert sent_connection_strings(writes[1][2]) == dict.fromkeys(RELAY_KEYS, primary)
    dumped = json.dumps(result)
    assert all(secret not in dumped for secret in installed.secrets())


def test_a_check_run_that_would_send_protected_settings_fetches_no_key(installed, capsys):
    mark = len(installed.log)

    result = run(capsys, training=True, protected_settings_update="always", _ansible_check_mode=True)

    assert result["changed"] is True
    assert result["changes"] == [
        "configurationProtectedSettings: sent again (protected_settings_update is 'always'); keys: "
        "relayServerConnectionString, relayserver.relayConnectionString"
    ]
    assert installed.since(mark) == [("GET", EXTENSION), ("GET", CLUSTER), ("GET", RULE)]


def test_a_relay_deleted_by_someone_is_created_again_and_its_new_connection_string_sent(installed, capsys):
    old = installed.keys[RULE.lower()]["primaryConnectionString"]
    installed.delete_relay()
    mark = len(installed.log)

    result = run(capsys, training=True, _ansible_diff=True)

    assert result.get("failed") is not True and result["changed"] is True, result
    assert installed.since(mark) == [
        ("GET", EXTENSION),
        ("GET", CLUSTER),
        ("GET", RULE),
        ("GET", NAMESPACE),
        ("PUT", NAMESPACE),
        ("PUT", HYBRID_CONNECTION),
        ("PUT", RULE),
        ("POST", LIST_KEYS),
        ("PATCH", EXTENSION),
    ]
    assert len(result["relay"]["created"]) == 3
    assert result["changes"] == [
        "configurationProtectedSettings: sent again (the Azure Relay was created, with a new connection string); "
        "keys: relayServerConnectionString, relayserver.relayConnectionString"
    ]
    new = installed.keys[RULE.lower()]["primaryConnectionString"]
    assert new != old
    patch = installed.writes_since(mark)[-1][2]
    assert patch == {"properties": {"configurationProtectedSettings": dict.fromkeys(RELAY_KEYS, new)}}
    dumped = json.dumps(result)
    assert all(secret not in dumped for secret in installed.secrets())
    # Repaired: the next run finds everything again, with reads only.
    mark = len(installed.log)
    assert run(capsys, training=True)["changed"] is False
    assert installed.since(mark) == [("GET", EXTENSION), ("GET", CLUSTER), ("GET", RULE)]


def test_a_deleted_authorization_rule_alone_is_created_again(installed, capsys):
    del installed.resources[RULE.lower()]
    mark = len(installed.log)

    result = run(capsys, training=True)

    assert result["changed"] is True and result["relay"]["created"] == ["authorization rule azureml_rw"]
    assert installed.since(mark)[2:] == [
        ("GET", RULE),
        ("GET", NAMESPACE),
        ("GET", HYBRID_CONNECTION),
        ("PUT", RULE),
        ("POST", LIST_KEYS),
        ("PATCH", EXTENSION),
    ]


def test_a_check_run_finds_the_deleted_relay_with_reads_and_writes_nothing(installed, capsys):
    installed.delete_relay()
    mark = len(installed.log)

    result = run(capsys, training=True, _ansible_check_mode=True, _ansible_diff=True)

    assert result["changed"] is True
    namespace = NAMESPACE.rsplit("/", 1)[-1]
    assert result["actions"] == [
        f"create relay namespace {namespace}",
        "create relay hybrid connection site-1",
        "create relay authorization rule azureml_rw",
        "update extension azureml (configurationProtectedSettings)",
    ]
    assert installed.since(mark) == [("GET", EXTENSION), ("GET", CLUSTER), ("GET", RULE), ("GET", NAMESPACE)]


def test_the_put_that_removes_the_old_fingerprint_setting_carries_the_connection_string(installed, capsys):
    # A PUT replaces the protected settings too (_extension.plan.replace_body): it needs the real string.
    settings = installed.resources[EXTENSION.lower()]["properties"]["configurationSettings"]
    settings["hciArcMlProtectedSettingsFingerprint"] = "pbkdf2-sha256$100000$c2FsdA$ZGln"
    mark = len(installed.log)

    result = run(capsys, training=True)

    assert result["changed"] is True
    writes = installed.writes_since(mark)
    assert [(method, path) for method, path, _body in writes] == [("POST", LIST_KEYS), ("PUT", EXTENSION)]
    primary = installed.keys[RULE.lower()]["primaryConnectionString"]
    assert sent_connection_strings(writes[1][2]) == dict.fromkeys(RELAY_KEYS, primary)


def test_a_relay_of_your_own_is_never_looked_up(fake_azure, capsys):
    azure = fake_azure(Azure())
    own = "Endpoint=sb://own-relay.servicebus.windows.net/;SharedAccessKeyName=rw;SharedAccessKey=b3duLWtleQ==;EntityPath=c"
    relay = {"connection_string": own, "hybrid_connection_id": NAMESPACE + "/hybridConnections/own"}

    first = run(capsys, training=True, relay=relay)
    again = run(capsys, training=True, relay=relay)

    assert first["changed"] is True and again["changed"] is False
    assert not [path for _method, path in azure.since(0) if "/Microsoft.Relay/" in path]
    (put,) = [body for method, path, body in azure.log if method == "PUT"]
    assert sent_connection_strings(put) == dict.fromkeys(RELAY_KEYS, own)
    assert own not in json.dumps(first)
