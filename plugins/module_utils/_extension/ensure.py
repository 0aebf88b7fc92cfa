# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Bring one cluster extension to a desired state (present / absent), with check mode and diff.

Shared by cluster_extension and azureml_extension. The order of a present run: read the extension (waiting
out a running operation), then create it, refuse or re-create it for an immutable change, report or
repair a Failed one, or PATCH exactly what differs. An absent run deletes and confirms the resource is
gone. Results: `extension` (_extension.view), `changes` (one line per difference, never a secret value),
the diff, and one entry of `actions` per write (recorded before it is sent, so check mode reports them too).
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import state_of, view
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import (
    TERMINAL_STATES,
    apply_patch,
    create_body,
    immutable_differences,
    plan_update,
)

_FORCE_DELETE = "forceDelete: Azure resource only"
_OPTION_OF = {
    "extension type": "extension_type",
    "scope": "scope",
    "release namespace": "release_namespace",
    "target namespace": "target_namespace",
}


class ExtensionTask:
    """One task's work on one extension: `module` is the ArcMLModule, `client` an _extension.ExtensionClient."""

    def __init__(self, module, client, policy="when_changed"):
        self.module = module
        self.client = client
        self.policy = policy
        self.waiter = module.waiter()

    # Reading.

    def current(self):
        """The extension (None when absent), after waiting for a running operation to end.

        Check mode does not wait: it plans against the state Azure reports now.
        """
        extension, retry_after = self.client.read(check_mode=self.module.check_mode)
        if extension is None or state_of(extension) in TERMINAL_STATES or self.waiter is None or self.module.check_mode:
            return extension
        return self.waiter.poll_until(
            poll=self.client.read,
            done=lambda ext: ext is None or state_of(ext) in TERMINAL_STATES,
            what=f"the running operation on {self.client.describe()} to end",
            describe=lambda ext: state_of(ext) or "gone",
            first=(extension, retry_after),
        )

    # State present.

    @staticmethod
    def creates(current, spec, recreate=False, repair_failed=False):
        """Whether present() with these arguments creates the extension, anew or again.

        Only the fields a PATCH cannot change are looked at in `spec` (type, scope, namespaces): a caller may
        ask before it knows the settings.
        """
        if current is None:
            return True
        if recreate and immutable_differences(current, spec):
            return True
        return repair_failed and state_of(current) == "Failed"

    def present(self, spec, recreate=False, repair_failed=False, current=False, force_delete=False):
        """Create, update, re-create or leave the extension.

        `current` is the extension already read (None: absent); `force_delete` deletes only the Azure resource
        when re-creating.
        """
        spec.check()
        if current is False:
            current = self.current()
        if current is None:
            return self._create(spec)
        plan = plan_update(current, spec, self.policy)
        if plan.immutable:
            if not recreate:
                raise self._immutable_error(plan.immutable)
            reasons = "; ".join(f"{what} {have!r} -> {want!r}" for what, have, want in plan.immutable)
            return self._recreate(current, spec, reasons, force_delete)
        failed = state_of(current) == "Failed"
        if failed and repair_failed:
            return self._recreate(current, spec, "it is Failed", force_delete)
        if failed and not plan.needed:
            raise failed_error(self.client, current)
        if not plan.needed:
            self._report(current, current, [])
            return current
        return self._update(current, plan)

    def _create(self, spec):
        body = create_body(spec, self.client.cluster.cluster_type, self.policy)
        predicted = _as_stored(self.client, body, "Creating")
        self.module.act(f"create extension {self.client.name}")
        self._report(None, predicted, ["created"])
        if self.module.check_mode:
            return predicted
        result = self._write("create", lambda: self.client.create(body, self.waiter))
        self._report(None, result or predicted, ["created"])
        return result

    def _update(self, current, plan):
        predicted = apply_patch(current, plan.patch, plan.replace)
        # The field or setting each change line names, before its ": old -> new".
        fields = ", ".join(change.split(":", 1)[0] for change in plan.changes)
        self.module.act(f"update extension {self.client.name} ({fields})")
        self._report(current, predicted, plan.changes)
        if self.module.check_mode:
            return predicted
        self._require_idle(current)
        if plan.replace is not None:
            # Removing a setting takes a PUT of the whole extension (_extension.plan): same resource, 200.
            result = self._write("update", lambda: self.client.create(plan.replace, self.waiter))
        else:
            result = self._write("update", lambda: self.client.update(plan.patch, self.waiter))
        self._report(current, result or predicted, plan.changes)
        return result

    def _recreate(self, current, spec, reason, force_delete):
        if self.waiter is None and not self.module.check_mode:
            raise ArcMLError(
                f"Re-creating {self.client.describe()} needs wait: true: the new extension can only be created once "
                "the old one is gone."
            )
        body = create_body(spec, self.client.cluster.cluster_type, self.policy)
        predicted = _as_stored(self.client, body, "Creating")
        changes = [f"re-created: {reason}"]
        why = f"{reason}; {_FORCE_DELETE}" if force_delete else reason
        self.module.act(f"delete extension {self.client.name} ({why})")
        self.module.act(f"create extension {self.client.name}")
        self._report(current, predicted, changes)
        if self.module.check_mode:
            return predicted
        # current() has waited for any running operation: this task has a waiter here.
        self._delete(force=force_delete)
        result = self._write("create", lambda: self.client.create(body, self.waiter))
        self._report(current, result or predicted, changes)
        return result

    # State absent.

    def absent(self, force=False):
        current = self.current()
        if current is None:
            self._report(None, None, [])
            return
        self.module.act(f"delete extension {self.client.name}" + (f" ({_FORCE_DELETE})" if force else ""))
        self._report(current, None, ["deleted" + (f" ({_FORCE_DELETE})" if force else "")])
        if self.module.check_mode:
            return
        self._delete(force)

    def _delete(self, force):
        self._write("delete", lambda: self.client.delete(self.waiter, force))
        if self.waiter is None:
            return
        # Confirm: the operation has ended, and the resource must now be gone.
        self.waiter.poll_until(
            poll=self.client.read,
            done=lambda ext: ext is None,
            what=f"{self.client.describe()} to be gone",
            describe=lambda ext: state_of(ext) or "gone",
        )

    # Helpers.

    def _write(self, action, call):
        try:
            return call()
        except AzureApiError as exc:
            if exc.status is not None:
                raise
            # The operation ran and ended Failed or Canceled: say so, what state it left, and what to do.
            extension = self.client.get()
            if extension is not None:
                self.module.result["extension"] = view(extension)
            raise ArcMLError(_operation_failed(exc, state_of(extension), action), **exc.details) from None

    def _require_idle(self, current):
        state = state_of(current)
        if state not in TERMINAL_STATES:
            raise ArcMLError(
                f"{self.client.describe()} is {state}: another operation is still running. Re-run the task later, "
                "or with wait: true to wait for it first."
            )

    def _immutable_error(self, differences):
        what, have, want = differences[0]
        also = "".join(f"; also {w} {h!r} -> {n!r}" for w, h, n in differences[1:])
        return ArcMLError(
            f"Cannot change the {what} of {self.client.describe()} from {have!r} to {want!r}{also}: Azure does not "
            f"allow changing it on an existing extension. Set recreate: true to delete and re-create the extension "
            f"(its workloads are removed and installed again), or keep {_OPTION_OF.get(what, what)} {have!r}."
        )

    def _report(self, before, after, changes):
        self.module.result["extension"] = view(after)
        self.module.result["changes"] = changes
        self.module.set_diff(before=view(before), after=view(after))


def failed_error(client, extension):
    """The error for an extension Azure reports Failed, with Azure's own error."""
    properties = extension.get("properties") or {}
    error = properties.get("errorInfo") or {}
    messages = [f"{error.get('code') or 'no error code'}: {error.get('message') or 'no error message'}"]
    messages.extend(
        status.get("message") for status in properties.get("statuses") or [] if status.get("level") == "Error"
    )
    return ArcMLError(
        f"{client.describe()} is Failed in Azure: {' '.join(m for m in messages if m).rstrip('.')}. Fix the cause "
        "(for example check that the cluster is connected to Azure Arc), then re-run with repair_failed: true to "
        "delete and re-create it, or change its settings to start a new operation.",
        extension=view(extension),
    )


def _operation_failed(exc, state, action):
    """One line: the operation, Azure's error, what to do, then the request ids (as _arm words errors)."""
    reason = getattr(exc, "service_message", None)
    if not reason:
        return f"{exc.message} {_after_failure(action)}"
    outcome = "Canceled" if state == "Canceled" else "Failed"
    code = f" {exc.code}" if exc.code else ""
    text = (
        f"Azure {exc.method} {exc.resource} failed: the operation ended {outcome}{code}: {reason.rstrip('.')}. "
        f"{_after_failure(action)}"
    )
    ids = [f"x-ms-request-id: {exc.request_id}"] if exc.request_id else []
    ids += [f"correlation id: {exc.correlation_id}"] if exc.correlation_id else []
    return one_line(text + (" ({})".format("; ".join(ids)) if ids else ""), limit=1200)


def _after_failure(action):
    if action == "delete":
        return (
            "The extension may still exist: re-run the task, or set force_delete: true to remove only the Azure "
            "resource (the agents remove the release when they reconnect)."
        )
    return (
        "The extension is left in Azure in a failed state: check that the cluster is connected to Azure Arc and "
        "its agents are running, fix the cause, then re-run with repair_failed: true to re-create it, or remove it "
        "with state: absent."
    )


def _as_stored(client, body, state):
    """A PUT body as the service would store it: id and name, protected values hidden, a provisioning state."""
    properties = dict(body["properties"])
    if "configurationProtectedSettings" in properties:
        properties["configurationProtectedSettings"] = dict.fromkeys(properties["configurationProtectedSettings"])
    properties["provisioningState"] = state
    stored = {
        "id": f"{client.cluster.id}/providers/Microsoft.KubernetesConfiguration/extensions/{client.name}",
        "name": client.name,
        "properties": properties,
    }
    if body.get("identity"):
        stored["identity"] = dict(body["identity"])
    return stored
