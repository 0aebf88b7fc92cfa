"""Microsoft.MachineLearningServices: workspaces (GET) and Kubernetes computes.

API: https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json;
prerequisites: https://learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace.

Attach is a PUT of the compute (201 + Azure-AsyncOperation), detach a DELETE
with `underlyingResourceAction=Detach`. The cluster must be an Arc cluster in
the workspace's subscription with a succeeded Azure ML extension. Re-PUT of an
attached Kubernetes compute "appears to succeed but does not": the answer is a
success and the stored compute is left as it was, as the service does.
"""

from __future__ import annotations

import re
import uuid

from aiohttp import web

from . import extensions, lro, resource_groups, resources, schema
from .arm import ArmError, ArmRequest, Router, json_response, not_found
from .clock import iso
from .connected_clusters import TYPE_PATH as CLUSTER_TYPE_PATH

NAMESPACE = "Microsoft.MachineLearningServices"
WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"
COMPUTE_TYPE = "Microsoft.MachineLearningServices/workspaces/computes"
AZUREML_EXTENSION_TYPE = "microsoft.azureml.kubernetes"
TSG = "https://aka.ms/arcmltsg"

COMPUTE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,14}[a-zA-Z0-9]$")
COMPUTE_NAME_MESSAGE = (
    "Compute name is invalid. It can include letters, digits and dashes. It must start with a letter, end with a "
    "letter or digit, and be between 2 and 16 characters in length"
)
# The path pattern the API declares from 2026-03-01 on (no trailing '-<digits>').
COMPUTE_NAME_PATTERN_FROM = "2026-03-01"
COMPUTE_NAME_PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")
CLUSTER_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"(?P<type>Microsoft\.Kubernetes/connectedClusters|Microsoft\.ContainerService/managedClusters)/(?P<name>[^/]+)/?$",
    re.IGNORECASE,
)
UNDERLYING_ACTIONS = ("delete", "detach")
IDENTITY_TYPES = ("None", "SystemAssigned", "UserAssigned")


def user_error(message: str, inner: str = "BadArgument", status: int = 400) -> ArmError:
    """The Azure ML resource provider's error shape: code UserError with an innerError code."""
    return ArmError(status, "UserError", message, details=[], innerError={"code": inner})


def workspace_id(ctx, rg: str, name: str) -> str:
    return resources.arm_id(ctx, rg, f"{WORKSPACE_TYPE}/{name}")


def create_workspace(ctx, rg: str, name: str, location: str) -> dict:
    """A workspace as the sandbox seeds it from the sites file."""
    wid = workspace_id(ctx, rg, name)
    existing = resources.body(ctx, wid)
    if existing is not None:
        return existing
    base = f"/subscriptions/{ctx.store.subscription_id}/resourceGroups/{rg}/providers"
    workspace = {
        "id": wid,
        "name": name,
        "type": WORKSPACE_TYPE,
        "location": location,
        "kind": "Default",
        "tags": {},
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned", "principalId": str(uuid.uuid4()), "tenantId": ctx.store.tenant_id},
        "systemData": resources.system_data(None),
        "properties": {
            "friendlyName": name,
            "workspaceId": str(uuid.uuid4()),
            "provisioningState": "Succeeded",
            "storageAccount": f"{base}/Microsoft.Storage/storageAccounts/st{name.replace('-', '')[:20]}",
            "keyVault": f"{base}/Microsoft.KeyVault/vaults/kv-{name}"[:200],
            "applicationInsights": f"{base}/Microsoft.Insights/components/appi-{name}",
            "hbiWorkspace": False,
            "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False,
            "tenantId": ctx.store.tenant_id,
            "creationTime": iso(),
        },
    }
    resources.save(ctx, "mlWorkspace", workspace)
    return workspace


def _require_workspace(req: ArmRequest) -> dict:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    ws = resources.body(req.ctx, workspace_id(req.ctx, req.params["resourceGroupName"], req.params["workspaceName"]))
    if ws is None:
        raise not_found(WORKSPACE_TYPE, req.params["workspaceName"], req.params["resourceGroupName"])
    return ws


def _compute_id(ws: dict, name: str) -> str:
    return f"{ws['id']}/computes/{name}"


async def get_workspace(req: ArmRequest) -> web.Response:
    return json_response(_require_workspace(req))


async def list_workspaces(req: ArmRequest) -> web.Response:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    scope = f"/subscriptions/{req.ctx.store.subscription_id}/resourceGroups/{req.params['resourceGroupName']}"
    return json_response({"value": resources.list_of(req.ctx, "mlWorkspace", scope)})


def _check_name(name: str, api_version: str) -> None:
    if not COMPUTE_NAME.match(name):
        raise user_error(COMPUTE_NAME_MESSAGE)
    if api_version.lower() >= COMPUTE_NAME_PATTERN_FROM and not COMPUTE_NAME_PATTERN.match(name):
        raise user_error(
            f"{COMPUTE_NAME_MESSAGE}. From api-version {COMPUTE_NAME_PATTERN_FROM} it must also not end with '-' "
            "followed by digits."
        )


def check_compute_body(body: dict) -> dict:
    """The body's `properties` after the 2025-12-01 spec's rules for a compute PUT; 400 otherwise.

    The rules (required properties and computeType, the ComputeType enum, identity.type, read-only properties
    ignored) are the rule table sandbox/emulator/schema.py::COMPUTE_PUT, written from
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json
    `computeLocation` is optional (mutability read, create): azure-ai-ml sends the workspace's. The wording of
    these errors is the sandbox's; their shape is the Azure ML provider's (UserError).
    """
    checked, _ignored = schema.check(body, schema.COMPUTE_PUT, lambda message, target: user_error(message))
    requested = checked["properties"]
    if requested["computeType"] != "Kubernetes":
        raise user_error("The sandbox attaches computes of computeType 'Kubernetes' only.")
    return requested


def _azureml_extension(ctx, cluster_id: str) -> dict | None:
    for record in extensions.records_of(ctx, cluster_id):
        properties = record["resource"]["properties"]
        if (
            properties["extensionType"].lower() == AZUREML_EXTENSION_TYPE
            and properties["provisioningState"] == "Succeeded"
        ):
            return record["resource"]
    return None


def _check_cluster(ctx, resource_id) -> dict:
    """The Azure ML extension of the cluster a compute attaches, after the service's checks."""
    if not isinstance(resource_id, str) or not resource_id:
        raise user_error("'properties.resourceId' is required to attach a Kubernetes compute.")
    match = CLUSTER_ID.match(resource_id)
    if match is None:
        raise user_error(
            f"Invalid resourceId '{resource_id}'. Expected the ARM id of a Microsoft.Kubernetes/connectedClusters or "
            "Microsoft.ContainerService/managedClusters resource."
        )
    if match["sub"].lower() != ctx.store.subscription_id.lower():
        raise user_error(
            "Azure Machine Learning doesn't support attaching a Kubernetes cluster cross subscription. Connect it to "
            "Azure Arc in the same subscription as your Azure Machine Learning workspace."
        )
    cluster = resources.body(ctx, resource_id) if match["type"].lower() == CLUSTER_TYPE_PATH.lower() else None
    if cluster is None:
        raise user_error(f"The Kubernetes cluster '{resource_id}' was not found.", "NotFound")
    extension = _azureml_extension(ctx, cluster["id"])
    if extension is None:
        raise user_error(
            f"Compute attach failed: extension not installed. No succeeded Azure Machine Learning extension "
            f"({AZUREML_EXTENSION_TYPE}) was found on the cluster '{resource_id}'. Install it first; see {TSG}.",
            "ExtensionNotInstalled",
        )
    return extension


def _identity(ctx, requested: dict | None) -> dict | None:
    if not requested:
        return None
    kind = requested.get("type", "None")
    if kind not in IDENTITY_TYPES:
        raise user_error(
            "A Kubernetes compute takes either a system-assigned identity or user-assigned identities, not both; "
            f"identity type must be one of {list(IDENTITY_TYPES)}."
        )
    if kind == "None":
        return {"type": "None"}
    if kind == "SystemAssigned":
        return {"type": kind, "principalId": str(uuid.uuid4()), "tenantId": ctx.store.tenant_id}
    assigned = requested.get("userAssignedIdentities") or {}
    if not assigned:
        raise user_error("'identity.userAssignedIdentities' is required with identity type 'UserAssigned'.")
    return {
        "type": kind,
        "userAssignedIdentities": {
            uami: {"principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())} for uami in assigned
        },
    }


async def put_compute(req: ArmRequest) -> web.Response:
    ws = _require_workspace(req)
    name = req.params["computeName"]
    _check_name(name, req.api_version)
    body = await req.json_object()
    requested = check_compute_body(body)
    extension = _check_cluster(req.ctx, requested.get("resourceId"))
    cid = _compute_id(ws, name)
    previous = resources.body(req.ctx, cid)
    if previous is not None:
        resources.require_idle(req.ctx, cid)
        # Updating an attached Kubernetes compute appears to succeed but does not:
        # https://learn.microsoft.com/azure/machine-learning/known-issues/inferencing-updating-kubernetes-compute-appears-to-succeed
        op = _start(req, previous, ws, "update", provisioning=None)
        return json_response(previous, 200, req.ctx.operations.headers(op))
    kubernetes = dict(requested.get("properties") or {})
    kubernetes.setdefault("namespace", "default")
    kubernetes.update(
        extensionInstanceReleaseTrain="stable",
        extensionPrincipalId=(extension.get("identity") or {}).get("principalId"),
        relayConnectionString=None,
        serviceBusConnectionString=None,
        vcName=None,
    )
    compute = {
        "id": cid,
        "name": name,
        "type": COMPUTE_TYPE,
        "location": body.get("location") or ws["location"],
        "tags": body.get("tags") or {},
        "systemData": resources.system_data(req.principal),
        "properties": {
            "description": requested.get("description"),
            "computeType": "Kubernetes",
            "provisioningState": "Creating",
            "resourceId": requested["resourceId"],
            "isAttachedCompute": True,
            "createdOn": iso(),
            "modifiedOn": iso(),
            "provisioningErrors": None,
            "disableLocalAuth": bool(requested.get("disableLocalAuth", False)),
            "properties": kubernetes,
        },
    }
    if requested.get("computeLocation"):
        compute["properties"]["computeLocation"] = requested["computeLocation"]
    identity = _identity(req.ctx, body.get("identity"))
    if identity is not None:
        compute["identity"] = identity
    resources.save(req.ctx, "mlCompute", compute)
    op = _start(req, compute, ws, "create", provisioning="Creating")
    return json_response(compute, 201, req.ctx.operations.headers(op))


def _start(req: ArmRequest, compute: dict, ws: dict, action: str, provisioning: str | None) -> dict:
    if provisioning:
        compute["properties"]["provisioningState"] = provisioning
    return req.ctx.operations.start(
        kind="mlCompute",
        style="ml",
        resource_id=compute["id"],
        action=action,
        running_status="InProgress",
        namespace=NAMESPACE,
        location=ws["location"],
        api_version=req.api_version,
    )


async def get_compute(req: ArmRequest) -> web.Response:
    ws = _require_workspace(req)
    compute = resources.body(req.ctx, _compute_id(ws, req.params["computeName"]))
    if compute is None:
        raise not_found(
            f"{WORKSPACE_TYPE}/{ws['name']}/computes", req.params["computeName"], req.params["resourceGroupName"]
        )
    return json_response(compute)


async def list_computes(req: ArmRequest) -> web.Response:
    ws = _require_workspace(req)
    return json_response({"value": resources.list_of(req.ctx, "mlCompute", ws["id"])})


async def delete_compute(req: ArmRequest) -> web.Response:
    ws = _require_workspace(req)
    action = req.query("underlyingResourceAction")
    if not action or action.lower() not in UNDERLYING_ACTIONS:
        raise user_error(
            f"The query parameter 'underlyingResourceAction' is required and must be one of 'Delete', 'Detach'; got "
            f"'{action}'."
        )
    cid = _compute_id(ws, req.params["computeName"])
    compute = resources.body(req.ctx, cid)
    if compute is None:
        return web.Response(status=204)
    op = req.ctx.operations.active_for(cid)
    if op is None or op["action"] != "delete":
        op = _start(req, compute, ws, "delete", provisioning="Deleting")
    return web.Response(status=202, headers=req.ctx.operations.headers(op, location="result"))


@lro.finalizer("mlCompute")
def _finish(ctx, op: dict):
    if op["action"] == "delete":
        ctx.store.delete("resources", op["resource_id"])
        return "Succeeded", None
    compute = resources.body(ctx, op["resource_id"])
    if compute is not None:
        compute["properties"]["provisioningState"] = "Succeeded"
    return "Succeeded", None


@lro.resource_view("mlCompute")
def _view(ctx, resource_id: str):
    return resources.body(ctx, resource_id)


def register(router: Router) -> None:
    rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    workspaces = rg + "/providers/Microsoft.MachineLearningServices/workspaces"
    ws = workspaces + "/{workspaceName}"
    ws_options = {"namespace": NAMESPACE, "resource_type": WORKSPACE_TYPE}
    compute_options = {"namespace": NAMESPACE, "resource_type": COMPUTE_TYPE}
    router.add("GET", workspaces, list_workspaces, **ws_options)
    router.add("GET", ws, get_workspace, **ws_options)
    router.add("GET", ws + "/computes", list_computes, **compute_options)
    router.add("PUT", ws + "/computes/{computeName}", put_compute, **compute_options)
    router.add("GET", ws + "/computes/{computeName}", get_compute, **compute_options)
    router.add("DELETE", ws + "/computes/{computeName}", delete_compute, **compute_options)
