# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The ARM calls that hand out a cluster's kubeconfig: paths, bodies, and where the kubeconfig is in the answer.

- AKS Arc provisioned clusters: `POST {connected cluster id}/providers/Microsoft.HybridContainerService/
  provisionedClusterInstances/default/listAdminKubeconfig` (or `listUserKubeconfig`), no body, api-version
  2024-01-01 (the latest stable one). A long-running operation (`x-ms-long-running-operation`, 200, or 202 with
  Azure-AsyncOperation and Location, final-state-via azure-async-operation); the result is a
  ListCredentialResponse `{id, name, resourceId, status, properties: {kubeconfigs: [{name, value}]}}`:
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridaks/resource-manager/Microsoft.HybridContainerService/HybridContainerService/stable/2024-01-01/provisionedClusterInstances.json
- Connected clusters: `POST .../Microsoft.Kubernetes/connectedClusters/{name}/listClusterUserCredential`,
  body `{authenticationMethod: AAD|Token, clientProxy: bool}` (both required), api-version 2026-05-01,
  synchronous 200 with CredentialResults `{kubeconfigs: [{name, value}], hybridConnectionConfig}`:
  https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json

`value` is the kubeconfig, base64-encoded (`format: byte`). Nothing here logs or keeps it.
"""

from __future__ import annotations

import base64
import binascii

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

# The api-version of every Microsoft.Kubernetes call of the collection (_arc/resource.py API_VERSION).
CONNECTED_CLUSTER_API_VERSION = "2026-05-01"
# The latest stable Microsoft.HybridContainerService api-version (stable/2024-01-01 is the only stable one).
PROVISIONED_API_VERSION = "2024-01-01"

ADMIN = "admin"
USER = "user"
CLUSTER_CONNECT = "cluster_connect"
KINDS = (ADMIN, USER, CLUSTER_CONNECT)
_PROVISIONED_ACTIONS = {ADMIN: "listAdminKubeconfig", USER: "listUserKubeconfig"}


class CredentialsError(ArcMLError):
    """Azure answered, but without a kubeconfig the collection can use."""


class ClusterAccess(_resource_id.GroupResource):
    """One connected cluster (plain or AKS Arc provisioned), addressed for its credential actions."""

    def __init__(self, subscription_id, resource_group, name):
        super().__init__(subscription_id, resource_group)
        self.name = name

    @property
    def cluster_id(self):
        return self.resource_id("Microsoft.Kubernetes", "connectedClusters", self.name)

    def action_path(self, kind):
        """The request path of the credential action of `kind`."""
        cluster = ("Microsoft.Kubernetes", "connectedClusters", self.name)
        if kind == CLUSTER_CONNECT:
            return self.resource_path(*cluster, "listClusterUserCredential")
        instance = ("providers", "Microsoft.HybridContainerService", "provisionedClusterInstances", "default")
        return self.resource_path(*cluster, *instance, _PROVISIONED_ACTIONS[kind])


def check_names(subscription_id, resource_group, name):
    """The names that reach the request path, checked with the shared rules before any request."""
    _resource_id.check_names(
        ("subscription_id", subscription_id, _resource_id.SUBSCRIPTION_ID),
        ("resource_group", resource_group, _resource_id.RESOURCE_GROUP),
        ("cluster_name", name, _resource_id.CLUSTER_NAME),
        what="cluster credentials request",
    )


# What az connectedk8s proxy asks for when the caller signs in with Entra ID (no --token): AAD; the sandbox hands
# back a kubeconfig usable as it is, so clientProxy is false (the proxy binary is not involved):
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/clientproxyhelper/_proxylogic.py
CLUSTER_CONNECT_BODY = {"authenticationMethod": "AAD", "clientProxy": False}


def fetch_kubeconfig(arm, access, kind, waiter):
    """The kubeconfig text Azure hands out for `kind`; one POST (followed to its end for provisioned clusters)."""
    path = access.action_path(kind)
    if kind == CLUSTER_CONNECT:
        answer = arm.post(path, CONNECTED_CLUSTER_API_VERSION, CLUSTER_CONNECT_BODY)
        credentials = (answer or {}).get("kubeconfigs")
    else:
        answer = arm.post(path, PROVISIONED_API_VERSION, waiter=waiter)
        credentials = ((answer or {}).get("properties") or {}).get("kubeconfigs")
    return _first_kubeconfig(credentials, f"POST {_resource_id_of(path)}")


def _resource_id_of(path):
    return path.split("?", 1)[0]


def _first_kubeconfig(credentials, request):
    if not isinstance(credentials, list) or not credentials or not isinstance(credentials[0], dict):
        raise CredentialsError(f"Azure answered {request} without a kubeconfig; try again, or ask Microsoft support.")
    value = credentials[0].get("value")
    try:
        return base64.b64decode(value or "", validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError):
        raise CredentialsError(
            f"Azure answered {request} with a kubeconfig that is not base64-encoded text; "
            "try again, or ask Microsoft support."
        ) from None
