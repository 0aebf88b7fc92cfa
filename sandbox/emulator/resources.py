"""What every ARM resource shares: ids, systemData, the resources table, the common 4xx checks."""

from __future__ import annotations

import base64
import binascii
import uuid
from urllib.parse import quote

from .arm import ArmError
from .clock import iso
from .lro import is_running
from .store import key

# The admin setting that splits collection GETs into pages (0: everything on one page).
PAGE_SIZE_SETTING = "list_page_size"
SKIP_TOKEN = "$skiptoken"


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


def page(req, items: list) -> dict:
    """One page of a collection GET, as ARM answers it: `value`, and `nextLink` while items remain.

    ARM's list answers are `{"value": [...], "nextLink": "..."}`; the nextLink is the absolute URL of the same
    collection with the api-version and a `$skiptoken` (the spec's example for this api-version,
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/HybridKubernetes.Management/examples/2026-05-01/GetClustersByResourceGroupExample.json,
    and `x-ms-pageable` with `nextLinkName: nextLink` in
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json).
    Items come in the order of their ids; the token names the last id of the previous page, so a page never
    repeats or skips an item that existed throughout, even when others are created or deleted in between.
    The page size is the `list_page_size` setting (0, the default: one page, no nextLink).
    """
    ordered = sorted(items, key=lambda item: key(item["id"]))
    token = req.query(SKIP_TOKEN)
    if token is not None:
        after = _token_id(token)
        ordered = [item for item in ordered if key(item["id"]) > after]
    size = int(req.ctx.store.settings.get(PAGE_SIZE_SETTING, 0))
    if not size or len(ordered) <= size:
        return {"value": ordered}
    shown = ordered[:size]
    return {"value": shown, "nextLink": _next_link(req, key(shown[-1]["id"]))}


def _next_link(req, last_id: str) -> str:
    path = req.request.raw_path.split("?", 1)[0]
    version = quote(req.api_version or "", safe="")
    token = base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")
    return f"{req.ctx.base_url}{path}?api-version={version}&{SKIP_TOKEN}={token}"


def _token_id(token: str) -> str:
    """The id a `$skiptoken` of ours names; a token we did not issue is a 400 (chosen: no public source)."""
    try:
        named = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        named = ""
    if not named.startswith("/subscriptions/"):
        raise ArmError(
            400, "InvalidSkipToken", f"The {SKIP_TOKEN} '{token}' is not valid: request the first page again."
        )
    return named


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
