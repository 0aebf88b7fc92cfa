# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The module wrapper: AnsibleModule by composition, plus the collection's shared pieces.

A module builds an ArcMLModule with the option groups it needs (azure, kube, wait), writes its logic
as a function of the wrapper, and hands it to `run()`. `run()` turns every expected error into one
failure line without a traceback; Azure, Kubernetes and helm are set up only when first asked for, and their
SDKs imported only then.

    def ensure(module):
        arm = module.azure().arm
        ...
        module.result["thing"] = ...

    def main():
        ArcMLModule(dict(name=dict(type="str", required=True)), azure=True, wait=True, mutating=True).run(ensure)

The result contract, the same in every module: `changed`; for a module that changes things (`mutating=True`),
`actions`, one plain line per thing the task did, or in check mode would do, in order (empty when nothing
needed doing), recorded with `act()`; and the resource as it is after the task (as it would be, in check mode)
under the resource's own name (`connected_cluster`, `extension`, `compute`, `instance_type`, `providers`,
`changed_nodes`). Read-only modules return the resources they read and no `actions`.
"""

from __future__ import annotations

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import (
    AzureContext,
    azure_auth_argument_spec,
    plan_credentials,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import (
    ArcMLError,
    MissingDependency,
    one_line,
    redact,
    url_passwords,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Waiter, wait_argument_spec
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import (
    KubeConnection,
    api_client,
    hide_inline_kubeconfig,
    kube_auth_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.helm import HelmRunner, find_helm

# Secrets the controller's environment may hold even when this run uses other credentials.
_SECRET_ENVIRONMENT = (
    "AZURE_SECRET",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "K8S_AUTH_API_KEY",
    "K8S_AUTH_PASSWORD",
    "HELM_KUBETOKEN",
)


class _AnsibleModule(AnsibleModule):
    """AnsibleModule that hides secrets from the moment it reads its arguments.

    AnsibleModule validates the arguments inside its constructor and fails there on a bad one (a wait_timeout
    of "abc"), echoing every argument back in `invocation.module_args`: a proxy password or an inline
    kubeconfig would be printed before ArcMLModule could protect() it. `_load_params` is where AnsibleModule
    reads the raw arguments, after it has made `no_log_values` and before it validates them. From there on,
    every option's URL passwords (nested ones, and those of options the module does not know) are masked, and
    an inline kubeconfig reads as "(inline kubeconfig)" with the secrets it holds masked too.
    """

    def _load_params(self):
        super()._load_params()
        if "kubeconfig" in self.argument_spec:
            self.no_log_values.update(s for s in hide_inline_kubeconfig(self.params) if s)
        self.no_log_values.update(url_passwords(self.params))


class ArcMLModule:
    """An AnsibleModule with the shared argument spec pieces, result, diff, check mode and failure handling."""

    def __init__(
        self, argument_spec, azure=False, kube=False, wait=False, mutating=False, supports_check_mode=True, **kwargs
    ):
        spec = {}
        if azure:
            spec.update(azure_auth_argument_spec())
        if kube:
            spec.update(kube_auth_argument_spec())
        if wait:
            spec.update(wait_argument_spec())
        spec.update(argument_spec)
        self.ansible = _AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.result = {"changed": False, "actions": []} if mutating else {"changed": False}
        self._plan = None
        self._azure = None
        self._kube = None
        self._waiter = None
        self.protect(os.environ.get(name) for name in _SECRET_ENVIRONMENT)

    @property
    def params(self):
        return self.ansible.params

    @property
    def check_mode(self):
        return self.ansible.check_mode

    @property
    def diff_mode(self):
        return self.ansible._diff

    def protect(self, values):
        """Mask these strings wherever they would appear in this task's output."""
        self.ansible.no_log_values.update(v for v in values if v)

    def warn(self, message):
        self.ansible.warn(message)

    def credential_plan(self):
        """Which Azure credential (and credentials file profile) the task uses, decided without any request."""
        if self._plan is None:
            self._plan = plan_credentials(self.params)
            self.protect(self._plan.secrets)
        return self._plan

    def azure(self, require_subscription=True):
        """The AzureContext (cloud, credential, subscription, `.arm` client), authenticated once per run."""
        if self._azure is None:
            self._azure = AzureContext.from_params(
                self.params, plan=self.credential_plan(), require_subscription=require_subscription
            )
        return self._azure

    def kube(self):
        """The resolved Kubernetes connection (_kube.KubeConnection)."""
        if self._kube is None:
            self._kube = KubeConnection.from_params(self.params)
            self.protect(self._kube.secrets)
        return self._kube

    def kube_client(self):
        """A kubernetes.client.ApiClient for the task's cluster."""
        return api_client(self.kube())

    def helm(self):
        """A version-checked HelmRunner for the task's cluster (the `helm_binary` option, else helm on PATH)."""
        runner = HelmRunner(find_helm(self.params.get("helm_binary")), self.kube(), secrets=self.ansible.no_log_values)
        runner.check_version()
        return runner

    def waiter(self, required=False):
        """The task's Waiter (one shared deadline), or None when `wait` is false.

        `required`: a Waiter even when `wait` is false, for a step that must finish before the next one can
        start (wait_timeout and wait_sleep still apply).
        """
        if not (required or self.params.get("wait", True)):
            return None
        if self._waiter is None:
            self._waiter = Waiter(self.params["wait_timeout"], self.params["wait_sleep"])
        return self._waiter

    def act(self, action):
        """Record one thing the task does (or, in check mode, would do): an entry of `actions`, and changed."""
        self.result.setdefault("actions", []).append(action)
        self.set_changed()

    def set_changed(self, changed=True):
        self.result["changed"] = self.result["changed"] or bool(changed)

    def set_diff(self, before, after):
        """Record before/after for --diff (only kept when diff mode is on)."""
        if self.diff_mode:
            self.result["diff"] = {"before": before, "after": after}

    def exit(self, **fields):
        self.result.update(fields)
        self.ansible.exit_json(**self.result)

    def fail(self, message, **fields):
        """Fail with one line; whatever the result already holds (e.g. changed) is kept."""
        result = dict(self.result, **fields)
        # Mask before joining lines: a multi-line secret such as a PEM key only matches in its original form.
        self.ansible.fail_json(msg=one_line(redact(message, self.ansible.no_log_values), limit=2000), **result)

    def run(self, main):
        """Run `main(self)`, then exit with `self.result`, or fail with one line on any error."""
        failure = unexpected = details = None
        try:
            main(self)
        except ArcMLError as exc:
            failure = exc
        except Exception as exc:
            unexpected = exc
            details = traceback.format_exc()
        # Failing outside the except blocks keeps Ansible from attaching the exception chain to the result.
        if isinstance(failure, MissingDependency):
            self.ansible.fail_json(
                msg=missing_required_lib(failure.package),
                reason=failure.reason,
                exception=failure.import_traceback,
                **self.result,
            )
        if failure is not None:
            self.fail(failure.message, **failure.details)
        if unexpected is not None:
            self.ansible.fail_json(
                msg=f"Unexpected {type(unexpected).__name__} in {getattr(self.ansible, '_name', 'this module')}: "
                f"{one_line(redact(str(unexpected), self.ansible.no_log_values), limit=500)}. "
                "This is a bug in hci.arc_ml: please report it.",
                exception=redact(details, self.ansible.no_log_values),
                **self.result,
            )
        self.exit()


def write(module, operation, action=None):
    """Run one write; mark the task changed, recording `action` (see act()), unless the service refused it.

    ARM and the Kubernetes API answer a refused request with an HTTP error before acting on it; an error
    without an HTTP status (the operation ended Failed, the wait timed out, the connection dropped) comes
    after the request may have been acted on, so something may have changed.
    """
    try:
        result = operation()
    except ArcMLError as exc:
        if getattr(exc, "status", None) is None:
            _acted(module, action)
        raise
    _acted(module, action)
    return result


def _acted(module, action):
    if action:
        module.act(action)
    else:
        module.set_changed()
