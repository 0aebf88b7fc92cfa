"""Resource groups: HEAD, GET, PUT, list and DELETE (an LRO that deletes everything inside)."""

from __future__ import annotations

from aiohttp import web

from . import lro
from .arm import ArmError, ArmRequest, Router, json_response
from .providers import normalize_location

TYPE = "Microsoft.Resources/resourceGroups"


def group_id(ctx, name: str) -> str:
    return f"/subscriptions/{ctx.store.subscription_id}/resourceGroups/{name}"


def find(ctx, name: str) -> dict | None:
    return ctx.store.get("resource_groups", group_id(ctx, name))


def require(ctx, name: str) -> dict:
    group = find(ctx, name)
    if group is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    if group["properties"]["provisioningState"] == "Deleting":
        raise ArmError(
            409,
            "ResourceGroupBeingDeleted",
            f"The resource group '{group['name']}' is in deprovisioning state and cannot perform this operation.",
        )
    return group


def create(ctx, name: str, location: str, tags: dict | None = None) -> dict:
    group = {
        "id": group_id(ctx, name),
        "name": name,
        "type": TYPE,
        "location": normalize_location(location),
        "tags": tags or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    ctx.store.put("resource_groups", group["id"], group)
    return group


async def head_group(req: ArmRequest) -> web.Response:
    return web.Response(status=204 if find(req.ctx, req.params["resourceGroupName"]) else 404)


async def get_group(req: ArmRequest) -> web.Response:
    if req.method == "HEAD":
        return await head_group(req)
    group = find(req.ctx, req.params["resourceGroupName"])
    if group is None:
        raise ArmError(
            404, "ResourceGroupNotFound", f"Resource group '{req.params['resourceGroupName']}' could not be found."
        )
    return json_response(group)


async def list_groups(req: ArmRequest) -> web.Response:
    return json_response({"value": req.ctx.store.values("resource_groups")})


async def put_group(req: ArmRequest) -> web.Response:
    body = await req.json_object()
    name = req.params["resourceGroupName"]
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    existing = find(req.ctx, name)
    if existing is None:
        return json_response(create(req.ctx, name, location, body.get("tags")), 201)
    if normalize_location(location) != existing["location"]:
        raise ArmError(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{location}'. The Resource group already exists in location "
            f"'{existing['location']}'.",
        )
    if "tags" in body:
        existing["tags"] = body["tags"] or {}
        req.ctx.store.touch()
    return json_response(existing)


async def delete_group(req: ArmRequest) -> web.Response:
    group = find(req.ctx, req.params["resourceGroupName"])
    if group is None:
        return web.Response(status=204)
    group["properties"]["provisioningState"] = "Deleting"
    op = req.ctx.operations.start(
        kind="resourceGroup",
        style="relay",
        resource_id=group["id"],
        action="delete",
        running_status="Running",
        namespace="Microsoft.Resources",
        location=group["location"],
        api_version=req.api_version,
    )
    operations = req.ctx.operations
    return web.Response(status=202, headers={"Location": operations.result_url(op), **operations.retry_after()})


@lro.finalizer("resourceGroup")
def _finish_delete(ctx, op: dict):
    prefix = op["resource_id"]
    for record in ctx.store.under("resources", prefix):
        ctx.store.delete("resources", record["resource"]["id"])
    ctx.store.delete("resource_groups", prefix)
    return "Succeeded", None


def register(router: Router) -> None:
    groups = "/subscriptions/{subscriptionId}/resourcegroups"
    options = {"resource_type": "Microsoft.Resources/subscriptions/resourceGroups"}
    router.add("GET", groups, list_groups, **options)
    router.add(("GET", "HEAD"), groups + "/{resourceGroupName}", get_group, **options)
    router.add("PUT", groups + "/{resourceGroupName}", put_group, **options)
    router.add("DELETE", groups + "/{resourceGroupName}", delete_group, **options)
