# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""What to send to bring a share's volume and claim to the asked state (no I/O).

`plan_present` and `plan_absent` take the Share and the two objects as the API server returned them (None when
missing) and return the steps, in order, or raise before anything is sent:

- an object of that name the collection did not make (no MANAGED_BY label), or a volume reserved for another
  claim, is never changed or deleted: ForeignObject names it;
- what Kubernetes does not let change in place needs the volume and claim deleted and made again: the volume's
  NFS source (`spec.persistentvolumesource is immutable after creation`) and the claim's capacity and access
  modes (`spec is immutable after creation except resources.requests`, and a claim without a storage class cannot
  be resized: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go,
  ValidatePersistentVolumeUpdate and ValidatePersistentVolumeClaimUpdate). A volume's capacity and access modes
  could change in place, but then no longer match its claim's, so they go with the claim's. A replacement of a
  Bound claim (jobs may be using it) needs `force_replace`; one that is not Bound is replaced without asking;
- the reclaim policy is always Retain: a volume found with another gets Retain back before anything else, and
  before its claim is deleted, so that deleting objects never reclaims the data on the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import QuantityError, parse_quantity
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.share import (
    AZUREML_MOUNT_PATH_ANNOTATION,
    AZUREML_PVC_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    RETAIN,
    claim_body,
    managed,
    volume_body,
)

# Step kinds, in the order a replacement runs them.
PATCH_VOLUME = "patch_volume"
PATCH_CLAIM = "patch_claim"
DELETE_CLAIM = "delete_claim"
DELETE_VOLUME = "delete_volume"
CREATE_VOLUME = "create_volume"
CREATE_CLAIM = "create_claim"
BOUND = "Bound"


class StorageError(ArcMLError):
    """A share's volume or claim cannot be brought to the asked state; nothing was changed."""


class ForeignObject(StorageError):
    """An object of the share's name that the collection did not make, or that belongs to another claim."""


class ImmutableChange(StorageError):
    """The share asks for what only a replacement can do, of a Bound claim, without force_replace."""


@dataclass
class Step:
    """One request: `kind`, the object's body or merge patch, and the `actions` line it stands for."""

    kind: str
    action: str
    body: dict | None = None


@dataclass
class Plan:
    """The steps in order; `volume` and `claim` are the objects as they will be (None: deleted)."""

    steps: list = field(default_factory=list)
    volume: dict | None = None
    claim: dict | None = None
    replace: list = field(default_factory=list)

    @property
    def kinds(self):
        return [step.kind for step in self.steps]


def plan_present(share, volume, claim, force_replace=False):
    """The Plan that leaves `share`'s volume and claim as asked, reserved for each other and Bound-able."""
    check_ownership(share, volume, claim)
    replace = replacement_reasons(share, volume, claim)
    if replace:
        return _replacement(share, volume, claim, replace, force_replace)
    plan = Plan()
    if volume is None:
        plan.volume = volume_body(share)
        plan.steps.append(Step(CREATE_VOLUME, _create_volume_action(share), plan.volume))
    else:
        patch, changes = volume_patch(share, volume, claim)
        plan.volume = merged(volume, patch) if patch else volume
        if patch:
            plan.steps.append(Step(PATCH_VOLUME, f"update persistent volume {share.volume_name} ({changes})", patch))
    if claim is None:
        plan.claim = claim_body(share)
        plan.steps.append(Step(CREATE_CLAIM, _create_claim_action(share), plan.claim))
    else:
        patch, changes = claim_patch(share, claim)
        plan.claim = merged(claim, patch) if patch else claim
        if patch:
            plan.steps.append(Step(PATCH_CLAIM, f"update persistent volume claim {share.claim} ({changes})", patch))
    return plan


def plan_absent(share, volume, claim):
    """The Plan that deletes `share`'s claim, then its volume; the data on the export is never touched."""
    check_ownership(share, volume, claim)
    plan = Plan()
    plan.steps += _retain_first(share, volume)
    if claim is not None:
        plan.steps.append(Step(DELETE_CLAIM, f"delete persistent volume claim {share.claim}"))
    if volume is not None:
        plan.steps.append(Step(DELETE_VOLUME, _delete_volume_action(share)))
    return plan


def check_ownership(share, volume, claim):
    """Raise ForeignObject when the volume or claim of the share's names is not this share's to change."""
    if volume is not None:
        if not managed(volume):
            raise ForeignObject(
                f"PersistentVolume {share.volume_name} exists and was not created by hci.arc_ml (it has no label "
                f"{MANAGED_BY_LABEL}={MANAGED_BY}), so it is left as it is and not used for claim {share.claim}. "
                "Set volume_name to another name, or delete that volume yourself if nothing needs it. Nothing was "
                "changed."
            )
        reserved_for = _claim_ref_name(volume)
        if reserved_for is not None and reserved_for != share.claim:
            raise ForeignObject(
                f"PersistentVolume {share.volume_name} is reserved for claim {reserved_for}, not {share.claim}; it "
                "is never taken from its claim. Set volume_name to another name, or remove that share first "
                "(state: absent). Nothing was changed."
            )
    if claim is not None:
        if not managed(claim):
            raise ForeignObject(
                f"PersistentVolumeClaim {share.claim} exists and was not created by hci.arc_ml (it has no label "
                f"{MANAGED_BY_LABEL}={MANAGED_BY}), so it is left as it is. Choose another name for the share, or "
                "delete that claim yourself if nothing needs it. Nothing was changed."
            )
        bound_to = (claim.get("spec") or {}).get("volumeName")
        if bound_to and bound_to != share.volume_name:
            raise ForeignObject(
                f"PersistentVolumeClaim {share.claim} is bound to volume {bound_to}, not {share.volume_name}; a "
                f"claim cannot change its volume. Set volume_name: {bound_to}, or remove the share with that "
                "volume_name first (state: absent). Nothing was changed."
            )


def _claim_ref_name(volume):
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    return f"{ref.get('namespace')}/{ref.get('name')}" if ref.get("name") else None


def replacement_reasons(share, volume, claim):
    """What differs that cannot change in place, as 'field old -> new' lines; empty when nothing does."""
    reasons = []
    if volume is None and claim is not None:
        # A claim whose volume was deleted is Lost for good: the volume controller binds it to no new volume.
        reasons.append(f"volume {share.volume_name} is gone")
    for kind, obj in (("volume", volume), ("claim", claim)):
        if ((obj or {}).get("metadata") or {}).get("deletionTimestamp"):
            reasons.append(f"the {kind} is being deleted")
    if volume is not None:
        spec = volume.get("spec") or {}
        nfs = spec.get("nfs")
        if nfs is None:
            reasons.append("the volume is not an NFS volume")
        else:
            _differs(reasons, "server", nfs.get("server"), share.server)
            _differs(reasons, "path", nfs.get("path"), share.path)
            _differs(reasons, "read_only", bool(nfs.get("readOnly", False)), share.read_only)
        _capacity_differs(reasons, "capacity", (spec.get("capacity") or {}).get("storage"), share.capacity)
        _differs(reasons, "access_mode", _modes(spec.get("accessModes")), share.access_mode)
    if claim is not None:
        spec = claim.get("spec") or {}
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        _capacity_differs(reasons, "claim capacity", requested, share.capacity)
        _differs(reasons, "claim access_mode", _modes(spec.get("accessModes")), share.access_mode)
        _differs(reasons, "claim storage class", spec.get("storageClassName") or "", "")
    return reasons


def _modes(modes):
    return ",".join(modes or []) or None


def _differs(reasons, what, current, wanted):
    if current != wanted:
        reasons.append(f"{what} {_show(current)} -> {_show(wanted)}")


def _capacity_differs(reasons, what, current, wanted):
    try:
        same = current is not None and parse_quantity(current) == parse_quantity(wanted)
    except QuantityError:
        same = False
    if not same:
        reasons.append(f"{what} {_show(current)} -> {_show(wanted)}")


def _show(value):
    if value is None or value == "":
        return "unset" if value is None else '""'
    return str(value).lower() if isinstance(value, bool) else str(value)


def _replacement(share, volume, claim, reasons, force_replace):
    bound = ((claim or {}).get("status") or {}).get("phase") == BOUND
    if bound and not force_replace:
        raise ImmutableChange(
            f"Share {share.claim} (volume {share.volume_name}) is Bound and cannot change in place: "
            f"{'; '.join(reasons)}. Kubernetes fixes these when a volume and its claim are created. Set "
            "force_replace: true to delete both and create them again (the data on the NFS export is not touched; "
            "a claim in use by jobs goes away when they end, which the task waits for up to wait_timeout), or ask "
            "for what the share has. Nothing was changed."
        )
    what = "replace persistent volume {} and claim {} ({})".format(share.volume_name, share.claim, "; ".join(reasons))
    plan = Plan(replace=reasons, volume=volume_body(share), claim=claim_body(share))
    plan.steps += _retain_first(share, volume)
    if claim is not None:
        plan.steps.append(Step(DELETE_CLAIM, f"{what}: delete persistent volume claim {share.claim}"))
    if volume is not None:
        plan.steps.append(Step(DELETE_VOLUME, f"{what}: {_delete_volume_action(share)}"))
    plan.steps.append(Step(CREATE_VOLUME, f"{what}: {_create_volume_action(share)}", plan.volume))
    plan.steps.append(Step(CREATE_CLAIM, f"{what}: {_create_claim_action(share)}", plan.claim))
    return plan


def _retain_first(share, volume):
    """A patch of the reclaim policy back to Retain, when the volume has another (before its claim goes)."""
    if volume is None:
        return []
    policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy")
    if policy == RETAIN:
        return []
    patch = _versioned(volume, {"spec": {"persistentVolumeReclaimPolicy": RETAIN}})
    action = f"update persistent volume {share.volume_name} (reclaim_policy {_show(policy)} -> {RETAIN})"
    return [Step(PATCH_VOLUME, action, patch)]


def volume_patch(share, volume, claim):
    """(merge patch, 'what changes') of what a volume can change in place; (None, '') when nothing differs."""
    spec = volume.get("spec") or {}
    labels = (volume.get("metadata") or {}).get("labels") or {}
    body, changes = {}, []
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy != RETAIN:
        body.setdefault("spec", {})["persistentVolumeReclaimPolicy"] = RETAIN
        changes.append(f"reclaim_policy {_show(policy)} -> {RETAIN}")
    current_options = list(spec.get("mountOptions") or [])
    if current_options != list(share.mount_options):
        body.setdefault("spec", {})["mountOptions"] = list(share.mount_options) or None
        changes.append(f"mount_options {current_options} -> {list(share.mount_options)}")
    if spec.get("storageClassName") not in ("", None):
        body.setdefault("spec", {})["storageClassName"] = ""
        changes.append(f'storage class {spec["storageClassName"]} -> ""')
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        body["metadata"] = {"labels": {MANAGED_BY_LABEL: MANAGED_BY}}
    if _needs_release(share, volume, claim):
        # The claim it was bound to is gone (deleted by hand): the uid of the old claim keeps the volume Released.
        # Reserving it by name only makes it Available to this share's claim again, as the Kubernetes docs do it.
        body.setdefault("spec", {})["claimRef"] = {"uid": None, "resourceVersion": None}
        changes.append(f"free it for a new claim {share.claim}")
    if not body:
        return None, ""
    return _versioned(volume, body), "; ".join(changes)


def _needs_release(share, volume, claim):
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    if not ref.get("uid"):
        return False
    claim_uid = ((claim or {}).get("metadata") or {}).get("uid")
    return ref.get("uid") != claim_uid


def claim_patch(share, claim):
    """(merge patch, 'what changes') of the claim's markers and volume; (None, '') when nothing differs."""
    metadata = claim.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    body, changes = {}, []
    if labels.get(AZUREML_PVC_LABEL) != "true":
        body.setdefault("metadata", {}).setdefault("labels", {})[AZUREML_PVC_LABEL] = "true"
        changes.append(f"label {AZUREML_PVC_LABEL} {_show(labels.get(AZUREML_PVC_LABEL))} -> true")
    current_path = annotations.get(AZUREML_MOUNT_PATH_ANNOTATION)
    if current_path != share.mount_path:
        body.setdefault("metadata", {})["annotations"] = {AZUREML_MOUNT_PATH_ANNOTATION: share.mount_path}
        changes.append(f"mount_path {_show(current_path)} -> {share.mount_path}")
    if not (claim.get("spec") or {}).get("volumeName"):
        body["spec"] = {"volumeName": share.volume_name}
        changes.append(f"volume unset -> {share.volume_name}")
    if not body:
        return None, ""
    return _versioned(claim, body), "; ".join(changes)


def _versioned(obj, patch):
    """The merge patch guarded by the object's resourceVersion: refused (409) if it changed since it was read."""
    version = (obj.get("metadata") or {}).get("resourceVersion")
    if version:
        patch.setdefault("metadata", {})["resourceVersion"] = version
    return patch


def merged(obj, patch):
    """`obj` with a JSON merge patch (RFC 7386) applied, as the API server applies it."""
    if not isinstance(patch, dict):
        return patch
    result = dict(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


def _create_volume_action(share):
    source = f"nfs {share.server}:{share.path}" + (", read-only" if share.read_only else "")
    return f"create persistent volume {share.volume_name} ({source}, {share.capacity}, {share.access_mode})"


def _create_claim_action(share):
    return f"create persistent volume claim {share.claim} (volume {share.volume_name}, mounted at {share.mount_path})"


def _delete_volume_action(share):
    return f"delete persistent volume {share.volume_name} (the data on the NFS export stays)"
