"""Microsoft.Kubernetes/connectedClusters: PUT, GET, PATCH, DELETE, list, POST listClusterUserCredential.

API: https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/stable/2024-01-01/connectedClusters.json

The resource stays `connectivityStatus: Connecting` after its PUT finishes;
only the stand-in agents (through the agent hooks) turn it Connected and fill
the Kubernetes version, node and core counts, as the real agents do once the
helm chart runs in the cluster.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

import aiohttp
from aiohttp import web

from . import cluster_access, lro, resource_groups, resources, schema, tokens
from .arm import ArmError, ArmRequest, Router, bad_request, json_response, not_found
from .clock import iso, now
from .providers import CONNECTED_CLUSTER_API_VERSIONS, normalize_location, supported_locations

NAMESPACE = "Microsoft.Kubernetes"
TYPE_PATH = "Microsoft.Kubernetes/connectedClusters"
# The live service returns the type lower-cased.
RESOURCE_TYPE = "microsoft.kubernetes/connectedclusters"
KIND = "connectedCluster"
PROVISIONED = "ProvisionedCluster"
# Versions from which PATCH is a long-running operation answered with 202 + Location.
ASYNC_PATCH_FROM = "2025-12-01-preview"

READ_ONLY = ("provisioningState", *schema.CONNECTED_CLUSTER_READ_ONLY)
SERVER_DEFAULTS = {
    "azureHybridBenefit": "NotApplicable",
    "privateLinkState": "Disabled",
    "aadProfile": {},
    "arcAgentProfile": {"agentAutoUpgrade": "Enabled"},
}
PATCHABLE = ("distribution", "distributionVersion", "azureHybridBenefit", "gateway")
HYBRID_BENEFIT = ("True", "False", "NotApplicable")
CONNECTIVITY = ("Connecting", "Connected", "Offline", "Expired", "AgentNotInstalled")


def cluster_id(ctx, resource_group: str, name: str) -> str:
    return resources.arm_id(ctx, resource_group, f"{TYPE_PATH}/{name}")


def _existing(req: ArmRequest) -> tuple[str, dict | None]:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    cid = cluster_id(req.ctx, req.params["resourceGroupName"], req.params["clusterName"])
    record = resources.get(req.ctx, cid)
    return cid, (record["resource"] if record else None)


def _require(req: ArmRequest) -> dict:
    cluster = _existing(req)[1]
    if cluster is None:
        raise not_found(TYPE_PATH, req.params["clusterName"], req.params["resourceGroupName"])
    return cluster


def _check_public_key(kind: str | None, value) -> None:
    if not isinstance(value, str):
        raise bad_request("The property 'properties.agentPublicKeyCertificate' is required.", "InvalidRequestContent")
    if kind == PROVISIONED and value == "":
        return
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("'properties.agentPublicKeyCertificate' must be a base64 encoded public key.") from None
    if not value:
        raise bad_request("'properties.agentPublicKeyCertificate' must not be empty.")


def answer(cluster: dict | None) -> dict | None:
    """The resource as ARM answers it: the protectedSettings of arcAgentryConfigurations by name, without values.

    The service keeps them (the config data plane reads them) but never hands them back; a PUT replaces the whole
    resource, so protected settings a PUT does not send (or sends back blank, as read) are gone afterwards, as
    with any tracked resource's PUT (ConnectedCluster_CreateOrReplace, "create or replace", in
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json).
    The blank values follow how Microsoft.KubernetesConfiguration extensions answer configurationProtectedSettings.
    """
    if not cluster:
        return cluster
    configurations = (cluster.get("properties") or {}).get("arcAgentryConfigurations")
    if not configurations:
        return cluster
    shown = dict(cluster, properties=dict(cluster["properties"]))
    shown["properties"]["arcAgentryConfigurations"] = [
        dict(c, protectedSettings={k: "" for k in c["protectedSettings"]})
        if isinstance(c, dict) and isinstance(c.get("protectedSettings"), dict)
        else c
        for c in configurations
    ]
    return shown


def build(ctx, *, resource_group: str, name: str, body: dict, principal, previous: dict | None) -> dict:
    location = normalize_location(body["location"])
    properties = dict(SERVER_DEFAULTS)
    properties.update({k: v for k, v in (body.get("properties") or {}).items() if k not in READ_ONLY})
    kept = (previous or {}).get("properties", {})
    for field in READ_ONLY:
        if field in kept:
            properties[field] = kept[field]
    properties["provisioningState"] = "Accepted"
    properties.setdefault("connectivityStatus", "Connecting")
    cluster = {
        "id": cluster_id(ctx, resource_group, (previous or {}).get("name", name)),
        "name": (previous or {}).get("name", name),
        "type": RESOURCE_TYPE,
        "location": location,
        "tags": body.get("tags") or {},
        "identity": resources.tracked_identity(ctx, body.get("identity"), (previous or {}).get("identity")),
        "systemData": resources.system_data(principal, (previous or {}).get("systemData")),
        "properties": properties,
    }
    if body.get("kind"):
        cluster["kind"] = body["kind"]
    return cluster


async def put_cluster(req: ArmRequest) -> web.Response:
    cid, previous = _existing(req)
    body = await req.json_object()
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    location = normalize_location(body["location"])
    if location not in supported_locations():
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{body['location']}' is not available for resource type '{TYPE_PATH}'. List of "
            f"available regions for the resource type is '{','.join(sorted(supported_locations()))}'.",
        )
    # The 2026-05-01 spec's rules (sandbox/emulator/schema.py): required identity, enums; read-only ignored.
    body = schema.connected_cluster_put(body, req.api_version)
    if not isinstance(body.get("properties"), dict):
        raise bad_request("The property 'properties' is required.", "InvalidRequestContent")
    _check_public_key(body.get("kind"), body["properties"].get("agentPublicKeyCertificate"))
    if previous is not None:
        resources.require_idle(req.ctx, cid)
        resources.require_same_location(previous, location)
    cluster = build(
        req.ctx,
        resource_group=req.params["resourceGroupName"],
        name=req.params["clusterName"],
        body=body,
        principal=req.principal,
        previous=previous,
    )
    resources.save(req.ctx, KIND, cluster)
    op = req.ctx.operations.start(
        kind=KIND,
        style="kubernetes",
        resource_id=cluster["id"],
        action="update" if previous else "create",
        running_status="Accepted",
        namespace=NAMESPACE,
        location=location,
        api_version=req.api_version,
    )
    # The live service answers 201 to a re-PUT as well, as recorded in
    # https://github.com/Azure/azure-cli-extensions/blob/main/src/vme/azext_vme/tests/latest/recordings/test_vme_live.yaml
    headers = {**req.ctx.operations.headers(op), "x-ms-async-operation-timeout": "P6D"}
    return json_response(answer(cluster), 201, headers)


async def get_cluster(req: ArmRequest) -> web.Response:
    return json_response(answer(_require(req)))


async def patch_cluster(req: ArmRequest) -> web.Response:
    cluster = _require(req)
    body = await req.json_object()
    body = schema.connected_cluster_patch(body, req.api_version)
    unknown = set(body) - {"tags", "properties"}
    properties = body.get("properties") or {}
    unknown |= {f"properties.{k}" for k in properties if k not in PATCHABLE}
    if unknown:
        raise bad_request(
            f"The properties {sorted(unknown)} cannot be updated with PATCH; only tags and properties "
            f"{list(PATCHABLE)} can. Re-PUT the resource to change anything else."
        )
    if "azureHybridBenefit" in properties and properties["azureHybridBenefit"] not in HYBRID_BENEFIT:
        raise bad_request(f"'azureHybridBenefit' must be one of {list(HYBRID_BENEFIT)}.")
    resources.require_idle(req.ctx, cluster["id"])
    if "tags" in body:
        cluster["tags"] = body["tags"] or {}
    cluster["properties"].update(properties)
    cluster["systemData"] = resources.system_data(req.principal, cluster.get("systemData"))
    req.ctx.store.touch()
    if req.api_version.lower() < ASYNC_PATCH_FROM:
        return json_response(answer(cluster))
    cluster["properties"]["provisioningState"] = "Updating"
    op = req.ctx.operations.start(
        kind=KIND,
        style="kubernetes",
        resource_id=cluster["id"],
        action="update",
        running_status="Updating",
        namespace=NAMESPACE,
        location=cluster["location"],
        api_version=req.api_version,
    )
    operations = req.ctx.operations
    return json_response(answer(cluster), 202, {"Location": operations.result_url(op), **operations.retry_after()})


async def delete_cluster(req: ArmRequest) -> web.Response:
    # DELETE takes api-version only in the spec (stable/2026-05-01/connectedClusters.json,
    # https://github.com/Azure/azure-rest-api-specs/tree/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes);
    # the `force=True` query az connectedk8s delete --force adds is undocumented and changes nothing here.
    cid, cluster = _existing(req)
    if cluster is None:
        return web.Response(status=204)
    operations = req.ctx.operations
    op = operations.active_for(cid)
    if op is None or op["action"] != "delete":
        cluster["properties"]["provisioningState"] = "Deleting"
        op = operations.start(
            kind=KIND,
            style="kubernetes",
            resource_id=cid,
            action="delete",
            running_status="Deleting",
            namespace=NAMESPACE,
            location=cluster["location"],
            api_version=req.api_version,
        )
    return web.Response(status=202, headers=operations.headers(op, location="status"))


async def list_in_group(req: ArmRequest) -> web.Response:
    resource_groups.require(req.ctx, req.params["resourceGroupName"])
    scope = f"/subscriptions/{req.ctx.store.subscription_id}/resourceGroups/{req.params['resourceGroupName']}"
    return json_response(resources.page(req, [answer(c) for c in resources.list_of(req.ctx, KIND, scope)]))


async def list_in_subscription(req: ArmRequest) -> web.Response:
    clusters = resources.list_of(req.ctx, KIND, f"/subscriptions/{req.ctx.store.subscription_id}")
    return json_response(resources.page(req, [answer(c) for c in clusters]))


@lro.finalizer(KIND)
def _finish(ctx, op: dict):
    if op["action"] == "delete":
        resources.remove_tree(ctx, op["resource_id"])
    else:
        cluster = resources.body(ctx, op["resource_id"])
        if cluster is not None:
            cluster["properties"]["provisioningState"] = "Succeeded"
    return "Succeeded", None


@lro.resource_view(KIND)
def _view(ctx, resource_id: str):
    return answer(resources.body(ctx, resource_id))


def set_status(ctx, cid: str, **fields) -> dict:
    """The agents' report: connectivity, Kubernetes version, node/core counts, agent version."""
    cluster = resources.body(ctx, cid)
    if cluster is None:
        raise KeyError(cid)
    status = fields.get("connectivityStatus")
    if status is not None and status not in CONNECTIVITY:
        raise ValueError(f"connectivityStatus must be one of {CONNECTIVITY}")
    properties = cluster["properties"]
    properties.update({k: v for k, v in fields.items() if v is not None})
    if status == "Connected":
        properties["lastConnectivityTime"] = iso()
        properties.setdefault("managedIdentityCertificateExpirationTime", iso(_ninety_days_from_now()))
        # The Arc agents' first-party app writes these reports.
        cluster["systemData"].update(
            lastModifiedBy="64b12d6e-6549-484c-8cc6-6281839ba394",
            lastModifiedByType="Application",
            lastModifiedAt=iso(),
        )
    ctx.store.touch()
    return cluster


def _ninety_days_from_now() -> float:
    return now() + 90 * 24 * 3600


# ListClusterUserCredentialProperties (2026-05-01 spec): both properties required, authenticationMethod Token | AAD.
LIST_USER_CREDENTIAL = schema.rule(
    required=("authenticationMethod", "clientProxy"), enums={"authenticationMethod": ("Token", "AAD")}
)
# Where the stand-in Arc chart records whether the cluster connect agent runs (sandbox/charts/azure-arc).
CLUSTER_CONFIG = "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig"
PROBE_TIMEOUT = 10


def _cluster_connect_not_enabled(name: str) -> ArmError:
    return bad_request(
        f"Cluster connect is not enabled on the connected cluster '{name}': its cluster connect agent "
        "(clusterconnect-agent) does not run or cannot reach Azure. Enable it with 'az connectedk8s enable-features "
        "--features cluster-connect', or connect the cluster again with the agent enabled.",
        "ClusterConnectNotEnabled",
    )


async def _cluster_connect_enabled(site: cluster_access.SiteAccess) -> bool:
    """Whether the site's Arc agents run the cluster connect agent, as their cluster config says."""
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    connector = aiohttp.TCPConnector(ssl=site.ssl_context())
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.get(site.server + CLUSTER_CONFIG) as response,
        ):
            if response.status != 200:
                return False
            config = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
        return False
    return str((config.get("data") or {}).get("CLUSTER_CONNECT_AGENT_ENABLED", "")).lower() == "true"


def _credential_body(body: dict) -> dict:
    body = schema.check(body, LIST_USER_CREDENTIAL)[0]
    if not isinstance(body["clientProxy"], bool):
        raise schema.invalid_content("The property 'clientProxy' must be a boolean.", "clientProxy")
    if body["clientProxy"]:
        # The client proxy's answer carries an Azure Relay rendezvous (hybridConnectionConfig) for the arcProxy
        # binary az connectedk8s proxy runs; the sandbox has no such relay.
        raise bad_request(
            "clientProxy=true needs the Azure Relay rendezvous of az connectedk8s proxy, which the sandbox does not "
            "emulate; ask with clientProxy=false.",
            "InvalidRequestContent",
        )
    return body


async def list_user_credential(req: ArmRequest) -> web.Response:
    """POST .../listClusterUserCredential: a kubeconfig for the cluster connect proxy (cluster_proxy.py).

    AAD: the user carries an Entra ID token of the caller for the Arc server application; Token: no credential,
    the caller adds its service account token (as az connectedk8s proxy --token does, insert_token_in_kubeconfig).
    """
    cluster = _require(req)
    body = _credential_body(await req.json_object())
    group, name = req.params["resourceGroupName"], cluster["name"]
    try:
        site = cluster_access.find(req.ctx, group, name)
    except cluster_access.SiteUnknown:
        raise _cluster_connect_not_enabled(name) from None
    if not await _cluster_connect_enabled(site):
        raise _cluster_connect_not_enabled(name)
    user = {}
    if body["authenticationMethod"].lower() == "aad":
        ctx = req.ctx
        lifetime = int(ctx.store.settings["token_lifetime_seconds"])
        claims = tokens.app_token_claims(
            req.principal, ctx.store.tenant_id, ctx.login_url, cluster_access.CLUSTER_CONNECT_AUDIENCE, lifetime
        )
        user = {"token": tokens.mint(ctx.pki, claims)}
        cluster_access.record_secret(ctx, user["token"], f"cluster connect token of {group}/{name}")
    text = cluster_access.render(
        cluster=name,
        server=cluster_access.proxy_url(req.ctx, group, name),
        ca_pem=req.ctx.paths.ca_cert.read_bytes(),
        user_name=f"clusterUser_{group}_{name}",
        user=user,
    )
    return json_response({"kubeconfigs": cluster_access.credential_results("credentialName1", text)})


def register(router: Router) -> None:
    rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    item = rg + "/providers/Microsoft.Kubernetes/connectedClusters/{clusterName}"
    options = {"namespace": NAMESPACE, "resource_type": TYPE_PATH, "api_versions": CONNECTED_CLUSTER_API_VERSIONS}
    router.add("PUT", item, put_cluster, **options)
    router.add("GET", item, get_cluster, **options)
    router.add("PATCH", item, patch_cluster, **options)
    router.add("DELETE", item, delete_cluster, **options)
    router.add(
        "POST",
        item + "/listClusterUserCredential",
        list_user_credential,
        namespace=NAMESPACE,
        api_versions=CONNECTED_CLUSTER_API_VERSIONS,
        action=f"{TYPE_PATH}/listClusterUserCredential/action",
    )
    router.add("GET", rg + "/providers/Microsoft.Kubernetes/connectedClusters", list_in_group, **options)
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Kubernetes/connectedClusters",
        list_in_subscription,
        **options,
    )
