"""The compute options: validation, the attach body, and what a task returns about a compute."""

import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import ComputeError, extension_missing
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import InstanceTypeError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import (
    ComputeSpecError,
    attach_body,
    compute_facts,
    desired_compute,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import Workspace

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
WORKSPACE = Workspace(SUB, "rg-ml", "mlw-prod")
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-hci/providers/Microsoft.Kubernetes/connectedClusters/hci-seattle"
UAMI = f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ml"


def params(**overrides):
    base = {
        "name": "arccompute",
        "cluster_name": "hci-seattle",
        "cluster_resource_group": "rg-hci",
        "cluster_resource_id": None,
        "namespace": "default",
        "description": None,
        "identity": None,
        "default_instance_type": None,
        "instance_types": None,
    }
    return {**base, **overrides}


def small_instance_type(name="cpu-small", **overrides):
    entry = {
        "name": name,
        "node_selector": None,
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": 1, "memory": "2Gi", "gpu": None},
    }
    return {**entry, **overrides}


def test_the_seed_attach_body():
    """What azure-ai-ml's ml_client.compute.begin_attach(KubernetesCompute(...)) sends: location and
    computeLocation both the workspace's (_compute_operations.py begin_create_or_update sets location from the
    workspace, kubernetes_compute.py _to_rest_object copies it into computeLocation); None fields are left out."""
    assert attach_body(desired_compute(params(), WORKSPACE), "eastus") == {
        "location": "eastus",
        "properties": {
            "computeType": "Kubernetes",
            "computeLocation": "eastus",
            "resourceId": CLUSTER,
            "properties": {"namespace": "default"},
        },
    }


def test_a_full_attach_body():
    desired = desired_compute(
        params(
            cluster_name=None,
            cluster_resource_group=None,
            cluster_resource_id=CLUSTER,
            namespace="azureml-jobs",
            description="HCI Seattle",
            identity={"type": "UserAssigned", "user_assigned_identities": [UAMI]},
            default_instance_type="gpu",
            instance_types=[
                small_instance_type(),
                small_instance_type(
                    "gpu", node_selector={"accelerator": "nvidia"}, limits={"cpu": "4", "memory": "8Gi", "gpu": 1}
                ),
            ],
        ),
        WORKSPACE,
    )
    assert attach_body(desired, "westeurope") == {
        "location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {UAMI: {}}},
        "properties": {
            "computeType": "Kubernetes",
            "computeLocation": "westeurope",
            "resourceId": CLUSTER,
            "description": "HCI Seattle",
            "properties": {
                "namespace": "azureml-jobs",
                "defaultInstanceType": "gpu",
                "instanceTypes": {
                    "cpu-small": {
                        "nodeSelector": None,
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "1Gi"},
                            "limits": {"cpu": "1", "memory": "2Gi"},
                        },
                    },
                    "gpu": {
                        "nodeSelector": {"accelerator": "nvidia"},
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "1Gi"},
                            "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
                        },
                    },
                },
            },
        },
    }


def test_system_assigned_identity():
    body = attach_body(desired_compute(params(identity={"type": "SystemAssigned"}), WORKSPACE), "eastus")
    assert body["identity"] == {"type": "SystemAssigned"}


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ({"type": "UserAssigned", "user_assigned_identities": []}, "needs identity.user_assigned_identities"),
        ({"type": "SystemAssigned", "user_assigned_identities": [UAMI]}, "not both"),
        ({"type": "UserAssigned", "user_assigned_identities": ["/subscriptions/x/oops"]}, "not the ARM id"),
    ],
)
def test_identity_combinations_are_checked(identity, message):
    with pytest.raises(ComputeSpecError, match=message):
        desired_compute(params(identity=identity), WORKSPACE)


def test_cluster_resource_id_is_checked_and_may_be_aks():
    aks = f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.containerservice/managedClusters/aks1/"
    desired = desired_compute(
        params(cluster_name=None, cluster_resource_group=None, cluster_resource_id=aks), WORKSPACE
    )
    assert desired.cluster_id == aks.rstrip("/")
    assert desired.cluster == (SUB, "rg", "microsoft.containerservice/managedClusters", "aks1")
    with pytest.raises(ComputeSpecError, match="is not the ARM id of a cluster"):
        desired_compute(
            params(cluster_name=None, cluster_resource_group=None, cluster_resource_id="hci-seattle"), WORKSPACE
        )


@pytest.mark.parametrize("names", [{"cluster_name": "a/b"}, {"cluster_resource_group": "rg/x"}])
def test_a_slash_in_the_cluster_name_or_group_is_one_clear_error(names):
    with pytest.raises(ComputeSpecError, match=r"from cluster_name and cluster_resource_group.*cannot contain '/'"):
        desired_compute(params(**names), WORKSPACE)


def test_a_cluster_in_another_subscription_is_refused_before_any_request():
    other = CLUSTER.replace(SUB, "0a1b2c3d-0000-4000-8000-000000000001")
    with pytest.raises(ComputeSpecError, match="doesn't support attaching a cluster across subscriptions"):
        desired_compute(params(cluster_name=None, cluster_resource_group=None, cluster_resource_id=other), WORKSPACE)


@pytest.mark.parametrize("namespace", ["Default", "has_underscore", "-lead", "x" * 64])
def test_namespace_must_be_a_kubernetes_name(namespace):
    with pytest.raises(ComputeSpecError, match="is not a Kubernetes namespace name"):
        desired_compute(params(namespace=namespace), WORKSPACE)


def test_instance_types_are_validated_and_unique():
    with pytest.raises(ComputeSpecError, match="more than once"):
        desired_compute(params(instance_types=[small_instance_type(), small_instance_type()]), WORKSPACE)
    with pytest.raises(InstanceTypeError, match=r"requests\.cpu '4' is more than limits\.cpu 1"):
        desired_compute(params(instance_types=[small_instance_type(requests={"cpu": "4", "memory": "1Gi"})]), WORKSPACE)


def test_facts_never_carry_the_service_secrets():
    secrets = (
        "Endpoint=sb://relay.example/;SharedAccessKey=relay-secret",
        "Endpoint=sb://bus/;SharedAccessKey=bus-secret",
    )
    compute = {
        "id": f"{WORKSPACE.path}/computes/arccompute",
        "name": "arccompute",
        "location": "eastus",
        "identity": {"type": "SystemAssigned", "principalId": "p-1", "tenantId": "t-1"},
        "properties": {
            "computeType": "Kubernetes",
            "provisioningState": "Failed",
            "provisioningErrors": [{"error": {"code": "BadThing", "message": "it broke"}}],
            "resourceId": CLUSTER,
            "isAttachedCompute": True,
            "properties": {
                "namespace": "jobs",
                "relayConnectionString": secrets[0],
                "serviceBusConnectionString": secrets[1],
                "extensionInstanceReleaseTrain": "stable",
                "instanceTypes": {"small": {"resources": {"requests": {"cpu": "1", "nvidia.com/gpu": None}}}},
            },
        },
    }
    facts = compute_facts(compute)
    text = json.dumps(facts)
    assert not any(secret in text for secret in secrets)
    assert facts["provisioning_errors"] == [{"code": "BadThing", "message": "it broke"}]
    assert facts["identity"]["principal_id"] == "p-1"
    assert facts["namespace"] == "jobs"
    assert facts["instance_types"] == {"small": {"node_selector": {}, "requests": {"cpu": "1"}, "limits": {}}}


def test_facts_of_another_compute_type_have_no_kubernetes_fields():
    facts = compute_facts(
        {"name": "cpu-cluster", "properties": {"computeType": "AmlCompute", "properties": {"vmSize": "x"}}}
    )
    assert facts["compute_type"] == "AmlCompute"
    assert facts["namespace"] is None and facts["instance_types"] is None


class _FakeApiError:
    status = 400
    code = "UserError"
    request_id = "req-123"
    correlation_id = "corr-456"
    service_message = "Compute attach failed: extension not installed. See https://aka.ms/arcmltsg."


def test_missing_extension_gives_the_service_error_and_the_command_to_run():
    desired = desired_compute(params(), WORKSPACE)
    error = extension_missing(desired, _FakeApiError())
    assert isinstance(error, ComputeError)
    message = error.message
    assert "Compute attach failed: extension not installed" in message
    assert (
        "az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes --config "
        "enableTraining=True --cluster-type connectedClusters --cluster-name hci-seattle --resource-group rg-hci"
    ) in message
    assert "hci.arc_ml.azureml_extension" in message
    assert "x-ms-request-id: req-123" in message
    assert error.status == 400
    assert error.details["request_id"] == "req-123"
    assert "\n" not in message


def path_breakers(valid, max_length):
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", "a" * (max_length + 1)]


@pytest.mark.parametrize(
    "overrides",
    [{"cluster_name": v} for v in path_breakers("hci-seattle", 63)]
    + [{"cluster_resource_group": v} for v in path_breakers("rg-hci", 90)]
    # cluster_resource_id is stripped of surrounding whitespace first, so its newline is put inside.
    + [{"cluster_resource_id": CLUSTER.replace("hci-seattle", v)} for v in path_breakers("hci-seattle", 63)[:2]]
    + [{"cluster_resource_id": CLUSTER.replace("hci-seattle", v)} for v in ("hci\nseattle", "a#b", "a?b", "a" * 64)]
    + [
        {"cluster_resource_id": CLUSTER.replace("rg-hci", "..")},
        {"cluster_resource_id": CLUSTER.replace("rg-hci", "rg\nhci")},
    ],
)
def test_a_cluster_id_whose_names_would_change_a_request_path_is_refused(overrides):
    with pytest.raises(ComputeSpecError) as failed:
        desired_compute(params(**overrides), WORKSPACE)
    message = str(failed.value)
    assert "is not a valid" in message or "is not the ARM id of a cluster" in message, message
