"""Microsoft.Relay: namespaces, hybrid connections, authorization rules and listKeys.

What `az k8s-extension create` provisions for the Azure ML extension on Arc
(https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py).
Keys are generated once per rule and kept
in the state file; they are never written to the request log.

The GETs answer as the Relay REST spec, stable 2021-11-01, describes them
(https://github.com/Azure/azure-rest-api-specs/tree/main/specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01:
Namespaces_Get, HybridConnections_Get, HybridConnections_GetAuthorizationRule): the resource, 200; a rule is
id, name, type and `properties.rights` only (its keys come from listKeys alone); a resource whose namespace, hybrid
connection or resource group is missing is a 404.
"""

from __future__ import annotations

import base64
import re
import secrets

from aiohttp import web

from . import lro, resource_groups, resources, schema
from .arm import ArmError, ArmRequest, Router, bad_request, json_response, not_found
from .clock import iso
from .metadata import RELAY_SUFFIX
from .providers import RELAY_API_VERSIONS, normalize_location

NAMESPACE = "Microsoft.Relay"
NAMESPACE_TYPE = "Microsoft.Relay/Namespaces"
HYBRID_CONNECTION_TYPE = "Microsoft.Relay/Namespaces/HybridConnections"
NAMESPACE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$")
RIGHTS = ("Listen", "Send", "Manage")
ROOT_RULE = "RootManageSharedAccessKey"
# An authorization rule's `type`, by its parent's, as the spec's examples spell it: a hybrid connection's rule is
# "Hybridconnections" (examples/HybridConnection/RelayHybridConnectionAuthorizationRuleListAll.json at 2021-11-01,
# RelayHybridConnectionAuthorizationRuleGet.json), a namespace's spelt as the namespace
# (RelayNameSpaceAuthorizationRuleGet.json).
RULE_TYPES = {
    NAMESPACE_TYPE: "Microsoft.Relay/Namespaces/AuthorizationRules",
    HYBRID_CONNECTION_TYPE: "Microsoft.Relay/Namespaces/Hybridconnections/AuthorizationRules",
}


def _namespace_id(ctx, rg: str, name: str) -> str:
    return resources.arm_id(ctx, rg, f"Microsoft.Relay/namespaces/{name}")


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _require_namespace(req: ArmRequest) -> dict:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    ns = resources.body(req.ctx, _namespace_id(req.ctx, req.params["resourceGroupName"], req.params["namespaceName"]))
    if ns is None:
        raise not_found("Microsoft.Relay/namespaces", req.params["namespaceName"], req.params["resourceGroupName"])
    return ns


def _require_hybrid_connection(req: ArmRequest, ns: dict) -> dict:
    hc = resources.body(req.ctx, f"{ns['id']}/hybridConnections/{req.params['hybridConnectionName']}")
    if hc is None:
        raise not_found(
            f"Microsoft.Relay/namespaces/{ns['name']}/hybridConnections",
            req.params["hybridConnectionName"],
            req.params["resourceGroupName"],
        )
    return hc


def _rule(ctx, parent: dict, name: str, rights: list, type_name: str) -> dict:
    rule = {
        "id": f"{parent['id']}/authorizationRules/{name}",
        "name": name,
        "type": RULE_TYPES[type_name],
        "properties": {"rights": rights},
    }
    previous = resources.get(ctx, rule["id"])
    keys = previous["keys"] if previous else {"primaryKey": _new_key(), "secondaryKey": _new_key()}
    for key_name, value in keys.items():
        ctx.store.record_secret(value, f"Relay {key_name} of {rule['id']}")
    resources.save(ctx, "relayAuthorizationRule", rule, keys=keys)
    return rule


async def put_namespace(req: ArmRequest) -> web.Response:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    name = req.params["namespaceName"]
    if not NAMESPACE_NAME.match(name) or name.lower().endswith(("-sb", "-mgmt")):
        raise bad_request(
            f"The specified namespace name '{name}' is not valid. The name can contain only letters, numbers, and "
            "hyphens, must start with a letter, end with a letter or number, be between 6 and 50 characters long, "
            "and must not end with '-sb' or '-mgmt'."
        )
    body = await req.json_object()
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    body = schema.relay_put(body, schema.RELAY_NAMESPACE_PUT, req.api_version)
    location = normalize_location(body["location"])
    nid = _namespace_id(req.ctx, req.params["resourceGroupName"], name)
    previous = resources.body(req.ctx, nid)
    if previous is not None:
        resources.require_idle(req.ctx, nid)
        resources.require_same_location(previous, location)
        previous["tags"] = body.get("tags") or {}
        previous["properties"]["updatedAt"] = iso()
        req.ctx.store.touch()
        return json_response(previous)
    ns = {
        "id": nid,
        "name": name,
        "type": NAMESPACE_TYPE,
        "location": location,
        "tags": body.get("tags") or {},
        "sku": {"name": "Standard", "tier": "Standard"},
        "properties": {
            "provisioningState": "Creating",
            "createdAt": iso(),
            "updatedAt": iso(),
            "serviceBusEndpoint": f"https://{name}.{RELAY_SUFFIX}:443/",
            "metricId": f"{req.ctx.store.subscription_id}:{name}",
            "status": "Active",
        },
    }
    resources.save(req.ctx, "relayNamespace", ns)
    _rule(req.ctx, ns, ROOT_RULE, list(RIGHTS), NAMESPACE_TYPE)
    op = req.ctx.operations.start(
        kind="relayNamespace",
        style="relay",
        resource_id=nid,
        action="create",
        running_status="InProgress",
        namespace=NAMESPACE,
        location=location,
        api_version=req.api_version,
    )
    return json_response(ns, 201, req.ctx.operations.headers(op))


async def get_namespace(req: ArmRequest) -> web.Response:
    return json_response(_require_namespace(req))


async def list_namespaces(req: ArmRequest) -> web.Response:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    scope = f"/subscriptions/{req.ctx.store.subscription_id}/resourceGroups/{req.params['resourceGroupName']}"
    return json_response({"value": resources.list_of(req.ctx, "relayNamespace", scope)})


async def delete_namespace(req: ArmRequest) -> web.Response:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    nid = _namespace_id(req.ctx, req.params["resourceGroupName"], req.params["namespaceName"])
    ns = resources.body(req.ctx, nid)
    if ns is None:
        return web.Response(status=204)
    ns["properties"]["provisioningState"] = "Deleting"
    op = req.ctx.operations.start(
        kind="relayNamespace",
        style="relay",
        resource_id=nid,
        action="delete",
        running_status="InProgress",
        namespace=NAMESPACE,
        location=ns["location"],
        api_version=req.api_version,
    )
    return web.Response(status=202, headers=req.ctx.operations.headers(op, location="result"))


@lro.finalizer("relayNamespace")
def _finish_namespace(ctx, op: dict):
    if op["action"] == "delete":
        resources.remove_tree(ctx, op["resource_id"])
    else:
        ns = resources.body(ctx, op["resource_id"])
        if ns is not None:
            ns["properties"]["provisioningState"] = "Succeeded"
    return "Succeeded", None


@lro.resource_view("relayNamespace")
def _namespace_view(ctx, resource_id: str):
    return resources.body(ctx, resource_id)


async def put_hybrid_connection(req: ArmRequest) -> web.Response:
    ns = _require_namespace(req)
    body = await req.json(required=False) or {}
    body = schema.relay_put(body, schema.RELAY_HYBRID_CONNECTION_PUT, req.api_version)
    requested = body.get("properties") or {}
    hid = f"{ns['id']}/hybridConnections/{req.params['hybridConnectionName']}"
    previous = resources.body(req.ctx, hid)
    hc = {
        "id": hid,
        "name": (previous or {}).get("name", req.params["hybridConnectionName"]),
        "type": HYBRID_CONNECTION_TYPE,
        "properties": {
            "createdAt": (previous or {}).get("properties", {}).get("createdAt", iso()),
            "updatedAt": iso(),
            "listenerCount": 0,
            "requiresClientAuthorization": requested.get("requiresClientAuthorization", True),
            "userMetadata": requested.get("userMetadata"),
        },
    }
    if (
        previous is not None
        and previous["properties"]["requiresClientAuthorization"] != hc["properties"]["requiresClientAuthorization"]
    ):
        raise bad_request("'requiresClientAuthorization' cannot be changed on an existing hybrid connection.")
    resources.save(req.ctx, "relayHybridConnection", hc)
    return json_response(hc)


async def get_hybrid_connection(req: ArmRequest) -> web.Response:
    return json_response(_require_hybrid_connection(req, _require_namespace(req)))


async def list_hybrid_connections(req: ArmRequest) -> web.Response:
    ns = _require_namespace(req)
    return json_response({"value": resources.list_of(req.ctx, "relayHybridConnection", ns["id"])})


async def delete_hybrid_connection(req: ArmRequest) -> web.Response:
    ns = _require_namespace(req)
    hid = f"{ns['id']}/hybridConnections/{req.params['hybridConnectionName']}"
    if resources.get(req.ctx, hid) is None:
        return web.Response(status=204)
    resources.remove_tree(req.ctx, hid)
    return web.Response(status=200)


def _parent(req: ArmRequest) -> tuple[dict, str]:
    ns = _require_namespace(req)
    if "hybridConnectionName" in req.params:
        return _require_hybrid_connection(req, ns), HYBRID_CONNECTION_TYPE
    return ns, NAMESPACE_TYPE


async def put_rule(req: ArmRequest) -> web.Response:
    parent, type_name = _parent(req)
    body = await req.json_object()
    body = schema.relay_put(body, schema.RELAY_AUTHORIZATION_RULE_PUT, req.api_version)
    rights = (body.get("properties") or {}).get("rights")
    if not isinstance(rights, list) or not rights or any(r not in RIGHTS for r in rights):
        raise bad_request(f"'properties.rights' must be a non-empty list of {list(RIGHTS)}.")
    if "Manage" in rights and not {"Listen", "Send"} <= set(rights):
        raise bad_request("The 'Manage' right requires the 'Listen' and 'Send' rights as well.")
    return json_response(_rule(req.ctx, parent, req.params["ruleName"], rights, type_name))


def _require_rule(req: ArmRequest) -> dict:
    parent = _parent(req)[0]
    record = resources.get(req.ctx, f"{parent['id']}/authorizationRules/{req.params['ruleName']}")
    if record is None:
        raise not_found(f"{parent['type']}/AuthorizationRules", req.params["ruleName"], req.params["resourceGroupName"])
    return record


async def get_rule(req: ArmRequest) -> web.Response:
    return json_response(_require_rule(req)["resource"])


async def delete_rule(req: ArmRequest) -> web.Response:
    parent = _parent(req)[0]
    rid = f"{parent['id']}/authorizationRules/{req.params['ruleName']}"
    if resources.get(req.ctx, rid) is None:
        return web.Response(status=204)
    req.ctx.store.delete("resources", rid)
    return web.Response(status=200)


async def list_keys(req: ArmRequest) -> web.Response:
    record = _require_rule(req)
    rule, keys = record["resource"], record["keys"]
    namespace = req.params["namespaceName"]
    entity = f";EntityPath={req.params['hybridConnectionName']}" if "hybridConnectionName" in req.params else ""

    def connection_string(key: str) -> str:
        return f"Endpoint=sb://{namespace}.{RELAY_SUFFIX}/;SharedAccessKeyName={rule['name']};SharedAccessKey={key}{entity}"

    for which in ("primary", "secondary"):
        req.ctx.store.record_secret(
            connection_string(keys[f"{which}Key"]), f"Relay {which} connection string of {rule['id']}"
        )
    return json_response(
        {
            "primaryConnectionString": connection_string(keys["primaryKey"]),
            "secondaryConnectionString": connection_string(keys["secondaryKey"]),
            "primaryKey": keys["primaryKey"],
            "secondaryKey": keys["secondaryKey"],
            "keyName": rule["name"],
        }
    )


def register(router: Router) -> None:
    rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Relay/namespaces"
    ns = rg + "/{namespaceName}"
    hc = ns + "/hybridConnections/{hybridConnectionName}"
    common = {"namespace": NAMESPACE, "api_versions": RELAY_API_VERSIONS}
    ns_type = {**common, "resource_type": "Microsoft.Relay/namespaces"}
    hc_type = {**common, "resource_type": "Microsoft.Relay/namespaces/hybridConnections"}
    router.add("GET", rg, list_namespaces, **ns_type)
    router.add("PUT", ns, put_namespace, **ns_type)
    router.add("GET", ns, get_namespace, **ns_type)
    router.add("DELETE", ns, delete_namespace, **ns_type)
    router.add("GET", ns + "/hybridConnections", list_hybrid_connections, **hc_type)
    router.add("PUT", hc, put_hybrid_connection, **hc_type)
    router.add("GET", hc, get_hybrid_connection, **hc_type)
    router.add("DELETE", hc, delete_hybrid_connection, **hc_type)
    for parent, type_path in ((ns, "Microsoft.Relay/namespaces"), (hc, "Microsoft.Relay/namespaces/hybridConnections")):
        rule = parent + "/authorizationRules/{ruleName}"
        rule_type = {**common, "resource_type": f"{type_path}/authorizationRules"}
        router.add("PUT", rule, put_rule, **rule_type)
        router.add("GET", rule, get_rule, **rule_type)
        router.add("DELETE", rule, delete_rule, **rule_type)
        router.add(
            "POST", rule + "/listKeys", list_keys, **common, action=f"{type_path}/authorizationRules/listKeys/action"
        )
