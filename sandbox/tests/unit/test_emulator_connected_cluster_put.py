"""connectedClusters in the emulator: protected settings are never answered, and a PUT replaces them."""

from sandbox.emulator import connected_clusters, lro
from sandbox.emulator.store import Store

PROTECTED = {"feature": "proxy", "settings": {}, "protectedSettings": {"https_proxy": "http://u:pw@proxy:3128"}}


class FakeEmulator:
    base_url = "https://127.0.0.1:1"

    def __init__(self, store):
        self.store = store
        self.operations = lro.Operations(self)


def body(*configurations):
    return {
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {"agentPublicKeyCertificate": "MIIC", "arcAgentryConfigurations": list(configurations)},
    }


def put(ctx, sent, previous=None):
    return connected_clusters.build(ctx, resource_group="rg", name="cc", body=sent, principal=None, previous=previous)


def test_get_names_the_protected_settings_without_their_values(tmp_path):
    ctx = FakeEmulator(Store(tmp_path / "state.json"))
    stored = put(ctx, body(PROTECTED, {"feature": "logging", "settings": {"a": "1"}}))
    shown = connected_clusters.answer(stored)
    assert shown["properties"]["arcAgentryConfigurations"] == [
        {"feature": "proxy", "settings": {}, "protectedSettings": {"https_proxy": ""}},
        {"feature": "logging", "settings": {"a": "1"}},
    ]
    # The service keeps the value (the data plane reads it); only the answer hides it.
    assert stored["properties"]["arcAgentryConfigurations"][0]["protectedSettings"]["https_proxy"].endswith(":3128")


def test_a_re_put_of_what_get_answered_erases_the_protected_values(tmp_path):
    ctx = FakeEmulator(Store(tmp_path / "state.json"))
    stored = put(ctx, body(PROTECTED))
    read_back = connected_clusters.answer(stored)
    again = put(ctx, {**body(), "properties": read_back["properties"]}, previous=stored)
    assert again["properties"]["arcAgentryConfigurations"][0]["protectedSettings"] == {"https_proxy": ""}
    without = put(ctx, body({"feature": "proxy", "settings": {}}), previous=stored)
    assert "protectedSettings" not in without["properties"]["arcAgentryConfigurations"][0]
