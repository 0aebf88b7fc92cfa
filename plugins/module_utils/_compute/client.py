# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure ML computes over ARM: read, list, attach (PUT, LRO) and detach (DELETE ?underlyingResourceAction=Detach).

Thin REST on the collection's ArmClient (the API:
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json):
the stable api-version that
defines the Kubernetes compute, Azure-AsyncOperation polling within the task's wait deadline, and the
service's errors with what to do next. A detach never passes `Delete`: the cluster and its Azure ML
extension stay as they are.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError, resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.settings import EXTENSION_TYPE
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line

API_VERSION = "2025-12-01"
BUSY_STATES = ("Creating", "Updating", "Deleting")
# What azureml-core's wait_for_completion(show_output=True) printed when an attach succeeded.
SUCCEEDED_MESSAGE = 'Provisioning operation finished, operation "Succeeded"'


class ComputeError(ArcMLError):
    """A compute cannot be attached or detached as asked; `status` is the HTTP status when Azure refused a request."""

    def __init__(self, message, status=None, **details):
        super().__init__(message, **details)
        self.status = status


def provisioning_state(compute):
    return ((compute or {}).get("properties") or {}).get("provisioningState")


def compute_type(compute):
    return ((compute or {}).get("properties") or {}).get("computeType")


class ComputeClient:
    """The computes of one workspace, on an ArmClient."""

    def __init__(self, arm, workspace):
        self.arm = arm
        self.workspace = workspace

    def path(self, name=None):
        base = self.workspace.path + "/computes"
        return base + resource_path(name) if name else base

    def get(self, name):
        """The compute's ARM body, or None when the workspace has no compute of that name."""
        return self.arm.get_or_none(self.path(name), API_VERSION)

    def list(self):
        return self.arm.list(self.path(), API_VERSION)

    def read_workspace(self):
        """The workspace's ARM body (its location is the attach body's); AzureApiError 404 when it does not exist."""
        return self.arm.get(self.workspace.path, API_VERSION)

    def wait_until_settled(self, name, compute, waiter):
        """Wait while the compute is Creating, Updating or Deleting; return it then (None once deleted)."""
        if provisioning_state(compute) not in BUSY_STATES:
            return compute
        if waiter is None:
            raise ComputeError(
                f"Compute {name} in {self.workspace.describe()} is {provisioning_state(compute)}: another operation "
                "is running on it. Re-run the task when it has finished, or let the task wait (wait: true)."
            )
        return waiter.poll_until(
            poll=lambda: (self.get(name), None),
            done=lambda body: provisioning_state(body) not in BUSY_STATES,
            what=f"the running operation on compute {name} to finish",
            describe=lambda body: provisioning_state(body) or "absent",
            first=(compute, None),
        )

    def attach(self, desired, body, waiter):
        """PUT the compute; with a waiter, follow the operation to its end and return the attached compute."""
        try:
            return self.arm.put(self.path(desired.name), API_VERSION, body, waiter=waiter)
        except AzureApiError as exc:
            if exc.status == 400 and "extension not installed" in (exc.service_message or "").lower():
                raise extension_missing(desired, exc) from None
            raise

    def detach(self, name, waiter):
        """DELETE with underlyingResourceAction=Detach; with a waiter, until the compute is gone."""
        self.arm.delete(self.path(name) + "?underlyingResourceAction=Detach", API_VERSION, waiter=waiter)


def extension_missing(desired, exc):
    """The attach error for a cluster without a succeeded Azure ML extension: the service's words, then what to run."""
    _subscription, resource_group, cluster_type, cluster_name = desired.cluster
    cli_type = "managedClusters" if cluster_type.lower().endswith("managedclusters") else "connectedClusters"
    ids = "; ".join(
        f"{label}: {value}"
        for label, value in (("x-ms-request-id", exc.request_id), ("correlation id", exc.correlation_id))
        if value
    )
    return ComputeError(
        f"Cannot attach compute {desired.name} to {desired.workspace.describe()}: the Azure ML extension is not "
        f"installed on cluster {desired.cluster_id} (Azure answered HTTP {exc.status} {exc.code or ''}: "
        f"{one_line(exc.service_message, 500).rstrip('.')}). Install it first and wait until it is Succeeded: "
        f"hci.arc_ml.azureml_extension, or az k8s-extension create --name azureml --extension-type {EXTENSION_TYPE} "
        f"--config enableTraining=True --cluster-type {cli_type} --cluster-name {cluster_name} --resource-group "
        f"{resource_group} --scope cluster; then re-run. If it is installed and Succeeded, grant the workspace's "
        "identity the Kubernetes Extension Contributor role on the cluster." + (f" ({ids})" if ids else ""),
        status=exc.status,
        **{k: v for k, v in (("error_code", exc.code), ("request_id", exc.request_id)) if v},
    )
