"""Long-running operations: status URLs, Azure-AsyncOperation / Location / Retry-After, completion.

An operation finishes `lro_seconds` after it started (or, with `due=None`, when
someone calls `finish`, e.g. a stand-in agent). Completion is evaluated lazily
at the start of every request, so there is no background task to race with and
the state file always tells the truth.

Each resource provider shapes its status URL and body its own way; the
`style` of an operation selects which (see STATUS_STYLES).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Callable

from aiohttp import web

from .arm import ArmError, ArmRequest, Router, json_response
from .clock import iso, now

TERMINAL = ("Succeeded", "Failed", "Canceled")
KEEP_FINISHED_SECONDS = 3600

# kind -> fn(ctx, op) -> (terminal status, error or None); applies the operation's effect on the resource.
FINALIZERS: dict[str, Callable] = {}
# kind -> fn(ctx, resource_id) -> resource body or None; the body the Location URL returns when done.
RESOURCE_VIEWS: dict[str, Callable] = {}


def finalizer(kind: str):
    def register(fn):
        FINALIZERS[kind] = fn
        return fn

    return register


def resource_view(kind: str):
    def register(fn):
        RESOURCE_VIEWS[kind] = fn
        return fn

    return register


def is_running(op: dict | None) -> bool:
    return op is not None and op["status"] not in TERMINAL


class Operations:
    def __init__(self, ctx):
        self.ctx = ctx

    @property
    def store(self):
        return self.ctx.store

    def start(
        self,
        *,
        kind: str,
        style: str,
        resource_id: str,
        action: str,
        running_status: str,
        namespace: str,
        location: str,
        api_version: str,
        external: bool = False,
    ) -> dict:
        """Record a new operation on `resource_id`; a running one on the same resource is canceled."""
        previous = self.active_for(resource_id)
        if previous is not None:
            self.finish(previous, "Canceled")
        started = now()
        op = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "style": style,
            "resource_id": resource_id,
            "action": action,
            "status": running_status,
            "namespace": namespace,
            "location": location,
            "api_version": api_version,
            "start": started,
            "due": None if external else started + float(self.store.settings["lro_seconds"]),
            "end": None,
            "error": None,
        }
        self.store.put("operations", op["id"], op)
        return op

    def get(self, op_id: str) -> dict | None:
        return self.store.get("operations", op_id)

    def active_for(self, resource_id: str) -> dict | None:
        wanted = resource_id.lower()
        for op in self.store.values("operations"):
            if is_running(op) and op["resource_id"].lower() == wanted:
                return op
        return None

    def finish(self, op: dict, status: str, error: dict | None = None) -> None:
        op["status"] = status
        op["error"] = error
        op["end"] = now()
        self.store.touch()

    def advance(self) -> None:
        current = now()
        for op in self.store.values("operations"):
            if is_running(op) and op["due"] is not None and op["due"] <= current:
                status, error = FINALIZERS[op["kind"]](self.ctx, op)
                self.finish(op, status, error)
        for op_id, op in self.store.items("operations"):
            if not is_running(op) and op["end"] and op["end"] < current - KEEP_FINISHED_SECONDS:
                self.store.delete("operations", op_id)

    # URLs and bodies

    def status_url(self, op: dict) -> str:
        return self.ctx.base_url + STATUS_STYLES[op["style"]]["url"](self.ctx, op)

    def result_url(self, op: dict) -> str:
        sub = self.store.subscription_id
        return (
            f"{self.ctx.base_url}/subscriptions/{sub}/providers/{op['namespace']}/locations/{op['location']}"
            f"/operationResults/{op['id']}?api-version={op['api_version']}"
        )

    def retry_after(self) -> dict:
        seconds = int(self.store.settings["retry_after_seconds"])
        return {"Retry-After": str(seconds)} if seconds > 0 else {}

    def headers(self, op: dict, location: str | None = None) -> dict:
        """Headers of the response that starts `op`: Azure-AsyncOperation, optional Location, Retry-After."""
        headers = {"Azure-AsyncOperation": self.status_url(op), **self.retry_after()}
        if location == "status":
            headers["Location"] = self.status_url(op)
        elif location == "result":
            headers["Location"] = self.result_url(op)
        elif location:
            headers["Location"] = location
        return headers

    def status_body(self, op: dict) -> dict:
        return STATUS_STYLES[op["style"]]["body"](self.ctx, op)


def _kubernetes_url(ctx, op: dict) -> str:
    # The live service appends '*' and a hash of the operation to the id.
    digest = hashlib.sha256(op["id"].encode()).hexdigest()[:64].upper()
    return (
        f"/providers/Microsoft.Kubernetes/locations/{op['location'].upper()}/operationStatuses/{op['id']}*{digest}"
        f"?api-version={op['api_version']}"
    )


def _kubernetes_body(ctx, op: dict) -> dict:
    body = {
        "id": f"/providers/Microsoft.Kubernetes/locations/{op['location'].upper()}/operationStatuses/{op['id']}",
        "name": op["id"],
        "resourceId": op["resource_id"],
        "status": op["status"],
        "startTime": iso(op["start"]),
    }
    if op["end"]:
        body.update(endTime=iso(op["end"]), properties=None)
    if op["error"]:
        body["error"] = op["error"]
    return body


def _extension_url(ctx, op: dict) -> str:
    # The KubernetesConfiguration RP really spells it api-Version.
    return f"{op['resource_id']}/operations/{op['id']}?api-Version={op['api_version']}"


def _extension_body(ctx, op: dict) -> dict:
    return {
        "id": f"{op['resource_id']}/operations/{op['id']}",
        "name": op["id"],
        "status": op["status"],
        "properties": {},
        "error": op["error"],
    }


def _ml_url(ctx, op: dict) -> str:
    return (
        f"/subscriptions/{ctx.store.subscription_id}/providers/Microsoft.MachineLearningServices/locations/"
        f"{op['location']}/computeOperationsStatus/{op['id']}?api-version={op['api_version']}&service=new"
    )


def _ml_body(ctx, op: dict) -> dict:
    body = {"status": op["status"]}
    if op["error"]:
        body["error"] = op["error"]
    return body


def _relay_url(ctx, op: dict) -> str:
    return f"{op['resource_id']}/operationresults/{op['id']}?api-version={op['api_version']}"


def _relay_body(ctx, op: dict) -> dict:
    body = {
        "id": f"{op['resource_id']}/operationresults/{op['id']}",
        "name": op["id"],
        "status": op["status"],
        "startTime": iso(op["start"]),
    }
    if op["end"]:
        body["endTime"] = iso(op["end"])
    if op["error"]:
        body["error"] = op["error"]
    return body


STATUS_STYLES = {
    "kubernetes": {"url": _kubernetes_url, "body": _kubernetes_body},
    "extension": {"url": _extension_url, "body": _extension_body},
    "ml": {"url": _ml_url, "body": _ml_body},
    "relay": {"url": _relay_url, "body": _relay_body},
}


def _operation_or_404(req: ArmRequest, op_id: str) -> dict:
    op = req.ctx.operations.get(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
    req.ctx.authorize(req.principal, "Microsoft.Resources/operations/read", op["resource_id"])
    return op


def _status_response(req: ArmRequest, op: dict) -> web.Response:
    headers = {} if not is_running(op) else req.ctx.operations.retry_after()
    return json_response(req.ctx.operations.status_body(op), 200, headers)


async def get_status(req: ArmRequest) -> web.Response:
    op_id = req.params["operationId"].split("*", 1)[0]
    return _status_response(req, _operation_or_404(req, op_id))


async def get_result(req: ArmRequest) -> web.StreamResponse:
    op = _operation_or_404(req, req.params["operationId"])
    operations = req.ctx.operations
    if is_running(op):
        return web.Response(status=202, headers={"Location": operations.result_url(op), **operations.retry_after()})
    if op["status"] != "Succeeded":
        error = op["error"] or {"code": op["status"], "message": f"The operation was {op['status'].lower()}."}
        raise ArmError(400, error["code"], error["message"])
    if op["action"] == "delete":
        return web.Response(status=204)
    view = RESOURCE_VIEWS.get(op["kind"])
    body = view(req.ctx, op["resource_id"]) if view else None
    return json_response(body) if body is not None else web.Response(status=204)


def register(router: Router) -> None:
    # Authorization for these is checked against the operation's resource, in the handlers.
    status = {"api_versions": "skip"}
    router.add(
        "GET",
        "/providers/Microsoft.Kubernetes/locations/{location}/operationStatuses/{operationId}",
        get_status,
        **status,
    )
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{clusterRp}/{clusterResourceName}"
        "/{clusterName}/providers/Microsoft.KubernetesConfiguration/extensions/{extensionName}/operations/{operationId}",
        get_status,
        **status,
    )
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/locations/{location}"
        "/computeOperationsStatus/{operationId}",
        get_status,
        **status,
    )
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Relay/namespaces"
        "/{namespaceName}/operationresults/{operationId}",
        get_status,
        **status,
    )
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/operationResults/{operationId}",
        get_result,
        **status,
    )
