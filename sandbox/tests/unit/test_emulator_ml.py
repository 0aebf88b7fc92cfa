"""The emulator's computes PUT refuses a body that lacks what the REST spec requires.

Spec: Compute_CreateOrUpdate in
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json
(the body parameter is required; `Compute` requires computeType, an enum; ManagedServiceIdentity requires type).
"""

import pytest

from sandbox.emulator import ml
from sandbox.emulator.arm import ArmError

CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1"
AZURE_AI_ML = {
    "location": "eastus",
    "properties": {
        "computeType": "Kubernetes",
        "computeLocation": "eastus",
        "resourceId": CLUSTER,
        "properties": {"namespace": "default"},
    },
}


def test_the_body_azure_ai_ml_sends_is_accepted():
    assert ml.check_compute_body(AZURE_AI_ML) == AZURE_AI_ML["properties"]
    with_identity = {**AZURE_AI_ML, "identity": {"type": "SystemAssigned"}}
    assert ml.check_compute_body(with_identity) == AZURE_AI_ML["properties"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'properties' is required"),
        ({"location": "eastus"}, "'properties' is required"),
        ({"location": "eastus", "properties": "Kubernetes"}, "'properties' is required"),
        ({"location": "eastus", "properties": {"resourceId": CLUSTER}}, "'properties.computeType' is required"),
        ({"properties": {"computeType": "Kubernetess", "resourceId": CLUSTER}}, "'Kubernetess' is not a compute type"),
        ({**AZURE_AI_ML, "identity": {"userAssignedIdentities": {}}}, "'identity.type' is required"),
    ],
)
def test_a_body_without_what_the_spec_requires_is_refused(body, message):
    with pytest.raises(ArmError) as err:
        ml.check_compute_body(body)
    assert err.value.status == 400
    assert message in err.value.message


def test_other_compute_types_are_valid_but_not_served():
    with pytest.raises(ArmError) as err:
        ml.check_compute_body({"properties": {"computeType": "AmlCompute"}})
    assert "computeType 'Kubernetes' only" in err.value.message
