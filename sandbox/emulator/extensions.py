"""Microsoft.KubernetesConfiguration/extensions on connected clusters.

API: https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/stable/2023-05-01/extensions.json

Create (PUT), PATCH with the service's merge rules (configurationSettings merge
key-wise, configurationProtectedSettings are replaced as a whole), DELETE
(`forceDelete=true` removes the resource at once), list. Protected settings
are write-only (`x-ms-secret` in the 2024-11-01 spec,
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json):
responses carry their keys with null values, never a value. A PATCH cannot
remove a configuration setting (a null value is ignored); a PUT over an
existing extension (200, as the spec's Extensions_Create answers for "an
existing resource") replaces its settings and protected settings as a whole,
so it is the way to drop a setting. The extension has no tags and no other
free-form field: whatever a client keeps in configurationSettings reaches the
chart as a value.

Who finishes an extension operation depends on the `agent_mode` setting:
"emulated" finishes it after `lro_seconds` (Succeeded on a Connected cluster,
otherwise Failed with the error the service reports when the agents do not
answer); "external" waits for the stand-in agents' report (`complete`).
"""

from __future__ import annotations

from aiohttp import web

from . import lro, resource_groups, resources, schema
from .arm import ArmRequest, Router, bad_request, invalid_content, json_response, not_found
from .connected_clusters import TYPE_PATH as CLUSTER_TYPE_PATH
from .connected_clusters import cluster_id
from .providers import EXTENSION_API_VERSIONS

NAMESPACE = "Microsoft.KubernetesConfiguration"
TYPE = "Microsoft.KubernetesConfiguration/extensions"
KIND = "extension"
CLUSTER_PARENT = ("microsoft.kubernetes", "connectedclusters")

# Release namespace the service picks when a cluster-scoped extension names none.
DEFAULT_RELEASE_NAMESPACE = {"microsoft.azureml.kubernetes": "azureml"}
DEFAULT_CURRENT_VERSION = {"microsoft.azureml.kubernetes": "1.1.61"}
PATCHABLE = (
    "autoUpgradeMinorVersion",
    "releaseTrain",
    "version",
    "configurationSettings",
    "configurationProtectedSettings",
    "autoUpgradeMode",
)
IMMUTABLE = ("extensionType", "scope")

AGENT_UNREACHABLE = {
    "code": "ExtensionOperationFailed",
    "message": "The extension operation failed with the following error: Unable to get response from the Agent in "
    "time, please ensure the extension agents on the cluster are able to connect to Azure services",
}

# The Azure ML extension's release fails on values it cannot run with (the stand-in chart,
# sandbox/charts/azureml/templates/validate.yaml, fails with the same words). The rules are az k8s-extension's
# (AzureMLKubernetes.py,
# https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py)
# plus what the scoring front end needs: one service type, the one inferenceRouterServiceType names.
AZUREML_TSG = "https://aka.ms/arcmltsg"
AZUREML_NO_WORKLOAD = (
    "To create Microsoft.AzureML.Kubernetes extension, either enable Machine Learning training or inference by "
    "specifying '--configuration-settings enableTraining=true' or '--configuration-settings enableInference=true'."
    f"Please check {AZUREML_TSG} for more information."
)
AZUREML_ROUTER = (
    "To use inference, please specify inferenceRouterServiceType=ClusterIP or inferenceRouterServiceType=NodePort or "
    "inferenceRouterServiceType=LoadBalancer in --configuration-settings and also set internalLoadBalancerProvider="
    f"azure if your aks only supports internal load balancer.Check {AZUREML_TSG} for more information."
)
AZUREML_BOTH_TYPES = (
    "scoringFe.serviceType.nodePort and scoringFe.serviceType.internalLoadBalancer are both true: the scoring front "
    "end service is either a NodePort or an internal load balancer."
)
AZUREML_TYPE_MISMATCH = (
    "scoringFe.serviceType.nodePort is {flag} but inferenceRouterServiceType is {service_type}: az k8s-extension "
    "writes scoringFe.serviceType.nodePort=true exactly when inferenceRouterServiceType is NodePort."
)
AZUREML_SERVICE_TYPES = ("nodeport", "loadbalancer", "clusterip")


def _true(value) -> bool:
    return str(value).lower() == "true"


def azureml_release_error(settings: dict) -> str | None:
    """Why the Azure ML release cannot install with these configuration settings, or None."""
    inference = _true(settings.get("enableInference"))
    if not (_true(settings.get("enableTraining")) or inference):
        return AZUREML_NO_WORKLOAD
    if not inference:
        return None
    service_type = str(settings.get("inferenceRouterServiceType") or "")
    if service_type.lower() not in AZUREML_SERVICE_TYPES:
        return AZUREML_ROUTER
    node_port = settings.get("scoringFe.serviceType.nodePort")
    if _true(node_port) and _true(settings.get("scoringFe.serviceType.internalLoadBalancer")):
        return AZUREML_BOTH_TYPES
    if _true(node_port) != (service_type.lower() == "nodeport"):
        return AZUREML_TYPE_MISMATCH.format(
            flag="(unset)" if node_port is None else node_port, service_type=service_type
        )
    return None


def extension_id(cid: str, name: str) -> str:
    return f"{cid}/providers/{TYPE}/{name}"


def _cluster(req: ArmRequest) -> dict:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    parent = (req.params["clusterRp"].lower(), req.params["clusterResourceName"].lower())
    cid = cluster_id(req.ctx, req.params["resourceGroupName"], req.params["clusterName"])
    cluster = resources.body(req.ctx, cid) if parent == CLUSTER_PARENT else None
    if cluster is None:
        type_path = f"{req.params['clusterRp']}/{req.params['clusterResourceName']}"
        raise not_found(type_path, req.params["clusterName"], req.params["resourceGroupName"])
    return cluster


def _record(req: ArmRequest, cluster: dict) -> dict | None:
    return resources.get(req.ctx, extension_id(cluster["id"], req.params["extensionName"]))


def _string_map(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) or v is None for v in value.values()):
        raise invalid_content(f"'properties.{field}' must be a map of string to string.")
    return value


def _check_version_rules(properties: dict) -> None:
    if properties.get("version") and properties.get("autoUpgradeMinorVersion", True):
        raise bad_request(
            "To use 'version', autoUpgradeMinorVersion must be 'false'. Set autoUpgradeMinorVersion to false to pin "
            "the extension to a version."
        )


def _scope(properties: dict, name: str) -> dict:
    """The scope as stored: cluster scope names its release namespace (the service picks one if the client did not)."""
    default_namespace = DEFAULT_RELEASE_NAMESPACE.get(properties["extensionType"].lower(), name)
    scope = properties.get("scope")
    if scope is None:
        return {"cluster": {"releaseNamespace": default_namespace}}
    if not isinstance(scope, dict) or len([k for k in ("cluster", "namespace") if scope.get(k) is not None]) != 1:
        raise bad_request("'properties.scope' must have exactly one of 'cluster' or 'namespace'.")
    if scope.get("cluster") is not None:
        return {"cluster": {"releaseNamespace": default_namespace, **scope["cluster"]}}
    return {"namespace": dict(scope["namespace"])}


def _record_protected(req: ArmRequest, cluster: dict, body) -> None:
    """The protected settings of a PUT or PATCH body go to the secret registry as they arrive, valid or not."""
    properties = body.get("properties") if isinstance(body, dict) else None
    protected = properties.get("configurationProtectedSettings") if isinstance(properties, dict) else None
    ext_id = extension_id(cluster["id"], req.params["extensionName"])
    for name, value in (protected if isinstance(protected, dict) else {}).items():
        req.ctx.store.record_secret(value, f"protected setting {name} of {ext_id}")


def view(record: dict) -> dict:
    """The resource as the service returns it: protected setting keys only."""
    body = dict(record["resource"])
    properties = dict(body["properties"])
    properties["configurationProtectedSettings"] = {k: None for k in record.get("protected") or {}}
    body["properties"] = properties
    return body


def _immutable_changes(current: dict, requested: dict) -> list:
    changed = []
    if "extensionType" in requested and str(requested["extensionType"]).lower() != current["extensionType"].lower():
        changed.append("extensionType")
    if "scope" in requested and requested["scope"] is not None and requested["scope"] != current["scope"]:
        changed.append("scope")
    return changed


def _reject_immutable(changed: list) -> None:
    if changed:
        raise bad_request(
            f"The properties {changed} of an existing extension cannot be changed. Delete the extension and create "
            "it again to change them.",
            "InvalidUpdate",
        )


def _start(req: ArmRequest, ext: dict, cluster: dict, action: str, running_status: str) -> dict:
    ext["properties"]["provisioningState"] = running_status
    return req.ctx.operations.start(
        kind=KIND,
        style="extension",
        resource_id=ext["id"],
        action=action,
        running_status=running_status,
        namespace=NAMESPACE,
        location=cluster["location"],
        api_version=req.api_version,
        external=req.ctx.store.settings["agent_mode"] == "external",
    )


async def put_extension(req: ArmRequest) -> web.Response:
    cluster = _cluster(req)
    record = _record(req, cluster)
    body = await req.json_object()
    _record_protected(req, cluster, body)
    # The 2024-11-01 spec's rules (sandbox/emulator/schema.py): enums, plan; read-only properties ignored.
    body = schema.extension_put(body, req.api_version)
    requested = body.get("properties")
    if not isinstance(requested, dict) or not isinstance(requested.get("extensionType"), str):
        raise bad_request("The property 'properties.extensionType' is required.", "InvalidRequestContent")
    settings = _string_map(requested.get("configurationSettings"), "configurationSettings")
    protected = _string_map(requested.get("configurationProtectedSettings"), "configurationProtectedSettings")
    name = req.params["extensionName"]
    properties = {
        "extensionType": requested["extensionType"],
        "autoUpgradeMinorVersion": requested.get("autoUpgradeMinorVersion", True),
        "releaseTrain": requested.get("releaseTrain", "Stable"),
        "version": requested.get("version"),
        "scope": _scope(requested, name),
        "configurationSettings": {k: v for k, v in settings.items() if v is not None},
        "currentVersion": None,
        "provisioningState": "Creating",
        "statuses": [],
        "errorInfo": None,
        "customLocationSettings": None,
        "packageUri": None,
        "aksAssignedIdentity": None,
        "isSystemExtension": False,
    }
    if requested.get("autoUpgradeMode"):
        properties["autoUpgradeMode"] = requested["autoUpgradeMode"]
    _check_version_rules(properties)
    previous = record["resource"] if record else None
    if previous is not None:
        resources.require_idle(req.ctx, previous["id"])
        _reject_immutable(_immutable_changes(previous["properties"], properties))
        properties["currentVersion"] = previous["properties"].get("currentVersion")
    ext = {
        "id": extension_id(cluster["id"], (previous or {}).get("name", name)),
        "name": (previous or {}).get("name", name),
        "type": TYPE,
        "systemData": resources.system_data(req.principal, (previous or {}).get("systemData")),
        "properties": properties,
    }
    if body.get("identity") is not None or (previous or {}).get("identity"):
        ext["identity"] = resources.tracked_identity(
            req.ctx,
            body.get("identity") or previous.get("identity"),
            (previous or {}).get("identity"),
            allowed=("SystemAssigned",),
        )
    if body.get("plan"):
        ext["plan"] = body["plan"]
    record = resources.save(req.ctx, KIND, ext, protected={k: v for k, v in protected.items() if v is not None})
    op = _start(req, ext, cluster, "update" if previous else "create", "Updating" if previous else "Creating")
    return json_response(view(record), 200 if previous else 201, req.ctx.operations.headers(op))


async def get_extension(req: ArmRequest) -> web.Response:
    cluster = _cluster(req)
    record = _record(req, cluster)
    if record is None:
        raise not_found(
            f"{CLUSTER_TYPE_PATH}/{cluster['name']}/providers/{TYPE}",
            req.params["extensionName"],
            req.params["resourceGroupName"],
        )
    return json_response(view(record))


def merge_patch(current: dict, requested: dict) -> dict:
    """The extension properties after a PATCH: the service's merge rules.

    autoUpgradeMinorVersion, releaseTrain, version and autoUpgradeMode are replaced when given;
    configurationSettings are merged key by key (a PATCH cannot remove a key); extensionType and
    scope cannot change; configurationProtectedSettings are replaced as a whole (not part of the result).
    """
    _reject_immutable(_immutable_changes(current, requested))
    unknown = set(requested) - set(PATCHABLE) - set(IMMUTABLE)
    if unknown:
        raise bad_request(f"The properties {sorted(unknown)} cannot be updated.")
    updated = dict(current)
    for field in ("autoUpgradeMinorVersion", "releaseTrain", "version", "autoUpgradeMode"):
        if field in requested:
            updated[field] = requested[field]
    merged = dict(current["configurationSettings"])
    for k, v in _string_map(requested.get("configurationSettings"), "configurationSettings").items():
        if v is not None:
            merged[k] = v
    updated["configurationSettings"] = merged
    _check_version_rules(updated)
    return updated


async def patch_extension(req: ArmRequest) -> web.Response:
    cluster = _cluster(req)
    record = _record(req, cluster)
    if record is None:
        raise not_found(
            f"{CLUSTER_TYPE_PATH}/{cluster['name']}/providers/{TYPE}",
            req.params["extensionName"],
            req.params["resourceGroupName"],
        )
    body = await req.json_object()
    _record_protected(req, cluster, body)
    requested = body.get("properties") or {}
    if not isinstance(requested, dict):
        raise invalid_content("'properties' must be an object.")
    ext = record["resource"]
    updated = merge_patch(ext["properties"], requested)
    replaces_protected = "configurationProtectedSettings" in requested
    resources.require_idle(req.ctx, ext["id"])
    if updated == ext["properties"] and not replaces_protected:
        return json_response(view(record))

    ext["properties"] = updated
    if replaces_protected:
        protected = _string_map(requested["configurationProtectedSettings"], "configurationProtectedSettings")
        record["protected"] = {k: v for k, v in protected.items() if v is not None}
    ext["systemData"] = resources.system_data(req.principal, ext.get("systemData"))
    op = _start(req, ext, cluster, "update", "Updating")
    return json_response(view(record), 202, req.ctx.operations.headers(op))


async def delete_extension(req: ArmRequest) -> web.Response:
    cluster = _cluster(req)
    record = _record(req, cluster)
    if record is None:
        return web.Response(status=204)
    ext = record["resource"]
    if (req.query("forceDelete") or "").lower() == "true":
        op = req.ctx.operations.active_for(ext["id"])
        if op is not None:
            req.ctx.operations.finish(op, "Canceled")
        req.ctx.store.delete("resources", ext["id"])
        return web.Response(status=200)
    op = req.ctx.operations.active_for(ext["id"])
    if op is None or op["action"] != "delete":
        op = _start(req, ext, cluster, "delete", "Deleting")
    return web.Response(status=202, headers=req.ctx.operations.headers(op))


async def list_extensions(req: ArmRequest) -> web.Response:
    cluster = _cluster(req)
    records = [r for r in req.ctx.store.under("resources", cluster["id"]) if r["kind"] == KIND]
    return json_response({"value": [view(r) for r in records], "nextLink": None})


def records_of(ctx, cid: str) -> list:
    return [r for r in ctx.store.under("resources", cid) if r["kind"] == KIND]


def _apply_outcome(record: dict, state: str, error: dict | None, current_version: str | None = None) -> None:
    properties = record["resource"]["properties"]
    properties["provisioningState"] = state
    properties["errorInfo"] = error
    if state == "Succeeded":
        properties["currentVersion"] = (
            current_version
            or properties.get("version")
            or DEFAULT_CURRENT_VERSION.get(properties["extensionType"].lower(), "1.0.0")
        )


def complete(
    ctx, ext_id: str, state: str, error: dict | None = None, current_version: str | None = None
) -> dict | None:
    """Apply the agents' outcome to an extension and finish its running operation.

    state: "Succeeded" or "Failed" (install/upgrade), or "Deleted" (uninstalled: the resource goes away).
    """
    record = resources.get(ctx, ext_id)
    if record is None:
        raise KeyError(ext_id)
    op = ctx.operations.active_for(ext_id)
    if state == "Deleted":
        ctx.store.delete("resources", ext_id)
        if op is not None:
            ctx.operations.finish(op, "Succeeded")
        return None
    if state not in ("Succeeded", "Failed"):
        raise ValueError("state must be Succeeded, Failed or Deleted")
    error = (error or AGENT_UNREACHABLE) if state == "Failed" else None
    _apply_outcome(record, state, error, current_version)
    if op is not None:
        ctx.operations.finish(op, state, error)
    ctx.store.touch()
    return view(record)


@lro.finalizer(KIND)
def _finish(ctx, op: dict):
    """Emulated agents: they answer if and only if the cluster is Connected."""
    record = resources.get(ctx, op["resource_id"])
    if record is None:
        return "Succeeded", None
    if op["action"] == "delete":
        ctx.store.delete("resources", op["resource_id"])
        return "Succeeded", None
    cluster = resources.body(ctx, op["resource_id"].rsplit("/providers/", 1)[0])
    connected = cluster is not None and cluster["properties"].get("connectivityStatus") == "Connected"
    state, error = ("Succeeded", None) if connected else ("Failed", AGENT_UNREACHABLE)
    properties = record["resource"]["properties"]
    if connected and properties["extensionType"].lower() == "microsoft.azureml.kubernetes":
        reason = azureml_release_error(properties.get("configurationSettings") or {})
        if reason:
            state = "Failed"
            error = {
                "code": "ExtensionOperationFailed",
                "message": f"The extension operation failed with the following error: {reason}",
            }
    _apply_outcome(record, state, error)
    return state, error


def register(router: Router) -> None:
    base = (
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{clusterRp}/{clusterResourceName}"
        "/{clusterName}/providers/Microsoft.KubernetesConfiguration/extensions"
    )
    options = {"namespace": NAMESPACE, "resource_type": TYPE, "api_versions": EXTENSION_API_VERSIONS}
    router.add("GET", base, list_extensions, **options)
    router.add("PUT", base + "/{extensionName}", put_extension, **options)
    router.add("GET", base + "/{extensionName}", get_extension, **options)
    router.add("PATCH", base + "/{extensionName}", patch_extension, **options)
    router.add("DELETE", base + "/{extensionName}", delete_extension, **options)
