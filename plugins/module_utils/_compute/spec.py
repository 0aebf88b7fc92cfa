# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""A Kubernetes compute as asked for and as attached: validation, the attach body, views and facts.

Shapes (ComputeResource and Kubernetes in
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json):
`Microsoft.MachineLearningServices/workspaces/computes` with
`properties.computeType = "Kubernetes"`, the cluster's ARM id in `properties.resourceId` ("ARM resource id of the
underlying compute"; a GET answers it in its own case, `resourcegroups` in the spec's example
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/examples/Compute/get/KubernetesCompute.json
), and the
Kubernetes settings in `properties.properties` (namespace, defaultInstanceType, instanceTypes).
The body follows what azure-ai-ml's begin_attach sends (location and properties.computeLocation = the
workspace's, identity only when asked for). `relayConnectionString` and `serviceBusConnectionString` are secrets
the service fills in: they are never copied into a view, a diff or a result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import (
    build_spec,
    check_object_name,
    normalize,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.names import is_dns_label

CONNECTED_CLUSTERS = "Microsoft.Kubernetes/connectedClusters"
MANAGED_CLUSTERS = "Microsoft.ContainerService/managedClusters"
# Matched whole (fullmatch); each of its names is then checked against the rule of its path parameter
# (_azure/resource_id.py), because the id's names reach request paths.
CLUSTER_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)/providers/"
    r"(?P<type>Microsoft\.Kubernetes/connectedClusters|Microsoft\.ContainerService/managedClusters)/(?P<name>[^/]+)/?",
    re.IGNORECASE,
)
IDENTITY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.IGNORECASE,
)
DEFAULT_NAMESPACE = "default"


class ComputeSpecError(ArcMLError):
    """The compute options are inconsistent or invalid; raised before any request."""


@dataclass
class DesiredCompute:
    """What the task asks for. None in description, identity, default_instance_type and instance_types
    means "not managed": not sent, and not compared."""

    name: str
    workspace: object
    cluster_id: str
    namespace: str
    description: str | None
    identity: dict | None
    default_instance_type: str | None
    instance_types: dict | None

    @property
    def cluster(self):
        """The cluster's (subscription, resource group, type, name) from its ARM id."""
        match = CLUSTER_ID.fullmatch(self.cluster_id)
        return match.group("subscription"), match.group("resource_group"), match.group("type"), match.group("name")


def cluster_id_from_params(params, workspace):
    """The cluster's ARM id from cluster_resource_id, or cluster_name + cluster_resource_group (an Arc cluster in
    the workspace's subscription)."""
    if params.get("cluster_resource_id"):
        cluster_id, given = params["cluster_resource_id"].strip(), "cluster_resource_id"
    elif params.get("cluster_name") and params.get("cluster_resource_group"):
        cluster_id = "/subscriptions/{}/resourceGroups/{}/providers/{}/{}".format(
            workspace.subscription_id, params["cluster_resource_group"], CONNECTED_CLUSTERS, params["cluster_name"]
        )
        given = "cluster_name and cluster_resource_group"
    else:
        raise ComputeSpecError(
            "Name the cluster to attach: cluster_resource_id, or cluster_name and cluster_resource_group."
        )
    match = CLUSTER_ID.fullmatch(cluster_id)
    if not match:
        raise ComputeSpecError(
            f"The cluster id from {given}, {cluster_id!r}, is not the ARM id of a cluster: expected "
            f"/subscriptions/<id>/resourceGroups/<group>/providers/{CONNECTED_CLUSTERS}/<name> (or "
            f"{MANAGED_CLUSTERS} for AKS); a name or group cannot contain '/'."
        )
    problems = _resource_id.name_problems(
        (f"the subscription id in {given}", match.group("subscription"), _resource_id.SUBSCRIPTION_ID),
        (f"the resource group in {given}", match.group("resource_group"), _resource_id.RESOURCE_GROUP),
        (f"the cluster name in {given}", match.group("name"), _resource_id.CLUSTER_NAME),
    )
    if problems:
        raise ComputeSpecError("Invalid cluster to attach: {}. Nothing was sent to Azure.".format("; ".join(problems)))
    cluster_id = cluster_id.rstrip("/")
    subscription = match.group("subscription")
    if subscription.lower() != workspace.subscription_id.lower():
        raise ComputeSpecError(
            f"The cluster is in subscription {subscription} but {workspace.describe()} is not: Azure Machine "
            "Learning doesn't support attaching a cluster across subscriptions. Connect the cluster to Azure Arc "
            "in the workspace's subscription."
        )
    return cluster_id


def identity_from_params(identity):
    """The ARM `identity` block the `identity` option asks for, or None when it is not set."""
    if not identity:
        return None
    kind = identity["type"]
    ids = [i.strip() for i in identity.get("user_assigned_identities") or [] if i and i.strip()]
    if kind == "SystemAssigned":
        if ids:
            raise ComputeSpecError(
                "identity.user_assigned_identities goes with identity.type UserAssigned only: a Kubernetes compute "
                "takes either a system-assigned identity or user-assigned identities, not both."
            )
        return {"type": "SystemAssigned"}
    if not ids:
        raise ComputeSpecError("identity.type UserAssigned needs identity.user_assigned_identities.")
    bad = [i for i in ids if not IDENTITY_ID.match(i)]
    if bad:
        raise ComputeSpecError(
            f"identity.user_assigned_identities {bad[0]!r} is not the ARM id of a user-assigned managed identity "
            "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/<name>)."
        )
    return {"type": "UserAssigned", "userAssignedIdentities": {i: {} for i in ids}}


def cluster_named(params):
    """Whether the options name a cluster (cluster_resource_id, or cluster_name with cluster_resource_group)."""
    return bool(params.get("cluster_resource_id") or params.get("cluster_name"))


def desired_compute(params, workspace):
    """Validate the compute options; return a DesiredCompute, named `name` or else the cluster's default compute
    name (see default_compute_name). No request is made."""
    cluster_id = cluster_id_from_params(params, workspace)
    namespace = params.get("namespace") or DEFAULT_NAMESPACE
    if not is_dns_label(namespace):
        raise ComputeSpecError(
            f"namespace {namespace!r} is not a Kubernetes namespace name: at most 63 lower-case letters, digits and "
            "'-', starting and ending with a letter or digit."
        )
    instance_types = None
    if params.get("instance_types") is not None:
        instance_types = {}
        for entry in params["instance_types"]:
            spec = build_spec(
                entry.get("name"),
                entry.get("node_selector"),
                entry.get("requests"),
                entry.get("limits"),
                what="instance_types entry",
            )
            if spec.name in instance_types:
                raise ComputeSpecError(f"instance_types names {spec.name} more than once.")
            instance_types[spec.name] = spec
    default_instance_type = params.get("default_instance_type")
    if default_instance_type is not None:
        check_object_name(default_instance_type, "default_instance_type")
    return DesiredCompute(
        name=params.get("name") or default_compute_name(cluster_id),
        workspace=workspace,
        cluster_id=cluster_id,
        namespace=namespace,
        description=params.get("description"),
        identity=identity_from_params(params.get("identity")),
        default_instance_type=default_instance_type,
        instance_types=instance_types,
    )


def attach_body(desired, location, tags=None):
    """The PUT body that attaches `desired`, as azure-ai-ml builds it (location: the workspace's).

    azure-ai-ml's ml_client.compute.begin_attach() is begin_create_or_update(), which sets the compute's location
    to the workspace's for every compute type but AmlCompute
    (https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/ml/azure-ai-ml/azure/ai/ml/operations/_compute_operations.py),
    and KubernetesCompute._to_rest_object() sends it twice: ComputeResource.location and
    Kubernetes.compute_location, i.e. properties.computeLocation
    (https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/ml/azure-ai-ml/azure/ai/ml/entities/_compute/kubernetes_compute.py).
    Fields that are None (description, identity, tags) are left out, as its serializer does.
    `tags`: those of the compute a re-attach replaces. The detach deletes that compute resource, so the attach
    carries its tags (added by Azure Policy or by people) over; KubernetesCompute._to_rest_object() sends
    ComputeResource.tags in the same PUT.
    """
    kubernetes = {"namespace": desired.namespace}
    if desired.default_instance_type is not None:
        kubernetes["defaultInstanceType"] = desired.default_instance_type
    if desired.instance_types is not None:
        kubernetes["instanceTypes"] = {name: spec.compute_schema() for name, spec in desired.instance_types.items()}
    properties = {
        "computeType": "Kubernetes",
        "computeLocation": location,
        "resourceId": desired.cluster_id,
        "properties": kubernetes,
    }
    if desired.description is not None:
        properties["description"] = desired.description
    body = {"location": location, "properties": properties}
    if desired.identity is not None:
        body["identity"] = desired.identity
    if tags:
        body["tags"] = dict(tags)
    return body


def _identity_view(identity):
    if not identity or (identity.get("type") or "None") == "None":
        return None
    return {
        "type": identity.get("type"),
        "user_assigned_identities": sorted(identity.get("userAssignedIdentities") or {}),
    }


def _instance_types_view(instance_types):
    if instance_types is None:
        return None
    return {name: normalize(schema) for name, schema in sorted(instance_types.items())}


def attached_view(compute):
    """The managed fields of an attached compute (an ARM body), for drift and diff."""
    properties = compute.get("properties") or {}
    kubernetes = properties.get("properties") or {}
    return {
        "cluster_resource_id": properties.get("resourceId"),
        "namespace": kubernetes.get("namespace") or DEFAULT_NAMESPACE,
        "description": properties.get("description"),
        "identity": _identity_view(compute.get("identity")),
        "default_instance_type": kubernetes.get("defaultInstanceType"),
        "instance_types": _instance_types_view(kubernetes.get("instanceTypes")),
        "provisioning_state": properties.get("provisioningState"),
    }


def desired_view(desired):
    """The managed fields as the task asks for them (None: not managed), in attached_view's shape."""
    view = attached_view(attach_body(desired, location=None))
    view.update(description=desired.description, provisioning_state="Succeeded")
    return view


def compute_facts(compute):
    """What a task returns about a compute: its ARM body without the service's secrets, in snake_case."""
    properties = compute.get("properties") or {}
    kubernetes = properties.get("properties") or {}
    identity = compute.get("identity") or {}
    errors = []
    for entry in properties.get("provisioningErrors") or []:
        error = (entry or {}).get("error") or entry or {}
        errors.append({"code": error.get("code"), "message": error.get("message")})
    facts = {
        "id": compute.get("id"),
        "name": compute.get("name"),
        "location": compute.get("location"),
        "compute_type": properties.get("computeType"),
        "provisioning_state": properties.get("provisioningState"),
        "provisioning_errors": errors,
        "cluster_resource_id": properties.get("resourceId"),
        "description": properties.get("description"),
        "is_attached_compute": properties.get("isAttachedCompute"),
        "created_on": properties.get("createdOn"),
        "modified_on": properties.get("modifiedOn"),
        "identity": None,
        "namespace": None,
        "default_instance_type": None,
        "instance_types": None,
        "extension_instance_release_train": None,
    }
    if identity and identity.get("type") not in (None, "None"):
        facts["identity"] = {
            "type": identity.get("type"),
            "principal_id": identity.get("principalId"),
            "tenant_id": identity.get("tenantId"),
            "user_assigned_identities": {
                key: {"principal_id": (value or {}).get("principalId"), "client_id": (value or {}).get("clientId")}
                for key, value in (identity.get("userAssignedIdentities") or {}).items()
            },
        }
    if properties.get("computeType") == "Kubernetes":
        facts.update(
            namespace=kubernetes.get("namespace") or DEFAULT_NAMESPACE,
            default_instance_type=kubernetes.get("defaultInstanceType"),
            instance_types=_instance_types_view(kubernetes.get("instanceTypes")),
            extension_instance_release_train=kubernetes.get("extensionInstanceReleaseTrain"),
        )
    return facts
