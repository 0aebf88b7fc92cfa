"""Microsoft.HybridContainerService provisionedClusterInstances: listAdminKubeconfig and listUserKubeconfig.

API (2024-01-01, the only stable version):
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridaks/resource-manager/Microsoft.HybridContainerService/HybridContainerService/stable/2024-01-01/provisionedClusterInstances.json

`POST {connected cluster id}/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default/
listAdminKubeconfig` (or `listUserKubeconfig`), no body. Both are long-running operations (200, or 202 with
Location; final-state-via azure-async-operation): the emulator answers 202 with Azure-AsyncOperation and Location
(as the spec's example does) and, once done, the operation status is the ListCredentialResponse
`{id, name, resourceId, status, properties: {kubeconfigs: [{name, value}]}}` (the spec's `final-state-schema`).

Only an AKS Arc cluster has a provisioned cluster instance: the sandbox's `kind: provisioned` sites, seeded as
connected clusters of kind ProvisionedCluster. The admin kubeconfig points at the site's own API server with its
admin client certificate (the spec: "can only be used within private network"); the user kubeconfig runs
kubelogin against the Arc server application, which the sandbox's API servers do not accept (see docs/fidelity.md).
The kubeconfig is rendered when the status is read and is never stored.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from . import cluster_access, connected_clusters, lro, resource_groups, resources
from .arm import ArmRequest, Router, not_found

NAMESPACE = "Microsoft.HybridContainerService"
INSTANCE_TYPE = "Microsoft.HybridContainerService/provisionedClusterInstances"
API_VERSIONS = ("2024-01-01",)
KIND = "provisionedClusterCredentials"
STYLE = "hybridcontainerservice"
ACTIONS = {"listadminkubeconfig": "listAdminKubeconfig", "listuserkubeconfig": "listUserKubeconfig"}
# The Azure Arc Kubernetes server application kubelogin asks Entra ID for tokens for.
ARC_SERVER_APP_ID = cluster_access.CLUSTER_CONNECT_AUDIENCE


def instance_id(cluster_id: str) -> str:
    return f"{cluster_id}/providers/{INSTANCE_TYPE}/default"


def _provisioned_cluster(req: ArmRequest) -> dict:
    group, name = req.params["resourceGroupName"], req.params["clusterName"]
    resource_groups.require(req.ctx, group)
    record = resources.get(req.ctx, connected_clusters.cluster_id(req.ctx, group, name))
    if record is None:
        raise not_found(connected_clusters.TYPE_PATH, name, group)
    cluster = record["resource"]
    if (cluster.get("kind") or "").lower() != connected_clusters.PROVISIONED.lower():
        # A plain connected cluster has no provisioned cluster instance below it.
        raise not_found(f"{connected_clusters.TYPE_PATH}/{name}/providers/{INSTANCE_TYPE}", "default", group)
    return cluster


async def list_kubeconfig(req: ArmRequest) -> web.Response:
    cluster = _provisioned_cluster(req)
    action = ACTIONS[req.params["action"].lower()]
    operations = req.ctx.operations
    op = operations.start(
        kind=KIND,
        style=STYLE,
        resource_id=instance_id(cluster["id"]),
        action=action,
        running_status="Accepted",
        namespace=NAMESPACE,
        location=cluster["location"],
        api_version=req.api_version,
    )
    return web.Response(status=202, headers=operations.headers(op, location="status"))


def _site_of(ctx, op: dict) -> cluster_access.SiteAccess:
    # resource_id: /subscriptions/s/resourceGroups/{group}/providers/Microsoft.Kubernetes/connectedClusters/{name}/...
    parts = op["resource_id"].split("/")
    return cluster_access.find(ctx, parts[4], parts[8])


@lro.finalizer(KIND)
def _finish(ctx, op: dict):
    try:
        _site_of(ctx, op)
    except cluster_access.SiteUnknown:
        return "Failed", {
            "code": "ProvisionedClusterUnreachable",
            "message": "The control plane of the provisioned cluster did not answer; check that the cluster is "
            "running, then try again.",
        }
    return "Succeeded", None


def kubeconfig(ctx, op: dict) -> str:
    site = _site_of(ctx, op)
    if op["action"] == "listAdminKubeconfig":
        user_name, user = f"clusterAdmin_{site.resource_group}_{site.name}", cluster_access.admin_user(site)
        cluster_access.record_secret(ctx, user["client-key-data"], f"admin client key of {site.name}")
    else:
        user_name = f"clusterUser_{site.resource_group}_{site.name}"
        user = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "kubelogin",
                "args": ["get-token", "--login", "azurecli", "--server-id", ARC_SERVER_APP_ID],
            }
        }
    return cluster_access.render(
        cluster=site.name, server=site.server, ca_pem=site.ca_pem(), user_name=user_name, user=user
    )


def _status_url(ctx, op: dict) -> str:
    # Shaped like the Microsoft.Kubernetes operation statuses: '*' and a hash of the operation after the id.
    digest = hashlib.sha256(op["id"].encode()).hexdigest()[:64].upper()
    return (
        f"/providers/{NAMESPACE}/locations/{op['location'].upper()}/operationStatuses/{op['id']}*{digest}"
        f"?api-version={op['api_version']}"
    )


def _status_body(ctx, op: dict) -> dict:
    body = {
        "id": f"/providers/{NAMESPACE}/locations/{op['location'].upper()}/operationStatuses/{op['id']}",
        "name": op["id"],
        "resourceId": op["resource_id"],
        "status": op["status"],
    }
    if op["status"] == "Succeeded":
        try:
            text = kubeconfig(ctx, op)
        except cluster_access.SiteUnknown:
            body["status"] = "Failed"
            body["error"] = {"code": "ProvisionedClusterUnreachable", "message": "The cluster stopped."}
            return body
        body["properties"] = {"kubeconfigs": cluster_access.credential_results("credentialName1", text)}
    if op["error"]:
        body["error"] = op["error"]
    return body


lro.STATUS_STYLES.setdefault(STYLE, {"url": _status_url, "body": _status_body})


def register(router: Router) -> None:
    cluster = (
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Kubernetes"
        "/connectedClusters/{clusterName}"
    )
    for action in ACTIONS.values():
        router.add(
            "POST",
            f"{cluster}/providers/{INSTANCE_TYPE}/default/{{action:{action}}}",
            list_kubeconfig,
            namespace=NAMESPACE,
            api_versions=API_VERSIONS,
            action=f"{INSTANCE_TYPE}/{action}/action",
        )
    router.add(
        "GET",
        f"/providers/{NAMESPACE}/locations/{{location}}/operationStatuses/{{operationId}}",
        lro.get_status,
        api_versions="skip",
    )
