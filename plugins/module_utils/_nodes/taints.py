# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Taints: checking the option, planning a node's new list, and changing it safely.

`spec.taints` has no patch merge key, so a merge or strategic-merge patch would replace the whole list and
drop taints this task does not own; taint changes are therefore JSON patches guarded by a `test` of the
node's resourceVersion, computed from the node as read, and recomputed from a fresh read when someone else
changed the node in between (a bounded number of times).
"""

from __future__ import annotations

import re
import time

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Reads and patches of one node before giving up when other writers keep changing it.
CONFLICT_ATTEMPTS = 5
CONFLICT_PAUSE = 0.02

# A taint key is a qualified name (an optional DNS subdomain prefix and "/", then a name of at most
# 63 characters); a value is a label value (at most 63 characters).
_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
_NAME_PATTERN = re.compile(_NAME)
_PREFIX_PATTERN = re.compile(_PREFIX)
_MAX_PREFIX = 253


def describe_taint(taint):
    """kubectl's notation: key=value:Effect, or key:Effect without a value."""
    value = taint.get("value")
    return "{}{}:{}".format(taint.get("key"), f"={value}" if value else "", taint.get("effect"))


def normalize_taints(taints):
    """The `taints` option checked and in API form ({key, value?, effect}); ArcMLError on a bad entry."""
    normalized = []
    seen = {}
    for entry in taints:
        key, value, effect = entry.get("key"), entry.get("value"), entry.get("effect") or "NoSchedule"
        if not valid_taint_key(key):
            raise ArcMLError(
                f"Taint key {key!r} is not valid: it must be a name of at most 63 letters, digits, '-', '_' or '.' "
                "(starting and ending with a letter or digit), optionally prefixed by a DNS subdomain and '/'"
            )
        if value and not _NAME_PATTERN.fullmatch(value):
            raise ArcMLError(
                f"Taint value {value!r} of key {key} is not valid: at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
        if effect not in EFFECTS:
            raise ArcMLError(f"Taint effect {effect!r} of key {key} is not one of {', '.join(EFFECTS)}")
        taint = {"key": key, "effect": effect}
        if value is not None:
            taint["value"] = value
        identity = (key, effect)
        if identity in seen and seen[identity].get("value") != taint.get("value"):
            raise ArcMLError(
                f"The taints {describe_taint(seen[identity])} and {describe_taint(taint)} have the same key and "
                "effect; a node can carry only one of them"
            )
        if identity not in seen:
            seen[identity] = taint
            normalized.append(taint)
    return normalized


def valid_taint_key(key):
    """Whether `key` is a qualified name, as Kubernetes requires of taint keys."""
    if not isinstance(key, str) or not key:
        return False
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= _MAX_PREFIX and _PREFIX_PATTERN.fullmatch(prefix)):
        return False
    return bool(_NAME_PATTERN.fullmatch(name))


def _api_form(taint):
    """A taint as the API stores it: no `value` key when the value is empty."""
    return {k: v for k, v in taint.items() if k != "value" or v}


def _same_identity(a, b):
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def _value(taint):
    return taint.get("value") or ""


def plan_taints(current, wanted, state):
    """The node's taint list after adding (state present) or removing (absent) the `wanted` taints.

    Every other taint stays as it is, in its place. A node holds at most one taint per key and effect:
    `present` replaces the value of a taint with the same key and effect in place and appends the rest.
    `absent` removes taints with the same key and effect, and the same value when the wanted taint has one
    (without a value, any value matches, like `kubectl taint node NAME key:Effect-`).
    """
    result = [dict(t) for t in current]
    for taint in wanted:
        if state == "present":
            for index, existing in enumerate(result):
                if _same_identity(existing, taint):
                    if _value(existing) != _value(taint):
                        result[index] = _api_form(taint)
                    break
            else:
                result.append(_api_form(taint))
        else:
            result = [
                existing
                for existing in result
                if not (
                    _same_identity(existing, taint)
                    and (taint.get("value") is None or _value(existing) == _value(taint))
                )
            ]
    return result


def taint_patch(resource_version, new_taints):
    """A JSON patch that sets the node's taints to `new_taints`, only if the node is still at `resource_version`."""
    guard = {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}
    if new_taints:
        return [guard, {"op": "add", "path": "/spec/taints", "value": new_taints}]
    return [guard, {"op": "remove", "path": "/spec/taints"}]


def change_taints(api, node, wanted, state, dry_run=False, attempts=CONFLICT_ATTEMPTS, sleep=time.sleep):
    """Bring one node's taints to the plan: (before, after, changed), or None if the node was deleted meanwhile.

    `node` is the node as listed. When the patch is refused because the node changed since it was read
    (409, or 422 from the failed resourceVersion test), the node is read again and the plan recomputed,
    at most `attempts` times in all. With `dry_run` the server checks the patch and stores nothing.
    """
    name = node["metadata"]["name"]
    for attempt in range(1, attempts + 1):
        current = (node.get("spec") or {}).get("taints") or []
        desired = plan_taints(current, wanted, state)
        if desired == current:
            return current, current, False
        tested = node["metadata"]["resourceVersion"]
        try:
            updated = api.patch_node(name, taint_patch(tested, desired), dry_run=dry_run)
        except KubernetesError as exc:
            if exc.status not in (404, 409, 422):
                raise
            node = api.read_node(name)
            if node is None:
                return None
            if exc.status == 422 and node["metadata"]["resourceVersion"] == tested:
                raise  # the server refused the taints themselves, not a stale read
            if attempt < attempts:
                sleep(CONFLICT_PAUSE * attempt)
            continue
        return current, (updated.get("spec") or {}).get("taints") or [], True
    raise KubernetesError(
        f"Node {name} kept changing while its taints were being updated ({attempts} attempts, each refused because "
        "another client had changed the node since it was read); run the task again",
        status=409,
    )
