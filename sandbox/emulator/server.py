"""Assemble the emulator and serve it over HTTPS on 127.0.0.1.

One aiohttp catch-all route hands every request to `dispatch`, which does what
ARM's front door does before a resource provider sees a request: route
(case-insensitively), authenticate, check the subscription, throttle (throttle.py),
authorize, check the api-version and the provider registration. Two middlewares
sit outside it: the request log (outermost, so it sees every attempt) and fault
injection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
import time
from pathlib import Path

from aiohttp import web

from . import (
    admin,
    auth,
    cluster_proxy,
    connected_clusters,
    dataplane,
    extensions,
    lro,
    metadata,
    ml,
    providers,
    provisioned_clusters,
    registry,
    relay,
    resource_groups,
)
from .arm import ArmError, ArmRequest, Router, api_version, check_api_version, collapse_slashes, request_id_headers
from .context import Emulator
from .paths import EmulatorPaths, write_json
from .pki import ensure_pki
from .requestlog import describe_body, redact_headers
from .seed import seed
from .store import Store

log = logging.getLogger("sandbox.emulator")
CTX = web.AppKey("emulator", Emulator)
HOST = "127.0.0.1"

MODULES = (
    admin,
    auth,
    metadata,
    lro,
    providers,
    resource_groups,
    connected_clusters,
    provisioned_clusters,
    extensions,
    relay,
    ml,
    dataplane,
    registry,
    cluster_proxy,
)


def build(directory, sites=None) -> Emulator:
    """The emulator for `directory`, its state loaded (or created) and seeded from `sites` (a parsed sites file)."""
    paths = EmulatorPaths(Path(directory).resolve())
    pki = ensure_pki(paths)
    router = Router()
    for module in MODULES:
        module.register(router)
    ctx = Emulator(paths=paths, store=Store(paths.state), pki=pki, router=router)
    seed(ctx, sites)
    ctx.store.save()
    return ctx


def _is_admin(path: str) -> bool:
    return path.startswith(admin.PREFIX + "/")


def _rbac_scope(path: str, method: str) -> str:
    # A POST names an action after the resource (.../listKeys); its scope is the resource.
    return path.rsplit("/", 1)[0] if method == "POST" else path.rstrip("/")


def _throttle(ctx: Emulator, request: web.Request, principal, subscription: str | None) -> None:
    """ARM's token buckets (throttle.py): the rate-limit headers for the answer, or the 429 of an empty bucket.

    ARM counts per principal, so this comes after the token check; whether a request ARM then refuses (403,
    400) spent a token is not documented: here it does.
    """
    decision = ctx.throttle.admit(
        float(ctx.store.settings.get("throttle_scale", 1.0)),
        request.method,
        principal.object_id,
        subscription,
        ctx.store.tenant_id,
    )
    request["ratelimit_headers"] = decision.headers
    if decision.error is not None:
        request["throttle"] = decision.log_entry()
        raise decision.error


async def _front_door(ctx: Emulator, request: web.Request, path: str) -> web.StreamResponse:
    ctx.operations.advance()
    route, params = ctx.router.match(request.method, path)
    req = ArmRequest(request, params, ctx)
    if route.auth != "none":
        req.principal = auth.authenticate(ctx, request, ctx.arm_audiences)
    subscription = params.get("subscriptionId")
    if subscription is not None and subscription.lower() != ctx.store.subscription_id.lower():
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
    if route.auth == "arm" and req.principal is not None:
        _throttle(ctx, request, req.principal, subscription)
    action = route.rbac_action(request.method)
    if action and req.principal is not None:
        ctx.authorize(req.principal, action, _rbac_scope(path, request.method))
    if route.api_versions != "skip":
        req.api_version = api_version(request)
        check_api_version(req.api_version, route.api_versions)
    if route.namespace:
        providers.require_registered(ctx, route.namespace)
    return await route.handler(req)


async def dispatch(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    path = collapse_slashes(request.path)
    try:
        response = await _front_door(ctx, request, path)
    except ArmError as err:
        response = err.response()
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, path)
        response = ArmError(500, "InternalServerError", "Encountered internal server error.").response()
    finally:
        ctx.store.save()
    if not _is_admin(path):
        for name, value in {**request_id_headers(request), **request.get("ratelimit_headers", {})}.items():
            response.headers.setdefault(name, value)
    return response


def _drop_connection(request: web.Request) -> None:
    """Close the TCP connection with a reset (SO_LINGER 0), as a crashed proxy would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@web.middleware
async def fault_middleware(request: web.Request, handler):
    if _is_admin(request.path):
        return await handler(request)
    ctx = request.app[CTX]
    latency, rule = ctx.faults.select(request.method, request.path)
    if latency:
        await asyncio.sleep(latency)
    if rule is None:
        return await handler(request)
    request["fault"] = rule.id
    if rule.reset:
        request["dropped"] = True
        _drop_connection(request)
        return web.Response(status=500)
    response = rule.error().response()
    for name, value in request_id_headers(request).items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def request_log_middleware(request: web.Request, handler):
    if _is_admin(request.path):
        return await handler(request)
    ctx = request.app[CTX]
    started = time.monotonic()
    raw = await request.read()
    entry = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": redact_headers(request.headers),
        "body": describe_body(raw, request.content_type),
    }
    status, outcome = None, "response"
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except Exception:
        outcome = "error"
        raise
    finally:
        if request.get("dropped"):
            status, outcome = None, "reset"
        ctx.requests.record(
            {
                **entry,
                "status": status,
                "outcome": outcome,
                "fault": request.get("fault"),
                "throttle": request.get("throttle"),
                "durationMs": round((time.monotonic() - started) * 1000, 1),
            }
        )


def make_app(ctx: Emulator) -> web.Application:
    app = web.Application(middlewares=[request_log_middleware, fault_middleware], client_max_size=16 * 1024 * 1024)
    app[CTX] = ctx
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def start(ctx: Emulator, port: int = 0) -> web.AppRunner:
    """Bind 127.0.0.1:port (0 = any free port), serve HTTPS, publish the agent chart, write emulator.json."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    port = sock.getsockname()[1]
    ctx.base_url = f"https://{HOST}:{port}"
    dataplane.publish_agent_chart(ctx)
    runner = web.AppRunner(make_app(ctx), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=ctx.pki.server_ssl_context()).start()
    write_json(
        ctx.paths.info,
        {
            "url": ctx.base_url,
            "login_url": ctx.login_url,
            "port": port,
            "pid": os.getpid(),
            "ca_bundle": str(ctx.paths.ca_cert),
            "state": str(ctx.paths.state),
        },
        private=False,
    )
    log.info("Azure emulator ready at %s (state %s)", ctx.base_url, ctx.paths.state)
    return runner


async def _serve_until_stopped(ctx: Emulator, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = await start(ctx, port)
    try:
        await stop.wait()
    finally:
        ctx.paths.info.unlink(missing_ok=True)
        await runner.cleanup()
        ctx.store.save()
        log.info("Azure emulator stopped")


def run(directory, port: int = 0, sites=None, settings: dict | None = None) -> None:
    ctx = build(directory, sites)
    if settings:
        ctx.store.update_settings(settings)
        ctx.store.save()
    asyncio.run(_serve_until_stopped(ctx, port))
