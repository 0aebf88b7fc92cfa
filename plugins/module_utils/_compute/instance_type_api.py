# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The InstanceType custom resources of a cluster: read, create, replace, delete, with one-line errors.

InstanceType is cluster-scoped (its name is "unique in a cluster"). A 404 for an object whose type the
API server knows is a Status naming the object; when the type itself is unknown (the Azure ML extension,
which installs the CRD, is missing) the answer names nothing, so one GET tells the two apart.
"""

from __future__ import annotations

import json

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import (
    CRD_NAME,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.api import typed_call, unreachable

# Reads and replaces of one object before giving up when other writers keep changing it.
CONFLICT_ATTEMPTS = 3


class InstanceTypeApiError(ArcMLError):
    """A Kubernetes call failed; `status` is the HTTP status, or None when the API did not answer."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class CrdMissing(InstanceTypeApiError):
    """The cluster does not serve InstanceType: the Azure ML extension is not installed (yet)."""


class InstanceTypeApi:
    """InstanceType objects on a kubernetes.client.ApiClient; JSON in, JSON out."""

    def __init__(self, api_client):
        import_optional("kubernetes", "kubernetes")
        from kubernetes import client

        self.host = api_client.configuration.host
        self._api = client.CustomObjectsApi(api_client)

    def get(self, name):
        """The InstanceType called `name`, or None; CrdMissing when the cluster has no such type."""
        try:
            return self._call(
                f"read InstanceType {name}", self._api.get_cluster_custom_object, GROUP, VERSION, PLURAL, name
            )
        except InstanceTypeApiError as exc:
            if exc.status == 404 and not isinstance(exc, CrdMissing):
                return None
            raise

    def create(self, name, spec):
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": name}, "spec": spec}
        return self._call(
            f"create InstanceType {name}", self._api.create_cluster_custom_object, GROUP, VERSION, PLURAL, body
        )

    def replace_spec(self, name, current, spec):
        """Replace the managed part of `current`'s spec (nodeSelector, resources), keeping everything else.

        The PUT carries the resourceVersion that was read; when another writer got there first, the object
        is read again and the change re-applied, a bounded number of times.
        """
        attempt = 1
        while True:
            try:
                return self._call(
                    f"replace InstanceType {name}",
                    self._api.replace_cluster_custom_object,
                    GROUP,
                    VERSION,
                    PLURAL,
                    name,
                    with_spec(current, spec),
                )
            except InstanceTypeApiError as exc:
                if exc.status != 409 or attempt >= CONFLICT_ATTEMPTS:
                    raise
            attempt += 1
            current = self.get(name)
            if current is None:
                return self.create(name, spec)

    def delete(self, name):
        """Delete the InstanceType; False when it was already gone."""
        try:
            self._call(
                f"delete InstanceType {name}", self._api.delete_cluster_custom_object, GROUP, VERSION, PLURAL, name
            )
        except InstanceTypeApiError as exc:
            if exc.status == 404 and not isinstance(exc, CrdMissing):
                return False
            raise
        return True

    def _call(self, what, method, *args):
        return typed_call(what, self.host, method, *args, errors=(api_error, InstanceTypeApiError))


def with_spec(current, spec):
    """`current` with the managed part of its spec (nodeSelector, resources) replaced by `spec`."""
    body = json.loads(json.dumps(current))
    metadata = body.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    merged = dict(body.get("spec") or {})
    merged.pop("nodeSelector", None)
    merged.update(spec)
    body["spec"] = merged
    return body


def _status(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        status = json.loads(body) if body else {}
    except ValueError:
        return {"message": one_line(body, 300)}
    return status if isinstance(status, dict) else {}


def api_error(what, host, status, reason, body):
    """The InstanceTypeApiError (or CrdMissing) for an error answer of the Kubernetes API."""
    answer = _status(body)
    message = answer.get("message") or reason or "no message"
    if not status:  # the client library's own failure, such as a TLS error
        return InstanceTypeApiError(unreachable(what, host, reason))
    if status == 404 and not (answer.get("details") or {}).get("name"):
        return CrdMissing(
            f"Cannot {what}: the cluster at {host} does not serve {KIND} resources ({GROUP}/{VERSION}): the custom "
            f"resource definition {CRD_NAME} is missing, which means the Azure ML extension "
            "(Microsoft.AzureML.Kubernetes) is not installed yet. Install it first (hci.arc_ml.azureml_extension, "
            "or az k8s-extension create --extension-type Microsoft.AzureML.Kubernetes), wait until it is "
            "Succeeded, then re-run.",
            status=404,
        )
    if status == 401:
        hint = "check the kubeconfig user, client certificate or token"
    elif status == 403:
        hint = f"grant this identity the right to {what.split(' ')[0]} {PLURAL}.{GROUP} (cluster-scoped)"
    elif status == 409:
        hint = "another writer changed it at the same time; re-run the task"
    elif status in (400, 422):
        hint = "the cluster's InstanceType schema rejected the object; check the options against it"
    else:
        hint = "re-run the task; if it persists, check the API server"
    return InstanceTypeApiError(
        f"Cannot {what}: the Kubernetes API at {host} answered HTTP {status}: {one_line(message, 400)}; {hint}.",
        status=status,
    )
