"""State on disk, long-running operations, RBAC, extension PATCH merge rules and admin settings."""

import pytest

from sandbox.emulator import lro, rbac
from sandbox.emulator.admin import validate_settings
from sandbox.emulator.arm import ArmError
from sandbox.emulator.extensions import merge_patch
from sandbox.emulator.store import Store


class FakeEmulator:
    base_url = "https://127.0.0.1:1"

    def __init__(self, store):
        self.store = store
        self.operations = lro.Operations(self)


def test_the_store_round_trips_through_its_file(tmp_path):
    store = Store(tmp_path / "state.json")
    store.put("resource_groups", "/subscriptions/S/resourceGroups/RG", {"name": "RG"})
    store.update_settings({"lro_seconds": 0.5})
    store.save()
    again = Store(tmp_path / "state.json")
    assert again.get("resource_groups", "/SUBSCRIPTIONS/s/resourcegroups/rg") == {"name": "RG"}
    assert (again.tenant_id, again.subscription_id) == (store.tenant_id, store.subscription_id)
    assert again.settings["lro_seconds"] == 0.5 and again.settings["retry_after_seconds"] == 1
    assert oct((tmp_path / "state.json").stat().st_mode & 0o777) == "0o600"


def test_operations_finish_when_due_and_a_new_one_cancels_the_running_one(tmp_path):
    finished = []
    lro.FINALIZERS["unit-test"] = lambda ctx, op: (finished.append(op["id"]) or "Succeeded", None)
    emulator = FakeEmulator(Store(tmp_path / "state.json"))
    emulator.store.update_settings({"lro_seconds": 0})
    start = {
        "kind": "unit-test",
        "style": "ml",
        "resource_id": "/r/1",
        "running_status": "InProgress",
        "namespace": "Microsoft.Test",
        "location": "eastus",
        "api_version": "2024-01-01",
    }
    waiting = emulator.operations.start(action="create", external=True, **start)
    assert emulator.operations.active_for("/R/1") is waiting
    replacing = emulator.operations.start(action="delete", **start)
    assert waiting["status"] == "Canceled"
    emulator.operations.advance()
    assert replacing["status"] == "Succeeded" and finished == [replacing["id"]]
    assert emulator.operations.active_for("/r/1") is None
    assert emulator.operations.status_body(replacing) == {"status": "Succeeded"}
    del lro.FINALIZERS["unit-test"]


def test_roles_grant_what_they_should_on_their_scope(tmp_path):
    store = Store(tmp_path / "state.json")
    reader = rbac.ensure_principal(store, "reader")
    rbac.assign(store, reader, "Reader", "/subscriptions/s/resourceGroups/rg1")
    rbac.authorize(
        store, reader, "Microsoft.Kubernetes/connectedClusters/read", "/subscriptions/s/resourceGroups/RG1/x"
    )
    for action, scope in (
        ("Microsoft.Kubernetes/connectedClusters/write", "/subscriptions/s/resourceGroups/rg1/x"),
        ("Microsoft.Kubernetes/connectedClusters/read", "/subscriptions/s/resourceGroups/rg10"),
    ):
        with pytest.raises(ArmError) as err:
            rbac.authorize(store, reader, action, scope)
        assert (err.value.status, err.value.code) == (403, "AuthorizationFailed")
    assert rbac.ensure_principal(store, "reader") == reader


CURRENT = {
    "extensionType": "microsoft.azureml.kubernetes",
    "scope": {"cluster": {"releaseNamespace": "azureml"}},
    "autoUpgradeMinorVersion": True,
    "releaseTrain": "stable",
    "version": None,
    "configurationSettings": {"a": "1", "b": "2"},
}


def test_patch_merges_settings_key_by_key_and_never_removes_a_key():
    updated = merge_patch(
        CURRENT, {"configurationSettings": {"b": "3", "c": "4", "a": None}, "releaseTrain": "preview"}
    )
    assert updated["configurationSettings"] == {"a": "1", "b": "3", "c": "4"}
    assert updated["releaseTrain"] == "preview"
    assert CURRENT["configurationSettings"] == {"a": "1", "b": "2"}
    assert merge_patch(CURRENT, {"extensionType": "Microsoft.AzureML.Kubernetes"}) == CURRENT


@pytest.mark.parametrize(
    "requested",
    [
        {"extensionType": "microsoft.flux"},
        {"scope": {"cluster": {"releaseNamespace": "other"}}},
        {"version": "1.2.3"},
        {"plan": {"name": "x"}},
        {"configurationSettings": {"a": 1}},
    ],
)
def test_patch_refuses_what_the_service_refuses(requested):
    with pytest.raises(ArmError) as err:
        merge_patch(CURRENT, requested)
    assert err.value.status == 400


def test_a_pinned_version_needs_auto_upgrade_off():
    assert merge_patch(CURRENT, {"version": "1.2.3", "autoUpgradeMinorVersion": False})["version"] == "1.2.3"


def test_settings_are_validated():
    assert validate_settings({"lro_seconds": 1, "agent_mode": "external"}) == {
        "lro_seconds": 1.0,
        "agent_mode": "external",
    }
    for bad in ({"lro_seconds": -1}, {"agent_mode": "other"}, {"nope": 1}, {"retry_after_seconds": True}):
        with pytest.raises(ValueError):
            validate_settings(bad)
