# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of cluster_extension and cluster_extension_info, each a function of the ArcMLModule."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import extension_client, view
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.ensure import ExtensionTask
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import (
    ExtensionSpec,
    normalize_settings,
    plain_secrets,
)


def refuse_plain_secrets(module, settings, refuse=True, hints=None):
    """Mask, then refuse, the secrets in the plain `configuration_settings` (_extension.plan.plain_secrets).

    Called before anything else can fail: Ansible echoes the module arguments back in a failed result, so the
    values are masked first. `refuse` false only masks them (state absent sends no settings). `hints` maps a
    lower-cased key to a sentence added to the message (another option that takes the value).
    """
    found = plain_secrets(settings)
    for _key, _what, strings in found:
        module.protect(strings)
        module.protect(text.strip() for text in strings)
        # A PEM block's lines too, as _azureml.tasks.read_pem masks them.
        module.protect(
            line
            for text in strings
            for line in text.splitlines()
            if "\n" in text and len(line) >= 16 and not line.startswith("-----")
        )
    if not found or not refuse:
        return
    named = "; ".join(f"{key!r} holds {what}" for key, what, _strings in found)
    them = "them" if len(found) > 1 else "it"
    keys = [entry[0].lower() for entry in found]
    extra = "".join(f" {sentence}" for sentence in dict.fromkeys((hints or {}).get(key) for key in keys) if sentence)
    raise ArcMLError(
        f"configuration_settings: {named}. Configuration settings are returned to anyone with read access to the "
        f"extension and are passed to its Helm chart as values: move {them} to configuration_protected_settings, "
        f"which Azure never returns.{extra} Nothing was sent to Azure."
    )


def spec_from_params(params):
    """The ExtensionSpec cluster_extension's options ask for."""
    return ExtensionSpec(
        extension_type=params["extension_type"],
        scope=params["scope"],
        release_namespace=params["release_namespace"],
        target_namespace=params["target_namespace"],
        auto_upgrade_minor_version=params["auto_upgrade_minor_version"],
        release_train=params["release_train"],
        version=params["version"],
        settings=normalize_settings(params["configuration_settings"]),
        protected=normalize_settings(params["configuration_protected_settings"], "configuration_protected_settings"),
        # As az k8s-extension does: a system-assigned identity on Arc (created with the extension, never changed).
        identity={"type": "SystemAssigned"},
    )


def ensure_extension(module):
    """cluster_extension: create, update, re-create or delete one extension."""
    params = module.params
    refuse_plain_secrets(module, params["configuration_settings"], refuse=params["state"] == "present")
    if params["state"] == "absent":
        task = ExtensionTask(module, extension_client(module, params["name"]))
        task.absent(force=params["force_delete"])
        return
    spec = spec_from_params(params)
    spec.check()
    task = ExtensionTask(module, extension_client(module, params["name"]), params["protected_settings_update"])
    task.present(
        spec, recreate=params["recreate"], repair_failed=params["repair_failed"], force_delete=params["force_delete"]
    )


def read_extensions(module):
    """cluster_extension_info: one extension by name, or every extension of the cluster."""
    name = module.params["name"]
    client = extension_client(module, name or "")
    if name:
        found = client.get()
        extensions = [found] if found else []
    else:
        extensions = client.list()
    module.result["extensions"] = [view(extension) for extension in extensions]
