"""Hooks for the stand-in Arc and extension agents.

The real agents run in the cluster, report the cluster's state to ARM and
carry out extension operations. The stand-ins do the same through this API:
in-process (call these methods on the emulator's event loop thread) or
out-of-process through the admin API (GET /_sandbox/clusters,
POST /_sandbox/clusters/status, POST /_sandbox/extensions/status; see
client.AdminClient).
"""

from __future__ import annotations

from . import connected_clusters, extensions, resources
from .store import key


def _operation(ctx, resource_id: str) -> dict | None:
    op = ctx.operations.active_for(resource_id)
    return None if op is None else {"id": op["id"], "action": op["action"], "status": op["status"]}


def _extension_summary(ctx, record: dict) -> dict:
    ext = record["resource"]
    properties = ext["properties"]
    scope = properties.get("scope") or {}
    return {
        "id": ext["id"],
        "name": ext["name"],
        "extensionType": properties["extensionType"],
        "provisioningState": properties["provisioningState"],
        "releaseNamespace": (scope.get("cluster") or {}).get("releaseNamespace"),
        "scope": scope,
        "version": properties.get("version"),
        "releaseTrain": properties.get("releaseTrain"),
        "autoUpgradeMinorVersion": properties.get("autoUpgradeMinorVersion"),
        "configurationSettings": dict(properties.get("configurationSettings") or {}),
        "protectedSettingKeys": sorted(record.get("protected") or {}),
        "operation": _operation(ctx, ext["id"]),
    }


class AgentHooks:
    def __init__(self, ctx):
        self.ctx = ctx

    def clusters(self) -> list:
        """Every connected cluster with its extensions and their running operations."""
        self.ctx.operations.advance()
        out = []
        for record in self.ctx.store.values("resources"):
            if record["kind"] != connected_clusters.KIND:
                continue
            cluster = record["resource"]
            properties = cluster["properties"]
            parts = cluster["id"].split("/")
            out.append(
                {
                    "id": cluster["id"],
                    "name": cluster["name"],
                    "subscriptionId": parts[2],
                    "resourceGroup": parts[4],
                    "location": cluster["location"],
                    "kind": cluster.get("kind"),
                    "provisioningState": properties.get("provisioningState"),
                    "connectivityStatus": properties.get("connectivityStatus"),
                    "agentPublicKeyCertificate": properties.get("agentPublicKeyCertificate"),
                    "distribution": properties.get("distribution"),
                    "infrastructure": properties.get("infrastructure"),
                    "kubernetesVersion": properties.get("kubernetesVersion"),
                    "totalNodeCount": properties.get("totalNodeCount"),
                    "totalCoreCount": properties.get("totalCoreCount"),
                    "agentVersion": properties.get("agentVersion"),
                    "operation": _operation(self.ctx, cluster["id"]),
                    "extensions": [
                        _extension_summary(self.ctx, r) for r in extensions.records_of(self.ctx, cluster["id"])
                    ],
                }
            )
        return sorted(out, key=lambda c: key(c["id"]))

    def report_cluster(
        self,
        cluster_id: str,
        *,
        connectivity_status: str | None = None,
        kubernetes_version: str | None = None,
        total_node_count: int | None = None,
        total_core_count: int | None = None,
        agent_version: str | None = None,
    ) -> dict:
        """What the Arc agents report: connectivity, Kubernetes version, node and core counts, agent version."""
        cluster = connected_clusters.set_status(
            self.ctx,
            cluster_id,
            connectivityStatus=connectivity_status,
            kubernetesVersion=kubernetes_version,
            totalNodeCount=total_node_count,
            totalCoreCount=total_core_count,
            agentVersion=agent_version,
        )
        self.ctx.store.save()
        return cluster

    def report_extension(
        self, extension_id: str, state: str, error: dict | None = None, current_version: str | None = None
    ) -> dict | None:
        """The extension agents' outcome: Succeeded / Failed (with the error ARM shows) / Deleted."""
        if resources.get(self.ctx, extension_id) is None:
            raise KeyError(extension_id)
        result = extensions.complete(self.ctx, extension_id, state, error, current_version)
        self.ctx.store.save()
        return result
