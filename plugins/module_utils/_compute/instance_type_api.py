# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The InstanceType custom resources of a cluster: read, create, replace, delete, with one-line errors.

InstanceType is cluster-scoped (its name is "unique in a cluster"). A 404 for an object whose type the
API server knows is a Status naming the object; when the type itself is unknown (the Azure ML extension,
which installs the CRD, is missing) the answer names nothing, so one GET tells the two apart
(KubernetesError.unknown_type).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import (
    CRD_NAME,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import (
    OTHER,
    UNKNOWN_TYPE,
    KubeClient,
    KubernetesError,
)

# Reads and replaces of one object before giving up when other writers keep changing it.
CONFLICT_ATTEMPTS = 3
COLLECTION_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
CRD_MISSING_HINT = (
    f"the cluster does not serve {KIND} resources ({GROUP}/{VERSION}): the custom resource definition {CRD_NAME} "
    "is missing, which means the Azure ML extension (Microsoft.AzureML.Kubernetes) is not installed yet; install "
    "it first (hci.arc_ml.azureml_extension, or az k8s-extension create --extension-type "
    "Microsoft.AzureML.Kubernetes), wait until it is Succeeded, then re-run"
)


def hints(verb):
    """What to do when a call that needs the RBAC `verb` on InstanceTypes fails, by HTTP status."""
    schema = f"the cluster's {KIND} schema rejected the object; check the options against it"
    return {
        UNKNOWN_TYPE: CRD_MISSING_HINT,
        403: f"grant this identity the right to {verb} {CRD_NAME} (cluster-scoped)",
        409: "another writer changed it at the same time; re-run the task",
        400: schema,
        422: schema,
        OTHER: "re-run the task; if it persists, check the API server",
    }


class InstanceTypeApi:
    """InstanceType objects on a kubernetes.client.ApiClient; JSON in, JSON out."""

    def __init__(self, api_client):
        self.kube = KubeClient(api_client)

    def get(self, name):
        """The InstanceType called `name`, or None; KubernetesError.unknown_type when the cluster has no such type."""
        try:
            return self.kube.call(f"read {KIND} {name}", "GET", _object_path(name), hints=hints("get"))
        except KubernetesError as exc:
            if exc.status == 404 and not exc.unknown_type:
                return None
            raise

    def create(self, name, spec):
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": name}, "spec": spec}
        return self.kube.call(f"create {KIND} {name}", "POST", COLLECTION_PATH, body, hints=hints("create"))

    def replace_spec(self, name, current, spec):
        """Replace the managed part of `current`'s spec (nodeSelector, resources), keeping everything else.

        The PUT carries the resourceVersion that was read; when another writer got there first, the object
        is read again and the change re-applied, a bounded number of times.
        """
        attempt = 1
        while True:
            try:
                return self.kube.call(
                    f"replace {KIND} {name}",
                    "PUT",
                    _object_path(name),
                    with_spec(current, spec),
                    hints=hints("update"),
                )
            except KubernetesError as exc:
                if exc.status != 409 or attempt >= CONFLICT_ATTEMPTS:
                    raise
            attempt += 1
            current = self.get(name)
            if current is None:
                return self.create(name, spec)

    def delete(self, name):
        """Delete the InstanceType; False when it was already gone."""
        try:
            self.kube.call(f"delete {KIND} {name}", "DELETE", _object_path(name), hints=hints("delete"))
        except KubernetesError as exc:
            if exc.status == 404 and not exc.unknown_type:
                return False
            raise
        return True


def _object_path(name):
    return f"{COLLECTION_PATH}/{quote(name, safe='')}"


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
