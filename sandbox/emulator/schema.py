"""Request bodies checked against the REST spec of their api-version, the way the service checks them.

A compact, hand-written rule table per body, written from the spec files (not from the collection):

- connectedClusters PUT / PATCH, api-version 2026-05-01: definitions ConnectedCluster, ConnectedClusterIdentity,
  ConnectedClusterProperties, ArcAgentProfile, OidcIssuerProfile, ConnectedClusterPatch in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
  (ConnectedCluster requires `properties` and `identity` and, through TrackedResource, `location`;
  ConnectedClusterProperties requires `agentPublicKeyCertificate`; ConnectedClusterIdentity requires `type`,
  enum None | SystemAssigned).
- extensions PUT, api-version 2024-11-01: definition Extension in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json
  (no required property; read-only currentVersion, provisioningState, errorInfo, customLocationSettings,
  packageUri, isSystemExtension, aksAssignedIdentity.principalId/tenantId; aksAssignedIdentity.type enum
  SystemAssigned | UserAssigned; identity is common-types v2 Identity, type enum SystemAssigned; plan is
  common-types v2 Plan, which requires name, publisher and product:
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/common-types/resource-management/v2/types.json).
- ML computes PUT, api-version 2025-12-01: definitions ComputeResource, Compute (computeType required, the
  ComputeType enum; read-only provisioningState, createdOn, modifiedOn, provisioningErrors, isAttachedCompute)
  in https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json
  and ManagedServiceIdentity (type required; principalId, tenantId read-only) in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/common-types/resource-management/v3/managedidentity.json
- Relay namespaces, hybridConnections and authorizationRules PUT, api-version 2021-11-01: RelayNamespace
  (TrackedResource; Sku requires `name`, enum Standard; tier enum Standard; read-only provisioningState, status,
  createdAt, updatedAt, serviceBusEndpoint, metricId; publicNetworkAccess enum Enabled | Disabled |
  SecuredByPerimeter) in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01/Namespaces.json,
  HybridConnection (read-only createdAt, updatedAt, listenerCount) in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01/hybridConnections.json,
  AuthorizationRule (properties.rights required, items enum Manage | Send | Listen, checked by the handler) in
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01/authorizationRules.json

What the checks do, and why:

- a required property that is missing (or, for an object, not an object) is a 400;
- an enum value outside the spec's list is a 400 (compared case-insensitively, as the services' enum
  deserialisation does);
- read-only properties in a PUT body are ignored, not refused: ARM's review rules for resource-manager specs
  (https://github.com/Azure/azure-rest-api-specs/blob/main/.github/instructions/armapi-review.instructions.md,
  "PUT/PATCH Must Tolerate Read-Only Properties (OAPI021)") say PUT and PATCH MUST NOT fail when the body
  carries read-only properties with their current values, because az, Terraform and Bicep GET a resource and
  PUT it back; the fix they name is to ignore them silently. The emulator drops them before the handler
  builds the resource;
- unknown properties are not refused here: none of these definitions sets `additionalProperties: false`,
  and no source we found shows these providers refusing them. The handlers keep their own whitelists
  where the service documents one (the PATCH bodies).

Rules apply at the api-version they were written from; other api-versions keep the handlers' own checks.
"""

from __future__ import annotations

import copy
from typing import Callable

from .arm import ArmError

ErrorFactory = Callable[[str, str], ArmError]

# Resource envelope properties every ARM resource marks read-only (common-types Resource).
ENVELOPE_READ_ONLY = ("id", "name", "type", "systemData")


def invalid_content(message: str, target: str) -> ArmError:
    """The error the emulator answers for a body the spec refuses: ARM's envelope with a target."""
    return ArmError(400, "InvalidRequestContent", message, target=target)


def rule(
    *,
    required: tuple = (),
    read_only: tuple = (),
    enums: dict | None = None,
    objects: dict | None = None,
    labels: dict | None = None,
) -> dict:
    """One object's rules: required and read-only property names, enums, nested object rules."""
    return {
        "required": required,
        "read_only": read_only,
        "enums": enums or {},
        "objects": objects or {},
        "labels": labels or {},
    }


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check(body: dict, spec: dict, prefix: str, fail: ErrorFactory, ignored: list) -> None:
    for name in spec["read_only"]:
        if name in body:
            del body[name]
            ignored.append(_path(prefix, name))
    for name in spec["required"]:
        value = body.get(name)
        if value is None or (name in spec["objects"] and not isinstance(value, dict)):
            path = _path(prefix, name)
            raise fail(f"The property '{path}' is required.", path)
    for name, allowed in spec["enums"].items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or value.lower() not in {a.lower() for a in allowed}:
            path = _path(prefix, name)
            label = spec["labels"].get(name, f"valid value for '{path}'")
            raise fail(f"'{value}' is not a {label}: expected one of {list(allowed)}.", path)
    for name, nested in spec["objects"].items():
        value = body.get(name)
        if value is None:
            continue
        path = _path(prefix, name)
        if not isinstance(value, dict):
            raise fail(f"The property '{path}' must be an object.", path)
        _check(value, nested, path, fail, ignored)


def check(body: dict, spec: dict, fail: ErrorFactory = invalid_content) -> tuple[dict, list]:
    """The body with its read-only properties removed, and the paths removed; the factory's 400 otherwise."""
    cleaned = copy.deepcopy(body)
    ignored: list = []
    _check(cleaned, spec, "", fail, ignored)
    return cleaned, ignored


# --- Microsoft.Kubernetes/connectedClusters, stable 2026-05-01 ---------------------------------------------

# The properties the 2026-05-01 spec marks readOnly (the handler also ignores provisioningState, which the service
# sets but this spec does not mark).
CONNECTED_CLUSTER_READ_ONLY = (
    "kubernetesVersion",
    "totalNodeCount",
    "totalCoreCount",
    "agentVersion",
    "offering",
    "managedIdentityCertificateExpirationTime",
    "lastConnectivityTime",
    "connectivityStatus",
    "miscellaneousProperties",
)

CONNECTED_CLUSTER_API_VERSION = "2026-05-01"

CONNECTED_CLUSTER_PUT = rule(
    required=("location", "properties", "identity"),
    read_only=ENVELOPE_READ_ONLY,
    enums={"kind": ("ProvisionedCluster",)},
    objects={
        "identity": rule(
            required=("type",),
            read_only=("principalId", "tenantId"),
            enums={"type": ("None", "SystemAssigned")},
        ),
        "properties": rule(
            required=("agentPublicKeyCertificate",),
            # provisioningState is not marked readOnly in this spec; the handler ignores it as the service sets it.
            read_only=CONNECTED_CLUSTER_READ_ONLY,
            enums={
                "privateLinkState": ("Enabled", "Disabled"),
                "azureHybridBenefit": ("True", "False", "NotApplicable"),
            },
            objects={
                "arcAgentProfile": rule(read_only=("agentState",), enums={"agentAutoUpgrade": ("Enabled", "Disabled")}),
                "oidcIssuerProfile": rule(read_only=("issuerUrl",)),
                "aadProfile": rule(),
                "securityProfile": rule(objects={"workloadIdentity": rule()}),
            },
        ),
    },
)

CONNECTED_CLUSTER_PATCH = rule(
    objects={
        "properties": rule(
            enums={"azureHybridBenefit": ("True", "False", "NotApplicable")},
            objects={"gateway": rule()},
        ),
    },
)

# --- Microsoft.KubernetesConfiguration/extensions, stable 2024-11-01 ---------------------------------------

EXTENSION_API_VERSION = "2024-11-01"

EXTENSION_PUT = rule(
    read_only=ENVELOPE_READ_ONLY,
    objects={
        "identity": rule(read_only=("principalId", "tenantId"), enums={"type": ("SystemAssigned",)}),
        "plan": rule(required=("name", "publisher", "product")),
        "properties": rule(
            read_only=(
                "currentVersion",
                "provisioningState",
                "errorInfo",
                "customLocationSettings",
                "packageUri",
                "isSystemExtension",
            ),
            objects={
                "scope": rule(objects={"cluster": rule(), "namespace": rule()}),
                "aksAssignedIdentity": rule(
                    read_only=("principalId", "tenantId"),
                    enums={"type": ("SystemAssigned", "UserAssigned")},
                ),
            },
        ),
    },
)

# --- Microsoft.MachineLearningServices/workspaces/computes, stable 2025-12-01 ------------------------------

COMPUTE_API_VERSION = "2025-12-01"

# definitions.ComputeType of the 2025-12-01 spec.
COMPUTE_TYPES = (
    "AKS",
    "Kubernetes",
    "AmlCompute",
    "ComputeInstance",
    "DataFactory",
    "VirtualMachine",
    "HDInsight",
    "Databricks",
    "DataLakeAnalytics",
    "SynapseSpark",
)

COMPUTE_PUT = rule(
    required=("properties",),
    read_only=ENVELOPE_READ_ONLY,
    objects={
        "identity": rule(
            required=("type",),
            read_only=("principalId", "tenantId"),
            enums={"type": ("None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")},
        ),
        "properties": rule(
            required=("computeType",),
            read_only=("provisioningState", "createdOn", "modifiedOn", "provisioningErrors", "isAttachedCompute"),
            enums={"computeType": COMPUTE_TYPES},
            labels={"computeType": "compute type"},
        ),
    },
)


# --- Microsoft.Relay, stable 2021-11-01 ---------------------------------------------------------------------

RELAY_API_VERSION = "2021-11-01"

RELAY_NAMESPACE_PUT = rule(
    required=("location",),
    read_only=ENVELOPE_READ_ONLY,
    objects={
        "sku": rule(required=("name",), enums={"name": ("Standard",), "tier": ("Standard",)}),
        "properties": rule(
            read_only=("provisioningState", "status", "createdAt", "updatedAt", "serviceBusEndpoint", "metricId"),
            enums={"publicNetworkAccess": ("Enabled", "Disabled", "SecuredByPerimeter")},
        ),
    },
)

RELAY_HYBRID_CONNECTION_PUT = rule(
    read_only=ENVELOPE_READ_ONLY,
    objects={"properties": rule(read_only=("createdAt", "updatedAt", "listenerCount"))},
)

RELAY_AUTHORIZATION_RULE_PUT = rule(
    read_only=ENVELOPE_READ_ONLY,
    objects={"properties": rule(required=("rights",))},
)


def applies(api_version: str | None, written_for: str) -> bool:
    return (api_version or "").lower() == written_for


def connected_cluster_put(body: dict, api_version: str | None) -> dict:
    """A connectedClusters PUT body after the 2026-05-01 rules (read-only properties dropped)."""
    if not applies(api_version, CONNECTED_CLUSTER_API_VERSION):
        return body
    return check(body, CONNECTED_CLUSTER_PUT)[0]


def connected_cluster_patch(body: dict, api_version: str | None) -> dict:
    if not applies(api_version, CONNECTED_CLUSTER_API_VERSION):
        return body
    return check(body, CONNECTED_CLUSTER_PATCH)[0]


def extension_put(body: dict, api_version: str | None) -> dict:
    """An extensions PUT body after the 2024-11-01 rules (read-only properties dropped)."""
    if not applies(api_version, EXTENSION_API_VERSION):
        return body
    return check(body, EXTENSION_PUT)[0]


def relay_put(body: dict, spec: dict, api_version: str | None) -> dict:
    """A Relay namespace, hybrid connection or authorization rule PUT body after the 2021-11-01 rules."""
    if not applies(api_version, RELAY_API_VERSION):
        return body
    return check(body, spec)[0]
