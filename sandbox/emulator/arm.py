"""ARM front door behaviour: error envelope, case-insensitive routing, api-version, request ids.

Routes are matched with case-insensitive regular expressions compiled from
ARM-style templates (`/subscriptions/{subscriptionId}/resourceGroups/...`), so
`resourcegroups` and `resourceGroups`, `ConnectedClusters` and
`connectedClusters` reach the same handler, as they do on Azure.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

API_VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|privatepreview))?$", re.IGNORECASE)
PARAM = re.compile(r"\{(\w+)(?::([^}]+))?\}")


class ArmError(Exception):
    """An error ARM answers with its envelope: {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **extra: Any):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> web.Response:
        body = {"error": {"code": self.code, "message": self.message, **self.extra}}
        return json_response(body, self.status, self.headers)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def not_found(type_path: str, name: str, resource_group: str) -> ArmError:
    """ARM's 404 for a missing resource; type_path like 'Microsoft.Kubernetes/connectedClusters'."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_path}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def invalid_content(detail: str) -> ArmError:
    return ArmError(
        400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {detail}"
    )


def bad_request(message: str, code: str = "BadRequest") -> ArmError:
    return ArmError(400, code, message)


def query_param(request: web.Request, name: str) -> str | None:
    """A query parameter by case-insensitive name (clients send both api-version and api-Version)."""
    wanted = name.lower()
    for k, v in request.query.items():
        if k.lower() == wanted:
            return v
    return None


def api_version(request: web.Request) -> str | None:
    return query_param(request, "api-version")


def check_api_version(value: str | None, supported: tuple | None) -> None:
    if not value:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    known = {v.lower() for v in supported or ()}
    if not API_VERSION_FORMAT.match(value) or (supported is not None and value.lower() not in known):
        listed = ",".join(supported or ())
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{value}' is invalid. The supported versions are '{listed}'.",
        )


def request_id_headers(request: web.Request) -> dict:
    correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
    request_id = str(uuid.uuid4())
    headers = {
        "x-ms-request-id": request_id,
        "x-ms-correlation-request-id": correlation,
        "x-ms-routing-request-id": f"SANDBOX:{request_id}",
        "Cache-Control": "no-cache",
    }
    client_request_id = request.headers.get("x-ms-client-request-id")
    if client_request_id:
        headers["x-ms-client-request-id"] = client_request_id
    return headers


Handler = Callable[["ArmRequest"], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    methods: frozenset
    template: str
    regex: re.Pattern
    handler: Handler
    # "arm": bearer token for an ARM audience + RBAC; "token": any valid sandbox token; "none": anonymous.
    auth: str = "arm"
    # None: any well-formed api-version; a tuple: exactly these; "skip": not checked at all.
    api_versions: Any = None
    # Provider namespace that must be registered in the subscription (409 MissingSubscriptionRegistration).
    namespace: str | None = None
    # RBAC: "Microsoft.Kubernetes/connectedClusters" -> .../read, /write, /delete; or an explicit action.
    resource_type: str | None = None
    action: str | None = None

    def rbac_action(self, method: str) -> str | None:
        if self.action:
            return self.action
        if not self.resource_type:
            return None
        verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(
            method, "action"
        )
        return f"{self.resource_type}/{verb}"


def compile_template(template: str) -> re.Pattern:
    out, pos = [], 0
    for m in PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "/?$", re.IGNORECASE)


class Router:
    def __init__(self):
        self.routes: list[Route] = []

    def add(self, methods, template: str, handler: Handler, **options) -> Route:
        if isinstance(methods, str):
            methods = [methods]
        route = Route(frozenset(m.upper() for m in methods), template, compile_template(template), handler, **options)
        self.routes.append(route)
        return route

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        allowed = set()
        for route in self.routes:
            m = route.regex.match(path)
            if not m:
                continue
            if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route, m.groupdict()
            allowed |= route.methods
        if allowed:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{method}'.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        raise unknown_path(path)


def unknown_path(path: str) -> ArmError:
    parts = [p for p in path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:
        i = len(lowered) - 1 - lowered[::-1].index("providers")
        if i + 2 < len(parts):
            return ArmError(
                404,
                "InvalidResourceType",
                f"The resource type '{parts[i + 2]}' could not be found in the namespace '{parts[i + 1]}'.",
            )
    return ArmError(404, "NotFound", f"The requested path '{path}' was not found.")


@dataclass
class ArmRequest:
    """What a handler gets: the aiohttp request, path parameters and the caller."""

    request: web.Request
    params: dict
    ctx: Any
    principal: Any = None
    api_version: str | None = None
    _body: Any = field(default=None, repr=False)
    _read: bool = field(default=False, repr=False)

    @property
    def method(self) -> str:
        return self.request.method

    def query(self, name: str) -> str | None:
        return query_param(self.request, name)

    async def json(self, required: bool = True) -> Any:
        if not self._read:
            raw = await self.request.read()
            self._read = True
            if not raw.strip():
                if required:
                    raise invalid_content("the request body is empty.")
                self._body = None
            else:
                try:
                    self._body = json.loads(raw)
                except ValueError as err:
                    raise invalid_content(str(err)) from None
        return self._body

    async def json_object(self) -> dict:
        body = await self.json()
        if not isinstance(body, dict):
            raise invalid_content("a JSON object is expected.")
        return body


def collapse_slashes(path: str) -> str:
    return re.sub(r"/{2,}", "/", path)
