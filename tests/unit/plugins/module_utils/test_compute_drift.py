"""Drift between an attached compute (as Azure returns it) and the task's options."""

import copy

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.drift import compute_drift
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import (
    attach_body,
    attached_view,
    desired_compute,
    desired_view,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import Workspace

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
WORKSPACE = Workspace(SUB, "rg-ml", "mlw-prod")
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-hci/providers/Microsoft.Kubernetes/connectedClusters/hci-seattle"
UAMI = f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ml"


def desired(**options):
    base = {"name": "arccompute", "cluster_resource_id": CLUSTER, "namespace": "default"}
    return desired_compute({**base, **options}, WORKSPACE)


def attached(want, **changes):
    """The compute as Azure answers a GET after attaching `want`: server fields added, then `changes` applied."""
    body = copy.deepcopy(attach_body(want, "eastus"))
    body.update(id=f"{WORKSPACE.path}/computes/{want.name}", name=want.name, type="x")
    body["properties"].update(provisioningState="Succeeded", isAttachedCompute=True, createdOn="2026-01-01")
    body["properties"]["properties"].update(
        extensionInstanceReleaseTrain="stable", relayConnectionString=None, serviceBusConnectionString=None, vcName=None
    )
    if "identity" in body:
        body["identity"]["principalId"] = "p-1"
        for value in (body["identity"].get("userAssignedIdentities") or {}).values():
            value.update(principalId="p-2", clientId="c-2")
    for path, value in changes.items():
        target = body
        *parents, last = path.split(".")
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value
    return body


def drift_of(want, **changes):
    return compute_drift(attached_view(attached(want, **changes)), desired_view(want))


INSTANCE_TYPES = [
    {
        "name": "gpu",
        "node_selector": {"accelerator": "nvidia"},
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": 2, "memory": "4Gi", "gpu": 1},
    }
]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"description": "HCI Seattle", "identity": {"type": "SystemAssigned"}},
        {"identity": {"type": "UserAssigned", "user_assigned_identities": [UAMI]}},
        {"default_instance_type": "gpu", "instance_types": INSTANCE_TYPES},
    ],
)
def test_an_attach_as_asked_has_no_drift(options):
    assert drift_of(desired(**options)) == []


def test_a_changed_namespace_is_drift():
    assert drift_of(desired(namespace="azureml-jobs"), **{"properties.properties.namespace": "default"}) == [
        {"field": "namespace", "attached": "default", "requested": "azureml-jobs"}
    ]


def test_resource_ids_compare_case_insensitively_but_another_cluster_is_drift():
    want = desired()
    assert (
        drift_of(want, **{"properties.resourceId": CLUSTER.lower().replace("resourcegroups", "resourcegroups")}) == []
    )
    other = CLUSTER.replace("hci-seattle", "hci-boston")
    assert drift_of(want, **{"properties.resourceId": other}) == [
        {"field": "cluster_resource_id", "attached": other, "requested": CLUSTER}
    ]


def test_unmanaged_fields_are_not_compared():
    want = desired()
    changes = {"properties.description": "set elsewhere", "properties.properties.defaultInstanceType": "big"}
    assert drift_of(want, **changes, identity={"type": "SystemAssigned"}) == []


def test_managed_description_and_default_instance_type():
    want = desired(description="mine", default_instance_type="small")
    drift = drift_of(want, **{"properties.description": None, "properties.properties.defaultInstanceType": "big"})
    assert [d["field"] for d in drift] == ["description", "default_instance_type"]


def test_identity_type_case_and_identity_id_case_do_not_matter():
    want = desired(identity={"type": "UserAssigned", "user_assigned_identities": [UAMI]})
    assert drift_of(want, identity={"type": "userassigned", "userAssignedIdentities": {UAMI.upper(): {}}}) == []


def test_identity_differences_are_drift():
    want = desired(identity={"type": "SystemAssigned"})
    (entry,) = drift_of(want, identity=None)
    assert entry == {
        "field": "identity",
        "attached": None,
        "requested": {"type": "SystemAssigned", "user_assigned_identities": []},
    }
    want = desired(identity={"type": "UserAssigned", "user_assigned_identities": [UAMI]})
    other = UAMI.replace("/ml", "/ml2")
    assert [
        d["field"] for d in drift_of(want, identity={"type": "UserAssigned", "userAssignedIdentities": {other: {}}})
    ] == ["identity"]


def test_instance_type_quantities_compare_by_value():
    want = desired(instance_types=INSTANCE_TYPES)
    same_by_value = {
        "gpu": {
            "nodeSelector": {"accelerator": "nvidia"},
            "resources": {
                "requests": {"cpu": "1000m", "memory": "2048Mi"},
                "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"},
            },
        }
    }
    assert drift_of(want, **{"properties.properties.instanceTypes": same_by_value}) == []
    more_memory = copy.deepcopy(same_by_value)
    more_memory["gpu"]["resources"]["limits"]["memory"] = "8Gi"
    assert [d["field"] for d in drift_of(want, **{"properties.properties.instanceTypes": more_memory})] == [
        "instance_types"
    ]
    extra = {**same_by_value, "small": same_by_value["gpu"]}
    assert [d["field"] for d in drift_of(want, **{"properties.properties.instanceTypes": extra})] == ["instance_types"]


def test_a_failed_compute_drifts_first():
    drift = drift_of(
        desired(namespace="jobs"), **{"properties.provisioningState": "Failed", "properties.properties.namespace": "x"}
    )
    assert drift[0] == {"field": "provisioning_state", "attached": "Failed", "requested": "Succeeded"}
    assert drift[1]["field"] == "namespace"


def test_views_never_carry_secrets():
    body = attached(desired(), **{"properties.properties.relayConnectionString": "SharedAccessKey=s3cr3t"})
    assert "s3cr3t" not in repr(attached_view(body))
