# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The task of training_volume: an NFS volume and its claim that Azure ML mounts into a compute's training jobs.

Everything that can be checked without a request is checked first (share.py), then the compute's namespace is
read from Azure when the task names the compute, then the namespace, volume and claim from the cluster; only then
does plan.py decide, and the steps run (as server-side dry runs in check mode). Azure ML mounts a claim only into
jobs in the claim's own namespace, which is the namespace the compute was attached with
(https://github.com/Azure/AML-Kubernetes/blob/master/docs/pvc.md: "The training job in the same namespace with the
PVC will be mounted the volume automatically"), so a namespace the compute does not use fails before any write.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import write
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import WaitTimeout
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import ComputeClient, compute_type
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import compute_facts
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import workspace_from_params
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.api import StorageApi
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.plan import (
    BOUND,
    CREATE_VOLUME,
    DELETE_CLAIM,
    DELETE_VOLUME,
    PATCH_CLAIM,
    PATCH_VOLUME,
    StorageError,
    plan_absent,
    plan_present,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.share import (
    DEFAULT_NAMESPACE,
    check_namespace,
    claim_facts,
    share_from_params,
    share_view,
    volume_facts,
)


def ensure_training_volume(module):
    """training_volume: the share's volume and claim as asked (state present), or neither (state absent)."""
    params = module.params
    present = params["state"] == "present"
    namespace = check_namespace(params["namespace"]) if params.get("namespace") else None
    # Every option is checked before the first request, whichever namespace the compute turns out to use.
    share_from_params(params, namespace or DEFAULT_NAMESPACE, present)
    workspace = None
    if params.get("compute_name"):
        workspace = workspace_from_params(params, subscription_id=module.credential_plan().subscription_id)
    namespace = resolve_namespace(module, workspace, namespace, present)
    share = share_from_params(params, namespace, present)
    module.result["namespace"] = namespace

    api = StorageApi(module.kube_client())
    if present and api.namespace(namespace) is None:
        raise StorageError(
            f"Namespace {namespace} does not exist on the cluster. Azure ML runs a compute's jobs in the namespace "
            "the compute was attached with, which must exist before the attach: create it, or give the compute's "
            "namespace. Nothing was changed."
        )
    volume, claim = api.volume(share.volume_name), api.claim(namespace, share.name)
    plan = plan_present(share, volume, claim, params["force_replace"]) if present else plan_absent(share, volume, claim)
    module.set_diff(share_view(volume, claim), share_view(plan.volume, plan.claim))
    send_steps(module, api, share, plan)

    if module.check_mode:
        after_volume = _with_phase(volume_facts(plan.volume), volume)
        after_claim = _with_phase(claim_facts(plan.claim), claim)
    else:
        if present and module.waiter() is not None:
            wait_until_bound(module.waiter(), api, share)
        after_volume = volume_facts(api.volume(share.volume_name)) if present else None
        after_claim = claim_facts(api.claim(namespace, share.name)) if present else None
    phase = (after_claim or {}).get("phase")
    module.result.update(volume=after_volume, claim=after_claim, phase=phase)
    module.result["msg"] = message(module, share, present, phase)


def resolve_namespace(module, workspace, namespace, present):
    """The claim's namespace: the option, checked against the compute's when the task names a compute.

    The compute is read only when it decides something: always for state present, and for state absent only
    when no namespace is given. A compute that does not exist yet is an error, except in check mode, where its
    attach may only be planned by the task before (a new site): the namespace option, else default, is used.
    """
    name = module.params.get("compute_name")
    if workspace is None or (not present and namespace):
        return namespace or DEFAULT_NAMESPACE
    azure = module.azure(require_subscription=not workspace.config_file)
    compute = ComputeClient(azure.arm, workspace).get(name)
    if compute is None:
        if module.check_mode and present:
            module.warn(
                f"Compute {name} does not exist in {workspace.describe()} yet; check mode uses namespace "
                f"{namespace or DEFAULT_NAMESPACE} for the share."
            )
            return namespace or DEFAULT_NAMESPACE
        raise StorageError(
            f"Compute {name} does not exist in {workspace.describe()}, so its namespace is unknown: attach the "
            "cluster first (hci.arc_ml.ml_compute), or give namespace instead of compute_name. Nothing was changed."
        )
    if compute_type(compute) != "Kubernetes":
        raise StorageError(
            f"Compute {name} in {workspace.describe()} is a {compute_type(compute)} compute, not an attached "
            "Kubernetes cluster: its jobs cannot mount a claim. Name the cluster's compute. Nothing was changed."
        )
    used = compute_facts(compute)["namespace"]
    if namespace and namespace != used:
        raise StorageError(
            f"Namespace {namespace} is not the namespace of compute {name} ({used}): Azure ML mounts a claim only "
            f"into jobs in the claim's namespace. Set namespace: {used}, or leave namespace out. Nothing was changed."
        )
    return used


def send_steps(module, api, share, plan):
    """Send the plan's steps in order; in check mode as server-side dry runs, where the server can judge them."""
    check = module.check_mode
    # In a replacement the objects are created again after they are gone: that cannot be dry-run while they exist.
    recreate = bool(plan.replace)
    namespace, name, volume = share.namespace, share.name, share.volume_name
    for step in plan.steps:
        if step.kind == PATCH_VOLUME:
            write(module, lambda s=step: api.patch_volume(volume, s.body, dry_run=check), step.action)
        elif step.kind == PATCH_CLAIM:
            write(module, lambda s=step: api.patch_claim(namespace, name, s.body, dry_run=check), step.action)
        elif step.kind == DELETE_CLAIM:
            write(module, lambda: api.delete_claim(namespace, name, dry_run=check), step.action)
        elif step.kind == DELETE_VOLUME:
            write(module, lambda: api.delete_volume(volume, dry_run=check), step.action)
        elif check and recreate:
            module.act(step.action)
        else:
            if recreate:
                wait_until_gone(module.waiter(required=True), api, share)
                recreate = False
            create = api.create_volume if step.kind == CREATE_VOLUME else api.create_claim
            write(module, lambda s=step, c=create: c(s.body, dry_run=check), step.action)
    # Deletes without creates are a removal: wait for the objects to go, if the task waits.
    removal = not plan.replace and (DELETE_CLAIM in plan.kinds or DELETE_VOLUME in plan.kinds)
    if removal and not check and module.waiter() is not None:
        wait_until_gone(module.waiter(), api, share)


def wait_until_gone(waiter, api, share):
    """Poll until neither the share's claim nor its volume exists (finalizers hold them while in use)."""
    what = f"claim {share.claim} and volume {share.volume_name} to be deleted"
    try:
        waiter.poll_until(
            poll=lambda: ((api.claim(share.namespace, share.name), api.volume(share.volume_name)), None),
            done=lambda objects: objects == (None, None),
            what=what,
            describe=_describe_remaining,
        )
    except WaitTimeout as exc:
        raise StorageError(
            f"Timed out after {exc.details['elapsed']:.0f}s (wait_timeout={waiter.timeout}) waiting for {what}; "
            f"still there: {exc.last_state}. A claim stays while a pod (an Azure ML job) uses it (finalizer "
            "kubernetes.io/pvc-protection), and its volume while the claim does: re-run the task when the jobs have "
            "ended, or raise wait_timeout.",
            last_state=exc.last_state,
        ) from None


def _describe_remaining(objects):
    claim, volume = objects
    names = []
    if claim is not None:
        names.append(f"claim {_state(claim)}")
    if volume is not None:
        names.append(f"volume {_state(volume)}")
    return ", ".join(names) or "nothing"


def _state(obj):
    terminating = (obj.get("metadata") or {}).get("deletionTimestamp")
    return "terminating" if terminating else (obj.get("status") or {}).get("phase") or "present"


def wait_until_bound(waiter, api, share):
    """Poll until the claim is Bound to its volume (the volume controller of kube-controller-manager binds it)."""
    what = f"claim {share.claim} to be Bound to volume {share.volume_name}"
    try:
        waiter.poll_until(
            poll=lambda: (api.claim(share.namespace, share.name), None),
            done=lambda claim: _phase(claim) == BOUND,
            what=what,
            describe=lambda claim: _phase(claim) or ("missing" if claim is None else "without a phase"),
        )
    except WaitTimeout as exc:
        raise StorageError(
            f"Timed out after {exc.details['elapsed']:.0f}s (wait_timeout={waiter.timeout}) waiting for {what}; it "
            f"is {exc.last_state}. The volume controller (kube-controller-manager) binds a claim to the volume "
            f"reserved for it: see why with kubectl describe pvc -n {share.namespace} {share.name}, then re-run, "
            "or set wait: false to return without waiting.",
            last_state=exc.last_state,
        ) from None


def _phase(obj):
    return ((obj or {}).get("status") or {}).get("phase")


def _with_phase(facts, current):
    """Facts of an object as it would be, with the phase the object has on the cluster now (None: not there)."""
    if facts is not None:
        facts["phase"] = _phase(current)
    return facts


def message(module, share, present, phase):
    changed = bool(module.result.get("actions"))
    what = f"share {share.claim} (volume {share.volume_name})"
    if not present:
        if not changed:
            return f"There is no claim or volume of {what}: nothing to remove."
        verb = "Would remove" if module.check_mode else "Removed"
        return f"{verb} the claim and volume objects of {what}; the data on the NFS export stays."
    now = " now" if module.check_mode else ""
    claim_state = f"its claim is {phase}{now}" if phase else "its claim does not exist yet"
    if not changed:
        return f"The {what} is as asked; {claim_state}."
    if module.check_mode:
        return f"Would change {what} (check mode); {claim_state}."
    return f"Changed {what}; {claim_state}."
