"""The cluster connect stand-in: an HTTPS reverse proxy, served by the emulator, in front of each site's API server.

`listClusterUserCredential` hands out a kubeconfig whose server is
`{emulator}/_clusterconnect/{subscription}/{resource group}/{cluster}` and whose user carries a Microsoft Entra ID
token for the Azure Arc server application (cluster_access.CLUSTER_CONNECT_AUDIENCE, with its sources).
The proxy checks that token as the cluster connect service would (signature by the emulator's Entra stand-in,
audience, tenant, expiry with no clock skew, a known principal) and answers a refused one with the 401 Status
kube-apiserver answers. An accepted request goes to the site's API server with the site's admin client
certificate: the simplification is that every caller acts as the cluster admin, with no impersonation of the
Entra identity and no ClusterRoleBinding check (docs/fidelity.md). Responses are streamed chunk by chunk, so
watches and `helm --wait` work and nothing buffers a whole watch. Upgrades (exec, attach, port-forward) are not
proxied.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from . import cluster_access, connected_clusters, rbac, resources, tokens
from .arm import ArmError, ArmRequest, Router
from .clock import now

PREFIX = cluster_access.PROXY_PREFIX
AUDIENCE = cluster_access.CLUSTER_CONNECT_AUDIENCE
CONNECT_TIMEOUT = 10
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    )
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _status(code: int, reason: str, message: str) -> web.Response:
    """A Kubernetes Status answer, the shape kube-apiserver gives every refusal."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.Response(status=code, text=json.dumps(body), content_type="application/json")


def _unauthorized() -> web.Response:
    # kube-apiserver tells nothing more to an unauthenticated caller.
    return _status(401, "Unauthorized", "Unauthorized")


def authenticate(ctx, header: str | None) -> rbac.Principal | None:
    """The principal behind a valid cluster connect token, else None."""
    scheme, _space, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = tokens.validate(ctx.pki, token.strip(), [AUDIENCE], ctx.store.tenant_id, ctx.login_url)
    except ArmError:
        return None
    # ARM's five minutes of clock skew do not apply: an expired token is refused at once.
    if claims["exp"] <= now():
        return None
    return rbac.find_by_object_id(ctx.store, str(claims.get("oid", "")))


def _upstream_path(raw_path: str) -> str:
    # ['', '_clusterconnect', subscription, group, cluster, rest...]
    rest = raw_path.split("/")[5:]
    return "/" + "/".join(rest)


def _forwarded_headers(headers) -> dict:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "authorization"}


async def proxy(req: ArmRequest) -> web.StreamResponse:
    ctx, request = req.ctx, req.request
    if req.params["sub"].lower() != ctx.store.subscription_id.lower():
        return _status(404, "NotFound", f"The subscription '{req.params['sub']}' has no such connected cluster.")
    if authenticate(ctx, request.headers.get("Authorization")) is None:
        return _unauthorized()
    group, name = req.params["resourceGroupName"], req.params["clusterName"]
    if resources.get(ctx, connected_clusters.cluster_id(ctx, group, name)) is None:
        return _status(404, "NotFound", f"The connected cluster '{group}/{name}' does not exist.")
    try:
        site = cluster_access.find(ctx, group, name)
    except cluster_access.SiteUnknown:
        return _status(503, "ServiceUnavailable", f"The cluster connect agent of '{group}/{name}' is not connected.")
    url = site.server + _upstream_path(request.rel_url.raw_path)
    if request.query_string:
        url += "?" + request.query_string
    body = await request.read()
    return await _forward(request, site, url, body)


async def _forward(request: web.Request, site, url: str, body: bytes) -> web.StreamResponse:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT)
    connector = aiohttp.TCPConnector(ssl=site.ssl_context())
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        try:
            upstream = await session.request(
                request.method,
                url,
                headers=_forwarded_headers(request.headers),
                data=body or None,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return _status(503, "ServiceUnavailable", "The cluster's API server did not answer.")
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            response.headers.update(_forwarded_headers(upstream.headers))
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (aiohttp.ClientError, ConnectionResetError):
                # The watch ended on either side: the client went away or the API server closed it.
                return response
            await response.write_eof()
            return response


def register(router: Router) -> None:
    router.add(
        METHODS,
        PREFIX + "/{sub}/{resourceGroupName}/{clusterName}{rest:(?:/.*)?}",
        proxy,
        auth="none",
        api_versions="skip",
    )
