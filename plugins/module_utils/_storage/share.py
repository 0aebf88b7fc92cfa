# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""An NFS share for Azure ML training jobs: its options, their validation, and the two objects it becomes.

Azure ML mounts a PersistentVolumeClaim into the training jobs of a Kubernetes compute when the claim is in the
compute's namespace and carries the label `ml.azure.com/pvc: "true"`; its annotation `ml.azure.com/mountpath`
names where the job sees it (https://learn.microsoft.com/azure/machine-learning/reference-kubernetes, "Azure
Machine Learning jobs connect with custom data storage";
https://github.com/Azure/AML-Kubernetes/blob/master/docs/pvc.md). The documented example is an NFS
PersistentVolume with `persistentVolumeReclaimPolicy: Retain` and `storageClassName: ""`, and a claim for it.

Here the volume and its claim are reserved for each other (the volume's `claimRef`, the claim's `volumeName`;
https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reserving-a-persistentvolume), so no other
claim can take the volume and no provisioner the claim. Both carry MANAGED_BY: an object without it was not
made by this collection and is never changed or deleted.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.names import (
    DNS_LABEL,
    DNS_LABEL_MAX,
    DNS_SUBDOMAIN,
    DNS_SUBDOMAIN_MAX,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import QuantityError, parse_quantity

# What the Azure ML extension looks for on a claim (the sources in the module docstring).
AZUREML_PVC_LABEL = "ml.azure.com/pvc"
AZUREML_MOUNT_PATH_ANNOTATION = "ml.azure.com/mountpath"
# The Kubernetes recommended label for the tool that manages an object
# (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "hci.arc_ml"
RETAIN = "Retain"
# The access modes of an NFS volume (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes:
# NFS supports ReadWriteOnce, ReadOnlyMany and ReadWriteMany; ReadWriteOncePod is for CSI volumes only).
ACCESS_MODES = ("ReadWriteMany", "ReadOnlyMany", "ReadWriteOnce")
DEFAULT_ACCESS_MODE = "ReadWriteMany"
DEFAULT_NAMESPACE = "default"

# A host name (RFC 1123): dot-separated labels of letters, digits and '-', not starting or ending with '-'.
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?")
_DOTTED_NUMBERS = re.compile(r"[0-9.]+")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


class ShareError(ArcMLError):
    """The options of a share break a rule; raised before any request."""


@dataclass(frozen=True)
class Share:
    """One validated share: the claim `name` in `namespace`, reserved with the volume `volume_name`."""

    name: str
    namespace: str
    volume_name: str
    server: str | None = None
    path: str | None = None
    capacity: str | None = None
    mount_path: str | None = None
    access_mode: str = DEFAULT_ACCESS_MODE
    mount_options: tuple = ()
    read_only: bool = False

    @property
    def claim(self):
        return f"{self.namespace}/{self.name}"


def default_volume_name(namespace, name):
    """The volume's name when the task gives none: unique per claim, since volumes are cluster-wide."""
    return f"{namespace}-{name}"


def share_from_params(params, namespace, present=True):
    """The Share the options ask for in `namespace`; ShareError listing every problem, before any request.

    With `present` false (removal) only the names matter.
    """
    name = params.get("name")
    volume_name = params.get("volume_name") or default_volume_name(namespace, name)
    problems = [
        *_name_problems("namespace", namespace, DNS_LABEL, DNS_LABEL_MAX),
        *_name_problems("name", name, DNS_SUBDOMAIN, DNS_SUBDOMAIN_MAX),
        *_name_problems("volume_name", volume_name, DNS_SUBDOMAIN, DNS_SUBDOMAIN_MAX, given=params.get("volume_name")),
    ]
    if not present:
        _raise(problems, name)
        return Share(name=name, namespace=namespace, volume_name=volume_name)
    problems += _server_problems(params.get("server"))
    problems += _absolute_path_problems("path", params.get("path"), "the NFS server's export")
    problems += _absolute_path_problems("mount_path", params.get("mount_path"), "where jobs see the share")
    problems += _capacity_problems(params.get("capacity"))
    options = params.get("mount_options") or []
    problems += [f"mount_options entry {o!r} is empty or holds spaces" for o in options if _bad_mount_option(o)]
    access_mode = params.get("access_mode") or DEFAULT_ACCESS_MODE
    if access_mode not in ACCESS_MODES:
        problems.append(f"access_mode {access_mode!r} is not one of {', '.join(ACCESS_MODES)}")
    _raise(problems, name)
    return Share(
        name=name,
        namespace=namespace,
        volume_name=volume_name,
        server=params["server"],
        path=params["path"],
        capacity=str(params["capacity"]).strip(),
        mount_path=params["mount_path"],
        access_mode=access_mode,
        mount_options=tuple(options),
        read_only=bool(params.get("read_only")),
    )


def _raise(problems, name):
    if problems:
        raise ShareError(f"Invalid share {name!r}: {'; '.join(problems)}. Nothing was changed.")


def _name_problems(option, value, pattern, limit, given=True):
    if not isinstance(value, str) or not value:
        return [f"{option} is required"]
    if len(value) <= limit and pattern.fullmatch(value):
        return []
    kind = "an RFC 1123 label" if pattern is DNS_LABEL else "a DNS subdomain name"
    hint = "" if given else " (namespace-name, the default: set volume_name)"
    return [
        f"{option} {value!r}{hint} is not {kind}: at most {limit} lower-case letters, digits and '-'"
        + ("" if pattern is DNS_LABEL else " or '.'")
        + ", starting and ending with a letter or digit"
    ]


def check_namespace(namespace):
    """`namespace` if it is a namespace name, else ShareError."""
    problems = _name_problems("namespace", namespace, DNS_LABEL, DNS_LABEL_MAX)
    if problems:
        raise ShareError(f"{problems[0]}. Nothing was changed.")
    return namespace


def _server_problems(server):
    if not isinstance(server, str) or not server:
        return ["server (the NFS server's host name or IP address) is required"]
    if _is_ip_address(server) or _is_host_name(server):
        return []
    return [
        f"server {server!r} is not a host name or an IP address (give only the server, such as nfs01.contoso.local "
        "or 10.0.0.5, and the export in path)"
    ]


def _is_ip_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_host_name(text):
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253 or _DOTTED_NUMBERS.fullmatch(name):
        # Digits and dots only: meant as an IPv4 address, and not a valid one.
        return False
    return all(len(label) <= 63 and _HOST_LABEL.fullmatch(label) for label in name.split("."))


def _absolute_path_problems(option, value, what):
    if not isinstance(value, str) or not value:
        return [f"{option} ({what}) is required"]
    if not value.startswith("/"):
        return [f"{option} {value!r} is not an absolute path (it must start with /)"]
    if _CONTROL_OR_SPACE.search(value):
        return [f"{option} {value!r} holds spaces or control characters"]
    return []


def _capacity_problems(capacity):
    if capacity is None or (isinstance(capacity, str) and not capacity.strip()):
        return ["capacity (such as 100Gi) is required"]
    try:
        amount = parse_quantity(capacity if isinstance(capacity, str) else str(capacity))
    except QuantityError:
        return [f"capacity {capacity!r} is not a Kubernetes quantity (such as 500Gi, 2Ti or 100G)"]
    if amount <= 0:
        return [f"capacity {capacity!r} must be more than zero"]
    return []


def _bad_mount_option(option):
    return not isinstance(option, str) or not option or _CONTROL_OR_SPACE.search(option) is not None


# The two objects


def volume_body(share):
    """The NFS PersistentVolume of `share`, reserved for its claim."""
    nfs = {"server": share.server, "path": share.path}
    if share.read_only:
        nfs["readOnly"] = True
    spec = {
        "capacity": {"storage": share.capacity},
        "accessModes": [share.access_mode],
        "persistentVolumeReclaimPolicy": RETAIN,
        "storageClassName": "",
        "claimRef": {"namespace": share.namespace, "name": share.name},
        "nfs": nfs,
    }
    if share.mount_options:
        spec["mountOptions"] = list(share.mount_options)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": share.volume_name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
        "spec": spec,
    }


def claim_body(share):
    """The claim of `share`, bound to its volume, with the markers Azure ML mounts it by."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": share.name,
            "namespace": share.namespace,
            "labels": {AZUREML_PVC_LABEL: "true", MANAGED_BY_LABEL: MANAGED_BY},
            "annotations": {AZUREML_MOUNT_PATH_ANNOTATION: share.mount_path},
        },
        "spec": {
            "storageClassName": "",
            "volumeName": share.volume_name,
            "accessModes": [share.access_mode],
            "resources": {"requests": {"storage": share.capacity}},
        },
    }


def managed(obj):
    """Whether this collection made the object (it carries MANAGED_BY)."""
    return ((obj or {}).get("metadata") or {}).get("labels", {}).get(MANAGED_BY_LABEL) == MANAGED_BY


# What a task returns and diffs


def volume_facts(volume):
    """A PersistentVolume as the module returns it; None when there is none."""
    if volume is None:
        return None
    spec = volume.get("spec") or {}
    nfs = spec.get("nfs") or {}
    claim_ref = spec.get("claimRef") or {}
    return {
        "name": (volume.get("metadata") or {}).get("name"),
        "server": nfs.get("server"),
        "path": nfs.get("path"),
        "read_only": bool(nfs.get("readOnly", False)),
        "capacity": (spec.get("capacity") or {}).get("storage"),
        "access_modes": list(spec.get("accessModes") or []),
        "mount_options": list(spec.get("mountOptions") or []),
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy"),
        "claim": f"{claim_ref.get('namespace')}/{claim_ref.get('name')}" if claim_ref.get("name") else None,
        "phase": (volume.get("status") or {}).get("phase"),
    }


def claim_facts(claim):
    """A claim as the module returns it; None when there is none."""
    if claim is None:
        return None
    metadata = claim.get("metadata") or {}
    spec = claim.get("spec") or {}
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "volume_name": spec.get("volumeName") or None,
        "capacity": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
        "access_modes": list(spec.get("accessModes") or []),
        "mount_path": (metadata.get("annotations") or {}).get(AZUREML_MOUNT_PATH_ANNOTATION),
        "azureml_mountable": (metadata.get("labels") or {}).get(AZUREML_PVC_LABEL) == "true",
        "phase": (claim.get("status") or {}).get("phase"),
    }


def share_view(volume, claim):
    """The managed fields of a volume and its claim, for --diff (phases left out: they are not asked for)."""
    view = {}
    for key, facts in (("volume", volume_facts(volume)), ("claim", claim_facts(claim))):
        view[key] = None if facts is None else {k: v for k, v in facts.items() if k != "phase"}
    return view
