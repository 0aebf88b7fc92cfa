# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of cluster_extension and cluster_extension_info, each a function of the ArcMLModule."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import extension_client, view
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.ensure import ExtensionTask
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec, normalize_settings


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
