# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Microsoft.KubernetesConfiguration/extensions over ARM REST, and the extension as modules return it.

Thin REST on the collection's ARM client rather than azure-mgmt-kubernetesconfiguration-extensions: a
PATCH must carry exactly the fields that differ (and `version: null` when unpinning), the api-version is
pinned to the newest one confirmed GA (the SDK defaults to 2025-03-01, whose GA status is unconfirmed),
and every call shares one retry policy, one Retry-After-honouring poller with the task's deadline and one
error format with the request id. The SDK would add a large import to every task for none of that.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError, is_absent, resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import GroupResource
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import legacy_keys

API_VERSION = "2024-11-01"
CLUSTER_TYPES = {
    "connectedClusters": "Microsoft.Kubernetes",
    "managedClusters": "Microsoft.ContainerService",
}


@dataclass
class ClusterRef(GroupResource):
    """The cluster an extension belongs to."""

    cluster_type: str
    cluster_name: str

    @property
    def provider(self):
        return CLUSTER_TYPES[self.cluster_type]

    @property
    def id(self):
        """The ARM id the way az k8s-extension writes it into the extension's settings."""
        return self.resource_id(self.provider, self.cluster_type, self.cluster_name)

    @property
    def path(self):
        return self.resource_path(self.provider, self.cluster_type, self.cluster_name)

    def describe(self):
        return f"{self.cluster_type} {self.cluster_name} (resource group {self.resource_group})"


class ExtensionClient:
    """One extension's ARM calls; errors are _arm.AzureApiError."""

    def __init__(self, arm, cluster, name):
        self.arm = arm
        self.cluster = cluster
        self.name = name

    @property
    def collection_path(self):
        return self.cluster.path + resource_path("providers", "Microsoft.KubernetesConfiguration", "extensions")

    @property
    def path(self):
        return self.collection_path + resource_path(self.name)

    def describe(self):
        return f"extension {self.name} on {self.cluster.describe()}"

    def read(self, check_mode=False):
        """(the extension or None when absent, the server's Retry-After or None); see errors.is_absent for
        `check_mode`, where an unregistered Microsoft.KubernetesConfiguration means no extension yet."""
        try:
            response = self.arm.request("GET", self.path, API_VERSION)
        except AzureApiError as exc:
            if is_absent(exc, check_mode=check_mode):
                return None, None
            raise
        return response.body, response.retry_after

    def get(self):
        return self.read()[0]

    def list(self):
        """Every extension on the cluster ([] when the cluster does not exist)."""
        try:
            return self.arm.list(self.collection_path, API_VERSION)
        except AzureApiError as exc:
            if exc.status == 404 and (exc.code or "").lower() in ("resourcenotfound", "notfound"):
                return []
            raise

    def create(self, body, waiter=None):
        return self.arm.put(self.path, API_VERSION, body, waiter=waiter, final_state_via="azure-async-operation")

    def update(self, properties, waiter=None):
        return self.arm.patch(
            self.path, API_VERSION, {"properties": properties}, waiter=waiter, final_state_via="azure-async-operation"
        )

    def delete(self, waiter=None, force=False):
        """Start (and with a waiter, finish) the delete; False when it was already gone."""
        path = self.path + ("?forceDelete=true" if force else "")
        return self.arm.delete(path, API_VERSION, waiter=waiter)


def check_extension_names(params, name):
    """Refuse, before any request, a name of the options that Azure does not allow in the request path.

    An empty `name` (cluster_extension_info listing every extension) is not checked.
    """
    _resource_id.check_names(
        ("resource_group", params["resource_group"], _resource_id.RESOURCE_GROUP),
        ("cluster_name", params["cluster_name"], _resource_id.CLUSTER_NAME),
        ("name", name or None, _resource_id.EXTENSION_NAME),
        what="extension request",
    )


def extension_client(module, name):
    """The ExtensionClient for the cluster the task's options name (authenticates to Azure on first use).

    Every name in the extension's path is checked first (_azure/resource_id.py), before sign-in.
    """
    params = module.params
    check_extension_names(params, name)
    azure = module.azure()
    _resource_id.check_names(
        ("subscription_id", azure.subscription_id, _resource_id.SUBSCRIPTION_ID), what="extension request"
    )
    cluster = ClusterRef(
        azure.subscription_id, params["resource_group"], params["cluster_type"], params["cluster_name"]
    )
    return ExtensionClient(azure.arm, cluster, name)


def state_of(extension):
    return ((extension or {}).get("properties") or {}).get("provisioningState")


def view(extension):
    """The extension as the modules return it: snake_case, protected setting keys only, never values."""
    if not extension:
        return {}
    properties = extension.get("properties") or {}
    scope = properties.get("scope") or {}
    namespace_scope = scope.get("namespace")
    settings = dict(properties.get("configurationSettings") or {})
    # The fingerprint earlier versions wrote is not shown (the next present run removes it), only whether it is there.
    legacy = legacy_keys(settings)
    for key in legacy:
        settings.pop(key)
    identity = extension.get("identity") or {}
    return {
        "id": extension.get("id"),
        "name": extension.get("name"),
        "extension_type": properties.get("extensionType"),
        "scope": "namespace" if namespace_scope else "cluster",
        "release_namespace": None if namespace_scope else (scope.get("cluster") or {}).get("releaseNamespace"),
        "target_namespace": (namespace_scope or {}).get("targetNamespace"),
        "auto_upgrade_minor_version": properties.get("autoUpgradeMinorVersion"),
        "release_train": properties.get("releaseTrain"),
        "version": properties.get("version"),
        "current_version": properties.get("currentVersion"),
        "provisioning_state": properties.get("provisioningState"),
        "configuration_settings": settings,
        "configuration_protected_setting_keys": sorted((properties.get("configurationProtectedSettings") or {}).keys()),
        "protected_settings_fingerprint": bool(legacy),
        "error": properties.get("errorInfo"),
        "statuses": properties.get("statuses") or [],
        "identity_principal_id": identity.get("principalId"),
        "is_system_extension": properties.get("isSystemExtension"),
    }
