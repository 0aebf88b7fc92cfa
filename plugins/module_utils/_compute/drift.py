# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Drift: where an attached Kubernetes compute differs from what the task asks for.

Compared (views from _compute_spec): the cluster's ARM id (case-insensitive, as ARM ids are), the
namespace, and, only when the task sets them, the description, the identity (type case-insensitive,
user-assigned identity ids as a case-insensitive set), the default instance type and the instance
types (quantities by value: "1" equals "1000m"). A compute whose provisioning ended Failed drifts too.
An attached Kubernetes compute cannot be updated in place (a PUT "appears to succeed but does not",
https://learn.microsoft.com/azure/machine-learning/known-issues/inferencing-updating-kubernetes-compute-appears-to-succeed),
so drift is only ever fixed by detaching and attaching again.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import same_instance_type

# (field, always compared) in the order drift is reported.
FIELDS = (
    ("cluster_resource_id", True),
    ("namespace", True),
    ("description", False),
    ("identity", False),
    ("default_instance_type", False),
    ("instance_types", False),
)


def compute_drift(attached, requested):
    """The differences between two views, as [{field, attached, requested}], in FIELDS order."""
    drift = []
    if attached.get("provisioning_state") == "Failed":
        drift.append({"field": "provisioning_state", "attached": "Failed", "requested": "Succeeded"})
    for field, always in FIELDS:
        want = requested.get(field)
        if want is None and not always:
            continue
        have = attached.get(field)
        if not _SAME[field](have, want):
            drift.append({"field": field, "attached": have, "requested": want})
    return drift


def _same_text(have, want):
    return (have or "") == (want or "")


def same_resource_id(have, want):
    """Whether two ARM ids name the same resource: ARM ids compare case-insensitively, and Azure ML may answer
    `resourcegroups` where the attach sent `resourceGroups`, as the 2025-12-01 spec's Kubernetes GET example does:
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/examples/Compute/get/KubernetesCompute.json
    """
    return _id_form(have) == _id_form(want)


def _id_form(resource_id):
    return "/" + (resource_id or "").strip().strip("/").lower()


def _same_identity(have, want):
    if not have or not want:
        return not have and not want
    if (have.get("type") or "").lower() != (want.get("type") or "").lower():
        return False
    return {i.lower() for i in have.get("user_assigned_identities") or []} == {
        i.lower() for i in want.get("user_assigned_identities") or []
    }


def _same_instance_types(have, want):
    have = have or {}
    if set(have) != set(want):
        return False
    return all(same_instance_type(have[name], want[name]) for name in want)


_SAME = {
    "cluster_resource_id": same_resource_id,
    "namespace": _same_text,
    "description": _same_text,
    "identity": _same_identity,
    "default_instance_type": _same_text,
    "instance_types": _same_instance_types,
}
