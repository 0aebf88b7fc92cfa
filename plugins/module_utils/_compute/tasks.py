# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of ml_compute (attach or detach a Kubernetes compute), ml_compute_info and instance_type (the
InstanceType custom resource the compute's jobs are scheduled by), each a function of the ArcMLModule.

An attached Kubernetes compute cannot be updated in place: a drifted one is only ever fixed by detaching it and
attaching it again, and only when the task asks for it (force_reattach). Without a name, the compute's name comes
from the cluster (resolve_name); a task for a cluster never detaches or takes over another cluster's compute.
"""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import write
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import (
    SUCCEEDED_MESSAGE,
    ComputeClient,
    ComputeError,
    compute_type,
    provisioning_state,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.drift import compute_drift, same_resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import (
    GROUP,
    KIND,
    VERSION,
    build_spec,
    check_object_name,
    normalize,
    same_instance_type,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type_api import InstanceTypeApi, with_spec
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import (
    check_compute_name,
    compute_name_problems,
    default_compute_name,
    legacy_compute_name,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import (
    ComputeSpecError,
    attach_body,
    attached_view,
    cluster_id_from_params,
    cluster_named,
    compute_facts,
    desired_compute,
    desired_view,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import workspace_from_params
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import parse_quantity


def ensure_compute(module):
    """ml_compute: attach the cluster as a compute of the workspace, re-attach a drifted one, or detach it."""
    params = module.params
    if params.get("name") is not None:
        check_compute_name(params["name"])
    workspace = workspace_from_params(params, subscription_id=module.credential_plan().subscription_id)
    desired = desired_compute(params, workspace) if params["state"] == "present" else None
    if desired is not None:
        cluster_id = desired.cluster_id
    elif cluster_named(params):
        cluster_id = cluster_id_from_params(params, workspace)
    elif params.get("name"):
        cluster_id = None
    else:
        raise ComputeSpecError(
            "Name the compute to detach (name), or its cluster (cluster_resource_id, or cluster_name and "
            "cluster_resource_group) to detach the compute of that cluster."
        )
    if workspace.config_file:
        given = params.get("subscription_id")
        if given and given.lower() != workspace.subscription_id:
            module.warn(
                f"workspace_config {workspace.config_file} names subscription {workspace.subscription_id}; "
                f"subscription_id {given} is not used for the workspace."
            )
    module.result["workspace"] = workspace.facts()
    azure = module.azure(require_subscription=not workspace.config_file)
    converge(module, ComputeClient(azure.arm, workspace), params.get("name"), cluster_id, desired)


def converge(module, computes, name, cluster_id, desired):
    """Attach `desired` (None: detach) under `name`, or else under the cluster's compute name (see resolve_name).

    A compute found under a name the task did not give (the default or legacy name) is used only when it is this
    cluster's, and a detach for a cluster detaches only that cluster's compute: neither ever takes another
    cluster's compute.
    """
    name, source, current = resolve_name(module, computes, name, cluster_id)
    module.result.update(name=name, name_source=source)
    if current is not None and compute_type(current) != "Kubernetes":
        raise ComputeError(
            f"Compute {name} in {computes.workspace.describe()} is a {compute_type(current)} compute, not an attached "
            "Kubernetes cluster; this module leaves it alone. Choose another name."
        )
    if current is not None and cluster_id is not None and (desired is None or source != "option"):
        check_owner(current, name, cluster_id, computes.workspace, detaching=desired is None)
    if desired is None:
        detach(module, computes, name, current)
    else:
        attach(module, computes, replace(desired, name=name), current)


def resolve_name(module, computes, name, cluster_id):
    """(name, where it came from, the compute of that name or None).

    `option` when the task names the compute. Otherwise `default`, the name default_compute_name gives the
    cluster, unless no compute has it and one under its `legacy` name (legacy_compute_name: what the compute_attach
    role derived before) is attached to this cluster: a fleet attached that way keeps its computes, with a warning,
    and is never attached a second time. A legacy-named compute of another cluster is that cluster's: it is left
    alone and this cluster gets its default name.
    """
    if name:
        return name, "option", computes.get(name)
    default = default_compute_name(cluster_id)
    current = computes.get(default)
    if current is not None:
        return default, "default", current
    legacy = legacy_compute_name(cluster_id.rstrip("/").rsplit("/", 1)[-1])
    if legacy.lower() == default or compute_name_problems(legacy):
        return default, "default", None
    old = computes.get(legacy)
    if old is None or compute_type(old) != "Kubernetes" or not same_resource_id(attached_cluster(old), cluster_id):
        return default, "default", None
    module.warn(
        f"Using compute {legacy} in workspace {computes.workspace.name}: it is this cluster's, attached under the name "
        "the compute_attach role used to derive from the first 16 characters of the cluster name, which clusters "
        f"with similar names share. Its default name now is {default}; set name: {legacy} to keep it without this "
        f"warning, or detach it and run again to attach it as {default}."
    )
    return legacy, "legacy", old


def attached_cluster(compute):
    """The ARM id of the cluster a compute is attached to (its properties.resourceId), or None."""
    return ((compute or {}).get("properties") or {}).get("resourceId")


def check_owner(current, name, cluster_id, workspace, detaching):
    """Raise ComputeError, before any write, when compute `name` is attached to another cluster than `cluster_id`."""
    owner = attached_cluster(current)
    if same_resource_id(owner, cluster_id):
        return
    owner_text = f"cluster {owner}" if owner else "no cluster"
    if detaching:
        remedy = (
            "this task detaches only the compute of its own cluster, so nothing was changed. Run it for that "
            "cluster, or give only name (no cluster options) to detach the compute whatever it is attached to."
        )
    else:
        remedy = (
            "a compute name the task did not give never moves a compute from one cluster to another, so nothing was "
            "changed. Set name to another compute name for this cluster."
        )
    raise ComputeError(
        f"Compute {name} in {workspace.describe()} is attached to {owner_text}, not to {cluster_id}: {remedy}"
    )


def attach(module, computes, desired, current):
    name, workspace = desired.name, desired.workspace.name
    module.result.update(compute=None, drift=[])
    if current is not None:
        current = computes.wait_until_settled(name, current, module.waiter())
    if current is not None:
        module.result["compute"] = compute_facts(current)
        drift = compute_drift(attached_view(current), desired_view(desired))
        module.result["drift"] = drift
        if not drift:
            state = provisioning_state(current)
            module.result["msg"] = f"Compute {name} is attached to workspace {workspace} as requested ({state})."
            return
        if not module.params["force_reattach"]:
            fields = "; ".join(_describe_drift(entry) for entry in drift)
            module.warn(
                f"Compute {name} in workspace {workspace} differs from the task: {fields}. Azure cannot change an "
                "attached Kubernetes compute in place: set force_reattach: true to detach and attach it again."
            )
            module.result["msg"] = f"Compute {name} has drifted ({fields}); not re-attached without force_reattach."
            return
    # The attach body carries the workspace's location; reading it also proves the workspace exists
    # before anything is detached.
    location = computes.read_workspace().get("location")
    body = attach_body(desired, location, tags=(current or {}).get("tags"))
    verb = "re-attach" if current is not None else "attach"
    detach_action = f"detach compute {name}"
    attach_action = f"attach compute {name} to workspace {workspace}"
    if _planned_in_check_mode(
        module,
        before=attached_view(current) if current else {},
        after=desired_view(desired),
        actions=[detach_action, attach_action] if current is not None else [attach_action],
        message=f"Would {verb} compute {name} to workspace {workspace} (check mode).",
    ):
        return
    waiter = module.waiter()
    if current is not None:
        # The attach is refused while the detach runs, so it is waited for even with wait: false.
        write(module, lambda: computes.detach(name, module.waiter(required=True)), detach_action)
        module.result["compute"] = None
    attached = write(module, lambda: computes.attach(desired, body, waiter), attach_action) or computes.get(name) or {}
    module.result["compute"] = compute_facts(attached)
    module.result["drift"] = []
    state = provisioning_state(attached)
    if waiter is None:
        module.result["msg"] = (
            f"{verb.capitalize()} of compute {name} to workspace {workspace} accepted; provisioning state {state} "
            "(not waited for)."
        )
    elif state == "Succeeded":
        module.result["msg"] = f"{verb.capitalize()}ed compute {name} to workspace {workspace}: {SUCCEEDED_MESSAGE}"
    else:
        raise ComputeError(
            f"Compute {name} in workspace {workspace}: the attach operation ended but the compute is {state}; "
            "check its provisioning errors in Azure ML studio, then re-run with force_reattach: true."
        )


def detach(module, computes, name, current):
    workspace = computes.workspace.name
    module.result["compute"] = compute_facts(current) if current else None
    if current is not None and provisioning_state(current) == "Deleting":
        waiter = module.waiter()
        if waiter is not None and not module.check_mode:
            computes.wait_until_settled(name, current, waiter)
            module.result["compute"] = None
        module.result["msg"] = f"Compute {name} was already being detached from workspace {workspace}."
        return
    if current is None:
        module.result["msg"] = f"Compute {name} is not attached to workspace {workspace}."
        return
    action = f"detach compute {name}"
    if _planned_in_check_mode(
        module,
        before=attached_view(current),
        after={},
        actions=[action],
        message=f"Would detach compute {name} from workspace {workspace} (check mode).",
    ):
        return
    waiter = module.waiter()
    write(module, lambda: computes.detach(name, waiter), action)
    module.result["compute"] = None
    how = "detached" if waiter is not None else "detach accepted (not waited for)"
    module.result["msg"] = (
        f"Compute {name} {how} from workspace {workspace} (underlyingResourceAction=Detach); the cluster and its "
        "Azure ML extension are unchanged."
    )


def _describe_drift(entry):
    return f"{entry['field']} is {entry['attached']!r}, the task asks for {entry['requested']!r}"


def _planned_in_check_mode(module, before, after, actions, message):
    """Record the diff; in check mode also the actions the task would take and `message`, and return True."""
    module.set_diff(before=before, after=after)
    if not module.check_mode:
        return False
    for action in actions:
        module.act(action)
    module.result["msg"] = message
    return True


def read_computes(module):
    """ml_compute_info: one compute of the workspace by name, or all of them."""
    workspace = workspace_from_params(module.params, subscription_id=module.credential_plan().subscription_id)
    module.result["workspace"] = workspace.facts()
    azure = module.azure(require_subscription=not workspace.config_file)
    computes = ComputeClient(azure.arm, workspace)
    name = module.params.get("name")
    if name:
        compute = computes.get(name)
        if compute is None:
            # A missing compute and a missing workspace both answer 404: only the second is an error.
            computes.read_workspace()
        found = [compute] if compute is not None else []
    else:
        found = computes.list()
    module.result["computes"] = [compute_facts(c) for c in found]


def ensure_instance_type(module):
    """instance_type: create, update or delete the InstanceType named by the options."""
    params = module.params
    name = check_object_name(params["name"], "name")
    present = params["state"] == "present"
    desired = (
        build_spec(name, params.get("node_selector"), params.get("requests"), params.get("limits")) if present else None
    )
    api = InstanceTypeApi(module.kube_client())
    try:
        current = api.get(name)
    except KubernetesError as exc:
        if not exc.unknown_type or (present and not module.check_mode):
            raise
        if present:
            # Check mode on a new site: the Azure ML extension, which installs the CRD, is only planned too.
            module.act(f"create instance type {name} (after the Azure ML extension is installed)")
            module.set_diff(before={}, after=_diff_view(name, desired.custom_resource_spec()))
            module.result.update(instance_type=None, msg=f"Would create InstanceType {name} (check mode).")
            return
        module.result.update(
            instance_type=None, msg=f"There is no InstanceType {name}: the cluster has no InstanceType resources."
        )
        return
    module.result["instance_type"] = _shown(current)
    before = _diff_view(name, current.get("spec")) if current else {}

    if not present:
        if current is None:
            module.result["msg"] = f"InstanceType {name} does not exist."
            return
        module.set_diff(before=before, after={})
        action = f"delete instance type {name}"
        if module.check_mode:
            module.act(action)
        else:
            write(module, lambda: api.delete(name), action)
        module.result["instance_type"] = None
        module.result["msg"] = f"{'Would delete' if module.check_mode else 'Deleted'} InstanceType {name}."
        return

    spec = desired.custom_resource_spec()
    if current is not None and same_instance_type(normalize(current.get("spec")), normalize(spec)):
        module.result["msg"] = f"InstanceType {name} is as requested."
        return
    # A replace keeps the spec fields this module does not manage; the diff shows them kept.
    if current is None:
        planned = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": name}, "spec": spec}
        action = f"create instance type {name}"
    else:
        planned = with_spec(current, spec)
        action = f"update instance type {name} ({', '.join(spec_changes(current.get('spec'), spec))})"
    module.set_diff(before=before, after=_diff_view(name, planned["spec"]))
    verb = "Created" if current is None else "Updated"
    if module.check_mode:
        module.act(action)
        module.result["instance_type"] = _shown(planned)
        module.result["msg"] = f"Would {verb.lower()[:-1]} InstanceType {name} (check mode)."
        return
    result = write(
        module, lambda: api.create(name, spec) if current is None else api.replace_spec(name, current, spec), action
    )
    module.result["instance_type"] = _shown(result)
    module.result["msg"] = f"{verb} InstanceType {name}."


def spec_changes(current, wanted):
    """What an update changes, one "field old -> new" each, such as "limits.cpu 1 -> 2" (quantities by value)."""
    before, after = normalize(current), normalize(wanted)
    changes = []
    for section in ("node_selector", "requests", "limits"):
        for key in sorted(set(before[section]) | set(after[section])):
            old, new = before[section].get(key), after[section].get(key)
            if not _same_value(old, new, quantities=section != "node_selector"):
                changes.append(f"{section}.{key} {_text(old)} -> {_text(new)}")
    return changes or ["its spec"]


def _same_value(a, b, quantities):
    if a is None or b is None:
        return a is None and b is None
    if quantities:
        try:
            return parse_quantity(a) == parse_quantity(b)
        except ValueError:
            pass
    return str(a) == str(b)


def _text(value):
    return "unset" if value is None else str(value)


def _diff_view(name, spec):
    return {"name": name, "spec": spec or {}}


def _shown(resource):
    if not resource:
        return None
    shown = dict(resource)
    shown["metadata"] = {k: v for k, v in (resource.get("metadata") or {}).items() if k != "managedFields"}
    return shown
