# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""PersistentVolumes, PersistentVolumeClaims and namespaces on the collection's one Kubernetes client.

The core/v1 paths kubectl uses for the same objects (`kubectl apply -f pv.yaml`, `kubectl get pvc -n NS`). Every
write can be a server-side dry run (`dryRun=All`): the API server validates and authorizes it and stores nothing,
which is what check mode sends. Changes are JSON merge patches that carry the resourceVersion read, so a change
made by someone else in between is refused (409) rather than overwritten.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import OTHER, KubeClient

MERGE_PATCH = "application/merge-patch+json"
VOLUMES = "/api/v1/persistentvolumes"


def _hints(verb, resource, namespace=None):
    where = f" in namespace {namespace}" if namespace else " (cluster-scoped)"
    schema = "the API server refused the object; check the share's options against its message"
    return {
        403: f"grant this identity the right to {verb} {resource}{where}",
        409: "someone changed it at the same time; re-run the task",
        400: schema,
        422: schema,
        OTHER: "re-run the task; if it persists, check the API server",
    }


class StorageApi:
    """The Kubernetes calls of training_volume, on a kubernetes.client.ApiClient; JSON in, JSON out."""

    def __init__(self, api_client):
        self.kube = KubeClient(api_client)

    def namespace(self, name):
        """The namespace called `name`, or None when the cluster has none."""
        return self.kube.call(
            f"read namespace {name}",
            "GET",
            f"/api/v1/namespaces/{quote(name, safe='')}",
            missing_ok=True,
            hints=_hints("get", "namespaces"),
        )

    def volume(self, name):
        return self.kube.call(
            f"read PersistentVolume {name}",
            "GET",
            _volume_path(name),
            missing_ok=True,
            hints=_hints("get", "persistentvolumes"),
        )

    def claim(self, namespace, name):
        return self.kube.call(
            f"read PersistentVolumeClaim {namespace}/{name}",
            "GET",
            _claim_path(namespace, name),
            missing_ok=True,
            hints=_hints("get", "persistentvolumeclaims", namespace),
        )

    def create_volume(self, body, dry_run=False):
        name = body["metadata"]["name"]
        return self.kube.call(
            f"create PersistentVolume {name}",
            "POST",
            VOLUMES,
            body,
            query=_dry_run(dry_run),
            hints=_hints("create", "persistentvolumes"),
        )

    def create_claim(self, body, dry_run=False):
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        return self.kube.call(
            f"create PersistentVolumeClaim {namespace}/{name}",
            "POST",
            _claim_path(namespace),
            body,
            query=_dry_run(dry_run),
            hints=_hints("create", "persistentvolumeclaims", namespace),
        )

    def patch_volume(self, name, patch, dry_run=False):
        return self.kube.call(
            f"change PersistentVolume {name}",
            "PATCH",
            _volume_path(name),
            patch,
            query=_dry_run(dry_run),
            content_type=MERGE_PATCH,
            hints=_hints("patch", "persistentvolumes"),
        )

    def patch_claim(self, namespace, name, patch, dry_run=False):
        return self.kube.call(
            f"change PersistentVolumeClaim {namespace}/{name}",
            "PATCH",
            _claim_path(namespace, name),
            patch,
            query=_dry_run(dry_run),
            content_type=MERGE_PATCH,
            hints=_hints("patch", "persistentvolumeclaims", namespace),
        )

    def delete_volume(self, name, dry_run=False):
        """Delete the volume object (never the data: the reclaim policy is Retain); None when already gone."""
        return self.kube.call(
            f"delete PersistentVolume {name}",
            "DELETE",
            _volume_path(name),
            query=_dry_run(dry_run),
            missing_ok=True,
            hints=_hints("delete", "persistentvolumes"),
        )

    def delete_claim(self, namespace, name, dry_run=False):
        return self.kube.call(
            f"delete PersistentVolumeClaim {namespace}/{name}",
            "DELETE",
            _claim_path(namespace, name),
            query=_dry_run(dry_run),
            missing_ok=True,
            hints=_hints("delete", "persistentvolumeclaims", namespace),
        )


def _dry_run(dry_run):
    return {"dryRun": "All"} if dry_run else None


def _volume_path(name):
    return f"{VOLUMES}/{quote(name, safe='')}"


def _claim_path(namespace, name=None):
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/persistentvolumeclaims"
    return f"{path}/{quote(name, safe='')}" if name else path
