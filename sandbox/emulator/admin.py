"""The admin API under /_sandbox/: request log, faults, settings, agent hooks. Not logged, never faulted."""

from __future__ import annotations

import json

from aiohttp import web

from .agents import AgentHooks
from .arm import ArmRequest, Router, json_response

PREFIX = "/_sandbox"

SETTINGS = {
    # name: (type, minimum, maximum or allowed values)
    "lro_seconds": (float, 0.0, 3600.0),
    "retry_after_seconds": (int, 0, 600),
    "provider_registration_seconds": (float, 0.0, 3600.0),
    "token_lifetime_seconds": (int, 60, 86400),
    "agent_mode": (str, ("emulated", "external")),
    "list_page_size": (int, 0, 1000),
    "throttle_scale": (float, 0.0, 1.0),
}


def _bad(message: str, status: int = 400) -> web.Response:
    return json_response({"error": {"code": "InvalidRequest", "message": message}}, status)


async def _body(req: ArmRequest):
    raw = await req.request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as err:
        raise web.HTTPBadRequest(text=f"invalid JSON: {err}") from None


def validate_settings(values: dict) -> dict:
    if not isinstance(values, dict):
        raise ValueError("settings are a JSON object")
    out = {}
    for name, value in values.items():
        if name not in SETTINGS:
            raise ValueError(f"unknown setting {name!r}; known: {sorted(SETTINGS)}")
        kind, *bounds = SETTINGS[name]
        if kind is str:
            if value not in bounds[0]:
                raise ValueError(f"{name} must be one of {bounds[0]}")
            out[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number")
        if not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"{name} must be between {bounds[0]} and {bounds[1]}")
        out[name] = kind(value)
    return out


async def get_health(req: ArmRequest) -> web.Response:
    return json_response({"status": "ok", "url": req.ctx.base_url})


async def get_requests(req: ArmRequest) -> web.Response:
    try:
        since = int(req.query("since") or 0)
    except ValueError:
        return _bad("'since' must be an integer")
    entries = req.ctx.requests.since(since)
    return json_response({"requests": entries, "last": entries[-1]["seq"] if entries else since})


async def delete_requests(req: ArmRequest) -> web.Response:
    req.ctx.requests.clear()
    return web.Response(status=204)


async def get_faults(req: ArmRequest) -> web.Response:
    return json_response({"rules": req.ctx.faults.list()})


async def post_faults(req: ArmRequest) -> web.Response:
    body = await _body(req)
    specs = body.get("rules") if isinstance(body, dict) and "rules" in body else [body]
    added = []
    try:
        for spec in specs:
            added.append(req.ctx.faults.add(spec).public())
    except (TypeError, ValueError) as err:
        for rule in added:
            req.ctx.faults.remove(rule["id"])
        return _bad(str(err))
    return json_response({"rules": added}, 201)


async def delete_faults(req: ArmRequest) -> web.Response:
    req.ctx.faults.clear()
    return web.Response(status=204)


async def delete_fault(req: ArmRequest) -> web.Response:
    if not req.ctx.faults.remove(req.params["faultId"]):
        return _bad(f"no fault rule {req.params['faultId']!r}", 404)
    return web.Response(status=204)


async def get_settings(req: ArmRequest) -> web.Response:
    return json_response(req.ctx.store.settings)


async def post_settings(req: ArmRequest) -> web.Response:
    try:
        values = validate_settings(await _body(req))
    except ValueError as err:
        return _bad(str(err))
    req.ctx.store.update_settings(values)
    req.ctx.store.save()
    return json_response(req.ctx.store.settings)


async def get_principals(req: ArmRequest) -> web.Response:
    """Names and client ids (secrets only ever come from the state file, see env.principal_credentials)."""
    principals = [
        {"name": p["name"], "clientId": p["client_id"], "objectId": p["object_id"]}
        for p in req.ctx.store.values("principals")
    ]
    return json_response({"tenantId": req.ctx.store.tenant_id, "principals": principals})


async def get_clusters(req: ArmRequest) -> web.Response:
    return json_response({"clusters": AgentHooks(req.ctx).clusters()})


async def post_cluster_status(req: ArmRequest) -> web.Response:
    body = await _body(req)
    if not isinstance(body, dict) or not body.get("id"):
        return _bad("give the cluster's ARM 'id'")
    try:
        cluster = AgentHooks(req.ctx).report_cluster(
            body["id"],
            connectivity_status=body.get("connectivityStatus"),
            kubernetes_version=body.get("kubernetesVersion"),
            total_node_count=body.get("totalNodeCount"),
            total_core_count=body.get("totalCoreCount"),
            agent_version=body.get("agentVersion"),
        )
    except KeyError:
        return _bad(f"no connected cluster {body['id']}", 404)
    except ValueError as err:
        return _bad(str(err))
    return json_response(cluster)


async def post_extension_status(req: ArmRequest) -> web.Response:
    body = await _body(req)
    if not isinstance(body, dict) or not body.get("id") or not body.get("provisioningState"):
        return _bad("give the extension's ARM 'id' and a 'provisioningState' (Succeeded, Failed or Deleted)")
    try:
        extension = AgentHooks(req.ctx).report_extension(
            body["id"], body["provisioningState"], body.get("error"), body.get("currentVersion")
        )
    except KeyError:
        return _bad(f"no extension {body['id']}", 404)
    except ValueError as err:
        return _bad(str(err))
    return json_response(extension) if extension is not None else web.Response(status=204)


def register(router: Router) -> None:
    admin = {"auth": "none", "api_versions": "skip"}
    router.add("GET", PREFIX + "/health", get_health, **admin)
    router.add("GET", PREFIX + "/requests", get_requests, **admin)
    router.add("DELETE", PREFIX + "/requests", delete_requests, **admin)
    router.add("GET", PREFIX + "/faults", get_faults, **admin)
    router.add("POST", PREFIX + "/faults", post_faults, **admin)
    router.add("DELETE", PREFIX + "/faults", delete_faults, **admin)
    router.add("DELETE", PREFIX + "/faults/{faultId}", delete_fault, **admin)
    router.add("GET", PREFIX + "/settings", get_settings, **admin)
    router.add("POST", PREFIX + "/settings", post_settings, **admin)
    router.add("GET", PREFIX + "/principals", get_principals, **admin)
    router.add("GET", PREFIX + "/clusters", get_clusters, **admin)
    router.add("POST", PREFIX + "/clusters/status", post_cluster_status, **admin)
    router.add("POST", PREFIX + "/extensions/status", post_extension_status, **admin)
