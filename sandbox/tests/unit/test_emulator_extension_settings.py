"""What the emulated extensions service does with settings, as Azure does.

The 2024-11-01 spec marks configurationProtectedSettings `x-ms-secret`: a read returns no value
(https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json).
A PATCH merges configurationSettings key by key and cannot remove one; the collection removes a setting with a PUT.
"""

from sandbox.emulator.extensions import merge_patch, view

STORED = {
    "extensionType": "microsoft.azureml.kubernetes",
    "scope": {"cluster": {"releaseNamespace": "azureml"}},
    "autoUpgradeMinorVersion": True,
    "releaseTrain": "stable",
    "version": None,
    "configurationSettings": {"enableTraining": "True", "hciArcMlProtectedSettingsFingerprint": "pbkdf2-sha256$x"},
}


def test_a_read_lists_the_protected_keys_and_no_value():
    record = {"resource": {"properties": dict(STORED)}, "protected": {"relayServerConnectionString": "SECRET"}}
    shown = view(record)["properties"]
    assert shown["configurationProtectedSettings"] == {"relayServerConnectionString": None}
    assert "SECRET" not in repr(shown)


def test_a_patch_cannot_remove_a_setting():
    updated = merge_patch(STORED, {"configurationSettings": {"hciArcMlProtectedSettingsFingerprint": None}})
    assert updated["configurationSettings"] == STORED["configurationSettings"]
