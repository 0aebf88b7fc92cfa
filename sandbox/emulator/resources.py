"""What every ARM resource shares: ids, systemData, the resources table, the common 4xx checks."""

from __future__ import annotations

import uuid

from .arm import ArmError
from .clock import iso
from .lro import is_running


def arm_id(ctx, resource_group: str, provider_path: str) -> str:
    """`provider_path` like 'Microsoft.Kubernetes/connectedClusters/c1'."""
    return f"/subscriptions/{ctx.store.subscription_id}/resourceGroups/{resource_group}/providers/{provider_path}"


def system_data(principal, previous: dict | None = None) -> dict:
    stamp = iso()
    who = principal.client_id if principal else None
    created = previous or {"createdBy": who, "createdByType": "Application", "createdAt": stamp}
    return {
        "createdBy": created.get("createdBy"),
        "createdByType": created.get("createdByType"),
        "createdAt": created.get("createdAt"),
        "lastModifiedBy": who,
        "lastModifiedByType": "Application",
        "lastModifiedAt": stamp,
    }


def get(ctx, resource_id: str) -> dict | None:
    return ctx.store.get("resources", resource_id)


def body(ctx, resource_id: str) -> dict | None:
    record = get(ctx, resource_id)
    return record["resource"] if record else None


def save(ctx, kind: str, resource: dict, **extra) -> dict:
    record = {"kind": kind, "resource": resource, **extra}
    ctx.store.put("resources", resource["id"], record)
    return record


def remove_tree(ctx, resource_id: str) -> None:
    """Delete a resource and every resource nested under it, canceling their running operations."""
    for record in ctx.store.under("resources", resource_id):
        child = record["resource"]["id"]
        op = ctx.operations.active_for(child)
        if op is not None and child.lower() != resource_id.lower():
            ctx.operations.finish(op, "Canceled")
        ctx.store.delete("resources", child)


def list_of(ctx, kind: str, under: str) -> list:
    return [r["resource"] for r in ctx.store.under("resources", under) if r["kind"] == kind]


def require_idle(ctx, resource_id: str) -> None:
    op = ctx.operations.active_for(resource_id)
    if is_running(op):
        raise ArmError(
            409,
            "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress. To retrieve status of the operation "
            f"use uri: {ctx.operations.status_url(op)}.",
        )


def require_same_location(existing: dict, location: str) -> None:
    if existing.get("location") and existing["location"] != location:
        raise ArmError(
            400,
            "InvalidResourceLocation",
            f"The resource '{existing['name']}' already exists in location '{existing['location']}' in resource "
            f"group. A resource with the same name cannot be created in location '{location}'. Please select a new "
            "resource name.",
        )


def tracked_identity(ctx, requested: dict | None, previous: dict | None, allowed=("SystemAssigned", "None")) -> dict:
    requested = requested or {"type": "SystemAssigned"}
    kind = requested.get("type", "SystemAssigned")
    if kind not in allowed:
        raise ArmError(
            400, "InvalidIdentityType", f"The identity type '{kind}' is not supported. Use one of {allowed}."
        )
    if kind == "None":
        return {"type": "None"}
    principal_id = (previous or {}).get("principalId") or str(uuid.uuid4())
    return {"type": kind, "principalId": principal_id, "tenantId": ctx.store.tenant_id}
